/*
 * The TOTP factor through the real Linux-PAM stack: the built module loaded
 * by pam_start_confdir() from service files written here, codes made by
 * oathtool, time injected (see pamtest.c).  Exact return codes throughout.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pamtest.h"
#include "testutil.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define SEED256 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"

static int setup(void **state)
{
	struct pt_sandbox *sb = calloc(1, sizeof(*sb));
	pt_fake_now = 1800000000; /* a step boundary: 1800000000 / 30 is whole */
	pt_setup(sb, "deny = 3\nunlock_time = 600\nfail_interval = 900\n");
	pt_service(sb, "mfa", "auth required @MFA\naccount required @MFA\n");
	pt_enroll(sb, "alice", SEED, "sha1", 6, 30);
	*state = sb;
	return 0;
}

static int teardown(void **state)
{
	setenv("MFAUTH_TEST_NSS", "identity", 1); /* nss_db() may have changed it */
	pt_teardown(*state);
	free(*state);
	return 0;
}

static int auth_with(struct pt_sandbox *sb, const char *svc, const char *user, const char *code,
    struct pt_conv *out)
{
	struct pt_conv c = { .reply = code };
	int rc = pt_auth(sb, svc, user, &c);
	if (out != NULL)
		*out = c;
	return rc;
}

static void code_now(time_t offset, char code[16])
{
	pt_code(SEED, "sha1", 6, 30, pt_fake_now + offset, code);
}

static void test_valid_code_then_replay(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, &c), PAM_SUCCESS);
	assert_int_equal(c.prompts, 1);
	assert_string_equal(c.last_prompt, "Verification code: ");
	/* The same code again, even in the same step: replay. */
	assert_int_equal(auth_with(sb, "mfa", "alice", code, NULL), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(sb, "alice"), 1);
	/* A later step is fine and resets the failures. */
	pt_fake_now += 30;
	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, NULL), PAM_SUCCESS);
	assert_int_equal(pt_failures(sb, "alice"), 0);
}

static void test_older_step_after_newer_is_replay(void **state)
{
	struct pt_sandbox *sb = *state;
	char newer[16], older[16];

	code_now(30, newer); /* next step, inside the window */
	code_now(0, older);
	assert_int_equal(auth_with(sb, "mfa", "alice", newer, NULL), PAM_SUCCESS);
	assert_int_equal(auth_with(sb, "mfa", "alice", older, NULL), PAM_AUTH_ERR);
}

static void test_wrong_code(void **state)
{
	struct pt_sandbox *sb = *state;
	char code[16];

	code_now(0, code);
	code[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, NULL), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(sb, "alice"), 1);
}

/* window = 1: one step either side accepted, two refused (fresh user each time). */
static void test_window_edges(void **state)
{
	struct pt_sandbox *sb = *state;
	/* clang-format off */
	static const struct { int offset; int expect; } cases[] = {
		{ -60, PAM_AUTH_ERR }, { -30, PAM_SUCCESS }, { 0, PAM_SUCCESS },
		{ 30, PAM_SUCCESS }, { 60, PAM_AUTH_ERR }, { 29, PAM_SUCCESS },
		{ -31, PAM_AUTH_ERR }, { 3600, PAM_AUTH_ERR },
	};
	/* clang-format on */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char user[32], code[16];
		snprintf(user, sizeof(user), "win%zu", i);
		pt_enroll(sb, user, SEED, "sha1", 6, 30);
		code_now(cases[i].offset, code);
		if (auth_with(sb, "mfa", user, code, NULL) != cases[i].expect)
			fail_msg("offset %d: want %d", cases[i].offset, cases[i].expect);
	}
}

