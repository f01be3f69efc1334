/*
 * The code path of the module: one prompt for a TOTP code or a recovery
 * code, the decoy for a user with nothing to check a code against, and the
 * verdict of the core (lib/auth.c), audited and told to the clerk through
 * report.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"
#include "module.h"

/*
 * Ask for the code.  NULL or empty replies are no answer (pam-u2f
 * CVE-2021-31924 skipped a check on a NULL reply).  The password is
 * recognised as typed; a code has its blanks dropped ("123 456", as apps
 * show it).  *code is the PAM conversation's allocation; the caller wipes
 * and frees it.
 */
static enum answer ask_code(struct login *l, char **code)
{
	*code = NULL;
	if (pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, code, "%s",
	        clerk_gettext(l, "Verification code: ")) != PAM_SUCCESS)
		return ANSWER_NONE;
	return classify_answer(l, *code);
}

static void free_secret(char *s)
{
	if (s != NULL) {
		mfa_wipe(s, strlen(s));
		free(s);
	}
}

/* The core's verdict on a code: a store error, or an attempt (report_attempt). */
static void report_code_result(struct login *l, int rc, const struct mfa_auth_result *res)
{
	struct mfa_attempt_audit how = mfa_attempt_audit_code(rc);

	if (!mfa_auth_code_judged(rc)) {
		store_failed(l, rc, NULL);
		return;
	}
	if (rc == 0 && res->used_recovery)
		l->factor = "recovery";
	report_attempt(l, rc, res, &how);
}

/*
 * No enumeration by timing: a code typed for a user with nothing to check it
 * against is refused only after the work an enrolled user's wrong code costs
 * (the decoy: lock, read, code check, synced write).  Without it the refusal
 * came back several times faster, which hosts that turn off the PAM fail
 * delay would show.  store is NULL only for a name the store cannot hold.
 */
static void refuse_unknown(struct login *l, struct mfa_store *store, const char *code)
{
	int rc;

	if (store != NULL && (rc = mfa_auth_decoy(store, &l->cfg, code, (uint64_t)time(NULL))) != 0)
		audit_line(l, "store_error", "fail", mfa_errtoken(rc), "detail",
		    mfa_store_decoy_where(store), NULL);
	audit_line(l, "auth", "fail", "not_enrolled", NULL);
}

int code_login(struct login *l, struct mfa_store *store, const struct mfa_record *rec)
{
	struct mfa_auth_result res;
	char *code = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	l->factor = "totp";
	rc = MFA_ERR_INVAL;
	switch (ask_code(l, &code)) {
	case ANSWER_NONE:
		audit_line(l, "auth", "fail", "no_code", NULL);
		goto out;
	case ANSWER_PASSWORD:
		report_password_as_code(l);
		goto out;
	case ANSWER_CODE:
		break;
	}
	/* The audit names what was typed: a recovery code's shape is never a TOTP code. */
	if (mfa_recovery_looks_like(code))
		l->factor = "recovery";
	if (rec == NULL) {
		refuse_unknown(l, store, code);
		rc = MFA_ERR_NOENT;
		goto out;
	}
	rc = mfa_auth_code(store, &l->cfg, l->user, rec, code, mfa_clock_now, &l->src, &res);
	report_code_result(l, rc, &res);
	debug_line(l, "code check", rc);
out:
	free_secret(code);
	return rc;
}
