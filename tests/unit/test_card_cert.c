/*
 * Unit tests for lib/card_cert.c, the host-side crypto of the card factor
 * (doc/DESIGN.md invariant 8): challenges, signature checks against the
 * enrolled key (weak RSA exponents refused), certificate parsing, subject
 * text, chains, the factor recorded at enrollment, and PIV certificate
 * objects (containers, gzip).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mfauth/card.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "cardtest.h"
#include "testutil.h"

/* --- PIV certificate objects and gzip ------------------------------------- */

static void test_piv_container(void **state)
{
	static const struct {
		const char *hex;
		int rc;
		size_t len;
		/* clang-format off */
	} cases[] = {
		{ "53 09 70 02 AA BB 71 01 00 FE 00", 0, 2 },
		{ "53 04 70 02 AA BB", 0, 2 },                          /* no CertInfo: plain */
		{ "53 0D 70 02 AA BB 71 01 00 72 02 01 02 FE 00", 0, 2 }, /* MSCUID ignored */
		{ "53 81 09 70 02 AA BB 71 01 00 FE 00", 0, 2 },
		{ "53 82 00 09 70 81 02 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 }, /* 53 len wrong */
		{ "53 0A 70 81 02 AA BB 71 01 00 FE 00", 0, 2 },
		{ "54 09 70 02 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* wrong outer tag */
		{ "53 09 70 02 AA BB 71 01 00 FE 00 00", MFA_ERR_CERT, 0 }, /* trailing byte */
		{ "53 05 71 01 00 FE 00", MFA_ERR_CERT, 0 },            /* no certificate */
		{ "53 07 70 00 71 01 00 FE 00", MFA_ERR_CERT, 0 },      /* empty certificate */
		{ "53 0D 70 02 AA BB 70 02 CC DD 71 01 00 FE 00", MFA_ERR_CERT, 0 }, /* 70 twice */
		{ "53 0C 70 02 AA BB 71 01 00 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* 71 twice */
		{ "53 0B 70 02 AA BB 71 01 00 FE 00 FE 00", MFA_ERR_CERT, 0 },     /* FE twice */
		{ "53 0C 70 02 AA BB 73 01 00 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* unknown tag */
		{ "53 09 30 02 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* 30 for 70 */
		{ "53 09 70 02 AA BB 71 01 02 FE 00", MFA_ERR_CERT, 0 },  /* CertInfo 02 */
		{ "53 09 70 02 AA BB 71 01 FF FE 00", MFA_ERR_CERT, 0 },
		{ "53 0A 70 02 AA BB 71 02 00 00 FE 00", MFA_ERR_CERT, 0 }, /* CertInfo length 2 */
		{ "53 08 70 02 AA BB 71 00 FE 00", MFA_ERR_CERT, 0 },     /* CertInfo empty */
		{ "53 09 70 08 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* 70 runs past */
		{ "53 09 70 80 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* indefinite */
		{ "53 0B 70 83 00 00 02 AA BB FE 00", MFA_ERR_CERT, 0 },  /* 83 form */
		{ "53 82 FF FF 70 02 AA BB", MFA_ERR_CERT, 0 },           /* 53 promises 64 KiB */
		{ "53 09 70 02 AA BB 71 01 01 FE 00", MFA_ERR_CERT, 0 },  /* "gzip", not gzip */
		{ "53", MFA_ERR_CERT, 0 },
		{ "", MFA_ERR_CERT, 0 },
	};
	/* clang-format on */
	uint8_t der[64];
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t obj[64];
		size_t n = tu_unhex(cases[i].hex, obj, sizeof(obj)), len = 0;
		int rc = mfa_piv_cert_unwrap(obj, n, der, sizeof(der), &len);

		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].hex, rc,
			    cases[i].rc);
		if (rc == 0) {
			assert_int_equal(len, cases[i].len);
			assert_int_equal(der[0], 0xAA);
		}
	}
	/* A certificate that does not fit the caller's buffer. */
	{
		uint8_t obj[64];
		size_t n = tu_unhex("53 09 70 02 AA BB 71 01 00 FE 00", obj, sizeof(obj)), len;
		assert_int_equal(mfa_piv_cert_unwrap(obj, n, der, 1, &len), MFA_ERR_RANGE);
	}
}

static void test_piv_gzip(void **state)
{
	size_t sizes[] = { MFA_CERT_MAX, MFA_CERT_MAX + 1, 1u << 20 };
	uint8_t *obj = malloc(1u << 16), *der = malloc(MFA_CERT_MAX);
	size_t objlen, len, gzlen;
	uint8_t *gz;
	(void)state;

	assert_non_null(obj);
	assert_non_null(der);
	/* a real certificate round-trips */
	gz = gzip(cert_rsa_a, cert_rsa_a_len, &gzlen);
	objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len), 0);
	assert_int_equal(len, cert_rsa_a_len);
	assert_memory_equal(der, cert_rsa_a, len);
	/* cut short, or followed by garbage: refused */
	objlen = piv_object(gz, gzlen - 5, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len), MFA_ERR_CERT);
	{
		uint8_t *tail = malloc(gzlen + 3);
		assert_non_null(tail);
		memcpy(tail, gz, gzlen);
		memcpy(tail + gzlen, "\x1f\x8b\x00", 3);
		objlen = piv_object(tail, gzlen + 3, 0x01, obj, 1u << 16);
		assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len),
		    MFA_ERR_CERT);
		free(tail);
	}
	/* plain bytes flagged as gzip */
	objlen = piv_object(cert_rsa_a, cert_rsa_a_len, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len), MFA_ERR_CERT);
	/* fits in the caller's buffer or not */
	objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, cert_rsa_a_len - 1, &len),
	    MFA_ERR_RANGE);
	free(gz);
	/* exactly MFA_CERT_MAX inflates; one more byte, or a 1 MiB bomb, does not */
	for (size_t i = 0; i < NELEM(sizes); i++) {
		uint8_t *zeros = calloc(1, sizes[i]);
		assert_non_null(zeros);
		gz = gzip(zeros, sizes[i], &gzlen);
		assert_true(gzlen < 2048); /* it is a bomb: tiny in, huge out */
		objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
		assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len),
		    i == 0 ? 0 : MFA_ERR_CERT);
		if (i == 0)
			assert_int_equal(len, MFA_CERT_MAX);
		free(gz);
		free(zeros);
	}
	free(obj);
	free(der);
}

