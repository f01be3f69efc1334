/*
 * A second store backend, in this program only, proves two things:
 *  - a backend plugs in through store_backend.h (mfa_store_open_with) with
 *    no change to the callers: lib/auth.c's decisions run on it unchanged;
 *  - the retry contract of mfa_store_update()/mfa_store_change() (store.h)
 *    holds for every callback lib/auth.c passes: this backend behaves like a
 *    directory server with compare-and-swap writes that loses the first
 *    race of every update (fn runs, the swap fails, the state is re-read, fn
 *    runs again), optionally with another writer's change landing in between.
 * The decisions must come out as with one call: a fresh code accepted once
 * and then refused as a replay, one failure counted per wrong code, the lock
 * at the deny-th, and nothing the first call reported (step, recovery,
 * lock) surviving a retry that decided otherwise.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/auth.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"
#include "mfauth/store_backend.h"
#include "mfauth/totp.h"
#include "testutil.h"

#define NOW 1700000000ull
#define USER "clerk"
#define MEM_USERS 4

/* What "another writer" does to the stored state between the two calls of fn. */
typedef void (*interloper_fn)(struct mfa_state *st, void *arg);

struct mem_user {
	char name[MFA_USER_MAX + 1];
	bool has_record;
	struct mfa_record rec;
	struct mfa_state st;
	uint64_t version; /* what the compare-and-swap compares */
};

struct mem_store {
	struct mem_user u[MEM_USERS];
	size_t n;
	struct mfa_state decoy;
	uint64_t decoy_version;
	bool conflict;            /* lose the first swap of every update */
	interloper_fn interloper; /* applied once, at the first lost swap */
	void *interloper_arg;
	unsigned fn_calls; /* calls of fn over all updates */
	unsigned updates;  /* updates that wrote */
	bool state_noent;  /* read_state answers MFA_ERR_NOENT (a backend's "no such entry") */
};

/* The backend's only instance: open hands it out (one store per test). */
static struct mem_store mem;

static struct mem_user *mem_find(struct mem_store *m, const char *user)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->u[i].name, user) == 0)
			return &m->u[i];
	return NULL;
}

static struct mem_user *mem_add(struct mem_store *m, const char *user)
{
	struct mem_user *u = mem_find(m, user);

	if (u != NULL)
		return u;
	assert_true(m->n < MEM_USERS);
	u = &m->u[m->n++];
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", user);
	u->st.seq = 1;
	return u;
}

static int mem_open(const struct mfa_config *cfg, void **handle, struct mfa_path_error *err)
{
	(void)cfg;
	(void)err;
	*handle = &mem;
	return 0;
}

static void mem_close(void *handle)
{
	(void)handle;
}

static int mem_init(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	(void)cfg;
	(void)err;
	return 0;
}

static int mem_load(void *handle, const char *user, struct mfa_record *rec)
{
	struct mem_user *u = mem_find(handle, user);

	memset(rec, 0, sizeof(*rec));
	if (u == NULL || !u->has_record)
		return MFA_ERR_NOENT;
	*rec = u->rec;
	return 0;
}

static int mem_save(void *handle, const char *user, const struct mfa_record *rec)
{
	struct mem_user *u = mem_add(handle, user);

	u->rec = *rec;
	u->has_record = true;
	u->version++;
	return 0;
}

/*
 * One compare-and-swap write of a state: read (a copy and its version), let
 * fn decide, swap if the version is unchanged.  The first try of each update
 * loses when conflict is set; the interloper's change lands then.
 */
static int mem_cas_update(struct mem_store *m, struct mfa_state *stored, uint64_t *version,
    mfa_state_fn fn, void *ctx)
{
	bool lose = m->conflict;

	for (;;) {
		struct mfa_state copy = *stored;
		uint64_t seen = *version;
		int rc;

		m->fn_calls++;
		if ((rc = fn(&copy, ctx)) <= 0)
			return rc;
		if (lose) {
			lose = false;
			if (m->interloper != NULL) {
				m->interloper(stored, m->interloper_arg);
				m->interloper = NULL;
			}
			(*version)++; /* someone else wrote: the swap fails */
		}
		if (*version != seen)
			continue; /* re-read and decide again */
		copy.seq++;
		*stored = copy;
		(*version)++;
		m->updates++;
		return 0;
	}
}

