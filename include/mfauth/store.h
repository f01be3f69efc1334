/*
 * The per-user store: what every caller (module, helper, tool commands, the
 * auth decisions) uses.  It is an interface: a backend (struct
 * mfa_store_ops, store_backend.h) implements it, chosen when the store is
 * opened; today the only backend is "files" (store_files.h: one directory,
 * a sealed record and a two-slot state file per user, flock()).  Nothing
 * here names a file, a directory fd or a lock: a directory-server backend
 * with compare-and-swap updates implements the same functions.
 *
 * Every backend keeps, per user, a sealed record (mfa_record) and a state
 * (mfa_state) that outlives the record when the user is revoked (its replay
 * watermark), plus one decoy state of nobody.
 */
#ifndef MFAUTH_STORE_H
#define MFAUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mfauth/conf.h"
#include "mfauth/record.h"
#include "mfauth/safefile.h"
#include "mfauth/state.h"
#include "mfauth/store_names.h"

struct mfa_store;

/*
 * Open the store named by cfg with the backend cfg selects (store.c,
 * backend_for(): today always "files").  On failure err says what and why.
 */
int mfa_store_open(const struct mfa_config *cfg, struct mfa_store **out,
    struct mfa_path_error *err);
void mfa_store_close(struct mfa_store *store);

/*
 * Create an empty store and its key for `mfauth init` (files: the directory,
 * 0700, and the key file, 0400).  MFA_ERR_EXISTS if the key exists (never
 * overwritten).
 */
int mfa_store_init(const struct mfa_config *cfg, struct mfa_path_error *err);

/* Load user's record.  MFA_ERR_NOENT if the user has none. */
int mfa_store_load(struct mfa_store *store, const char *user, struct mfa_record *rec);

/*
 * Save user's record atomically.  Creates the state first when missing (so a
 * record never exists without a state).  Holds the user's lock.
 */
int mfa_store_save(struct mfa_store *store, const char *user, const struct mfa_record *rec);

/*
 * The retry contract of mfa_store_change() and mfa_store_update(): a backend
 * MAY call fn more than once for one call (a directory-server backend
 * re-reads and calls fn again after a compare-and-swap conflict; the files
 * backend calls it once, behind its lock).  Only the last call's result is
 * written.  So fn must decide from its arguments and ctx's inputs only, and
 * have no effect but on what it is handed (rec, st) and on ctx's outputs,
 * each of which it sets afresh on every call (an output left over from an
 * earlier call must not survive a later one).  Reading the clock is fine:
 * a retry reads it again, as a later login would.
 */

/*
 * Change user's record and state in one step under the user's lock
 * (enrollment, recovery codes, revoke), so that two staff commands at once
 * never lose an update and a login never sees the record without the state
 * that goes with it.  fn gets the current record (all zeros and exists =
 * false when the user has none) and state; it returns a mask of what to
 * write (MFA_CHANGE_STATE, and MFA_CHANGE_RECORD or MFA_CHANGE_REMOVE), 0 to
 * change nothing, or a negative error that is returned.  The state is
 * durable before the record is replaced or removed: a login that reads the
 * new record finds the new state (a raised replay watermark) behind the
 * lock.  With create, a user without a state gets one first (as
 * mfa_store_save does); without, a user with no record and no state is
 * MFA_ERR_NOENT and nothing is created.  A record that exists but does not
 * open is returned as its error, never handed to fn (never replaced).
 * fn follows the retry contract above.
 */
#define MFA_CHANGE_STATE 1
#define MFA_CHANGE_RECORD 2
#define MFA_CHANGE_REMOVE 4
typedef int (*mfa_change_fn)(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx);
int mfa_store_change(struct mfa_store *store, const char *user, bool create, mfa_change_fn fn,
    void *ctx);

/* Remove user's record and then state.  MFA_ERR_NOENT if not enrolled. */
int mfa_store_remove(struct mfa_store *store, const char *user);

