/*
 * mfauth import csv [--digits 6|8] [--algorithm sha1|sha256|sha512] [--period 30|60]
 *
 * Bulk enrollment of hardware tokens from the seed list a vendor ships, read
 * from stdin, one token per line:
 *     user,base32secret[,digits,algorithm,period]
 * Blank lines and lines starting with '#' are skipped, CRLF is accepted,
 * an empty or missing optional field takes the command-line default.  There
 * is no quoting: a user name with a comma cannot be imported this way.
 *
 * Each line is validated completely before anything of it is written, and
 * saved with the same replace-only-the-TOTP-factor rule as `enroll totp`, so
 * a bad line costs that line alone.  No confirmation: nobody holds the
 * tokens yet.  Seeds never appear in output or audit lines; for a bad line
 * we print its number, the reason and the user only when it is a valid name.
 *
 * The store is opened once; each user costs one load and one atomic save.
 * What makes a line valid is csv_parse.c's; this file reads, saves, reports.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "csv_parse.h"
#include "enroll_save.h"
#include "seed_input.h"
#include "mfauth/err.h"
#include "mfauth/totp.h"

#define IMPORT_LINE_MAX CSV_LINE_MAX

/*
 * A line reader over a file descriptor with a buffer of our own, wiped at
 * the end: stdio would keep a copy of the seeds we cannot reach.  Buffered,
 * unlike cli_read_line (one read() per byte, fine for one typed line, slow
 * for a vendor's file of thousands); its results are cli.h's LINE_* codes.
 */
struct line_reader {
	int fd;
	size_t start, end;
	bool eof;
	char buf[16384];
};

struct import_totals {
	size_t imported;
	size_t failed;
};

/* Refill an empty buffer; false at end of input or on an error (*err set). */
static bool refill(struct line_reader *r, bool *err)
{
	ssize_t n;

	if (r->eof)
		return false;
	do {
		n = read(r->fd, r->buf, sizeof(r->buf));
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->eof = true;
		*err = n < 0;
		return false;
	}
	r->start = 0;
	r->end = (size_t)n;
	return true;
}

/*
 * The next line into out (NUL-terminated, line ending removed).  Returns its
 * length, LINE_EOF, LINE_LONG (longer than outmax - 1: the rest is skipped,
 * so the next call starts on the next line) or LINE_ERR.
 */
static ssize_t next_line(struct line_reader *r, char *out, size_t outmax)
{
	size_t n = 0;
	bool any = false, overflow = false, err = false, nl = false;

	while (!nl) {
		char *p;
		size_t take;

		if (r->start == r->end && !refill(r, &err))
			break;
		any = true;
		p = memchr(r->buf + r->start, '\n', r->end - r->start);
		take = p != NULL ? (size_t)(p - (r->buf + r->start)) : r->end - r->start;
		if (!overflow && n + take < outmax) {
			memcpy(out + n, r->buf + r->start, take);
			n += take;
		} else {
			overflow = true;
		}
		r->start += take + (p != NULL);
		nl = p != NULL;
	}
	out[overflow ? 0 : n] = '\0';
	if (err)
		return LINE_ERR;
	if (!any)
		return LINE_EOF;
	if (overflow)
		return LINE_LONG;
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	return (ssize_t)n;
}

static void audit_line(const struct cli *c, const char *user, const struct mfa_totp_factor *f,
    bool ok, const char *reason, size_t lineno)
{
	char digits[8], period[8], line[24];

	snprintf(digits, sizeof(digits), "%u", (unsigned)f->digits);
	snprintf(period, sizeof(period), "%u", (unsigned)f->period);
	snprintf(line, sizeof(line), "%zu", lineno);
	cli_audit(c, "enroll", user, ok ? "success" : "fail", reason, "factor", "totp", "source",
	    "import_csv", "algorithm", mfa_alg_name(f->alg), "digits", digits, "period", period,
	    "line", line, NULL);
}

/*
 * One non-blank, non-comment line: validate all of it, then save.
 * Returns true if the user was enrolled.  The caller wipes line.
 */
