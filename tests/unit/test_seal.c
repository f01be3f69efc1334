/*
 * Unit tests for lib/seal.c (doc/DESIGN.md invariant 4): the AES-256-GCM
 * seal and the store key file (creation, refusals, loading).
 *
 * Expectations come from the headers and the design, not from the code:
 * sealed blobs are checked by decrypting them with OpenSSL directly and key
 * ids by hashing independently.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "testutil.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/record.h"
#include "mfauth/seal.h"

/* --- helpers --------------------------------------------------------------- */

/* SHA-256("mfauth key id" || key), first 8 bytes, computed here (seal.h). */
static void expected_key_id(const uint8_t bytes[MFA_KEY_LEN], uint8_t id[MFA_KEYID_LEN])
{
	static const char label[] = "mfauth key id";
	uint8_t in[sizeof(label) - 1 + MFA_KEY_LEN], md[32];
	unsigned int mdlen = 0;

	memcpy(in, label, sizeof(label) - 1);
	memcpy(in + sizeof(label) - 1, bytes, MFA_KEY_LEN);
	assert_int_equal(EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	memcpy(id, md, MFA_KEYID_LEN);
}

/* --- seal ------------------------------------------------------------------ */

static void test_key_id(void **state)
{
	struct mfa_key k1, k2;
	uint8_t want[MFA_KEYID_LEN];

	(void)state;
	tu_random_key(&k1);
	expected_key_id(k1.bytes, want);
	assert_memory_equal(k1.id, want, MFA_KEYID_LEN);
	k2 = k1;
	k2.bytes[31] ^= 1;
	assert_int_equal(mfa_key_derive_id(&k2), 0);
	assert_memory_not_equal(k1.id, k2.id, MFA_KEYID_LEN);
	mfa_key_wipe(&k2);
	assert_true(tu_all_zero(&k2, sizeof(k2)));
}

/* Round trip at several lengths, checked against OpenSSL directly. */
static void test_seal_round_trip(void **state)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 256, 4096 };
	static const uint8_t aad[] = "user=alice;format=1";
	struct mfa_key key;

	(void)state;
	tu_random_key(&key);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		uint8_t *pt = malloc(n + 1), *blob = malloc(n + MFA_SEAL_OVERHEAD);
		uint8_t *out = malloc(n + 1), *ref = malloc(n + 1);

		assert_true(pt && blob && out && ref);
		tu_fill_pattern(pt, n, (uint8_t)i);
		assert_int_equal(mfa_seal(&key, aad, sizeof(aad), pt, n, blob), 0);
		if (n >= 8)
			assert_memory_not_equal(blob + MFA_NONCE_LEN, pt, n);
		memset(out, 0xee, n + 1);
		assert_int_equal(mfa_unseal(&key, aad, sizeof(aad), blob, n + MFA_SEAL_OVERHEAD,
		                     out),
		    0);
		assert_memory_equal(out, pt, n);
		/* nonce || ciphertext || tag, AES-256-GCM, 12-byte nonce, 16-byte tag */
		assert_int_equal(tu_evp_open(key.bytes, aad, sizeof(aad), blob,
		                     n + MFA_SEAL_OVERHEAD, ref),
		    0);
		assert_memory_equal(ref, pt, n);
		free(pt);
		free(blob);
		free(out);
		free(ref);
	}
	/* With no associated data at all. */
	{
		uint8_t blob[5 + MFA_SEAL_OVERHEAD], out[5];
		assert_int_equal(mfa_seal(&key, NULL, 0, (const uint8_t *)"hello", 5, blob), 0);
		assert_int_equal(mfa_unseal(&key, NULL, 0, blob, sizeof(blob), out), 0);
		assert_memory_equal(out, "hello", 5);
	}
}