/* --- card_cert.c ---------------------------------------------------------- */

static void test_challenge(void **state)
{
	uint8_t a[MFA_CHALLENGE_LEN], b[MFA_CHALLENGE_LEN], big[MFA_CHALLENGE_MAX];
	(void)state;

	assert_int_equal(mfa_challenge_new(a, sizeof(a)), 0);
	assert_int_equal(mfa_challenge_new(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(mfa_challenge_new(big, sizeof(big)), 0);
	assert_int_equal(mfa_challenge_new(a, 31), MFA_ERR_INVAL);
	assert_int_equal(mfa_challenge_new(big, MFA_CHALLENGE_MAX + 1), MFA_ERR_INVAL);
	assert_int_equal(mfa_challenge_new(NULL, 32), MFA_ERR_INVAL);
}

/* Sign chal with key the way the card does (SHA-256), for the host checks. */
static size_t host_sign(EVP_PKEY *key, const uint8_t *chal, size_t n, uint8_t *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = MFA_SIG_MAX;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &len, chal, n), 1);
	EVP_MD_CTX_free(md);
	return len;
}

static void test_verify_signature(void **state)
{
	uint8_t chal[64], sig[MFA_SIG_MAX], bad[MFA_SIG_MAX + 8], spki[MFA_SPKI_MAX + 2];
	size_t rlen, elen;
	enum mfa_card_alg alg;
	EVP_PKEY *rsa1024 = keygen("RSA", 1024, NULL), *p384 = keygen("EC", 0, "P-384");
	uint8_t spki1024[MFA_SPKI_MAX], spki384[MFA_SPKI_MAX];
	size_t l1024 = spki_of(rsa1024, spki1024), l384 = spki_of(p384, spki384);
	(void)state;

	assert_int_equal(mfa_challenge_new(chal, sizeof(chal)), 0);
	rlen = host_sign(rsa_a, chal, sizeof(chal), sig);
	assert_int_equal(rlen, 256);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, rlen),
	    0);
	memcpy(bad, sig, rlen);
	bad[100] ^= 0x01;
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     bad, rlen),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, rlen - 1),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, 0),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     NULL, 0),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal,
	                     sizeof(chal) - 1, sig, rlen),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, 31, sig, rlen),
	    MFA_ERR_INVAL);
	/* unusable enrolled keys */
	memcpy(spki, spki_rsa_a, spki_rsa_a_len);
	spki[spki_rsa_a_len] = 0;
	assert_int_equal(mfa_card_verify_signature(spki, spki_rsa_a_len + 1, chal, sizeof(chal),
	                     sig, rlen),
	    MFA_ERR_CORRUPT);
	assert_int_equal(mfa_card_verify_signature(spki, 20, chal, sizeof(chal), sig, rlen),
	    MFA_ERR_CORRUPT);
	assert_int_equal(mfa_card_verify_signature(spki, 0, chal, sizeof(chal), sig, rlen),
	    MFA_ERR_CORRUPT);
	assert_int_equal(mfa_card_verify_signature(spki1024, l1024, chal, sizeof(chal), sig, 128),
	    MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_card_verify_signature(spki384, l384, chal, sizeof(chal), sig, 64),
	    MFA_ERR_KEYTYPE);
	/* ECDSA */
	elen = host_sign(ec_a, chal, sizeof(chal), sig);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	                     sig, elen),
	    0);
	assert_int_equal(mfa_card_verify_signature(spki_ec_b, spki_ec_b_len, chal, sizeof(chal),
	                     sig, elen),
	    MFA_ERR_BADSIG);
	memcpy(bad, sig, elen);
	bad[elen] = 0x00; /* trailing byte after the DER */
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	                     bad, elen + 1),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	                     (const uint8_t *)"\x30\x00", 2),
	    MFA_ERR_BADSIG);
	memset(bad, 0xAB, sizeof(bad));
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	                     bad, MFA_SIG_MAX + 1),
	    MFA_ERR_BADSIG);
	/* algorithms */
	assert_int_equal(mfa_spki_alg(spki_rsa_a, spki_rsa_a_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_RSA2048);
	assert_int_equal(mfa_spki_alg(spki_ec_a, spki_ec_a_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_P256);
	assert_int_equal(mfa_spki_alg(spki1024, l1024, &alg), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_spki_alg(spki384, l384, &alg), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_spki_alg(spki, 20, &alg), MFA_ERR_CORRUPT);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p384);
}