static void test_parameters(void **state)
{
	struct pt_sandbox *sb = *state;
	/* clang-format off */
	static const struct { const char *alg; int digits; int period; } cases[] = {
		{ "sha1", 8, 30 }, { "sha256", 6, 30 }, { "sha256", 8, 60 },
		{ "sha512", 8, 60 }, { "sha512", 6, 30 }, { "sha1", 6, 60 },
	};
	/* clang-format on */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char user[32], code[16], other[16];
		snprintf(user, sizeof(user), "p%zu", i);
		pt_enroll(sb, user, SEED256, cases[i].alg, cases[i].digits, cases[i].period);
		/* A code of the wrong algorithm is refused... */
		pt_code(SEED256, strcmp(cases[i].alg, "sha1") ? "sha1" : "sha256", cases[i].digits,
		    cases[i].period, pt_fake_now, other);
		assert_int_equal(auth_with(sb, "mfa", user, other, NULL), PAM_AUTH_ERR);
		/* ...the right one accepted. */
		pt_code(SEED256, cases[i].alg, cases[i].digits, cases[i].period, pt_fake_now, code);
		assert_int_equal(auth_with(sb, "mfa", user, code, NULL), PAM_SUCCESS);
	}
}

static void test_malformed_replies(void **state)
{
	struct pt_sandbox *sb = *state;
	static const char *bad[] = { "12345", "1234567", "12a456", " 123456", "123456\n",
		"\xef\xbc\x91" };
	struct pt_conv c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(auth_with(sb, "mfa", "alice", bad[i], NULL), PAM_AUTH_ERR);
	/* NULL response, empty response, conversation failure: failures, not crashes. */
	memset(&c, 0, sizeof(c));
	c.null_reply = true;
	assert_int_equal(pt_auth(sb, "mfa", "alice", &c), PAM_AUTH_ERR);
	memset(&c, 0, sizeof(c));
	c.reply = "";
	assert_int_equal(pt_auth(sb, "mfa", "alice", &c), PAM_AUTH_ERR);
	memset(&c, 0, sizeof(c));
	c.conv_error = true;
	assert_int_equal(pt_auth(sb, "mfa", "alice", &c), PAM_AUTH_ERR);
}

static void test_unenrolled_and_unknown(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv enrolled, unknown, badname;

	assert_int_equal(auth_with(sb, "mfa", "alice", "000000", &enrolled), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "mfa", "nobody-here", "000000", &unknown), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "mfa", "../etc/passwd", "000000", &badname), PAM_AUTH_ERR);
	/* No enumeration: the same prompt whoever asks. */
	assert_int_equal(unknown.prompts, 1);
	assert_int_equal(badname.prompts, 1);
	assert_string_equal(unknown.last_prompt, enrolled.last_prompt);
	assert_string_equal(badname.last_prompt, enrolled.last_prompt);
}

static void test_nullok(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	/* The module's own answer, called directly: PAM_IGNORE, and no prompt. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_direct_auth(sb, "nobody-here", &c, "nullok"), PAM_IGNORE);
	assert_int_equal(c.prompts, 0);
	memset(&c, 0, sizeof(c));
	c.reply = "000000";
	assert_int_equal(pt_direct_auth(sb, "nobody-here", &c, NULL), PAM_AUTH_ERR);
	assert_int_equal(c.prompts, 1);
	/* In a stack, an ignored module lets the next one decide. */
	pt_service(sb, "nullok", "auth required @MFA nullok\nauth required pam_permit.so\n");
	assert_int_equal(auth_with(sb, "nullok", "nobody-here", "000000", NULL), PAM_SUCCESS);
	/* nullok never excuses an enrolled user. */
	assert_int_equal(auth_with(sb, "nullok", "alice", "000000", NULL), PAM_AUTH_ERR);
	code_now(0, code);
	assert_int_equal(auth_with(sb, "nullok", "alice", code, NULL), PAM_SUCCESS);
}

