/*
 * mfauth migrate --from CONF: copy a terminal's files store (named by that
 * terminal's configuration file) into the directory this configuration names
 * (store = ldap), user by user: the record and the state (replay watermark,
 * failures, lock), opened with the source's key and sealed again under this
 * configuration's key.  A revoked user's state moves alone.  A user who
 * already has an entry in the directory is left alone and reported: a
 * migration never overwrites what the fleet already knows.
 */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "mfauth/err.h"

struct migrate_user {
	const struct mfa_record *rec; /* the source's record, or NULL (revoked: state only) */
	const struct mfa_state *st;
	bool existed; /* out: the directory already has this user */
};

/* The change (store.h retry contract: outputs set afresh on every call). */
static int put_user(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	struct migrate_user *m = ctx;
	uint64_t seq = st->seq;

	m->existed = exists || st->seq != 0;
	if (m->existed)
		return 0;
	*st = *m->st;
	st->seq = seq; /* the store numbers its own states */
	if (m->rec == NULL)
		return MFA_CHANGE_STATE;
	*rec = *m->rec;
	return MFA_CHANGE_STATE | MFA_CHANGE_RECORD;
}

/* One user: 1 copied, 0 left alone (already there), -1 failed (said why). */
static int migrate_user(struct cli *c, struct mfa_store *from, struct mfa_store *to,
    const char *user, const char *from_path)
{
	struct migrate_user m = { NULL, NULL, false };
	struct mfa_record rec;
	struct mfa_state st;
	int rc;

	memset(&rec, 0, sizeof(rec));
	memset(&st, 0, sizeof(st));
	rc = mfa_store_load(from, user, &rec);
	if (rc == 0)
		m.rec = &rec;
	if ((rc == 0 || rc == MFA_ERR_NOENT) && (rc = mfa_store_read_state(from, user, &st)) == 0) {
		m.st = &st;
		rc = mfa_store_change(to, user, true, put_user, &m);
	}
	mfa_record_wipe(&rec);
	mfa_wipe(&st, sizeof(st));
	if (rc != 0) {
		cli_error(_("%s: not copied: %s"), user, cli_strerror(rc));
		cli_audit(c, "migrate", user, "fail", mfa_errtoken(rc), "from", from_path, NULL);
		return -1;
	}
	if (m.existed) {
		printf(_("%s: already in the directory: left alone\n"), user);
		cli_audit(c, "migrate", user, "fail", "exists", "from", from_path, NULL);
		return 0;
	}
	printf(m.rec != NULL ? _("%s: copied\n") : _("%s: copied (state only: revoked)\n"), user);
	cli_audit(c, "migrate", user, "success", "", "from", from_path, NULL);
	return 1;
}

static int open_source(const char *path, struct mfa_store **from)
{
	struct mfa_config_error cerr = { "" };
	struct mfa_path_error perr = { "" };
	struct mfa_config src;
	int rc;

	mfa_config_defaults(&src);
	if (mfa_config_load_file(&src, path, false, &cerr) != 0 ||
	    mfa_config_check(&src, &cerr) != 0) {
		cli_error("%s", cerr.msg);
		return EXIT_FAIL;
	}
	if (src.store != MFA_BACKEND_FILES) {
		cli_error(_("%s: not a files store (store = files): nothing to migrate"), path);
		return EXIT_USAGE;
	}
	if ((rc = mfa_store_open(&src, from, &perr)) != 0) {
		cli_error(_("%s: cannot open the store: %s (%s)"), path, perr.msg,
		    cli_strerror(rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_migrate(struct cli *c, int argc, char **argv)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	struct mfa_store *from = NULL, *to = NULL;
	const char *from_path = NULL;
	char **names = NULL;
	size_t n = 0, copied = 0, left = 0, failed = 0;
	int opt, rc, status;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'f')
			goto usage;
		from_path = optarg;
	}
	if (from_path == NULL || optind != argc)
		goto usage;
	if (c->cfg.store != MFA_BACKEND_LDAP) {
		cli_error("%s",
		    _("migrate copies into the directory: the configuration (-c) must "
		      "say store = ldap"));
		return EXIT_USAGE;
	}
	if ((status = open_source(from_path, &from)) != EXIT_OK)
		return status;
	status = EXIT_FAIL;
	if (cli_open_store(c, &to) != EXIT_OK)
		goto out;
	/* Every user with a state: the enrolled and the revoked (their watermark). */
	if ((rc = mfa_store_list_states(from, &names, &n)) != 0) {
		cli_error(_("%s: cannot list: %s"), from_path, cli_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = migrate_user(c, from, to, names[i], from_path);
		copied += rc > 0;
		left += rc == 0;
		failed += rc < 0;
	}
	printf(_("%zu copied, %zu already in the directory, %zu failed\n"), copied, left, failed);
	status = failed == 0 ? EXIT_OK : EXIT_FAIL;
out:
	mfa_store_list_free(names, n);
	mfa_store_close(to);
	mfa_store_close(from);
	return status;
usage:
	cli_error("%s", _("usage: mfauth migrate --from CONF"));
	return EXIT_USAGE;
}