static int mem_update(void *handle, const char *user, mfa_state_fn fn, void *ctx)
{
	struct mem_store *m = handle;
	struct mem_user *u = mem_find(m, user);

	if (u == NULL)
		return MFA_ERR_NOSTATE;
	return mem_cas_update(m, &u->st, &u->version, fn, ctx);
}

static int mem_change(void *handle, const char *user, bool create, mfa_change_fn fn, void *ctx)
{
	struct mem_store *m = handle;
	struct mem_user *u = mem_find(m, user);
	bool lose = m->conflict;

	if (u == NULL && !create)
		return MFA_ERR_NOENT;
	if (u == NULL)
		u = mem_add(m, user);
	for (;;) {
		struct mfa_record rec = u->rec;
		struct mfa_state st = u->st;
		uint64_t seen = u->version;
		int what;

		if (!u->has_record)
			memset(&rec, 0, sizeof(rec));
		m->fn_calls++;
		if ((what = fn(&rec, u->has_record, &st, ctx)) <= 0)
			return what;
		if (lose) {
			lose = false;
			if (m->interloper != NULL) {
				m->interloper(&u->st, m->interloper_arg);
				m->interloper = NULL;
			}
			u->version++;
		}
		if (u->version != seen)
			continue;
		if (what & MFA_CHANGE_STATE)
			u->st = st, u->st.seq++;
		if (what & MFA_CHANGE_RECORD)
			u->rec = rec, u->has_record = true;
		else if (what & MFA_CHANGE_REMOVE)
			u->has_record = false;
		u->version++;
		m->updates++;
		return 0;
	}
}

static int mem_read_state(void *handle, const char *user, struct mfa_state *st)
{
	struct mem_user *u = mem_find(handle, user);

	if (u == NULL)
		return MFA_ERR_NOSTATE;
	if (((struct mem_store *)handle)->state_noent)
		return MFA_ERR_NOENT;
	*st = u->st;
	return 0;
}

static int mem_remove(void *handle, const char *user)
{
	struct mem_user *u = mem_find(handle, user);

	if (u == NULL || !u->has_record)
		return MFA_ERR_NOENT;
	u->has_record = false;
	return 0;
}

/* Names in the order added (reversed on purpose): the dispatch sorts. */
static int mem_list(void *handle, bool states, char ***names, size_t *count, size_t *skipped)
{
	struct mem_store *m = handle;
	char **v = calloc(m->n + 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return MFA_ERR_NOMEM;
	for (size_t i = m->n; i-- > 0;)
		if (states || m->u[i].has_record)
			assert_non_null(v[n++] = strdup(m->u[i].name));
	*names = v;
	*count = n;
	if (skipped != NULL)
		*skipped = 0;
	return 0;
}

static void mem_load_decoy(void *handle)
{
	(void)handle;
}

static int mem_update_decoy(void *handle, mfa_state_fn fn, void *ctx)
{
	struct mem_store *m = handle;
	return mem_cas_update(m, &m->decoy, &m->decoy_version, fn, ctx);
}

static int mem_check(const struct mfa_config *cfg, void *handle, uint64_t now,
    const struct mfa_store_inspector *ins, void *ctx)
{
	struct mem_store *m = handle;

	(void)cfg;
	(void)now;
	for (size_t i = 0; m != NULL && i < m->n; i++) {
		struct mfa_store_item it = { .user = m->u[i].name,
			.has_record = m->u[i].has_record,
			.subject = "memory",
			.readable = true,
			.has_state = true,
			.state_subject = "memory",
			.state_readable = true };
		ins->item(&it, ctx);
	}
	return 0;
}

static int mem_rekey_begin(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err)
{
	(void)cfg;
	(void)err;
	if (how != NULL)
		*how = MFA_REKEY_RESUMED;
	return 0;
}

static int mem_rekey_user(void *handle, const char *user)
{
	return mem_find(handle, user) != NULL ? 0 : MFA_ERR_NOSTATE;
}

static int mem_rekey_finish(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	(void)cfg;
	(void)err;
	return 0;
}

static const struct mfa_store_ops mem_ops = {
	.name = "memory",
	.open = mem_open,
	.close = mem_close,
	.init = mem_init,
	.load = mem_load,
	.save = mem_save,
	.change = mem_change,
	.update = mem_update,
	.read_state = mem_read_state,
	.remove = mem_remove,
	.list = mem_list,
	.load_decoy = mem_load_decoy,
	.update_decoy = mem_update_decoy,
	.decoy_where = "memory decoy",
	.check = mem_check,
	.rekey_begin = mem_rekey_begin,
	.rekey_user = mem_rekey_user,
	.rekey_finish = mem_rekey_finish,
};

/* The clock the decision reads under the lock: AT(t) sets it and passes it. */
#define AT(t) tu_clock_at(t)

struct fx {
	struct mfa_config cfg;
	struct mfa_store *store;
	struct mfa_record rec;
};

static int fx_setup(void **state)
{
	struct mfa_path_error perr;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&mem, 0, sizeof(mem));
	mfa_config_defaults(&f->cfg);
	f->cfg.deny = 3;
	f->cfg.unlock_time = 0;
	memset(&perr, 0, sizeof(perr));
	assert_int_equal(mfa_store_open_with(&mem_ops, &f->cfg, &f->store, &perr), 0);
	tu_totp_record(&f->rec);
	assert_int_equal(mfa_store_save(f->store, USER, &f->rec), 0);
	mem.conflict = true;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	mfa_store_close(f->store);
	mfa_record_wipe(&f->rec);
	memset(&mem, 0, sizeof(mem));
	free(f);
	return 0;
}