static void test_config_errors_fail_closed(void **state)
{
	struct pt_sandbox *sb = *state;
	char line[1024];
	char code[16];

	code_now(0, code);
	pt_service(sb, "unknownopt", "auth required @MFA nullok bogus=1\n");
	assert_int_equal(auth_with(sb, "unknownopt", "alice", code, NULL), PAM_AUTH_ERR);
	pt_service(sb, "badvalue", "auth required @MFA window=99\n");
	assert_int_equal(auth_with(sb, "badvalue", "alice", code, NULL), PAM_AUTH_ERR);
	snprintf(line, sizeof(line), "auth required %s conf=%s/missing.conf nullok\n", sb->module,
	    sb->dir);
	pt_service(sb, "missingconf", line);
	assert_int_equal(auth_with(sb, "missingconf", "nobody", code, NULL), PAM_AUTH_ERR);
	/* An unsafe config file is refused, even with nullok for an unknown user. */
	chmod(sb->conf, 0666);
	pt_service(sb, "unsafe", "auth required @MFA nullok\n");
	assert_int_equal(auth_with(sb, "unsafe", "nobody", code, NULL), PAM_AUTH_ERR);
	chmod(sb->conf, 0600);
}

static void test_store_errors_fail_closed(void **state)
{
	struct pt_sandbox *sb = *state;
	char path[256], code[16];

	pt_service(sb, "nullok", "auth required @MFA nullok\n");
	code_now(0, code);
	/* Corrupt record: fails, and nullok does not turn it into PAM_IGNORE. */
	snprintf(path, sizeof(path), "%s/store/alice.rec", sb->dir);
	tu_write_file(path, "garbage", 7, 0600);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, NULL), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "nullok", "alice", code, NULL), PAM_AUTH_ERR);
	/* Missing key: every user fails, enrolled or not, nullok or not. */
	snprintf(path, sizeof(path), "%s/store.key", sb->dir);
	unlink(path);
	assert_int_equal(auth_with(sb, "nullok", "nobody", code, NULL), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, NULL), PAM_AUTH_ERR);
}

static void test_lockout_and_account(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_with(sb, "mfa", "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(sb, "alice"), 3);
	/* Locked: the right code is refused, with a message, and consumes nothing. */
	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, &c), PAM_AUTH_ERR);
	assert_int_equal(c.prompts, 1);
	assert_non_null(strstr(c.messages, "locked"));
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "mfa", "alice", &c), PAM_PERM_DENIED);
	/* Another user is not affected. */
	pt_enroll(sb, "bob", SEED, "sha1", 6, 30);
	assert_int_equal(auth_with(sb, "mfa", "bob", code, NULL), PAM_SUCCESS);
	/* After unlock_time the lock lifts by itself; the unconsumed code's step still works. */
	pt_fake_now += 600;
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "mfa", "alice", &c), PAM_SUCCESS);
	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "alice", code, NULL), PAM_SUCCESS);
	assert_int_equal(pt_failures(sb, "alice"), 0);
}

/*
 * Issue 12 finding 2: the store is keyed by the account NSS returns, not by
 * the typed text.  The user database is tests/fake_nss.c's, from a file:
 * "TANAKA" and "tanaka@example.lg.jp" are tanaka (as SSSD with a
 * case-insensitive domain has it), "ghost" is nobody.
 */
static void nss_db(const struct pt_sandbox *sb)
{
	static const char db[] =
	    "tanaka:tanaka\nTANAKA:tanaka\ntanaka@example.lg.jp:tanaka\nsato:sato\n"
	    "broken:!EIO\nbig:big:300000\nhuge:huge:2000000\n";
	char path[256];

	snprintf(path, sizeof(path), "%s/nss.db", sb->dir);
	tu_write_file(path, db, strlen(db), 0644);
	setenv("MFAUTH_TEST_NSS", path, 1);
}

