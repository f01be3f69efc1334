/*
 * Lockout, recovery codes and the audit trail through the real PAM stack.
 * Audit lines are captured from a private /dev/log (tests/syslog_sink.h) and
 * checked field by field, and for the absence of every secret.
 */
#include "config.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pamtest.h"
#include "syslog_sink.h"
#include "testutil.h"
#include "mfauth/err.h"
#include "mfauth/lockout.h"
#include "mfauth/recovery.h"
#include "mfauth/store.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

/*
 * The kernel audit calls, interposed (the binary exports these symbols, so
 * the module's libaudit calls land here): what USER_AUTH records it sends.
 * libpam's own audit records pass through too and are not counted.
 */
static struct {
	int calls;
	int type;
	int result;
	char name[64];
} kaudit;

#ifdef HAVE_LIBAUDIT
#include <libaudit.h>

int audit_open(void)
{
	return 1000; /* never a real descriptor: audit_close below ignores it */
}

void audit_close(int fd)
{
	assert_int_equal(fd, 1000);
}

int audit_log_acct_message(int audit_fd, int type, const char *pgname, const char *op,
    const char *name, unsigned int id, const char *host, const char *addr, const char *tty,
    int result)
{
	(void)pgname;
	(void)id;
	(void)host;
	(void)addr;
	(void)tty;
	assert_int_equal(audit_fd, 1000);
	/* libpam writes its own PAM:authentication records through here too. */
	if (op == NULL || strcmp(op, "PAM:mfauth-second-factor") != 0)
		return 1;
	kaudit.calls++;
	kaudit.type = type;
	kaudit.result = result;
	snprintf(kaudit.name, sizeof(kaudit.name), "%s", name);
	return 1;
}
#endif

struct fixture {
	struct pt_sandbox sb;
	int sink;
	char log[16384]; /* every audit line received so far */
};

static int setup_with(void **state, const char *conf)
{
	struct fixture *f = calloc(1, sizeof(*f));
	pt_fake_now = 1800000000;
	pt_setup(&f->sb, conf);
	pt_service(&f->sb, "mfa", "auth required @MFA\naccount required @MFA\n");
	pt_enroll(&f->sb, "alice", SEED, "sha1", 6, 30);
	if ((f->sink = sink_open()) < 0)
		fail_msg("sink: %s", sink_error());
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, "deny = 3\nunlock_time = 600\nfail_interval = 900\n");
}

static int setup_staff_only(void **state)
{
	return setup_with(state, "deny = 2\nunlock_time = 0\nfail_interval = 900\n");
}

static int setup_no_lock(void **state)
{
	return setup_with(state, "deny = 0\ndeny_total = 0\n");
}

