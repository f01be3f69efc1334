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
 * The stack's logins ask in Japanese (lang=ja, doc/DESIGN.md "Language of
 * the clerk's text"), whose thread-local locale each lookup makes and frees.
 *
 * Checked: every return code exactly; no descriptor left open (the list in
 * /proc/self/fd after a warm-up equals the one at the end); the heap does not
 * grow; every login reached syslog.  tests/pam/valgrind-longlived.sh runs
 * this under valgrind memcheck, where a definite or indirect leak fails it.
 *
 * On the fleet store too: tests/ldap/valgrind-longlived-ldap.sh starts a
 * private slapd and runs this with MFAUTH_TEST_STORE=ldap (pamtest_ldap.h),
 * where every login opens, binds and closes a directory connection over
 * ldaps:// (libldap, GnuTLS) and the store trouble of kind 19 is the key
 * gone, a wrong bind password or no server listening.  There
 * MFAUTH_LONGLIVED_LOGINS sets how many logins (the default is 1,000):
 * a TLS handshake under valgrind costs what a thousand of them cannot.
 */
#include "config.h"

#include <errno.h>
#include <libintl.h>
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
#include "pamtest_ldap.h"
#include "syslog_sink.h"
#include "testutil.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define LOGINS_DEFAULT 1000
#define LOGINS_MIN 100
#define LOGINS_MAX 100000
#define WARMUP 40
#define HEAP_WARMUP 200
#define KINDS 20
#define SUCCESS_USERS 5
#define FD_LIST_MAX 8192
/* Set when this run is without malloc's per-thread cache (rerun_without_tcache()). */
#define TCACHE_OFF "MFAUTH_LONGLIVED_TCACHE_OFF"

struct fixture {
	struct pt_sandbox sb;
	struct hu_module mod;
	int logins; /* how many this run makes */
	int sink;
	long lines;        /* syslog lines received */
	char (*codes)[16]; /* codes[i]: the code at iteration i */
};

/* MFAUTH_LONGLIVED_LOGINS, or the default. */
static int logins_wanted(void)
{
	const char *s = getenv("MFAUTH_LONGLIVED_LOGINS");
	char *end = NULL;
	long n;

	if (s == NULL)
		return LOGINS_DEFAULT;
	n = strtol(s, &end, 10);
	if (end == s || *end != '\0' || n < LOGINS_MIN || n > LOGINS_MAX)
		fail_msg("MFAUTH_LONGLIVED_LOGINS=%s: want %d..%d", s, LOGINS_MIN, LOGINS_MAX);
	return (int)n;
}

