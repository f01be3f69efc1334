/*
 * Unit tests for lib/auth.c, the decision under the user's lock (auth.h;
 * doc/DESIGN.md invariants 1-3), against a real store in a sandbox:
 *  - an accepted code raises the watermark and clears the failures; the
 *    same code, or an older step, is then a replay and counts;
 *  - the TOTP window: exactly `window` steps either side accepted, one more
 *    refused;
 *  - wrong, malformed and replayed codes count, and the deny-th locks; a
 *    locked user's attempt changes nothing, up to the second the lock ends;
 *  - deny_total locks until staff unlock however far apart the failures;
 *  - recovery codes: accepted once, then a replay; expired; wrong;
 *  - a card outcome: success clears, an attempt counts, a non-attempt
 *    changes nothing, a locked user is refused even with a verified card;
 *  - the time is the clock's, read under the lock; the decoy changes
 *    nobody's state; mfa_auth_unlocked at the lock's edges.
 * The helper's reserve and settle are in test_auth_reserve.c.  No sleeping.
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
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"
#include "testutil.h"

#define NOW 1700000010ull /* 10 s into its 30 s step */
#define STEP (NOW / 30)
#define UNLOCK 600
#define INTERVAL 900

/* The clock the decision reads under the lock: AT(t) sets it and passes it. */
static uint64_t clock_value;
static unsigned clock_reads;
static uint64_t fixed_clock(void)
{
	clock_reads++;
	return clock_value;
}
#define AT(t) (clock_value = (t), fixed_clock)
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
	f->sb.cfg.window = 1;
	f->sb.cfg.deny = 3;
	f->sb.cfg.unlock_time = UNLOCK;
	f->sb.cfg.fail_interval = INTERVAL;
	f->sb.cfg.deny_total = 0;
	memset(&perr, 0, sizeof(perr));
	assert_int_equal(mfa_store_open(&f->sb.cfg, &f->store, &perr), 0);
	f->rec.created_at = 1;
	f->rec.totp.present = true;
	f->rec.totp.secret_len = 20;
	memset(f->rec.totp.secret, 0x42, 20);
	f->rec.totp.digits = 6;
	f->rec.totp.alg = MFA_ALG_SHA1;
	f->rec.totp.period = 30;
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

static void code_of_step(const struct fx *f, uint64_t step, char out[9])
{
	assert_int_equal(mfa_totp_code(&f->rec.totp, step, out, 9), 0);
}

/* A code of the right shape that no step near t gives. */
static void wrong_code(const struct fx *f, uint64_t t, char out[9])
{
	char near[3][9];

	for (unsigned d = 0; d < 10; d++) {
		bool clash = false;

		code_of_step(f, t / 30, out);
		out[5] = (char)('0' + (out[5] - '0' + 1 + d) % 10);
		for (int k = 0; k < 3; k++) {
			code_of_step(f, t / 30 - 1 + (uint64_t)k, near[k]);
			clash |= strcmp(near[k], out) == 0;
		}
		if (!clash)
			return;
	}
	fail_msg("no wrong code found");
}

static struct mfa_state state_of(const struct fx *f)
{
	struct mfa_state st;

	assert_int_equal(mfa_store_read_state(f->store, USER, &st), 0);
	return st;
}

static int try_code(struct fx *f, const char *code, uint64_t now, struct mfa_auth_result *res)
{
	return mfa_auth_code(f->store, &f->sb.cfg, USER, &f->rec, code, AT(now), NULL, res);
}

static int try_step(struct fx *f, uint64_t step, uint64_t now, struct mfa_auth_result *res)
{
	char code[9];

	code_of_step(f, step, code);
	return try_code(f, code, now, res);
}

static int fail_once(struct fx *f, uint64_t now, struct mfa_auth_result *res)
{
	char code[9];

	wrong_code(f, now, code);
	return try_code(f, code, now, res);
}

static void test_accepted_code(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	struct mfa_state st;

	assert_int_equal(fail_once(f, NOW, &res), MFA_ERR_BADCODE);
	assert_int_equal(fail_once(f, NOW, &res), MFA_ERR_BADCODE);
	assert_int_equal(res.failures, 2);
	assert_int_equal(try_step(f, STEP, NOW, &res), 0);
	assert_int_equal(res.step, STEP);
	assert_int_equal(res.failures, 0);
	assert_false(res.locked_now);
	assert_false(res.used_recovery);
	st = state_of(f);
	assert_int_equal(st.last_step, STEP);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.failures_total, 0);
	assert_int_equal(st.last_success, NOW);
}