static int setup_deny5(void **state)
{
	return setup_with(state,
	    "deny = 5\nunlock_time = 600\nfail_interval = 900\n"
	    "deny_total = 20\n");
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

static int login(struct fixture *f, const char *user, const char *code, struct pt_conv *out)
{
	struct pt_conv c = { .reply = code };
	int rc = pt_auth(&f->sb, "mfa", user, &c);
	collect(f);
	if (out != NULL)
		*out = c;
	return rc;
}

static void open_store(struct fixture *f, struct mfa_store **store)
{
	struct mfa_config cfg;
	struct mfa_path_error perr;
	mfa_config_defaults(&cfg);
	snprintf(cfg.store_dir, sizeof(cfg.store_dir), "%s/store", f->sb.dir);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s/store.key", f->sb.dir);
	if (mfa_store_open(&cfg, store, &perr) != 0)
		fail_msg("store: %s", perr.msg);
}

/* Issue a recovery code through the core, as `mfauth recovery` does. */
static void issue_recovery(struct fixture *f, const char *user, uint64_t ttl,
    char code[MFA_RECOVERY_TEXT_LEN])
{
	struct mfa_store *store;
	struct mfa_record rec;
	open_store(f, &store);
	assert_int_equal(mfa_store_load(store, user, &rec), 0);
	assert_int_equal(mfa_recovery_issue(&rec.recovery, (uint64_t)pt_fake_now, ttl, code), 0);
	assert_int_equal(mfa_store_save(store, user, &rec), 0);
	mfa_store_close(store);
}

static int clear(struct mfa_state *st, void *ctx)
{
	(void)ctx;
	mfa_lockout_clear(st);
	return 1;
}

static void unlock(struct fixture *f, const char *user)
{
	struct mfa_store *store;
	open_store(f, &store);
	assert_int_equal(mfa_store_update(store, user, clear, NULL), 0);
	mfa_store_close(store);
}

static void assert_logged(struct fixture *f, const char *fragment)
{
	if (strstr(f->log, fragment) == NULL)
		fail_msg("audit trail lacks '%s':\n%s", fragment, f->log);
}

static void test_audit_lines(void **state)
{
	struct fixture *f = *state;
	char code[16];

	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
	assert_logged(f, "pam_mfauth[");
	assert_logged(f,
	    "event=auth result=success user=alice factor=totp reason= "
	    "service=mfa tty=tty7 rhost=");
	assert_int_equal(login(f, "alice", code, NULL), PAM_AUTH_ERR);
	assert_logged(f, "event=auth result=replay user=alice factor=totp reason=replay");
	assert_logged(f, "failures=1");
	assert_int_equal(login(f, "alice", "123", NULL), PAM_AUTH_ERR);
	assert_logged(f, "reason=malformed_code");
	assert_int_equal(login(f, "ghost", "999999", NULL), PAM_AUTH_ERR);
	assert_logged(f, "event=auth result=fail user=ghost factor=totp reason=not_enrolled");
	/* A hostile name cannot forge fields. */
	assert_int_equal(login(f, "x result=success", "999999", NULL), PAM_AUTH_ERR);
	assert_logged(f, "user=\"x\\x20result=success\"");
	{
		/* An alias is logged as the account, with the name as typed (finding 2). */
		static const char db[] = "alice:alice\nALICE:alice\n";
		char path[256];

		snprintf(path, sizeof(path), "%s/nss.db", f->sb.dir);
		tu_write_file(path, db, strlen(db), 0644);
		setenv("MFAUTH_TEST_NSS", path, 1);
		assert_int_equal(login(f, "ALICE", "999999", NULL), PAM_AUTH_ERR);
		assert_logged(f,
		    "event=auth result=fail user=alice typed=ALICE factor=totp "
		    "reason=bad_code");
		assert_int_equal(login(f, "nobody-known", "999999", NULL), PAM_AUTH_ERR);
		assert_logged(f, "user=nobody-known factor=totp reason=not_enrolled");
		setenv("MFAUTH_TEST_NSS", "identity", 1);
	}
	/* Authpriv facility: priority 80 + severity. */
	assert_true(strncmp(f->log, "<8", 2) == 0);
	/* No secret anywhere: not the code, not the seed. */
	assert_null(strstr(f->log, code));
	assert_null(strstr(f->log, SEED));
	assert_null(strstr(f->log, "999999"));
}

/* Every decision also reaches the kernel audit trail as USER_AUTH. */
static void test_kernel_audit(void **state)
{
	struct fixture *f = *state;
	char code[16];

	memset(&kaudit, 0, sizeof(kaudit));
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
#ifdef HAVE_LIBAUDIT
	assert_int_equal(kaudit.calls, 1);
	assert_int_equal(kaudit.type, AUDIT_USER_AUTH);
	assert_int_equal(kaudit.result, 1);
	assert_string_equal(kaudit.name, "alice");
	assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(kaudit.calls, 2);
	assert_int_equal(kaudit.result, 0);
#else
	/* Built without libaudit: nothing is sent, and the login is unaffected. */
	assert_int_equal(kaudit.calls, 0);
#endif
}

static void test_lock_after_deny_and_auto_unlock(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_logged(f, "event=lock result=locked user=alice");
	assert_logged(f, "locked_until=1800000600");
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, &c), PAM_AUTH_ERR);
	assert_non_null(strstr(c.messages, "locked"));
	assert_logged(f, "event=auth result=locked user=alice");
	/* A locked attempt is not counted again and consumes nothing. */
	assert_int_equal(pt_failures(&f->sb, "alice"), 3);
	pt_fake_now += 599;
	assert_int_equal(login(f, "alice", code, NULL), PAM_AUTH_ERR);
	pt_fake_now += 1;
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
}

static void test_failures_outside_interval_do_not_lock(void **state)
{
	struct fixture *f = *state;
	char code[16];

	assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	pt_fake_now += 900; /* the first two fall out of fail_interval */
	assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
}

static void test_staff_only_unlock(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	pt_fake_now += 86400 * 365; /* unlock_time = 0: time alone never unlocks */
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_AUTH_ERR);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(&f->sb, "mfa", "alice", &c), PAM_PERM_DENIED);
	unlock(f, "alice");
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(&f->sb, "mfa", "alice", &c), PAM_SUCCESS);
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
}

