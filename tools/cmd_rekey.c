/*
 * mfauth rekey [--stage | --retire]: rotate the store key.  Crash-safe: the
 * new key waits beside the old one (KEY_FILE.new) until every user is
 * re-sealed under it, and a run that was interrupted resumes with the same
 * new key.  Logins keep working throughout (the store reads with both keys
 * meanwhile).
 *
 * A fleet (store = ldap: one key file on every machine) rotates in stages,
 * so that no machine ever meets a value it cannot open (store.h):
 * --stage makes KEY_FILE.next, which every machine copies and then reads
 * with (but seals nothing under); `mfauth rekey` re-seals the directory,
 * then the decoy entry (once every user passed twice), then every user once
 * more: the decoy under the new key says the directory is; --retire, on
 * every other machine, reads that and only then drops the old key (one
 * read: terminals cannot list a large directory).
 */
#include "config.h"

#include <getopt.h>

#include "cli.h"
#include "mfauth/err.h"

/* One user through the rotation (NULL: the store's own values, the decoy). */
static bool rekey_one(struct mfa_store *store, const char *user)
{
	int rc = mfa_store_rekey_user(store, user);

	if (rc != 0)
		cli_error(_("%s: not re-sealed: %s"), user != NULL ? user : _("the decoy entry"),
		    cli_strerror(rc));
	return rc == 0;
}

/*
 * Re-seal every user with a record, then every user with a state (revoked
 * users keep one: their replay watermark must open after the rotation too);
 * returns how many failed.  *count: users with a record.
 */
static size_t rekey_all(struct mfa_store *store, const struct cli *c, size_t *count)
{
	char **names = NULL;
	size_t n = 0, failed = 0;
	int rc;

	*count = 0;
	for (int states = 0; states < 2; states++) {
		rc = states ? mfa_store_list_states(store, &names, &n) :
		              mfa_store_list(store, &names, &n, NULL);
		if (rc != 0) {
			cli_error(_("%s: cannot list: %s"), c->cfg.store_dir, cli_strerror(rc));
			return failed + 1;
		}
		for (size_t i = 0; i < n; i++)
			failed += !rekey_one(store, names[i]);
		if (!states)
			*count = n;
		mfa_store_list_free(names, n);
	}
	return failed;
}

/*
 * Twice over every user: the second pass is a cheap check that also catches
 * a record an enrollment running alongside wrote under the old key.  Then,
 * only when nothing failed, the decoy: the sign --retire reads, and the key
 * other staff machines seal new entries under (store_ldap.c); a last pass
 * catches an entry one of them added under the old key just before.
 */
static size_t rekey_store(struct cli *c, size_t *count)
{
	struct mfa_store *store = NULL;
	size_t failed;

	*count = 0;
	if (cli_open_store(c, &store) != EXIT_OK)
		return 1;
	failed = rekey_all(store, c, count);
	if (failed == 0)
		failed = rekey_all(store, c, count);
	if (failed == 0 && (failed = !rekey_one(store, NULL)) == 0 &&
	    c->cfg.store == MFA_BACKEND_LDAP)
		failed = rekey_all(store, c, count);
	mfa_store_close(store);
	return failed;
}

/* --stage: KEY_FILE.next, and what to do with it. */
static int stage(struct cli *c)
{
	struct mfa_path_error perr = { "" };
	bool created = false;
	int rc;

	if ((rc = mfa_store_rekey_stage(&c->cfg, &created, &perr)) != 0) {
		cli_error(_("cannot stage a new key: %s (%s)"), perr.msg, cli_strerror(rc));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), "step", "stage", NULL);
		return EXIT_FAIL;
	}
	printf(created ? _("staged a new key: %s.next\n") :
	                 _("a new key is staged already: %s.next\n"),
	    c->cfg.key_file);
	printf(_("Copy it to every other terminal and staff machine, as %s.next (owner root, "
	         "mode 0400),\nthen run mfauth rekey here.  Until then nothing is sealed under "
	         "it.\n"),
	    c->cfg.key_file);
	cli_audit(c, "rekey", "", "success", "", "step", "stage", NULL);
	return EXIT_OK;
}

/*
 * --retire: drop the old key on a machine that did not run the rotation,
 * once the directory no longer needs it (the decoy re-sealed: rekey_store).
 */
