/* Helpers shared by the unit tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "testutil.h"
#include "mfauth/err.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"

char *tu_mkdtemp(void)
{
	char tmpl[] = "/tmp/mfauth-test-XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (dir == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	return strdup(dir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void tu_rmrf(const char *path)
{
	if (path != NULL)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p == NULL)
		fail_msg("malloc");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

void tu_write_file(const char *path, const void *content, size_t len, mode_t mode)
{
	int fd;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	if (len > 0 && write(fd, content, len) != (ssize_t)len)
		fail_msg("write %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0)
		fail_msg("fchmod %s", path);
	close(fd);
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		fail_msg("open %s: %s", path, strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL || read(fd, buf, (size_t)st.st_size) != st.st_size)
		fail_msg("read %s", path);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

void tu_sandbox_setup(struct tu_sandbox *sb)
{
	struct mfa_path_error perr;
	int rc;

	sb->dir = tu_mkdtemp();
	mfa_config_defaults(&sb->cfg);
	snprintf(sb->cfg.store_dir, sizeof(sb->cfg.store_dir), "%s/store", sb->dir);
	snprintf(sb->cfg.key_file, sizeof(sb->cfg.key_file), "%s/store.key", sb->dir);
	rc = mfa_store_init(&sb->cfg, &perr);
	if (rc != 0)
		fail_msg("mfa_store_init: %s: %s", mfa_strerror(rc), perr.msg);
}

void tu_sandbox_teardown(struct tu_sandbox *sb)
{
	tu_rmrf(sb->dir);
	free(sb->dir);
	sb->dir = NULL;
}

void tu_require_root(void)
{
	if (geteuid() != 0) {
		fprintf(stderr,
		    "these tests check root-only trust rules: run them as root "
		    "(sudo make check)\n");
		exit(1);
	}
}

void tu_totp_record(struct mfa_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->created_at = 1;
	rec->totp.present = true;
	rec->totp.secret_len = 20;
	memset(rec->totp.secret, 0x42, 20);
	rec->totp.digits = 6;
	rec->totp.alg = MFA_ALG_SHA1;
	rec->totp.period = 30;
}

void tu_code_at(const struct mfa_record *rec, uint64_t t, char out[9])
{
	assert_int_equal(mfa_totp_code(&rec->totp, t / rec->totp.period, out, 9), 0);
}

void tu_wrong_at(const struct mfa_record *rec, uint64_t t, char out[9])
{
	tu_code_at(rec, t, out);
	out[5] = (char)('0' + (out[5] - '0' + 5) % 10);
}

static uint64_t clock_value;

static uint64_t fixed_clock(void)
{
	return clock_value;
}

mfa_clock_fn tu_clock_at(uint64_t t)
{
	clock_value = t;
	return fixed_clock;
}

void tu_random_key(struct mfa_key *key)
{
	assert_int_equal(RAND_bytes(key->bytes, MFA_KEY_LEN), 1);
	assert_int_equal(mfa_key_derive_id(key), 0);
}

int tu_evp_open(const uint8_t key[MFA_KEY_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t ctlen = inlen - MFA_SEAL_OVERHEAD;
	int len = 0, ok;

	assert_non_null(ctx);
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, MFA_NONCE_LEN, NULL) == 1 &&
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, in) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) == 1 &&
	    (ctlen == 0 || EVP_DecryptUpdate(ctx, pt, &len, in + MFA_NONCE_LEN, (int)ctlen) == 1) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MFA_TAG_LEN,
	        (void *)(in + MFA_NONCE_LEN + ctlen)) == 1 &&
	    EVP_DecryptFinal_ex(ctx, pt + ctlen, &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int tu_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

void tu_fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 31 * i);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t tu_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v = hexval(*s);
		if (v < 0) {
			if (*s != ' ')
				fail_msg("bad hex character '%c'", *s);
			continue;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			fail_msg("hex too long (more than %zu bytes)", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd hex length");
	return n;
}