static bool import_line(const struct cli *c, struct mfa_store *store, char *line, size_t len,
    size_t lineno, const struct mfa_totp_factor *defaults)
{
	struct mfa_totp_factor f = *defaults;
	const char *user = "", *token = "", *why;
	char account[MFA_USER_MAX + 1];
	int rc;

	why = csv_parse_line(line, len, &user, &f, &token);
	/* Keyed by the account NSS returns, like enroll (issue 12 finding 2). */
	if (why == NULL && cli_account(user, account, sizeof(account), true) != EXIT_OK) {
		why = _("user database lookup failed");
		token = mfa_errtoken(MFA_ERR_NSS);
	} else if (why == NULL) {
		user = account;
	}
	if (why == NULL && (rc = enroll_save_totp(store, user, &f, (uint64_t)time(NULL), 0)) != 0) {
		why = cli_strerror(rc);
		token = mfa_errtoken(rc);
		fprintf(stderr, _("line %zu: %s: cannot save: %s\n"), lineno, user, why);
	} else if (why == NULL) {
		printf(_("line %zu: %s: enrolled\n"), lineno, user);
	} else if (*user != '\0') {
		fprintf(stderr, _("line %zu: %s: %s\n"), lineno, user, why);
	} else {
		fprintf(stderr, _("line %zu: %s\n"), lineno, why);
	}
	audit_line(c, user, &f, why == NULL, why == NULL ? "" : token, lineno);
	mfa_wipe(&f, sizeof(f));
	return why == NULL;
}

/* Read every line of stdin; a bad line is reported and counted, never fatal. */
static int import_stream(const struct cli *c, struct mfa_store *store,
    const struct mfa_totp_factor *defaults, struct import_totals *t)
{
	static struct line_reader r;    /* static: 16 KiB is too much for the stack */
	char line[IMPORT_LINE_MAX + 2]; /* room for the CR of a CRLF line */
	size_t lineno = 0;
	ssize_t n;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.fd = STDIN_FILENO;
	while ((n = next_line(&r, line, sizeof(line))) != LINE_EOF) {
		lineno++;
		if (n == LINE_ERR) {
			cli_error(_("import csv: cannot read standard input at line %zu: %s"),
			    lineno, strerror(errno));
			rc = MFA_ERR_IO;
			break;
		}
		if (n == LINE_LONG || n > IMPORT_LINE_MAX) {
			fprintf(stderr, _("line %zu: longer than %d bytes\n"), lineno,
			    IMPORT_LINE_MAX);
			t->failed++;
		} else if (!csv_skip_line(line)) {
			if (import_line(c, store, line, (size_t)n, lineno, defaults))
				t->imported++;
			else
				t->failed++;
		}
		mfa_wipe(line, sizeof(line));
	}
	mfa_wipe(line, sizeof(line));
	mfa_wipe(&r, sizeof(r));
	return rc;
}

/* argv[0] is "csv". */
static int parse_import_opts(int argc, char **argv, struct mfa_totp_factor *defaults)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "digits", required_argument, NULL, 'd' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "period", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int opt;

	optind = 0; /* full reset: getopt already ran on another argv */
	opterr = 0; /* its messages would start with "csv:" */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == '?')
			cli_error(_("import csv: unknown option or missing value: '%s'"),
			    argv[optind - 1]);
		else if (opt == 'd' && seed_parse_digits(optarg, &defaults->digits) != 0)
			cli_error("%s", _("import csv: --digits must be 6 or 8"));
		else if (opt == 'a' && mfa_alg_parse(optarg, &defaults->alg) != 0)
			cli_error("%s",
			    _("import csv: --algorithm must be sha1, sha256 or sha512"));
		else if (opt == 'p' && seed_parse_period(optarg, &defaults->period) != 0)
			cli_error("%s", _("import csv: --period must be 30 or 60"));
		else if (opt == 'd' || opt == 'a' || opt == 'p')
			continue;
		return EXIT_USAGE;
	}
	return optind == argc ? EXIT_OK : EXIT_USAGE;
}

int cmd_import_csv(struct cli *c, int argc, char **argv)
{
	struct mfa_totp_factor defaults;
	struct import_totals t = { 0, 0 };
	struct mfa_store *store = NULL;
	int rc;

	memset(&defaults, 0, sizeof(defaults));
	defaults.digits = 6;
	defaults.alg = MFA_ALG_SHA1;
	defaults.period = 30;
	if (parse_import_opts(argc, argv, &defaults) != EXIT_OK) {
		cli_error("%s", _(IMPORT_CSV_USAGE));
		return EXIT_USAGE;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "%s",
		    _("Reading user,base32secret[,digits,algorithm,period] lines "
		      "(end with Ctrl-D)\n"));
	rc = import_stream(c, store, &defaults, &t);
	mfa_store_close(store);
	printf(_("imported %zu, failed %zu\n"), t.imported, t.failed);
	return rc == 0 && t.failed == 0 ? EXIT_OK : EXIT_FAIL;
}
