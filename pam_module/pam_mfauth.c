/*
 * pam_mfauth: the second factor after the password module.
 *
 * Entry points and glue only: options, the conversation, audit lines, and
 * the one function that turns core errors into PAM codes.  The module lives
 * in other people's processes (login, sshd, gdm, su): no exit(), no signal
 * handlers, no openlog(), nothing left open or allocated when it returns.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "mfauth/account.h"
#include "mfauth/audit.h"
#include "mfauth/auth.h"
#include "mfauth/buf.h"
#include "mfauth/codetext.h"
#include "mfauth/conf.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"
#include "mfauth/store.h"
#include "module.h"

#define IDENT "pam_mfauth"
/* Delay on failure, in microseconds; the application may ask for longer. */
#define FAIL_DELAY_US 2000000

/* The one place core results become PAM codes: only a verified factor succeeds. */
static int pam_code(int err)
{
	return err == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

/*
 * Point the text domain at our catalogs, unless something already bound it
 * to another directory (a test harness, or a host that ships the catalogs
 * elsewhere): that binding is left alone.  An unbound domain reports the
 * same directory as one we know nobody binds, gettext's built-in default.
 */
static void bind_catalogs(void)
{
#ifdef ENABLE_NLS
	const char *cur = bindtextdomain(MFA_TEXTDOMAIN, NULL);
	const char *dflt = bindtextdomain(MFA_TEXTDOMAIN ".unbound", NULL);

	if (cur == NULL || dflt == NULL || strcmp(cur, dflt) == 0)
		bindtextdomain(MFA_TEXTDOMAIN, LOCALEDIR);
#endif
}

static const char *item_str(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == NULL)
		return "";
	return v;
}

void audit_line(const struct login *l, const char *event, const char *result, const char *reason,
    ...)
{
	/* clang-format off */
	struct mfa_audit_field f[13] = {
		{ "event", event },
		{ "result", result },
		{ "user", l->user ? l->user : "" },
	};
	/* clang-format on */
	size_t n = 3;
	va_list ap;

	/* The name as typed, when it is not the account's (user=tanaka typed=TANAKA). */
	if (l->typed != NULL && l->user != NULL && strcmp(l->typed, l->user) != 0)
		f[n++] = (struct mfa_audit_field){ "typed", l->typed };
	f[n++] = (struct mfa_audit_field){ "factor", l->factor ? l->factor : "totp" };
	f[n++] = (struct mfa_audit_field){ "reason", reason };
	f[n++] = (struct mfa_audit_field){ "service", l->src.service };
	f[n++] = (struct mfa_audit_field){ "tty", l->src.tty };
	f[n++] = (struct mfa_audit_field){ "rhost", l->src.rhost };

	va_start(ap, reason);
	while (n < sizeof(f) / sizeof(f[0])) {
		const char *key = va_arg(ap, const char *);
		if (key == NULL)
			break;
		f[n].key = key;
		f[n++].value = va_arg(ap, const char *);
	}
	va_end(ap);
	mfa_audit(strcmp(result, "success") == 0 ? MFA_LOG_INFO : MFA_LOG_NOTICE, IDENT, f, n);
	/* The kernel's audit trail gets every second-factor decision too. */
	if (strcmp(event, "auth") == 0 && strcmp(result, "ignore") != 0 &&
	    strcmp(result, "skip") != 0)
		mfa_kaudit_auth(l->user, l->src.rhost, l->src.tty, strcmp(result, "success") == 0);
}

static void debug_line(const struct login *l, const char *what, int err)
{
	char line[256];
	if (!l->cfg.debug)
		return;
	snprintf(line, sizeof(line), "debug: %s: %s", what, mfa_strerror(err));
	mfa_syslog(MFA_LOG_DEBUG, IDENT, line);
}

/*
 * Key the login by the account NSS returns for the typed name, so that
 * "TANAKA" and "tanaka@DOMAIN" share tanaka's enrollment and lock.  A name
 * NSS does not know stays as typed and is marked unknown; a lookup that
 * fails otherwise fails the login (logged).  A name the store cannot hold
 * is left to the callers' mfa_name_check, as before.
 */
