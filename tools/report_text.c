/*
 * `mfauth report --format text`: the report for root's terminal, in the
 * user's language.  Names, notes and host names come from log lines that
 * others could shape, so each is printed through safe(): valid UTF-8 stays
 * (a Japanese name reads as itself), control bytes and invalid sequences
 * become '?', so nothing in a log can drive the terminal.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "mfauth/err.h"
#include "mfauth/text.h"
#include "report_out.h"

static const char *safe(const char *s, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), o = 0;

	while (*p != '\0' && o + 5 < cap) {
		size_t n = mfa_utf8_seq_len(p, left);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			buf[o++] = '?';
			n = 1;
		} else {
			memcpy(buf + o, p, n);
			o += n;
		}
		p += n;
		left -= n;
	}
	buf[o] = '\0';
	return buf;
}

static uint64_t sum3(const uint64_t *v)
{
	return v[0] + v[1] + v[2];
}

static void text_summary(FILE *f, const struct report_trail *r)
{
	const struct report_summary *s = &r->sum;
	size_t with_logins = report_users_with_logins(r);

	fprintf(f, "%s\n", _("Summary"));
	fprintf(f, _("  terminals:                  %zu\n"), r->nterms);
	fprintf(f, _("  users with logins:          %zu\n"), with_logins);
	fprintf(f,
	    _("  successful logins:          %" PRIu64 " (totp %" PRIu64 ", recovery %" PRIu64
	      ", card %" PRIu64 ")\n"),
	    sum3(s->success), s->success[0], s->success[1], s->success[2]);
	fprintf(f,
	    _("  failed logins:              %" PRIu64 " (totp %" PRIu64 ", recovery %" PRIu64
	      ", card %" PRIu64 ")\n"),
	    s->failure_total, s->failure[0], s->failure[1], s->failure[2]);
	fprintf(f, _("  lockouts:                   %" PRIu64 "\n"), s->lockouts);
	fprintf(f, _("  staff unlocks:              %" PRIu64 "\n"), s->staff_unlocks);
	fprintf(f, _("  recovery codes issued/used: %" PRIu64 " / %" PRIu64 "\n"),
	    s->recovery_issued, s->recovery_used);
	fprintf(f, _("  enrollments/revocations:    %" PRIu64 " / %" PRIu64 "\n"), s->enrollments,
	    s->revocations);
	fprintf(f, _("  store errors:               %" PRIu64 "\n"), s->store_errors);
	fprintf(f, _("  unknown-user attempts:      %" PRIu64 "\n"), s->unknown_attempts);
}

static void text_users(FILE *f, const struct report_trail *r)
{
	char name[3 * MFA_USER_MAX + 8], t[40];

	fprintf(f, "\n%s\n", _("Users"));
	fprintf(f, "  %-16s %8s %8s %8s %8s  %-16s  %s\n", _("user"), _("success"), _("failure"),
	    _("lockouts"), _("recovery"), _("last success"), _("terminals"));
	for (size_t i = 0; i < r->nusers; i++) {
		const struct report_user *u = &r->users[i];
		report_time_short(u->last_success, t, sizeof(t));
		fprintf(f, "  %-16s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "  %-16s ",
		    safe(u->name, name, sizeof(name)), report_user_success(u), u->failure_total,
		    u->lockouts, u->recovery_used, t);
		for (size_t j = 0; j < u->nterms; j++)
			fprintf(f, " %s",
			    safe(report_term_name(r, u->terms[j]), name, sizeof(name)));
		fputs(u->more_terms ? " ...\n" : "\n", f);
		if (u->nreasons == 0 && u->reasons_other == 0)
			continue;
		fprintf(f, "  %16s %s", "", _("failures by reason:"));
		for (size_t j = 0; j < u->nreasons; j++)
			fprintf(f, " %s=%" PRIu64, safe(u->reasons[j].name, name, sizeof(name)),
			    u->reasons[j].n);
		if (u->reasons_other > 0)
			fprintf(f, " other=%" PRIu64, u->reasons_other);
		fputc('\n', f);
	}
}

static void text_staff(FILE *f, const struct report_trail *r)
{
	char a[3 * MFA_USER_MAX + 8], b[400], c[300], t[40];

	fprintf(f, "\n%s\n", _("Staff actions"));
	if (r->nstaff == 0)
		fprintf(f, "  %s\n", _("none"));
	for (size_t i = 0; i < r->nstaff; i++) {
		const struct report_staff *s = &r->staff[i];
		report_time_short(s->time, t, sizeof(t));
		fprintf(f, "  %s  %-15s %-7s %-16s ", t, s->event, s->result,
		    safe(s->user, a, sizeof(a)));
		fprintf(f, _("by %s on %s"), safe(s->operator, c, sizeof(c)),
		    safe(report_term_name(r, s->term == 0xffff ? -1 : s->term), b, sizeof(b)));
		if (s->reason[0] != '\0')
			fprintf(f, ": %s", safe(s->reason, b, sizeof(b)));
		fputc('\n', f);
	}
}

static void text_findings(FILE *f, const struct report_trail *r)
{
	char a[3 * MFA_USER_MAX + 8], b[300], d[300], t[40];

	fprintf(f, "\n%s\n", _("Findings"));
	if (r->nfindings == 0)
		fprintf(f, "  %s\n", _("none"));
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct report_finding *x = &r->findings[i];
		report_time_short(x->time, t, sizeof(t));
		report_finding_detail(r, x, true, d, sizeof(d));
		fprintf(f, "  %s  %-17s %-16s %-12s %s\n", t, report_kind_token(x->kind),
		    safe(x->user, a, sizeof(a)), safe(report_term_name(r, x->term), b, sizeof(b)),
		    d);
	}
}

int report_write_text(FILE *f, const struct report_trail *r)
{
	const struct report_lines *l = &r->lines;
	char since[40], until[40], b[300];

	report_time_short(r->opt.since, since, sizeof(since));
	report_time_short(r->opt.until, until, sizeof(until));
	fprintf(f, _("mfauth report: %s to %s (office hours %02d:%02d-%02d:%02d on weekdays)\n\n"),
	    since, until, r->opt.hours_from / 60, r->opt.hours_from % 60, r->opt.hours_to / 60,
	    r->opt.hours_to % 60);
	text_summary(f, r);
	text_users(f, r);
	text_staff(f, r);
	text_findings(f, r);
	fprintf(f, "\n%s\n", _("Lines"));
	fprintf(f,
	    _("  read %" PRIu64 ", used %" PRIu64 ", malformed %" PRIu64 ", untrusted %" PRIu64
	      ", other programs %" PRIu64 ", outside the period %" PRIu64 "\n"),
	    l->read, l->used, l->malformed, l->untrusted, l->other, l->outside_period);
	for (size_t i = 0; i < r->nmalformed; i++)
		fprintf(f, "  %s:%" PRIu64 ": %s\n", safe(r->malformed[i].source, b, sizeof(b)),
		    r->malformed[i].lineno, r->malformed[i].why);
	if (r->store_read)
		fprintf(f, _("\nDormant enrollments: checked in the store (%d days).\n"),
		    r->opt.dormant_days);
	else
		fprintf(f,
		    _("\nDormant enrollments: not checked, the store could not be read (%s).\n"),
		    r->store_note);
	fprintf(f, "\n%s\n", _("Self-inspection (mfauth check)"));
	if (!r->check.ran) {
		fprintf(f, "  %s\n",
		    _("not run: the report reads --input files, not this terminal"));
	} else {
		/* check's own lines, already escaped by it; indented under the heading. */
		for (const char *p = r->check.text; *p != '\0';) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			fprintf(f, "  %.*s\n", (int)n, p);
			p += n + (nl != NULL);
		}
	}
	return ferror(f) ? MFA_ERR_IO : 0;
}
