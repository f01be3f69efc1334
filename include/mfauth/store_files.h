/*
 * The files backend of the store (lib/store_files.c), the owner of its
 * on-disk names.  Only lib/store.c (which selects it) and this backend's
 * own tests include this header; every other caller goes through store.h.
 *
 * Directory layout (store_dir, root-owned 0700):
 *   NAME.rec    the sealed record (written by temp file + fsync + rename + dir fsync)
 *   NAME.state  two state slots, updated in place with one fdatasync per login; kept
 *               when the user is revoked (the replay watermark outlives the record)
 *   .decoy      the decoy (store.h): a state file of nobody
 *   .tmp.*      temp files of a write in progress (ignored; `check` reports stale ones)
 * NAME is the user name, encoded by mfa_name_encode().
 *
 * Locking: every update of a user holds an exclusive flock() on NAME.state
 * across the re-read, the change and the write, so fn (store.h) runs once.
 * flock() dies with the process, so a crash never leaves a stale lock.
 */
#ifndef MFAUTH_STORE_FILES_H
#define MFAUTH_STORE_FILES_H

#include "mfauth/seal.h"
#include "mfauth/store_backend.h"

#define MFA_STORE_FILES_REC_SUFFIX ".rec"
#define MFA_STORE_FILES_STATE_SUFFIX ".state"
#define MFA_STORE_FILES_DECOY ".decoy"
#define MFA_STORE_FILES_TMP_PREFIX ".tmp."

extern const struct mfa_store_ops mfa_store_files_ops;

/*
 * For the backend's own tests, which seal and open state slots by hand:
 * the key new blobs are sealed under (the next key during a rotation) and
 * the ring of keys the store reads with.  NULL unless store is a files store.
 */
const struct mfa_key *mfa_store_files_key(const struct mfa_store *store);
const struct mfa_keyring *mfa_store_files_keyring(const struct mfa_store *store);

#endif
