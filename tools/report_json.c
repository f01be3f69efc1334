/*
 * `mfauth report --format json`: one object, documented in mfauth(8).
 * Keys and tokens are fixed English; times are RFC 3339 local time with
 * the offset; every string goes through cli_json_string (valid UTF-8 out).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "mfauth/err.h"
#include "report_out.h"

static void jtime(FILE *f, int64_t t)
{
	char s[40];

	if (t == 0) {
		fputs("null", f);
		return;
	}
	report_time_iso(t, s, sizeof(s));
	cli_json_string(f, s);
}

static void jfactors(FILE *f, const uint64_t *v)
{
	fputc('{', f);
	for (int i = 0; i < REPORT_NFACTORS; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", report_factor_token(i), v[i]);
	fputc('}', f);
}

static void json_summary(FILE *f, const struct report_trail *r)
{
	const struct report_summary *s = &r->sum;
	size_t with_logins = report_users_with_logins(r);

	fprintf(f,
	    "\"summary\":{\"terminals\":%zu,\"users_with_logins\":%zu,\"success\":", r->nterms,
	    with_logins);
	jfactors(f, s->success);
	fputs(",\"failure\":", f);
	jfactors(f, s->failure);
	fprintf(f,
	    ",\"failures_total\":%" PRIu64 ",\"lockouts\":%" PRIu64 ",\"staff_unlocks\":%" PRIu64
	    ",\"recovery_issued\":%" PRIu64 ",\"recovery_used\":%" PRIu64
	    ",\"enrollments\":%" PRIu64 ",\"revocations\":%" PRIu64 ",\"store_errors\":%" PRIu64
	    ",\"unknown_user_attempts\":%" PRIu64 "}",
	    s->failure_total, s->lockouts, s->staff_unlocks, s->recovery_issued, s->recovery_used,
	    s->enrollments, s->revocations, s->store_errors, s->unknown_attempts);
}

static void json_user(FILE *f, const struct report_trail *r, const struct report_user *u)
{
	fputs("{\"user\":", f);
	cli_json_string(f, u->name);
	fprintf(f, ",\"success\":%" PRIu64 ",\"success_by_factor\":", report_user_success(u));
	jfactors(f, u->success);
	fprintf(f, ",\"failure\":%" PRIu64 ",\"failures_by_reason\":{", u->failure_total);
	for (size_t i = 0; i < u->nreasons; i++) {
		fputs(i ? "," : "", f);
		cli_json_string(f, u->reasons[i].name);
		fprintf(f, ":%" PRIu64, u->reasons[i].n);
	}
	if (u->reasons_other > 0)
		fprintf(f, "%s\"other\":%" PRIu64, u->nreasons ? "," : "", u->reasons_other);
	fprintf(f,
	    "},\"lockouts\":%" PRIu64 ",\"recovery_issued\":%" PRIu64 ",\"recovery_used\":%" PRIu64
	    ",\"unknown_user_attempts\":%" PRIu64 ",\"last_success\":",
	    u->lockouts, u->recovery_issued, u->recovery_used, u->unknown_attempts);
	jtime(f, u->last_success);
	fputs(",\"terminals\":[", f);
	for (size_t i = 0; i < u->nterms; i++) {
		fputs(i ? "," : "", f);
		cli_json_string(f, report_term_name(r, u->terms[i]));
	}
	fprintf(f, "],\"more_terminals\":%s}", u->more_terms ? "true" : "false");
}

static void json_staff(FILE *f, const struct report_trail *r, const struct report_staff *s)
{
	fputs("{\"time\":", f);
	jtime(f, s->time);
	fputs(",\"event\":", f);
	cli_json_string(f, s->event);
	fputs(",\"result\":", f);
	cli_json_string(f, s->result);
	fputs(",\"user\":", f);
	cli_json_string(f, s->user);
	fputs(",\"factor\":", f);
	cli_json_string(f, s->factor);
	fputs(",\"operator\":", f);
	cli_json_string(f, s->operator);
	fputs(",\"reason\":", f);
	cli_json_string(f, s->reason);
	fputs(",\"terminal\":", f);
	cli_json_string(f, report_term_name(r, s->term == 0xffff ? -1 : s->term));
	fputc('}', f);
}

static void json_finding(FILE *f, const struct report_trail *r, const struct report_finding *x)
{
	char detail[300];

	report_finding_detail(r, x, false, detail, sizeof(detail));
	fputs("{\"kind\":", f);
	cli_json_string(f, report_kind_token(x->kind));
	fputs(",\"user\":", f);
	cli_json_string(f, x->user);
	fputs(",\"time\":", f);
	jtime(f, x->time);
	fputs(",\"terminal\":", f);
	cli_json_string(f, report_term_name(r, x->term));
	fprintf(f, ",\"value\":%lld,\"detail\":", (long long)x->value);
	cli_json_string(f, detail);
	fputc('}', f);
}

static void json_terms_days(FILE *f, const struct report_trail *r)
{
	fputs(",\"terminals\":[", f);
	for (size_t i = 0; i < r->nterms; i++) {
		fputs(i ? ",{\"terminal\":" : "{\"terminal\":", f);
		cli_json_string(f, r->terms[i].name);
		fprintf(f, ",\"lines\":%" PRIu64 ",\"first\":", r->terms[i].lines);
		jtime(f, r->terms[i].first);
		fputs(",\"last\":", f);
		jtime(f, r->terms[i].last);
		fputc('}', f);
	}
	fputs("],\"days\":[", f);
	for (size_t d = 0; d < r->ndays; d++) {
		char day[40];
		report_time_iso(r->opt.since + (int64_t)d * 86400, day, sizeof(day));
		day[10] = '\0';
		fprintf(f, "%s{\"date\":\"%s\",\"success\":%u,\"failure\":%u,\"lockouts\":%u}",
		    d ? "," : "", day, r->day_success[d], r->day_failure[d], r->day_lockouts[d]);
	}
	fputc(']', f);
}

/* check --json's array as it printed it, when it is one; else null. */
static void json_check(FILE *f, const struct report_check *c)
{
	size_t a = 0, b = c->len;

	fprintf(f, ",\"self_inspection\":{\"ran\":%s", c->ran ? "true" : "false");
	if (!c->ran) {
		fputs("}", f);
		return;
	}
	while (a < b && strchr(" \n", c->text[a]) != NULL)
		a++;
	while (b > a && strchr(" \n", c->text[b - 1]) != NULL)
		b--;
	fprintf(f, ",\"exit\":%d,\"results\":", c->status);
	if (!c->cut && b > a && c->text[a] == '[' && c->text[b - 1] == ']')
		fwrite(c->text + a, 1, b - a, f);
	else
		fputs("null", f);
	fputc('}', f);
}

