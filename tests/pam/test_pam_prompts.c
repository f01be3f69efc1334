/*
 * The code prompt as real clients answer it (issue 16): sshd's password mode
 * (the password given to every prompt), codes typed as apps show them, what
 * a wrong password reaches under `required` and `requisite`, and what the
 * clerk reads and the audit says for replays, recovery codes and the lock.
 * The built module through the real Linux-PAM stack; the password comes from
 * tests/pam/password_stub.c (keeps PAM_AUTHTOK, as pam_unix does); audit
 * lines from a private /dev/log (tests/syslog_sink.h); time injected.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pamtest.h"
#include "syslog_sink.h"
#include "testutil.h"
#include "mfauth/recovery.h"
#include "mfauth/store.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define PASSWORD "Secret-pass1"
#define MSG_PASSWORD \
	"The password was given where the verification code was asked. If you " \
	"log in with ssh, keyboard-interactive authentication must be enabled. Contact your " \
	"administrator."
#define MSG_REPLAY "This code was already used. Wait for the next code."
#define MSG_LOCKED \
	"This account is locked after too many failed attempts. Contact your " \
	"security staff."

struct fixture {
	struct pt_sandbox sb;
	int sink;
	char log[32768]; /* every audit line received so far */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	pt_fake_now = 1800000000;
	pt_setup(&f->sb, "deny = 3\nunlock_time = 600\nfail_interval = 900\n");
	/* "pw": the password, as Debian's jump form or a hand-written requisite line does it. */
	pt_service(&f->sb, "pw",
	    "auth requisite @PW password=" PASSWORD "\n"
	    "auth required @MFA\naccount required @MFA\n");
	/* "pw-required": the stack pam_mfauth(8) used to show. */
	pt_service(&f->sb, "pw-required",
	    "auth required @PW password=" PASSWORD "\n"
	    "auth required @MFA\naccount required @MFA\n");
	pt_service(&f->sb, "mfa", "auth required @MFA\naccount required @MFA\n");
	pt_enroll(&f->sb, "alice", SEED, "sha1", 6, 30);
	if ((f->sink = sink_open()) < 0)
		fail_msg("sink: %s", sink_error());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sink_close(f->sink);
	pt_teardown(&f->sb);
	free(f);
	return 0;
}

/* Collect what was logged so far (the datagram queue is short: read often). */
static void collect(struct fixture *f)
{
	char line[4096];
	ssize_t n;

	while ((n = sink_recv(f->sink, line, sizeof(line), 50)) > 0) {
		size_t len = strlen(f->log);
		snprintf(f->log + len, sizeof(f->log) - len, "%s\n", line);
	}
}

/* Forget the lines so far: the next assertions see only what follows. */
static void forget(struct fixture *f)
{
	collect(f);
	f->log[0] = '\0';
}

/* One login on service: the password prompt (if any) gets pw, the code prompt code. */
static int login(struct fixture *f, const char *service, const char *user, const char *pw,
    const char *code, struct pt_conv *out)
{
	struct pt_conv c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.first_reply = pw;
	c.reply = code;
	rc = pt_auth(&f->sb, service, user, &c);
	collect(f);
	if (out != NULL)
		*out = c;
	return rc;
}

static void assert_logged(struct fixture *f, const char *fragment)
{
	if (strstr(f->log, fragment) == NULL)
		fail_msg("audit trail lacks '%s':\n%s", fragment, f->log);
}

static void assert_not_logged(struct fixture *f, const char *fragment)
{
	if (strstr(f->log, fragment) != NULL)
		fail_msg("audit trail has '%s':\n%s", fragment, f->log);
}

static void assert_said(const struct pt_conv *c, const char *msg)
{
	if (strstr(c->messages, msg) == NULL)
		fail_msg("the clerk was not told '%s'; messages:\n%s", msg, c->messages);
}

static void code_at(time_t t, char code[16])
{
	pt_code(SEED, "sha1", 6, 30, t, code);
}

/* Issue a recovery code through the core, as `mfauth recovery` does. */
static void issue_recovery(struct fixture *f, const char *user, uint64_t ttl,
    char code[MFA_RECOVERY_TEXT_LEN])
{
	struct mfa_config cfg;
	struct mfa_path_error perr;
	struct mfa_store *store;
	struct mfa_record rec;

	mfa_config_defaults(&cfg);
	snprintf(cfg.store_dir, sizeof(cfg.store_dir), "%s/store", f->sb.dir);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s/store.key", f->sb.dir);
	if (mfa_store_open(&cfg, &store, &perr) != 0)
		fail_msg("store: %s", perr.msg);
	assert_int_equal(mfa_store_load(store, user, &rec), 0);
	assert_int_equal(mfa_recovery_issue(&rec.recovery, (uint64_t)pt_fake_now, ttl, code), 0);
	assert_int_equal(mfa_store_save(store, user, &rec), 0);
	mfa_store_close(store);
}

