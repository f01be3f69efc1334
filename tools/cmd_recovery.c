/*
 * mfauth recovery USER [--ttl DURATION] [--reason TEXT]: security staff issue
 * a one-time recovery code for a clerk who cannot use a factor.  Audited with
 * who ran it and why; the code itself is printed once and never logged.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "cli.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"

struct recovery_change {
	uint64_t now, ttl;
	char *code; /* MFA_RECOVERY_TEXT_LEN */
	uint64_t expires_at;
};

/*
 * Under the user's lock: a new code replaces the old one, only one is ever
 * valid.  Retry-safe (store.h): a retry issues a fresh code over c->code and
 * c->expires_at, so what is shown is the code of the record written.
 */
static int issue_code(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	struct recovery_change *c = ctx;
	int rc;

	(void)st;
	if (!exists)
		return MFA_ERR_NOENT;
	if ((rc = mfa_recovery_issue(&rec->recovery, c->now, c->ttl, c->code)) != 0)
		return rc;
	c->expires_at = rec->recovery.expires_at;
	return MFA_CHANGE_RECORD;
}

int cmd_recovery(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	const char *user, *reason;
	char code[MFA_RECOVERY_TEXT_LEN] = "", until[40], ttl_text[24];
	struct recovery_change rc_ctx = { (uint64_t)time(NULL), MFA_RECOVERY_TTL_DEFAULT, code, 0 };
	int rc, status = EXIT_FAIL;

	if ((rc = cli_staff_args(argc, argv, &user, &reason, &rc_ctx.ttl)) != EXIT_OK) {
		if (rc == EXIT_USAGE) /* else the user lookup failed, and said why */
			cli_error("%s",
			    _("usage: mfauth recovery USER [--ttl DURATION] [--reason TEXT]"));
		return rc;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	if ((rc = mfa_store_change(store, user, false, issue_code, &rc_ctx)) != 0) {
		if (rc == MFA_ERR_NOENT)
			cli_error("%s: %s", user,
			    _("not enrolled: enroll a factor instead of issuing a recovery code"));
		else
			cli_error(_("%s: cannot issue a recovery code: %s"), user,
			    cli_strerror(rc));
		cli_audit(c, "recovery_issued", user, "fail", mfa_errtoken(rc), "note", reason,
		    NULL);
		goto out;
	}
	cli_format_time(rc_ctx.expires_at, until, sizeof(until));
	snprintf(ttl_text, sizeof(ttl_text), "%llu", (unsigned long long)rc_ctx.ttl);
	cli_audit(c, "recovery_issued", user, "success", "", "ttl", ttl_text, "note", reason, NULL);
	printf(_("One-time recovery code for %s, valid once until %s.\n"
	         "Give it to the clerk in person; it replaces any earlier code.\n"),
	    user, until);
	printf("%s\n", code);
	status = EXIT_OK;
out:
	mfa_wipe(code, sizeof(code));
	mfa_store_close(store);
	return status;
}
