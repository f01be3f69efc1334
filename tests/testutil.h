/*
 * Helpers shared by the unit tests.  Every helper fails the running cmocka
 * test (fail_msg) instead of returning an error, so tests stay short.
 */
#ifndef MFAUTH_TESTUTIL_H
#define MFAUTH_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

#include "mfauth/auth.h"
#include "mfauth/conf.h"
#include "mfauth/record.h"
#include "mfauth/seal.h"

/* A fresh root-owned 0700 directory under /tmp; free() the result. */
char *tu_mkdtemp(void);
/* Remove a tree (best effort; used in teardown). */
void tu_rmrf(const char *path);
/* dir + "/" + name, malloc'd. */
char *tu_path(const char *dir, const char *name);
/* Create or replace path with content and mode (owned by the caller: root). */
void tu_write_file(const char *path, const void *content, size_t len, mode_t mode);
/* Read a whole file; *len gets its size; free() the result. */
uint8_t *tu_read_file(const char *path, size_t *len);
/*
 * A sandbox: temp dir with store/ (0700) and key file, and cfg pointing at
 * them.  The key is created by mfa_store_init().
 */
struct tu_sandbox {
	char *dir;
	struct mfa_config cfg;
};
void tu_sandbox_setup(struct tu_sandbox *sb);
void tu_sandbox_teardown(struct tu_sandbox *sb);
/*
 * The TOTP enrollment the auth tests log in with: SHA-1, six digits, 30 s,
 * a fixed seed.  tu_code_at() writes its code for time t, tu_wrong_at() a
 * code of the right shape that differs in one digit.
 */
void tu_totp_record(struct mfa_record *rec);
void tu_code_at(const struct mfa_record *rec, uint64_t t, char out[9]);
void tu_wrong_at(const struct mfa_record *rec, uint64_t t, char out[9]);
/* The clock the auth decisions read under the lock: set to t, and returned. */
mfa_clock_fn tu_clock_at(uint64_t t);
/* A random store key with its id derived (mfa_key_derive_id). */
void tu_random_key(struct mfa_key *key);
/*
 * Open nonce || ciphertext || tag with OpenSSL's AES-256-GCM directly, not
 * through lib/seal.c: the tests' independent reading of the sealed format.
 * 0 on success; pt gets inlen - MFA_SEAL_OVERHEAD bytes.
 */
int tu_evp_open(const uint8_t key[MFA_KEY_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *pt);
/* 1 when all n bytes at p are zero (a wipe happened). */
int tu_all_zero(const void *p, size_t n);
/* Distinct bytes derived from seed, so two fields never hold the same value. */
void tu_fill_pattern(uint8_t *p, size_t n, uint8_t seed);
/* Hex with optional blanks ("01 ab CD") into out; fails the test on a bad digit, odd length or overflow. */
size_t tu_unhex(const char *s, uint8_t *out, size_t cap);
/* Fail the test run early (exit 1) when not root: the trust checks require it. */
void tu_require_root(void);

#endif