static struct mfa_state state_of(const struct fx *f)
{
	struct mfa_state st;
	assert_int_equal(mfa_store_read_state(f->store, USER, &st), 0);
	return st;
}

/* Another login's success with the code of step (*arg) lands first. */
static void other_login_used(struct mfa_state *st, void *arg)
{
	st->last_step = *(const uint64_t *)arg;
	st->failures = 0;
}

/* Another login's recovery code use (id *arg) lands first. */
static void other_login_used_recovery(struct mfa_state *st, void *arg)
{
	st->recovery_used = *(const uint64_t *)arg;
}

/* Other logins' failures, which locked the user, land first. */
static void other_login_locked(struct mfa_state *st, void *arg)
{
	(void)arg;
	st->failures = 3;
	st->locked_until = MFA_LOCK_FOREVER;
}

static void test_fresh_code_accepted_once(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	tu_code_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW), NULL, &res),
	    0);
	assert_int_equal(mem.fn_calls, 2); /* the conflict made it retry */
	assert_int_equal(mem.updates, 1);
	assert_true(res.step == NOW / 30);
	assert_true(state_of(f).last_step == NOW / 30);
	assert_int_equal(state_of(f).failures, 0);
	/* The same code again: a replay, counted once. */
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW + 1), NULL,
	                     &res),
	    MFA_ERR_REPLAY);
	assert_int_equal(mem.fn_calls, 4);
	assert_int_equal(res.failures, 1);
	assert_true(res.step == 0);
	assert_int_equal(state_of(f).failures, 1);
	assert_true(state_of(f).last_step == NOW / 30);
}

static void test_wrong_codes_count_once_each_and_lock(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	for (unsigned i = 0; i < 3; i++) {
		tu_wrong_at(&f->rec, NOW, code);
		assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW + i),
		                     NULL, &res),
		    MFA_ERR_BADCODE);
		assert_int_equal(res.failures, i + 1); /* not 2 per attempt */
		assert_int_equal(state_of(f).failures, i + 1);
		assert_int_equal(res.locked_now, i == 2);
	}
	assert_int_equal(mem.fn_calls, 6);
	assert_true(state_of(f).locked_until == MFA_LOCK_FOREVER);
	/* Locked: even the right code is refused and nothing is counted. */
	tu_code_at(&f->rec, NOW + 90, code);
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW + 90), NULL,
	                     &res),
	    MFA_ERR_LOCKED);
	assert_int_equal(state_of(f).failures, 3);
	assert_false(res.locked_now);
}