/*
 * Item 1: sshd with KbdInteractiveAuthentication no answers the code prompt
 * with the password.  Refused, never counted (deny = 3, five tries), said to
 * the clerk, audited as password_as_code; the clerk's real code still works.
 */
static void test_password_as_code(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	for (int i = 0; i < 5; i++) {
		assert_int_equal(login(f, "pw", "alice", NULL, PASSWORD, &c), PAM_AUTH_ERR);
		assert_int_equal(c.prompts, 2);
		assert_said(&c, MSG_PASSWORD);
	}
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
	assert_logged(f,
	    "event=auth result=fail user=alice factor=totp reason=password_as_code "
	    "service=pw");
	assert_not_logged(f, "failures=");
	assert_not_logged(f, "event=lock");
	assert_not_logged(f, PASSWORD);
	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "pw", "alice", PASSWORD, code, &c), PAM_SUCCESS);
	assert_int_equal(c.prompts, 2);
	assert_string_equal(c.messages, "");

	/* Unknown users get the same answer (no enumeration), and nothing is counted anywhere. */
	forget(f);
	assert_int_equal(login(f, "pw", "ghost", NULL, PASSWORD, &c), PAM_AUTH_ERR);
	assert_said(&c, MSG_PASSWORD);
	assert_logged(f, "user=ghost factor=totp reason=password_as_code");

	/* Only exact equality: the password with a blank more is an ordinary wrong answer. */
	forget(f);
	assert_int_equal(login(f, "pw", "alice", PASSWORD, PASSWORD " ", &c), PAM_AUTH_ERR);
	assert_null(strstr(c.messages, MSG_PASSWORD));
	assert_logged(f, "reason=malformed_code service=pw tty=tty7 rhost= failures=1");
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
}

/* Without a password in the stack (no PAM_AUTHTOK) the same text is an ordinary bad answer. */
static void test_password_shape_without_authtok(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;

	assert_int_equal(login(f, "mfa", "alice", NULL, PASSWORD, &c), PAM_AUTH_ERR);
	assert_null(strstr(c.messages, MSG_PASSWORD));
	assert_logged(f,
	    "user=alice factor=totp reason=malformed_code service=mfa tty=tty7 "
	    "rhost= failures=1");
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
}

/*
 * Item 2, the documented stack: with `requisite` a wrong password never
 * reaches the code prompt, so nobody without the password can lock the
 * clerk or spend the code.  With `required` (the old documentation) it did.
 */
static void test_wrong_password_requisite_vs_required(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	for (int i = 0; i < 4; i++) {
		assert_int_equal(login(f, "pw", "alice", "wrong", "000000", &c), PAM_AUTH_ERR);
		assert_int_equal(c.prompts, 1);
	}
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
	assert_not_logged(f, "user=alice");
	/* The old stack: each wrong password meets the code prompt and counts... */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(login(f, "pw-required", "alice", "wrong", "000000", &c),
		    PAM_AUTH_ERR);
		assert_int_equal(c.prompts, 2);
	}
	assert_logged(f, "event=lock result=locked user=alice");
	/* ...and a wrong password with the right code is mfauth's success, the login's failure. */
	pt_fake_now += 600;
	code_at(pt_fake_now, code);
	forget(f);
	assert_int_equal(login(f, "pw-required", "alice", "wrong", code, NULL), PAM_AUTH_ERR);
	assert_logged(f, "event=auth result=success user=alice");
}

/* The six digits of code as an app or a clerk may give them: form 0 to 3. */
static void blank_form(int form, const char *code, char typed[32])
{
	switch (form) {
	case 0:
		snprintf(typed, 32, "%.3s %s", code, code + 3);
		break;
	case 1:
		snprintf(typed, 32, " %.3s%s ", code, code + 3);
		break;
	case 2:
		snprintf(typed, 32, "%.3s%s\t", code, code + 3);
		break;
	default:
		snprintf(typed, 32, "\t%.3s  %s", code, code + 3);
		break;
	}
}

