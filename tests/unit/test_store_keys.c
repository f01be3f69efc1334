/*
 * Unit tests for lib/store_keys.c: the key ring a store opens with and the
 * rotation's key files (store_keys.h).
 *
 * key_file alone: one key, written with.  key_file.new (a rotation here):
 * read with both, written with the new one.  key_file.next (staged): read
 * with both, written with key_file's -- the rule that lets a fleet copy a
 * new key everywhere before anything is sealed under it.  Begin resumes
 * .new, promotes .next (one rename) or creates .new, and with need_stage
 * refuses without either; stage refuses during a rotation and is
 * idempotent; retire checks (check_only) or renames .next over key_file,
 * refusing during a rotation or without a staged key.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mfauth/err.h"
#include "mfauth/store_keys.h"
#include "testutil.h"

static int setup(void **state)
{
	struct tu_sandbox *sb = calloc(1, sizeof(*sb));

	assert_non_null(sb);
	tu_sandbox_setup(sb);
	*state = sb;
	return 0;
}

static int teardown(void **state)
{
	struct tu_sandbox *sb = *state;

	tu_sandbox_teardown(sb);
	free(sb);
	return 0;
}

/* path of key_file + suffix, in a static buffer. */
static const char *beside(const struct tu_sandbox *sb, const char *suffix)
{
	static char path[4200];

	snprintf(path, sizeof(path), "%s%s", sb->cfg.key_file, suffix);
	return path;
}

static bool exists(const struct tu_sandbox *sb, const char *suffix)
{
	return access(beside(sb, suffix), F_OK) == 0;
}

/* The key id in the file at key_file + suffix. */
static void id_of(const struct tu_sandbox *sb, const char *suffix, uint8_t id[MFA_KEYID_LEN])
{
	struct mfa_path_error err;
	struct mfa_key key;

	assert_int_equal(mfa_key_load(beside(sb, suffix), &key, &err), 0);
	memcpy(id, key.id, MFA_KEYID_LEN);
	mfa_key_wipe(&key);
}

/* A fresh key at key_file + suffix. */
static void make_key(const struct tu_sandbox *sb, const char *suffix)
{
	struct mfa_path_error err;
	struct mfa_key key;

	assert_int_equal(mfa_key_create(beside(sb, suffix), &key, &err), 0);
	mfa_key_wipe(&key);
}

/*
 * A loaded ring with the keys it points into: the ring holds pointers to
 * keys[], so both live together (one test's ring read a key array that had
 * gone out of scope: it passed unoptimised and failed under ASan).
 */
struct loaded {
	struct mfa_key keys[MFA_RING_MAX];
	struct mfa_keyring ring;
};

/* Load the ring into *l; write and last get the write key's and the last key's ids. */
static int load(const struct tu_sandbox *sb, struct loaded *l, uint8_t write[MFA_KEYID_LEN],
    uint8_t last[MFA_KEYID_LEN])
{
	struct mfa_path_error err = { "" };
	int rc = mfa_store_keys_load(&sb->cfg, l->keys, &l->ring, &err);

	if (rc == 0) {
		memcpy(write, mfa_store_keys_write_key(&l->ring)->id, MFA_KEYID_LEN);
		memcpy(last, mfa_store_keys_last_key(&l->ring)->id, MFA_KEYID_LEN);
	}
	return rc;
}

static void test_one_key(void **state)
{
	struct tu_sandbox *sb = *state;
	uint8_t cur[MFA_KEYID_LEN], w[MFA_KEYID_LEN], l[MFA_KEYID_LEN];
	struct loaded ld;

	id_of(sb, "", cur);
	assert_int_equal(load(sb, &ld, w, l), 0);
	assert_int_equal(ld.ring.n, 1);
	assert_false(ld.ring.staged);
	assert_memory_equal(w, cur, MFA_KEYID_LEN);
	assert_memory_equal(l, cur, MFA_KEYID_LEN);
}

