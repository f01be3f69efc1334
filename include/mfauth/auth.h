/*
 * The second-factor decision for a code typed at the prompt, shared by the
 * PAM module and the CLI's enrollment confirmation.  Time is an argument: a
 * clock the decision reads under the user's lock, after the prompt and the
 * card work, so that a login left open at a prompt counts its failure when
 * it happens, not when it started (lockout.h).
 */
#ifndef MFAUTH_AUTH_H
#define MFAUTH_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "mfauth/conf.h"
#include "mfauth/lockout.h"
#include "mfauth/store.h"

/* Seconds since the epoch; mfa_clock_now() reads time(). */
typedef uint64_t (*mfa_clock_fn)(void);
uint64_t mfa_clock_now(void);

struct mfa_auth_result {
	uint32_t failures;                /* failure count after this attempt */
	bool locked_now;                  /* this attempt locked the user */
	enum mfa_lock_reason lock_reason; /* which limit, when locked_now */
	uint64_t locked_until;            /* lock state after this attempt */
	uint64_t step;                    /* accepted time step on success */
	bool used_recovery;               /* the accepted code was a recovery code */
};

/*
 * Check `code` for user (whose record the caller loaded) and update the state
 * under the user's lock.  The code is a TOTP code (digits) or, in its
 * own shape, a recovery code.  On success the TOTP step becomes the new
 * watermark (or the recovery code is marked used) and failures reset; a
 * wrong, malformed, expired or replayed code counts a failure (and may
 * lock).  A locked user's attempt changes nothing and consumes nothing.
 *
 * Returns 0 only when the code was accepted and the new state is on disk.
 * Otherwise MFA_ERR_BADCODE, MFA_ERR_REPLAY, MFA_ERR_EXPIRED, MFA_ERR_INVAL
 * (malformed), MFA_ERR_LOCKED, or a store error.
 */
int mfa_auth_code(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    const struct mfa_record *rec, const char *code, mfa_clock_fn clock,
    const struct mfa_source *src, struct mfa_auth_result *res);

/*
 * For a user with nothing to check a code against (not enrolled, or no
 * factor the prompt may accept): do the work mfa_auth_code() does for an
 * enrolled user's wrong code, on the store's decoy, so that the two take
 * the same time.  Changes nobody's state.  Returns 0, or a store error
 * (the caller refuses the login either way).
 */
int mfa_auth_decoy(struct mfa_store *store, const struct mfa_config *cfg, const char *code,
    uint64_t now);

/*
 * Record the outcome of a card login (card_auth.h) under the user's lock: a
 * verified card resets the failures, an attempt that failed counts one (and
 * may lock); a card error that was not an attempt (no card, too few PIN
 * tries left) changes nothing.  The lock is checked again under the lock.
 *
 * Returns 0 only when card_rc was 0, the user is not locked and the new
 * state is on disk; MFA_ERR_LOCKED; card_rc; or a store error.
 */
int mfa_auth_card_result(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    int card_rc, mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res);

/*
 * Kill-safe attempts, for the setuid helper (helper/verify_auth.c), whose
 * caller may be able to end it at any instant: mfa_auth_reserve() counts one
 * failure on disk BEFORE the code or PIN is looked at, so an attempt whose
 * check never finishes has still been counted; the *_reserved() calls below
 * then settle that attempt instead of counting a second one (a success
 * clears it with the other failures).  The reservation never locks by
 * itself, so the deny-th attempt with the right code still succeeds; a
 * reservation that finds `deny` (or `deny_total`) failures already counted without a lock
 * (attempts that never finished) locks the user and returns MFA_ERR_LOCKED
 * with res->locked_now set.  A locked user: MFA_ERR_LOCKED, nothing changes.
 * Returns 0 once the reservation is on disk, or a store error.
 */
int mfa_auth_reserve(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res);

/* mfa_auth_code() settling a reservation. */
int mfa_auth_code_reserved(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    const struct mfa_record *rec, const char *code, mfa_clock_fn clock,
    const struct mfa_source *src, struct mfa_auth_result *res);

/* mfa_auth_card_result() settling a reservation (a card error that was no attempt returns it). */
int mfa_auth_card_reserved(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    int card_rc, mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res);

/*
 * The card path's early refusal, read under a shared lock before the card is
 * touched: 0 when the user is not locked at now, MFA_ERR_LOCKED when locked,
 * or the store error that kept the state from being read (fail closed: the
 * caller refuses either way, and no PIN try is spent on a refusal).
 */
int mfa_auth_unlocked(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    uint64_t now);

/*
 * The account step (logins that skip auth, such as SSH keys, still meet
 * the lock): MFA_ERR_NOENT when user has no enrollment (no lock to
 * enforce), MFA_ERR_LOCKED while the user is locked at now, 0 otherwise,
 * or the store error that kept the record or the state from being read.
 * Only a missing record is MFA_ERR_NOENT: a record whose state cannot be
 * found is MFA_ERR_NOSTATE whatever the backend said (fail closed).
 */
int mfa_auth_account(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    uint64_t now);

/*
 * True when rc from mfa_auth_code*() or mfa_auth_reserve() is a verdict on
 * the attempt (0, MFA_ERR_BADCODE, MFA_ERR_REPLAY, MFA_ERR_INVAL,
 * MFA_ERR_EXPIRED, MFA_ERR_LOCKED); false for a store error.
 */
bool mfa_auth_code_judged(int rc);

/*
 * The factor choice for an enrolled user's record: is the card to be tried
 * (enrolled, allowed by the `factors` option, its profile allowed)?
 */
bool mfa_auth_card_offered(const struct mfa_config *cfg, const struct mfa_record *rec);
/*
 * What the code prompt may accept: *view is rec with the TOTP seed wiped
 * where `factors` does not allow TOTP (a recovery code is always accepted:
 * it is how a clerk who lost the card gets in).  False when nothing is
 * left to check a code against.  The caller wipes *view (mfa_record_wipe).
 */
bool mfa_auth_code_view(const struct mfa_config *cfg, const struct mfa_record *rec,
    struct mfa_record *view);

#endif
