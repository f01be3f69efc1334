/*
 * Unit tests for lib/lockout.c: the lockout policy is pure code over
 * (config, state, now), so every boundary is tested here, with the clock
 * stepping back at every point of a sequence (security review, finding 1).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/conf.h"
#include "mfauth/lockout.h"

#define T0 1800000000ULL

static struct mfa_config policy(unsigned deny, uint64_t unlock_time, uint64_t interval,
    unsigned total)
{
	struct mfa_config cfg;

	mfa_config_defaults(&cfg);
	cfg.deny = deny;
	cfg.unlock_time = unlock_time;
	cfg.fail_interval = interval;
	cfg.deny_total = total;
	return cfg;
}

static const struct mfa_source src = { "login", "tty1", "" };

/* Recorded times never decrease, and the window start never passes the last failure. */
static void assert_monotonic(const struct mfa_state *before, const struct mfa_state *after)
{
	assert_true(after->last_failure >= before->last_failure);
	if (before->failures > 0 && after->failures > 0 && after->failures > before->failures)
		assert_true(after->first_failure == before->first_failure);
	assert_true(after->first_failure <= after->last_failure);
}

/*
 * deny = 5: five failures at 10 s intervals, the clock stepping back by `back`
 * seconds just before failure number `at` (1..5; 0 = never).  Every case
 * must end locked, the lock still ahead of the (stepped-back) clock, and no
 * failure may reset the count.
 */
static void run_sequence(unsigned at, uint64_t back)
{
	struct mfa_config cfg = policy(5, 600, 900, 0);
	struct mfa_state st, before;
	uint64_t now = T0, offset = 0, latest = 0;
	enum mfa_lock_reason r = MFA_LOCK_NONE;

	memset(&st, 0, sizeof(st));
	for (unsigned i = 1; i <= 5; i++) {
		if (i == at)
			offset = back;
		now = T0 + 10 * i - offset;
		latest = now > latest ? now : latest;
		assert_false(mfa_lockout_active(&cfg, &st, now));
		before = st;
		r = mfa_lockout_fail(&cfg, &st, now, &src);
		assert_monotonic(&before, &st);
		if (st.failures != i)
			fail_msg("clock back %llu s before failure %u: count %u after failure %u",
			    (unsigned long long)back, at, st.failures, i);
		assert_int_equal(r, i == 5 ? MFA_LOCK_DENY : MFA_LOCK_NONE);
	}
	/* Locked for unlock_time from the latest recorded failure: ahead of any clock seen. */
	assert_true(mfa_lockout_active(&cfg, &st, now));
	assert_true(st.locked_until == st.last_failure + 600);
	assert_true(st.last_failure == latest);
	assert_true(mfa_lockout_active(&cfg, &st, st.last_failure + 599));
	assert_false(mfa_lockout_active(&cfg, &st, st.last_failure + 600));
}

static void test_clock_back_at_every_point(void **state)
{
	static const uint64_t backs[] = { 1, 5, 10, 11, 599, 600, 899, 900, 901, 86400,
	    T0 - 1, T0 + 10 };

	(void)state;
	for (unsigned at = 0; at <= 5; at++)
		for (size_t b = 0; b < sizeof(backs) / sizeof(backs[0]); b++)
			run_sequence(at, backs[b]);
}

/* The review's repro: 4 wrong codes, clock back 1 s, repeat: locked at the fifth. */
static void test_four_then_back_repeatedly(void **state)
{
	struct mfa_config cfg = policy(5, 900, 900, 0);
	struct mfa_state st;
	uint64_t now = T0;
	unsigned n = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (int round = 0; round < 5 && !mfa_lockout_active(&cfg, &st, now); round++) {
		for (int i = 0; i < 4 && !mfa_lockout_active(&cfg, &st, now); i++, n++)
			(void)mfa_lockout_fail(&cfg, &st, now, &src);
		now -= 1;
	}
	assert_int_equal(n, 5);
	assert_true(mfa_lockout_active(&cfg, &st, now));
	assert_int_equal(st.failures, 5);
}

/*
 * A failure counted late (a login whose clock was read long before it
 * failed) as the deny-th: the lock runs from the latest failure, it is not
 * already over when it is set.
 */
static void test_back_dated_deny_th_failure(void **state)
{
	struct mfa_config cfg = policy(5, 600, 900, 0);
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 4; i++)
		assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 100 + (uint64_t)i, &src),
		    MFA_LOCK_NONE);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 - 5000, &src), MFA_LOCK_DENY);
	assert_true(st.last_failure == T0 + 103);
	assert_true(st.first_failure == T0 + 100);
	assert_true(st.locked_until == T0 + 703);
	assert_true(mfa_lockout_active(&cfg, &st, T0 - 5000));
	assert_true(mfa_lockout_active(&cfg, &st, T0 + 702));
	assert_false(mfa_lockout_active(&cfg, &st, T0 + 703));
}

