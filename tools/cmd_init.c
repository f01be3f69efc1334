/*
 * mfauth init: create the store directory (store = ldap: the directory's decoy
 * entry) and the key, never overwriting a key.
 */
#include "config.h"

#include "cli.h"
#include "mfauth/err.h"

int cmd_init(struct cli *c, int argc, char **argv)
{
	struct mfa_path_error perr = { "" };
	int rc;

	(void)argv;
	if (argc != 1) {
		cli_error("%s", _("usage: mfauth init"));
		return EXIT_USAGE;
	}
	rc = mfa_store_init(&c->cfg, &perr);
	if (rc == MFA_ERR_EXISTS) {
		cli_error("%s", perr.msg);
		cli_audit(c, "init", "", "fail", "key_exists", NULL);
		return EXIT_FAIL;
	}
	if (rc != 0) {
		cli_error(_("init failed: %s (%s)"), perr.msg, cli_strerror(rc));
		cli_audit(c, "init", "", "fail", mfa_errtoken(rc), NULL);
		return EXIT_FAIL;
	}
	if (c->cfg.store == MFA_BACKEND_LDAP) {
		printf(_("directory:       %s (decoy entry cn=/decoy added)\n"), c->cfg.ldap_base);
		printf(_("key file:        %s (root, 0400)\n"), c->cfg.key_file);
		printf("%s",
		    _("Copy the key file to every terminal and staff machine of the fleet "
		      "(root, 0400), and back it up: without it no record can be read.\n"));
		cli_audit(c, "init", "", "success", "", "ldap_base", c->cfg.ldap_base, NULL);
		return EXIT_OK;
	}
	printf(_("store directory: %s (root, 0700)\n"), c->cfg.store_dir);
	printf(_("key file:        %s (root, 0400)\n"), c->cfg.key_file);
	printf("%s", _("Back up the key file: without it no record can be read.\n"));
	cli_audit(c, "init", "", "success", "", "store_dir", c->cfg.store_dir, NULL);
	return EXIT_OK;
}