/* dave's record is not a record; erin's record has no state. */
static void break_dave_and_erin(struct fixture *f)
{
	char path[256];

	if (ptl_enabled()) {
		ptl_value_set(&f->sb, "dave", PTL_RECORD, "not a record", 12);
		ptl_value_drop(&f->sb, "erin", PTL_STATE);
		return;
	}
	snprintf(path, sizeof(path), "%s/store/dave.rec", f->sb.dir);
	tu_write_file(path, "not a record", 12, 0600);
	snprintf(path, sizeof(path), "%s/store/erin.state", f->sb.dir);
	assert_int_equal(unlink(path), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char user[32];

	assert_non_null(f);
	f->logins = logins_wanted();
	/* The directory's TLS checks the rig's certificates against this clock too (two days). */
	pt_fake_now = ptl_enabled() ? (ptl_wall_clock() / 30 + 1) * 30 : 1800000000;
	/* fail_interval shorter than the clock's stride: bob's failures never pile up. */
	pt_setup(&f->sb, "deny = 5\nunlock_time = 0\nfail_interval = 60\n");
	pt_service(&f->sb, "mfa", "auth required @MFA lang=ja\naccount required @MFA lang=ja\n");
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
	pt_enroll(&f->sb, "erin", SEED, "sha1", 6, 30);
	break_dave_and_erin(f);
	hu_enroll_card_only(&f->sb, "frank");
	f->codes = calloc((size_t)f->logins + 1, sizeof(*f->codes));
	assert_non_null(f->codes);
	hu_codes(SEED, pt_fake_now, (size_t)f->logins + 1, f->codes);
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

/*
 * Kind 19's store trouble, made (on) and undone: the key gone, or the store
 * directory writable by all; on the directory, the key gone, a wrong bind
 * password (bind refused after TLS) or nothing listening.
 */
static void store_trouble(struct fixture *f, int i, bool on)
{
	char key[256], moved[256], dir[256];
	int which = (i / KINDS) % (ptl_enabled() ? 3 : 2);
	struct ptl_terminal t = { NULL };

	snprintf(key, sizeof(key), "%s/store.key", f->sb.dir);
	snprintf(moved, sizeof(moved), "%s/store.key.away", f->sb.dir);
	snprintf(dir, sizeof(dir), "%s/store", f->sb.dir);
	if (which == 0) {
		rename_or_fail(on ? key : moved, on ? moved : key);
	} else if (!ptl_enabled()) {
		assert_int_equal(chmod(dir, on ? 0777 : 0700), 0);
	} else {
		if (on && which == 1)
			t.password = "not-the-terminal-password";
		if (on && which == 2)
			t.uri = ptl_env("MFAUTH_TEST_LDAP_CLOSED_URI");
		ptl_terminal_conf(&f->sb, &t);
	}
}

/* One login (two for kind 17); *count gets how many. */
static void login(struct fixture *f, int k, int i, int *count)
{
	char user[32], wrong[16];
	struct plan p;
	int rc;

	*count = 1;
	plan_login(f, k, i, &p, user, wrong);
	if (k == 19)
		store_trouble(f, i, true);
	rc = run_plan(f, &p);
	if (k == 19)
		store_trouble(f, i, false);
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
	/* The heap is measured from HEAP_WARMUP on, over most of the run, without the cache. */
	bool check_heap = getenv(TCACHE_OFF) != NULL && f->logins >= 4 * HEAP_WARMUP;
	size_t heap_warm = 0, heap_end;
	int logins = 0, n_before, n_warm = -1, n_after;
	struct pt_conv c;

	n_before = hu_fd_list(before, sizeof(before));
	assert_true(n_before > 0);
	for (int i = 0; logins < f->logins; i++) {
		int made = 0;

		assert_true(i < f->logins);
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
	printf("# %d logins on the %s store; descriptors: %d at start, %d after warm-up, "
	       "%d at the end; %ld syslog lines\n",
	    logins, ptl_enabled() ? "directory (ldap)" : "files", n_before, n_warm, n_after,
	    f->lines);
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
	assert_true(f->lines >= f->logins);
	if (check_heap) {
		printf("# heap in use after %d logins %zu bytes, at the end %zu bytes\n",
		    HEAP_WARMUP, heap_warm, heap_end);
		/* Not a byte: without malloc's cache (main()) the figure is exact. */
		if (heap_end != heap_warm)
			fail_msg("heap grew by %zu bytes over %d logins", heap_end - heap_warm,
			    f->logins - HEAP_WARMUP);
	} else {
		printf("# heap growth not measured (ASan, valgrind, malloc's cache on, or fewer "
		       "than %d logins)\n",
		    4 * HEAP_WARMUP);
	}
	/* The state is what the mix says: bob's old failures expired, carol still locked. */
	assert_int_equal(pt_failures(&f->sb, "bob"), 1);
	assert_int_equal(pt_failures(&f->sb, "carol"), 5);
	/* The stack's prompt was Japanese all along (lang=ja; the host is in C). */
	memset(&c, 0, sizeof(c));
	c.reply = "000000";
	assert_int_equal(hu_stack_auth(&f->sb, "mfa", "carol", &c), PAM_AUTH_ERR);
	assert_string_equal(c.last_prompt, "確認コード: ");
}

/*
 * glibc's per-thread malloc cache keeps freed chunks that mallinfo2() counts
 * as in use, so with it the heap figure wanders by kilobytes as the mix of
 * block sizes changes (libldap's and GnuTLS's most), and a bound on growth
 * has to be loose.  Without it the figure is exact and steady from the
 * first logins on: run again without it (a tunable read only at start-up),
 * marked by TCACHE_OFF.  Not under ASan or valgrind, whose malloc is their
 * own (and the heap is not measured there).
 */
static int rerun_without_tcache(char **argv)
{
	const char *old = getenv("GLIBC_TUNABLES");
	char tunables[512];

	if (getenv(TCACHE_OFF) != NULL || hu_asan_build() ||
	    getenv("MFAUTH_UNDER_VALGRIND") != NULL)
		return 0;
	snprintf(tunables, sizeof(tunables), "%s%sglibc.malloc.tcache_count=0", old ? old : "",
	    old ? ":" : "");
	if (setenv("GLIBC_TUNABLES", tunables, 1) != 0 || setenv(TCACHE_OFF, "1", 1) != 0)
		return -1;
	execv("/proc/self/exe", argv);
	fprintf(stderr, "cannot run again without malloc's cache: %s\n", strerror(errno));
	return -1;
}

static char catalogs[512];

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thousand_logins, setup, teardown),
	};
	(void)argc;
	if (rerun_without_tcache(argv) != 0)
		return 1;
	tu_require_root();
	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private /dev/log: %s\n", sink_error());
		return 1;
	}
	/* No pcscd for this process: the card user falls back to the code prompt. */
	if (setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/mfauth-test/pcscd.comm", 1) != 0)
		return 1;
	/* The build's Japanese catalog (made by make check), as a host may bind it. */
	snprintf(catalogs, sizeof(catalogs), "%s/tests/locale",
	    getenv("MFAUTH_BUILDDIR") != NULL ? getenv("MFAUTH_BUILDDIR") : ".");
	bindtextdomain("mfauth", catalogs);
	unsetenv("LANGUAGE");
	return cmocka_run_group_tests_name("pam_longlived", tests, NULL, NULL);
}
