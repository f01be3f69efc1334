/*
 * The per-user store: a small interface (open, load, save, update under lock,
 * list, remove) with a directory backend.  A directory-server backend can
 * slot in behind the same functions later.
 *
 * Directory layout (store_dir, root-owned 0700):
 *   NAME.rec    the sealed record (written by temp file + fsync + rename + dir fsync)
 *   NAME.state  two state slots, updated in place with one fdatasync per login; kept
 *               when the user is revoked (the replay watermark outlives the record)
 *   .decoy      a state file of nobody, read and written by logins of unknown users so
 *               that they cost what an enrolled user's wrong code costs (no enumeration
 *               by timing); created on first use, never holds anything of value
 *   .tmp.*      temp files of an enrollment in progress (ignored; `check` reports stale ones)
 * NAME is the user name, encoded by mfa_name_encode().
 *
 * Locking: every update of a user holds an exclusive flock() on NAME.state
 * across the re-read, the change and the write.  flock() dies with the process,
 * so a crash never leaves a stale lock.
 */
#ifndef MFAUTH_STORE_H
#define MFAUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include "mfauth/conf.h"
#include "mfauth/record.h"
#include "mfauth/safefile.h"
#include "mfauth/state.h"

/* Longest user name accepted, in bytes. */
#define MFA_USER_MAX 256
/* Longest encoded name (3 bytes per input byte at worst, plus NUL). */
#define MFA_NAME_ENC_MAX (3 * MFA_USER_MAX + 1)

struct mfa_store;

/*
 * Check a user name: 1..MFA_USER_MAX bytes, valid UTF-8, no control
 * characters, no '/', not "." or "..".  Returns 0 or MFA_ERR_BADNAME.
 * The store also refuses (MFA_ERR_BADNAME) a name whose encoded file name
 * would pass NAME_MAX: ASCII names up to 249 bytes always fit, names with
 * escaped bytes (non-ASCII, blanks) take three characters per byte.
 */
int mfa_name_check(const char *user);

/*
 * Encode a checked user name into a file-name stem: bytes in [A-Za-z0-9_-@]
 * and '.' (not leading) stand for themselves, every other byte becomes %XX.
 * Injective, never starts with '.', never contains '/'.
 */
int mfa_name_encode(const char *user, char *out, size_t outlen);
/* The inverse; MFA_ERR_BADNAME for a stem that encode would not produce. */
int mfa_name_decode(const char *stem, char *out, size_t outlen);

/*
 * Open the store named by cfg: the directory on a trusted path and the key.
 * On failure err says which file and why.
 */
int mfa_store_open(const struct mfa_config *cfg, struct mfa_store **out,
    struct mfa_path_error *err);
void mfa_store_close(struct mfa_store *store);

/*
 * Create the store directory (0700) and the key file (0400) for `mfauth init`.
 * MFA_ERR_EXISTS if the key file exists (never overwritten).
 */
int mfa_store_init(const struct mfa_config *cfg, struct mfa_path_error *err);

/* Load user's record.  MFA_ERR_NOENT if the user has none. */
int mfa_store_load(struct mfa_store *store, const char *user, struct mfa_record *rec);

/*
 * Save user's record atomically.  Creates the state file first when missing
 * (so a record never exists without a state).  Holds the user's lock.
 */
int mfa_store_save(struct mfa_store *store, const char *user, const struct mfa_record *rec);

/*
 * Change user's record and state in one step under the user's lock
 * (enrollment, recovery codes, revoke), so that two staff commands at once
 * never lose an update and a login never sees the record without the state
 * that goes with it.  fn gets the current record (all zeros and exists =
 * false when the user has none) and state; it returns a mask of what to
 * write (MFA_CHANGE_STATE, and MFA_CHANGE_RECORD or MFA_CHANGE_REMOVE), 0 to
 * change nothing, or a negative error that is returned.  The state is on disk
 * (fdatasync) before the record is renamed into place or removed: a login
 * that reads the new record finds the new state (a raised replay watermark)
 * behind the lock.  With create, a user without a state file gets one first
 * (as mfa_store_save does); without, a user with no record and no state is
 * MFA_ERR_NOENT and nothing is created.  A record that exists but does not
 * open is returned as its error, never handed to fn (never replaced).
 */