/* Item 4: codes as apps show them; only what cannot be a code counts. */
static void test_code_with_blanks(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16], typed[32];

	for (int i = 0; i < 4; i++) {
		pt_fake_now += 30;
		code_at(pt_fake_now, code);
		blank_form(i, code, typed);
		if (login(f, "mfa", "alice", NULL, typed, NULL) != PAM_SUCCESS)
			fail_msg("form %d ('%s') refused", i, typed);
	}
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
	/* A blank more is still the same code: a replay, not a new login. */
	snprintf(typed, sizeof(typed), "%s ", code);
	assert_int_equal(login(f, "mfa", "alice", NULL, typed, &c), PAM_AUTH_ERR);
	assert_logged(f, "result=replay user=alice factor=totp reason=replay");
	/* Blanks only: no answer, not counted. */
	forget(f);
	assert_int_equal(login(f, "mfa", "alice", NULL, " \t ", NULL), PAM_AUTH_ERR);
	assert_logged(f, "reason=no_code");
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
	/* What cannot be a code is still malformed, and counts. */
	forget(f);
	assert_int_equal(login(f, "mfa", "alice", NULL, "12a 456", NULL), PAM_AUTH_ERR);
	assert_logged(f, "reason=malformed_code service=mfa tty=tty7 rhost= failures=2");
	assert_int_equal(login(f, "mfa", "alice", NULL, "123456\n", NULL), PAM_AUTH_ERR);
	assert_logged(f, "reason=malformed_code service=mfa tty=tty7 rhost= failures=3");
	/* A recovery code keeps working with a tab in it. */
	pt_fake_now += 600;
	issue_recovery(f, "alice", 3600, typed);
	typed[4] = '\t';
	assert_int_equal(login(f, "mfa", "alice", NULL, typed, NULL), PAM_SUCCESS);
}

/* Item 5a: a reused or expired recovery code is audited as a recovery code. */
static void test_recovery_audit_factor(void **state)
{
	struct fixture *f = *state;
	char code[MFA_RECOVERY_TEXT_LEN];
	struct pt_conv c;

	issue_recovery(f, "alice", 3600, code);
	assert_int_equal(login(f, "mfa", "alice", NULL, code, NULL), PAM_SUCCESS);
	forget(f);
	assert_int_equal(login(f, "mfa", "alice", NULL, code, &c), PAM_AUTH_ERR);
	assert_logged(f, "event=auth result=replay user=alice factor=recovery reason=replay");
	assert_not_logged(f, "factor=totp");
	/* "Wait for the next code" is for TOTP codes: a recovery code has no next one. */
	assert_null(strstr(c.messages, MSG_REPLAY));
	issue_recovery(f, "alice", 3600, code);
	pt_fake_now += 3600;
	forget(f);
	assert_int_equal(login(f, "mfa", "alice", NULL, code, NULL), PAM_AUTH_ERR);
	assert_logged(f, "event=auth result=fail user=alice factor=recovery reason=expired");
	/* A recovery code's shape for a user who has none, or who is unknown: still "recovery". */
	forget(f);
	assert_int_equal(login(f, "mfa", "ghost", NULL, "ABCD-EFGH-JKMN-PQRS", NULL), PAM_AUTH_ERR);
	assert_logged(f, "user=ghost factor=recovery reason=not_enrolled");
	/* Six digits are a TOTP code. */
	forget(f);
	assert_int_equal(login(f, "mfa", "alice", NULL, "000000", NULL), PAM_AUTH_ERR);
	assert_logged(f, "user=alice factor=totp reason=bad_code");
}

/* Item 5b: the attempt that sets the lock says so; the ones before do not. */
static void test_lock_message_on_locking_attempt(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(login(f, "mfa", "alice", NULL, "000000", &c), PAM_AUTH_ERR);
		assert_null(strstr(c.messages, MSG_LOCKED));
	}
	assert_int_equal(login(f, "mfa", "alice", NULL, "000000", &c), PAM_AUTH_ERR);
	assert_said(&c, MSG_LOCKED);
	assert_logged(f, "event=lock result=locked user=alice");
	assert_int_equal(login(f, "mfa", "alice", NULL, "000000", &c), PAM_AUTH_ERR);
	assert_said(&c, MSG_LOCKED);
}

/* Item 5c: a replayed TOTP code tells the clerk to wait for the next one. */
static void test_replay_message(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "mfa", "alice", NULL, code, &c), PAM_SUCCESS);
	assert_null(strstr(c.messages, MSG_REPLAY));
	assert_int_equal(login(f, "mfa", "alice", NULL, code, &c), PAM_AUTH_ERR);
	assert_said(&c, MSG_REPLAY);
	assert_logged(f,
	    "event=auth result=replay user=alice factor=totp reason=replay "
	    "service=mfa tty=tty7 rhost= failures=1");
	/* A wrong code is not a replay. */
	assert_int_equal(login(f, "mfa", "alice", NULL, "000000", &c), PAM_AUTH_ERR);
	assert_null(strstr(c.messages, MSG_REPLAY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password_as_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_shape_without_authtok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_requisite_vs_required, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_code_with_blanks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_audit_factor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_message_on_locking_attempt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replay_message, setup, teardown),
	};
	tu_require_root();
	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private /dev/log: %s\n", sink_error());
		return 1;
	}
	return cmocka_run_group_tests_name("pam_prompts", tests, NULL, NULL);
}
