/*
 * Unit tests for the PIV profile (lib/card_piv.c): every APDU of an EC and
 * an RSA login, a certificate read and the CHUID read compared byte for
 * byte with doc/DESIGN.md §5's PIV table, the full-AID fallback, 63 0X
 * cards, malformed GENERAL AUTHENTICATE responses and a gzip bomb from the
 * card.  The fake card is cardtest.c's.
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

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "cardtest.h"
#include "testutil.h"

static void test_piv_ec_login_contract(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], md[32], sig[MFA_SIG_MAX];
	char mdhex[32 * 3 + 1], sign_apdu[256];
	size_t siglen = 0;
	int tries = -2;
	(void)state;

	fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
	fixed_challenge(chal);
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 3);
	assert_int_equal(mfa_card_verify_pin(&card, "123456", 6, NULL), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, sizeof(chal), sig,
	                     sizeof(sig), &siglen),
	    0);
	sha256(chal, sizeof(chal), md);
	hexstr(md, 32, mdhex);
	snprintf(sign_apdu, sizeof(sign_apdu), "00 87 11 9A 26 7C 24 82 00 81 20 %s 00", mdhex);
	{
		const char *want[] = { PIV_SELECT, VERIFY_QUERY,
			"00 20 00 80 08 31 32 33 34 35 36 FF FF", sign_apdu };
		assert_apdus(f, 0, want, NELEM(want));
	}
	assert_int_equal(f->count, 4);
	assert_true(siglen >= 8 && siglen <= 72);
	assert_int_equal(sig[0], 0x30);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	                     sig, siglen),
	    0);
	assert_int_equal(mfa_card_verify_signature(spki_ec_b, spki_ec_b_len, chal, sizeof(chal),
	                     sig, siglen),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, siglen),
	    MFA_ERR_BADSIG);
	free(f);
}

static void test_piv_rsa_login_contract(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], md[32], sig[MFA_SIG_MAX], block[266];
	char first[5 * 3 + 255 * 3 + 1], second[5 * 3 + 11 * 3 + 4];
	size_t siglen = 0, n = 0;
	(void)state;

	fake_emulate(f, MFA_CARD_PIV, rsa_a, NULL, 0, "12345678");
	fixed_challenge(chal);
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_verify_pin(&card, "12345678", 8, NULL), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, sizeof(chal),
	                     sig, sizeof(sig), &siglen),
	    0);
	assert_int_equal(siglen, 256);

	/* 7C 82 01 06 82 00 81 82 01 00 <00 01 FF*202 00 DigestInfo hash> */
	n = tu_unhex("7C 82 01 06 82 00 81 82 01 00 00 01", block, sizeof(block));
	memset(block + n, 0xFF, 202);
	n += 202;
	block[n++] = 0x00;
	n += tu_unhex(DIGESTINFO_PREFIX, block + n, sizeof(block) - n);
	sha256(chal, sizeof(chal), md);
	memcpy(block + n, md, 32);
	n += 32;
	assert_int_equal(n, 266);
	memcpy(first, "10 87 07 9A FF ", 15);
	hexstr(block, 255, first + 15);
	memcpy(second, "00 87 07 9A 0B ", 15);
	hexstr(block + 255, 11, second + 15);
	strcat(second, " 00");
	{
		const char *want[] = { PIV_SELECT, "00 20 00 80 08 31 32 33 34 35 36 37 38", first,
			second, "00 C0 00 00 08" };
		assert_apdus(f, 0, want, NELEM(want));
	}
	/* select, verify, two chained commands, one GET RESPONSE (+ tries = 6 in a login) */
	assert_int_equal(f->count, 5);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, siglen),
	    0);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_b, spki_rsa_b_len, chal, sizeof(chal),
	                     sig, siglen),
	    MFA_ERR_BADSIG);
	free(f);
}