/* A public RSA key with template's modulus and exponent e (no private half). */
static EVP_PKEY *rsa_with_exponent(EVP_PKEY *template, unsigned long e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *n = NULL, *bn_e = BN_new();

	assert_non_null(bld);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_get_bn_param(template, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(BN_set_word(bn_e, e), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e), 1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(bn_e);
	return k;
}

/* The EMSA-PKCS1-v1_5 block for SHA-256(chal), 256 bytes (RFC 8017 §9.2). */
static void pkcs1_block(const uint8_t *chal, size_t n, uint8_t block[256])
{
	/* clang-format off */
	static const uint8_t prefix[19] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
	};
	/* clang-format on */
	unsigned int mdlen = 0;

	memset(block, 0xff, 256);
	block[0] = 0x00;
	block[1] = 0x01;
	block[256 - 32 - 19 - 1] = 0x00;
	memcpy(block + 256 - 32 - 19, prefix, sizeof(prefix));
	assert_int_equal(EVP_Digest(chal, n, block + 256 - 32, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
}

/*
 * Issue 12 finding 6: a 2048-bit RSA key with e = 1 let the padded block
 * itself pass as a signature (s^1 = s), with no private key anywhere; e = 3
 * is a card emulator's choice, not a card's.  Both are refused at
 * enrollment (the certificate's key is no RSA-2048 of ours) and at login.
 */
static void test_weak_rsa_exponents(void **state)
{
	static const unsigned long weak[] = { 1, 3 };
	uint8_t chal[32], block[256], spki[MFA_SPKI_MAX];
	struct mfa_cert_info info;
	enum mfa_card_alg alg;
	(void)state;

	assert_int_equal(mfa_challenge_new(chal, sizeof(chal)), 0);
	pkcs1_block(chal, sizeof(chal), block);
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		EVP_PKEY *k = rsa_with_exponent(rsa_a, weak[i]);
		size_t spki_len = spki_of(k, spki), len;
		uint8_t *der = make_cert(k, "Emulator", rsa_a, "Card CA", "0E", &len);

		/* Enrollment: parsed, but not a key of any profile. */
		assert_int_equal(mfa_cert_parse(der, len, &info), 0);
		assert_int_equal(info.alg, MFA_CARD_ALG_NONE);
		assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), MFA_ERR_KEYTYPE);
		assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), MFA_ERR_KEYTYPE);
		assert_int_equal(mfa_spki_alg(spki, spki_len, &alg), MFA_ERR_KEYTYPE);
		/* Login with such a key enrolled (an old record): refused, never verified. */
		assert_int_not_equal(mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal),
		                         block, sizeof(block)),
		    0);
		assert_int_equal(mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal),
		                     block, sizeof(block)),
		    MFA_ERR_KEYTYPE);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
	{
		/* e = 3 with a real private key: a genuine signature is still refused. */
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		EVP_PKEY *k3 = NULL;
		BIGNUM *three = BN_new();
		uint8_t sig[MFA_SIG_MAX];
		size_t slen, spki_len;

		assert_non_null(ctx);
		assert_int_equal(BN_set_word(three, 3), 1);
		assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
		assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, three), 1);
		assert_int_equal(EVP_PKEY_keygen(ctx, &k3), 1);
		spki_len = spki_of(k3, spki);
		slen = host_sign(k3, chal, sizeof(chal), sig);
		assert_int_equal(mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal), sig,
		                     slen),
		    MFA_ERR_KEYTYPE);
		EVP_PKEY_free(k3);
		EVP_PKEY_CTX_free(ctx);
		BN_free(three);
	}
	/* The same modulus with e = 65537 is the good key it always was. */
	assert_int_equal(mfa_spki_alg(spki_rsa_a, spki_rsa_a_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_RSA2048);
}