static void test_new_key_is_written_with(void **state)
{
	struct tu_sandbox *sb = *state;
	uint8_t cur[MFA_KEYID_LEN], next[MFA_KEYID_LEN], w[MFA_KEYID_LEN], l[MFA_KEYID_LEN];
	struct loaded ld;

	make_key(sb, ".new");
	id_of(sb, "", cur);
	id_of(sb, ".new", next);
	assert_int_equal(load(sb, &ld, w, l), 0);
	assert_int_equal(ld.ring.n, 2);
	assert_false(ld.ring.staged);
	assert_memory_equal(w, next, MFA_KEYID_LEN);
	assert_memory_equal(l, next, MFA_KEYID_LEN);
	assert_non_null(mfa_keyring_find(&ld.ring, cur));
}

static void test_staged_key_is_read_never_written_with(void **state)
{
	struct tu_sandbox *sb = *state;
	uint8_t cur[MFA_KEYID_LEN], staged[MFA_KEYID_LEN], w[MFA_KEYID_LEN], l[MFA_KEYID_LEN];
	struct loaded ld;

	make_key(sb, ".next");
	id_of(sb, "", cur);
	id_of(sb, ".next", staged);
	assert_int_equal(load(sb, &ld, w, l), 0);
	assert_int_equal(ld.ring.n, 2);
	assert_true(ld.ring.staged);
	assert_memory_equal(w, cur, MFA_KEYID_LEN);
	assert_memory_equal(l, staged, MFA_KEYID_LEN);
	assert_non_null(mfa_keyring_find(&ld.ring, staged));
}

static void test_new_and_next_differ_is_an_error(void **state)
{
	struct tu_sandbox *sb = *state;
	uint8_t w[MFA_KEYID_LEN], l[MFA_KEYID_LEN];
	struct loaded ld;

	make_key(sb, ".new");
	make_key(sb, ".next");
	assert_int_equal(load(sb, &ld, w, l), MFA_ERR_KEY);
}

static void test_new_and_next_same_key_is_fine(void **state)
{
	struct tu_sandbox *sb = *state;
	uint8_t next[MFA_KEYID_LEN], w[MFA_KEYID_LEN], l[MFA_KEYID_LEN];
	struct loaded ld;
	unsigned char bytes[MFA_KEY_LEN];
	FILE *f;

	make_key(sb, ".new");
	f = fopen(beside(sb, ".new"), "rb");
	assert_non_null(f);
	assert_int_equal(fread(bytes, 1, sizeof(bytes), f), sizeof(bytes));
	fclose(f);
	tu_write_file(beside(sb, ".next"), bytes, sizeof(bytes), 0400);
	id_of(sb, ".new", next);
	assert_int_equal(load(sb, &ld, w, l), 0);
	assert_false(ld.ring.staged);
	assert_memory_equal(w, next, MFA_KEYID_LEN);
}

static void test_begin_creates_resumes_promotes(void **state)
{
	struct tu_sandbox *sb = *state;
	struct mfa_path_error err = { "" };
	enum mfa_rekey_start how;
	uint8_t staged[MFA_KEYID_LEN], now[MFA_KEYID_LEN];

	assert_int_equal(mfa_store_keys_begin(&sb->cfg, &how, &err), 0);
	assert_int_equal(how, MFA_REKEY_CREATED);
	assert_true(exists(sb, ".new"));
	assert_int_equal(mfa_store_keys_begin(&sb->cfg, &how, &err), 0);
	assert_int_equal(how, MFA_REKEY_RESUMED);
	assert_int_equal(mfa_store_keys_finish(&sb->cfg, &err), 0);
	assert_false(exists(sb, ".new"));

	make_key(sb, ".next");
	id_of(sb, ".next", staged);
	assert_int_equal(mfa_store_keys_begin_staged(&sb->cfg, &how, &err), 0);
	assert_int_equal(how, MFA_REKEY_PROMOTED);
	assert_false(exists(sb, ".next"));
	id_of(sb, ".new", now);
	assert_memory_equal(now, staged, MFA_KEYID_LEN);
	assert_int_equal(mfa_store_keys_begin_staged(&sb->cfg, &how, &err), 0);
	assert_int_equal(how, MFA_REKEY_RESUMED);
	assert_int_equal(mfa_store_keys_finish(&sb->cfg, &err), 0);
	id_of(sb, "", now);
	assert_memory_equal(now, staged, MFA_KEYID_LEN);
}