static void test_replay(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	struct mfa_state st;

	assert_int_equal(try_step(f, STEP, NOW, &res), 0);
	/* the same code again, even a second later in the same step: a replay, counted */
	assert_int_equal(try_step(f, STEP, NOW + 1, &res), MFA_ERR_REPLAY);
	assert_int_equal(res.failures, 1);
	/* an older step still inside the window: also a replay */
	assert_int_equal(try_step(f, STEP - 1, NOW + 1, &res), MFA_ERR_REPLAY);
	assert_int_equal(res.failures, 2);
	st = state_of(f);
	assert_int_equal(st.last_step, STEP); /* the watermark did not move */
	assert_int_equal(st.failures, 2);
	/* the next step is fresh */
	assert_int_equal(try_step(f, STEP + 1, NOW + 30, &res), 0);
	assert_int_equal(state_of(f).last_step, STEP + 1);
}

static void test_window_edges(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;

	/* one step beyond the window on either side: refused and counted */
	assert_int_equal(try_step(f, STEP - 2, NOW, &res), MFA_ERR_BADCODE);
	assert_int_equal(try_step(f, STEP + 2, NOW, &res), MFA_ERR_BADCODE);
	assert_int_equal(res.failures, 2);
	/* exactly window steps either side, and the current one: accepted */
	assert_int_equal(try_step(f, STEP - 1, NOW, &res), 0);
	assert_int_equal(res.step, STEP - 1);
	assert_int_equal(try_step(f, STEP, NOW, &res), 0);
	assert_int_equal(try_step(f, STEP + 1, NOW, &res), 0);
	assert_int_equal(res.step, STEP + 1);
	/* window 0: the current step only */
	f->sb.cfg.window = 0;
	assert_int_equal(try_step(f, STEP + 3, NOW + 60, &res), MFA_ERR_BADCODE);
	assert_int_equal(try_step(f, STEP + 2, NOW + 60, &res), 0);
	/* the step boundary: a step's code in its last second, not in the next one's first */
	assert_int_equal(try_step(f, STEP + 4, (STEP + 5) * 30 - 1, &res), 0);
	assert_int_equal(try_step(f, STEP + 5, (STEP + 5) * 30 - 1, &res), MFA_ERR_BADCODE);
	assert_int_equal(try_step(f, STEP + 6, (STEP + 6) * 30, &res), 0);
	assert_int_equal(try_step(f, STEP + 5, (STEP + 6) * 30, &res), MFA_ERR_BADCODE);
}

static void test_malformed_counts(void **state)
{
	static const char *const bad[] = { "12a456", "", "1234567", "12345", "123 456x" };
	struct fx *f = *state;
	struct mfa_auth_result res;

	f->sb.cfg.deny = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(try_code(f, bad[i], NOW, &res), MFA_ERR_INVAL);
		assert_int_equal(res.failures, i + 1);
	}
	/* a recovery code's shape without a recovery code issued: malformed for TOTP */
	assert_int_equal(try_code(f, "7K3M-Q9TZ-2D4R-HX8N", NOW, &res), MFA_ERR_INVAL);
	assert_int_equal(state_of(f).failures, 6);
	assert_int_equal(state_of(f).last_step, 0);
}

static void test_lockout_interplay(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	struct mfa_state before, after;

	assert_int_equal(fail_once(f, NOW, &res), MFA_ERR_BADCODE);
	assert_int_equal(fail_once(f, NOW + 1, &res), MFA_ERR_BADCODE);
	assert_false(res.locked_now);
	assert_int_equal(res.locked_until, 0);
	/* the deny-th failure locks, from the clock's time */
	assert_int_equal(fail_once(f, NOW + 2, &res), MFA_ERR_BADCODE);
	assert_true(res.locked_now);
	assert_int_equal(res.lock_reason, MFA_LOCK_DENY);
	assert_int_equal(res.failures, 3);
	assert_int_equal(res.locked_until, NOW + 2 + UNLOCK);
	/* locked: the right code changes nothing and consumes nothing, up to the last second */
	before = state_of(f);
	assert_int_equal(try_step(f, (NOW + 2 + UNLOCK - 1) / 30, NOW + 2 + UNLOCK - 1, &res),
	    MFA_ERR_LOCKED);
	assert_false(res.locked_now);
	assert_int_equal(res.failures, 3);
	assert_int_equal(res.locked_until, NOW + 2 + UNLOCK);
	assert_int_equal(fail_once(f, NOW + 100, &res), MFA_ERR_LOCKED);
	after = state_of(f);
	assert_int_equal(after.failures, before.failures);
	assert_int_equal(after.failures_total, before.failures_total);
	assert_int_equal(after.last_step, before.last_step);
	assert_int_equal(after.last_failure, before.last_failure);
	/* exactly when the lock ends: the right code gets in and clears everything */
	assert_int_equal(try_step(f, (NOW + 2 + UNLOCK) / 30, NOW + 2 + UNLOCK, &res), 0);
	after = state_of(f);
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.locked_until, 0);
}

