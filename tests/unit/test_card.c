/*
 * Unit tests for the card layer's entry points and transfer (lib/card.c,
 * lib/card_transfer.c; doc/DESIGN.md invariants 7-9): PIN checks before
 * anything is sent, the tries and VERIFY status words, 61xx and 6Cxx, the
 * argument and state checks, a fault at every step of every flow, and the
 * card error codes.  The profiles' APDUs are in test_card_jpki.c and
 * test_card_piv.c; the fake card in cardtest.c.
 *
 * OPENSSL_cleanse is interposed (as in test_buf.c) to see that the VERIFY
 * APDU holding the PIN is wiped.
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
#include <openssl/crypto.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "cardtest.h"

/* --- a recording OPENSSL_cleanse ------------------------------------------ */

#define WIPE_LOG_MAX 256

static struct {
	uintptr_t p;
	size_t n;
} wipe_log[WIPE_LOG_MAX];

static size_t wipe_count;
static bool wipe_recording;

/* Replaces libcrypto's symbol for this program; it still wipes. */
void OPENSSL_cleanse(void *ptr, size_t len)
{
	if (ptr != NULL && len > 0) {
		memset(ptr, 0, len);
		__asm__ __volatile__("" : : "r"(ptr) : "memory");
	}
	if (wipe_recording && wipe_count < WIPE_LOG_MAX) {
		wipe_log[wipe_count].p = (uintptr_t)ptr;
		wipe_log[wipe_count].n = len;
		wipe_count++;
	}
}

static bool wiped(uintptr_t a, size_t n)
{
	for (size_t i = 0; i < wipe_count; i++)
		if (wipe_log[i].p <= a && a + n <= wipe_log[i].p + wipe_log[i].n)
			return true;
	return false;
}

/* --- PINs ---------------------------------------------------------------- */

static void test_pin_refused_without_transmit(void **state)
{
	static const struct {
		uint8_t profile;
		const char *pin;
		size_t len;
		/* clang-format off */
	} cases[] = {
		{ MFA_CARD_JPKI, "", 0 },
		{ MFA_CARD_JPKI, "1234", 0 },           /* a length of 0 whatever the buffer */
		{ MFA_CARD_JPKI, "123", 3 },
		{ MFA_CARD_JPKI, "12345", 5 },
		{ MFA_CARD_JPKI, "12a4", 4 },
		{ MFA_CARD_JPKI, "12 4", 4 },
		{ MFA_CARD_JPKI, "-123", 4 },
		{ MFA_CARD_JPKI, "\xef\xbc\x91\x32", 4 }, /* a full-width digit's bytes */
		{ MFA_CARD_JPKI, "12\0" "4", 4 },
		{ MFA_CARD_PIV, "", 0 },
		{ MFA_CARD_PIV, "12345", 5 },
		{ MFA_CARD_PIV, "123456789", 9 },
		{ MFA_CARD_PIV, "12345\xff", 6 },
		{ MFA_CARD_PIV, "123 56", 6 },
		{ MFA_CARD_PIV, "1234567\n", 8 },
		{ MFA_CARD_PIV, "123\0" "56", 6 },
		/* SP 800-73-4: digits only (a card enforcing it answers 6A80) */
		{ MFA_CARD_PIV, "12345a", 6 },
		{ MFA_CARD_PIV, "abcdefgh", 8 },
		{ MFA_CARD_PIV, "1234567!", 8 },
		{ MFA_CARD_PIV, "\xef\xbc\x91\x32\x33\x34", 6 },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		size_t before;
		int tries = 77;

		fake_emulate(f, cases[i].profile, rsa_a, NULL, 0, "1234");
		assert_int_equal(mfa_card_open(&card, &io, cases[i].profile), 0);
		before = f->count;
		if (mfa_card_verify_pin(&card, cases[i].pin, cases[i].len, &tries) !=
		    MFA_ERR_PIN_FORMAT)
			fail_msg("case %zu: PIN not refused", i);
		assert_int_equal(f->count, before);
		assert_int_equal(tries, 77);
		assert_int_equal(f->tries, 3);
		free(f);
	}
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_verify_pin(&card, NULL, 6, NULL), MFA_ERR_INVAL);
		assert_int_equal(f->count, 1);
		free(f);
	}
}