static void test_begin_staged_refuses_without_stage(void **state)
{
	struct tu_sandbox *sb = *state;
	struct mfa_path_error err = { "" };
	enum mfa_rekey_start how;

	assert_int_equal(mfa_store_keys_begin_staged(&sb->cfg, &how, &err), MFA_ERR_NOENT);
	assert_non_null(strstr(err.msg, "no staged key"));
	assert_false(exists(sb, ".new"));
}

static void test_stage(void **state)
{
	struct tu_sandbox *sb = *state;
	struct mfa_path_error err = { "" };
	uint8_t first[MFA_KEYID_LEN], again[MFA_KEYID_LEN];
	bool created = false;

	assert_int_equal(mfa_store_keys_stage(&sb->cfg, &created, &err), 0);
	assert_true(created);
	id_of(sb, ".next", first);
	assert_int_equal(mfa_store_keys_stage(&sb->cfg, &created, &err), 0);
	assert_false(created);
	id_of(sb, ".next", again);
	assert_memory_equal(first, again, MFA_KEYID_LEN);
}

static void test_stage_refused_during_a_rotation(void **state)
{
	struct tu_sandbox *sb = *state;
	struct mfa_path_error err = { "" };
	bool created = true;

	make_key(sb, ".new");
	assert_int_equal(mfa_store_keys_stage(&sb->cfg, &created, &err), MFA_ERR_EXISTS);
	assert_false(created);
	assert_false(exists(sb, ".next"));
	assert_non_null(strstr(err.msg, "rotation is under way"));
}

static void test_retire(void **state)
{
	struct tu_sandbox *sb = *state;
	struct mfa_path_error err = { "" };
	uint8_t staged[MFA_KEYID_LEN], now[MFA_KEYID_LEN], before[MFA_KEYID_LEN];

	assert_int_equal(mfa_store_keys_retire(&sb->cfg, true, &err), MFA_ERR_NOENT);
	assert_int_equal(mfa_store_keys_retire(&sb->cfg, false, &err), MFA_ERR_NOENT);
	make_key(sb, ".next");
	id_of(sb, ".next", staged);
	id_of(sb, "", before);
	assert_int_equal(mfa_store_keys_retire(&sb->cfg, true, &err), 0);
	id_of(sb, "", now);
	assert_memory_equal(now, before, MFA_KEYID_LEN); /* check_only renames nothing */
	assert_true(exists(sb, ".next"));
	assert_int_equal(mfa_store_keys_retire(&sb->cfg, false, &err), 0);
	id_of(sb, "", now);
	assert_memory_equal(now, staged, MFA_KEYID_LEN);
	assert_false(exists(sb, ".next"));
}

static void test_retire_refused_on_the_rotating_machine(void **state)
{
	struct tu_sandbox *sb = *state;
	struct mfa_path_error err = { "" };

	make_key(sb, ".next");
	make_key(sb, ".new");
	assert_int_equal(mfa_store_keys_retire(&sb->cfg, false, &err), MFA_ERR_EXISTS);
	assert_true(exists(sb, ".next"));
	assert_true(exists(sb, ".new"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_key_is_written_with, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staged_key_is_read_never_written_with, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_and_next_differ_is_an_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_and_next_same_key_is_fine, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_begin_creates_resumes_promotes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_begin_staged_refuses_without_stage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_refused_during_a_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retire_refused_on_the_rotating_machine, setup,
		    teardown),
	};

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
