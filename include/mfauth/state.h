/*
 * A user's state: what every login changes.
 *
 * The state file holds two fixed-size slots.  An update writes the slot that
 * does not hold the newest valid state, with sequence number + 1, so a torn
 * or lost write leaves the other slot valid.  Each slot:
 * "MFAS" | version (1) | key id (8) | seq (8) | nonce (12) | ciphertext | tag (16),
 * zero padded to MFA_STATE_SLOT_LEN; the associated data is everything before
 * the nonce plus the user name.
 */
#ifndef MFAUTH_STATE_H
#define MFAUTH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include "mfauth/seal.h"

#define MFA_STATE_MAGIC "MFAS"
#define MFA_STATE_VERSION 1
#define MFA_STATE_SLOT_LEN 512
#define MFA_STATE_FILE_LEN (2 * MFA_STATE_SLOT_LEN)
#define MFA_LOCK_FOREVER UINT64_MAX

struct mfa_state {
	uint64_t seq;            /* managed by the store */
	uint64_t last_step;      /* last accepted TOTP time step, 0 = none */
	uint32_t failures;       /* second-factor failures in the current interval */
	uint32_t failures_total; /* failures since the last success (deny_total) */
	uint64_t first_failure;  /* epoch seconds of the first counted failure */
	uint64_t last_failure;
	uint64_t locked_until; /* 0 = not locked; MFA_LOCK_FOREVER = until staff unlock */
	uint64_t last_success;
	uint64_t recovery_used; /* id of the last consumed recovery code */
	char fail_service[32];  /* where the last failure came from */
	char fail_tty[32];
	char fail_rhost[64];
};

/* Seal state (with its seq) for user into one slot's bytes. */
int mfa_state_seal_slot(const struct mfa_key *key, const char *user, const struct mfa_state *st,
    uint8_t slot[MFA_STATE_SLOT_LEN]);

/*
 * The key id a slot claims to be sealed under (not authenticated: only for
 * choosing a key, or for telling which key a value is under), or NULL if the
 * slot is not a state slot.
 */
const uint8_t *mfa_state_slot_keyid(const uint8_t slot[MFA_STATE_SLOT_LEN]);

/* Authenticate and decode one slot; MFA_ERR_CORRUPT/VERSION/KEYID on failure. */
int mfa_state_unseal_slot(const struct mfa_key *key, const char *user,
    const uint8_t slot[MFA_STATE_SLOT_LEN], struct mfa_state *st);

/*
 * Pick the newest valid slot of a whole state file.  *slot_out gets its index
 * (0 or 1).  Fails with the first slot's error only if neither slot is valid.
 */
int mfa_state_pick(const struct mfa_key *key, const char *user,
    const uint8_t file[MFA_STATE_FILE_LEN], struct mfa_state *st, int *slot_out);

/*
 * The same with a key ring: each slot is opened with the ring's key of the
 * id it names (during a key rotation the two slots may differ).  *slot_keyid
 * (if not NULL) gets whether each slot is sealed under the ring's last key.
 */
int mfa_state_pick_ring(const struct mfa_keyring *ring, const char *user,
    const uint8_t file[MFA_STATE_FILE_LEN], struct mfa_state *st, int *slot_out,
    bool under_last[2]);

#endif
