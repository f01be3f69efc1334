/*
 * Tests for tools/report_parse.c: the three syslog headers, the audit
 * fields and their quoting (lines made by lib/audit.c's own formatter, so
 * writer and reader are held to one spelling), the year of an RFC 3164
 * stamp, and every way a line can be malformed, including every prefix of a
 * good line.  TZ is set to UTC in main() so local stamps have fixed values.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mfauth/audit.h"
#include "report_parse.h"

/* 2026-12-06 07:55:18 UTC */
#define T_DEC6 1796543718
/* 2027-01-02 00:00:00 UTC */
#define T_JAN2 1798848000

static struct report_line L;

static int parse(const char *line, int64_t ref, const char **why)
{
	return report_parse_syslog(line, strlen(line), ref, &L, why);
}

static void test_rfc3164_module_line(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(
	    parse("Dec  6 07:55:18 term-01 pam_mfauth[4242]: event=auth result=fail "
	          "user=alice factor=totp reason=bad_code service=login tty=tty2 rhost= failures=2",
	        T_DEC6, &why),
	    REPORT_PARSE_OURS);
	assert_int_equal(L.time, T_DEC6);
	assert_string_equal(L.host, "term-01");
	assert_int_equal(L.origin, REPORT_MODULE);
	assert_int_equal(L.nfields, 9);
	assert_string_equal(report_field(&L, "event"), "auth");
	assert_string_equal(report_field(&L, "reason"), "bad_code");
	assert_string_equal(report_field(&L, "rhost"), "");
	assert_string_equal(report_field(&L, "failures"), "2");
	assert_null(report_field(&L, "note"));
	assert_int_equal(L.cut, 0);
}

static void test_rfc3339_tool_line(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse("2026-12-06T16:55:18.123456+09:00 srv mfauth[7]: event=unlock "
	                       "result=success user=bob reason= note=\"phone\\x20lost\" op_uid=0",
	                     0, &why),
	    REPORT_PARSE_OURS);
	assert_int_equal(L.time, T_DEC6);
	assert_int_equal(L.origin, REPORT_TOOL);
	assert_string_equal(report_field(&L, "note"), "phone lost");
}

static void test_rfc5424(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse("<86>1 2026-12-06T07:55:18Z host5 pam_mfauth 99 - "
	                       "[meta x=\"a]b\\\"\"] \xef\xbb\xbf"
	                       "event=lock result=locked user=carol "
	                       "locked_until=staff",
	                     0, &why),
	    REPORT_PARSE_OURS);
	assert_int_equal(L.time, T_DEC6);
	assert_string_equal(L.host, "host5");
	assert_string_equal(report_field(&L, "locked_until"), "staff");
	assert_int_equal(parse("1 2026-12-06T07:55:18Z h sshd 99 - - Accepted", 0, &why),
	    REPORT_PARSE_OTHER);
	assert_int_equal(parse("<86>1 2026-12-06T07:55:18Z h pam_mfauth 99 - [x", 0, &why),
	    REPORT_PARSE_MALFORMED);
	assert_int_equal(parse("<86>1 2026-13-06T07:55:18Z h pam_mfauth 99 - -", 0, &why),
	    REPORT_PARSE_MALFORMED);
	assert_string_equal(why, "bad_timestamp");
}

static void test_other_programs(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse("Dec  6 07:55:18 h sshd[1]: Accepted publickey for x", T_DEC6, &why),
	    REPORT_PARSE_OTHER);
	/* Near misses of our idents are someone else's. */
	assert_int_equal(parse("Dec  6 07:55:18 h pam_mfauthx[1]: event=auth result=success user=a",
	                     T_DEC6, &why),
	    REPORT_PARSE_OTHER);
	assert_int_equal(parse("Dec  6 07:55:18 h kernel: [ 1.0] x", T_DEC6, &why),
	    REPORT_PARSE_OTHER);
	assert_int_equal(parse("Dec  6 07:55:18 h no tag here", T_DEC6, &why), REPORT_PARSE_OTHER);
}

/* What lib/audit.c writes for hostile values, the parser gives back byte for byte. */
static void test_round_trip_with_formatter(void **state)
{
	/* clang-format off */
	static const char *const values[] = {
		"x event=lock", "a\"b\\c", "tab\there", "\xe7\x94\xb0\xe4\xb8\xad", "x,y=z", "",
		"plain-user@DOMAIN.example/+:_", "\x7f\x01",
	};
	/* clang-format on */
	char line[2048], msg[2300];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		/* clang-format off */
		struct mfa_audit_field f[] = {
			{ "event", "auth" }, { "result", "fail" }, { "user", values[i] },
			{ "note", values[i] },
		};
		/* clang-format on */
		mfa_audit_format(line, sizeof(line), f, 4);
		snprintf(msg, sizeof(msg), "Dec  6 07:55:18 h pam_mfauth[1]: %s", line);
		assert_int_equal(parse(msg, T_DEC6, &why), REPORT_PARSE_OURS);
		assert_int_equal(L.nfields, 4);
		assert_string_equal(report_field(&L, "user"), values[i]);
		assert_string_equal(report_field(&L, "note"), values[i]);
		assert_null(report_field(&L, "lock"));
	}
}

