/*
 * Unit tests for lib/card_auth.c: one card login (mfa_card_login) against
 * the fake card of cardtest.c -- the identifier guard before the PIN, and
 * the outcome of every step: an expired enrollment (nothing sent), a failed
 * SELECT, another card (no PIN asked), too few or unknown tries, a card
 * left verified, a wrong, blocked or misshapen PIN, a bad signature, the
 * card pulled at any step -- and, for each error, whether it counts toward
 * the lockout and whether the code prompt may follow
 * (mfa_card_error_counts, mfa_card_error_falls_back), which the PAM and
 * helper tests otherwise reach only end to end.
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

	f->verified = false; /* each login is a new session: the last one reset the card */
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
	assert_int_equal(f->count, 0); /* JPKI: the identifier comes from the certificate */
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

/* --- one login, every outcome ------------------------------------------------ */

/*
 * A JPKI login over the emulated card, step by step (DESIGN.md §5):
 * 0 SELECT AP, 1 SELECT EF 000A, 2 READ BINARY (identifier), 3 SELECT EF
 * 0018, 4 VERIFY (tries), 5 VERIFY (PIN), 6 SELECT EF 0017, 7 SIGN.
 */
#define JPKI_STEP_TRIES 4
#define JPKI_STEP_PIN 5
#define JPKI_LOGIN_APDUS 8

struct login {
	struct fake *f;
	struct mfa_card_factor *fac;
	struct hook_ctx h;
	struct mfa_card_outcome out;
	unsigned resets;
	bool reset_clears;  /* the reset hook really resets the card */
	int ask_rc;         /* what ask_pin returns */
	bool ask_null;      /* ask_pin says 0 but gives no PIN */
	bool left_verified; /* another application left the card verified */
	size_t nocard_at;   /* transport error at this APDU, SIZE_MAX none */
};

static int login_ask(void *ctx, uint8_t profile, int tries_left, char **pin)
{
	struct login *l = ctx;

	assert_int_equal(profile, MFA_CARD_JPKI);
	/* The clerk is told the count the card gave, never a guess. */
	assert_int_equal(tries_left, l->f->tries);
	l->h.asked++;
	if (l->ask_rc != 0 || l->ask_null)
		return l->ask_rc;
	*pin = strdup(l->h.pin);
	return *pin ? 0 : MFA_ERR_NOMEM;
}

static int login_reset(void *ctx)
{
	struct login *l = ctx;

	l->resets++;
	if (l->reset_clears) {
		l->f->verified = false;
		l->f->selected = false;
	}
	return 0;
}

/* The fake card's transmit, except that the card is pulled at nocard_at. */
static int pulled_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp,
    size_t *resplen)
{
	struct login *l = ctx;
	struct mfa_card_io io = fake_io(l->f);

	if (l->f->count == l->nocard_at) {
		l->f->count++;
		return MFA_ERR_NOCARD;
	}
	return io.transmit(io.ctx, apdu, len, resp, resplen);
}