int report_write_json(FILE *f, const struct report_trail *r)
{
	const struct report_lines *l = &r->lines;

	fputs("{\"period\":{\"since\":", f);
	jtime(f, r->opt.since);
	fputs(",\"until\":", f);
	jtime(f, r->opt.until);
	fprintf(f, "},\"office_hours\":\"%02d:%02d-%02d:%02d\",\"dormant_days\":%d,",
	    r->opt.hours_from / 60, r->opt.hours_from % 60, r->opt.hours_to / 60,
	    r->opt.hours_to % 60, r->opt.dormant_days);
	json_summary(f, r);
	fputs(",\"users\":[", f);
	for (size_t i = 0; i < r->nusers; i++) {
		fputs(i ? "," : "", f);
		json_user(f, r, &r->users[i]);
	}
	fputs("],\"staff_actions\":[", f);
	for (size_t i = 0; i < r->nstaff; i++) {
		fputs(i ? "," : "", f);
		json_staff(f, r, &r->staff[i]);
	}
	fputs("],\"findings\":[", f);
	for (size_t i = 0; i < r->nfindings; i++) {
		fputs(i ? "," : "", f);
		json_finding(f, r, &r->findings[i]);
	}
	fputc(']', f);
	json_terms_days(f, r);
	fprintf(f,
	    ",\"lines\":{\"read\":%" PRIu64 ",\"used\":%" PRIu64 ",\"malformed\":%" PRIu64
	    ",\"untrusted\":%" PRIu64 ",\"other\":%" PRIu64 ",\"outside_period\":%" PRIu64 "}",
	    l->read, l->used, l->malformed, l->untrusted, l->other, l->outside_period);
	fputs(",\"malformed\":[", f);
	for (size_t i = 0; i < r->nmalformed; i++) {
		fputs(i ? ",{\"source\":" : "{\"source\":", f);
		cli_json_string(f, r->malformed[i].source);
		fprintf(f, ",\"line\":%" PRIu64 ",\"reason\":", r->malformed[i].lineno);
		cli_json_string(f, r->malformed[i].why);
		fputc('}', f);
	}
	fprintf(f,
	    "],\"dropped\":{\"users\":%" PRIu64 ",\"terminals\":%" PRIu64
	    ",\"staff_actions\":%" PRIu64 ",\"findings\":%" PRIu64 ",\"malformed_listed\":%" PRIu64
	    "},\"store\":{\"checked\":%s,\"note\":",
	    r->users_dropped, r->terms_dropped, r->staff_dropped, r->findings_dropped,
	    l->malformed + l->untrusted - (uint64_t)r->nmalformed,
	    r->store_read ? "true" : "false");
	cli_json_string(f, r->store_note);
	fputc('}', f);
	json_check(f, &r->check);
	fputs("}\n", f);
	return ferror(f) ? MFA_ERR_IO : 0;
}