static void test_pin_apdu_wiped(void **state)
{
	static const struct {
		uint8_t profile;
		const char *pin;
	} cases[] = { { MFA_CARD_JPKI, "1234" }, { MFA_CARD_PIV, "123456" },
		{ MFA_CARD_JPKI, "9999" }, { MFA_CARD_PIV, "654321" } };
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		size_t at;

		fake_emulate(f, cases[i].profile, rsa_a, NULL, 0, i < 2 ? cases[i].pin : "0000");
		assert_int_equal(mfa_card_open(&card, &io, cases[i].profile), 0);
		wipe_count = 0;
		wipe_recording = true;
		(void)mfa_card_verify_pin(&card, cases[i].pin, strlen(cases[i].pin), NULL);
		wipe_recording = false;
		at = f->count - 1;
		assert_int_equal(f->log[at][1], 0x20);
		assert_true(f->loglen[at] > 5);
		/* the buffer the PIN was handed over in is wiped, wrong PIN or right */
		if (!wiped(f->logptr[at], f->loglen[at]))
			fail_msg("case %zu: VERIFY APDU not wiped", i);
		free(f);
	}
}

static void test_wrong_pin_and_block(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	int tries = -2;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, NULL, 0, "1234");
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_card_verify_pin(&card, "9999", 4, &tries), MFA_ERR_BADPIN);
	assert_int_equal(tries, 2);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 2);
	assert_true(mfa_card_tries_ok(tries, 2));
	assert_int_equal(mfa_card_verify_pin(&card, "9998", 4, &tries), MFA_ERR_BADPIN);
	assert_int_equal(tries, 1);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 1);
	/* the module's guard would stop here; the card layer itself still obeys */
	assert_false(mfa_card_tries_ok(tries, 2));
	assert_int_equal(mfa_card_verify_pin(&card, "9997", 4, &tries), MFA_ERR_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, MFA_CARD_TRIES_BLOCKED);
	assert_int_equal(mfa_card_verify_pin(&card, "1234", 4, &tries), MFA_ERR_PIN_BLOCKED);
	/* the EF was selected once: SELECT AP, SELECT PIN EF, then 7 VERIFYs */
	assert_int_equal(f->count, 2 + 7);
	free(f);
}

static void test_tries_ok(void **state)
{
	(void)state;
	assert_false(mfa_card_tries_ok(1, 2));
	assert_true(mfa_card_tries_ok(2, 2));
	assert_true(mfa_card_tries_ok(3, 2));
	assert_true(mfa_card_tries_ok(15, 15));
	assert_false(mfa_card_tries_ok(14, 15));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_BLOCKED, 0));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_BLOCKED, 2));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_VERIFIED, 0));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_VERIFIED, 2));
	assert_true(mfa_card_tries_ok(1, 0));
}

/* Tries query over every status-word path (JPKI script). */
static void test_tries_status_words(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		int tries;
		/* clang-format off */
	} cases[] = {
		{ "63 C1", 0, 1 },              /* with card_min_tries = 2: not ok */
		{ "63 C3", 0, 3 },
		{ "63 C0", 0, MFA_CARD_TRIES_BLOCKED },
		{ "69 83", 0, MFA_CARD_TRIES_BLOCKED },
		{ "90 00", 0, MFA_CARD_TRIES_VERIFIED },
		/* not understood, no PIN sent: a failure that does not count */
		{ "69 82", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "6A 82", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "67 00", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "63 00", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "63 02", MFA_ERR_TRIES_UNKNOWN, 0 },  /* JPKI: no 63 0X quirk */
		{ "6A 88", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "6C 04", MFA_ERR_CARD, 0 },   /* no Le in the query: never re-sent */
		{ "", MFA_ERR_CARD, 0 },
		{ "63", MFA_ERR_CARD, 0 },
		{ "01 63 C3", MFA_ERR_CARD, 0 }, /* data where none may come */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		/* clang-format off */
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" },
			{ JPKI_SELECT_PIN, "90 00" },
			{ VERIFY_QUERY, cases[i].resp },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 99, rc;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		rc = mfa_card_pin_tries(&card, &tries);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].resp, rc,
			    cases[i].rc);
		if (rc == 0)
			assert_int_equal(tries, cases[i].tries);
		assert_false(f->mismatch);
		assert_int_equal(f->count, 3);
		free(f);
	}
}

