/*
 * `mfauth report --format html`: one self-contained page for the screen and
 * for printing on A4 (the network is isolated: no script, no font, no
 * style and no picture is fetched; the charts are inline SVG).  Sections
 * after the first start on a new page; the last is a signature box for the
 * inspector.  The words are the user's language (gettext), the lang
 * attribute too.  Every figure carries a data-k attribute (summary) or sits
 * in a row with data-user, so tests/cli/test-report-html.sh can read the
 * rendered page's numbers back and compare them with the json.
 * Everything from a log goes through esc(): HTML-escaped, valid UTF-8 kept,
 * control bytes and invalid sequences as U+FFFD.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "mfauth/err.h"
#include "mfauth/text.h"
#include "report_out.h"

#define CHART_W 680
#define CHART_H 200

static void esc(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (*p != '\0') {
		size_t n = mfa_utf8_seq_len(p, left);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			fputs("\xef\xbf\xbd", f);
			n = 1;
		} else if (*p == '&') {
			fputs("&amp;", f);
		} else if (*p == '<') {
			fputs("&lt;", f);
		} else if (*p == '>') {
			fputs("&gt;", f);
		} else if (*p == '"') {
			fputs("&quot;", f);
		} else if (*p == '\'') {
			fputs("&#39;", f);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
		left -= n;
	}
}

static const char style[] =
    "body{font-family:\"Noto Sans CJK JP\",\"Noto Sans JP\",\"IPAexGothic\","
    "\"Droid Sans Fallback\",sans-serif;font-size:10.5pt;color:#111;margin:2em;}"
    "h1{font-size:16pt;margin:0 0 .3em}h2{font-size:13pt;border-bottom:1px solid #444;"
    "margin-top:1.5em}table{border-collapse:collapse;width:100%;margin:.5em 0}"
    "th,td{border:1px solid #999;padding:2px 5px;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#eee}"
    "tr{page-break-inside:avoid}.meta{color:#333}.chart{margin:.5em 0 1em}"
    "svg text{font-size:9px;fill:#222}.ok{fill:#3a7d44}.bad{fill:#c0392b}.lock{fill:#8e44ad}"
    ".sign{border:1px solid #000;width:100%;margin-top:2em}"
    ".sign td{height:3.2em;border:1px solid #000}"
    ".sign th{width:25%}section.page{page-break-before:always}"
    "@page{size:A4;margin:14mm}"
    "@media print{body{margin:0;font-size:9.5pt}h2{margin-top:0}}";

static void th(FILE *f, const char *label)
{
	fputs("<th>", f);
	esc(f, label);
	fputs("</th>", f);
}

static void td_text(FILE *f, const char *s)
{
	fputs("<td>", f);
	esc(f, s);
	fputs("</td>", f);
}

static void td_num(FILE *f, const char *key, uint64_t v)
{
	if (key != NULL)
		fprintf(f, "<td class=\"n\" data-k=\"%s\">%" PRIu64 "</td>", key, v);
	else
		fprintf(f, "<td class=\"n\">%" PRIu64 "</td>", v);
}

static void sum_row(FILE *f, const char *label, const char *key, uint64_t v)
{
	fputs("<tr>", f);
	th(f, label);
	td_num(f, key, v);
	fputs("</tr>\n", f);
}

static void html_summary(FILE *f, const struct report_trail *r)
{
	const struct report_summary *s = &r->sum;
	size_t with_logins = report_users_with_logins(r);
	char k[40];

	fprintf(f, "<h2>%s</h2>\n<table>\n", _("Summary"));
	sum_row(f, _("terminals"), "terminals", r->nterms);
	sum_row(f, _("users with logins"), "users_with_logins", with_logins);
	for (int i = 0; i < REPORT_NFACTORS; i++) {
		char label[80];
		snprintf(k, sizeof(k), "success_%s", report_factor_token(i));
		snprintf(label, sizeof(label), _("successful logins (%s)"), report_factor_token(i));
		sum_row(f, label, k, s->success[i]);
	}
	for (int i = 0; i < REPORT_NFACTORS; i++) {
		char label[80];
		snprintf(k, sizeof(k), "failure_%s", report_factor_token(i));
		snprintf(label, sizeof(label), _("failed logins (%s)"), report_factor_token(i));
		sum_row(f, label, k, s->failure[i]);
	}
	sum_row(f, _("failed logins, all"), "failures_total", s->failure_total);
	sum_row(f, _("lockouts"), "lockouts", s->lockouts);
	sum_row(f, _("staff unlocks"), "staff_unlocks", s->staff_unlocks);
	sum_row(f, _("recovery codes issued"), "recovery_issued", s->recovery_issued);
	sum_row(f, _("recovery codes used"), "recovery_used", s->recovery_used);
	sum_row(f, _("enrollments"), "enrollments", s->enrollments);
	sum_row(f, _("revocations"), "revocations", s->revocations);
	sum_row(f, _("store errors"), "store_errors", s->store_errors);
	sum_row(f, _("unknown-user attempts"), "unknown_user_attempts", s->unknown_attempts);
	fputs("</table>\n", f);
}

/* Bars per day: one or two series (stacked), scaled to the largest day. */
static void chart_days(FILE *f, const struct report_trail *r, const char *title, const uint32_t *a,
    const char *ca, const uint32_t *b, const char *cb)
{
	uint64_t max = 1;
	double bw = (double)(CHART_W - 40) / (double)r->ndays;

	for (size_t d = 0; d < r->ndays; d++)
		if ((uint64_t)a[d] + (b ? b[d] : 0) > max)
			max = (uint64_t)a[d] + (b ? b[d] : 0);
	fprintf(f,
	    "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" role=\"img\"><title>",
	    CHART_W, CHART_H + 20);
	esc(f, title);
	fprintf(f,
	    "</title><text x=\"0\" y=\"10\">%" PRIu64 "</text><text x=\"0\" y=\"%d\">0"
	    "</text><line x1=\"30\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n",
	    max, CHART_H, CHART_H, CHART_W, CHART_H);
	for (size_t d = 0; d < r->ndays; d++) {
		double x = 35 + bw * (double)d, ha = (double)(CHART_H - 10) * a[d] / (double)max;
		double hb = b ? (double)(CHART_H - 10) * b[d] / (double)max : 0;
		if (a[d] > 0)
			fprintf(f,
			    "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
			    ca, x, CHART_H - ha, bw * 0.8, ha);
		if (b && b[d] > 0)
			fprintf(f,
			    "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
			    cb, x, CHART_H - ha - hb, bw * 0.8, hb);
		if (d % 7 == 0) {
			char day[40];
			report_time_iso(r->opt.since + (int64_t)d * 86400, day, sizeof(day));
			day[10] = '\0';
			fprintf(f, "<text x=\"%.1f\" y=\"%d\">%s</text>", x, CHART_H + 14, day + 5);
		}
	}
	fputs("</svg></div>\n", f);
}