static int find_account(struct login *l)
{
	char err[16];
	int rc, sys_errno = 0;

	l->typed = l->user;
	rc = mfa_account_name(l->typed, l->account, sizeof(l->account), &sys_errno);
	if (rc == 0)
		l->user = l->account;
	else if (rc == MFA_ERR_NOENT)
		l->unknown = true;
	else if (rc != MFA_ERR_BADNAME || mfa_name_check(l->typed) == 0) {
		snprintf(err, sizeof(err), "%d", sys_errno);
		audit_line(l, "auth", "fail", mfa_errtoken(rc), "errno", err, NULL);
		return rc;
	}
	return 0;
}

/* Options, user and source; an error here is logged and fails the login. */
static int login_begin(struct login *l, pam_handle_t *pamh, int argc, const char **argv)
{
	struct mfa_config_error cerr;
	int rc;

	memset(l, 0, sizeof(*l));
	l->pamh = pamh;
	l->src.service = item_str(pamh, PAM_SERVICE);
	l->src.tty = item_str(pamh, PAM_TTY);
	l->src.rhost = item_str(pamh, PAM_RHOST);
	rc = mfa_config_from_args(&l->cfg, argc, argv, &cerr);
	if (rc != 0) {
		audit_line(l, "store_error", "fail", "config", "detail", cerr.msg, NULL);
		return rc;
	}
	if (pam_get_user(pamh, &l->user, NULL) != PAM_SUCCESS || l->user == NULL) {
		l->user = NULL;
		audit_line(l, "auth", "fail", "no_user", NULL);
		return MFA_ERR_INVAL;
	}
	return find_account(l);
}

/*
 * A store error: audited; the clerk is told only of what the clerk can
 * report and staff can fix from the outside, a directory (store = ldap)
 * that cannot be reached.  Every other store error is the same refusal as
 * a wrong code to the clerk (the audit line says which).
 */
void store_failed(const struct login *l, int rc, const char *detail)
{
	audit_line(l, "store_error", "fail", mfa_errtoken(rc), detail != NULL ? "detail" : NULL,
	    detail, NULL);
	if (rc == MFA_ERR_DIR_UNREACHABLE)
		say_directory_unreachable(l);
}

void say_directory_unreachable(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    _("The authentication directory cannot be reached — "
	      "contact security staff."));
}

static int open_store(struct login *l, struct mfa_store **store)
{
	struct mfa_path_error perr = { "" };
	int rc = mfa_store_open(&l->cfg, store, &perr);
	if (rc != 0) {
		*store = NULL;
		store_failed(l, rc, perr.msg);
	}
	return rc;
}

/*
 * sshd's password authentication (KbdInteractiveAuthentication no) answers
 * every prompt with the password, so the code prompt gets the password the
 * stack already holds.  Only exact equality with PAM_AUTHTOK counts; the
 * item belongs to libpam and is not ours to wipe.
 */
bool is_password(const struct login *l, const char *answer)
{
	const void *tok = NULL;

	if (pam_get_item(l->pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || tok == NULL)
		return false;
	return mfa_code_is_secret(answer, tok);
}

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
	if (pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, code, "%s", _("Verification code: ")) !=
	    PAM_SUCCESS)
		return ANSWER_NONE;
	return classify_answer(l, *code);
}

enum answer classify_answer(const struct login *l, char *code)
{
	if (code == NULL || code[0] == '\0')
		return ANSWER_NONE;
	if (is_password(l, code))
		return ANSWER_PASSWORD;
	if (mfa_code_strip_blanks(code) == 0)
		return ANSWER_NONE;
	return ANSWER_CODE;
}

static void free_secret(char *s)
{
	if (s != NULL) {
		mfa_wipe(s, strlen(s));
		free(s);
	}
}

void say_locked(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    _("This account is locked after too many failed attempts. "
	      "Contact your security staff."));
}