static void test_cert_parse(void **state)
{
	struct mfa_cert_info info;
	uint8_t md[32], *copy;
	(void)state;

	assert_int_equal(mfa_cert_parse(cert_rsa_a, cert_rsa_a_len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_RSA2048);
	assert_string_equal(info.key_desc, "RSA-2048");
	assert_int_equal(info.spki_len, spki_rsa_a_len);
	assert_memory_equal(info.spki, spki_rsa_a, spki_rsa_a_len);
	sha256(cert_rsa_a, cert_rsa_a_len, md);
	assert_memory_equal(info.fingerprint, md, 32);
	assert_string_equal(info.subject, "CN=Test Clerk,O=mfauth test,C=JP");
	assert_string_equal(info.serial, "0123456789ABCDEF");
	assert_int_equal(info.not_before, CERT_NOT_BEFORE);
	assert_int_equal(info.not_after, CERT_NOT_AFTER);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_cert_check_profile(&info, 7), MFA_ERR_INVAL);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_BEFORE), 0);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_AFTER), 0);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_BEFORE - 1), MFA_ERR_EXPIRED);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_AFTER + 1), MFA_ERR_EXPIRED);

	assert_int_equal(mfa_cert_parse(cert_ec_a, cert_ec_a_len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_P256);
	assert_string_equal(info.key_desc, "EC-prime256v1");
	assert_string_equal(info.serial, "42");
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), 0);

	/* malformed: trailing byte, cut, empty, oversized */
	copy = malloc(MFA_CERT_MAX + 1);
	assert_non_null(copy);
	memcpy(copy, cert_rsa_a, cert_rsa_a_len);
	copy[cert_rsa_a_len] = 0;
	assert_int_equal(mfa_cert_parse(copy, cert_rsa_a_len + 1, &info), MFA_ERR_CERT);
	assert_int_equal(info.spki_len, 0);
	assert_int_equal(mfa_cert_parse(copy, cert_rsa_a_len - 1, &info), MFA_ERR_CERT);
	assert_int_equal(mfa_cert_parse(copy, 0, &info), MFA_ERR_CERT);
	assert_int_equal(mfa_cert_parse(copy, MFA_CERT_MAX + 1, &info), MFA_ERR_CERT);
	copy[0] = 0x31;
	assert_int_equal(mfa_cert_parse(copy, cert_rsa_a_len, &info), MFA_ERR_CERT);
	free(copy);
}

