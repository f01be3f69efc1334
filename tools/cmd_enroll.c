/*
 * mfauth enroll totp|card USER [OPTIONS]: which factor, then that factor's
 * command (cmd_enroll_totp.c, cmd_enroll_card.c).
 */
#include "config.h"

#include <string.h>

#include "cli.h"

int cmd_enroll(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		cli_error("%s", _("usage: mfauth enroll totp|card USER [OPTIONS]"));
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "totp") == 0)
		return cmd_enroll_totp(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "card") == 0)
		return cmd_enroll_card(c, argc - 1, argv + 1);
	cli_error(_("enroll: unknown factor '%s' (totp or card)"), argv[1]);
	return EXIT_USAGE;
}
