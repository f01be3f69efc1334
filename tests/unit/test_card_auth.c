/*
 * Unit tests for lib/card_auth.c: one card login against the fake card of
 * cardtest.c -- the identifier guard before the PIN, and the outcomes of
 * every step.
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

#include "mfauth/card.h"
#include "mfauth/card_auth.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "cardtest.h"

/* --- the whole login with the guard (card_auth.h) ---------------------------- */

struct hook_ctx {
	unsigned asked;
	const char *pin;
};

static int hook_ask(void *ctx, uint8_t profile, int tries_left, char **pin)
{
	struct hook_ctx *h = ctx;

	(void)profile;
	(void)tries_left;
	h->asked++;
	*pin = strdup(h->pin);
	return *pin ? 0 : MFA_ERR_NOMEM;
}

static bool sent_verify(const struct fake *f)
{
	for (size_t i = 0; i < f->count && i < FAKE_LOG_MAX; i++)
		if (f->log[i][1] == 0x20)
			return true;
	return false;
}

/* A factor for cert (enrolled through the same code as `enroll card`). */
static void enroll_factor(struct fake *f, uint8_t profile, const uint8_t *cert, size_t clen,
    struct mfa_card_factor *fac)
{
	struct mfa_card_io io = fake_io(f);
	struct mfa_cert_info info;
	struct mfa_card card;
	size_t count = f->count;

	assert_int_equal(mfa_cert_parse(cert, clen, &info), 0);
	assert_int_equal(mfa_cert_to_factor(&info, profile, CERT_NOT_BEFORE + 10, fac), 0);
	assert_int_equal(mfa_card_open(&card, &io, profile), 0);
	assert_int_equal(mfa_card_enroll_id(&card, cert, clen, fac), 0);
	f->count = count;
	f->tries = 3;
}

static int run_login(struct fake *f, const struct mfa_card_factor *fac, struct hook_ctx *h)
{
	struct mfa_card_hooks hooks = { hook_ask, NULL, h };
	struct mfa_card_io io = fake_io(f);
	struct mfa_card_outcome out;

	f->verified = false;            /* each login is a new session: the last one reset the card */
	return mfa_card_login(fac, &io, &hooks, 2, CERT_NOT_BEFORE + 20, &out);
}

static void test_login_guard_jpki(void **state)
{
	struct mfa_card_factor *fac = calloc(1, sizeof(*fac));
	struct hook_ctx h = { 0, "1234" };
	uint8_t *other;
	size_t olen = 0;
	struct fake *f = fake_new();
	(void)state;

	assert_non_null(fac);
	other = make_cert(rsa_b, "Other Clerk", rsa_b, "Test Clerk", "0123456789ABCDF0", &olen);
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	enroll_factor(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len, fac);
	assert_int_equal(fac->id_kind, MFA_CARD_ID_CERT);
	assert_int_equal(f->count, 0);  /* JPKI: the identifier comes from the certificate */
	/* the enrolled card: 6 APDUs of the login + 2 of the identifier */
	assert_int_equal(run_login(f, fac, &h), 0);
	assert_int_equal(h.asked, 1);
	assert_int_equal(f->count, 8);
	free(f);
	/* another card, same PIN: no PIN asked, no VERIFY, its counter untouched */
	f = fake_new();
	fake_emulate(f, MFA_CARD_JPKI, rsa_b, other, olen, "1234");
	h.asked = 0;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	assert_int_equal(h.asked, 0);
	assert_false(sent_verify(f));
	assert_int_equal(f->tries, 3);
	assert_int_equal(f->count, 3);
	assert_true(mfa_card_error_counts(MFA_ERR_WRONG_CARD));
	assert_false(mfa_card_error_counts(MFA_ERR_TRIES_UNKNOWN));
	/* an enrollment from before identifiers: the certificate's key decides */
	fac->id_kind = MFA_CARD_ID_LEGACY;
	fac->id_len = 0;
	f->count = 0;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	assert_int_equal(h.asked, 0);
	assert_false(sent_verify(f));
	free(f);
	f = fake_new();
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	assert_int_equal(run_login(f, fac, &h), 0);
	assert_int_equal(h.asked, 1);
	free(f);
	OPENSSL_free(other);
	free(fac);
}

static void test_login_guard_piv(void **state)
{
	struct mfa_card_factor *fac = calloc(1, sizeof(*fac));
	struct hook_ctx h = { 0, "123456" };
	uint8_t obj[MFA_CERT_MAX + 64], chuid[2200], chuid_b[2200];
	size_t olen, clen, clen_b;
	struct fake *f = fake_new();
	(void)state;

	assert_non_null(fac);
	olen = piv_object(cert_ec_a, cert_ec_a_len, 0x00, obj, sizeof(obj));
	clen = chuid_object(0x42, false, 1024, chuid, sizeof(chuid));
	clen_b = chuid_object(0x43, false, 1024, chuid_b, sizeof(chuid_b));
	fake_emulate(f, MFA_CARD_PIV, ec_a, obj, olen, "123456");
	f->chuid = chuid;
	f->chuid_len = clen;
	enroll_factor(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len, fac);
	assert_int_equal(fac->id_kind, MFA_CARD_ID_CHUID);
	assert_int_equal(fac->id_len, MFA_CHUID_ID_LEN);
	/* the enrolled card: 4 APDUs of the EC login + 1 GET DATA */
	assert_int_equal(run_login(f, fac, &h), 0);
	assert_int_equal(f->count, 5);
	assert_int_equal(h.asked, 1);
	/* another GUID, or no CHUID at all: another card */
	f->chuid = chuid_b;
	f->chuid_len = clen_b;
	f->count = 0;
	h.asked = 0;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	f->chuid = NULL;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	assert_int_equal(h.asked, 0);
	assert_false(sent_verify(f));
	assert_int_equal(f->tries, 3);
	/* a card without CHUID enrolls by its key, and is then checked by it */
	enroll_factor(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len, fac);
	assert_int_equal(fac->id_kind, MFA_CARD_ID_SPKI);
	assert_int_equal(fac->id_len, 0);
	assert_int_equal(run_login(f, fac, &h), 0);
	/* a malformed CHUID is no enrollment */
	{
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->chuid = (const uint8_t *)"\x53\x03\x30\x19\x00";
		f->chuid_len = 5;
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_enroll_id(&card, cert_ec_a, cert_ec_a_len, fac),
		    MFA_ERR_CARD);
		assert_int_equal(fac->id_kind, MFA_CARD_ID_LEGACY);
	}
	free(f);
	free(fac);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_guard_jpki),
		cmocka_unit_test(test_login_guard_piv),
	};

	return cmocka_run_group_tests_name("card_auth", tests, cardtest_keys_setup, cardtest_keys_teardown);
}
