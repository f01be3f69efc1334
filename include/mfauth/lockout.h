/*
 * Lockout policy over a user's state: `deny` failures within `fail_interval`
 * lock the user for `unlock_time` seconds (0 = until security staff unlock).
 * Pure functions of (config, state, now): the caller holds the user's lock.
 */
#ifndef MFAUTH_LOCKOUT_H
#define MFAUTH_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "mfauth/config.h"
#include "mfauth/state.h"

/* Where an attempt came from (PAM_SERVICE, PAM_TTY, PAM_RHOST); NULLs allowed. */
struct mfa_source {
	const char *service;
	const char *tty;
	const char *rhost;
};

/* True while st is locked at time now. */
bool mfa_lockout_active(const struct mfa_config *cfg, const struct mfa_state *st, uint64_t now);

/* Count one failure; returns true if this failure locked the user. */
bool mfa_lockout_fail(const struct mfa_config *cfg, struct mfa_state *st, uint64_t now,
    const struct mfa_source *src);

/* A verified factor: clear the failure count and record the time. */
void mfa_lockout_success(struct mfa_state *st, uint64_t now);

/* Staff unlock: clear lock and failures (keeps the replay watermark). */
void mfa_lockout_clear(struct mfa_state *st);

#endif
