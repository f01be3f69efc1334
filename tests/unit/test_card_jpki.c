/*
 * Unit tests for the JPKI profile (lib/card_jpki.c): every APDU of a login,
 * a certificate read and the identifier read compared byte for byte with
 * doc/DESIGN.md §5's JPKI table, short reads, 6Cxx, and hostile
 * certificate headers.  The fake card is cardtest.c's.
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

static void test_jpki_login_contract(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], md[32], sig[MFA_SIG_MAX];
	char mdhex[32 * 3 + 1], sign_apdu[512];
	size_t siglen = 0;
	int tries = -2;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	fixed_challenge(chal);
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_card_profile(&card), MFA_CARD_JPKI);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 3);
	assert_true(mfa_card_tries_ok(tries, 2));
	assert_int_equal(mfa_card_verify_pin(&card, "1234", 4, NULL), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, sizeof(chal),
	                     sig, sizeof(sig), &siglen),
	    0);
	assert_int_equal(siglen, 256);

	sha256(chal, sizeof(chal), md);
	hexstr(md, 32, mdhex);
	snprintf(sign_apdu, sizeof(sign_apdu), "80 2A 00 80 33 %s %s 00", DIGESTINFO_PREFIX, mdhex);
	{
		const char *want[] = { JPKI_SELECT_AP, JPKI_SELECT_PIN, VERIFY_QUERY,
			"00 20 00 80 04 31 32 33 34", JPKI_SELECT_KEY, sign_apdu };
		assert_apdus(f, 0, want, NELEM(want));
	}
	/* At most 6 APDUs from SELECT AP to the signature. */
	assert_int_equal(f->count, 6);
	assert_int_equal(card.apdus, 6);
	/* The fake card really signed: the enrolled key verifies it, another does not. */
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, siglen),
	    0);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_b, spki_rsa_b_len, chal, sizeof(chal),
	                     sig, siglen),
	    MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	                     sig, siglen),
	    MFA_ERR_BADSIG);
	chal[0] ^= 1;
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	                     sig, siglen),
	    MFA_ERR_BADSIG);
	free(f);
}

static void test_jpki_read_cert_contract(void **state)
{
	struct fake *f = fake_new();
	char buf[64];
	const char *want[3] = { JPKI_SELECT_AP, JPKI_SELECT_CERT, "00 B0 00 00 04" };
	size_t off = 4, i = 3;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	assert_int_equal(flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len), 0);
	assert_apdus(f, 0, want, 3);
	/* then 00 B0 offH offL Le until LLLL + 4 bytes, Le 00 (256) but for the tail */
	while (off < cert_rsa_a_len) {
		size_t n = cert_rsa_a_len - off < 256 ? cert_rsa_a_len - off : 256;
		const char *p = buf;
		snprintf(buf, sizeof(buf), "00 B0 %02zX %02zX %02zX", off >> 8, off & 0xFF,
		    n == 256 ? (size_t)0 : n);
		assert_apdus(f, i++, &p, 1);
		off += n;
	}
	assert_int_equal(f->count, i);
	free(f);
}

static void test_jpki_short_reads(void **state)
{
	struct fake *f = fake_new();
	(void)state;

	/* A card answering with less than asked is followed, offset by offset. */
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	f->max_read = 100;
	assert_int_equal(flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len), 0);
	assert_true(f->count > 3 + cert_rsa_a_len / 100);
	free(f);
	/* ...but not forever: 1 byte per READ BINARY hits MFA_CARD_READS_MAX. */
	f = fake_new();
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	f->max_read = 1;
	assert_int_equal(flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len),
	    MFA_ERR_CARD);
	assert_int_equal(f->count, 3 + MFA_CARD_READS_MAX);
	free(f);
}

static void test_6Cxx_jpki(void **state)
{
	(void)state;
	/* JPKI SELECT AP has no Le: 6Cxx is an error, not a re-send */
	{
		struct step script[] = { { JPKI_SELECT_AP, "6C 00" } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_CARD);
		assert_int_equal(f->count, 1);
		free(f);
	}
	/* JPKI READ BINARY: 6C02 -> re-read with Le 2 -> too short a header */
	{
		/* clang-format off */
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" }, { JPKI_SELECT_CERT, "90 00" },
			{ "00 B0 00 00 04", "6C 02" }, { "00 B0 00 00 02", "30 82 90 00" },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t der[64];
		size_t len;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		assert_int_equal(mfa_card_read_certificate(&card, der, sizeof(der), &len),
		    MFA_ERR_CERT);
		assert_false(f->mismatch);
		assert_int_equal(f->count, 4);
		free(f);
	}
}