/* The race lost to a login that used the same code: the retry refuses it. */
static void test_retry_sees_the_code_used_meanwhile(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	uint64_t step = NOW / 30;
	char code[9];

	mem.interloper = other_login_used;
	mem.interloper_arg = &step;
	tu_code_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW), NULL, &res),
	    MFA_ERR_REPLAY);
	assert_int_equal(mem.fn_calls, 2);
	assert_true(res.step == 0); /* the first call's acceptance did not survive */
	assert_int_equal(res.failures, 1);
	assert_int_equal(state_of(f).failures, 1);
}

/* The race lost to a lock: the retry refuses, with no leftover of the first call. */
static void test_retry_sees_the_lock_set_meanwhile(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	mem.interloper = other_login_locked;
	tu_wrong_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW), NULL, &res),
	    MFA_ERR_LOCKED);
	assert_int_equal(mem.fn_calls, 2);
	assert_false(res.locked_now); /* this attempt did not lock: the other did */
	assert_int_equal(res.lock_reason, MFA_LOCK_NONE);
	assert_int_equal(res.failures, 3);
	assert_int_equal(state_of(f).failures, 3);
	assert_int_equal(mem.updates, 0); /* a locked user's attempt writes nothing */
}

/* Security staff unlock the user meanwhile (mfauth unlock). */
static void staff_unlocked(struct mfa_state *st, void *arg)
{
	(void)arg;
	st->failures = 0;
	st->locked_until = 0;
}

/* The first call locks; after the unlock that won the race, the retry must not say so. */
static void test_retry_after_an_unlock_meanwhile(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	mem_find(&mem, USER)->st.failures = 2;
	mem_find(&mem, USER)->st.last_failure = NOW;
	mem.interloper = staff_unlocked;
	tu_wrong_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, code, AT(NOW + 1), NULL,
	                     &res),
	    MFA_ERR_BADCODE);
	assert_int_equal(mem.fn_calls, 2);
	assert_false(res.locked_now);
	assert_int_equal(res.lock_reason, MFA_LOCK_NONE);
	assert_int_equal(res.failures, 1);
	assert_true(state_of(f).locked_until == 0);
}

/* A recovery code used meanwhile: used_recovery from the first call must not stick. */
static void test_retry_sees_the_recovery_code_used_meanwhile(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char text[MFA_RECOVERY_TEXT_LEN];
	uint64_t id;

	assert_int_equal(mfa_recovery_issue(&f->rec.recovery, NOW, 3600, text), 0);
	id = f->rec.recovery.id;
	assert_int_equal(mfa_store_save(f->store, USER, &f->rec), 0);
	assert_int_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, text, AT(NOW + 1), NULL,
	                     &res),
	    0);
	assert_true(res.used_recovery);
	assert_true(state_of(f).recovery_used == id);
	/* Issued again; this time another login uses it while this one races. */
	assert_int_equal(mfa_recovery_issue(&f->rec.recovery, NOW + 2, 3600, text), 0);
	id = f->rec.recovery.id;
	assert_int_equal(mfa_store_save(f->store, USER, &f->rec), 0);
	mem.interloper = other_login_used_recovery;
	mem.interloper_arg = &id;
	assert_int_not_equal(mfa_auth_code(f->store, &f->cfg, USER, &f->rec, text, AT(NOW + 3),
	                         NULL, &res),
	    0);
	assert_false(res.used_recovery);
	assert_int_equal(res.failures, 1);
	mfa_wipe(text, sizeof(text));
}

/* The helper's reservation, then its settlement: one failure, not two. */
static void test_reservation_counts_once(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	assert_int_equal(mfa_auth_reserve(f->store, &f->cfg, USER, AT(NOW), NULL, &res), 0);
	assert_int_equal(state_of(f).failures, 1);
	tu_wrong_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code_reserved(f->store, &f->cfg, USER, &f->rec, code, AT(NOW),
	                     NULL, &res),
	    MFA_ERR_BADCODE);
	assert_int_equal(state_of(f).failures, 1);
	assert_int_equal(mfa_auth_reserve(f->store, &f->cfg, USER, AT(NOW + 1), NULL, &res), 0);
	tu_code_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code_reserved(f->store, &f->cfg, USER, &f->rec, code, AT(NOW + 1),
	                     NULL, &res),
	    0);
	assert_int_equal(state_of(f).failures, 0);
	assert_int_equal(mem.fn_calls, 8);
}

