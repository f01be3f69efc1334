/*
 * The store key on this machine (key_file) and its rotation, shared by every
 * backend: the files backend seals its files with it, the directory backend
 * the values it puts in the directory (there, the same key_file on every
 * terminal and staff machine).
 *
 * Beside key_file, at most one next key:
 *  - key_file.new: a rotation runs on this machine (mfauth rekey).  The store
 *    reads with both keys and seals new values under the new one.
 *  - key_file.next: a staged key (mfauth rekey --stage, then copied to every
 *    machine of a fleet).  The store reads with both keys and still seals
 *    under key_file: a machine that has the staged key never writes anything
 *    a machine without it cannot read.
 */
#ifndef MFAUTH_STORE_KEYS_H
#define MFAUTH_STORE_KEYS_H

#include <stdbool.h>
#include "mfauth/conf.h"
#include "mfauth/safefile.h"
#include "mfauth/seal.h"
#include "mfauth/store.h"

/*
 * The ring a store opens with: keys[0] from key_file and, if one exists,
 * keys[1] from key_file.new or else key_file.next (then ring->staged); one
 * trusted walk to their directory.  ring points into keys; the caller wipes
 * keys when done.  A missing or unusable key_file is MFA_ERR_KEY (or
 * MFA_ERR_UNSAFE) with err->msg; .new and .next both present with different
 * keys is MFA_ERR_KEY too (two rotations at once: someone must choose).
 */
int mfa_store_keys_load(const struct mfa_config *cfg, struct mfa_key keys[MFA_RING_MAX],
    struct mfa_keyring *ring, struct mfa_path_error *err);

/* The key new blobs are sealed under: the next key during a rotation, else key_file's. */
const struct mfa_key *mfa_store_keys_write_key(const struct mfa_keyring *ring);

/* The key that stays when the rotation ends: the ring's last. */
const struct mfa_key *mfa_store_keys_last_key(const struct mfa_keyring *ring);

/*
 * mfa_store_rekey_begin() (store.h) for key_file: resume with key_file.new
 * if it exists, else promote key_file.next to key_file.new (one rename),
 * else create key_file.new -- unless need_stage (the directory backend: the
 * key must reach every terminal before anything is sealed under it), then
 * MFA_ERR_NOENT with err->msg saying to stage first.
 */
int mfa_store_keys_begin(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err);
int mfa_store_keys_begin_staged(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err);

/* mfa_store_rekey_finish() for key_file: rename key_file.new over key_file. */
int mfa_store_keys_finish(const struct mfa_config *cfg, struct mfa_path_error *err);

/*
 * mfa_store_rekey_stage() and mfa_store_rekey_retire() (store.h): create
 * key_file.next unless it exists; rename key_file.next over key_file.
 */
int mfa_store_keys_stage(const struct mfa_config *cfg, bool *created, struct mfa_path_error *err);
int mfa_store_keys_retire(const struct mfa_config *cfg, bool check_only,
    struct mfa_path_error *err);

#endif
