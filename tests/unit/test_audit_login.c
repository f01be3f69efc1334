/*
 * Tests for lib/audit_login.c: the exact lines of a login's audit, as the
 * PAM module and the setuid helper write them (the same bytes the two wrote
 * with their own builders before), captured at a private /dev/log
 * (tests/syslog_sink.h).  Needs root.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mfauth/audit_login.h"
#include "mfauth/err.h"
#include "mfauth/state.h"
#include "syslog_sink.h"

#define MSG_CAP 2048
#define NOTICE (80 + MFA_LOG_NOTICE)
#define INFO (80 + MFA_LOG_INFO)

static int sink_ready = -1;
static int sink_fd = -1;

static const struct mfa_source src = { "login", "tty2", "" };
static const struct mfa_source ssh = { "sshd", "ssh", "192.0.2.7" };

/* The module's fields: the account, the name as typed, the factor. */
static struct mfa_login_audit module_who(const char *user, const char *typed, const char *factor,
    const struct mfa_source *s)
{
	struct mfa_login_audit w = { user, typed, factor, s, NULL, NULL };
	return w;
}

/* The helper's: no typed name, and who ran it. */
static struct mfa_login_audit helper_who(const char *user, const char *factor)
{
	static const struct mfa_source none = { "xscreensaver", ":0", NULL };
	struct mfa_login_audit w = { user, NULL, factor, &none, "mfauth-verify", "1000" };
	return w;
}