/* VERIFY over every status-word path (PIV script). */
static void test_verify_status_words(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		int tries;
		/* clang-format off */
	} cases[] = {
		{ "90 00", 0, 99 },
		{ "63 C2", MFA_ERR_BADPIN, 2 },
		{ "63 C1", MFA_ERR_BADPIN, 1 },
		{ "63 C0", MFA_ERR_PIN_BLOCKED, 0 },
		{ "69 83", MFA_ERR_PIN_BLOCKED, 0 },
		{ "69 82", MFA_ERR_CARD, 99 },
		{ "69 84", MFA_ERR_CARD, 99 },
		{ "6A 82", MFA_ERR_CARD, 99 },
		{ "67 00", MFA_ERR_CARD, 99 },
		{ "63 00", MFA_ERR_CARD, 99 },
		{ "6C 08", MFA_ERR_CARD, 99 },
		{ "", MFA_ERR_CARD, 99 },
		{ "90", MFA_ERR_CARD, 99 },
		{ "00 90 00", MFA_ERR_CARD, 99 },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		/* clang-format off */
		struct step script[] = {
			{ PIV_SELECT, "90 00" },
			{ "00 20 00 80 08 31 32 33 34 35 36 FF FF", cases[i].resp },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 99, rc;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		rc = mfa_card_verify_pin(&card, "123456", 6, &tries);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].resp, rc,
			    cases[i].rc);
		assert_int_equal(tries, cases[i].tries);
		assert_false(f->mismatch);
		/* a VERIFY carrying a PIN is sent exactly once, whatever comes back */
		assert_int_equal(f->count, 2);
		free(f);
	}
}

/* JPKI SIGN over status words and malformed responses (script). */
static void test_sign_status_words(void **state)
{
	static const struct {
		const char *resp;
		size_t data; /* bytes of signature before the SW */
		int rc;
		/* clang-format off */
	} cases[] = {
		{ "90 00", 256, 0 },
		{ "90 00", 0, MFA_ERR_CARD },
		{ "90 00", 255, MFA_ERR_CARD },
		{ "90 00", 128, MFA_ERR_CARD },
		{ "69 82", 0, MFA_ERR_PIN_REQUIRED },
		{ "6A 80", 0, MFA_ERR_CARD },
		{ "6A 82", 0, MFA_ERR_CARD },
		{ "63 C2", 0, MFA_ERR_CARD },
		{ "69 83", 0, MFA_ERR_CARD },
		{ "67 00", 0, MFA_ERR_CARD },
		{ "", 0, MFA_ERR_CARD },
		{ "90", 0, MFA_ERR_CARD },
		{ "90 00", 257, MFA_ERR_CARD },     /* more than Le: the transport refuses */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		char resp[2 * 3 * 300];
		/* clang-format off */
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" },
			{ JPKI_SELECT_KEY, "90 00" },
			{ NULL, resp },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
		size_t siglen = 0, n = 0;
		int rc;

		for (size_t b = 0; b < cases[i].data; b++)
			n += (size_t)sprintf(resp + n, "AB ");
		snprintf(resp + n, sizeof(resp) - n, "%s", cases[i].resp);
		f->script = script;
		f->nscript = NELEM(script);
		fixed_challenge(chal);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		rc = mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, sizeof(chal), sig,
		    sizeof(sig), &siglen);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
		assert_false(f->mismatch);
		free(f);
	}
}

static void test_endless_61xx(void **state)
{
	/* clang-format off */
	static const char *const resps[] = {
		"61 00",                /* SW only, forever */
		"61 10",
		NULL,                   /* 256 bytes + 61 00, forever: the size bound stops it */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(resps); i++) {
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t *der = malloc(MFA_CERT_MAX);
		size_t len;

		assert_non_null(der);
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		if (resps[i] != NULL) {
			fake_fault(f, 1, resps[i], true);
		} else {
			char *big = malloc(256 * 3 + 8);
			size_t n = 0;
			assert_non_null(big);
			for (size_t b = 0; b < 256; b++)
				n += (size_t)sprintf(big + n, "30 ");
			strcpy(big + n, "61 00");
			fake_fault(f, 1, big, true);
			free(big);
		}
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_read_certificate(&card, der, MFA_CERT_MAX, &len),
		    MFA_ERR_CARD);
		/* GET DATA plus at most MFA_CARD_MORE_MAX GET RESPONSEs */
		assert_true(f->count <= 1 + 1 + MFA_CARD_MORE_MAX);
		if (resps[i] != NULL && strcmp(resps[i], "61 00") == 0)
			assert_int_equal(f->count, 1 + 1 + MFA_CARD_MORE_MAX);
		assert_memory_equal(f->log[2], "\x00\xC0\x00\x00", 4);
		free(der);
		free(f);
	}
}