/* Failures by reason over all users, one horizontal bar each. */
static void chart_reasons(FILE *f, const struct report_trail *r)
{
	struct report_count all[48];
	size_t n = 0;
	uint64_t max = 1;

	for (size_t i = 0; i < r->nusers; i++)
		for (size_t j = 0; j < r->users[i].nreasons; j++) {
			size_t k;
			for (k = 0; k < n && strcmp(all[k].name, r->users[i].reasons[j].name) != 0;
			     k++)
				;
			if (k == n) {
				if (n == sizeof(all) / sizeof(all[0]))
					continue;
				memcpy(all[n].name, r->users[i].reasons[j].name,
				    sizeof(all[n].name));
				all[n++].n = 0;
			}
			all[k].n += r->users[i].reasons[j].n;
		}
	for (size_t k = 0; k < n; k++)
		if (all[k].n > max)
			max = all[k].n;
	fprintf(f,
	    "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%zu\" role=\"img\"><title>",
	    CHART_W, 16 * n + 4);
	esc(f, _("Failures by reason"));
	fputs("</title>\n", f);
	for (size_t k = 0; k < n; k++) {
		double w = (double)(CHART_W - 200) * (double)all[k].n / (double)max;
		fprintf(f, "<text x=\"0\" y=\"%zu\">", 16 * k + 12);
		esc(f, all[k].name);
		fprintf(f,
		    "</text><rect class=\"bad\" x=\"130\" y=\"%zu\" width=\"%.1f\" height=\"12\"/>"
		    "<text x=\"%.1f\" y=\"%zu\">%" PRIu64 "</text>\n",
		    16 * k + 2, w, 135 + w, 16 * k + 12, all[k].n);
	}
	fputs("</svg></div>\n", f);
}

