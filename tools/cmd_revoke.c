/* mfauth revoke USER [totp|card|all]: remove factors. */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "mfauth/err.h"

int cmd_revoke(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	struct mfa_record rec;
	const char *what;
	char user[MFA_USER_MAX + 1];
	int rc, status = EXIT_FAIL;

	if (argc < 2 || argc > 3) {
		cli_error("%s", _("usage: mfauth revoke USER [totp|card|all]"));
		return EXIT_USAGE;
	}
	what = argc == 3 ? argv[2] : "all";
	if (strcmp(what, "totp") != 0 && strcmp(what, "card") != 0 && strcmp(what, "all") != 0) {
		cli_error(_("revoke: unknown factor '%s' (totp, card or all)"), what);
		return EXIT_USAGE;
	}
	if ((rc = cli_account(argv[1], user, sizeof(user), false)) != EXIT_OK)
		return rc;
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	memset(&rec, 0, sizeof(rec));
	if ((rc = mfa_store_load(store, user, &rec)) != 0) {
		cli_error("%s: %s", user, cli_strerror(rc));
		goto out;
	}
	if (strcmp(what, "totp") == 0) {
		if (!rec.totp.present) {
			cli_error(_("%s: has no totp factor"), user);
			goto out;
		}
		mfa_wipe(&rec.totp, sizeof(rec.totp));
	} else if (strcmp(what, "card") == 0) {
		if (!rec.card.present) {
			cli_error(_("%s: has no card factor"), user);
			goto out;
		}
		memset(&rec.card, 0, sizeof(rec.card));
	}
	/* Nothing left: remove the user entirely rather than keep an empty record. */
	if (strcmp(what, "all") == 0 || !mfa_record_enrolled(&rec))
		rc = mfa_store_remove(store, user);
	else
		rc = mfa_store_save(store, user, &rec);
	if (rc != 0) {
		cli_error(_("%s: revoke failed: %s"), user, cli_strerror(rc));
		cli_audit(c, "revoke", user, "fail", mfa_errtoken(rc), "factor", what, NULL);
		goto out;
	}
	printf(_("revoked %s for %s\n"), what, user);
	cli_audit(c, "revoke", user, "success", "", "factor", what, NULL);
	status = EXIT_OK;
out:
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	return status;
}