static void test_6Cxx_reissue(void **state)
{
	(void)state;
	/* PIV SELECT carries Le: 6C12 re-issues it once with Le 12 */
	{
		/* clang-format off */
		struct step script[] = {
			{ PIV_SELECT, "6C 12" },
			{ "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 12", "4F 06 00 00 10 00 01 00 90 00" },
		};
		/* clang-format on */
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_false(f->mismatch);
		assert_int_equal(f->count, 2);
		free(f);
	}
	/* 6C again, or 6C with data: refused */
	{
		static const char *const second[] = { "6C 12", "6C 10" };
		for (size_t i = 0; i < NELEM(second); i++) {
			struct step script[] = { { PIV_SELECT, "6C 12" }, { NULL, second[i] } };
			struct fake *f = fake_new();
			struct mfa_card_io io = fake_io(f);
			struct mfa_card card;

			f->script = script;
			f->nscript = NELEM(script);
			assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_CARD);
			assert_int_equal(f->count, 2);
			free(f);
		}
	}
	{
		struct step script[] = { { PIV_SELECT, "AA 6C 12" } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_CARD);
		assert_int_equal(f->count, 1);
		free(f);
	}
}

static void test_sign_args_and_state(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card, closed;
	uint8_t chal[MFA_CHALLENGE_MAX + 1] = { 0 }, sig[MFA_SIG_MAX];
	size_t siglen, before;
	int tries;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, NULL, 0, "1234");
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	before = f->count;
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, 31, sig,
	                     sizeof(sig), &siglen),
	    MFA_ERR_INVAL);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal,
	                     MFA_CHALLENGE_MAX + 1, sig, sizeof(sig), &siglen),
	    MFA_ERR_INVAL);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, 32, sig,
	                     sizeof(sig), &siglen),
	    MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, 32, sig, 100,
	                     &siglen),
	    MFA_ERR_RANGE);
	assert_int_equal(f->count, before);
	/* no VERIFY yet: the card refuses to sign (6982) */
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, 32, sig,
	                     sizeof(sig), &siglen),
	    MFA_ERR_PIN_REQUIRED);
	/* a card that was never opened does nothing */
	memset(&closed, 0, sizeof(closed));
	assert_int_equal(mfa_card_pin_tries(&closed, &tries), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_verify_pin(&closed, "1234", 4, NULL), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_sign_challenge(&closed, MFA_CARD_ALG_RSA2048, chal, 32, sig,
	                     sizeof(sig), &siglen),
	    MFA_ERR_INVAL);
	assert_int_equal(mfa_card_read_certificate(&closed, sig, sizeof(sig), &siglen),
	    MFA_ERR_INVAL);
	assert_int_equal(mfa_card_profile(&closed), 0);
	free(f);

	/* PIV without VERIFY */
	f = fake_new();
	io = fake_io(f);
	fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, 32, sig,
	                     sizeof(sig), &siglen),
	    MFA_ERR_PIN_REQUIRED);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_NONE, chal, 32, sig,
	                     sizeof(sig), &siglen),
	    MFA_ERR_KEYTYPE);
	free(f);
}

static int failing_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp,
    size_t *resplen)
{
	(void)apdu;
	(void)len;
	(void)resp;
	(void)resplen;
	return *(int *)ctx;
}

