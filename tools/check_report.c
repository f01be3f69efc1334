/*
 * mfauth check's results (check.h): one line "SEVERITY: SUBJECT: MESSAGE"
 * per result, or one JSON object in an array with --json, counted by
 * severity for the summary and the exit status.  Every check_*.c reports
 * through here; none of them reaches into cmd_check.c.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* ---- results ------------------------------------------------------------ */

static const char *const sev_name[] = { "ok", "info", "warning", "error", "critical" };

/* Text output: control bytes and backslashes escaped, so one result is one line. */
static void put_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

void check_report(struct report *r, enum sev sev, const char *check, const char *subject,
    const char *fmt, ...)
{
	char msg[PATH_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->json) {
		fputs(r->total == 0 ? "\n{\"check\":" : ",\n{\"check\":", stdout);
		cli_json_string(stdout, check);
		fputs(",\"severity\":", stdout);
		cli_json_string(stdout, sev_name[sev]);
		fputs(",\"subject\":", stdout);
		cli_json_string(stdout, subject);
		fputs(",\"message\":", stdout);
		cli_json_string(stdout, msg);
		fputs("}", stdout);
	} else {
		printf("%s: ", sev_name[sev]);
		put_text(subject);
		fputs(": ", stdout);
		put_text(msg);
		putchar('\n');
	}
	r->total++;
	r->count[sev]++;
}

/* Library messages start with the path; the subject already names it. */
const char *check_after_subject(const char *msg, const char *subject)
{
	size_t n = strlen(subject);
	if (strncmp(msg, subject, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg[0] ? msg : _("unknown problem");
}

void check_report_begin(struct report *r)
{
	if (r->json)
		putchar('[');
}

int check_report_end(const struct report *r)
{
	if (r->json) {
		puts(r->total > 0 ? "\n]" : "]");
	} else {
		size_t findings = r->count[SEV_WARNING] + r->count[SEV_ERROR] +
		    r->count[SEV_CRITICAL];
		printf(_("%zu checks, %zu findings (%zu critical, %zu errors, %zu warnings)\n"),
		    r->total, findings, r->count[SEV_CRITICAL], r->count[SEV_ERROR],
		    r->count[SEV_WARNING]);
	}
	return r->count[SEV_ERROR] + r->count[SEV_CRITICAL] > 0 ? EXIT_FAIL : EXIT_OK;
}
