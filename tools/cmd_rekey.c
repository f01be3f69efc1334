/*
 * mfauth rekey: rotate the store key.  Crash-safe: the new key waits beside
 * the old one (KEY_FILE.new) until every user is re-sealed under it, and a
 * run that was interrupted resumes with the same new key.  Logins keep
 * working throughout (the store reads with both keys meanwhile).
 */
#include "config.h"

#include "cli.h"
#include "mfauth/err.h"

/* Re-seal every user; returns how many failed (and says which). */
static size_t rekey_all(struct cli *c, size_t *count)
{
	struct mfa_store *store = NULL;
	char **names = NULL;
	size_t n = 0, failed = 0;
	int rc;

	*count = 0;
	if (cli_open_store(c, &store) != EXIT_OK)
		return 1;
	if ((rc = mfa_store_list(store, &names, &n, NULL)) != 0) {
		cli_error(_("%s: cannot list: %s"), c->cfg.store_dir, cli_strerror(rc));
		mfa_store_close(store);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = mfa_store_rekey_user(store, names[i])) != 0) {
			cli_error(_("%s: not re-sealed: %s"), names[i], cli_strerror(rc));
			failed++;
		}
	}
	*count = n;
	mfa_store_list_free(names, n);
	/* Revoked users keep a state (their replay watermark): it must open after the rotation too. */
	if ((rc = mfa_store_list_states(store, &names, &n)) != 0) {
		cli_error(_("%s: cannot list: %s"), c->cfg.store_dir, cli_strerror(rc));
		mfa_store_close(store);
		return failed + 1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = mfa_store_rekey_user(store, names[i])) != 0) {
			cli_error(_("%s: not re-sealed: %s"), names[i], cli_strerror(rc));
			failed++;
		}
	}
	mfa_store_list_free(names, n);
	mfa_store_close(store);
	return failed;
}

int cmd_rekey(struct cli *c, int argc, char **argv)
{
	struct mfa_path_error perr = { "" };
	char users[24];
	bool created = false;
	size_t n = 0, failed;
	int rc;

	(void)argv;
	if (argc != 1) {
		cli_error("%s", _("usage: mfauth rekey"));
		return EXIT_USAGE;
	}
	if ((rc = mfa_store_rekey_begin(&c->cfg, &created, &perr)) != 0) {
		cli_error(_("cannot create the new key: %s (%s)"), perr.msg, cli_strerror(rc));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), NULL);
		return EXIT_FAIL;
	}
	printf(created ? _("starting key rotation (new key: %s.new)\n") :
	                 _("resuming key rotation (new key: %s.new)\n"),
	    c->cfg.key_file);
	/*
	 * Twice: the second pass is a cheap check that also catches a record an
	 * enrollment running alongside wrote under the old key.
	 */
	failed = rekey_all(c, &n);
	if (failed == 0)
		failed = rekey_all(c, &n);
	snprintf(users, sizeof(users), "%zu", n);
	if (failed > 0) {
		cli_error(
		    ngettext("%zu user not re-sealed; the old key stays. Fix it (mfauth "
		             "check) "
		             "and run mfauth rekey again to resume.",
		        "%zu users not re-sealed; the old key "
		        "stays. Fix them (mfauth check) and run mfauth rekey again to resume.",
		        failed),
		    failed);
		cli_audit(c, "rekey", "", "fail", "users_failed", "users", users, NULL);
		return EXIT_FAIL;
	}
	if ((rc = mfa_store_rekey_finish(&c->cfg, &perr)) != 0) {
		cli_error("%s (%s)", perr.msg, cli_strerror(rc));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), "users", users, NULL);
		return EXIT_FAIL;
	}
	printf(ngettext("re-sealed %zu user; %s now holds the new key. Back it up.\n",
	           "re-sealed %zu users; %s now holds the new key. Back it up.\n", n),
	    n, c->cfg.key_file);
	cli_audit(c, "rekey", "", "success", "", "users", users, NULL);
	return EXIT_OK;
}
