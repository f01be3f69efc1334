/*
 * Lockout policy over a user's state: `deny` failures within `fail_interval`
 * lock the user for `unlock_time` seconds (0 = until security staff unlock);
 * `deny_total` failures since the last success (not windowed, never reset by
 * time) lock until staff unlock.
 * Pure functions of (config, state, now): the caller holds the user's lock.
 *
 * The clock may step back (NTP, a resumed VM, `date`) and a caller's `now`
 * may be late: recorded times never decrease (a failure is counted at the
 * latest of now and the failure times already recorded), so a count is
 * never reset, and a lock never set in the past, because time went backwards.
 */
#ifndef MFAUTH_LOCKOUT_H
#define MFAUTH_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "mfauth/conf.h"
#include "mfauth/state.h"

/* Where an attempt came from (PAM_SERVICE, PAM_TTY, PAM_RHOST); NULLs allowed. */
struct mfa_source {
	const char *service;
	const char *tty;
	const char *rhost;
};

/* True while st is locked at time now. */
bool mfa_lockout_active(const struct mfa_config *cfg, const struct mfa_state *st, uint64_t now);

/* What a failure did to the lock. */
enum mfa_lock_reason {
	MFA_LOCK_NONE = 0,  /* not locked by this failure */
	MFA_LOCK_DENY = 1,  /* deny failures within fail_interval */
	MFA_LOCK_TOTAL = 2, /* deny_total failures since the last success */
};

/* Count one failure; returns which limit this failure reached (MFA_LOCK_NONE: none). */
enum mfa_lock_reason mfa_lockout_fail(const struct mfa_config *cfg, struct mfa_state *st,
    uint64_t now, const struct mfa_source *src);

/* A verified factor: clear the failure counts and record the time. */
void mfa_lockout_success(struct mfa_state *st, uint64_t now);

/* Staff unlock: clear lock and both failure counts (keeps the replay watermark). */
void mfa_lockout_clear(struct mfa_state *st);

#endif