void say_replay(const struct login *l)
{
	pam_error(l->pamh, "%s", _("This code was already used. Wait for the next code."));
}

/* The clerk learns of the lock on the attempt that set it, not only on the next one. */
void report_lock(struct login *l, const struct mfa_auth_result *res)
{
	char until[24];

	if (!res->locked_now)
		return;
	if (res->locked_until == MFA_LOCK_FOREVER)
		snprintf(until, sizeof(until), "staff");
	else
		snprintf(until, sizeof(until), "%llu", (unsigned long long)res->locked_until);
	audit_line(l, "lock", "locked",
	    res->lock_reason == MFA_LOCK_TOTAL ? "too_many_failures_total" : "too_many_failures",
	    "locked_until", until, NULL);
	say_locked(l);
}

void report_locked(struct login *l, const struct mfa_auth_result *res)
{
	char failures[16];

	snprintf(failures, sizeof(failures), "%u", res->failures);
	audit_line(l, "auth", "locked", "locked", "failures", failures, NULL);
	say_locked(l);
}

/*
 * The password given at the code prompt: a client set up wrong (sshd without
 * keyboard-interactive), not a guess, so nothing is counted; one ssh run used
 * to lock the clerk.  The audit and the clerk both say why.
 */
void report_password_as_code(const struct login *l)
{
	audit_line(l, "auth", "fail", "password_as_code", NULL);
	pam_error(l->pamh, "%s",
	    _("The password was given where the verification code was "
	      "asked. If you log in with ssh, keyboard-interactive authentication must be "
	      "enabled. Contact your administrator."));
}

static void report_code_result(struct login *l, int rc, const struct mfa_auth_result *res)
{
	char failures[16];

	snprintf(failures, sizeof(failures), "%u", res->failures);
	if (rc == 0 && res->used_recovery) {
		l->factor = "recovery";
		audit_line(l, "recovery_used", "success", "", NULL);
		audit_line(l, "auth", "success", "", NULL);
		return;
	}
	if (rc == 0) {
		audit_line(l, "auth", "success", "", NULL);
		return;
	}
	if (rc == MFA_ERR_LOCKED) {
		report_locked(l, res);
		return;
	}
	audit_line(l, "auth", rc == MFA_ERR_REPLAY ? "replay" : "fail",
	    rc == MFA_ERR_INVAL ? "malformed_code" : mfa_errtoken(rc), "failures", failures, NULL);
	if (rc == MFA_ERR_REPLAY && strcmp(l->factor, "totp") == 0)
		say_replay(l);
	report_lock(l, res);
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

/*
 * The code prompt: a TOTP code, or a recovery code.  rec is NULL for a user
 * with nothing to check a code against; the prompt is the same anyway.
 */
static int code_login(struct login *l, struct mfa_store *store, const struct mfa_record *rec)
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
	if (rc < 0 && rc != MFA_ERR_BADCODE && rc != MFA_ERR_REPLAY && rc != MFA_ERR_INVAL &&
	    rc != MFA_ERR_EXPIRED && rc != MFA_ERR_LOCKED)
		store_failed(l, rc, NULL);
	else
		report_code_result(l, rc, &res);
	debug_line(l, "code check", rc);
out:
	free_secret(code);
	return rc;
}

/*
 * What the code prompt may accept for this user: TOTP only where the
 * `factors` option allows it; a recovery code always (it is how a clerk who
 * lost the card gets in).  Returns false when nothing can be accepted.
 */
static bool code_factors(const struct login *l, const struct mfa_record *rec,
    struct mfa_record *view)
{
	*view = *rec;
	if (!(l->cfg.factors & MFA_FACTOR_TOTP))
		mfa_wipe(&view->totp, sizeof(view->totp));
	return view->totp.present || view->recovery.present;
}

/*
 * Prompt, then decide.  Unknown and unenrolled users see the same prompt.
 * *ignore is set only for nullok and a user with no enrollment at all.
 */
