/*
 * mfauth check, check 5: the clock.  TOTP codes are checked against it, and
 * a clock that went back refuses every code as a replay: is it before this
 * program's build date, or behind what a user's state has already seen?
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Timestamps this far ahead of the clock are a clock that went back, not jitter. */
#define CLOCK_SLACK_SECS 60
/* When __DATE__ cannot be read: the first release. */
#define FALLBACK_BUILD_Y 2026
#define FALLBACK_BUILD_M 11
#define FALLBACK_BUILD_D 1

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The build date as epoch seconds (midnight UTC): MFA_BUILD_EPOCH or __DATE__. */
static uint64_t build_epoch(void)
{
#ifdef MFA_BUILD_EPOCH
	return (uint64_t)MFA_BUILD_EPOCH;
#else
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *date = __DATE__; /* "Nov 26 2026"; follows SOURCE_DATE_EPOCH in GCC */
	const char *m;
	char *end = NULL;
	unsigned long d, y;

	m = strlen(date) == 11 ? strstr(months, (char[4]){ date[0], date[1], date[2], '\0' }) :
	                         NULL;
	if (m != NULL && (m - months) % 3 == 0) {
		d = strtoul(date + 4, &end, 10);
		if (end != NULL && *end == ' ') {
			y = strtoul(end + 1, &end, 10);
			if (*end == '\0' && d >= 1 && d <= 31 && y >= 2000 && y <= 9999)
				return (uint64_t)days_from_civil((int64_t)y,
				           (unsigned)((m - months) / 3 + 1), (unsigned)d) *
				    86400;
		}
	}
	return (uint64_t)days_from_civil(FALLBACK_BUILD_Y, FALLBACK_BUILD_M, FALLBACK_BUILD_D) *
	    86400;
#endif
}

void check_clock_build(struct report *r, uint64_t now)
{
	char t1[40], t2[40];
	uint64_t built = build_epoch();

	cli_format_time(now, t1, sizeof(t1));
	cli_format_time(built, t2, sizeof(t2));
	if (now < built) {
		check_report(r, SEV_CRITICAL, "clock", "clock",
		    _("system time %s is before this program's "
		      "build date %s: set the clock (TOTP codes are checked against it)"),
		    t1, t2);
		return;
	}
	check_report(r, SEV_OK, "clock", "clock",
	    _("system time %s is not before the build date %s"), t1, t2);
}

/*
 * A clock behind what a user's state has seen: after a TOTP step the clock has
 * not reached (beyond the window), every code is refused as a replay.
 */
bool check_clock_user(struct report *r, const char *user, const struct mfa_state *st,
    uint16_t period, unsigned window, uint64_t now)
{
	char t[40];

	if (period != 0 && st->last_step != 0 && st->last_step > now / period + window) {
		uint64_t at = st->last_step > UINT64_MAX / period ?
		    UINT64_MAX :
		    st->last_step * period;
		cli_format_time(at, t, sizeof(t));
		check_report(r, SEV_CRITICAL, "clock", "clock",
		    _("clock jumped backwards past %s's last "
		      "accepted code (time step of %s): codes are refused as replays until then"),
		    user, t);
		return false;
	}
	if (st->last_success > now + CLOCK_SLACK_SECS) {
		cli_format_time(st->last_success, t, sizeof(t));
		check_report(r, SEV_CRITICAL, "clock", "clock",
		    _("clock jumped backwards past %s's last "
		      "successful login at %s"),
		    user, t);
		return false;
	}
	if (st->last_failure > now + CLOCK_SLACK_SECS) {
		cli_format_time(st->last_failure, t, sizeof(t));
		check_report(r, SEV_CRITICAL, "clock", "clock",
		    _("clock jumped backwards past %s's last "
		      "failed attempt at %s"),
		    user, t);
		return false;
	}
	return true;
}
