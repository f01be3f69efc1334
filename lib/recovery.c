/*
 * Recovery codes (see recovery.h): generation, normalisation, slow hashing.
 */
#include "config.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mfauth/buf.h"
#include "mfauth/codetext.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"

/* Crockford's base32: no I, L, O, U, so nothing is misread when typed. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int crockford_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'I' || c == 'L')
		c = '1';
	else if (c == 'O')
		c = '0';
	const char *p = c ? strchr(crockford, c) : NULL;
	return p ? (int)(p - crockford) : -1;
}

/* Canonical 16 characters from what was typed, or -1. */
static int normalise(const char *input, char out[MFA_RECOVERY_CHARS + 1])
{
	size_t n = 0;

	for (const char *p = input; *p; p++) {
		int v;
		if (*p == '-' || mfa_code_is_blank(*p))
			continue;
		if ((v = crockford_value(*p)) < 0 || n == MFA_RECOVERY_CHARS)
			return -1;
		out[n++] = crockford[v];
	}
	out[n] = '\0';
	return n == MFA_RECOVERY_CHARS ? 0 : -1;
}

bool mfa_recovery_looks_like(const char *input)
{
	char canon[MFA_RECOVERY_CHARS + 1];
	bool ok = input != NULL && normalise(input, canon) == 0;
	mfa_wipe(canon, sizeof(canon));
	return ok;
}

static int hash_code(const char canon[MFA_RECOVERY_CHARS + 1], const uint8_t salt[16],
    uint32_t iterations, uint8_t out[32])
{
	if (iterations == 0 || iterations > 10000000)
		return MFA_ERR_INVAL;
	if (PKCS5_PBKDF2_HMAC(canon, MFA_RECOVERY_CHARS, salt, 16, (int)iterations, EVP_sha256(),
	        32, out) != 1)
		return MFA_ERR_CRYPTO;
	return 0;
}

int mfa_recovery_issue(struct mfa_recovery *r, uint64_t now, uint64_t ttl,
    char code[MFA_RECOVERY_TEXT_LEN])
{
	uint8_t rnd[MFA_RECOVERY_CHARS];
	char canon[MFA_RECOVERY_CHARS + 1];
	size_t o = 0;
	int rc = MFA_ERR_CRYPTO;

	memset(r, 0, sizeof(*r));
	if (ttl == 0 || ttl > MFA_RECOVERY_TTL_MAX)
		return MFA_ERR_RANGE;
	/* 16 characters of 5 bits each: 80 bits from the CSPRNG. */
	if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1 || RAND_bytes(r->salt, sizeof(r->salt)) != 1 ||
	    RAND_bytes((uint8_t *)&r->id, sizeof(r->id)) != 1)
		goto out;
	for (size_t i = 0; i < MFA_RECOVERY_CHARS; i++) {
		canon[i] = crockford[rnd[i] & 31];
		if (i > 0 && i % 4 == 0)
			code[o++] = '-';
		code[o++] = canon[i];
	}
	canon[MFA_RECOVERY_CHARS] = '\0';
	code[o] = '\0';
	if (r->id == 0)
		r->id = 1; /* 0 means "none used" in the state */
	r->iterations = MFA_RECOVERY_ITERATIONS;
	if ((rc = hash_code(canon, r->salt, r->iterations, r->hash)) != 0)
		goto out;
	r->issued_at = now;
	r->expires_at = now + ttl;
	r->present = true;
	rc = 0;
out:
	mfa_wipe(rnd, sizeof(rnd));
	mfa_wipe(canon, sizeof(canon));
	if (rc != 0) {
		mfa_wipe(r, sizeof(*r));
		mfa_wipe(code, MFA_RECOVERY_TEXT_LEN);
	}
	return rc;
}

int mfa_recovery_check(const struct mfa_recovery *r, const char *input, uint64_t now,
    uint64_t used_id)
{
	char canon[MFA_RECOVERY_CHARS + 1];
	uint8_t h[32];
	int rc = MFA_ERR_BADCODE;

	if (!r->present || input == NULL || normalise(input, canon) != 0)
		goto out;
	if (hash_code(canon, r->salt, r->iterations, h) != 0)
		goto out;
	if (CRYPTO_memcmp(h, r->hash, sizeof(h)) != 0)
		goto out;
	/* The right code: now say why it cannot be used, if it cannot. */
	if (used_id == r->id)
		rc = MFA_ERR_REPLAY;
	else if (now >= r->expires_at || now < r->issued_at)
		rc = MFA_ERR_EXPIRED;
	else
		rc = 0;
out:
	mfa_wipe(canon, sizeof(canon));
	mfa_wipe(h, sizeof(h));
	return rc;
}