static void test_jpki_cert_header(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		size_t count; /* APDUs sent in all */
		              /* clang-format off */
	} cases[] = {
		{ "30 82 FF FF 90 00", MFA_ERR_CERT, 3 },      /* 64 KiB promised */
		{ "30 82 1F FD 90 00", MFA_ERR_CERT, 3 },      /* 8193 bytes */
		{ "30 83 00 01 90 00", MFA_ERR_CERT, 3 },
		{ "31 82 01 00 90 00", MFA_ERR_CERT, 3 },
		{ "30 81 80 30 90 00", MFA_ERR_CERT, 3 },
		{ "30 82 01 90 00", MFA_ERR_CERT, 3 },         /* 3 of 4 bytes */
		{ "30 82 01 00 00 90 00", MFA_ERR_CARD, 3 },   /* 5 of 4 bytes */
		{ "90 00", MFA_ERR_CARD, 3 },
		{ "", MFA_ERR_CARD, 3 },
		{ "30", MFA_ERR_CARD, 3 },
		{ "6A 82", MFA_ERR_CARD, 3 },
		{ "6B 00", MFA_ERR_CARD, 3 },
		{ "30 82 1F FC 90 00", MFA_ERR_CARD, 4 },      /* 8192: allowed, then the card dies */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		/* clang-format off */
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" },
			{ JPKI_SELECT_CERT, "90 00" },
			{ "00 B0 00 00 04", cases[i].resp },
			{ "00 B0 00 04 00", "6F 00" },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t *der = malloc(MFA_CERT_MAX);
		size_t len = 0;
		int rc;

		assert_non_null(der);
		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		rc = mfa_card_read_certificate(&card, der, MFA_CERT_MAX, &len);
		if (rc != cases[i].rc || f->count != cases[i].count)
			fail_msg("case %zu (%s): rc %d after %zu APDUs", i, cases[i].resp, rc,
			    f->count);
		assert_false(f->mismatch);
		free(der);
		free(f);
	}
	/* a buffer too small for an honest certificate: MFA_ERR_RANGE, nothing read */
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t der[100];
		size_t len;

		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		assert_int_equal(mfa_card_read_certificate(&card, der, sizeof(der), &len),
		    MFA_ERR_RANGE);
		assert_int_equal(f->count, 3);
		free(f);
	}
}

/* JPKI: SELECT EF 000A and one READ BINARY of the head, byte for byte. */
static void test_read_id_jpki(void **state)
{
	uint8_t id[MFA_CARD_ID_MAX], want[MFA_CARD_ID_MAX];
	size_t n = 0, wn = 0;
	(void)state;

	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, cert_rsa_a_len, want, sizeof(want), &wn),
	    0);
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		static const char *const expect[] = { JPKI_SELECT_AP, JPKI_SELECT_CERT,
			JPKI_READ_HEAD };

		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), 0);
		assert_int_equal(f->count, 3);
		assert_apdus(f, 0, expect, NELEM(expect));
		assert_int_equal(n, wn);
		assert_memory_equal(id, want, n);
		free(f);
	}
	/* answers that are no head: refused, never a match */
	{
		static const struct {
			const char *resp;
			int rc;
			/* clang-format off */
		} cases[] = {
			{ "6A 82", MFA_ERR_CARD },
			{ "69 82", MFA_ERR_CARD },
			{ "90 00", MFA_ERR_CARD },              /* no data */
			{ "30 82 01 00 62 82", MFA_ERR_CARD },  /* a head that ends too soon */
			{ "30 82 01 00 30 82 00 F0 02 01 07 30 00 30 00 61 10", MFA_ERR_CARD },
			{ "30 82 01 00 30 82 00 F0 02 01 07 30 00 30 00 62 82", 0 },
		};
		/* clang-format on */
		for (size_t i = 0; i < NELEM(cases); i++) {
			/* clang-format off */
			struct step script[] = {
				{ JPKI_SELECT_AP, "90 00" },
				{ JPKI_SELECT_CERT, "90 00" },
				{ JPKI_READ_HEAD, cases[i].resp },
			};
			/* clang-format on */
			struct fake *f = fake_new();
			struct mfa_card_io io = fake_io(f);
			struct mfa_card card;
			int rc;

			f->script = script;
			f->nscript = NELEM(script);
			assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
			rc = mfa_card_read_id(&card, id, sizeof(id), &n);
			if (rc != cases[i].rc)
				fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
			assert_false(f->mismatch);
			assert_int_equal(f->count, 3); /* 61xx is not followed */
			free(f);
		}
	}
	/* a response longer than Le, or than any APDU: refused by the transfer */
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		f->lie_len = true;
		assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), MFA_ERR_CARD);
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpki_login_contract),
		cmocka_unit_test(test_jpki_read_cert_contract),
		cmocka_unit_test(test_jpki_short_reads),
		cmocka_unit_test(test_6Cxx_jpki),
		cmocka_unit_test(test_jpki_cert_header),
		cmocka_unit_test(test_read_id_jpki),
	};

	return cmocka_run_group_tests_name("card_jpki", tests, cardtest_keys_setup,
	    cardtest_keys_teardown);
}
