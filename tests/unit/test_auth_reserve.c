/*
 * The helper's kill-safe attempts (auth.h: mfa_auth_reserve and the
 * *_reserved settlements), against a real store in a sandbox:
 *  - a reservation is on disk before the check and counts as a failure if
 *    nothing settles it;
 *  - settled by a wrong code it counts once, not twice;
 *  - it never locks by itself: the deny-th attempt with the right code
 *    succeeds, the deny-th wrong one locks;
 *  - abandoned reservations that reached deny lock at the next reservation;
 *  - a locked user's reservation changes nothing;
 *  - a card error that was no attempt returns the reservation.
 * Time is an argument: no sleeping.
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

/* The clock the decision reads under the lock: AT(t) sets it and passes it. */
#define AT(t) tu_clock_at(t)
#define USER "clerk"

struct fx {
	struct tu_sandbox sb;
	struct mfa_store *store;
	struct mfa_record rec;
};

static int fx_setup(void **state)
{
	struct mfa_path_error perr;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_sandbox_setup(&f->sb);
	f->sb.cfg.deny = 3;
	f->sb.cfg.unlock_time = 0;
	memset(&perr, 0, sizeof(perr));
	assert_int_equal(mfa_store_open(&f->sb.cfg, &f->store, &perr), 0);
	tu_totp_record(&f->rec);
	assert_int_equal(mfa_store_save(f->store, USER, &f->rec), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	mfa_store_close(f->store);
	mfa_record_wipe(&f->rec);
	tu_sandbox_teardown(&f->sb);
	free(f);
	return 0;
}

static struct mfa_state state_of(const struct fx *f)
{
	struct mfa_state st;
	assert_int_equal(mfa_store_read_state(f->store, USER, &st), 0);
	return st;
}

/* One helper attempt: reserve, then settle with code. */
static int attempt(struct fx *f, const char *code, uint64_t now, struct mfa_auth_result *res)
{
	int rc = mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(now), NULL, res);
	if (rc != 0)
		return rc;
	return mfa_auth_code_reserved(f->store, &f->sb.cfg, USER, &f->rec, code, AT(now), NULL,
	    res);
}

static void test_reservation_counts_until_settled(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	assert_int_equal(mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(NOW), NULL, &res), 0);
	assert_int_equal(state_of(f).failures, 1); /* on disk before any check */
	assert_false(res.locked_now);
	tu_wrong_at(&f->rec, NOW, code);
	assert_int_equal(mfa_auth_code_reserved(f->store, &f->sb.cfg, USER, &f->rec, code, AT(NOW),
	                     NULL, &res),
	    MFA_ERR_BADCODE);
	assert_int_equal(state_of(f).failures, 1); /* counted once, not twice */
	tu_code_at(&f->rec, NOW, code);
	assert_int_equal(attempt(f, code, NOW + 1, &res), 0);
	assert_int_equal(state_of(f).failures, 0); /* a success clears it */
}

static void test_right_code_on_the_last_try(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	for (int i = 0; i < 2; i++) {
		tu_wrong_at(&f->rec, NOW, code);
		assert_int_equal(attempt(f, code, NOW + (uint64_t)i, &res), MFA_ERR_BADCODE);
	}
	assert_int_equal(state_of(f).failures, 2);
	tu_code_at(&f->rec, NOW, code);
	/* The reservation takes failures to deny, but does not lock. */
	assert_int_equal(attempt(f, code, NOW + 2, &res), 0);
	assert_int_equal(state_of(f).failures, 0);
	assert_true(state_of(f).locked_until == 0);
}

static void test_wrong_code_on_the_last_try_locks(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	for (int i = 0; i < 3; i++) {
		tu_wrong_at(&f->rec, NOW, code);
		assert_int_equal(attempt(f, code, NOW + (uint64_t)i, &res), MFA_ERR_BADCODE);
		assert_int_equal(res.locked_now, i == 2);
	}
	assert_true(state_of(f).locked_until == MFA_LOCK_FOREVER);
	/* Locked: a reservation changes nothing. */
	assert_int_equal(mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(NOW + 5), NULL, &res),
	    MFA_ERR_LOCKED);
	assert_int_equal(state_of(f).failures, 3);
}

static void test_abandoned_reservations_lock(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	for (int i = 0; i < 3; i++)
		assert_int_equal(mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(NOW), NULL, &res),
		    0);
	assert_int_equal(state_of(f).failures, 3);
	assert_true(state_of(f).locked_until == 0);
	tu_code_at(&f->rec, NOW, code);
	assert_int_equal(attempt(f, code, NOW + 1, &res), MFA_ERR_LOCKED);
	assert_true(res.locked_now);
	assert_true(state_of(f).locked_until == MFA_LOCK_FOREVER);
	assert_int_equal(state_of(f).last_step, 0); /* the code was never checked */
}

static void test_card_non_attempt_returns_reservation(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;

	assert_int_equal(mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(NOW), NULL, &res), 0);
	assert_int_equal(mfa_auth_card_reserved(f->store, &f->sb.cfg, USER, MFA_ERR_PIN_FORMAT,
	                     AT(NOW), NULL, &res),
	    MFA_ERR_PIN_FORMAT);
	assert_int_equal(state_of(f).failures, 0);
	assert_int_equal(mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(NOW), NULL, &res), 0);
	assert_int_equal(mfa_auth_card_reserved(f->store, &f->sb.cfg, USER, MFA_ERR_BADPIN, AT(NOW),
	                     NULL, &res),
	    MFA_ERR_BADPIN);
	assert_int_equal(state_of(f).failures, 1);
	assert_int_equal(mfa_auth_reserve(f->store, &f->sb.cfg, USER, AT(NOW), NULL, &res), 0);
	assert_int_equal(mfa_auth_card_reserved(f->store, &f->sb.cfg, USER, 0, AT(NOW), NULL, &res),
	    0);
	assert_int_equal(state_of(f).failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reservation_counts_until_settled, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_right_code_on_the_last_try, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_code_on_the_last_try_locks, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_reservations_lock, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_card_non_attempt_returns_reservation, fx_setup,
		    fx_teardown),
	};

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
