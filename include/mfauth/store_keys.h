/*
 * The store key on this machine (key_file) and its rotation, shared by every
 * backend: the files backend seals its files with it, the directory backend
 * the values it puts in the directory (there, the same key_file on every
 * terminal and staff machine).  During a rotation KEY_FILE.new exists: a
 * store reads with both keys and writes with the new one (store.h, rekey).
 */
#ifndef MFAUTH_STORE_KEYS_H
#define MFAUTH_STORE_KEYS_H

#include <stdbool.h>
#include "mfauth/conf.h"
#include "mfauth/safefile.h"
#include "mfauth/seal.h"

/*
 * The ring a store opens with: keys[0] from key_file and, if it exists,
 * keys[1] from key_file.new (one trusted walk to their directory).  ring
 * points into keys; the caller wipes keys when done.  A missing or unusable
 * key_file is MFA_ERR_KEY (or MFA_ERR_UNSAFE) with err->msg.
 */
int mfa_store_keys_load(const struct mfa_config *cfg, struct mfa_key keys[MFA_RING_MAX],
    struct mfa_keyring *ring, struct mfa_path_error *err);

/* The key new blobs are sealed under: the ring's last (the next key during a rotation). */
const struct mfa_key *mfa_store_keys_write_key(const struct mfa_keyring *ring);

/*
 * mfa_store_rekey_begin() and mfa_store_rekey_finish() (store.h) for
 * key_file: create key_file.new unless it exists; rename it over key_file.
 */
int mfa_store_keys_begin(const struct mfa_config *cfg, bool *created, struct mfa_path_error *err);
int mfa_store_keys_finish(const struct mfa_config *cfg, struct mfa_path_error *err);

#endif