/*
 * Read-modify-write of user's state under the exclusive lock.  fn receives
 * the current state and may change it; it returns 1 to write the change,
 * 0 to leave the state as it was, or a negative error to abort.  A write is
 * durable (files: fdatasync) before this returns 0.  Returns fn's negative
 * error, MFA_ERR_NOSTATE if the user has no state, or a store error.  fn
 * follows the retry contract above: it may be called more than once.
 */
typedef int (*mfa_state_fn)(struct mfa_state *st, void *ctx);
int mfa_store_update(struct mfa_store *store, const char *user, mfa_state_fn fn, void *ctx);

/*
 * The decoy: a state of nobody, read and written by logins of unknown users
 * so that they cost what an enrolled user's wrong code costs (no
 * enumeration by timing); created on first use, never holds anything of
 * value.  mfa_store_load_decoy() reads it as mfa_store_load() reads a
 * record; errors are ignored.  mfa_store_update_decoy() is
 * mfa_store_update() on the decoy: fn sees its (meaningless) state, and a
 * state that does not open is started over rather than reported.  Returns
 * 0 or a store error (an unsafe decoy file is MFA_ERR_UNSAFE, as any store
 * file).  mfa_store_decoy_where() names the decoy for an audit line's
 * detail (files: ".decoy"); never NULL.
 */
void mfa_store_load_decoy(struct mfa_store *store);
int mfa_store_update_decoy(struct mfa_store *store, mfa_state_fn fn, void *ctx);
const char *mfa_store_decoy_where(const struct mfa_store *store);

/*
 * Read user's current state under a shared lock.  MFA_ERR_NOSTATE if the
 * user has none (never MFA_ERR_NOENT: callers read that as "not enrolled").
 */
int mfa_store_read_state(struct mfa_store *store, const char *user, struct mfa_state *st);

/*
 * The enrolled user names, sorted; free with mfa_store_list_free().
 * Entries whose names do not decode are skipped and counted in *skipped.
 */
int mfa_store_list(struct mfa_store *store, char ***names, size_t *count, size_t *skipped);
void mfa_store_list_free(char **names, size_t count);
/*
 * The user names that have a state file, sorted (a superset of the enrolled:
 * a revoked user keeps the state, for its replay watermark); names that do
 * not decode are left out.  Free with mfa_store_list_free().
 */
int mfa_store_list_states(struct mfa_store *store, char ***names, size_t *count);

/*
 * Key rotation, crash-safe at every step:
 *  1. mfa_store_rekey_begin() makes the next key the one this machine seals
 *     under (files: KEY_FILE.new): it resumes with an existing one, so an
 *     interrupted rotation resumes with the same key; or promotes the key
 *     mfa_store_rekey_stage() staged; or creates one (the files backend
 *     only: the directory backend refuses without a staged key, MFA_ERR_NOENT).
 *     From then on every store opened here reads with both keys and writes
 *     with the new one, so logins keep working throughout.
 *  2. mfa_store_rekey_user() re-seals one user's record (if any: a revoked
 *     user has only a state) and state under the new key, under the user's
 *     lock or by compare-and-swap (a no-op when already done).  user NULL:
 *     the store's own values (the directory's decoy entry; files: nothing).
 *  3. mfa_store_rekey_finish() makes the next key the key (files: renames
 *     KEY_FILE.new over KEY_FILE): only call it after every user was
 *     rekeyed, since the old key is then gone.
 * *how (may be NULL) tells what begin did.
 *
 * A fleet (the directory backend: one key on many machines) adds two steps
 * around these, so that no machine ever meets a value it cannot open:
 *  0. mfa_store_rekey_stage() creates KEY_FILE.next, a key every machine
 *     reads with but none seals under; it is copied to every machine before
 *     step 1 (which then promotes it on the machine running the rotation).
 *  4. on every other machine, after step 3: mfa_store_rekey_pending() for
 *     every user (and NULL) answers 0, then mfa_store_rekey_retire() renames
 *     KEY_FILE.next over KEY_FILE.
 * *created (may be NULL) tells whether stage made a new key (false: it was
 * there already).  Stage refuses (MFA_ERR_EXISTS) while KEY_FILE.new exists;
 * retire refuses while KEY_FILE.new exists (MFA_ERR_EXISTS: this machine
 * runs the rotation, it ends with finish) or without KEY_FILE.next
 * (MFA_ERR_NOENT); both say so in err->msg.  Retire with check_only checks
 * just that, and renames nothing.
 */
