/*
 * The module in a long-lived host: 1,000 logins in one process, the shape of
 * a display manager or sshd's monitor, which keep running for months.
 *
 * The logins mix every outcome: successes (several users, the injected clock
 * advancing so each code is fresh), wrong and replayed codes, unknown and
 * invalid names, a locked user, a corrupt record, a record without its state,
 * a missing key, an unsafe store directory, bad options, conversation errors,
 * nullok, a card-only user with no pcscd, and the account check.  Half go
 * through a real PAM stack (pam_start .. pam_end, as a host does), half call
 * the module that the test keeps loaded.
 *
 * Checked: every return code exactly; no descriptor left open (the list in
 * /proc/self/fd after a warm-up equals the one at the end); the heap does not
 * grow; every login reached syslog.  tests/pam/valgrind-longlived.sh runs
 * this under valgrind memcheck, where a definite or indirect leak fails it.
 */
#include "config.h"

#include <malloc.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include "hardutil.h"
#include "pamtest.h"
#include "syslog_sink.h"
#include "testutil.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define LOGINS 1000
#define WARMUP 40
#define HEAP_WARMUP 200
#define KINDS 20
#define SUCCESS_USERS 5
#define FD_LIST_MAX 8192

struct fixture {
	struct pt_sandbox sb;
	struct hu_module mod;
	int sink;
	long lines;        /* syslog lines received */
	char (*codes)[16]; /* codes[i]: the code at iteration i */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char user[32], path[256];

	assert_non_null(f);
	pt_fake_now = 1800000000;
	/* fail_interval shorter than the clock's stride: bob's failures never pile up. */
	pt_setup(&f->sb, "deny = 5\nunlock_time = 0\nfail_interval = 60\n");
	pt_service(&f->sb, "mfa", "auth required @MFA\naccount required @MFA\n");
	pt_service(&f->sb, "mfa-nullok",
	    "auth required @MFA nullok\nauth required pam_permit.so\n");
	for (int i = 0; i < SUCCESS_USERS; i++) {
		snprintf(user, sizeof(user), "s%d", i);
		pt_enroll(&f->sb, user, SEED, "sha1", 6, 30);
	}
	pt_enroll(&f->sb, "bob", SEED, "sha1", 6, 30);
	pt_enroll(&f->sb, "carol", SEED, "sha1", 6, 30);
	hu_lock_forever(&f->sb, "carol");
	pt_enroll(&f->sb, "dave", SEED, "sha1", 6, 30);
	snprintf(path, sizeof(path), "%s/store/dave.rec", f->sb.dir);
	tu_write_file(path, "not a record", 12, 0600);
	pt_enroll(&f->sb, "erin", SEED, "sha1", 6, 30);
	snprintf(path, sizeof(path), "%s/store/erin.state", f->sb.dir);
	assert_int_equal(unlink(path), 0);
	hu_enroll_card_only(&f->sb, "frank");
	f->codes = calloc(LOGINS + 1, sizeof(*f->codes));
	assert_non_null(f->codes);
	hu_codes(SEED, pt_fake_now, LOGINS + 1, f->codes);
	if ((f->sink = sink_open()) < 0)
		fail_msg("sink: %s", sink_error());
	hu_module_open(&f->mod, &f->sb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hu_module_close(&f->mod);
	sink_close(f->sink);
	pt_teardown(&f->sb);
	free(f->codes);
	free(f);
	return 0;
}

/* Count and discard what reached syslog (the queue holds only 10 lines). */
static void drain(struct fixture *f)
{
	int n = sink_drain(f->sink);

	assert_true(n >= 0);
	f->lines += n;
}

static void rename_or_fail(const char *from, const char *to)
{
	if (rename(from, to) != 0)
		fail_msg("rename %s", from);
}

/* What one login does and must answer. */
struct plan {
	const char *who;
	struct pt_conv conv;
	const char *args;    /* module arguments: the module is called directly */
	const char *service; /* else this PAM service runs */
	bool account;        /* pam_sm_acct_mgmt instead of authenticate */
	int want;
};

/*
 * The login of kind k at iteration i.  Kinds alternate between the PAM stack
 * (pam_start .. pam_end, as a host does) and the module kept loaded.
 */
static void plan_login(struct fixture *f, int k, int i, struct plan *p, char user[32],
    char wrong[16])
{
	bool first_half = i % (2 * KINDS) < KINDS;

	memset(p, 0, sizeof(*p));
	p->conv.reply = f->codes[i];
	p->want = PAM_AUTH_ERR;
	p->service = k % 2 ? "mfa" : NULL;
	snprintf(wrong, 16, "%s", f->codes[i]);
	wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
	snprintf(user, 32, "s%d", i % SUCCESS_USERS);
	p->who = user;
	switch (k) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 17: /* 17: and then a replay */
		p->want = PAM_SUCCESS;
		break;
	case 4:
		p->who = "bob";
		p->conv.reply = wrong;
		break;
	case 5:
		snprintf(user, 32, "ghost-%d", i);
		break;
	case 6:
		p->who = "carol";
		break; /* locked */
	case 7:
		p->who = "dave";
		break; /* corrupt record */
	case 8:
		p->conv.null_reply = true;
		break;
	case 9:
		p->conv.conv_error = true;
		break;
	case 10:
		p->conv.reply = "";
		break;
	case 11:
		p->who = "erin";
		break; /* record without state */
	case 12:
		snprintf(user, 32, "../x%d", i);
		break;
	case 13:
		/* nullok, nothing enrolled: ignored, and pam_permit lets the stack pass. */
		snprintf(user, 32, "nobody-%d", i);
		p->args = first_half ? "nullok" : NULL;
		p->service = first_half ? NULL : "mfa-nullok";
		p->want = first_half ? PAM_IGNORE : PAM_SUCCESS;
		break;
	case 14:
		p->who = "frank";
		p->args = "factors=totp,card";
		break;
	case 15:
		p->args = first_half ? "bogus=1" : "window=99";
		break;
	case 16:
		p->account = true;
		p->service = NULL;
		p->who = first_half ? "s1" : "carol";
		p->want = first_half ? PAM_SUCCESS : PAM_PERM_DENIED;
		break;
	case 18:
		p->who = "s1";
		p->conv.reply = wrong;
		break;
	case 19:
		p->service = "mfa";
		break; /* store trouble: see login() */
	default:
		break;
	}
}