static void test_cert_other_keys(void **state)
{
	EVP_PKEY *rsa1024 = keygen("RSA", 1024, NULL), *p384 = keygen("EC", 0, "P-384");
	struct mfa_cert_info info;
	uint8_t *der;
	size_t len;
	(void)state;

	der = make_cert(rsa1024, "Weak", rsa1024, "Weak", "01", &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_NONE);
	assert_string_equal(info.key_desc, "RSA-1024");
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), MFA_ERR_KEYTYPE);
	OPENSSL_free(der);
	der = make_cert(p384, "P384", p384, "P384", "02", &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_NONE);
	assert_string_equal(info.key_desc, "EC-secp384r1");
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), MFA_ERR_KEYTYPE);
	OPENSSL_free(der);
	/* a serial too long to record is refused, not cut */
	der = make_cert(p384, "Long", p384, "Long",
	    "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627"
	    "28292A",
	    &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), MFA_ERR_CERT);
	OPENSSL_free(der);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p384);
}

/* A self-signed certificate with the given subject entries (NULL-terminated
 * "field", "value" pairs; none = an empty name) and notBefore. */
static uint8_t *make_cert_named(EVP_PKEY *key, const char *const *entries, time_t not_before,
    size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	assert_non_null(name);
	for (size_t i = 0; entries[i] != NULL; i += 2)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, entries[i], MBSTRING_UTF8,
		                     (const unsigned char *)entries[i + 1], -1, -1, 0),
		    1);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), CERT_NOT_AFTER));
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_true((n = i2d_X509(x, &der)) > 0);
	*len = (size_t)n;
	X509_NAME_free(name);
	X509_free(x);
	return der;
}