/* The enrolled JPKI card (rsa_a), PIN 1234, 3 tries, a factor enrolled from it. */
static void login_setup(struct login *l)
{
	memset(l, 0, sizeof(*l));
	l->f = fake_new();
	l->fac = calloc(1, sizeof(*l->fac));
	assert_non_null(l->fac);
	fake_emulate(l->f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	enroll_factor(l->f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len, l->fac);
	l->h.pin = "1234";
	l->reset_clears = true;
	l->nocard_at = SIZE_MAX;
}

static void login_free(struct login *l)
{
	free(l->f);
	free(l->fac);
}

static int login_at(struct login *l, unsigned min_tries, uint64_t now)
{
	struct mfa_card_hooks hooks = { login_ask, login_reset, l };
	struct mfa_card_io io = { pulled_transmit, l };
	int rc;

	unsigned resets = l->resets;

	/* Each login is a new session: the last one reset the card, unless told otherwise. */
	l->f->verified = l->left_verified;
	l->f->count = 0;
	l->h.asked = 0;
	rc = mfa_card_login(l->fac, &io, &hooks, min_tries, now, &l->out);
	/* The outcome reports what was sent (since the last open: a reset reopens). */
	if (l->resets == resets)
		assert_int_equal(l->out.apdus, l->f->count);
	return rc;
}

/* Was a VERIFY carrying a PIN sent (not the tries query)? */
static bool sent_pin(const struct fake *f)
{
	for (size_t i = 0; i < f->count && i < FAKE_LOG_MAX; i++)
		if (f->log[i][1] == 0x20 && f->loglen[i] > 5)
			return true;
	return false;
}

static void test_login_expiry(void **state)
{
	struct login l;
	(void)state;

	login_setup(&l);
	assert_int_equal(l.fac->not_before, CERT_NOT_BEFORE);
	assert_int_equal(l.fac->not_after, CERT_NOT_AFTER);
	/* one second past either end: refused before the card is touched */
	assert_int_equal(login_at(&l, 2, CERT_NOT_AFTER + 1), MFA_ERR_EXPIRED);
	assert_int_equal(l.f->count, 0);
	assert_int_equal(l.h.asked, 0);
	assert_int_equal(l.out.tries_left, -1);
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE - 1), MFA_ERR_EXPIRED);
	assert_int_equal(l.f->count, 0);
	/* exactly at either end: still valid */
	assert_int_equal(login_at(&l, 2, CERT_NOT_AFTER), 0);
	assert_int_equal(l.f->count, JPKI_LOGIN_APDUS);
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE), 0);
	assert_true(mfa_card_error_falls_back(MFA_ERR_EXPIRED));
	assert_false(mfa_card_error_counts(MFA_ERR_EXPIRED));
	login_free(&l);
}

static void test_login_no_factor(void **state)
{
	struct login l;
	(void)state;

	login_setup(&l);
	l.fac->present = false;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_NOENT);
	assert_int_equal(l.f->count, 0);
	l.fac->present = true;
	l.fac->spki_len = 0;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_NOENT);
	assert_int_equal(l.f->count, 0);
	/* an identifier kind this version does not know: the record is corrupt */
	login_free(&l);
	login_setup(&l);
	l.fac->id_kind = 0x7F;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_CORRUPT);
	assert_int_equal(l.f->count, 1); /* the SELECT only */
	assert_int_equal(l.h.asked, 0);
	login_free(&l);
}

static void test_login_select_fails(void **state)
{
	static const struct {
		const char *sw;
		int rc;
		/* clang-format off */
	} cases[] = {
		{ "6A82", MFA_ERR_NOAPP },      /* another kind of card */
		{ "6A86", MFA_ERR_CARD },
		{ "6F00", MFA_ERR_CARD },
		{ "90", MFA_ERR_CARD },         /* not even a status word */
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct login l;

		login_setup(&l);
		fake_fault(l.f, 0, cases[i].sw, false);
		assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), cases[i].rc);
		assert_int_equal(l.f->count, 1);
		assert_int_equal(l.h.asked, 0);
		assert_int_equal(l.out.tries_left, -1);
		/* a card that is there but answers wrong is an attempt */
		assert_true(mfa_card_error_counts(cases[i].rc));
		assert_false(mfa_card_error_falls_back(cases[i].rc));
		login_free(&l);
	}
}

