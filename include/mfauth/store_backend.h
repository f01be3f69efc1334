/*
 * What a store backend implements (store.h is what callers use).  The
 * dispatch in lib/store.c turns each mfa_store_* call into a call of the
 * backend's operation on its own handle; it selects the backend from the
 * configuration in one place (store.c, backend_for()).  A backend needs no
 * change to the module, the helper or the tool's commands.
 *
 * Every operation has the contract of the mfa_store_* function of the same
 * name in store.h, with the backend's handle (from open) in place of the
 * store; "list" is mfa_store_list() (states false) or
 * mfa_store_list_states() (states true, skipped NULL) and may return the
 * names in any order (the dispatch sorts them).  The retry contract of
 * change/update (store.h) is what lets a backend without locks call fn
 * again after a compare-and-swap conflict.
 */
#ifndef MFAUTH_STORE_BACKEND_H
#define MFAUTH_STORE_BACKEND_H

#include "mfauth/store.h"

struct mfa_store_ops {
	const char *name; /* the backend's name, as a config would select it */
	int (*open)(const struct mfa_config *cfg, void **handle, struct mfa_path_error *err);
	void (*close)(void *handle);
	int (*init)(const struct mfa_config *cfg, struct mfa_path_error *err);
	int (*load)(void *handle, const char *user, struct mfa_record *rec);
	int (*save)(void *handle, const char *user, const struct mfa_record *rec);
	int (*change)(void *handle, const char *user, bool create, mfa_change_fn fn, void *ctx);
	int (*update)(void *handle, const char *user, mfa_state_fn fn, void *ctx);
	int (*read_state)(void *handle, const char *user, struct mfa_state *st);
	int (*remove)(void *handle, const char *user);
	int (*list)(void *handle, bool states, char ***names, size_t *count, size_t *skipped);
	void (*load_decoy)(void *handle);
	int (*update_decoy)(void *handle, mfa_state_fn fn, void *ctx);
	const char *decoy_where;
	/* handle is NULL when the store could not be opened (store.h, mfa_store_check). */
	int (*check)(const struct mfa_config *cfg, void *handle, uint64_t now,
	    const struct mfa_store_inspector *ins, void *ctx);
	int (*rekey_begin)(const struct mfa_config *cfg, enum mfa_rekey_start *how,
	    struct mfa_path_error *err);
	int (*rekey_user)(void *handle, const char *user);
	int (*rekey_finish)(const struct mfa_config *cfg, struct mfa_path_error *err);
	/* NULL: the backend has no fleet to rotate keys across (store.h). */
	int (*rekey_pending)(void *handle, const char *user);
};

/*
 * mfa_store_open() with a given backend instead of the configured one: for
 * tests that put a backend of their own (in memory, with forced conflicts)
 * under the real callers.  ops must outlive the store.
 */
int mfa_store_open_with(const struct mfa_store_ops *ops, const struct mfa_config *cfg,
    struct mfa_store **out, struct mfa_path_error *err);

/* The backend's handle when store was opened with ops, else NULL. */
void *mfa_store_handle(const struct mfa_store *store, const struct mfa_store_ops *ops);

#endif