static void test_open_errors(void **state)
{
	struct mfa_card card;
	struct mfa_card_io io;
	int err;
	(void)state;

	/* a PIV card asked for JPKI: not this profile */
	{
		struct step script[] = { { JPKI_SELECT_AP, "6A 82" } };
		struct fake *f = fake_new();
		io = fake_io(f);
		f->script = script;
		f->nscript = 1;
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_NOAPP);
		assert_int_equal(mfa_card_profile(&card), 0);
		free(f);
	}
	{
		struct fake *f = fake_new();
		io = fake_io(f);
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_NOAPP);
		assert_int_equal(mfa_card_open(&card, &io, 9), MFA_ERR_INVAL);
		assert_int_equal(mfa_card_open(&card, &io, 0), MFA_ERR_INVAL);
		free(f);
	}
	/* transport errors come through as they are; a positive one is a card error */
	io.transmit = failing_transmit;
	io.ctx = &err;
	err = MFA_ERR_NOCARD;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_NOCARD);
	err = 5;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_CARD);
	io.transmit = NULL;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_open(&card, NULL, MFA_CARD_JPKI), MFA_ERR_INVAL);
	/* a transport claiming more bytes than the buffer holds */
	{
		struct fake *f = fake_new();
		io = fake_io(f);
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		f->lie_len = true;
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_CARD);
		free(f);
	}
}

static void test_login_apdu_counts(void **state)
{
	static const struct {
		uint8_t profile;
		enum mfa_card_alg alg;
		const char *pin;
		size_t apdus;
		/* clang-format off */
	} cases[] = {
		{ MFA_CARD_JPKI, MFA_CARD_ALG_RSA2048, "1234", 6 },
		{ MFA_CARD_PIV, MFA_CARD_ALG_P256, "123456", 4 },
		{ MFA_CARD_PIV, MFA_CARD_ALG_RSA2048, "123456", 6 },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fake *f = fake_new();
		bool ec = cases[i].alg == MFA_CARD_ALG_P256;

		fake_emulate(f, cases[i].profile, ec ? ec_a : rsa_a, NULL, 0, cases[i].pin);
		assert_int_equal(flow_login(f, cases[i].profile, cases[i].alg, cases[i].pin,
		                     ec ? spki_ec_a : spki_rsa_a,
		                     ec ? spki_ec_a_len : spki_rsa_a_len),
		    0);
		assert_int_equal(f->count, cases[i].apdus);
		free(f);
		/* same card, another enrolled key: the login fails on the host */
		f = fake_new();
		fake_emulate(f, cases[i].profile, ec ? ec_a : rsa_a, NULL, 0, cases[i].pin);
		assert_int_equal(flow_login(f, cases[i].profile, cases[i].alg, cases[i].pin,
		                     ec ? spki_ec_b : spki_rsa_b,
		                     ec ? spki_ec_b_len : spki_rsa_b_len),
		    MFA_ERR_BADSIG);
		free(f);
	}
}

/*
 * Every step of every flow, broken in every way: the flow must fail (never
 * a login or a certificate), and the number of APDUs stays bounded.
 */
enum flow_kind { F_JPKI_LOGIN, F_PIV_EC_LOGIN, F_PIV_RSA_LOGIN, F_JPKI_CERT, F_PIV_CERT };

static int run_flow(struct fake *f, enum flow_kind k, const uint8_t *obj, size_t objlen)
{
	switch (k) {
	case F_JPKI_LOGIN:
		fake_emulate(f, MFA_CARD_JPKI, rsa_a, NULL, 0, "1234");
		return flow_login(f, MFA_CARD_JPKI, MFA_CARD_ALG_RSA2048, "1234", spki_rsa_a,
		    spki_rsa_a_len);
	case F_PIV_EC_LOGIN:
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		return flow_login(f, MFA_CARD_PIV, MFA_CARD_ALG_P256, "123456", spki_ec_a,
		    spki_ec_a_len);
	case F_PIV_RSA_LOGIN:
		fake_emulate(f, MFA_CARD_PIV, rsa_a, NULL, 0, "123456");
		return flow_login(f, MFA_CARD_PIV, MFA_CARD_ALG_RSA2048, "123456", spki_rsa_a,
		    spki_rsa_a_len);
	case F_JPKI_CERT:
		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		return flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len);
	case F_PIV_CERT:
		fake_emulate(f, MFA_CARD_PIV, rsa_a, obj, objlen, "1234");
		return flow_read_cert(f, MFA_CARD_PIV, cert_rsa_a, cert_rsa_a_len);
	}
	return -1;
}