#define MFA_CHANGE_STATE 1
#define MFA_CHANGE_RECORD 2
#define MFA_CHANGE_REMOVE 4
typedef int (*mfa_change_fn)(struct mfa_record *rec, bool exists, struct mfa_state *st,
    void *ctx);
int mfa_store_change(struct mfa_store *store, const char *user, bool create, mfa_change_fn fn,
    void *ctx);

/* Remove user's record and then state.  MFA_ERR_NOENT if not enrolled. */
int mfa_store_remove(struct mfa_store *store, const char *user);

/*
 * Read-modify-write of user's state under the exclusive lock.  fn receives
 * the current state and may change it; it returns 1 to write the change,
 * 0 to leave the state as it was, or a negative error to abort.  A write is
 * on disk (fdatasync) before this returns 0.  Returns fn's negative error,
 * MFA_ERR_NOSTATE if the user has no state file, or a store error.
 */
typedef int (*mfa_state_fn)(struct mfa_state *st, void *ctx);
int mfa_store_update(struct mfa_store *store, const char *user, mfa_state_fn fn, void *ctx);

/*
 * The decoy (see the layout above).  mfa_store_load_decoy() reads it and
 * opens one slot, as mfa_store_load() reads and opens a record; errors are
 * ignored.  mfa_store_update_decoy() is mfa_store_update() on the decoy:
 * fn sees its (meaningless) state, and a state that does not open is
 * started over rather than reported.  Returns 0 or a store error (an
 * unsafe decoy file is MFA_ERR_UNSAFE, as any store file).
 */
#define MFA_STORE_DECOY ".decoy"
void mfa_store_load_decoy(struct mfa_store *store);
int mfa_store_update_decoy(struct mfa_store *store, mfa_state_fn fn, void *ctx);

/* Read user's current state under a shared lock. */
int mfa_store_read_state(struct mfa_store *store, const char *user, struct mfa_state *st);

/*
 * The enrolled user names, sorted; free with mfa_store_list_free().
 * Files whose names do not decode are skipped and counted in *skipped.
 */
int mfa_store_list(struct mfa_store *store, char ***names, size_t *count, size_t *skipped);
void mfa_store_list_free(char **names, size_t count);
/*
 * The user names that have a state file, sorted (a superset of the enrolled:
 * a revoked user keeps the state, for its replay watermark); names that do
 * not decode are left out.  Free with mfa_store_list_free().
 */
int mfa_store_list_states(struct mfa_store *store, char ***names, size_t *count);

/* The store's directory fd and keys, for `check` and `rekey`. */
int mfa_store_dirfd(const struct mfa_store *store);
/* The key new blobs are sealed under (the next key during a rotation). */
const struct mfa_key *mfa_store_key(const struct mfa_store *store);
const struct mfa_keyring *mfa_store_keyring(const struct mfa_store *store);

/*
 * Key rotation, crash-safe at every step:
 *  1. mfa_store_rekey_begin() creates KEY_FILE.new (a fresh key) unless it
 *     exists, so an interrupted rotation resumes with the same new key.
 *     From then on every opened store reads with both keys and writes with
 *     the new one, so logins keep working throughout.
 *  2. mfa_store_rekey_user() re-seals one user's record (if any: a revoked
 *     user has only a state) and both state slots under the new key, under
 *     the user's lock (a no-op when already done).
 *  3. mfa_store_rekey_finish() renames KEY_FILE.new over KEY_FILE: only call
 *     it after every user was rekeyed, since the old key is then gone.
 * *created (may be NULL) tells whether begin made a new key or resumes.
 */
int mfa_store_rekey_begin(const struct mfa_config *cfg, bool *created,
    struct mfa_path_error *err);
int mfa_store_rekey_user(struct mfa_store *store, const char *user);
int mfa_store_rekey_finish(const struct mfa_config *cfg, struct mfa_path_error *err);

#endif