static int setup(void **state)
{
	(void)state;
	if (sink_ready != 0)
		fail_msg("no private /dev/log: %s", sink_error());
	sink_fd = sink_open();
	assert_true(sink_fd >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(sink_close(sink_fd), 0);
	sink_fd = -1;
	return 0;
}

/* The next line at /dev/log: priority pri, ident pam_mfauth, then exactly body. */
static void expect(int pri, const char *body)
{
	char buf[MSG_CAP + 1], head[32];
	const char *p;
	ssize_t n = sink_recv(sink_fd, buf, sizeof(buf), 2000);

	if (n <= 0)
		fail_msg("no line at /dev/log (want %s): %s", body,
		    n < 0 ? sink_error() : "timeout");
	snprintf(head, sizeof(head), "<%d>", pri);
	assert_memory_equal(buf, head, strlen(head));
	snprintf(head, sizeof(head), " pam_mfauth[%ld]: ", (long)getpid());
	p = strstr(buf, head);
	assert_non_null(p);
	assert_string_equal(p + strlen(head), body);
}

static void expect_nothing_more(void)
{
	char buf[MSG_CAP + 1];

	assert_int_equal(sink_recv(sink_fd, buf, sizeof(buf), 100), 0);
}

/* The fixed fields in their order, typed only when it differs, the extras last. */
static void test_module_lines(void **state)
{
	struct mfa_login_audit w = module_who("tanaka", "tanaka", "totp", &src);
	(void)state;

	mfa_audit_login(&w, "auth", "fail", "no_code", NULL);
	expect(NOTICE,
	    "event=auth result=fail user=tanaka factor=totp reason=no_code "
	    "service=login tty=tty2 rhost=");
	w.typed = "TANAKA";
	w.src = &ssh;
	mfa_audit_login(&w, "auth", "success", "", NULL);
	expect(INFO,
	    "event=auth result=success user=tanaka typed=TANAKA factor=totp reason= "
	    "service=sshd tty=ssh rhost=192.0.2.7");
	/* No user yet (pam_get_user failed), no factor chosen yet: empty and "totp". */
	w = module_who(NULL, NULL, NULL, &src);
	mfa_audit_login(&w, "store_error", "fail", "config", "detail", "bad key", NULL);
	expect(NOTICE,
	    "event=store_error result=fail user= factor=totp reason=config "
	    "service=login tty=tty2 rhost= detail=\"bad\\x20key\"");
	expect_nothing_more();
}

/* The helper's lines: rhost empty, helper and caller_uid after the fixed fields. */
static void test_helper_lines(void **state)
{
	struct mfa_login_audit w = helper_who("tanaka", "card");
	(void)state;

	mfa_audit_login(&w, "auth", "skip", "no_card", NULL);
	expect(NOTICE,
	    "event=auth result=skip user=tanaka factor=card reason=no_card "
	    "service=xscreensaver tty=:0 rhost= helper=mfauth-verify caller_uid=1000");
	mfa_audit_login(&w, "auth", "fail", "helper_usage", "detail", "conf=", "path", "/x", NULL);
	expect(NOTICE,
	    "event=auth result=fail user=tanaka factor=card reason=helper_usage "
	    "service=xscreensaver tty=:0 rhost= helper=mfauth-verify caller_uid=1000 "
	    "detail=\"conf=\" path=/x");
	expect_nothing_more();
}

/* At most MFA_AUDIT_LOGIN_EXTRA pairs: a fifth is dropped, never written past the array. */
static void test_extra_cap(void **state)
{
	struct mfa_login_audit w = helper_who("u", "totp");
	(void)state;

	mfa_audit_login(&w, "auth", "fail", "r", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5",
	    NULL);
	expect(NOTICE,
	    "event=auth result=fail user=u factor=totp reason=r service=xscreensaver "
	    "tty=:0 rhost= helper=mfauth-verify caller_uid=1000 a=1 b=2 c=3 d=4");
	expect_nothing_more();
}

static void test_lock_line(void **state)
{
	struct mfa_login_audit w = module_who("tanaka", NULL, "totp", &src);
	struct mfa_auth_result res = { .failures = 5, .locked_now = false };
	(void)state;

	mfa_audit_login_lock(&w, &res); /* not locked now: nothing */
	expect_nothing_more();
	res.locked_now = true;
	res.lock_reason = MFA_LOCK_DENY;
	res.locked_until = 1700000900;
	mfa_audit_login_lock(&w, &res);
	expect(NOTICE,
	    "event=lock result=locked user=tanaka factor=totp reason=too_many_failures "
	    "service=login tty=tty2 rhost= locked_until=1700000900");
	res.lock_reason = MFA_LOCK_TOTAL;
	res.locked_until = MFA_LOCK_FOREVER;
	mfa_audit_login_lock(&w, &res);
	expect(NOTICE,
	    "event=lock result=locked user=tanaka factor=totp "
	    "reason=too_many_failures_total service=login tty=tty2 rhost= locked_until=staff");
	expect_nothing_more();
}

/* One table: each attempt's verdict and the exact lines it gives, in order. */
static void test_attempts(void **state)
{
	static const struct {
		const char *name;
		const char *factor;
		int rc;
		struct mfa_auth_result res;
		struct mfa_attempt_audit how;
		const char *lines[3];
	} cases[] = {
		{ "totp accepted", "totp", 0, { .failures = 0 }, { NULL, NULL, NULL, NULL },
		    { "event=auth result=success user=u factor=totp reason= service=login tty=tty2 "
		      "rhost=" } },
		{ "recovery accepted", "recovery", 0, { .used_recovery = true },
		    { NULL, NULL, NULL, NULL },
		    { "event=recovery_used result=success user=u factor=recovery reason= service=login "
		      "tty=tty2 rhost=",
		        "event=auth result=success user=u factor=recovery reason= service=login tty=tty2 "
		        "rhost=" } },
		{ "card accepted, legacy identifier", "card", 0, { .failures = 0 },
		    { NULL, NULL, "2", "legacy" },
		    { "event=auth result=success user=u factor=card reason= service=login tty=tty2 "
		      "rhost= card_check=legacy" } },
		{ "wrong code", "totp", MFA_ERR_BADCODE, { .failures = 2 },
		    { "fail", NULL, NULL, NULL },
		    { "event=auth result=fail user=u factor=totp reason=bad_code service=login tty=tty2 "
		      "rhost= failures=2" } },
		{ "replayed code", "totp", MFA_ERR_REPLAY, { .failures = 1 },
		    { "replay", NULL, NULL, NULL },
		    { "event=auth result=replay user=u factor=totp reason=replay service=login tty=tty2 "
		      "rhost= failures=1" } },
		{ "malformed code that locks", "totp", MFA_ERR_INVAL,
		    { .failures = 5,
		        .locked_now = true,
		        .lock_reason = MFA_LOCK_DENY,
		        .locked_until = 1700000900 },
		    { "fail", "malformed_code", NULL, NULL },
		    { "event=auth result=fail user=u factor=totp reason=malformed_code service=login "
		      "tty=tty2 rhost= failures=5",
		        "event=lock result=locked user=u factor=totp reason=too_many_failures "
		        "service=login tty=tty2 rhost= locked_until=1700000900" } },
		{ "wrong PIN", "card", MFA_ERR_BADPIN, { .failures = 3 }, { NULL, NULL, "2", NULL },
		    { "event=auth result=fail user=u factor=card reason=bad_pin service=login tty=tty2 "
		      "rhost= failures=3 tries_left=2" } },
		{ "wrong PIN, legacy identifier", "card", MFA_ERR_BADPIN, { .failures = 3 },
		    { NULL, NULL, "-1", "legacy" },
		    { "event=auth result=fail user=u factor=card reason=bad_pin service=login tty=tty2 "
		      "rhost= failures=3 tries_left=-1 card_check=legacy" } },
		{ "locked user", "totp", MFA_ERR_LOCKED, { .failures = 5 },
		    { "fail", NULL, NULL, NULL },
		    { "event=auth result=locked user=u factor=totp reason=locked service=login "
		      "tty=tty2 rhost= failures=5" } },
		{ "reservation past a limit locks", "card", MFA_ERR_LOCKED,
		    { .failures = 6,
		        .locked_now = true,
		        .lock_reason = MFA_LOCK_TOTAL,
		        .locked_until = MFA_LOCK_FOREVER },
		    { NULL, NULL, "3", NULL },
		    { "event=lock result=locked user=u factor=card reason=too_many_failures_total "
		      "service=login tty=tty2 rhost= locked_until=staff",
		        "event=auth result=locked user=u factor=card reason=locked service=login "
		        "tty=tty2 rhost= failures=6" } },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_login_audit w = module_who("u", "u", cases[i].factor, &src);

		print_message("case: %s\n", cases[i].name);
		mfa_audit_login_attempt(&w, cases[i].rc, &cases[i].res, &cases[i].how);
		for (size_t j = 0; j < 3 && cases[i].lines[j] != NULL; j++)
			expect(strstr(cases[i].lines[j], "result=success") ? INFO : NOTICE,
			    cases[i].lines[j]);
		expect_nothing_more();
	}
}

/* The names of a code's failures, as the module and the helper both use them. */
static void test_code_names(void **state)
{
	static const struct {
		int rc;
		const char *result, *reason;
		/* clang-format off */
	} cases[] = {
		{ MFA_ERR_BADCODE, "fail", NULL },
		{ MFA_ERR_REPLAY, "replay", NULL },
		{ MFA_ERR_INVAL, "fail", "malformed_code" },
		{ MFA_ERR_EXPIRED, "fail", NULL },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_attempt_audit how = mfa_attempt_audit_code(cases[i].rc);

		assert_string_equal(how.fail_result, cases[i].result);
		if (cases[i].reason == NULL)
			assert_null(how.fail_reason);
		else
			assert_string_equal(how.fail_reason, cases[i].reason);
		assert_null(how.tries_left);
		assert_null(how.card_check);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_module_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extra_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
		cmocka_unit_test(test_code_names),
	};

	/* Before cmocka and before any thread: unshare() moves only this thread. */
	sink_ready = sink_enter_namespace();
	if (sink_ready != 0)
		fprintf(stderr, "test_audit_login: %s\n", sink_error());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