static void test_card_result_counts_once(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;

	assert_int_equal(mfa_auth_card_result(f->store, &f->cfg, USER, MFA_ERR_BADPIN, AT(NOW),
	                     NULL, &res),
	    MFA_ERR_BADPIN);
	assert_int_equal(res.failures, 1);
	assert_int_equal(state_of(f).failures, 1);
	assert_int_equal(mfa_auth_card_result(f->store, &f->cfg, USER, 0, AT(NOW + 1), NULL, &res),
	    0);
	assert_int_equal(state_of(f).failures, 0);
	assert_int_equal(mem.fn_calls, 4);
}

/* An enrollment-like change: rec and st only, from ctx's inputs (the contract). */
static int enroll_like(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	const struct mfa_record *want = ctx;

	if (!exists)
		rec->created_at = 7;
	rec->totp = want->totp;
	st->last_step = 5;
	return MFA_CHANGE_RECORD | MFA_CHANGE_STATE;
}

static void test_change_through_the_dispatch(void **state)
{
	struct fx *f = *state;
	struct mfa_record rec;

	assert_int_equal(mfa_store_change(f->store, "bob", false, enroll_like, &f->rec),
	    MFA_ERR_NOENT);
	assert_int_equal(mfa_store_change(f->store, "bob", true, enroll_like, &f->rec), 0);
	assert_int_equal(mem.fn_calls, 2);
	assert_int_equal(mem.updates, 1);
	assert_int_equal(mfa_store_load(f->store, "bob", &rec), 0);
	assert_true(rec.created_at == 7);
	assert_memory_equal(rec.totp.secret, f->rec.totp.secret, 20);
	mfa_record_wipe(&rec);
	assert_true(mem_find(&mem, "bob")->st.last_step == 5);
}

/* Unknown users spend the decoy through the backend; the dispatch sorts lists. */
static void test_decoy_and_list_through_the_dispatch(void **state)
{
	struct fx *f = *state;
	char **names = NULL;
	size_t n = 0, skipped = 1;
	char code[9];

	tu_code_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_decoy(f->store, &f->cfg, code, NOW), 0);
	assert_int_equal(mem.fn_calls, 2);
	assert_true(mem.decoy.last_failure == NOW);
	assert_string_equal(mfa_store_decoy_where(f->store), "memory decoy");
	assert_int_equal(mfa_store_save(f->store, "alice", &f->rec), 0);
	assert_int_equal(mfa_store_list(f->store, &names, &n, &skipped), 0);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 0);
	assert_string_equal(names[0], "alice");
	assert_string_equal(names[1], USER);
	mfa_store_list_free(names, n);
	assert_null(mfa_store_handle(f->store, NULL));
	assert_ptr_equal(mfa_store_handle(f->store, &mem_ops), &mem);
}

/*
 * The account step: a record whose state the backend reports missing with
 * MFA_ERR_NOENT is a store error, never "not enrolled" (which the module and
 * the helper turn into PAM_IGNORE or success: no lock enforced).
 */
static void test_account_state_missing_is_not_unenrolled(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mfa_auth_account(f->store, &f->cfg, USER, NOW), 0);
	mem.state_noent = true;
	assert_int_equal(mfa_auth_account(f->store, &f->cfg, USER, NOW), MFA_ERR_NOSTATE);
	assert_int_equal(mfa_auth_account(f->store, &f->cfg, "nobody", NOW), MFA_ERR_NOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_code_accepted_once, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_codes_count_once_each_and_lock, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_sees_the_code_used_meanwhile, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_sees_the_lock_set_meanwhile, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_an_unlock_meanwhile, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_sees_the_recovery_code_used_meanwhile,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reservation_counts_once, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_card_result_counts_once, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_change_through_the_dispatch, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_decoy_and_list_through_the_dispatch, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_account_state_missing_is_not_unenrolled,
		    fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