static void test_login_wrong_card_before_pin(void **state)
{
	struct login l;
	uint8_t *other;
	size_t olen = 0;
	(void)state;

	login_setup(&l);
	other = make_cert(rsa_b, "Other Clerk", rsa_b, "Test Clerk", "0123456789ABCDF0", &olen);
	l.f->object = other;
	l.f->object_len = olen;
	l.f->key = rsa_b;
	l.f->tries = 1; /* even a card at its last try: nothing is spent */
	assert_int_equal(login_at(&l, 1, CERT_NOT_BEFORE + 20), MFA_ERR_WRONG_CARD);
	assert_int_equal(l.f->count, 3); /* SELECT AP, SELECT EF, READ BINARY */
	assert_int_equal(l.h.asked, 0);
	assert_false(sent_verify(l.f));
	assert_int_equal(l.f->tries, 1);
	assert_int_equal(l.out.tries_left, -1); /* the counter was never asked */
	/* a refused identifier read is a card error, also before any PIN */
	l.f->object = cert_rsa_a;
	l.f->object_len = cert_rsa_a_len;
	fake_fault(l.f, 2, "6982", false);
	assert_int_equal(login_at(&l, 1, CERT_NOT_BEFORE + 20), MFA_ERR_CARD);
	assert_false(sent_verify(l.f));
	OPENSSL_free(other);
	login_free(&l);
}

static void test_login_tries_guard(void **state)
{
	struct login l;
	(void)state;

	/* one below min_tries: the PIN is not asked, nothing counts, the code prompt follows */
	login_setup(&l);
	l.f->tries = 1;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_PIN_TRIES);
	assert_int_equal(l.h.asked, 0);
	assert_false(sent_pin(l.f));
	assert_int_equal(l.f->tries, 1);
	assert_int_equal(l.out.tries_left, 1);
	assert_int_equal(l.f->count, JPKI_STEP_TRIES + 1);
	assert_true(mfa_card_error_falls_back(MFA_ERR_PIN_TRIES));
	assert_false(mfa_card_error_counts(MFA_ERR_PIN_TRIES));
	/* exactly min_tries: tried */
	l.f->tries = 2;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), 0);
	assert_int_equal(l.h.asked, 1);
	assert_int_equal(l.out.tries_left, 2); /* the count the PIN was tried with */
	/* blocked: 6983 to the tries query */
	l.f->tries = 0;
	assert_int_equal(login_at(&l, 1, CERT_NOT_BEFORE + 20), MFA_ERR_PIN_BLOCKED);
	assert_int_equal(l.h.asked, 0);
	assert_int_equal(l.out.tries_left, MFA_CARD_TRIES_BLOCKED);
	assert_true(mfa_card_error_falls_back(MFA_ERR_PIN_BLOCKED));
	login_free(&l);
}

static void test_login_tries_unknown(void **state)
{
	static const char *const answers[] = { "6300", "6301", "6A80", "6D00" };
	(void)state;

	for (size_t i = 0; i < NELEM(answers); i++) {
		struct login l;

		login_setup(&l);
		fake_fault(l.f, JPKI_STEP_TRIES, answers[i], false);
		assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_TRIES_UNKNOWN);
		assert_int_equal(l.h.asked, 0);
		assert_false(sent_pin(l.f));
		assert_int_equal(l.f->count, JPKI_STEP_TRIES + 1);
		assert_int_equal(l.out.tries_left, -1);
		login_free(&l);
	}
	assert_true(mfa_card_error_falls_back(MFA_ERR_TRIES_UNKNOWN));
	assert_false(mfa_card_error_counts(MFA_ERR_TRIES_UNKNOWN));
}

static void test_login_verified_card(void **state)
{
	struct login l;
	(void)state;

	/* left verified by another application: reset once, asked again, PIN still asked */
	login_setup(&l);
	l.left_verified = true;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), 0);
	assert_int_equal(l.resets, 1);
	assert_int_equal(l.f->count, JPKI_LOGIN_APDUS + 3); /* + tries, SELECT AP, SELECT EF */
	assert_int_equal(l.h.asked, 1);
	assert_true(sent_pin(l.f));
	/* still verified after the reset: not a card to trust, no PIN asked */
	l.reset_clears = false;
	l.resets = 0;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_CARD);
	assert_int_equal(l.resets, 2); /* asked twice, reset after each, then refused */
	assert_int_equal(l.h.asked, 0);
	assert_false(sent_pin(l.f));
	login_free(&l);
}

