/*
 * The factor choice and the verdict predicates of lib/auth.c, shared by the
 * PAM module and the setuid helper: which factor is offered for a record
 * (mfa_auth_card_offered, mfa_auth_code_view), which results are verdicts
 * rather than store errors (mfa_auth_code_judged), the card path's early
 * refusal of a locked user (mfa_auth_unlocked) and the account step
 * (mfa_auth_account), against a real store in a sandbox.  Time is an argument: no sleeping.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/auth.h"
#include "mfauth/err.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"
#include "testutil.h"

#define NOW 1700000000ull
#define USER "clerk"

static uint64_t clock_value;
static uint64_t fixed_clock(void)
{
	return clock_value;
}

static void totp_record(struct mfa_record *rec)
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

static void test_code_judged(void **state)
{
	static const struct {
		int rc;
		bool judged;
		/* clang-format off */
	} cases[] = {
		{ 0, true }, { MFA_ERR_BADCODE, true }, { MFA_ERR_REPLAY, true },
		{ MFA_ERR_INVAL, true }, { MFA_ERR_EXPIRED, true }, { MFA_ERR_LOCKED, true },
		{ MFA_ERR_IO, false }, { MFA_ERR_NOENT, false }, { MFA_ERR_NOMEM, false },
		{ MFA_ERR_BADPIN, false },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("rc %d\n", cases[i].rc);
		assert_int_equal(mfa_auth_code_judged(cases[i].rc), cases[i].judged);
	}
}

static void test_card_offered(void **state)
{
	static const struct {
		bool present;
		uint8_t profile;
		unsigned factors, profiles;
		bool offered;
		/* clang-format off */
	} cases[] = {
		{ true, MFA_CARD_PIV, MFA_FACTOR_CARD, MFA_PROFILE_PIV, true },
		{ true, MFA_CARD_JPKI, MFA_FACTOR_CARD | MFA_FACTOR_TOTP, MFA_PROFILE_JPKI, true },
		{ false, MFA_CARD_PIV, MFA_FACTOR_CARD, MFA_PROFILE_PIV, false },   /* none enrolled */
		{ true, MFA_CARD_PIV, MFA_FACTOR_TOTP, MFA_PROFILE_PIV, false },    /* factors=totp */
		{ true, MFA_CARD_JPKI, MFA_FACTOR_CARD, MFA_PROFILE_PIV, false },   /* profile refused */
		{ true, 0, MFA_FACTOR_CARD, MFA_PROFILE_PIV | MFA_PROFILE_JPKI, false },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_config cfg;
		struct mfa_record rec;

		memset(&cfg, 0, sizeof(cfg));
		memset(&rec, 0, sizeof(rec));
		cfg.factors = cases[i].factors;
		cfg.card_profiles = cases[i].profiles;
		rec.card.present = cases[i].present;
		rec.card.profile = cases[i].profile;
		print_message("case %zu\n", i);
		assert_int_equal(mfa_auth_card_offered(&cfg, &rec), cases[i].offered);
	}
}

static void test_code_view(void **state)
{
	static const struct {
		bool totp, recovery;
		unsigned factors;
		bool any, totp_left;
		/* clang-format off */
	} cases[] = {
		{ true, false, MFA_FACTOR_TOTP, true, true },
		{ true, true, MFA_FACTOR_CARD, true, false },     /* recovery always, TOTP not allowed */
		{ true, false, MFA_FACTOR_CARD, false, false },   /* nothing a code can be checked against */
		{ false, true, MFA_FACTOR_TOTP, true, false },
		{ false, false, MFA_FACTOR_TOTP | MFA_FACTOR_CARD, false, false },
	};
	/* clang-format on */
	static const uint8_t zero[sizeof(((struct mfa_record *)0)->totp)];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_config cfg;
		struct mfa_record rec, view;

		memset(&cfg, 0, sizeof(cfg));
		totp_record(&rec);
		rec.totp.present = cases[i].totp;
		rec.recovery.present = cases[i].recovery;
		cfg.factors = cases[i].factors;
		print_message("case %zu\n", i);
		assert_int_equal(mfa_auth_code_view(&cfg, &rec, &view), cases[i].any);
		assert_int_equal(view.totp.present, cases[i].totp_left);
		assert_int_equal(view.recovery.present, cases[i].recovery);
		/* A TOTP seed the factors do not allow is wiped from the view, not only flagged. */
		if (!(cases[i].factors & MFA_FACTOR_TOTP))
			assert_memory_equal(&view.totp, zero, sizeof(zero));
		else
			assert_memory_equal(&view.totp, &rec.totp, sizeof(rec.totp));
		mfa_record_wipe(&rec);
		mfa_record_wipe(&view);
	}
}

/*
 * Not enrolled, then not locked, then locked by deny wrong codes, then
 * unlocked after unlock_time: the card path's refusal and the account step.
 */
static void test_unlocked(void **state)
{
	struct tu_sandbox sb;
	struct mfa_path_error perr;
	struct mfa_store *store = NULL;
	struct mfa_auth_result res;
	struct mfa_record rec;
	char code[9];
	(void)state;

	tu_sandbox_setup(&sb);
	sb.cfg.deny = 3;
	sb.cfg.unlock_time = 600;
	memset(&perr, 0, sizeof(perr));
	assert_int_equal(mfa_store_open(&sb.cfg, &store, &perr), 0);
	totp_record(&rec);
	/* The account step: nothing enrolled is no lock to enforce. */
	assert_int_equal(mfa_auth_account(store, &sb.cfg, USER, NOW), MFA_ERR_NOENT);
	assert_int_equal(mfa_store_save(store, USER, &rec), 0);
	assert_int_equal(mfa_auth_unlocked(store, &sb.cfg, USER, NOW), 0);
	assert_int_equal(mfa_auth_account(store, &sb.cfg, USER, NOW), 0);
	assert_int_equal(mfa_totp_code(&rec.totp, NOW / 30, code, sizeof(code)), 0);
	code[5] = (char)('0' + (code[5] - '0' + 5) % 10);
	clock_value = NOW;
	for (int i = 0; i < 3; i++)
		(void)mfa_auth_code(store, &sb.cfg, USER, &rec, code, fixed_clock, NULL, &res);
	assert_true(res.locked_now);
	assert_int_equal(mfa_auth_unlocked(store, &sb.cfg, USER, NOW), MFA_ERR_LOCKED);
	assert_int_equal(mfa_auth_unlocked(store, &sb.cfg, USER, NOW + 599), MFA_ERR_LOCKED);
	assert_int_equal(mfa_auth_account(store, &sb.cfg, USER, NOW + 599), MFA_ERR_LOCKED);
	assert_int_equal(mfa_auth_unlocked(store, &sb.cfg, USER, NOW + 600), 0);
	assert_int_equal(mfa_auth_account(store, &sb.cfg, USER, NOW + 600), 0);
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	tu_sandbox_teardown(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_judged),
		cmocka_unit_test(test_card_offered),
		cmocka_unit_test(test_code_view),
		cmocka_unit_test(test_unlocked),
	};

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
