/*
 * mfauth revoke USER totp|card|all: remove factors.
 *
 * An enrolled user never silently becomes an unenrolled one (who, with
 * nullok, logs in with the password alone): removing one factor keeps the
 * record while it still holds another factor or an unused recovery code, and
 * refuses to remove the last one; `all` removes the enrollment, with a
 * warning.  The state file stays (failures and lock cleared), so the replay
 * watermark survives a revoke and a re-enrollment of the same seed
 * (security review, finding 3).  All of it under the user's lock.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "cli.h"
#include "mfauth/err.h"
#include "mfauth/lockout.h"

/* Refusals of the change, told apart from store errors. */
#define LAST_FACTOR 1
#define NO_SUCH_FACTOR 2

struct revoke_change {
	const char *what;
	uint64_t now;
	int refused; /* LAST_FACTOR, NO_SUCH_FACTOR or 0 */
};

/* A recovery code the clerk can still use: issued, not used, not expired. */
static bool recovery_usable(const struct mfa_record *rec, const struct mfa_state *st, uint64_t now)
{
	return rec->recovery.present && st->recovery_used != rec->recovery.id &&
	    now < rec->recovery.expires_at;
}

static int change_revoke(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	struct revoke_change *c = ctx;

	c->refused = 0; /* store.h retry contract: a retry may decide otherwise */
	if (!exists)
		return MFA_ERR_NOENT;
	if (strcmp(c->what, "all") == 0) {
		/* The watermark and the used recovery code's id stay; failures and lock go. */
		mfa_lockout_clear(st);
		return MFA_CHANGE_STATE | MFA_CHANGE_REMOVE;
	}
	if (strcmp(c->what, "totp") == 0) {
		if (!rec->totp.present)
			return (c->refused = NO_SUCH_FACTOR), 0;
		mfa_wipe(&rec->totp, sizeof(rec->totp));
	} else {
		if (!rec->card.present)
			return (c->refused = NO_SUCH_FACTOR), 0;
		memset(&rec->card, 0, sizeof(rec->card));
	}
	if (!rec->totp.present && !rec->card.present && !recovery_usable(rec, st, c->now))
		return (c->refused = LAST_FACTOR), 0;
	return MFA_CHANGE_RECORD;
}

static int explain_refusal(const char *user, const char *what, int refused)
{
	if (refused == NO_SUCH_FACTOR) {
		cli_error(strcmp(what, "totp") == 0 ? _("%s: has no totp factor") :
		                                      _("%s: has no card factor"),
		    user);
		return MFA_ERR_NOENT;
	}
	cli_error(_("%s: %s is the last second factor (no other factor, no unused recovery "
	            "code): not removed. To remove the enrollment, run: mfauth revoke %s all"),
	    user, what, user);
	return MFA_ERR_INVAL;
}

int cmd_revoke(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	struct revoke_change ch = { NULL, (uint64_t)time(NULL), 0 };
	char user[MFA_USER_MAX + 1];
	int rc, status = EXIT_FAIL;

	if (argc != 3) {
		cli_error("%s", _("usage: mfauth revoke USER totp|card|all"));
		return EXIT_USAGE;
	}
	ch.what = argv[2];
	if (strcmp(ch.what, "totp") != 0 && strcmp(ch.what, "card") != 0 &&
	    strcmp(ch.what, "all") != 0) {
		cli_error(_("revoke: unknown factor '%s' (totp, card or all)"), ch.what);
		return EXIT_USAGE;
	}
	if ((rc = cli_account(argv[1], user, sizeof(user), false)) != EXIT_OK)
		return rc;
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	rc = mfa_store_change(store, user, false, change_revoke, &ch);
	if (rc == 0 && ch.refused != 0)
		rc = explain_refusal(user, ch.what, ch.refused);
	else if (rc == MFA_ERR_NOENT)
		cli_error("%s: %s", user, cli_strerror(rc));
	else if (rc != 0)
		cli_error(_("%s: revoke failed: %s"), user, cli_strerror(rc));
	if (rc != 0) {
		cli_audit(c, "revoke", user, "fail",
		    ch.refused == LAST_FACTOR ? "last_factor" : mfa_errtoken(rc), "factor", ch.what,
		    NULL);
		goto out;
	}
	if (strcmp(ch.what, "all") == 0)
		cli_warn(
		    _("%s now has no second factor: without nullok the account cannot log in "
		      "until a factor is enrolled; with nullok it logs in with the password alone"),
		    user);
	printf(_("revoked %s for %s\n"), ch.what, user);
	cli_audit(c, "revoke", user, "success", "", "factor", ch.what, NULL);
	status = EXIT_OK;
out:
	mfa_store_close(store);
	return status;
}
