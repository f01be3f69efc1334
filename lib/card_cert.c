/*
 * Host-side crypto for the card factor (card_cert.h): challenge,
 * signature check against the enrolled key, certificate parsing and checks,
 * PIV certificate objects.
 *
 * OpenSSL objects are local to each function and freed at its one cleanup
 * label.  Errors OpenSSL queues while parsing hostile input are popped back
 * to a mark, so the host process (a PAM application) does not find our
 * failures on its thread's error queue.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <zlib.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/card_cert.h"
#include "mfauth/text.h"

int mfa_challenge_new(uint8_t *chal, size_t len)
{
	if (chal == NULL || len < MFA_CHALLENGE_MIN || len > MFA_CHALLENGE_MAX)
		return MFA_ERR_INVAL;
	if (RAND_bytes(chal, (int)len) != 1)
		return MFA_ERR_CRYPTO;
	return 0;
}

/* Decode exactly len bytes of SubjectPublicKeyInfo, or NULL. */
static EVP_PKEY *spki_decode(const uint8_t *spki, size_t len)
{
	const unsigned char *p = spki;
	EVP_PKEY *k;

	if (spki == NULL || len == 0 || len > MFA_SPKI_MAX)
		return NULL;
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (k != NULL && p != spki + len) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

/*
 * OpenSSL's own checks of a public key (RSA: modulus odd and composite
 * without small factors, exponent odd and in range; EC: the point is on the
 * curve and not at infinity).  A key that fails them is no card's key.
 */
static bool public_key_sound(const EVP_PKEY *k)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)k, NULL);
	bool ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/*
 * RSA-2048 with e = 65537, as every JPKI and PIV card issues.  e = 1 made
 * the padded block itself a valid "signature" without any private key, and
 * a small e is a home-made emulator's (issue 12 finding 6).
 */
static enum mfa_card_alg rsa_alg(const EVP_PKEY *k, char *desc, size_t desclen)
{
	BIGNUM *e = NULL;
	int bits = EVP_PKEY_get_bits(k);
	bool e_ok;

	e_ok = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_word(e, 65537);
	if (e_ok)
		snprintf(desc, desclen, "RSA-%d", bits);
	else
		snprintf(desc, desclen, "RSA-%d e=%.10s", bits,
		    e != NULL && BN_num_bits(e) <= 32 ? (BN_is_one(e) ? "1" : "small") : "other");
	BN_free(e);
	return bits == 2048 && e_ok && public_key_sound(k) ?
	    MFA_CARD_ALG_RSA2048 :
	    MFA_CARD_ALG_NONE;
}

/*
 * Which of our algorithms k is, describing it in desc either way.  Named
 * curves only: explicit EC parameters are refused like any other key.
 * Used at enrollment (the certificate's key) and at login (the enrolled
 * key), so a weak key is refused at both.
 */
static enum mfa_card_alg pkey_alg(const EVP_PKEY *k, char *desc, size_t desclen)
{
	char curve[64];
	size_t n = 0;

	if (EVP_PKEY_is_a(k, "RSA"))
		return rsa_alg(k, desc, desclen);
	if (EVP_PKEY_is_a(k, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve,
		        sizeof(curve), &n) != 1) {
			snprintf(desc, desclen, "EC-explicit");
			return MFA_CARD_ALG_NONE;
		}
		/* a description only: a long curve name may be cut */
		snprintf(desc, desclen, "EC-%.24s", curve);
		return strcmp(curve, "prime256v1") == 0 && public_key_sound(k) ?
		    MFA_CARD_ALG_P256 :
		    MFA_CARD_ALG_NONE;
	}
	snprintf(desc, desclen, "%.24s",
	    EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "unknown");
	return MFA_CARD_ALG_NONE;
}

