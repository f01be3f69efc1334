/*
 * `mfauth report --format csv`: one table per section (summary, users,
 * staff_actions, findings, lines, malformed), each headed by a line with
 * its name, a blank line between them; UTF-8 with a byte-order mark, so
 * that Japanese spreadsheet software reads the names right; RFC 4180
 * quoting, CRLF line ends.  Cells that come from log lines and start with
 * = + - @ TAB or CR get a leading ' (a user name typed at a login prompt
 * must not become a formula in the auditor's spreadsheet).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "mfauth/err.h"
#include "report_out.h"

static void cell(FILE *f, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || (s[0] != '\0' && strchr("=+-@\t\r", s[0]));

	if (quote) {
		fputc('"', f);
		if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
			fputc('\'', f);
		for (; *s != '\0'; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static void num(FILE *f, uint64_t v, bool last)
{
	fprintf(f, "%" PRIu64 "%s", v, last ? "\r\n" : ",");
}

static void tcell(FILE *f, int64_t t, bool last)
{
	char s[40];

	report_time_iso(t, s, sizeof(s));
	cell(f, s, last);
}

static void kv(FILE *f, const char *k, uint64_t v)
{
	cell(f, k, false);
	num(f, v, true);
}

static void csv_summary(FILE *f, const struct report_trail *r)
{
	const struct report_summary *s = &r->sum;
	size_t with_logins = report_users_with_logins(r);
	char k[40];

	fputs("summary\r\nkey,value\r\n", f);
	cell(f, "since", false);
	tcell(f, r->opt.since, true);
	cell(f, "until", false);
	tcell(f, r->opt.until, true);
	kv(f, "terminals", r->nterms);
	kv(f, "users_with_logins", with_logins);
	for (int i = 0; i < REPORT_NFACTORS; i++) {
		snprintf(k, sizeof(k), "success_%s", report_factor_token(i));
		kv(f, k, s->success[i]);
	}
	for (int i = 0; i < REPORT_NFACTORS; i++) {
		snprintf(k, sizeof(k), "failure_%s", report_factor_token(i));
		kv(f, k, s->failure[i]);
	}
	kv(f, "failures_total", s->failure_total);
	kv(f, "lockouts", s->lockouts);
	kv(f, "staff_unlocks", s->staff_unlocks);
	kv(f, "recovery_issued", s->recovery_issued);
	kv(f, "recovery_used", s->recovery_used);
	kv(f, "enrollments", s->enrollments);
	kv(f, "revocations", s->revocations);
	kv(f, "store_errors", s->store_errors);
	kv(f, "unknown_user_attempts", s->unknown_attempts);
}

static void csv_users(FILE *f, const struct report_trail *r)
{
	char reasons[1024], terms[1024];

	fputs("\r\nusers\r\nuser,success,failure,lockouts,recovery_used,last_success,"
	      "failures_by_reason,terminals\r\n",
	    f);
	for (size_t i = 0; i < r->nusers; i++) {
		const struct report_user *u = &r->users[i];
		size_t o = 0;
		reasons[0] = terms[0] = '\0';
		for (size_t j = 0; j < u->nreasons && o < sizeof(reasons); j++)
			o += (size_t)snprintf(reasons + o, sizeof(reasons) - o, "%s%s=%" PRIu64,
			    j ? " " : "", u->reasons[j].name, u->reasons[j].n);
		o = 0;
		for (size_t j = 0; j < u->nterms && o < sizeof(terms); j++)
			o += (size_t)snprintf(terms + o, sizeof(terms) - o, "%s%s", j ? " " : "",
			    report_term_name(r, u->terms[j]));
		cell(f, u->name, false);
		num(f, report_user_success(u), false);
		num(f, u->failure_total, false);
		num(f, u->lockouts, false);
		num(f, u->recovery_used, false);
		tcell(f, u->last_success, false);
		cell(f, reasons, false);
		cell(f, terms, true);
	}
}

static void csv_lists(FILE *f, const struct report_trail *r)
{
	char d[300];

	fputs("\r\nstaff_actions\r\ntime,event,result,user,operator,reason,terminal\r\n", f);
	for (size_t i = 0; i < r->nstaff; i++) {
		const struct report_staff *s = &r->staff[i];
		tcell(f, s->time, false);
		cell(f, s->event, false);
		cell(f, s->result, false);
		cell(f, s->user, false);
		cell(f, s->operator, false);
		cell(f, s->reason, false);
		cell(f, report_term_name(r, s->term == 0xffff ? -1 : s->term), true);
	}
	fputs("\r\nfindings\r\nkind,user,time,terminal,value,detail\r\n", f);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct report_finding *x = &r->findings[i];
		report_finding_detail(r, x, false, d, sizeof(d));
		cell(f, report_kind_token(x->kind), false);
		cell(f, x->user, false);
		tcell(f, x->time, false);
		cell(f, report_term_name(r, x->term), false);
		fprintf(f, "%lld,", (long long)x->value);
		cell(f, d, true);
	}
}

int report_write_csv(FILE *f, const struct report_trail *r)
{
	const struct report_lines *l = &r->lines;

	fputs("\xef\xbb\xbf", f);
	csv_summary(f, r);
	csv_users(f, r);
	csv_lists(f, r);
	fputs("\r\nlines\r\nkey,value\r\n", f);
	kv(f, "read", l->read);
	kv(f, "used", l->used);
	kv(f, "malformed", l->malformed);
	kv(f, "untrusted", l->untrusted);
	kv(f, "other", l->other);
	kv(f, "outside_period", l->outside_period);
	fputs("\r\nmalformed\r\nsource,line,reason\r\n", f);
	for (size_t i = 0; i < r->nmalformed; i++) {
		cell(f, r->malformed[i].source, false);
		num(f, r->malformed[i].lineno, false);
		cell(f, r->malformed[i].why, true);
	}
	/* The current mfauth check, one line of its output per row (none with --input). */
	fputs("\r\nself_inspection\r\nline\r\n", f);
	for (const char *p = r->check.ran ? r->check.text : ""; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
		    p);
		cell(f, line, true);
		p += n + (nl != NULL);
	}
	return ferror(f) ? MFA_ERR_IO : 0;
}
