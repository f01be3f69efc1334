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
	static const uint64_t backs[] = { 1, 5, 10, 11, 599, 600, 899, 900, 901, 86400, T0 - 1,
		T0 + 10 };

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
		assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + (uint64_t)i, &src),
		    MFA_LOCK_NONE);
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

/* mfa_lockout_active at each edge: unlocked, one before, exactly at and one after the end, forever. */
static void test_active_edges(void **state)
{
	struct mfa_config cfg = policy(3, 600, 900, 0);
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_false(mfa_lockout_active(&cfg, &st, 0));
	assert_false(mfa_lockout_active(&cfg, &st, UINT64_MAX));
	st.locked_until = T0;
	assert_true(mfa_lockout_active(&cfg, &st, 0));
	assert_true(mfa_lockout_active(&cfg, &st, T0 - 1));
	assert_false(mfa_lockout_active(&cfg, &st, T0));
	assert_false(mfa_lockout_active(&cfg, &st, T0 + 1));
	st.locked_until = MFA_LOCK_FOREVER;
	assert_true(mfa_lockout_active(&cfg, &st, 0));
	assert_true(mfa_lockout_active(&cfg, &st, UINT64_MAX));
	/* the config does not matter: a lock set under another policy holds */
	cfg = policy(0, 0, 1, 0);
	st.locked_until = T0;
	assert_true(mfa_lockout_active(&cfg, &st, T0 - 1));
}

/* The window's end: one before, exactly at and one after fail_interval. */
static void test_window_edges(void **state)
{
	static const struct {
		uint64_t after;
		uint32_t failures;
	} cases[] = { { 899, 2 }, { 900, 1 }, { 901, 1 } };
	struct mfa_config cfg = policy(5, 600, 900, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_state st;

		memset(&st, 0, sizeof(st));
		(void)mfa_lockout_fail(&cfg, &st, T0, &src);
		(void)mfa_lockout_fail(&cfg, &st, T0 + cases[i].after, &src);
		assert_int_equal(st.failures, cases[i].failures);
		assert_int_equal(st.failures_total, 2);
		assert_true(
		    st.first_failure == (cases[i].failures == 2 ? T0 : T0 + cases[i].after));
	}
}

/* deny: one before, exactly at; a failure while locked neither relocks nor extends. */
static void test_deny_edges_and_fail_while_locked(void **state)
{
	struct mfa_config cfg = policy(3, 600, 900, 0);
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_NONE);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 1, &src), MFA_LOCK_NONE);
	assert_true(st.locked_until == 0);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 2, &src), MFA_LOCK_DENY);
	assert_true(st.locked_until == T0 + 602);
	/* at the lock's last second (or a clock stepped back into it): counted, lock unchanged */
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 601, &src), MFA_LOCK_NONE);
	assert_int_equal(st.failures, 4);
	assert_true(st.locked_until == T0 + 602);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 10, &src), MFA_LOCK_NONE);
	assert_int_equal(st.failures, 5);
	assert_true(st.last_failure == T0 + 601);
	assert_true(st.locked_until == T0 + 602);
	/* exactly at its end: a fresh window */
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 602, &src), MFA_LOCK_NONE);
	assert_int_equal(st.failures, 1);
	assert_true(st.locked_until == 0);
	assert_int_equal(st.failures_total, 6);
}

/* deny_total: one before and exactly at; once locked for good, later failures say NONE. */
static void test_total_edges(void **state)
{
	struct mfa_config cfg = policy(0, 600, 900, 3);
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_NONE);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 86400, &src), MFA_LOCK_NONE);
	assert_true(st.locked_until == 0);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 2 * 86400, &src), MFA_LOCK_TOTAL);
	assert_true(st.locked_until == MFA_LOCK_FOREVER);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 3 * 86400, &src), MFA_LOCK_NONE);
	assert_true(st.locked_until == MFA_LOCK_FOREVER);
	assert_int_equal(st.failures_total, 4);
	/* deny_total reached while a window lock runs: promoted to until-staff */
	cfg = policy(2, 600, 900, 3);
	memset(&st, 0, sizeof(st));
	(void)mfa_lockout_fail(&cfg, &st, T0, &src);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0, &src), MFA_LOCK_DENY);
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 1, &src), MFA_LOCK_TOTAL);
	assert_true(st.locked_until == MFA_LOCK_FOREVER);
}