static void test_recovery_code(void **state)
{
	struct fixture *f = *state;
	char code[MFA_RECOVERY_TEXT_LEN], typed[MFA_RECOVERY_TEXT_LEN], compact[20];
	size_t o = 0;

	issue_recovery(f, "alice", 3600, code);
	/* Typed in lower case without dashes: still the same code. */
	for (const char *p = code; *p; p++)
		if (*p != '-')
			compact[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	compact[o] = '\0';
	snprintf(typed, sizeof(typed), "%s", code);
	assert_int_equal(login(f, "alice", compact, NULL), PAM_SUCCESS);
	assert_logged(f, "event=recovery_used result=success user=alice factor=recovery");
	/* Once only. */
	assert_int_equal(login(f, "alice", typed, NULL), PAM_AUTH_ERR);
	/* Audited as what it is (issue 16 item 5a): not a TOTP replay. */
	assert_logged(f, "result=replay user=alice factor=recovery reason=replay");
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
	/* Neither form of the code ever reaches the log. */
	assert_null(strstr(f->log, code));
	assert_null(strstr(f->log, compact));
}

static void test_recovery_expiry_and_replacement(void **state)
{
	struct fixture *f = *state;
	char first[MFA_RECOVERY_TEXT_LEN], second[MFA_RECOVERY_TEXT_LEN];

	issue_recovery(f, "alice", 3600, first);
	issue_recovery(f, "alice", 3600, second);
	/* A new code replaces the old one. */
	assert_int_equal(login(f, "alice", first, NULL), PAM_AUTH_ERR);
	pt_fake_now += 3600;
	assert_int_equal(login(f, "alice", second, NULL), PAM_AUTH_ERR);
	assert_logged(f, "reason=expired");
}

static void test_recovery_while_locked_is_not_consumed(void **state)
{
	struct fixture *f = *state;
	char code[MFA_RECOVERY_TEXT_LEN];

	issue_recovery(f, "alice", 3600, code);
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	assert_int_equal(login(f, "alice", code, NULL), PAM_AUTH_ERR);
	unlock(f, "alice");
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
}

/* Invariant 3: 20 parallel wrong codes count exactly 20. */
static void test_parallel_failures_count_exactly(void **state)
{
	struct fixture *f = *state;
	enum { N = 20 };
	pid_t pids[N];

	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct pt_conv c = { .reply = "000000" };
			_exit(pt_auth(&f->sb, "mfa", "alice", &c) == PAM_AUTH_ERR ? 0 : 1);
		}
	}
	/*
	 * Keep reading the sink while the children run: libpam itself logs with
	 * glibc's syslog(), which blocks when the socket's queue is full.
	 */
	for (int done = 0; done < N;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid == 0) {
			char line[4096];
			sink_recv(f->sink, line, sizeof(line), 10);
			continue;
		}
		assert_true(pid > 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		done++;
	}
	(void)pids;
	assert_int_equal(pt_failures(&f->sb, "alice"), N);
}

/*
 * Security review, finding 1: a clock stepping back reset every count.
 * deny = 5, four wrong codes, the clock back one second, again: the fifth
 * wrong code locks, and the right code is then refused.
 */
static void test_clock_back_keeps_count(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];
	int wrong = 0;

	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 4; i++) {
			if (login(f, "alice", "000000", NULL) != PAM_AUTH_ERR)
				fail_msg("wrong code accepted");
			wrong++;
		}
		pt_fake_now -= 1;
	}
	assert_int_equal(wrong, 20);
	assert_logged(f,
	    "event=lock result=locked user=alice factor=totp "
	    "reason=too_many_failures ");
	/* Locked from the fifth failure on, at the latest failure time + unlock_time. */
	assert_logged(f, "locked_until=1800000600");
	assert_int_equal(pt_failures(&f->sb, "alice"), 5);
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_AUTH_ERR);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(&f->sb, "mfa", "alice", &c), PAM_PERM_DENIED);
}

/*
 * The sliding window's leak: four guesses every fail_interval forever.
 * deny_total = 20 failures since the last success lock until staff unlock,
 * audited as their own reason.
 */
static void test_deny_total_locks_until_staff(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 4; i++)
			assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
		if (round < 4) {
			assert_null(strstr(f->log, "event=lock"));
			pt_fake_now += 900;
		}
	}
	assert_logged(f,
	    "event=lock result=locked user=alice factor=totp "
	    "reason=too_many_failures_total ");
	assert_logged(f, "locked_until=staff");
	pt_fake_now += 86400 * 365;
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, &c), PAM_AUTH_ERR);
	assert_non_null(strstr(c.messages, "locked"));
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(&f->sb, "mfa", "alice", &c), PAM_PERM_DENIED);
	unlock(f, "alice");
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
	/* A success clears the total: 19 more failures do not lock. */
	for (int i = 0; i < 19; i++) {
		pt_fake_now += 900;
		assert_int_equal(login(f, "alice", "000000", NULL), PAM_AUTH_ERR);
	}
	pt_fake_now += 900;
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(login(f, "alice", code, NULL), PAM_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_after_deny_and_auto_unlock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failures_outside_interval_do_not_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_staff_only_unlock, setup_staff_only, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_expiry_and_replacement, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recovery_while_locked_is_not_consumed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parallel_failures_count_exactly, setup_no_lock,
		    teardown),
		cmocka_unit_test_setup_teardown(test_clock_back_keeps_count, setup_deny5, teardown),
		cmocka_unit_test_setup_teardown(test_deny_total_locks_until_staff, setup_deny5,
		    teardown),
	};
	tu_require_root();
	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private /dev/log: %s\n", sink_error());
		return 1;
	}
	return cmocka_run_group_tests_name("pam_staff", tests, NULL, NULL);
}