static int run_plan(struct fixture *f, struct plan *p)
{
	if (p->service != NULL && p->args == NULL)
		return hu_stack_auth(&f->sb, p->service, p->who, &p->conv);
	return hu_call(&f->mod, &f->sb, p->who, &p->conv, p->args, p->account, NULL);
}

/* One login (two for kind 17); *count gets how many. */
static void login(struct fixture *f, int k, int i, int *count)
{
	char user[32], wrong[16], key[256], moved[256], dir[256];
	bool no_key = i % (2 * KINDS) < KINDS;
	struct plan p;
	int rc;

	*count = 1;
	plan_login(f, k, i, &p, user, wrong);
	snprintf(key, sizeof(key), "%s/store.key", f->sb.dir);
	snprintf(moved, sizeof(moved), "%s/store.key.away", f->sb.dir);
	snprintf(dir, sizeof(dir), "%s/store", f->sb.dir);
	if (k == 19) {
		/* Store trouble: the key gone, or the store directory writable by all. */
		if (no_key)
			rename_or_fail(key, moved);
		else
			assert_int_equal(chmod(dir, 0777), 0);
	}
	rc = run_plan(f, &p);
	if (k == 19) {
		if (no_key)
			rename_or_fail(moved, key);
		else
			assert_int_equal(chmod(dir, 0700), 0);
	}
	if (rc != p.want)
		fail_msg("login %d (kind %d, user %s): got %d, want %d", i, k, p.who, rc, p.want);
	if (k == 17) {
		struct pt_conv again = { .reply = f->codes[i] };
		*count = 2;
		if ((rc = hu_stack_auth(&f->sb, "mfa", p.who, &again)) != PAM_AUTH_ERR)
			fail_msg("login %d: replay got %d", i, rc);
	}
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void test_thousand_logins(void **state)
{
	struct fixture *f = *state;
	static char before[FD_LIST_MAX], warm[FD_LIST_MAX], after[FD_LIST_MAX];
	bool check_heap = !hu_asan_build() && getenv("MFAUTH_UNDER_VALGRIND") == NULL;
	size_t heap_warm = 0, heap_end;
	int logins = 0, n_before, n_warm = -1, n_after;

	n_before = hu_fd_list(before, sizeof(before));
	assert_true(n_before > 0);
	for (int i = 0; logins < LOGINS; i++) {
		int made = 0;

		assert_true(i < LOGINS);
		login(f, i % KINDS, i, &made);
		logins += made;
		drain(f);
		pt_fake_now += 30; /* the next iteration's code is a fresh step */
		if (i + 1 == WARMUP)
			n_warm = hu_fd_list(warm, sizeof(warm));
		/* By then every lazily made structure (and malloc's caches) has settled. */
		if (i + 1 == HEAP_WARMUP)
			heap_warm = heap_in_use();
	}
	n_after = hu_fd_list(after, sizeof(after));
	heap_end = heap_in_use();
	printf("# %d logins; descriptors: %d at start, %d after warm-up, %d at the end; "
	       "%ld syslog lines\n",
	    logins, n_before, n_warm, n_after, f->lines);
	if (strcmp(warm, after) != 0)
		fail_msg("descriptors left open:\nafter warm-up:\n%sat the end:\n%s", warm, after);
	/*
	 * libpam itself logs some events (a failed conversation) with syslog(),
	 * whose socket then stays connected to /dev/log for the host's later
	 * lines: the host's, not the module's (which never connects a socket and
	 * closes each one it makes).  With that closed, nothing else may remain.
	 */
	closelog();
	n_after = hu_fd_list(after, sizeof(after));
	if (strcmp(before, after) != 0)
		fail_msg("descriptors left open by the first logins:\nbefore:\n%sat the end:\n%s",
		    before, after);
	/* Every login logs at least one line (a success, a failure or an ignore). */
	assert_true(f->lines >= LOGINS);
	if (check_heap) {
		printf("# heap in use after %d logins %zu bytes, at the end %zu bytes\n",
		    HEAP_WARMUP, heap_warm, heap_end);
		/*
		 * Less than a byte per login (malloc's per-thread cache alone moves
		 * the figure by about a hundred): memory kept per call would show.
		 */
		if (heap_end > heap_warm + 512)
			fail_msg("heap grew by %zu bytes over %d logins", heap_end - heap_warm,
			    LOGINS - HEAP_WARMUP);
	}
	/* The state is what the mix says: bob's old failures expired, carol still locked. */
	assert_int_equal(pt_failures(&f->sb, "bob"), 1);
	assert_int_equal(pt_failures(&f->sb, "carol"), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thousand_logins, setup, teardown),
	};
	tu_require_root();
	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private /dev/log: %s\n", sink_error());
		return 1;
	}
	/* No pcscd for this process: the card user falls back to the code prompt. */
	if (setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/mfauth-test/pcscd.comm", 1) != 0)
		return 1;
	return cmocka_run_group_tests_name("pam_longlived", tests, NULL, NULL);
}