static void test_nss_aliases_share_lock(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	nss_db(sb);
	pt_enroll(sb, "tanaka", SEED, "sha1", 6, 30);
	/* An alias logs in with tanaka's factor... */
	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "TANAKA", code, NULL), PAM_SUCCESS);
	/* ...and its failures are tanaka's. */
	assert_int_equal(auth_with(sb, "mfa", "TANAKA", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "mfa", "tanaka@example.lg.jp", "000000", NULL),
	    PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "mfa", "tanaka", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(sb, "tanaka"), 3);
	/* Locked: the account step (SSH keys) refuses every spelling. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "mfa", "tanaka", &c), PAM_PERM_DENIED);
	assert_int_equal(pt_acct(sb, "mfa", "TANAKA", &c), PAM_PERM_DENIED);
	assert_int_equal(pt_acct(sb, "mfa", "tanaka@example.lg.jp", &c), PAM_PERM_DENIED);
	pt_fake_now += 30;
	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "TANAKA", code, NULL), PAM_AUTH_ERR);
}

static void test_nss_nullok_and_unknown(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c, known;

	nss_db(sb);
	pt_enroll(sb, "tanaka", SEED, "sha1", 6, 30);
	pt_service(sb, "nullok",
	    "auth required @MFA nullok\nauth required pam_permit.so\n"
	    "account required @MFA nullok\n");
	/* An alias of an enrolled user is enrolled: nullok does not excuse it. */
	memset(&c, 0, sizeof(c));
	c.reply = "000000";
	assert_int_equal(pt_direct_auth(sb, "TANAKA", &c, "nullok"), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "nullok", "TANAKA", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(auth_with(sb, "nullok", "tanaka@example.lg.jp", "123456", NULL),
	    PAM_AUTH_ERR);
	/* An account NSS knows with nothing enrolled: nullok still ignores. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_direct_auth(sb, "sato", &c, "nullok"), PAM_IGNORE);
	assert_int_equal(c.prompts, 0);
	/* A name NSS does not know: refused through the decoy, same prompt, never ignored. */
	memset(&known, 0, sizeof(known));
	known.reply = "000000";
	assert_int_equal(pt_direct_auth(sb, "tanaka", &known, "nullok"), PAM_AUTH_ERR);
	memset(&c, 0, sizeof(c));
	c.reply = "000000";
	assert_int_equal(pt_direct_auth(sb, "ghost", &c, "nullok"), PAM_AUTH_ERR);
	assert_int_equal(c.prompts, 1);
	assert_string_equal(c.last_prompt, known.last_prompt);
	assert_int_equal(auth_with(sb, "nullok", "ghost", "000000", NULL), PAM_AUTH_ERR);
	/* The account step fails closed for it too. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "nullok", "ghost", &c), PAM_USER_UNKNOWN);
	assert_int_equal(pt_acct(sb, "mfa", "ghost", &c), PAM_USER_UNKNOWN);
}

static void test_nss_errors_fail_closed(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	nss_db(sb);
	pt_service(sb, "nullok",
	    "auth required @MFA nullok\nauth required pam_permit.so\n"
	    "account required @MFA nullok\n");
	/* A source that fails is no answer: refused, even with nullok, in both steps. */
	assert_int_equal(auth_with(sb, "nullok", "broken", "000000", NULL), PAM_AUTH_ERR);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_direct_auth(sb, "broken", &c, "nullok"), PAM_AUTH_ERR);
	assert_int_equal(pt_acct(sb, "nullok", "broken", &c), PAM_AUTH_ERR);
	/* An entry larger than the first buffer: the buffer grows (ERANGE)... */
	pt_enroll(sb, "big", SEED, "sha1", 6, 30);
	code_now(0, code);
	assert_int_equal(auth_with(sb, "mfa", "big", code, NULL), PAM_SUCCESS);
	/* ...up to its cap; past it the lookup failed: refused, not ignored. */
	assert_int_equal(auth_with(sb, "nullok", "huge", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(pt_acct(sb, "nullok", "huge", &c), PAM_AUTH_ERR);
}

/* Invariant 1 under the control flags people actually write. */
static void test_stacks(void **state)
{
	struct pt_sandbox *sb = *state;
	static const struct {
		const char *stack;
		bool good_code;
		int expect;
	} cases[] = {
		{ "auth required pam_permit.so\nauth required @MFA\n", true, PAM_SUCCESS },
		{ "auth required pam_permit.so\nauth required @MFA\n", false, PAM_AUTH_ERR },
		{ "auth requisite @MFA\nauth required pam_permit.so\n", false, PAM_AUTH_ERR },
		{ "auth requisite @MFA\nauth required pam_permit.so\n", true, PAM_SUCCESS },
		{ "auth sufficient @MFA\nauth required pam_deny.so\n", false, PAM_AUTH_ERR },
		{ "auth sufficient @MFA\nauth required pam_deny.so\n", true, PAM_SUCCESS },
		/* Debian's common-auth shape: a failure must reach pam_deny. */
		{ "auth [success=1 default=ignore] @MFA\nauth requisite pam_deny.so\n"
		  "auth required pam_permit.so\n",
		    false, PAM_AUTH_ERR },
		{ "auth [success=1 default=ignore] @MFA\nauth requisite pam_deny.so\n"
		  "auth required pam_permit.so\n",
		    true, PAM_SUCCESS },
		/* The password module failing first: the stack fails whatever the code. */
		{ "auth requisite pam_deny.so\nauth required @MFA\n", true, PAM_AUTH_ERR },
		{ "auth required pam_deny.so\nauth required @MFA\n", true, PAM_AUTH_ERR },
		/* A failure is never turned into success by a later permit. */
		{ "auth required @MFA\nauth optional pam_permit.so\n", false, PAM_AUTH_ERR },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char user[32], code[16];
		snprintf(user, sizeof(user), "stack%zu", i);
		pt_enroll(sb, user, SEED, "sha1", 6, 30);
		pt_service(sb, "stack", cases[i].stack);
		code_now(0, code);
		if (!cases[i].good_code)
			code[5] = code[5] == '0' ? '1' : '0';
		int rc = auth_with(sb, "stack", user, code, NULL);
		if (rc != cases[i].expect)
			fail_msg("case %zu: got %d want %d", i, rc, cases[i].expect);
	}
}

/* Invariant 2: 16 racing logins with one valid code, exactly one wins. */
static void test_concurrent_same_code(void **state)
{
	struct pt_sandbox *sb = *state;
	enum { N = 16 };
	pid_t pids[N];
	char code[16];
	int wins = 0, fails = 0;

	code_now(0, code);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			int rc = auth_with(sb, "mfa", "alice", code, NULL);
			_exit(rc == PAM_SUCCESS ? 0 : rc == PAM_AUTH_ERR ? 1 : 2);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) == 0)
			wins++;
		else if (WEXITSTATUS(st) == 1)
			fails++;
	}
	assert_int_equal(wins, 1);
	assert_int_equal(fails, N - 1);
}

