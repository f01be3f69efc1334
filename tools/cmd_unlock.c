/*
 * mfauth unlock USER [--reason TEXT]: security staff clear a clerk's lockout
 * and failure count.  Audited with who ran it and why.
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "mfauth/err.h"
#include "mfauth/lockout.h"

/* Retry-safe (store.h): *was_locked is set afresh on every call. */
static int clear_lock(struct mfa_state *st, void *ctx)
{
	bool *was_locked = ctx;
	*was_locked = st->locked_until != 0 || st->failures != 0;
	mfa_lockout_clear(st);
	return 1;
}

int cmd_unlock(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	const char *user, *reason;
	bool was_locked = false;
	int rc;

	if ((rc = cli_staff_args(argc, argv, &user, &reason, NULL)) != EXIT_OK) {
		if (rc == EXIT_USAGE) /* else the user lookup failed, and said why */
			cli_error("%s", _("usage: mfauth unlock USER [--reason TEXT]"));
		return rc;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	rc = mfa_store_update(store, user, clear_lock, &was_locked);
	mfa_store_close(store);
	if (rc != 0) {
		cli_error(_("%s: cannot unlock: %s"), user,
		    rc == MFA_ERR_NOSTATE ? _("not enrolled") : cli_strerror(rc));
		cli_audit(c, "unlock", user, "fail", mfa_errtoken(rc), "note", reason, NULL);
		return EXIT_FAIL;
	}
	printf("%s: %s\n", user,
	    was_locked ? _("unlocked, failures cleared") : _("was not locked; failures cleared"));
	cli_audit(c, "unlock", user, "success", "", "note", reason, NULL);
	return EXIT_OK;
}