static void test_lock_after_expiry_starts_fresh(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;

	for (int i = 0; i < 3; i++)
		(void)fail_once(f, NOW, &res);
	assert_int_equal(res.locked_until, NOW + UNLOCK);
	/* a wrong code after the lock ended: a fresh window, not locked again at once */
	assert_int_equal(fail_once(f, NOW + UNLOCK, &res), MFA_ERR_BADCODE);
	assert_false(res.locked_now);
	assert_int_equal(res.failures, 1);
	/* failures fail_interval apart do not add up */
	assert_int_equal(fail_once(f, NOW + UNLOCK + INTERVAL, &res), MFA_ERR_BADCODE);
	assert_int_equal(res.failures, 1);
	assert_int_equal(fail_once(f, NOW + UNLOCK + INTERVAL + 1, &res), MFA_ERR_BADCODE);
	assert_int_equal(res.failures, 2);
	assert_int_equal(state_of(f).failures_total, 6);
}

static void test_deny_total(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;

	f->sb.cfg.deny = 0;
	f->sb.cfg.deny_total = 3;
	/* days apart: never in one window, yet the total locks until staff unlock */
	assert_int_equal(fail_once(f, NOW, &res), MFA_ERR_BADCODE);
	assert_int_equal(fail_once(f, NOW + 86400, &res), MFA_ERR_BADCODE);
	assert_false(res.locked_now);
	assert_int_equal(fail_once(f, NOW + 2 * 86400, &res), MFA_ERR_BADCODE);
	assert_true(res.locked_now);
	assert_int_equal(res.lock_reason, MFA_LOCK_TOTAL);
	assert_int_equal(res.locked_until, MFA_LOCK_FOREVER);
	assert_int_equal(try_step(f, (NOW + 400 * 86400) / 30, NOW + 400 * 86400, &res),
	    MFA_ERR_LOCKED);
}

static void test_recovery_codes(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[MFA_RECOVERY_TEXT_LEN], other[MFA_RECOVERY_TEXT_LEN];
	struct mfa_recovery spare;
	struct mfa_state st;

	assert_int_equal(mfa_recovery_issue(&f->rec.recovery, NOW, 3600, code), 0);
	assert_int_equal(mfa_recovery_issue(&spare, NOW, 3600, other), 0);
	/* another code of the right shape: a wrong code, counted */
	assert_int_equal(try_code(f, other, NOW, &res), MFA_ERR_BADCODE);
	assert_false(res.used_recovery);
	assert_int_equal(res.failures, 1);
	/* the issued one: accepted once, recorded as used, the TOTP watermark untouched */
	assert_int_equal(try_code(f, code, NOW + 1, &res), 0);
	assert_true(res.used_recovery);
	assert_int_equal(res.failures, 0);
	st = state_of(f);
	assert_int_equal(st.recovery_used, f->rec.recovery.id);
	assert_int_equal(st.last_step, 0);
	/* then a replay, counted */
	assert_int_equal(try_code(f, code, NOW + 2, &res), MFA_ERR_REPLAY);
	assert_false(res.used_recovery);
	assert_int_equal(res.failures, 1);
	/* a new code, used after its expiry: expired, counted */
	assert_int_equal(mfa_recovery_issue(&f->rec.recovery, NOW + 10, 3600, code), 0);
	assert_int_equal(try_code(f, code, NOW + 10 + 3600 + 1, &res), MFA_ERR_EXPIRED);
	assert_int_equal(res.failures, 1); /* the replay's window is over */
	assert_int_equal(state_of(f).failures_total, 2);
	/* TOTP codes still work beside it */
	assert_int_equal(try_step(f, (NOW + 4000) / 30, NOW + 4000, &res), 0);
	/* a record with only a recovery code: a TOTP-shaped answer is a wrong code */
	f->rec.totp.present = false;
	assert_int_equal(try_code(f, "123456", NOW + 4001, &res), MFA_ERR_BADCODE);
	mfa_wipe(code, sizeof(code));
	mfa_wipe(other, sizeof(other));
}

static int card(struct fx *f, int card_rc, uint64_t now, struct mfa_auth_result *res)
{
	return mfa_auth_card_result(f->store, &f->sb.cfg, USER, card_rc, AT(now), NULL, res);
}

