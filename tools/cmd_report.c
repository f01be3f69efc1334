/*
 * mfauth report: the periodic audit and self-inspection report from the
 * audit trail (doc/DESIGN.md §3 "mfauth report", issue 15).
 *
 * Reads the sources line by line into report_agg (bounded memory), adds
 * the store's dormant enrollments when the store opens, and writes one
 * format.  Read-only: the store is opened but nothing is changed.  Audited
 * as event=report like every action of the tool.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mfauth/err.h"
#include "report_check.h"
#include "report_input.h"
#include "report_out.h"

#define REPORT_USAGE \
	N_("usage: mfauth report [--since DATE] [--until DATE] [--input FILE]...\n" \
	   "       [--format text|html|csv|json] [--output FILE] [--hours HH:MM-HH:MM]\n" \
	   "       [--dormant DAYS]")
#define MAX_INPUTS 256

enum fmt { FMT_TEXT, FMT_HTML, FMT_CSV, FMT_JSON };

struct args {
	const char *since, *until, *output;
	const char *inputs[MAX_INPUTS];
	size_t ninputs;
	enum fmt fmt;
	struct report_opts opt;
};

/*
 * "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" or with a blank for the T, local
 * time.  A bare date as the end of a period means the end of that day.
 */
static int parse_date(const char *s, bool end_of_day, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	size_t len = strlen(s);
	time_t t;

	if (len == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
		h = mi = sec = 0;
	} else if ((len == 16 || len == 19) && (s[10] == 'T' || s[10] == ' ') &&
	    sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) == 3 &&
	    sscanf(s + 11, "%2d:%2d%n", &h, &mi, &n) == 2 && n == 5 &&
	    (len == 16 || (sscanf(s + 16, ":%2d%n", &sec, &n) == 1 && n == 3))) {
		end_of_day = false;
	} else {
		return MFA_ERR_INVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (strchr("0123456789-:T ", s[i]) == NULL)
			return MFA_ERR_INVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return MFA_ERR_INVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d + (end_of_day ? 1 : 0);
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return MFA_ERR_INVAL;
	*out = (int64_t)t;
	return 0;
}