static void test_piv_read_cert_contract(void **state)
{
	uint8_t *obj = malloc(MFA_CERT_MAX + 64), *gz;
	size_t objlen, gzlen, rounds;
	(void)state;

	assert_non_null(obj);
	for (int compressed = 0; compressed <= 1; compressed++) {
		struct fake *f = fake_new();
		const char *want[] = { PIV_SELECT, PIV_GET_CERT };

		if (compressed) {
			gz = gzip(cert_ec_a, cert_ec_a_len, &gzlen);
			objlen = piv_object(gz, gzlen, 0x01, obj, MFA_CERT_MAX + 64);
			free(gz);
		} else {
			objlen = piv_object(cert_ec_a, cert_ec_a_len, 0x00, obj, MFA_CERT_MAX + 64);
		}
		fake_emulate(f, MFA_CARD_PIV, ec_a, obj, objlen, "123456");
		assert_int_equal(flow_read_cert(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len), 0);
		assert_apdus(f, 0, want, NELEM(want));
		rounds = (objlen + 255) / 256 - 1;
		assert_int_equal(f->count, 2 + rounds);
		for (size_t i = 0; i < rounds; i++)
			assert_memory_equal(f->log[2 + i], "\x00\xC0\x00\x00", 4);
		free(f);
	}
	/* An RSA certificate needs GET RESPONSE rounds too. */
	{
		struct fake *f = fake_new();
		objlen = piv_object(cert_rsa_a, cert_rsa_a_len, 0x00, obj, MFA_CERT_MAX + 64);
		fake_emulate(f, MFA_CARD_PIV, rsa_a, obj, objlen, "123456");
		assert_int_equal(flow_read_cert(f, MFA_CARD_PIV, cert_rsa_a, cert_rsa_a_len), 0);
		assert_true(f->count >= 4);
		free(f);
	}
	free(obj);
}

static void test_piv_sign_response_malformed(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		/* clang-format off */
	} cases[] = {
		{ "7C 0A 82 08 30 06 02 01 01 02 01 01 90 00", 0 },     /* well-formed, 8 bytes */
		{ "7D 0A 82 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* wrong outer tag */
		{ "7C 0A 83 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* 83 for 82 */
		{ "7C 0A 82 08 30 06 02 01 01 02 01 01 00 90 00", MFA_ERR_CARD }, /* trailing byte */
		{ "7C 0B 82 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* outer too long */
		{ "7C 0A 82 09 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* inner too long */
		{ "7C 02 82 00 90 00", MFA_ERR_CARD },                          /* empty signature */
		{ "7C 05 82 03 30 01 00 90 00", MFA_ERR_CARD },                 /* too short */
		{ "7C 80 82 08 30 06 02 01 01 02 01 01 00 00 90 00", MFA_ERR_CARD }, /* indefinite */
		{ "7C 84 00 00 00 0A 82 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },
		{ "90 00", MFA_ERR_CARD },
		{ "69 82", MFA_ERR_PIN_REQUIRED },
		{ "6A 80", MFA_ERR_CARD },
		{ "", MFA_ERR_CARD },
		{ "7C", MFA_ERR_CARD },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct step script[] = { { PIV_SELECT, "90 00" }, { NULL, cases[i].resp } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
		size_t siglen = 0;
		int rc;

		f->script = script;
		f->nscript = NELEM(script);
		fixed_challenge(chal);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		rc = mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, sizeof(chal), sig,
		    sizeof(sig), &siglen);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].resp, rc,
			    cases[i].rc);
		if (rc == 0)
			assert_int_equal(siglen, 8);
		free(f);
	}
	/* An EC-sized signature where RSA was asked for: refused. */
	{
		struct step script[] = { { PIV_SELECT, "90 00" }, { NULL, "90 00" },
			{ NULL, "7C 0A 82 08 30 06 02 01 01 02 01 01 90 00" } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
		size_t siglen = 0;

		f->script = script;
		f->nscript = NELEM(script);
		fixed_challenge(chal);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal,
		                     sizeof(chal), sig, sizeof(sig), &siglen),
		    MFA_ERR_CARD);
		free(f);
	}
}

static void test_piv_gzip_bomb_via_card(void **state)
{
	uint8_t *zeros = calloc(1, 1u << 20), *gz, *obj = malloc(1u << 16);
	size_t gzlen, objlen;
	struct fake *f = fake_new();
	(void)state;

	assert_non_null(zeros);
	assert_non_null(obj);
	gz = gzip(zeros, 1u << 20, &gzlen);
	objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
	fake_emulate(f, MFA_CARD_PIV, ec_a, obj, objlen, "123456");
	assert_int_equal(flow_read_cert(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len), MFA_ERR_CERT);
	free(f);
	free(gz);
	free(zeros);
	free(obj);
}

/* PIV: one GET DATA of the CHUID; its 61xx rest is left on the card. */
static void test_read_id_piv(void **state)
{
	uint8_t obj[2200], id[MFA_CARD_ID_MAX], want[MFA_CARD_ID_MAX];
	size_t len, n = 0, wn = 0;
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	static const char *const expect[] = { PIV_SELECT, PIV_GET_CHUID };
	(void)state;

	len = chuid_object(0x42, false, 1024, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, want, sizeof(want), &wn), 0);
	fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
	f->chuid = obj;
	f->chuid_len = len;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), 0);
	assert_int_equal(f->count, 2);
	assert_apdus(f, 0, expect, NELEM(expect));
	assert_int_equal(f->resplen[1], 256 + 2); /* a head, then 61 00 */
	assert_int_equal(n, wn);
	assert_memory_equal(id, want, n);
	/* no CHUID: NOENT, still one APDU */
	f->chuid = NULL;
	assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), MFA_ERR_NOENT);
	assert_int_equal(f->count, 3);
	free(f);
	/* status words and shapes that are no CHUID */
	{
		static const char *const bad[] = { "69 82", "6D 00", "90 00",
			"53 05 30 19 00 61 20", "63 C2" };
		for (size_t i = 0; i < NELEM(bad); i++) {
			/* clang-format off */
			struct step script[] = {
				{ PIV_SELECT, "90 00" },
				{ PIV_GET_CHUID, bad[i] },
			};
			/* clang-format on */
			struct fake *g = fake_new();
			struct mfa_card_io gio = fake_io(g);

			g->script = script;
			g->nscript = NELEM(script);
			assert_int_equal(mfa_card_open(&card, &gio, MFA_CARD_PIV), 0);
			if (mfa_card_read_id(&card, id, sizeof(id), &n) != MFA_ERR_CARD)
				fail_msg("case %zu accepted", i);
			assert_false(g->mismatch);
			free(g);
		}
	}
}