/* A value cut by the formatter at its limit keeps its open quote: cut, not malformed. */
static void test_cut_value(void **state)
{
	char big[3000], line[300], msg[400];
	struct mfa_audit_field f[] = { { "event", "auth" }, { "result", "fail" }, { "user", "u" },
		{ "note", big } };
	const char *why;

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mfa_audit_format(line, sizeof(line), f, 4);
	snprintf(msg, sizeof(msg), "Dec  6 07:55:18 h pam_mfauth[1]: %s", line);
	assert_int_equal(parse(msg, T_DEC6, &why), REPORT_PARSE_OURS);
	assert_int_equal(L.cut, 1);
	assert_true(strlen(report_field(&L, "note")) > 0);
}

static void test_year_of_rfc3164(void **state)
{
	const char *why;

	(void)state;
	/* A December line in a file written on 2 January is last year's. */
	assert_int_equal(parse("Dec  6 07:55:18 h mfauth: event=init result=success user=", T_JAN2,
	                     &why),
	    REPORT_PARSE_OURS);
	assert_int_equal(L.time, T_DEC6);
	/* A day ahead of the file's time is still this year (clocks differ a little). */
	assert_int_equal(parse("Jan  3 00:00:00 h mfauth: event=init result=success user=", T_JAN2,
	                     &why),
	    REPORT_PARSE_OURS);
	assert_int_equal(L.time, T_JAN2 + 86400);
	/* 29 February goes back to the last leap year. */
	assert_int_equal(parse("Feb 29 12:00:00 h mfauth: event=init result=success user=", T_JAN2,
	                     &why),
	    REPORT_PARSE_OURS);
	assert_int_equal(L.time, 1709208000); /* 2024-02-29 12:00:00 UTC */
}

static void test_malformed(void **state)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{ "Dex  6 07:55:18 h pam_mfauth[1]: event=a result=b user=c", "bad_timestamp" },
		{ "Dec  6 07:61:18 h pam_mfauth[1]: event=a result=b user=c", "bad_timestamp" },
		{ "Dec  6 07:55:18", "bad_header" },
		{ "<999>Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=c", "bad_priority" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a  result=b user=c", "bad_key" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=c,d", "bad_value" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=\"c\\q\"", "bad_quote" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=\"c\\x4A\"",
		    "bad_quote" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=\"c\\x41\"",
		    "bad_quote" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=\"c\\x00\"",
		    "bad_quote" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=\"c d\"", "bad_quote" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b user=\"c\"x",
		    "bad_separator" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: result=b event=a user=c", "not_an_audit_line" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=a result=b", "not_an_audit_line" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event= result=b user=c", "not_an_audit_line" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: free text", "bad_key" },
		{ "Dec  6 07:55:18 h pam_mfauth[1]: Event=a result=b user=c", "bad_key" },
		{ "Dec  6 07:55:18 h\x01 pam_mfauth[1]: event=a result=b user=c", "bad_host" },
		/* A forger's unquoted blank: the second event= is not ours. */
		{ "Dec  6 07:55:18 h pam_mfauth[1]: event=auth result=fail user=x event=lock",
		    "duplicate_key" },
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].line, T_DEC6, &why) != REPORT_PARSE_MALFORMED ||
		    strcmp(why, cases[i].why) != 0)
			fail_msg("case %zu: %s -> %s", i, cases[i].line, why);
	}
}

static void test_too_many_and_too_long(void **state)
{
	char line[REPORT_LINE_MAX + 64];
	size_t n;
	const char *why;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line),
	    "Dec  6 07:55:18 h pam_mfauth[1]: event=a "
	    "result=b user=c");
	for (int i = 0; i < REPORT_FIELDS_MAX; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " k%d=v", i);
	assert_int_equal(parse(line, T_DEC6, &why), REPORT_PARSE_MALFORMED);
	assert_string_equal(why, "too_many_fields");
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(parse(line, T_DEC6, &why), REPORT_PARSE_MALFORMED);
	assert_string_equal(why, "too_long");
}

/*
 * Every prefix of good lines (each from an exact-size heap copy, so an
 * over-read shows under ASan) is ours, another's or malformed with a
 * reason; never anything else.
 */
static void test_every_prefix(void **state)
{
	/* clang-format off */
	static const char *const lines[] = {
		"<86>Dec  6 07:55:18 term pam_mfauth[12]: event=auth result=fail user=\"a\\x20b\" "
		    "note=\"q\\\"\\\\\"",
		"<86>1 2026-12-06T07:55:18.5-03:30 term mfauth 1 - [a b=\"]\"] event=x result=y user=",
		"2026-12-06T07:55:18Z term mfauth: event=x result=y user=z",
	};
	/* clang-format on */
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			char *copy = malloc(n ? n : 1);
			int rc;
			assert_non_null(copy);
			memcpy(copy, lines[i], n);
			rc = report_parse_syslog(copy, n, T_DEC6, &L, &why);
			assert_true(rc == REPORT_PARSE_OURS || rc == REPORT_PARSE_OTHER ||
			    (rc == REPORT_PARSE_MALFORMED && why[0] != '\0'));
			if (n == len)
				assert_int_equal(rc, REPORT_PARSE_OURS);
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3164_module_line),
		cmocka_unit_test(test_rfc3339_tool_line),
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_other_programs),
		cmocka_unit_test(test_round_trip_with_formatter),
		cmocka_unit_test(test_cut_value),
		cmocka_unit_test(test_year_of_rfc3164),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many_and_too_long),
		cmocka_unit_test(test_every_prefix),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