static void test_login_pin_outcomes(void **state)
{
	struct login l;
	(void)state;

	login_setup(&l);
	/* wrong PIN: counted, the card's count comes back */
	l.h.pin = "4321";
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_BADPIN);
	assert_int_equal(l.h.asked, 1);
	assert_int_equal(l.f->tries, 2);
	assert_int_equal(l.out.tries_left, 2);
	assert_int_equal(l.f->count, JPKI_STEP_PIN + 1); /* nothing signed */
	assert_true(mfa_card_error_counts(MFA_ERR_BADPIN));
	assert_false(mfa_card_error_falls_back(MFA_ERR_BADPIN));
	/*
	 * the last try wrong (min_tries 1 lets it be tried): the card is blocked, and it is a
	 * wrong PIN with no try left (counted, no fallback), never MFA_ERR_PIN_BLOCKED, which
	 * means nothing was sent: the module and the helper both count it
	 */
	l.f->tries = 1;
	assert_int_equal(login_at(&l, 1, CERT_NOT_BEFORE + 20), MFA_ERR_BADPIN);
	assert_int_equal(l.f->tries, 0);
	assert_int_equal(l.out.tries_left, 0);
	assert_true(mfa_card_error_counts(MFA_ERR_BADPIN));
	assert_false(mfa_card_error_falls_back(MFA_ERR_BADPIN));
	login_free(&l);
	/* the same with a card that answers 69 83 to the VERIFY that carried the PIN */
	login_setup(&l);
	fake_fault(l.f, JPKI_STEP_PIN, "6983", false);
	assert_int_equal(login_at(&l, 1, CERT_NOT_BEFORE + 20), MFA_ERR_BADPIN);
	assert_int_equal(l.h.asked, 1);
	assert_int_equal(l.out.tries_left, 0);
	login_free(&l);
	/* "blocked" to the signature after the right PIN: a card error, counted */
	login_setup(&l);
	fake_fault(l.f, JPKI_LOGIN_APDUS - 1, "6983", false);
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_CARD);
	assert_true(mfa_card_error_counts(MFA_ERR_CARD));
	login_free(&l);
	login_setup(&l);
	l.h.pin = "4321";
	/* an empty or misshapen PIN never reaches the card */
	l.f->tries = 3;
	l.h.pin = "";
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_PIN_FORMAT);
	assert_false(sent_pin(l.f));
	l.h.pin = "12a4";
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_PIN_FORMAT);
	l.h.pin = "12345";
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_PIN_FORMAT);
	assert_false(sent_pin(l.f));
	assert_int_equal(l.f->tries, 3);
	assert_false(mfa_card_error_counts(MFA_ERR_PIN_FORMAT));
	assert_false(mfa_card_error_falls_back(MFA_ERR_PIN_FORMAT));
	/* the conversation failed, or gave no PIN: its error, nothing sent */
	l.h.pin = "1234";
	l.ask_rc = MFA_ERR_NOMEM;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_NOMEM);
	assert_false(sent_pin(l.f));
	l.ask_rc = 0;
	l.ask_null = true;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_INVAL);
	assert_false(sent_pin(l.f));
	login_free(&l);
}

static void test_login_bad_signature(void **state)
{
	struct login l;
	(void)state;

	/* the enrolled card's certificate and identifier, another key inside */
	login_setup(&l);
	l.f->key = rsa_b;
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_BADSIG);
	assert_int_equal(l.h.asked, 1);
	assert_int_equal(l.f->count, JPKI_LOGIN_APDUS);
	assert_true(mfa_card_error_counts(MFA_ERR_BADSIG));
	assert_false(mfa_card_error_falls_back(MFA_ERR_BADSIG));
	/* the card refuses to sign after a good PIN */
	l.f->key = rsa_a;
	fake_fault(l.f, JPKI_LOGIN_APDUS - 1, "6982", false);
	assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_PIN_REQUIRED);
	assert_true(mfa_card_error_counts(MFA_ERR_PIN_REQUIRED));
	login_free(&l);
}

