/*
 * Lockout policy (see lockout.h).  Callers hold the user's state lock, so
 * counting here is exact however many logins race (doc/DESIGN.md invariant 3).
 */
#include "config.h"

#include <string.h>

#include "mfauth/lockout.h"

bool mfa_lockout_active(const struct mfa_config *cfg, const struct mfa_state *st, uint64_t now)
{
	(void)cfg;
	if (st->locked_until == 0)
		return false;
	return st->locked_until == MFA_LOCK_FOREVER || now < st->locked_until;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	memset(dst, 0, size);
	if (n > 0)
		memcpy(dst, src, n);
}

/*
 * The time a failure is counted at: never before a failure already recorded.
 * A clock that stepped back, or a login that read the clock long before it
 * failed, would otherwise start a fresh window (the count back to 1) or set
 * a lock that is already over.
 */
static uint64_t failure_time(const struct mfa_state *st, uint64_t now)
{
	uint64_t t = now;

	if (t < st->last_failure)
		t = st->last_failure;
	if (st->failures > 0 && t < st->first_failure)
		t = st->first_failure;
	return t;
}

static void saturating_inc(uint32_t *n)
{
	if (*n < UINT32_MAX)
		(*n)++;
}

enum mfa_lock_reason mfa_lockout_fail(const struct mfa_config *cfg, struct mfa_state *st,
    uint64_t now, const struct mfa_source *src)
{
	uint64_t t = failure_time(st, now);

	/* An expired lock starts a fresh window (the total keeps counting). */
	if (st->locked_until != 0 && !mfa_lockout_active(cfg, st, t)) {
		st->locked_until = 0;
		st->failures = 0;
	}
	/* Failures older than fail_interval no longer count (t is never before first_failure). */
	if (st->failures > 0 && t - st->first_failure >= cfg->fail_interval)
		st->failures = 0;
	if (st->failures == 0)
		st->first_failure = t;
	saturating_inc(&st->failures);
	saturating_inc(&st->failures_total);
	st->last_failure = t;
	copy_field(st->fail_service, sizeof(st->fail_service), src ? src->service : NULL);
	copy_field(st->fail_tty, sizeof(st->fail_tty), src ? src->tty : NULL);
	copy_field(st->fail_rhost, sizeof(st->fail_rhost), src ? src->rhost : NULL);

	if (cfg->deny_total != 0 && st->failures_total >= cfg->deny_total &&
	    st->locked_until != MFA_LOCK_FOREVER) {
		st->locked_until = MFA_LOCK_FOREVER;
		return MFA_LOCK_TOTAL;
	}
	if (cfg->deny == 0 || st->failures < cfg->deny || mfa_lockout_active(cfg, st, t))
		return MFA_LOCK_NONE;
	st->locked_until = cfg->unlock_time == 0 ?
	    MFA_LOCK_FOREVER :
	    (t > UINT64_MAX - 1 - cfg->unlock_time ? MFA_LOCK_FOREVER - 1 : t + cfg->unlock_time);
	return MFA_LOCK_DENY;
}

void mfa_lockout_success(struct mfa_state *st, uint64_t now)
{
	mfa_lockout_clear(st);
	st->last_success = now;
}

void mfa_lockout_clear(struct mfa_state *st)
{
	st->failures = 0;
	st->failures_total = 0;
	st->first_failure = 0;
	st->locked_until = 0;
}