/* Forward time still works: the window expires, a lock ends. */
static void test_window_and_lock_boundaries(void **state)
{
	struct mfa_config cfg = policy(3, 600, 900, 0);
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	(void)mfa_lockout_fail(&cfg, &st, T0, &src);
	(void)mfa_lockout_fail(&cfg, &st, T0 + 899, &src);
	assert_int_equal(st.failures, 2);
	/* 900 s after the first: a new window. */
	(void)mfa_lockout_fail(&cfg, &st, T0 + 900, &src);
	assert_int_equal(st.failures, 1);
	assert_true(st.first_failure == T0 + 900);
	/* A step back inside the new window is still inside it. */
	(void)mfa_lockout_fail(&cfg, &st, T0 + 10, &src);
	assert_int_equal(st.failures, 2);
	assert_true(st.first_failure == T0 + 900);
	assert_true(st.last_failure == T0 + 900);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 901, &src), MFA_LOCK_DENY);
	assert_true(st.locked_until == T0 + 1501);
	assert_true(mfa_lockout_active(&cfg, &st, T0 + 1500));
	assert_false(mfa_lockout_active(&cfg, &st, T0 + 1501));
	/* After the lock: a fresh window. */
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 1501, &src), MFA_LOCK_NONE);
	assert_int_equal(st.failures, 1);
	assert_true(st.locked_until == 0);
	/* deny = 0 never locks by the window; unlock_time = 0 locks until staff. */
	cfg = policy(0, 600, 900, 0);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_NONE);
	cfg = policy(1, 0, 900, 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_DENY);
	assert_true(st.locked_until == MFA_LOCK_FOREVER);
	assert_true(mfa_lockout_active(&cfg, &st, UINT64_MAX - 1));
}

/*
 * deny_total: 4 guesses per 15-minute window forever is the sliding
 * window's leak; the total since the last success locks until staff.
 */
static void test_deny_total(void **state)
{
	struct mfa_config cfg = policy(5, 900, 900, 20);
	struct mfa_state st;
	uint64_t now = T0;
	unsigned n = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (;;) {
		enum mfa_lock_reason r = MFA_LOCK_NONE;
		for (int i = 0; i < 4; i++) {
			r = mfa_lockout_fail(&cfg, &st, now + (uint64_t)i, &src);
			n++;
			if (r != MFA_LOCK_NONE)
				break;
		}
		assert_int_equal(st.failures_total, n);
		if (r != MFA_LOCK_NONE) {
			assert_int_equal(r, MFA_LOCK_TOTAL);
			break;
		}
		now += 900;
		assert_true(n < 20);
	}
	assert_int_equal(n, 20);
	assert_true(st.locked_until == MFA_LOCK_FOREVER);
	assert_true(mfa_lockout_active(&cfg, &st, now + 10 * 365 * 86400ULL));
	/* Staff unlock clears it; so does a success. */
	mfa_lockout_clear(&st);
	assert_int_equal(st.failures_total, 0);
	assert_false(mfa_lockout_active(&cfg, &st, now));
	for (int i = 0; i < 19; i++)
		(void)mfa_lockout_fail(&cfg, &st, now + 900 * (uint64_t)i, &src);
	assert_int_equal(st.failures_total, 19);
	mfa_lockout_success(&st, now + 900 * 19);
	assert_int_equal(st.failures_total, 0);
	assert_int_equal(st.failures, 0);
	/* An expired window lock does not reset the total. */
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 5; i++)
		(void)mfa_lockout_fail(&cfg, &st, T0, &src);
	assert_true(st.locked_until == T0 + 900);
	(void)mfa_lockout_fail(&cfg, &st, T0 + 900, &src);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.failures_total, 6);
	/* The deny-th failure that also reaches deny_total: until staff. */
	cfg = policy(5, 900, 900, 5);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 4; i++)
		assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_NONE);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_TOTAL);
	assert_true(st.locked_until == MFA_LOCK_FOREVER);
	/* deny_total = 0: off. */
	cfg = policy(0, 900, 900, 0);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 100000; i++)
		assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + (uint64_t)i, &src), MFA_LOCK_NONE);
	assert_int_equal(st.failures_total, 100000);
	/* The counts saturate instead of wrapping. */
	st.failures_total = UINT32_MAX;
	st.failures = UINT32_MAX;
	(void)mfa_lockout_fail(&cfg, &st, T0 + 100000, &src);
	assert_true(st.failures_total == UINT32_MAX);
}

/* Where the failure came from is recorded, truncated to its field. */
static void test_source_fields(void **state)
{
	struct mfa_config cfg = policy(5, 900, 900, 20);
	struct mfa_source big = { "sshd", "pts/1",
	    "a-very-long-host-name-that-does-not-fit-in-sixty-four-bytes.example.lg.jp" };
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	(void)mfa_lockout_fail(&cfg, &st, T0, &big);
	assert_string_equal(st.fail_service, "sshd");
	assert_int_equal(strlen(st.fail_rhost), sizeof(st.fail_rhost) - 1);
	(void)mfa_lockout_fail(&cfg, &st, T0, NULL);
	assert_string_equal(st.fail_service, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_back_at_every_point),
		cmocka_unit_test(test_four_then_back_repeatedly),
		cmocka_unit_test(test_back_dated_deny_th_failure),
		cmocka_unit_test(test_window_and_lock_boundaries),
		cmocka_unit_test(test_deny_total),
		cmocka_unit_test(test_source_fields),
	};
	return cmocka_run_group_tests_name("lockout", tests, NULL, NULL);
}