static int retire(struct cli *c)
{
	struct mfa_path_error perr = { "" };
	struct mfa_store *store = NULL;
	int rc;

	if (c->cfg.store != MFA_BACKEND_LDAP) {
		cli_error("%s",
		    _("--retire is for a fleet (store = ldap); here mfauth rekey ends "
		      "the rotation itself"));
		return EXIT_USAGE;
	}
	if ((rc = mfa_store_rekey_retire(&c->cfg, true, &perr)) != 0) {
		cli_error(_("cannot retire the old key: %s (%s)"), perr.msg, cli_strerror(rc));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), "step", "retire", NULL);
		return EXIT_FAIL;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	rc = mfa_store_rekey_pending(store, NULL);
	mfa_store_close(store);
	if (rc == MFA_ERR_KEYID) {
		cli_error("%s",
		    _("the directory is not re-sealed under the new key yet: the rotation "
		      "has not finished. Run mfauth rekey on the staff machine that "
		      "started it; the old key stays here."));
		cli_audit(c, "rekey", "", "fail", "not_resealed", "step", "retire", NULL);
		return EXIT_FAIL;
	}
	if (rc != 0) {
		cli_error(_("cannot read the decoy entry: %s; the old key stays."),
		    rc == MFA_ERR_NOENT ? _("there is none (mfauth init makes it)") :
		                          cli_strerror(rc));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), "step", "retire", NULL);
		return EXIT_FAIL;
	}
	if ((rc = mfa_store_rekey_retire(&c->cfg, false, &perr)) != 0) {
		cli_error("%s (%s)", perr.msg, cli_strerror(rc));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), "step", "retire", NULL);
		return EXIT_FAIL;
	}
	printf(_("%s now holds the new key; the old key is gone from this machine.\n"),
	    c->cfg.key_file);
	cli_audit(c, "rekey", "", "success", "", "step", "retire", NULL);
	return EXIT_OK;
}

static int parse(int argc, char **argv, int *mode)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "stage", no_argument, NULL, 's' },
		{ "retire", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int opt;

	*mode = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((opt != 's' && opt != 'r') || *mode != 0)
			return EXIT_USAGE;
		*mode = opt;
	}
	return optind == argc ? EXIT_OK : EXIT_USAGE;
}

static void say_start(const struct cli *c, enum mfa_rekey_start how)
{
	if (how == MFA_REKEY_CREATED)
		printf(_("starting key rotation (new key: %s.new)\n"), c->cfg.key_file);
	else if (how == MFA_REKEY_PROMOTED)
		printf(_("starting key rotation with the staged key (now %s.new)\n"),
		    c->cfg.key_file);
	else
		printf(_("resuming key rotation (new key: %s.new)\n"), c->cfg.key_file);
}

int cmd_rekey(struct cli *c, int argc, char **argv)
{
	struct mfa_path_error perr = { "" };
	enum mfa_rekey_start how = MFA_REKEY_RESUMED;
	char users[24];
	size_t n = 0, failed;
	int mode, rc;

	if (parse(argc, argv, &mode) != EXIT_OK) {
		cli_error("%s", _("usage: mfauth rekey [--stage | --retire]"));
		return EXIT_USAGE;
	}
	if (mode == 's')
		return stage(c);
	if (mode == 'r')
		return retire(c);
	if ((rc = mfa_store_rekey_begin(&c->cfg, &how, &perr)) != 0) {
		cli_error(_("cannot start the rotation: %s (%s)"), perr.msg, cli_strerror(rc));
		if (rc == MFA_ERR_NOENT)
			cli_error("%s",
			    _("run mfauth rekey --stage, copy the staged key to every "
			      "machine, then mfauth rekey again"));
		cli_audit(c, "rekey", "", "fail", mfa_errtoken(rc), NULL);
		return EXIT_FAIL;
	}
	say_start(c, how);
	failed = rekey_store(c, &n);
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
	if (c->cfg.store == MFA_BACKEND_LDAP)
		printf("%s\n", _("Now run mfauth rekey --retire on every other machine."));
	cli_audit(c, "rekey", "", "success", "", "users", users, NULL);
	return EXIT_OK;
}