static void test_login_card_pulled(void **state)
{
	(void)state;

	/* the card gone at any step: no card, the code prompt follows, nothing counts */
	for (size_t at = 0; at < JPKI_LOGIN_APDUS; at++) {
		struct login l;

		login_setup(&l);
		l.nocard_at = at;
		assert_int_equal(login_at(&l, 2, CERT_NOT_BEFORE + 20), MFA_ERR_NOCARD);
		assert_int_equal(l.f->count, at + 1);
		assert_int_equal(l.h.asked, at >= JPKI_STEP_PIN ? 1 : 0);
		login_free(&l);
	}
	assert_true(mfa_card_error_falls_back(MFA_ERR_NOCARD));
	assert_false(mfa_card_error_counts(MFA_ERR_NOCARD));
}

/* Every error a card login can end with: does it count, does the code prompt follow? */
static void test_error_classes(void **state)
{
	static const struct {
		int err;
		bool counts, falls_back;
		/* clang-format off */
	} cases[] = {
		{ 0, false, false },
		{ MFA_ERR_BADPIN, true, false },
		{ MFA_ERR_BADSIG, true, false },
		{ MFA_ERR_PIN_BLOCKED, false, true },   /* blocked before: nothing sent */
		{ MFA_ERR_PIN_REQUIRED, true, false },
		{ MFA_ERR_NOAPP, true, false },
		{ MFA_ERR_CARD, true, false },
		{ MFA_ERR_CERT, true, false },
		{ MFA_ERR_KEYTYPE, true, false },
		{ MFA_ERR_WRONG_CARD, true, false },
		{ MFA_ERR_NOCARD, false, true },
		{ MFA_ERR_NOREADER, false, true },
		{ MFA_ERR_NOSERVICE, false, true },
		{ MFA_ERR_PIN_TRIES, false, true },
		{ MFA_ERR_EXPIRED, false, true },
		{ MFA_ERR_TRIES_UNKNOWN, false, true },
		{ MFA_ERR_PIN_FORMAT, false, false },
		{ MFA_ERR_PCSC, false, false },
		{ MFA_ERR_NOMEM, false, false },
		{ MFA_ERR_INVAL, false, false },
		{ MFA_ERR_NOENT, false, false },
		{ MFA_ERR_CORRUPT, false, false },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		if (mfa_card_error_counts(cases[i].err) != cases[i].counts)
			fail_msg("%s: counts should be %d", mfa_errtoken(cases[i].err),
			    cases[i].counts);
		if (mfa_card_error_falls_back(cases[i].err) != cases[i].falls_back)
			fail_msg("%s: falls_back should be %d", mfa_errtoken(cases[i].err),
			    cases[i].falls_back);
	}
}

static void test_id_tokens(void **state)
{
	(void)state;
	assert_string_equal(mfa_card_id_token(MFA_CARD_ID_CERT), "cert_serial");
	assert_string_equal(mfa_card_id_token(MFA_CARD_ID_CHUID), "chuid");
	assert_string_equal(mfa_card_id_token(MFA_CARD_ID_SPKI), "public_key");
	assert_string_equal(mfa_card_id_token(MFA_CARD_ID_LEGACY), "legacy_public_key");
	assert_string_equal(mfa_card_id_token(0x7F), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_guard_jpki),
		cmocka_unit_test(test_login_guard_piv),
		cmocka_unit_test(test_login_expiry),
		cmocka_unit_test(test_login_no_factor),
		cmocka_unit_test(test_login_select_fails),
		cmocka_unit_test(test_login_wrong_card_before_pin),
		cmocka_unit_test(test_login_tries_guard),
		cmocka_unit_test(test_login_tries_unknown),
		cmocka_unit_test(test_login_verified_card),
		cmocka_unit_test(test_login_pin_outcomes),
		cmocka_unit_test(test_login_bad_signature),
		cmocka_unit_test(test_login_card_pulled),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_id_tokens),
	};

	return cmocka_run_group_tests_name("card_auth", tests, cardtest_keys_setup,
	    cardtest_keys_teardown);
}
