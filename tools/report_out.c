/*
 * What `mfauth report`'s formats share (report_out.h).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "cli.h"
#include "report_out.h"

void report_time_iso(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char z[8];
	size_t n;

	out[0] = '\0';
	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		return;
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	/* %z is "+0900"; RFC 3339 wants "+09:00". */
	if (n == 0 || strftime(z, sizeof(z), "%z", &tm) != 5) {
		out[0] = '\0';
		return;
	}
	snprintf(out + n, cap - n, "%.3s:%.2s", z, z + 3);
}

void report_time_short(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, cap, "-");
}

const char *report_term_name(const struct report_trail *r, int term)
{
	if (term < 0 || (size_t)term >= r->nterms)
		return "";
	return r->terms[term].name;
}

uint64_t report_user_success(const struct report_user *u)
{
	uint64_t n = 0;

	for (int i = 0; i < REPORT_NFACTORS; i++)
		n += u->success[i];
	return n;
}

size_t report_users_with_logins(const struct report_trail *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nusers; i++)
		if (report_user_success(&r->users[i]) > 0)
			n++;
	return n;
}

/* _() only when asked: json and csv keep one wording whatever the locale. */
#define TR(s) (translate ? _(s) : (s))

void report_finding_detail(const struct report_trail *r, const struct report_finding *f,
    bool translate, char *out, size_t cap)
{
	char t2[40];
	long long v = (long long)f->value;

	(void)r;
	report_time_short(f->value2, t2, sizeof(t2));
	switch (f->kind) {
	case REPORT_F_OUTSIDE_HOURS:
		snprintf(out, cap, "%s", TR(N_("successful login outside office hours")));
		break;
	case REPORT_F_LOCKOUT:
		if (f->value < 0) {
			snprintf(out, cap, "%s", TR(N_("locked until a staff unlock")));
		} else {
			char until[40];
			report_time_short(f->value, until, sizeof(until));
			snprintf(out, cap, TR(N_("locked until %s")), until);
		}
		break;
	case REPORT_F_REPEATED_FAILURES:
		snprintf(out, cap, TR(N_("%lld failures on one day without a lockout")), v);
		break;
	case REPORT_F_RECOVERY_UNUSED:
		snprintf(out, cap, "%s", TR(N_("recovery code issued and not used in the period")));
		break;
	case REPORT_F_RECOVERY_LATE:
		snprintf(out, cap, TR(N_("recovery code used %lld hours after issue (%s)")),
		    v / 3600, t2);
		break;
	case REPORT_F_DORMANT:
		snprintf(out, cap, TR(N_("no successful login for %lld days")), v);
		break;
	case REPORT_F_TRAIL_GAP:
		snprintf(out, cap, TR(N_("no audit line for %lld days (until %s)")), v, t2);
		break;
	case REPORT_F_TRAIL_STOPS:
		snprintf(out, cap, TR(N_("no audit line in the last %lld days of the period")), v);
		break;
	case REPORT_F_CLOCK_BACK:
		snprintf(out, cap, TR(N_("clock went back %lld seconds (from %s)")), v, t2);
		break;
	case REPORT_F_UNKNOWN_USER:
		snprintf(out, cap, TR(N_("%lld attempts for a name unknown or not enrolled")), v);
		break;
	case REPORT_F_STORE_ERROR:
	case REPORT_NKINDS:
	default:
		snprintf(out, cap, "%s", TR(N_("store error")));
		break;
	}
}
