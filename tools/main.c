/*
 * mfauth: administer the mfauth store.  Parses global options, loads the
 * config and dispatches to one command.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "mfauth/err.h"

struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "init", cmd_init, "init" },
	{ "enroll", cmd_enroll,
	    "enroll totp USER [--digits 6|8] [--algorithm sha1|sha256|sha512]\n"
	    "                [--period 30|60] [--secret-stdin] [--no-confirm] [--qr ansi|utf8|none]\n"
	    "                [--issuer NAME]\n"
	    "  mfauth enroll card USER [--reader NAME] [--profile jpki|piv] [--ca FILE|--no-ca]" },
	{ "import", cmd_import,
	    "import csv [--digits 6|8] [--algorithm sha1|sha256|sha512] "
	    "[--period 30|60] < FILE\n"
	    "  mfauth import pskc FILE --map CSV [--key-file KEYFILE]" },
	{ "list", cmd_list, "list [--json]" },
	{ "show", cmd_show, "show USER [--json]" },
	{ "revoke", cmd_revoke, "revoke USER [totp|card|all]" },
	{ "unlock", cmd_unlock, "unlock USER [--reason TEXT]" },
	{ "recovery", cmd_recovery, "recovery USER [--ttl DURATION] [--reason TEXT]" },
	{ "rekey", cmd_rekey, "rekey" },
	{ "migrate", cmd_migrate, "migrate --from CONF" },
	{ "check", cmd_check, "check [--pam-dir DIR] [--sshd-config FILE] [--json]" },
	{ "report", cmd_report,
	    "report [--since DATE] [--until DATE] [--input FILE]...\n"
	    "                [--format text|html|csv|json] [--output FILE] [--hours HH:MM-HH:MM]\n"
	    "                [--dormant DAYS]" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "%s", _("usage: mfauth [-c FILE] COMMAND [ARGS]\n\ncommands:\n"));
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  mfauth %s\n", commands[i].usage);
	fprintf(f,
	    _("\noptions:\n"
	      "  -c, --config FILE  configuration file (default %s)\n"
	      "  -h, --help         this help\n"
	      "  -V, --version      version\n"
	      "\nexit status: 0 success, 1 operation failed, 2 usage error\n"),
	    mfa_config_default_path());
}

static int load_config(struct cli *c)
{
	struct mfa_config_error cerr = { "" };
	const char *path = c->config_path ? c->config_path : mfa_config_default_path();
	int rc;

	mfa_config_defaults(&c->cfg);
	rc = mfa_config_load_file(&c->cfg, path, c->config_path == NULL, &cerr);
	if (rc == 0)
		rc = mfa_config_check(&c->cfg, &cerr);
	if (rc != 0) {
		cli_error("%s", cerr.msg[0] ? cerr.msg : mfa_strerror(rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	struct cli c;
	int opt;

	/* Seeds and codes pass through this process: no core dumps of it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The tool owns its process: the caller's locale, our catalogs. */
	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	bindtextdomain(MFA_TEXTDOMAIN, LOCALEDIR);
	textdomain(MFA_TEXTDOMAIN);
#endif
	memset(&c, 0, sizeof(c));
	/* '+': stop at the command; its own options are its business. */
	while ((opt = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("mfauth %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		if (geteuid() != 0) {
			cli_error(_("%s: must be run as root (the store and key are root-only)"),
			    commands[i].name);
			return EXIT_FAIL;
		}
		/* check loads the config itself: a bad one is a finding, not a stop. */
		if (commands[i].run != cmd_check && load_config(&c) != EXIT_OK)
			return EXIT_FAIL;
		optind++;
		/* Each command parses from its own argv[0]. */
		int sub_argc = argc - optind + 1;
		char **sub_argv = argv + optind - 1;
		/* 0, not 1: glibc then forgets the '+' mode of the parse above. */
		optind = 0;
		return commands[i].run(&c, sub_argc, sub_argv);
	}
	cli_error(_("unknown command '%s'"), argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
