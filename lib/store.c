/*
 * The store's dispatch (store.h): each mfa_store_* call goes to the
 * operation of the backend the store was opened with (store_backend.h).
 * Only what every backend shares lives here: the choice of backend, the
 * sorting of listed names and their freeing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mfauth/err.h"
#include "mfauth/store_backend.h"
#include "mfauth/store_files.h"
#include "mfauth/store_ldap.h"

struct mfa_store {
	const struct mfa_store_ops *ops;
	void *handle;
};

/* The one place a backend is chosen: the `store =` setting (conf.h). */
static const struct mfa_store_ops *backend_for(const struct mfa_config *cfg)
{
	if (cfg->store == MFA_BACKEND_LDAP)
		return &mfa_store_ldap_ops;
	return &mfa_store_files_ops;
}

int mfa_store_open_with(const struct mfa_store_ops *ops, const struct mfa_config *cfg,
    struct mfa_store **out, struct mfa_path_error *err)
{
	struct mfa_store *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return MFA_ERR_NOMEM;
	s->ops = ops;
	if ((rc = ops->open(cfg, &s->handle, err)) != 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int mfa_store_open(const struct mfa_config *cfg, struct mfa_store **out,
    struct mfa_path_error *err)
{
	return mfa_store_open_with(backend_for(cfg), cfg, out, err);
}

void mfa_store_close(struct mfa_store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->handle);
	free(s);
}

void *mfa_store_handle(const struct mfa_store *s, const struct mfa_store_ops *ops)
{
	return s != NULL && s->ops == ops ? s->handle : NULL;
}

int mfa_store_init(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	return backend_for(cfg)->init(cfg, err);
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
static int list(struct mfa_store *s, bool states, char ***names, size_t *count,
    size_t *skipped)
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

int mfa_store_rekey_begin(const struct mfa_config *cfg, bool *created,
    struct mfa_path_error *err)
{
	return backend_for(cfg)->rekey_begin(cfg, created, err);
}

int mfa_store_rekey_user(struct mfa_store *s, const char *user)
{
	return s->ops->rekey_user(s->handle, user);
}

int mfa_store_rekey_finish(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	return backend_for(cfg)->rekey_finish(cfg, err);
}

int mfa_store_check(const struct mfa_config *cfg, struct mfa_store *s, uint64_t now,
    const struct mfa_store_inspector *ins, void *ctx)
{
	if (s != NULL)
		return s->ops->check(cfg, s->handle, now, ins, ctx);
	return backend_for(cfg)->check(cfg, NULL, now, ins, ctx);
}