int mfa_spki_alg(const uint8_t *spki, size_t spki_len, enum mfa_card_alg *alg)
{
	char desc[32];
	EVP_PKEY *k;
	int rc = MFA_ERR_CORRUPT;

	ERR_set_mark();
	if ((k = spki_decode(spki, spki_len)) == NULL)
		goto out;
	rc = MFA_ERR_KEYTYPE;
	if ((*alg = pkey_alg(k, desc, sizeof(desc))) == MFA_CARD_ALG_NONE)
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(k);
	ERR_pop_to_mark();
	return rc;
}

int mfa_card_verify_signature(const uint8_t *spki, size_t spki_len, const uint8_t *chal,
    size_t chal_len, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum mfa_card_alg alg;
	char desc[32];
	int rc = MFA_ERR_INVAL;

	ERR_set_mark();
	if (chal == NULL || chal_len < MFA_CHALLENGE_MIN || chal_len > MFA_CHALLENGE_MAX ||
	    (sig == NULL && sig_len > 0))
		goto out;
	rc = MFA_ERR_CORRUPT;
	if ((k = spki_decode(spki, spki_len)) == NULL)
		goto out;
	rc = MFA_ERR_KEYTYPE;
	if ((alg = pkey_alg(k, desc, sizeof(desc))) == MFA_CARD_ALG_NONE)
		goto out;
	rc = MFA_ERR_BADSIG;
	/* An RSA signature is exactly the modulus size; no leniency for short ones. */
	if (sig_len == 0 || sig_len > MFA_SIG_MAX ||
	    (alg == MFA_CARD_ALG_RSA2048 && sig_len != 256))
		goto out;
	rc = MFA_ERR_CRYPTO;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k) != 1 ||
	    (alg == MFA_CARD_ALG_RSA2048 &&
	        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1))
		goto out;
	/* 0 is "wrong", < 0 "could not tell" (malformed DER): both are no. */
	rc = EVP_DigestVerify(md, sig, sig_len, chal, chal_len) == 1 ? 0 : MFA_ERR_BADSIG;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	ERR_pop_to_mark();
	return rc;
}

/* --- certificates ---------------------------------------------------------- */

/* Decode exactly len bytes as a certificate, or NULL. */
static X509 *cert_decode(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || len == 0 || len > MFA_CERT_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* RFC 2253 one-liner, printable ASCII only (it ends up in records and logs). */
static int cert_subject(X509 *x, char *out, size_t cap)
{
	BIO *b = NULL;
	char *p = NULL;
	long n;
	size_t len;
	int rc = MFA_ERR_CERT;

	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		rc = MFA_ERR_NOMEM;
		goto out;
	}
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0 ||
	    (n = BIO_get_mem_data(b, &p)) < 0)
		goto out;
	len = (size_t)n;
	if (len == 0 || p == NULL) {
		out[0] = '\0'; /* an empty subject is legal */
		rc = 0;
		goto out;
	}
	if (len >= cap) {
		/* Display only (the fingerprint identifies the card): mark the cut. */
		len = cap - 1;
		memcpy(out + len - 3, "...", 3);
		memcpy(out, p, len - 3);
	} else {
		memcpy(out, p, len);
	}
	out[len] = '\0';
	mfa_text_printable(out, cap, out);
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

static int cert_serial(X509 *x, char *out, size_t cap)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int rc = MFA_ERR_CERT;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	/* Truncating an identifier would make it lie: refuse instead. */
	if (strlen(hex) >= cap)
		goto out;
	memcpy(out, hex, strlen(hex) + 1);
	rc = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

static int cert_time(const ASN1_TIME *t, uint64_t *epoch)
{
	struct tm tm;
	time_t v;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return MFA_ERR_CERT;
	if ((v = timegm(&tm)) < 0)
		return MFA_ERR_CERT;
	*epoch = (uint64_t)v;
	return 0;
}

static int cert_key(X509 *x, struct mfa_cert_info *info)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	unsigned char *p = info->spki;
	int n;

	if (k == NULL)
		return MFA_ERR_CERT;
	info->alg = pkey_alg(k, info->key_desc, sizeof(info->key_desc));
	if ((n = i2d_PUBKEY(k, NULL)) <= 0 || (size_t)n > MFA_SPKI_MAX || i2d_PUBKEY(k, &p) != n)
		return MFA_ERR_CERT;
	info->spki_len = (size_t)n;
	return 0;
}

