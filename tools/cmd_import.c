/*
 * mfauth import csv|pskc ...: which format, then that format's command
 * (cmd_import_csv.c, cmd_import_pskc.c).
 */
#include "config.h"

#include <string.h>

#include "cli.h"

int cmd_import(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		cli_error("%s", _(IMPORT_CSV_USAGE));
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "csv") == 0)
		return cmd_import_csv(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "pskc") == 0)
		return cmd_import_pskc(c, argc - 1, argv + 1);
	cli_error(_("import: unknown format '%s' (csv or pskc)"), argv[1]);
	return EXIT_USAGE;
}
