/*
 * The store's dispatch (store.h): each mfa_store_* call goes to the
 * operation of the backend the store was opened with (store_backend.h).
 * Only what every backend shares lives here: the choice of backend (and,
 * for store = ldap, the loading of its module), the sorting of listed names
 * and their freeing.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "mfauth/store_backend.h"
#include "mfauth/store_files.h"
#include "mfauth/store_keys.h"

/* What the directory backend's module exports (store_ldap.h; lib/mfauth_store_ldap.map). */
#define LDAP_OPS_SYMBOL "mfa_store_ldap_ops"

struct mfa_store {
	const struct mfa_store_ops *ops;
	void *handle;
	void *module; /* dlopen handle of the backend's module, or NULL */
};

/*
 * The directory backend lives in a module of its own (ldap_module), so that
 * libldap, GnuTLS and libsasl2 are loaded into a PAM host only when the
 * configuration asks for the directory.  The file must be as trusted as the
 * key (invariant 5: root-owned, not writable by others, on a path only root
 * can change), so that what is loaded into root's process is root's choice.
 * RTLD_LOCAL: its symbols (its own copy of the core) stay its own;
 * RTLD_NODELETE: once loaded it stays, libldap and GnuTLS are not made to be
 * unloaded from a host.  *module is for dlclose() (a reference count).
 */
static int load_ldap_module(const struct mfa_config *cfg, const struct mfa_store_ops **ops,
    void **module, struct mfa_path_error *err)
{
	struct mfa_path_error scratch;
	const char *why;
	int fd;

	if (err == NULL)
		err = &scratch;
	if ((fd = mfa_open_trusted(cfg->ldap_module, O_RDONLY, false, err)) < 0)
		return fd == MFA_ERR_UNSAFE ? fd : MFA_ERR_CONFIG;
	close(fd);
	*module = dlopen(cfg->ldap_module, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (*module == NULL) {
		why = dlerror();
		snprintf(err->msg, sizeof(err->msg), "%s: cannot load: %s", cfg->ldap_module,
		    why != NULL ? why : "?");
		return MFA_ERR_CONFIG;
	}
	*ops = dlsym(*module, LDAP_OPS_SYMBOL);
	if (*ops == NULL || strcmp((*ops)->name, "ldap") != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: not mfauth's directory backend",
		    cfg->ldap_module);
		dlclose(*module);
		*module = NULL;
		return MFA_ERR_CONFIG;
	}
	return 0;
}

/*
 * The one place a backend is chosen: the `store =` setting (conf.h).
 * *module is the backend module's dlopen handle to release with
 * release_backend(), or NULL.
 */
static int backend_for(const struct mfa_config *cfg, const struct mfa_store_ops **ops,
    void **module, struct mfa_path_error *err)
{
	*module = NULL;
	if (cfg->store == MFA_BACKEND_LDAP)
		return load_ldap_module(cfg, ops, module, err);
	*ops = &mfa_store_files_ops;
	return 0;
}

static void release_backend(void *module)
{
	if (module != NULL)
		dlclose(module);
}

static int open_with(const struct mfa_store_ops *ops, void *module, const struct mfa_config *cfg,
    struct mfa_store **out, struct mfa_path_error *err)
{
	struct mfa_store *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL) {
		release_backend(module);
		return MFA_ERR_NOMEM;
	}
	s->ops = ops;
	s->module = module;
	if ((rc = ops->open(cfg, &s->handle, err)) != 0) {
		release_backend(module);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int mfa_store_open_with(const struct mfa_store_ops *ops, const struct mfa_config *cfg,
    struct mfa_store **out, struct mfa_path_error *err)
{
	return open_with(ops, NULL, cfg, out, err);
}

int mfa_store_open(const struct mfa_config *cfg, struct mfa_store **out, struct mfa_path_error *err)
{
	const struct mfa_store_ops *ops = NULL;
	void *module = NULL;
	int rc;

	if ((rc = backend_for(cfg, &ops, &module, err)) != 0)
		return rc;
	return open_with(ops, module, cfg, out, err);
}

void mfa_store_close(struct mfa_store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->handle);
	release_backend(s->module);
	free(s);
}

void *mfa_store_handle(const struct mfa_store *s, const struct mfa_store_ops *ops)
{
	return s != NULL && s->ops == ops ? s->handle : NULL;
}

