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

bool mfa_lockout_fail(const struct mfa_config *cfg, struct mfa_state *st, uint64_t now,
    const struct mfa_source *src)
{
	/* An expired lock starts a fresh count. */
	if (st->locked_until != 0 && !mfa_lockout_active(cfg, st, now)) {
		st->locked_until = 0;
		st->failures = 0;
	}
	/* Failures older than fail_interval no longer count. */
	if (st->failures > 0 && (now < st->first_failure ||
	    now - st->first_failure >= cfg->fail_interval))
		st->failures = 0;
	if (st->failures == 0)
		st->first_failure = now;
	if (st->failures < UINT32_MAX)
		st->failures++;
	st->last_failure = now;
	copy_field(st->fail_service, sizeof(st->fail_service), src ? src->service : NULL);
	copy_field(st->fail_tty, sizeof(st->fail_tty), src ? src->tty : NULL);
	copy_field(st->fail_rhost, sizeof(st->fail_rhost), src ? src->rhost : NULL);

	if (cfg->deny == 0 || st->failures < cfg->deny || mfa_lockout_active(cfg, st, now))
		return false;
	st->locked_until = cfg->unlock_time == 0 ? MFA_LOCK_FOREVER :
	    (now > UINT64_MAX - 1 - cfg->unlock_time ? MFA_LOCK_FOREVER - 1 : now + cfg->unlock_time);
	return true;
}

void mfa_lockout_success(struct mfa_state *st, uint64_t now)
{
	mfa_lockout_clear(st);
	st->last_success = now;
}

void mfa_lockout_clear(struct mfa_state *st)
{
	st->failures = 0;
	st->first_failure = 0;
	st->locked_until = 0;
}