static void test_card_outcomes(void **state)
{
	static const int no_attempt[] = { MFA_ERR_NOCARD, MFA_ERR_NOREADER, MFA_ERR_NOSERVICE,
		MFA_ERR_PIN_TRIES, MFA_ERR_TRIES_UNKNOWN, MFA_ERR_EXPIRED, MFA_ERR_PIN_FORMAT };
	struct fx *f = *state;
	struct mfa_auth_result res;
	struct mfa_state before, after;

	/* an attempt counts and returns the card's error */
	assert_int_equal(card(f, MFA_ERR_BADPIN, NOW, &res), MFA_ERR_BADPIN);
	assert_int_equal(res.failures, 1);
	assert_int_equal(card(f, MFA_ERR_WRONG_CARD, NOW + 1, &res), MFA_ERR_WRONG_CARD);
	assert_int_equal(res.failures, 2);
	/* no attempt: nothing changes, nothing written */
	before = state_of(f);
	for (size_t i = 0; i < sizeof(no_attempt) / sizeof(no_attempt[0]); i++) {
		assert_int_equal(card(f, no_attempt[i], NOW + 2, &res), no_attempt[i]);
		assert_int_equal(res.failures, 2);
		assert_false(res.locked_now);
	}
	after = state_of(f);
	assert_int_equal(after.seq, before.seq);
	assert_int_equal(after.failures, 2);
	assert_int_equal(after.last_failure, before.last_failure);
	/* the deny-th card attempt locks */
	assert_int_equal(card(f, MFA_ERR_BADSIG, NOW + 3, &res), MFA_ERR_BADSIG);
	assert_true(res.locked_now);
	assert_int_equal(res.locked_until, NOW + 3 + UNLOCK);
	/* locked: even a verified card is refused, and records no success */
	assert_int_equal(card(f, 0, NOW + 4, &res), MFA_ERR_LOCKED);
	assert_int_equal(state_of(f).last_success, 0);
	assert_int_equal(state_of(f).failures, 3);
	/* after the lock: a verified card clears the failures */
	assert_int_equal(card(f, 0, NOW + 3 + UNLOCK, &res), 0);
	after = state_of(f);
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.last_success, NOW + 3 + UNLOCK);
}

static void test_clock_read_under_lock(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	char code[9];

	/* the code is judged at the clock's time, and the failure stamped with it */
	code_of_step(f, STEP + 20, code);
	clock_reads = 0;
	assert_int_equal(try_code(f, code, NOW + 600, &res), 0);
	assert_int_equal(clock_reads, 1);
	assert_int_equal(state_of(f).last_success, NOW + 600);
	assert_int_equal(fail_once(f, NOW + 700, &res), MFA_ERR_BADCODE);
	assert_int_equal(state_of(f).last_failure, NOW + 700);
	assert_int_equal(card(f, MFA_ERR_BADPIN, NOW + 800, &res), MFA_ERR_BADPIN);
	assert_int_equal(state_of(f).last_failure, NOW + 800);
}

static void test_decoy_and_locked(void **state)
{
	struct fx *f = *state;
	struct mfa_auth_result res;
	struct mfa_state before, after;

	assert_int_equal(fail_once(f, NOW, &res), MFA_ERR_BADCODE);
	before = state_of(f);
	assert_int_equal(mfa_auth_decoy(f->store, &f->sb.cfg, "123456", NOW + 5), 0);
	after = state_of(f);
	assert_int_equal(after.seq, before.seq);
	assert_int_equal(after.last_failure, before.last_failure);
	assert_int_equal(after.failures, 1);
	/* mfa_auth_unlocked: at the lock's last second and when it ends */
	(void)fail_once(f, NOW + 1, &res);
	(void)fail_once(f, NOW + 2, &res);
	assert_int_equal(res.locked_until, NOW + 2 + UNLOCK);
	assert_int_equal(mfa_auth_unlocked(f->store, &f->sb.cfg, USER, NOW + 2 + UNLOCK - 1),
	    MFA_ERR_LOCKED);
	assert_int_equal(mfa_auth_unlocked(f->store, &f->sb.cfg, USER, NOW + 2 + UNLOCK), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_accepted_code),
		T(test_replay),
		T(test_window_edges),
		T(test_malformed_counts),
		T(test_lockout_interplay),
		T(test_lock_after_expiry_starts_fresh),
		T(test_deny_total),
		T(test_recovery_codes),
		T(test_card_outcomes),
		T(test_clock_read_under_lock),
		T(test_decoy_and_locked),
	};
#undef T

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