enum mfa_rekey_start {
	MFA_REKEY_CREATED,  /* a new next key */
	MFA_REKEY_PROMOTED, /* the staged key became the next key */
	MFA_REKEY_RESUMED,  /* the next key of an interrupted run */
};
int mfa_store_rekey_begin(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err);
int mfa_store_rekey_user(struct mfa_store *store, const char *user);
int mfa_store_rekey_finish(const struct mfa_config *cfg, struct mfa_path_error *err);
int mfa_store_rekey_stage(const struct mfa_config *cfg, bool *created, struct mfa_path_error *err);
int mfa_store_rekey_retire(const struct mfa_config *cfg, bool check_only,
    struct mfa_path_error *err);

/*
 * Whether user's values (NULL: the store's own, the decoy) are all sealed
 * under the key that stays after the rotation (the ring's last: the staged
 * or next key): 0 if so (or the user has none; for NULL, no decoy entry is
 * MFA_ERR_NOENT), MFA_ERR_KEYID if one is still under another key, another
 * error if they cannot be read.  The
 * directory backend only (files: MFA_ERR_INVAL).
 */
int mfa_store_rekey_pending(struct mfa_store *store, const char *user);

/*
 * `mfauth check` of the store itself: the backend inspects what it holds and
 * says what it finds, without writing anything.  It calls ins->finding for
 * each store-level problem (or all-clear) it sees, and ins->item for each
 * user it holds data for, in a stable order, so that the caller checks the
 * user's record and state through mfa_store_load()/mfa_store_read_state().
 * store may be NULL (the store cannot be opened): the backend then inspects
 * what it can from cfg alone, and nothing is decrypted.  Returns 0, or an
 * error when there was nothing to inspect at all (the caller has already
 * said why, e.g. a missing store directory).  Pointers in a finding or an
 * item live until the callback returns.
 */
enum mfa_store_sev {
	MFA_STORE_OK,
	MFA_STORE_INFO,
	MFA_STORE_WARNING,
	MFA_STORE_ERROR,
	MFA_STORE_CRITICAL
};
struct mfa_store_finding {
	enum mfa_store_sev sev;
	const char *what;    /* the part checked: "store", "record" or "state" */
	const char *subject; /* where, in the backend's terms (files: a path) */
	const char *detail;  /* one line, translated */
};
struct mfa_store_item {
	const char *user;
	bool has_record;     /* false: a state without a record (a revoked user) */
	const char *subject; /* where the record is (or the state, without one) */
	bool readable;       /* passed the backend's own checks: worth loading */
	bool has_state;
	const char *state_subject;
	bool state_readable;
	/*
	 * The key ids the state and the record claim to be sealed under (not
	 * authenticated), MFA_KEYID_LEN bytes; NULL when unknown (no such value,
	 * not a value of ours, or a backend that does not read them: files).
	 */
	const uint8_t *state_keyid;
	const uint8_t *record_keyid;
};
/*
 * store_key (may be NULL) is called at most once, with the key id the
 * store's own values claim (the directory's decoy entry: re-sealed last in
 * a rotation, so the key the fleet is on); not called when the backend has
 * no such value (files: its decoy is never re-sealed) or cannot read it.
 */
struct mfa_store_inspector {
	void (*finding)(const struct mfa_store_finding *f, void *ctx);
	void (*item)(const struct mfa_store_item *it, void *ctx);
	void (*store_key)(const uint8_t *keyid, void *ctx);
};
int mfa_store_check(const struct mfa_config *cfg, struct mfa_store *store, uint64_t now,
    const struct mfa_store_inspector *ins, void *ctx);

#endif