static void test_faults_at_every_step(void **state)
{
	static const struct {
		const char *resp;
		bool sticky;
		bool data_steps_only; /* an SW-only 9000 is a fine answer to SELECT/VERIFY */
		                      /* clang-format off */
	} faults[] = {
		{ "", false, false },           /* nothing at all */
		{ "90", false, false },         /* 1 byte */
		{ "6F 00", false, false },      /* an error SW */
		{ "61 00", true, false },       /* endless 61xx */
		{ "61 01", true, false },
		{ "90 00", false, true },       /* SW only where data is needed */
		{ "00 90 00", false, true },    /* too little data (the byte: see below) */
	};
	/* clang-format on */
	uint8_t *obj = malloc(MFA_CERT_MAX + 64);
	size_t objlen;
	(void)state;

	assert_non_null(obj);
	objlen = piv_object(cert_rsa_a, cert_rsa_a_len, 0x00, obj, MFA_CERT_MAX + 64);
	for (int k = F_JPKI_LOGIN; k <= F_PIV_CERT; k++) {
		struct fake *clean = fake_new();
		size_t steps;

		assert_int_equal(run_flow(clean, (enum flow_kind)k, obj, objlen), 0);
		steps = clean->count;
		for (size_t at = 0; at < steps; at++) {
			for (size_t i = 0; i < NELEM(faults); i++) {
				struct fake *f;
				int rc;

				if (faults[i].data_steps_only &&
				    (clean->resplen[at] <= 2 || clean->log[at][1] == 0xA4))
					continue;
				f = fake_new();
				fake_fault(f, at, faults[i].resp, faults[i].sticky);
				/*
				 * One data byte where more were due: not the byte the card
				 * would have sent, or a short read that a reader rightly
				 * continues would be no fault at all (the test keys and
				 * certificates are made afresh each run: 1 in 256).
				 */
				if (f->fault_len == 3)
					f->fault[0] = (uint8_t)~clean->resp0[at];
				rc = run_flow(f, (enum flow_kind)k, obj, objlen);
				if (rc == 0)
					fail_msg("flow %d succeeded with '%s' at step %zu", k,
					    faults[i].resp, at);
				if (f->count > steps + MFA_CARD_MORE_MAX + 1)
					fail_msg("flow %d: %zu APDUs with '%s' at step %zu", k,
					    f->count, faults[i].resp, at);
				free(f);
			}
		}
		free(clean);
	}
	free(obj);
}

/* --- errors --------------------------------------------------------------- */

static void test_card_errors(void **state)
{
	static const int codes[] = { MFA_ERR_NOSERVICE, MFA_ERR_NOREADER, MFA_ERR_NOCARD,
		MFA_ERR_CARD, MFA_ERR_NOAPP, MFA_ERR_PIN_FORMAT, MFA_ERR_BADPIN, MFA_ERR_PIN_TRIES,
		MFA_ERR_PIN_BLOCKED, MFA_ERR_PIN_REQUIRED, MFA_ERR_BADSIG, MFA_ERR_CERT,
		MFA_ERR_KEYTYPE, MFA_ERR_UNTRUSTED, MFA_ERR_PCSC };
	(void)state;

	for (size_t i = 0; i < NELEM(codes); i++) {
		assert_true(codes[i] <= -100);
		assert_string_not_equal(mfa_strerror(codes[i]), "unknown error");
		assert_string_not_equal(mfa_errtoken(codes[i]), "unknown");
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(mfa_errtoken(codes[i]), mfa_errtoken(codes[j]));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_apdu_counts),
		cmocka_unit_test(test_pin_refused_without_transmit),
		cmocka_unit_test(test_pin_apdu_wiped),
		cmocka_unit_test(test_wrong_pin_and_block),
		cmocka_unit_test(test_tries_ok),
		cmocka_unit_test(test_tries_status_words),
		cmocka_unit_test(test_verify_status_words),
		cmocka_unit_test(test_sign_status_words),
		cmocka_unit_test(test_endless_61xx),
		cmocka_unit_test(test_6Cxx_reissue),
		cmocka_unit_test(test_sign_args_and_state),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_faults_at_every_step),
		cmocka_unit_test(test_card_errors),
	};

	return cmocka_run_group_tests_name("card", tests, cardtest_keys_setup,
	    cardtest_keys_teardown);
}