static void test_seal_wrong_key_and_aad(void **state)
{
	static const uint8_t aad[] = "alice";
	const uint8_t pt[] = "TOTP seed: 12345678901234567890";
	uint8_t blob[sizeof(pt) + MFA_SEAL_OVERHEAD], out[sizeof(pt)];
	struct mfa_key key, other;
	static const struct {
		const char *aad;
		size_t len;
		/* clang-format off */
	} bad_aad[] = {
		{ "alicf", 5 }, { "alic", 4 }, { "alice\0", 6 }, { "Alice", 5 }, { "", 0 },
		{ "bob", 3 },
	};
	/* clang-format on */

	(void)state;
	tu_random_key(&key);
	tu_random_key(&other);
	assert_int_equal(mfa_seal(&key, aad, 5, pt, sizeof(pt), blob), 0);

	memset(out, 0xee, sizeof(out));
	assert_int_equal(mfa_unseal(&other, aad, 5, blob, sizeof(blob), out), MFA_ERR_CORRUPT);
	/* Plaintext that did not authenticate is never handed back. */
	assert_true(tu_all_zero(out, sizeof(out)));

	for (size_t i = 0; i < sizeof(bad_aad) / sizeof(bad_aad[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(mfa_unseal(&key, (const uint8_t *)bad_aad[i].aad, bad_aad[i].len,
		                     blob, sizeof(blob), out),
		    MFA_ERR_CORRUPT);
		assert_true(tu_all_zero(out, sizeof(out)));
	}
	assert_int_equal(mfa_unseal(&key, aad, 5, blob, sizeof(blob), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
}

/* Every single bit of nonce, ciphertext and tag is authenticated. */
static void test_seal_every_bit_flip(void **state)
{
	static const uint8_t aad[] = "bit flips";
	const uint8_t pt[] = "a secret of some forty bytes, give or take";
	uint8_t blob[sizeof(pt) + MFA_SEAL_OVERHEAD], out[sizeof(pt)];
	struct mfa_key key;

	(void)state;
	tu_random_key(&key);
	assert_int_equal(mfa_seal(&key, aad, sizeof(aad), pt, sizeof(pt), blob), 0);
	for (size_t i = 0; i < sizeof(blob) * 8; i++) {
		blob[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (mfa_unseal(&key, aad, sizeof(aad), blob, sizeof(blob), out) != MFA_ERR_CORRUPT)
			fail_msg("bit %zu flipped and still accepted", i);
		blob[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(mfa_unseal(&key, aad, sizeof(aad), blob, sizeof(blob), out), 0);
}

/* Short blobs, including shorter than nonce + tag, fail cleanly. */
static void test_seal_truncated(void **state)
{
	const uint8_t pt[] = "0123456789";
	uint8_t blob[sizeof(pt) + MFA_SEAL_OVERHEAD], out[sizeof(pt)];
	struct mfa_key key;

	(void)state;
	tu_random_key(&key);
	assert_int_equal(mfa_seal(&key, NULL, 0, pt, sizeof(pt), blob), 0);
	for (size_t n = 0; n < sizeof(blob); n++) {
		uint8_t *copy = malloc(n > 0 ? n : 1);
		assert_non_null(copy);
		memcpy(copy, blob, n);
		assert_int_equal(mfa_unseal(&key, NULL, 0, copy, n, out), MFA_ERR_CORRUPT);
		free(copy);
	}
}

/* A fresh nonce on every write: same key, same plaintext, different blobs. */
static void test_seal_fresh_nonce(void **state)
{
	const uint8_t pt[] = "same plaintext";
	uint8_t a[sizeof(pt) + MFA_SEAL_OVERHEAD], b[sizeof(pt) + MFA_SEAL_OVERHEAD];
	struct mfa_key key;

	(void)state;
	tu_random_key(&key);
	assert_int_equal(mfa_seal(&key, NULL, 0, pt, sizeof(pt), a), 0);
	assert_int_equal(mfa_seal(&key, NULL, 0, pt, sizeof(pt), b), 0);
	assert_memory_not_equal(a, b, MFA_NONCE_LEN);
	assert_memory_not_equal(a + MFA_NONCE_LEN, b + MFA_NONCE_LEN, sizeof(pt));
	assert_memory_not_equal(a + sizeof(a) - MFA_TAG_LEN, b + sizeof(b) - MFA_TAG_LEN,
	    MFA_TAG_LEN);
}

/* --- key file ------------------------------------------------------------- */

struct keydir {
	char *dir;
	char *path;
};

static int keydir_setup(void **state)
{
	struct keydir *kd = calloc(1, sizeof(*kd));
	if (kd == NULL)
		return -1;
	kd->dir = tu_mkdtemp();
	kd->path = tu_path(kd->dir, "store.key");
	*state = kd;
	return 0;
}

static int keydir_teardown(void **state)
{
	struct keydir *kd = *state;
	tu_rmrf(kd->dir);
	free(kd->path);
	free(kd->dir);
	free(kd);
	return 0;
}

static void test_key_create(void **state)
{
	struct keydir *kd = *state;
	struct mfa_path_error perr;
	struct mfa_key key, loaded, again;
	uint8_t id[MFA_KEYID_LEN], *content;
	struct stat st;
	size_t len;

	memset(&key, 0, sizeof(key));
	assert_int_equal(mfa_key_create(kd->path, &key, &perr), 0);
	assert_int_equal(lstat(kd->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_size, MFA_KEY_LEN);
	content = tu_read_file(kd->path, &len);
	assert_int_equal(len, MFA_KEY_LEN);
	assert_memory_equal(content, key.bytes, MFA_KEY_LEN);
	assert_false(tu_all_zero(key.bytes, MFA_KEY_LEN));
	expected_key_id(key.bytes, id);
	assert_memory_equal(key.id, id, MFA_KEYID_LEN);

	memset(&loaded, 0, sizeof(loaded));
	assert_int_equal(mfa_key_load(kd->path, &loaded, &perr), 0);
	assert_memory_equal(loaded.bytes, key.bytes, MFA_KEY_LEN);
	assert_memory_equal(loaded.id, key.id, MFA_KEYID_LEN);

	/* Never overwritten: same bytes, same mode. */
	memset(&again, 0, sizeof(again));
	assert_int_equal(mfa_key_create(kd->path, &again, &perr), MFA_ERR_EXISTS);
	assert_non_null(strstr(perr.msg, kd->path));
	free(content);
	content = tu_read_file(kd->path, &len);
	assert_int_equal(len, MFA_KEY_LEN);
	assert_memory_equal(content, key.bytes, MFA_KEY_LEN);
	assert_int_equal(lstat(kd->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(mfa_key_load(kd->path, &loaded, &perr), 0);
	assert_memory_equal(loaded.bytes, key.bytes, MFA_KEY_LEN);
	free(content);

	/* Two keys are different keys. */
	{
		char *p2 = tu_path(kd->dir, "second.key");
		assert_int_equal(mfa_key_create(p2, &again, &perr), 0);
		assert_memory_not_equal(again.bytes, key.bytes, MFA_KEY_LEN);
		assert_memory_not_equal(again.id, key.id, MFA_KEYID_LEN);
		free(p2);
	}
}

/* Create refuses to follow a symlink planted at the key path, even a dangling one. */
static void test_key_create_symlink(void **state)
{
	struct keydir *kd = *state;
	struct mfa_path_error perr;
	struct mfa_key key;
	char *target = tu_path(kd->dir, "target");
	struct stat st;

	assert_int_equal(symlink(target, kd->path), 0);
	assert_int_not_equal(mfa_key_create(kd->path, &key, &perr), 0);
	assert_int_equal(lstat(target, &st), -1);
	assert_int_equal(errno, ENOENT);
	free(target);
}

/* Root never creates a key in a directory another user can write or own. */
static void test_key_create_unsafe_dir(void **state)
{
	struct keydir *kd = *state;
	struct mfa_path_error perr;
	struct mfa_key key;
	char *sub = tu_path(kd->dir, "sub");
	char *path = tu_path(sub, "store.key");
	struct stat st;

	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(mfa_key_create(path, &key, &perr), MFA_ERR_UNSAFE);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(chown(sub, 65534, 65534), 0);
	assert_int_equal(mfa_key_create(path, &key, &perr), MFA_ERR_UNSAFE);
	assert_int_equal(lstat(path, &st), -1);
	free(path);
	free(sub);
}

enum key_setup {
	KS_GOOD_0400,
	KS_GOOD_0600,
	KS_MODE_0644,
	KS_MODE_0640,
	KS_MODE_0604,
	KS_MODE_0700,
	KS_MODE_0660,
	KS_OWNER_NOBODY,
	KS_SYMLINK,
	KS_HARDLINK,
	KS_LEN_0,
	KS_LEN_31,
	KS_LEN_33,
	KS_LEN_64,
	KS_MISSING,
	KS_DIRECTORY,
	KS_FIFO,
	KS_DIR_WRITABLE,
};

static const struct {
	const char *name;
	enum key_setup setup;
	int rc;
	/* clang-format off */
} key_load_cases[] = {
	{ "0400", KS_GOOD_0400, 0 },
	{ "0600", KS_GOOD_0600, 0 },
	{ "mode 0644", KS_MODE_0644, MFA_ERR_UNSAFE },
	{ "mode 0640", KS_MODE_0640, MFA_ERR_UNSAFE },
	{ "mode 0604", KS_MODE_0604, MFA_ERR_UNSAFE },
	{ "mode 0700", KS_MODE_0700, MFA_ERR_UNSAFE },
	{ "mode 0660", KS_MODE_0660, MFA_ERR_UNSAFE },
	{ "owner 65534", KS_OWNER_NOBODY, MFA_ERR_UNSAFE },
	{ "symlink", KS_SYMLINK, MFA_ERR_UNSAFE },
	{ "hard link", KS_HARDLINK, MFA_ERR_UNSAFE },
	{ "0 bytes", KS_LEN_0, MFA_ERR_KEY },
	{ "31 bytes", KS_LEN_31, MFA_ERR_KEY },
	{ "33 bytes", KS_LEN_33, MFA_ERR_KEY },
	{ "64 bytes", KS_LEN_64, MFA_ERR_KEY },
	{ "missing", KS_MISSING, MFA_ERR_NOENT },
	{ "directory", KS_DIRECTORY, MFA_ERR_UNSAFE },
	{ "fifo", KS_FIFO, MFA_ERR_UNSAFE },
	{ "directory writable by others", KS_DIR_WRITABLE, MFA_ERR_UNSAFE },
};
/* clang-format on */

/* Build the case's key file at path (dir is its private directory). */
static void make_key_case(const char *dir, const char *path, enum key_setup s,
    const uint8_t key[64])
{
	char *other = tu_path(dir, "real.key");

	switch (s) {
	case KS_GOOD_0400:
		tu_write_file(path, key, 32, 0400);
		break;
	case KS_GOOD_0600:
		tu_write_file(path, key, 32, 0600);
		break;
	case KS_MODE_0644:
		tu_write_file(path, key, 32, 0644);
		break;
	case KS_MODE_0640:
		tu_write_file(path, key, 32, 0640);
		break;
	case KS_MODE_0604:
		tu_write_file(path, key, 32, 0604);
		break;
	case KS_MODE_0700:
		tu_write_file(path, key, 32, 0700);
		break;
	case KS_MODE_0660:
		tu_write_file(path, key, 32, 0660);
		break;
	case KS_OWNER_NOBODY:
		tu_write_file(path, key, 32, 0400);
		assert_int_equal(chown(path, 65534, 65534), 0);
		break;
	case KS_SYMLINK:
		tu_write_file(other, key, 32, 0400);
		assert_int_equal(symlink(other, path), 0);
		break;
	case KS_HARDLINK:
		tu_write_file(other, key, 32, 0400);
		assert_int_equal(link(other, path), 0);
		break;
	case KS_LEN_0:
		tu_write_file(path, key, 0, 0400);
		break;
	case KS_LEN_31:
		tu_write_file(path, key, 31, 0400);
		break;
	case KS_LEN_33:
		tu_write_file(path, key, 33, 0400);
		break;
	case KS_LEN_64:
		tu_write_file(path, key, 64, 0400);
		break;
	case KS_MISSING:
		break;
	case KS_DIRECTORY:
		assert_int_equal(mkdir(path, 0700), 0);
		break;
	case KS_FIFO:
		assert_int_equal(mkfifo(path, 0600), 0);
		break;
	case KS_DIR_WRITABLE:
		tu_write_file(path, key, 32, 0400);
		assert_int_equal(chmod(dir, 0777), 0);
		break;
	}
	free(other);
}

static void test_key_load_table(void **state)
{
	struct keydir *kd = *state;
	uint8_t bytes[64];

	assert_int_equal(RAND_bytes(bytes, sizeof(bytes)), 1);
	for (size_t i = 0; i < sizeof(key_load_cases) / sizeof(key_load_cases[0]); i++) {
		char name[32];
		char *dir, *path;
		struct mfa_path_error perr;
		struct mfa_key key;
		int rc;

		snprintf(name, sizeof(name), "case%zu", i);
		dir = tu_path(kd->dir, name);
		assert_int_equal(mkdir(dir, 0700), 0);
		path = tu_path(dir, "store.key");
		make_key_case(dir, path, key_load_cases[i].setup, bytes);
		memset(&perr, 0, sizeof(perr));
		memset(&key, 0, sizeof(key));
		rc = mfa_key_load(path, &key, &perr);
		if (rc != key_load_cases[i].rc)
			fail_msg("key case \"%s\": got %d (%s), want %d (%s); msg: %s",
			    key_load_cases[i].name, rc, mfa_strerror(rc), key_load_cases[i].rc,
			    mfa_strerror(key_load_cases[i].rc), perr.msg);
		if (rc == 0) {
			uint8_t id[MFA_KEYID_LEN];
			assert_memory_equal(key.bytes, bytes, MFA_KEY_LEN);
			expected_key_id(bytes, id);
			assert_memory_equal(key.id, id, MFA_KEYID_LEN);
		} else {
			/* Errors name the file (doc/DESIGN.md §3) and hand out no key. */
			if (strstr(perr.msg, path) == NULL && strstr(perr.msg, dir) == NULL)
				fail_msg("key case \"%s\": message \"%s\" does not name the file",
				    key_load_cases[i].name, perr.msg);
			assert_true(tu_all_zero(key.bytes, MFA_KEY_LEN));
		}
		chmod(dir, 0700);
		free(path);
		free(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_wrong_key_and_aad),
		cmocka_unit_test(test_seal_every_bit_flip),
		cmocka_unit_test(test_seal_truncated),
		cmocka_unit_test(test_seal_fresh_nonce),
		cmocka_unit_test_setup_teardown(test_key_create, keydir_setup, keydir_teardown),
		cmocka_unit_test_setup_teardown(test_key_create_symlink, keydir_setup,
		    keydir_teardown),
		cmocka_unit_test_setup_teardown(test_key_create_unsafe_dir, keydir_setup,
		    keydir_teardown),
		cmocka_unit_test_setup_teardown(test_key_load_table, keydir_setup, keydir_teardown),
	};

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
