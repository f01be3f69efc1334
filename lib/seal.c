/*
 * The store key and AES-256-GCM sealing (doc/DESIGN.md invariant 4).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/seal.h"

static const char keyid_label[] = "mfauth key id";

int mfa_key_derive_id(struct mfa_key *key)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = MFA_ERR_CRYPTO;

	if (ctx == NULL)
		return MFA_ERR_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, keyid_label, sizeof(keyid_label) - 1) != 1 ||
	    EVP_DigestUpdate(ctx, key->bytes, sizeof(key->bytes)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < MFA_KEYID_LEN)
		goto out;
	memcpy(key->id, md, MFA_KEYID_LEN);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	mfa_wipe(md, sizeof(md));
	return rc;
}

void mfa_key_wipe(struct mfa_key *key)
{
	mfa_wipe(key, sizeof(*key));
}

const struct mfa_key *mfa_keyring_find(const struct mfa_keyring *ring,
    const uint8_t id[MFA_KEYID_LEN])
{
	for (size_t i = 0; i < ring->n && i < MFA_RING_MAX; i++)
		if (memcmp(ring->keys[i]->id, id, MFA_KEYID_LEN) == 0)
			return ring->keys[i];
	return NULL;
}

int mfa_key_load_at(int dirfd, const char *name, const char *path, struct mfa_key *key,
    struct mfa_path_error *err)
{
	uint8_t buf[MFA_KEY_LEN + 1];
	size_t got = 0;
	int fd, rc;

	fd = mfa_open_trusted_at(dirfd, name, O_RDONLY, false, 0600, path, err);
	if (fd < 0)
		return fd == MFA_ERR_IO ? MFA_ERR_KEY : fd;
	/* Read one byte more than a key, so that a longer file is caught. */
	rc = mfa_pread_all(fd, buf, sizeof(buf), 0, &got);
	if (rc != 0 || got != MFA_KEY_LEN) {
		if (err != NULL)
			snprintf(err->msg, sizeof(err->msg),
			    "%s: not a key file (want exactly %d bytes)", path, MFA_KEY_LEN);
		rc = MFA_ERR_KEY;
		goto out;
	}
	memcpy(key->bytes, buf, MFA_KEY_LEN);
	rc = mfa_key_derive_id(key);
out:
	mfa_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

int mfa_key_load(const char *path, struct mfa_key *key, struct mfa_path_error *err)
{
	char name[NAME_MAX + 1];
	int dirfd = mfa_open_trusted_parent(path, name, err), rc;

	if (dirfd < 0)
		return dirfd == MFA_ERR_IO ? MFA_ERR_KEY : dirfd;
	rc = mfa_key_load_at(dirfd, name, path, key, err);
	close(dirfd);
	return rc;
}

/*
 * Write a fresh key into a temp file beside path and move it into place
 * only when complete (safefile.h's atomic writer, noreplace): a crash can
 * leave a stale temp file, never a half-written key under the real name.
 */
int mfa_key_create(const char *path, struct mfa_key *key, struct mfa_path_error *err)
{
	struct mfa_path_error scratch;
	char dir[PATH_MAX], prefix[NAME_MAX + 1];
	const char *base = strrchr(path, '/');
	struct mfa_write_opts o = { prefix, 0400, true, path };
	int dirfd = -1, rc;

	if (err == NULL)
		err = &scratch;
	if (path[0] != '/' || base == NULL || base[1] == '\0' || strlen(path) >= sizeof(dir) ||
	    strlen(base + 1) > NAME_MAX - 24) {
		snprintf(err->msg, sizeof(err->msg), "%s: not an absolute file path", path);
		return MFA_ERR_INVAL;
	}
	memcpy(dir, path, (size_t)(base - path));
	dir[base - path] = '\0';
	if (dir[0] == '\0')
		strcpy(dir, "/");
	snprintf(prefix, sizeof(prefix), ".%s.tmp.", base + 1);
	dirfd = mfa_open_trusted(dir, O_RDONLY, true, err);
	if (dirfd < 0)
		return dirfd;
	rc = MFA_ERR_EXISTS;
	if (faccessat(dirfd, base + 1, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		goto out;
	if (RAND_priv_bytes(key->bytes, MFA_KEY_LEN) != 1) {
		rc = MFA_ERR_CRYPTO;
		snprintf(err->msg, sizeof(err->msg), "%s: random generator failed", path);
		goto out;
	}
	rc = mfa_write_atomic_at(dirfd, base + 1, key->bytes, MFA_KEY_LEN, &o, err);
	if (rc == 0)
		rc = mfa_key_derive_id(key);
out:
	if (rc == MFA_ERR_EXISTS)
		snprintf(err->msg, sizeof(err->msg), "%s: exists; refusing to overwrite a key",
		    path);
	if (rc != 0)
		mfa_key_wipe(key);
	close(dirfd);
	return rc;
}

int mfa_seal(const struct mfa_key *key, const uint8_t *aad, size_t aadlen, const uint8_t *pt,
    size_t ptlen, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *nonce = out, *ct = out + MFA_NONCE_LEN, *tag = out + MFA_NONCE_LEN + ptlen;
	int len = 0, rc = MFA_ERR_CRYPTO;

	if (ptlen > INT32_MAX || aadlen > INT32_MAX)
		return MFA_ERR_RANGE;
	/* A fresh random nonce for every write: keys are never used 2^32 times. */
	if (RAND_bytes(nonce, MFA_NONCE_LEN) != 1)
		return MFA_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return MFA_ERR_NOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1 ||
	    (ptlen > 0 && EVP_EncryptUpdate(ctx, ct, &len, pt, (int)ptlen) != 1) ||
	    EVP_EncryptFinal_ex(ctx, ct + ptlen, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, MFA_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int mfa_unseal(const struct mfa_key *key, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t inlen, uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ctlen;
	uint8_t tag[MFA_TAG_LEN];
	int len = 0, rc = MFA_ERR_CRYPTO;

	if (inlen < MFA_SEAL_OVERHEAD)
		return MFA_ERR_CORRUPT;
	ctlen = inlen - MFA_SEAL_OVERHEAD;
	if (ctlen > INT32_MAX || aadlen > INT32_MAX)
		return MFA_ERR_RANGE;
	memcpy(tag, in + MFA_NONCE_LEN + ctlen, MFA_TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return MFA_ERR_NOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, in) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1 ||
	    (ctlen > 0 && EVP_DecryptUpdate(ctx, pt, &len, in + MFA_NONCE_LEN, (int)ctlen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MFA_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, pt + ctlen, &len) != 1) {
		rc = MFA_ERR_CORRUPT;
		goto out;
	}
	rc = 0;
out:
	/* Never hand back plaintext that did not authenticate. */
	if (rc != 0)
		mfa_wipe(pt, ctlen);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