/* SELECT by the short AID, then by the full one on 6A82; nothing more. */
static void test_piv_select_full_aid(void **state)
{
	static const struct {
		const char *short_sw, *full_sw;
		int rc;
		size_t count;
		/* clang-format off */
	} cases[] = {
		{ "90 00", NULL, 0, 1 },
		{ "6A 82", "90 00", 0, 2 },
		{ "6A 82", "6A 82", MFA_ERR_NOAPP, 2 },
		{ "6A 82", "6F 00", MFA_ERR_CARD, 2 },
		{ "6F 00", NULL, MFA_ERR_CARD, 1 },     /* only 6A82 means "try the other" */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		/* clang-format off */
		struct step script[] = {
			{ PIV_SELECT, cases[i].short_sw },
			{ PIV_SELECT_FULL, cases[i].full_sw ? cases[i].full_sw : "" },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int rc;

		f->script = script;
		f->nscript = cases[i].count;
		rc = mfa_card_open(&card, &io, MFA_CARD_PIV);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
		assert_false(f->mismatch);
		assert_int_equal(f->count, cases[i].count);
		free(f);
	}
}

/* 63 0X on PIV: X tries left where X is 1..15; 63 00 is no count. */
static void test_piv_630x(void **state)
{
	static const struct {
		const char *query;
		int rc, tries;
		/* clang-format off */
	} q[] = {
		{ "63 02", 0, 2 },
		{ "63 01", 0, 1 },
		{ "63 0F", 0, 15 },
		{ "63 00", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "63 81", MFA_ERR_TRIES_UNKNOWN, 0 },
	};
	/* clang-format on */
	static const struct {
		const char *sw;
		int rc, tries;
		/* clang-format off */
	} v[] = {
		{ "63 01", MFA_ERR_BADPIN, 1 },
		{ "63 00", MFA_ERR_CARD, 77 },          /* after a PIN: an error that counts */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(q); i++) {
		struct step script[] = { { PIV_SELECT, "90 00" }, { VERIFY_QUERY, q[i].query } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 77, rc;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		rc = mfa_card_pin_tries(&card, &tries);
		if (rc != q[i].rc)
			fail_msg("query %s: rc %d", q[i].query, rc);
		if (rc == 0)
			assert_int_equal(tries, q[i].tries);
		free(f);
	}
	for (size_t i = 0; i < NELEM(v); i++) {
		/* clang-format off */
		struct step script[] = {
			{ PIV_SELECT, "90 00" },
			{ "00 20 00 80 08 31 32 33 34 35 36 FF FF", v[i].sw },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 77;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_verify_pin(&card, "123456", 6, &tries), v[i].rc);
		assert_int_equal(tries, v[i].tries);
		assert_false(f->mismatch);
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piv_ec_login_contract),
		cmocka_unit_test(test_piv_rsa_login_contract),
		cmocka_unit_test(test_piv_read_cert_contract),
		cmocka_unit_test(test_piv_sign_response_malformed),
		cmocka_unit_test(test_piv_gzip_bomb_via_card),
		cmocka_unit_test(test_read_id_piv),
		cmocka_unit_test(test_piv_select_full_aid),
		cmocka_unit_test(test_piv_630x),
	};

	return cmocka_run_group_tests_name("card_piv", tests, cardtest_keys_setup,
	    cardtest_keys_teardown);
}