static void test_cert_subject_edges(void **state)
{
	static const char *const empty[] = { NULL };
	static const char *const many[] = { "OU",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "OU",
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "OU",
		"ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "OU",
		"ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "OU",
		"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", NULL };
	/* a control character and Japanese: the record gets printable ASCII only */
	static const char *const odd[] = { "CN", "\xe5\xb1\xb1\xe7\x94\xb0\x01x", NULL };
	struct mfa_cert_info info;
	uint8_t *der;
	size_t len;
	(void)state;

	der = make_cert_named(ec_a, empty, CERT_NOT_BEFORE, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_string_equal(info.subject, "");
	OPENSSL_free(der);

	der = make_cert_named(ec_a, many, CERT_NOT_BEFORE, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_int_equal(strlen(info.subject), sizeof(info.subject) - 1);
	assert_string_equal(info.subject + sizeof(info.subject) - 4, "...");
	assert_memory_equal(info.subject, "OU=eeee", 7);
	OPENSSL_free(der);

	der = make_cert_named(ec_a, odd, CERT_NOT_BEFORE, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_true(strlen(info.subject) > 3);
	for (const char *c = info.subject; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c <= 0x7E);
	OPENSSL_free(der);

	/* validity before 1970 cannot be recorded as epoch seconds */
	der = make_cert_named(ec_a, empty, -86400, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), MFA_ERR_CERT);
	OPENSSL_free(der);
}

static char *write_pem(const uint8_t *der, size_t len)
{
	char tmpl[] = "/tmp/mfauth-test-ca-XXXXXX";
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int fd = mkstemp(tmpl);
	FILE *fp;

	assert_non_null(x);
	assert_true(fd >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
	X509_free(x);
	return strdup(tmpl);
}

static void test_cert_chain(void **state)
{
	uint8_t *ca, *other, *leaf;
	size_t calen, otherlen, leaflen;
	char *cafile, *otherfile;
	(void)state;

	ca = make_cert(ec_b, "Test CA", ec_b, "Test CA", "0100", &calen);
	other = make_cert(rsa_b, "Other CA", rsa_b, "Other CA", "0200", &otherlen);
	leaf = make_cert(rsa_a, "Clerk", ec_b, "Test CA", "0300", &leaflen);
	cafile = write_pem(ca, calen);
	otherfile = write_pem(other, otherlen);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, cafile, CERT_NOT_BEFORE + 1000), 0);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, otherfile, CERT_NOT_BEFORE + 1000),
	    MFA_ERR_UNTRUSTED);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, cafile, CERT_NOT_AFTER + 1000),
	    MFA_ERR_UNTRUSTED);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, cafile, CERT_NOT_BEFORE - 1000),
	    MFA_ERR_UNTRUSTED);
	/* a self-signed card certificate is not trusted by being self-signed */
	assert_int_equal(mfa_cert_check_chain(cert_rsa_a, cert_rsa_a_len, cafile,
	                     CERT_NOT_BEFORE + 1000),
	    MFA_ERR_UNTRUSTED);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, "/nonexistent/mfauth-ca.pem",
	                     CERT_NOT_BEFORE + 1000),
	    MFA_ERR_IO);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen - 1, cafile, CERT_NOT_BEFORE + 1000),
	    MFA_ERR_CERT);
	unlink(cafile);
	unlink(otherfile);
	free(cafile);
	free(otherfile);
	OPENSSL_free(ca);
	OPENSSL_free(other);
	OPENSSL_free(leaf);
}

static void test_cert_to_factor(void **state)
{
	struct mfa_cert_info info;
	struct mfa_card_factor f;
	enum mfa_card_alg alg;
	(void)state;

	assert_int_equal(mfa_cert_parse(cert_ec_a, cert_ec_a_len, &info), 0);
	assert_int_equal(mfa_cert_to_factor(&info, MFA_CARD_PIV, 1750000000, &f), 0);
	assert_true(f.present);
	assert_int_equal(f.profile, MFA_CARD_PIV);
	assert_int_equal(f.spki_len, spki_ec_a_len);
	assert_memory_equal(f.spki, spki_ec_a, spki_ec_a_len);
	assert_memory_equal(f.fingerprint, info.fingerprint, 32);
	assert_string_equal(f.subject, "CN=PIV Clerk,O=mfauth test,C=JP");
	assert_string_equal(f.serial, "42");
	assert_int_equal(f.not_before, CERT_NOT_BEFORE);
	assert_int_equal(f.not_after, CERT_NOT_AFTER);
	assert_int_equal(f.enrolled_at, 1750000000);
	/* the login side reads the algorithm back from the recorded key */
	assert_int_equal(mfa_spki_alg(f.spki, f.spki_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_P256);
	assert_int_equal(mfa_cert_to_factor(&info, 3, 0, &f), MFA_ERR_INVAL);
	assert_false(f.present);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piv_container),
		cmocka_unit_test(test_piv_gzip),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_verify_signature),
		cmocka_unit_test(test_weak_rsa_exponents),
		cmocka_unit_test(test_cert_parse),
		cmocka_unit_test(test_cert_other_keys),
		cmocka_unit_test(test_cert_subject_edges),
		cmocka_unit_test(test_cert_chain),
		cmocka_unit_test(test_cert_to_factor),
	};

	return cmocka_run_group_tests_name("card_cert", tests, cardtest_keys_setup,
	    cardtest_keys_teardown);
}