/* A lock's end near the end of time saturates below "forever" instead of wrapping. */
static void test_lock_end_saturates(void **state)
{
	static const struct {
		uint64_t t, until;
		/* clang-format off */
	} cases[] = {
		{ UINT64_MAX - 2 - 600, UINT64_MAX - 2 },       /* one before the limit */
		{ UINT64_MAX - 1 - 600, UINT64_MAX - 1 },       /* exactly at it */
		{ UINT64_MAX - 600, UINT64_MAX - 1 },           /* one after: clamped */
	};
	/* clang-format on */
	struct mfa_config cfg = policy(1, 600, 900, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_state st;

		memset(&st, 0, sizeof(st));
		assert_int_equal(mfa_lockout_fail(&cfg, &st, cases[i].t, &src), MFA_LOCK_DENY);
		assert_true(st.locked_until == cases[i].until);
		assert_true(mfa_lockout_active(&cfg, &st, cases[i].t));
	}
}

/*
 * A failure is counted no earlier than the window's start, even in a state
 * whose last failure is older than its first (written by an older version
 * or by hand): the window does not restart because of it.
 */
static void test_failure_time_not_before_window(void **state)
{
	struct mfa_config cfg = policy(5, 600, 900, 0);
	struct mfa_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.failures = 2;
	st.failures_total = 2;
	st.first_failure = T0 + 100;
	st.last_failure = T0;
	assert_int_equal(mfa_lockout_fail(&cfg, &st, T0 + 50, &src), MFA_LOCK_NONE);
	assert_int_equal(st.failures, 3);
	assert_true(st.first_failure == T0 + 100);
	assert_true(st.last_failure == T0 + 100);
}

/* Success and staff unlock clear the counts and the lock, and keep what they must. */
static void test_success_and_clear(void **state)
{
	struct mfa_state st, kept;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.last_step = 12345;
	st.recovery_used = 7;
	st.failures = 4;
	st.failures_total = 9;
	st.first_failure = T0;
	st.last_failure = T0 + 5;
	st.locked_until = MFA_LOCK_FOREVER;
	st.last_success = T0 - 100;
	kept = st;
	mfa_lockout_clear(&st);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.failures_total, 0);
	assert_true(st.first_failure == 0);
	assert_true(st.locked_until == 0);
	assert_true(st.last_step == kept.last_step);
	assert_true(st.recovery_used == kept.recovery_used);
	assert_true(st.last_success == kept.last_success);
	assert_true(st.last_failure == kept.last_failure);
	st = kept;
	mfa_lockout_success(&st, T0 + 10);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.failures_total, 0);
	assert_true(st.locked_until == 0);
	assert_true(st.last_success == T0 + 10);
	assert_true(st.last_step == kept.last_step);
}

/* The source fields at their sizes: a value that fits whole, one byte too long, NULLs. */
static void test_source_field_edges(void **state)
{
	char fits[32], over[33];
	struct mfa_config cfg = policy(0, 900, 900, 0);
	struct mfa_source s = { fits, NULL, over };
	struct mfa_state st;

	(void)state;
	memset(fits, 'a', sizeof(fits) - 1);
	fits[sizeof(fits) - 1] = '\0';
	memset(over, 'b', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';
	memset(&st, 0, sizeof(st));
	memset(st.fail_tty, 'x', sizeof(st.fail_tty));
	(void)mfa_lockout_fail(&cfg, &st, T0, &s);
	assert_string_equal(st.fail_service, fits); /* 31 bytes: whole */
	assert_string_equal(st.fail_tty, "");       /* NULL: cleared */
	assert_string_equal(st.fail_rhost, over);   /* 32 < 63: whole */
	s.service = over;
	(void)mfa_lockout_fail(&cfg, &st, T0, &s);
	assert_int_equal(strlen(st.fail_service), sizeof(st.fail_service) - 1);
	assert_memory_equal(st.fail_service, over, sizeof(st.fail_service) - 1);
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
		cmocka_unit_test(test_active_edges),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_deny_edges_and_fail_while_locked),
		cmocka_unit_test(test_total_edges),
		cmocka_unit_test(test_lock_end_saturates),
		cmocka_unit_test(test_failure_time_not_before_window),
		cmocka_unit_test(test_success_and_clear),
		cmocka_unit_test(test_source_field_edges),
	};
	return cmocka_run_group_tests_name("lockout", tests, NULL, NULL);
}