int mfa_store_init(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	const struct mfa_store_ops *ops = NULL;
	void *module = NULL;
	int rc;

	if ((rc = backend_for(cfg, &ops, &module, err)) != 0)
		return rc;
	rc = ops->init(cfg, err);
	release_backend(module);
	return rc;
}

int mfa_store_load(struct mfa_store *s, const char *user, struct mfa_record *rec)
{
	return s->ops->load(s->handle, user, rec);
}

int mfa_store_save(struct mfa_store *s, const char *user, const struct mfa_record *rec)
{
	return s->ops->save(s->handle, user, rec);
}

int mfa_store_change(struct mfa_store *s, const char *user, bool create, mfa_change_fn fn,
    void *ctx)
{
	return s->ops->change(s->handle, user, create, fn, ctx);
}

int mfa_store_remove(struct mfa_store *s, const char *user)
{
	return s->ops->remove(s->handle, user);
}

int mfa_store_update(struct mfa_store *s, const char *user, mfa_state_fn fn, void *ctx)
{
	return s->ops->update(s->handle, user, fn, ctx);
}

void mfa_store_load_decoy(struct mfa_store *s)
{
	s->ops->load_decoy(s->handle);
}

int mfa_store_update_decoy(struct mfa_store *s, mfa_state_fn fn, void *ctx)
{
	return s->ops->update_decoy(s->handle, fn, ctx);
}

const char *mfa_store_decoy_where(const struct mfa_store *s)
{
	return s->ops->decoy_where;
}

int mfa_store_read_state(struct mfa_store *s, const char *user, struct mfa_state *st)
{
	return s->ops->read_state(s->handle, user, st);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted here, so that every backend lists in the same order. */
static int list(struct mfa_store *s, bool states, char ***names, size_t *count, size_t *skipped)
{
	int rc = s->ops->list(s->handle, states, names, count, skipped);

	if (rc == 0 && *count > 1)
		qsort(*names, *count, sizeof(**names), cmp_names);
	return rc;
}

int mfa_store_list(struct mfa_store *s, char ***names, size_t *count, size_t *skipped)
{
	return list(s, false, names, count, skipped);
}

int mfa_store_list_states(struct mfa_store *s, char ***names, size_t *count)
{
	return list(s, true, names, count, NULL);
}

void mfa_store_list_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int mfa_store_rekey_begin(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err)
{
	const struct mfa_store_ops *ops = NULL;
	void *module = NULL;
	int rc;

	if ((rc = backend_for(cfg, &ops, &module, err)) != 0)
		return rc;
	rc = ops->rekey_begin(cfg, how, err);
	release_backend(module);
	return rc;
}

int mfa_store_rekey_user(struct mfa_store *s, const char *user)
{
	return s->ops->rekey_user(s->handle, user);
}

int mfa_store_rekey_pending(struct mfa_store *s, const char *user)
{
	return s->ops->rekey_pending != NULL ?
	    s->ops->rekey_pending(s->handle, user) :
	    MFA_ERR_INVAL;
}

/* Stage and retire are the key file's alone, whichever the backend. */
int mfa_store_rekey_stage(const struct mfa_config *cfg, bool *created, struct mfa_path_error *err)
{
	return mfa_store_keys_stage(cfg, created, err);
}

int mfa_store_rekey_retire(const struct mfa_config *cfg, bool check_only,
    struct mfa_path_error *err)
{
	return mfa_store_keys_retire(cfg, check_only, err);
}

int mfa_store_rekey_finish(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	const struct mfa_store_ops *ops = NULL;
	void *module = NULL;
	int rc;

	if ((rc = backend_for(cfg, &ops, &module, err)) != 0)
		return rc;
	rc = ops->rekey_finish(cfg, err);
	release_backend(module);
	return rc;
}

int mfa_store_check(const struct mfa_config *cfg, struct mfa_store *s, uint64_t now,
    const struct mfa_store_inspector *ins, void *ctx)
{
	struct mfa_path_error err = { "" };
	const struct mfa_store_ops *ops = NULL;
	void *module = NULL;
	int rc;

	if (s != NULL)
		return s->ops->check(cfg, s->handle, now, ins, ctx);
	/* No store: a backend whose module does not load has nothing more to say than open did. */
	if (backend_for(cfg, &ops, &module, &err) != 0)
		return MFA_ERR_CONFIG;
	rc = ops->check(cfg, NULL, now, ins, ctx);
	release_backend(module);
	return rc;
}