/* Local midnight of the first day of the month `back` months before now's. */
static int64_t month_start(int64_t now, int back)
{
	time_t t = (time_t)now;
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon -= back;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* "HH:MM-HH:MM", from before to. */
static int parse_hours(const char *s, int *from, int *to)
{
	int h1, m1, h2, m2, n = 0;

	if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || (size_t)n != strlen(s) ||
	    strlen(s) != 11 || h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 ||
	    m1 < 0 || m2 < 0)
		return MFA_ERR_INVAL;
	*from = h1 * 60 + m1;
	*to = h2 * 60 + m2;
	return *from < *to && *to <= 24 * 60 ? 0 : MFA_ERR_INVAL;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "hours", required_argument, NULL, 'H' },
		{ "dormant", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	static const char *const fmts[] = { "text", "html", "csv", "json" };
	const char *hours = "08:00-20:00";
	int opt;

	memset(a, 0, sizeof(*a));
	a->opt.dormant_days = 90;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			a->since = optarg;
			break;
		case 'u':
			a->until = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'H':
			hours = optarg;
			break;
		case 'i':
			if (a->ninputs == MAX_INPUTS) {
				cli_error(_("at most %d --input files"), MAX_INPUTS);
				return EXIT_USAGE;
			}
			a->inputs[a->ninputs++] = optarg;
			break;
		case 'f': {
			size_t i;
			for (i = 0; i < 4 && strcmp(optarg, fmts[i]) != 0; i++)
				;
			if (i == 4) {
				cli_error(_("unknown format '%s'"), optarg);
				return EXIT_USAGE;
			}
			a->fmt = (enum fmt)i;
			break;
		}
		case 'd': {
			char *end = NULL;
			unsigned long v;
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    v < 1 || v > 3650) {
				cli_error(_("--dormant takes a number of days, 1 to 3650"));
				return EXIT_USAGE;
			}
			a->opt.dormant_days = (int)v;
			break;
		}
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return EXIT_USAGE;
	if (parse_hours(hours, &a->opt.hours_from, &a->opt.hours_to) != 0) {
		cli_error(_("--hours takes HH:MM-HH:MM, the start before the end"));
		return EXIT_USAGE;
	}
	a->opt.now = (int64_t)time(NULL);
	a->opt.since = month_start(a->opt.now, 1);
	a->opt.until = month_start(a->opt.now, 0);
	if ((a->since != NULL && parse_date(a->since, false, &a->opt.since) != 0) ||
	    (a->until != NULL && parse_date(a->until, true, &a->opt.until) != 0)) {
		cli_error(_("a date is YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (local time)"));
		return EXIT_USAGE;
	}
	if (a->opt.until <= a->opt.since) {
		cli_error(_("--until must be after --since"));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* A journal file by its name, as journald and systemd-journal-remote name them. */
static bool is_journal_file(const char *path)
{
	size_t n = strlen(path);

	return (n > 8 && strcmp(path + n - 8, ".journal") == 0) ||
	    (n > 9 && strcmp(path + n - 9, ".journal~") == 0);
}

static int read_sources(struct report_trail *r, const struct args *a)
{
	int err = 0, rc;

	if (a->ninputs == 0) {
		rc = report_input_journal(r, NULL, &err);
		if (rc == MFA_ERR_INVAL && err == ENOSYS) {
			cli_error(_("this mfauth was built without libsystemd and cannot read the "
			            "journal: name the syslog files with --input FILE"));
			return EXIT_FAIL;
		}
		if (rc != 0) {
			cli_error(_("the journal: cannot read: %s"), strerror(err));
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	for (size_t i = 0; i < a->ninputs; i++) {
		bool journal = is_journal_file(a->inputs[i]);
		rc = journal ? report_input_journal(r, a->inputs[i], &err) :
		               report_input_file(r, a->inputs[i], &err);
		if (rc == MFA_ERR_INVAL && err == ENOSYS) {
			cli_error(_("%s: this mfauth was built without libsystemd and cannot read "
			            "journal files"),
			    a->inputs[i]);
			return EXIT_FAIL;
		}
		if (rc != 0) {
			cli_error(_("%s: cannot read: %s"), a->inputs[i], strerror(err));
			return EXIT_FAIL;
		}
	}
	return EXIT_OK;
}

/* Dormant enrollments need the store; a report without it says why. */
static void read_store(struct cli *c, struct report_trail *r)
{
	struct mfa_path_error perr;
	struct mfa_store *store = NULL;
	int rc;

	memset(&perr, 0, sizeof(perr));
	rc = mfa_store_open(&c->cfg, &store, &perr);
	if (rc != 0) {
		snprintf(r->store_note, sizeof(r->store_note), "%s", mfa_errtoken(rc));
		return;
	}
	report_agg_store(r, store);
	mfa_store_close(store);
}

static FILE *open_output(const char *path)
{
	int fd;
	FILE *f;

	if (path == NULL)
		return stdout;
	/* The report names users and their failures: root's alone. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (f == NULL)
		close(fd);
	return f;
}

static int write_report(FILE *f, const struct report_trail *r, enum fmt fmt)
{
	switch (fmt) {
	case FMT_JSON:
		return report_write_json(f, r);
	case FMT_TEXT:
		return report_write_text(f, r);
	case FMT_CSV:
		return report_write_csv(f, r);
	case FMT_HTML:
	default:
		return report_write_html(f, r);
	}
}

int cmd_report(struct cli *c, int argc, char **argv)
{
	static const char *const fmt_names[] = { "text", "html", "csv", "json" };
	struct report_trail r;
	struct args a;
	char since[40], until[40], used[24];
	FILE *out = NULL;
	int rc, ret = EXIT_FAIL;
	const char *reason = "";

	rc = parse_args(argc, argv, &a);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", _(REPORT_USAGE));
		return rc;
	}
	if (report_init(&r, &a.opt) != 0) {
		cli_error(_("the period is too long (at most %d days)"), REPORT_DAYS_MAX);
		return EXIT_USAGE;
	}
	if (read_sources(&r, &a) != EXIT_OK) {
		reason = "input";
		goto out;
	}
	read_store(c, &r);
	/* On a terminal (its own journal), the current mfauth check belongs in the report. */
	if (a.ninputs == 0 && report_check_run(c->config_path, a.fmt == FMT_JSON, &r.check) != 0)
		cli_warn(_("mfauth check could not be run: the report goes without it"));
	report_finish(&r);
	out = open_output(a.output);
	if (out == NULL) {
		cli_error(_("%s: cannot write: %s"), a.output, strerror(errno));
		reason = "output";
		goto out;
	}
	if (write_report(out, &r, a.fmt) != 0 || (out != stdout ? fclose(out) : fflush(out)) != 0) {
		if (out != stdout)
			cli_error(_("%s: cannot write: %s"), a.output, strerror(errno));
		out = NULL;
		reason = "output";
		goto out;
	}
	out = NULL;
	ret = EXIT_OK;
out:
	if (out != NULL && out != stdout)
		fclose(out);
	report_time_iso(a.opt.since, since, sizeof(since));
	report_time_iso(a.opt.until, until, sizeof(until));
	snprintf(used, sizeof(used), "%llu", (unsigned long long)r.lines.used);
	cli_audit(c, "report", "", ret == EXIT_OK ? "success" : "fail", reason, "format",
	    fmt_names[a.fmt], "since", since, "until", until, "lines", used, NULL);
	report_check_free(&r.check);
	report_free(&r);
	return ret;
}
