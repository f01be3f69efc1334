/* Recovery codes: shape, normalisation, one-time use, expiry, hashing. */
#include "config.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/err.h"
#include "mfauth/recovery.h"

#define NOW 1800000000ULL

static void test_issue_shape(void **state)
{
	struct mfa_recovery r;
	char code[MFA_RECOVERY_TEXT_LEN];

	(void)state;
	assert_int_equal(mfa_recovery_issue(&r, NOW, 3600, code), 0);
	assert_int_equal(strlen(code), 19);
	for (int i = 0; i < 19; i++) {
		if (i % 5 == 4)
			assert_int_equal(code[i], '-');
		else
			assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", code[i]));
	}
	assert_true(r.present);
	assert_int_equal(r.iterations, MFA_RECOVERY_ITERATIONS);
	assert_int_equal(r.issued_at, NOW);
	assert_int_equal(r.expires_at, NOW + 3600);
	assert_int_not_equal(r.id, 0);
	/* The code is not kept in the record in any form we can see. */
	assert_null(memmem(&r, sizeof(r), code, 4));
}

static void test_codes_differ(void **state)
{
	struct mfa_recovery a, b;
	char ca[MFA_RECOVERY_TEXT_LEN], cb[MFA_RECOVERY_TEXT_LEN];

	(void)state;
	assert_int_equal(mfa_recovery_issue(&a, NOW, 60, ca), 0);
	assert_int_equal(mfa_recovery_issue(&b, NOW, 60, cb), 0);
	assert_string_not_equal(ca, cb);
	assert_memory_not_equal(a.salt, b.salt, sizeof(a.salt));
	assert_int_not_equal(a.id, b.id);
	/* Each code works only against its own record. */
	assert_int_equal(mfa_recovery_check(&a, cb, NOW, 0), MFA_ERR_BADCODE);
	assert_int_equal(mfa_recovery_check(&b, ca, NOW, 0), MFA_ERR_BADCODE);
}

static void test_check_paths(void **state)
{
	struct mfa_recovery r, none;
	char code[MFA_RECOVERY_TEXT_LEN], typed[32];

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_int_equal(mfa_recovery_issue(&r, NOW, 3600, code), 0);
	assert_int_equal(mfa_recovery_check(&r, code, NOW, 0), 0);
	assert_int_equal(mfa_recovery_check(&r, code, NOW + 3599, 0), 0);
	assert_int_equal(mfa_recovery_check(&r, code, NOW + 3600, 0), MFA_ERR_EXPIRED);
	assert_int_equal(mfa_recovery_check(&r, code, NOW - 1, 0), MFA_ERR_EXPIRED);
	assert_int_equal(mfa_recovery_check(&r, code, NOW, r.id), MFA_ERR_REPLAY);
	assert_int_equal(mfa_recovery_check(&none, code, NOW, 0), MFA_ERR_BADCODE);
	/* Lower case, no dashes, blanks, and the look-alikes I/L/O are the same code. */
	size_t o = 0;
	for (const char *p = code; *p; p++) {
		if (*p == '-') {
			typed[o++] = ' ';
			continue;
		}
		char c = *p == '1' ? 'l' : *p == '0' ? 'o' : *p;
		typed[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	typed[o] = '\0';
	assert_int_equal(mfa_recovery_check(&r, typed, NOW, 0), 0);
	/* Every single character changed: refused. */
	for (size_t i = 0; i < strlen(code); i++) {
		if (code[i] == '-')
			continue;
		snprintf(typed, sizeof(typed), "%s", code);
		typed[i] = typed[i] == 'Z' ? 'Y' : 'Z';
		assert_int_equal(mfa_recovery_check(&r, typed, NOW, 0), MFA_ERR_BADCODE);
	}
	/* One character short or long: not even the shape. */
	snprintf(typed, sizeof(typed), "%.18s", code);
	assert_int_equal(mfa_recovery_check(&r, typed, NOW, 0), MFA_ERR_BADCODE);
	snprintf(typed, sizeof(typed), "%sA", code);
	assert_int_equal(mfa_recovery_check(&r, typed, NOW, 0), MFA_ERR_BADCODE);
}

static void test_looks_like(void **state)
{
	/* clang-format off */
	static const struct { const char *in; bool ok; } cases[] = {
		{ "ABCD-EFGH-JKMN-PQRS", true }, { "abcdefghjkmnpqrs", true },
		{ "ABCD EFGH JKMN PQRS", true }, { "ILO0-1234-5678-9ABC", true },
		{ "ABCD-EFGH-JKMN-PQR", false }, { "ABCD-EFGH-JKMN-PQRST", false },
		{ "ABCD-EFGH-JKMN-PQRU", false }, { "123456", false }, { "", false },
		{ "ABCD-EFGH-JKMN-PQR!", false }, { "ABCD\tEFGH-JKMN PQRS\t", true },
		{ " abcd-efgh-jkmn-pqrs ", true }, { "ABCD\nEFGH-JKMN-PQRS", false },
	};
	/* clang-format on */
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mfa_recovery_looks_like(cases[i].in) != cases[i].ok)
			fail_msg("'%s': want %d", cases[i].in, cases[i].ok);
	assert_false(mfa_recovery_looks_like(NULL));
}

static void test_ttl_bounds(void **state)
{
	struct mfa_recovery r;
	char code[MFA_RECOVERY_TEXT_LEN];

	(void)state;
	assert_int_equal(mfa_recovery_issue(&r, NOW, 0, code), MFA_ERR_RANGE);
	assert_false(r.present);
	assert_int_equal(mfa_recovery_issue(&r, NOW, MFA_RECOVERY_TTL_MAX + 1, code),
	    MFA_ERR_RANGE);
	assert_int_equal(mfa_recovery_issue(&r, NOW, MFA_RECOVERY_TTL_MAX, code), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_shape),
		cmocka_unit_test(test_codes_differ),
		cmocka_unit_test(test_check_paths),
		cmocka_unit_test(test_looks_like),
		cmocka_unit_test(test_ttl_bounds),
	};
	return cmocka_run_group_tests_name("recovery", tests, NULL, NULL);
}