static void test_setcred(void **state)
{
	struct pt_sandbox *sb = *state;
	pam_handle_t *pamh = NULL;
	struct pam_conv pc = { NULL, NULL };

	pt_service(sb, "cred", "auth required @MFA\n");
	assert_int_equal(pam_start_confdir("cred", "alice", &pc, sb->pamd, &pamh), PAM_SUCCESS);
	assert_int_equal(pam_setcred(pamh, PAM_ESTABLISH_CRED), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
}

/* Invariant 10: only pam_sm_* leave the module. */
static void test_exports(void **state)
{
	struct pt_sandbox *sb = *state;
	char cmd[700], line[256];
	int n = 0;
	FILE *p;
	void *h = dlopen(sb->module, RTLD_NOW | RTLD_LOCAL);

	assert_non_null(h);
	assert_non_null(dlsym(h, "pam_sm_authenticate"));
	assert_non_null(dlsym(h, "pam_sm_setcred"));
	assert_non_null(dlsym(h, "pam_sm_acct_mgmt"));
	assert_null(dlsym(h, "mfa_store_open"));
	assert_null(dlsym(h, "mfa_totp_verify"));
	dlclose(h);
	/* Every defined dynamic symbol, not only the ones we thought of. */
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s", sb->module);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL) {
		char *name = strrchr(line, ' ');
		assert_non_null(name);
		name++;
		name[strcspn(name, "\n")] = '\0';
		if (strncmp(name, "pam_sm_", 7) != 0)
			fail_msg("module exports %s", name);
		n++;
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_code_then_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_step_after_newer_is_replay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parameters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unenrolled_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nullok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_errors_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout_and_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nss_aliases_share_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nss_nullok_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nss_errors_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_same_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setcred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exports, setup, teardown),
	};
	tu_require_root();
	return cmocka_run_group_tests_name("pam_totp", tests, NULL, NULL);
}