static void html_users(FILE *f, const struct report_trail *r)
{
	char t[40];

	fprintf(f, "<section class=\"page\"><h2>%s</h2>\n<table><tr>", _("Users"));
	th(f, _("user"));
	th(f, _("success"));
	th(f, _("failure"));
	th(f, _("lockouts"));
	th(f, _("recovery"));
	th(f, _("last success"));
	th(f, _("failures by reason:"));
	th(f, _("terminals"));
	fputs("</tr>\n", f);
	for (size_t i = 0; i < r->nusers; i++) {
		const struct report_user *u = &r->users[i];
		fputs("<tr data-user=\"", f);
		esc(f, u->name);
		fputs("\">", f);
		td_text(f, u->name);
		td_num(f, NULL, report_user_success(u));
		td_num(f, NULL, u->failure_total);
		td_num(f, NULL, u->lockouts);
		td_num(f, NULL, u->recovery_used);
		report_time_short(u->last_success, t, sizeof(t));
		td_text(f, t);
		fputs("<td>", f);
		for (size_t j = 0; j < u->nreasons; j++) {
			esc(f, u->reasons[j].name);
			fprintf(f, "=%" PRIu64 "%s", u->reasons[j].n,
			    j + 1 < u->nreasons ? " " : "");
		}
		fputs("</td><td>", f);
		for (size_t j = 0; j < u->nterms; j++) {
			esc(f, report_term_name(r, u->terms[j]));
			fputs(j + 1 < u->nterms ? " " : "", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table></section>\n", f);
}

static void html_staff(FILE *f, const struct report_trail *r)
{
	char t[40];

	fprintf(f, "<section class=\"page\"><h2>%s</h2>\n<table data-list=\"staff\"><tr>",
	    _("Staff actions"));
	th(f, _("time"));
	th(f, _("action"));
	th(f, _("result"));
	th(f, _("user"));
	th(f, _("operator"));
	th(f, _("terminal"));
	th(f, _("reason"));
	fputs("</tr>\n", f);
	for (size_t i = 0; i < r->nstaff; i++) {
		const struct report_staff *s = &r->staff[i];
		report_time_short(s->time, t, sizeof(t));
		fputs("<tr class=\"row\">", f);
		td_text(f, t);
		td_text(f, s->event);
		td_text(f, s->result);
		td_text(f, s->user);
		td_text(f, s->operator);
		td_text(f, report_term_name(r, s->term == 0xffff ? -1 : s->term));
		td_text(f, s->reason);
		fputs("</tr>\n", f);
	}
	fputs("</table></section>\n", f);
}

static void html_findings(FILE *f, const struct report_trail *r)
{
	char t[40], d[300];

	fprintf(f, "<section class=\"page\"><h2>%s</h2>\n<table data-list=\"findings\"><tr>",
	    _("Findings"));
	th(f, _("time"));
	th(f, _("kind"));
	th(f, _("user"));
	th(f, _("terminal"));
	th(f, _("detail"));
	fputs("</tr>\n", f);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct report_finding *x = &r->findings[i];
		report_time_short(x->time, t, sizeof(t));
		report_finding_detail(r, x, true, d, sizeof(d));
		fprintf(f, "<tr class=\"row\" data-kind=\"%s\">", report_kind_token(x->kind));
		td_text(f, t);
		td_text(f, report_kind_token(x->kind));
		td_text(f, x->user);
		td_text(f, report_term_name(r, x->term));
		td_text(f, d);
		fputs("</tr>\n", f);
	}
	fputs("</table></section>\n", f);
}

static void html_lines_and_sign(FILE *f, const struct report_trail *r)
{
	const struct report_lines *l = &r->lines;

	fprintf(f, "<section class=\"page\"><h2>%s</h2>\n<table>\n", _("Lines"));
	sum_row(f, _("read"), "read", l->read);
	sum_row(f, _("used"), "used", l->used);
	sum_row(f, _("malformed"), "malformed", l->malformed);
	sum_row(f, _("untrusted"), "untrusted", l->untrusted);
	sum_row(f, _("other programs"), "other", l->other);
	sum_row(f, _("outside the period"), "outside_period", l->outside_period);
	fputs("</table>\n<table>", f);
	for (size_t i = 0; i < r->nmalformed; i++) {
		fputs("<tr>", f);
		td_text(f, r->malformed[i].source);
		td_num(f, NULL, r->malformed[i].lineno);
		td_text(f, r->malformed[i].why);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<p>", f);
	if (r->store_read)
		fprintf(f, _("Dormant enrollments: checked in the store (%d days)."),
		    r->opt.dormant_days);
	else
		esc(f, _("Dormant enrollments: not checked, the store could not be read."));
	fprintf(f, "</p>\n<h2>%s</h2>\n", _("Self-inspection (mfauth check)"));
	if (r->check.ran) {
		fputs("<pre data-check-exit=\"", f);
		fprintf(f, "%d\">", r->check.status);
		/* Line by line: esc() would take the newlines for control bytes. */
		for (const char *p = r->check.text; *p != '\0';) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			char line[1024];
			snprintf(line, sizeof(line), "%.*s",
			    (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
			esc(f, line);
			fputc('\n', f);
			p += n + (nl != NULL);
		}
		fputs("</pre>\n", f);
	} else {
		fputs("<p>", f);
		esc(f, _("not run: the report reads --input files, not this terminal"));
		fputs("</p>\n", f);
	}
	fprintf(f, "<h2>%s</h2>\n<table class=\"sign\">", _("Inspection"));
	fprintf(f,
	    "<tr><th>%s</th><td></td></tr><tr><th>%s</th><td></td></tr>"
	    "<tr><th>%s</th><td></td></tr><tr><th>%s</th><td></td></tr></table></section>\n",
	    _("inspected by"), _("date"), _("signature or seal"), _("remarks"));
}

int report_write_html(FILE *f, const struct report_trail *r)
{
	char since[40], until[40], now[40];

	report_time_short(r->opt.since, since, sizeof(since));
	report_time_short(r->opt.until, until, sizeof(until));
	report_time_short(r->opt.now, now, sizeof(now));
	/* TRANSLATORS: the HTML lang attribute of the report: "ja" in Japanese. */
	fprintf(f,
	    "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<title>",
	    _("en"));
	esc(f, _("mfauth audit report"));
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>", style);
	esc(f, _("mfauth audit report"));
	fprintf(f, "</h1>\n<p class=\"meta\">");
	fprintf(f, _("Period: %s to %s. Office hours: %02d:%02d-%02d:%02d on weekdays. Made: %s."),
	    since, until, r->opt.hours_from / 60, r->opt.hours_from % 60, r->opt.hours_to / 60,
	    r->opt.hours_to % 60, now);
	fputs("</p>\n", f);
	html_summary(f, r);
	fprintf(f, "<h2>%s</h2>\n", _("Logins per day (success, failure)"));
	chart_days(f, r, _("Logins per day (success, failure)"), r->day_success, "ok",
	    r->day_failure, "bad");
	fprintf(f, "<h2>%s</h2>\n", _("Failures by reason"));
	chart_reasons(f, r);
	fprintf(f, "<h2>%s</h2>\n", _("Lockouts per day"));
	chart_days(f, r, _("Lockouts per day"), r->day_lockouts, "lock", NULL, NULL);
	html_users(f, r);
	html_staff(f, r);
	html_findings(f, r);
	html_lines_and_sign(f, r);
	fputs("</body></html>\n", f);
	return ferror(f) ? MFA_ERR_IO : 0;
}
