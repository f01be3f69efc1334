/*
 * The store key and AES-256-GCM sealing (doc/DESIGN.md invariant 4).
 *
 * A sealed blob is nonce (12) || ciphertext || tag (16).  The caller supplies
 * the associated data, which binds the blob to its user, format and key.
 */
#ifndef MFAUTH_SEAL_H
#define MFAUTH_SEAL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include "mfauth/safefile.h"

#define MFA_KEY_LEN 32
#define MFA_KEYID_LEN 8
#define MFA_NONCE_LEN 12
#define MFA_TAG_LEN 16
#define MFA_SEAL_OVERHEAD (MFA_NONCE_LEN + MFA_TAG_LEN)

struct mfa_key {
	uint8_t bytes[MFA_KEY_LEN];
	uint8_t id[MFA_KEYID_LEN]; /* SHA-256("mfauth key id" || key), truncated */
};

/*
 * Load the key file: root-owned, mode 0400 or 0600, exactly 32 bytes, on a
 * trusted path.  MFA_ERR_KEY/MFA_ERR_UNSAFE/MFA_ERR_NOENT on failure.
 */
int mfa_key_load(const char *path, struct mfa_key *key, struct mfa_path_error *err);
/* The same for the file name in a directory from mfa_open_trusted_parent(); path for messages. */
int mfa_key_load_at(int dirfd, const char *name, const char *path, struct mfa_key *key,
    struct mfa_path_error *err);

/* Generate a fresh key into a new file (O_EXCL, mode 0400); MFA_ERR_EXISTS if present. */
int mfa_key_create(const char *path, struct mfa_key *key, struct mfa_path_error *err);

/* Derive key->id from key->bytes. */
int mfa_key_derive_id(struct mfa_key *key);

void mfa_key_wipe(struct mfa_key *key);

/*
 * The keys a store can read: the current key and, during a key rotation,
 * the next one.  Blobs name their key by id; new blobs use the last key,
 * unless the last one is only staged (a fleet's rotation, store_keys.h):
 * then it is read, never written with, and new blobs use keys[0].
 */
#define MFA_RING_MAX 2
struct mfa_keyring {
	const struct mfa_key *keys[MFA_RING_MAX];
	size_t n;
	bool staged;
};

/* The ring's key with this id, or NULL. */
const struct mfa_key *mfa_keyring_find(const struct mfa_keyring *ring,
    const uint8_t id[MFA_KEYID_LEN]);

/*
 * Encrypt pt into out (size ptlen + MFA_SEAL_OVERHEAD) with a fresh random
 * nonce.  Returns 0 or MFA_ERR_CRYPTO.
 */
int mfa_seal(const struct mfa_key *key, const uint8_t *aad, size_t aadlen, const uint8_t *pt,
    size_t ptlen, uint8_t *out);

/*
 * Decrypt and authenticate in (inlen bytes, >= MFA_SEAL_OVERHEAD) into pt
 * (size inlen - MFA_SEAL_OVERHEAD).  MFA_ERR_CORRUPT if authentication fails;
 * pt is wiped in that case.
 */
int mfa_unseal(const struct mfa_key *key, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t inlen, uint8_t *pt);

#endif