static int authenticate(struct login *l, bool *ignore)
{
	struct mfa_store *store = NULL;
	struct mfa_record rec, view;
	bool enrolled = false, fallback = true;
	int rc = MFA_ERR_NOENT;

	memset(&rec, 0, sizeof(rec));
	memset(&view, 0, sizeof(view));
	if (mfa_name_check(l->user) == 0) {
		if ((rc = open_store(l, &store)) != 0)
			goto out;
		/* A name NSS does not know is nobody's: the decoy, even with nullok. */
		rc = l->unknown ? MFA_ERR_NOENT : mfa_store_load(store, l->user, &rec);
		if (rc == MFA_ERR_NOENT && l->cfg.nullok && !l->unknown) {
			audit_line(l, "auth", "ignore", "not_enrolled", NULL);
			*ignore = true;
			goto out;
		}
		if (rc != 0 && rc != MFA_ERR_NOENT) {
			store_failed(l, rc, NULL);
			goto out;
		}
		enrolled = rc == 0;
		/* Reach the prompt as late as an enrolled user does, whose record was read and opened. */
		if (!enrolled)
			mfa_store_load_decoy(store);
	}
	if (enrolled && rec.card.present && (l->cfg.factors & MFA_FACTOR_CARD) &&
	    mfa_config_profile_allowed(&l->cfg, rec.card.profile)) {
		rc = card_login(l, store, &rec, &fallback);
		if (!fallback)
			goto out;
	}
	enrolled = enrolled && code_factors(l, &rec, &view);
	rc = code_login(l, store, enrolled ? &view : NULL);
out:
	mfa_record_wipe(&rec);
	mfa_record_wipe(&view);
	mfa_store_close(store);
	return rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct login l;
	bool ignore = false;
	int ret = PAM_AUTH_ERR;
	int rc;

	(void)flags;
	bind_catalogs();
	pam_fail_delay(pamh, FAIL_DELAY_US);
	if (login_begin(&l, pamh, argc, argv) != 0)
		return ret;
	/* Not root (a screen locker): the root-only store is the helper's to read. */
	if (geteuid() != 0)
		return helper_authenticate(&l);
	rc = authenticate(&l, &ignore);
	if (ignore && l.cfg.nullok)
		ret = PAM_IGNORE;
	else
		ret = pam_code(rc);
	return ret;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* Deny a locked user, so logins that skip auth (SSH keys) respect the lock. */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct mfa_store *store = NULL;
	struct mfa_record rec;
	struct mfa_state st;
	struct login l;
	int ret = PAM_AUTH_ERR;
	int rc;

	(void)flags;
	bind_catalogs();
	memset(&rec, 0, sizeof(rec));
	if (login_begin(&l, pamh, argc, argv) != 0 || mfa_name_check(l.user) != 0)
		return PAM_AUTH_ERR;
	/* No account behind the name: nothing to let in (fail closed). */
	if (l.unknown) {
		audit_line(&l, "account", "fail", "unknown_user", NULL);
		return PAM_USER_UNKNOWN;
	}
	if (geteuid() != 0)
		return helper_account(&l);
	if (open_store(&l, &store) != 0)
		return PAM_AUTH_ERR;
	rc = mfa_store_load(store, l.user, &rec);
	if (rc == MFA_ERR_NOENT) {
		/* Nothing enrolled means no lock to enforce; auth decides the rest. */
		ret = l.cfg.nullok ? PAM_IGNORE : PAM_SUCCESS;
		goto out;
	}
	if (rc != 0 || (rc = mfa_store_read_state(store, l.user, &st)) != 0) {
		store_failed(&l, rc, NULL);
		goto out;
	}
	if (mfa_lockout_active(&l.cfg, &st, (uint64_t)time(NULL))) {
		audit_line(&l, "account", "locked", "locked", NULL);
		pam_error(pamh, "%s", _("This account is locked. Contact your security staff."));
		ret = PAM_PERM_DENIED;
		goto out;
	}
	ret = PAM_SUCCESS;
out:
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	return ret;
}