int mfa_cert_parse(const uint8_t *der, size_t len, struct mfa_cert_info *info)
{
	X509 *x = NULL;
	unsigned int mdlen = 0;
	int rc = MFA_ERR_CERT;

	ERR_set_mark();
	memset(info, 0, sizeof(*info));
	if ((x = cert_decode(der, len)) == NULL)
		goto out;
	if ((rc = cert_key(x, info)) != 0 ||
	    (rc = cert_subject(x, info->subject, sizeof(info->subject))) != 0 ||
	    (rc = cert_serial(x, info->serial, sizeof(info->serial))) != 0 ||
	    (rc = cert_time(X509_get0_notBefore(x), &info->not_before)) != 0 ||
	    (rc = cert_time(X509_get0_notAfter(x), &info->not_after)) != 0)
		goto out;
	rc = MFA_ERR_CRYPTO;
	if (EVP_Digest(der, len, info->fingerprint, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(info->fingerprint))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		memset(info, 0, sizeof(*info));
	X509_free(x);
	ERR_pop_to_mark();
	return rc;
}

int mfa_cert_check_profile(const struct mfa_cert_info *info, uint8_t profile)
{
	switch (profile) {
	case MFA_CARD_JPKI:
		return info->alg == MFA_CARD_ALG_RSA2048 ? 0 : MFA_ERR_KEYTYPE;
	case MFA_CARD_PIV:
		return info->alg == MFA_CARD_ALG_RSA2048 || info->alg == MFA_CARD_ALG_P256 ?
		    0 :
		    MFA_ERR_KEYTYPE;
	default:
		return MFA_ERR_INVAL;
	}
}

int mfa_cert_check_time(const struct mfa_cert_info *info, uint64_t now)
{
	return info->not_before <= now && now <= info->not_after ? 0 : MFA_ERR_EXPIRED;
}

int mfa_cert_check_chain(const uint8_t *der, size_t len, const char *cafile, uint64_t now)
{
	X509 *x = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = MFA_ERR_CERT;

	ERR_set_mark();
	if ((x = cert_decode(der, len)) == NULL)
		goto out;
	rc = MFA_ERR_INVAL;
	if (cafile == NULL || now > (uint64_t)LLONG_MAX)
		goto out;
	rc = MFA_ERR_IO;
	if ((store = X509_STORE_new()) == NULL || X509_STORE_load_file(store, cafile) != 1)
		goto out;
	rc = MFA_ERR_NOMEM;
	if ((ctx = X509_STORE_CTX_new()) == NULL || X509_STORE_CTX_init(ctx, store, x, NULL) != 1)
		goto out;
	/* The core never reads the clock itself: validity is judged at the caller's now. */
	X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	rc = X509_verify_cert(ctx) == 1 ? 0 : MFA_ERR_UNTRUSTED;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	ERR_pop_to_mark();
	return rc;
}

int mfa_cert_to_factor(const struct mfa_cert_info *info, uint8_t profile, uint64_t now,
    struct mfa_card_factor *f)
{
	memset(f, 0, sizeof(*f));
	if (profile != MFA_CARD_JPKI && profile != MFA_CARD_PIV)
		return MFA_ERR_INVAL;
	if (info->spki_len == 0 || info->spki_len > sizeof(f->spki) ||
	    sizeof(info->subject) > sizeof(f->subject) || sizeof(info->serial) > sizeof(f->serial))
		return MFA_ERR_CERT;
	f->present = true;
	f->profile = profile;
	memcpy(f->spki, info->spki, info->spki_len);
	f->spki_len = info->spki_len;
	memcpy(f->fingerprint, info->fingerprint, sizeof(f->fingerprint));
	memcpy(f->subject, info->subject, sizeof(info->subject));
	memcpy(f->serial, info->serial, sizeof(info->serial));
	f->not_before = info->not_before;
	f->not_after = info->not_after;
	f->enrolled_at = now;
	return 0;
}

/* --- PIV certificate objects ------------------------------------------------ */

#define PIV_CERTINFO_PLAIN 0x00
#define PIV_CERTINFO_GZIP 0x01

/*
 * Inflate one gzip member into out, never writing more than cap bytes: a
 * stream that wants more is refused, however well it compresses (a bomb of
 * zeros stops after cap bytes of work).
 */
static int gunzip_bounded(const uint8_t *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen)
{
	z_stream zs;
	int zr, rc = MFA_ERR_CERT;

	memset(&zs, 0, sizeof(zs));
	if (inlen > UINT_MAX || cap > UINT_MAX)
		return MFA_ERR_CERT;
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
		return MFA_ERR_NOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const */
	zs.avail_in = (uInt)inlen;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	zr = inflate(&zs, Z_FINISH);
	/* One complete member and nothing after it. */
	if (zr == Z_STREAM_END && zs.avail_in == 0 && zs.total_out > 0) {
		*outlen = zs.total_out;
		rc = 0;
	} else if (zr == Z_BUF_ERROR && zs.avail_out == 0) {
		rc = cap < MFA_CERT_MAX ? MFA_ERR_RANGE : MFA_ERR_CERT;
	}
	inflateEnd(&zs);
	return rc;
}

/* The TLVs inside 53: 70 once (required), 71 at most once, 72 and FE at most once. */
static int piv_object_fields(const uint8_t *body, size_t blen, const uint8_t **cert, size_t *clen,
    int *certinfo)
{
	struct mfa_reader r = mfa_reader_init(body, blen);
	bool seen70 = false, seen71 = false, seen72 = false, seenFE = false;
	const uint8_t *v;
	size_t vlen;
	uint32_t tag;

	*certinfo = PIV_CERTINFO_PLAIN; /* a missing CertInfo means uncompressed */
	while (r.len > 0) {
		bool *seen;

		if (mfa_tlv_get(&r, &tag, &v, &vlen) != 0)
			return MFA_ERR_CERT;
		switch (tag) {
		case 0x70:
			seen = &seen70;
			*cert = v;
			*clen = vlen;
			break;
		case 0x71:
			seen = &seen71;
			break;
		case 0x72:
			seen = &seen72;
			break; /* MSCUID (deprecated), ignored */
		case 0xFE:
			seen = &seenFE;
			break; /* error detection code, ignored */
		default:
			return MFA_ERR_CERT;
		}
		if (*seen)
			return MFA_ERR_CERT;
		*seen = true;
		if (tag == 0x71) {
			if (vlen != 1 || (v[0] != PIV_CERTINFO_PLAIN && v[0] != PIV_CERTINFO_GZIP))
				return MFA_ERR_CERT;
			*certinfo = v[0];
		}
	}
	return seen70 && *clen > 0 ? 0 : MFA_ERR_CERT;
}

int mfa_piv_cert_unwrap(const uint8_t *obj, size_t len, uint8_t *der, size_t cap, size_t *der_len)
{
	struct mfa_reader r = mfa_reader_init(obj, len);
	const uint8_t *body, *cert = NULL;
	size_t blen, clen = 0;
	uint32_t tag;
	int certinfo, rc;

	if (obj == NULL || der == NULL || der_len == NULL)
		return MFA_ERR_INVAL;
	if (mfa_tlv_get(&r, &tag, &body, &blen) != 0 || tag != 0x53 || r.len != 0)
		return MFA_ERR_CERT;
	if ((rc = piv_object_fields(body, blen, &cert, &clen, &certinfo)) != 0)
		return rc;
	if (certinfo == PIV_CERTINFO_GZIP)
		return gunzip_bounded(cert, clen, der, cap < MFA_CERT_MAX ? cap : MFA_CERT_MAX,
		    der_len);
	if (clen > MFA_CERT_MAX)
		return MFA_ERR_CERT;
	if (clen > cap)
		return MFA_ERR_RANGE;
	memcpy(der, cert, clen);
	*der_len = clen;
	return 0;
}
