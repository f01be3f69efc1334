/*
 * A full disk under the store.
 *
 * The store sits on a small tmpfs of its own (a private mount namespace,
 * made with the /dev/log sink's; nothing is mounted on the host), which the
 * test fills with a file of its own, by pages and by inodes.  What that does:
 *
 *  - A login writes the user's state in place (pwrite into the existing
 *    1 KiB file, then fdatasync): it needs no new block, so on a full disk
 *    logins go on working, and wrong codes go on being counted and locking.
 *    Filling the disk (/var/log shares it on many systems) neither locks
 *    everybody out nor switches the lockout off.
 *  - Enrollment writes a temp file and renames it: that fails cleanly
 *    (no temp file left, no half record, the old record still good).
 *
 * Where an in-place write can need space after all (copy-on-write file
 * systems such as btrfs or ZFS, thin-provisioned or network storage, where
 * fdatasync can report ENOSPC or EIO), the login must fail closed.  tmpfs
 * cannot produce that failure, so the test binary interposes pwrite() and
 * fdatasync() (it exports them, like time(): the module's calls bind here)
 * and makes them fail on demand.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "hardutil.h"
#include "pamtest.h"
#include "syslog_sink.h"
#include "testutil.h"
#include "mfauth/err.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define SEED2 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
/* 32 pages and 24 inodes: a few users' files, and quick to fill. */
#define STORE_MOUNT_OPTS "size=128k,nr_inodes=24,mode=0700,uid=0,gid=0"

/* --- failures on demand: the module's pwrite() and fdatasync() land here --- */

static int fail_pwrite;    /* errno to fail pwrite() with, 0 = pass through */
static int fail_fdatasync; /* the same for fdatasync() */
static int pwrite_calls, fdatasync_calls;

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	pwrite_calls++;
	if (fail_pwrite != 0) {
		errno = fail_pwrite;
		return -1;
	}
	return (ssize_t)syscall(SYS_pwrite64, fd, buf, n, off);
}

int fdatasync(int fd)
{
	fdatasync_calls++;
	if (fail_fdatasync != 0) {
		errno = fail_fdatasync;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

/* --- the fixture ---------------------------------------------------------- */

struct fixture {
	struct pt_sandbox sb;
	struct hu_module mod;
	char store[160];
	bool mounted;
	int sink;
	char log[8192];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pt_fake_now = 1800000000;
	pt_setup(&f->sb, "deny = 3\nunlock_time = 600\nfail_interval = 900\n");
	snprintf(f->store, sizeof(f->store), "%s/store", f->sb.dir);
	if (mount("mfauth-full", f->store, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	        STORE_MOUNT_OPTS) != 0)
		fail_msg("mount tmpfs on %s: %s", f->store, strerror(errno));
	f->mounted = true;
	pt_enroll(&f->sb, "alice", SEED, "sha1", 6, 30);
	pt_enroll(&f->sb, "bob", SEED, "sha1", 6, 30);
	hu_module_open(&f->mod, &f->sb);
	if ((f->sink = sink_open()) < 0)
		fail_msg("sink: %s", sink_error());
	fail_pwrite = fail_fdatasync = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fail_pwrite = fail_fdatasync = 0;
	sink_close(f->sink);
	hu_module_close(&f->mod);
	if (f->mounted && umount2(f->store, MNT_DETACH) != 0)
		fprintf(stderr, "umount %s: %s\n", f->store, strerror(errno));
	pt_teardown(&f->sb);
	free(f);
	return 0;
}

/* Fill the store's file system with pages of .fill until it refuses one. */
static void fill_pages(struct fixture *f)
{
	char path[256], page[4096];
	int fd;

	memset(page, 0x5a, sizeof(page));
	snprintf(path, sizeof(path), "%s/.fill", f->store);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0);
	for (;;) {
		ssize_t w = write(fd, page, sizeof(page));
		if (w < 0 && errno == ENOSPC)
			break;
		if (w <= 0)
			fail_msg("fill: %s", strerror(errno));
	}
	close(fd);
}

/* Use up every inode with empty files .i0, .i1, ... */
static void fill_inodes(struct fixture *f)
{
	char path[256];
	int fd;

	for (int i = 0;; i++) {
		assert_true(i < 1000);
		snprintf(path, sizeof(path), "%s/.i%d", f->store, i);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			assert_int_equal(errno, ENOSPC);
			return;
		}
		close(fd);
	}
}

/* Space returns: remove every file the test made to fill the disk. */
static void unfill(struct fixture *f)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(f->store);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".fill") != 0 && strncmp(de->d_name, ".i", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->store, de->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
}

/* Names in the store other than the filler; fails on a temp file left behind. */
static int store_files(struct fixture *f, const char *user)
{
	struct dirent *de;
	DIR *d = opendir(f->store);
	size_t ulen = strlen(user);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".tmp", 4) == 0)
			fail_msg("temp file left in the store: %s", de->d_name);
		if (strncmp(de->d_name, user, ulen) == 0 && de->d_name[ulen] == '.')
			n++;
	}
	closedir(d);
	return n;
}

static void collect(struct fixture *f)
{
	char line[2048];
	size_t len;

	f->log[0] = '\0';
	while (sink_recv(f->sink, line, sizeof(line), 30) > 0) {
		len = strlen(f->log);
		snprintf(f->log + len, sizeof(f->log) - len, "%s\n", line);
	}
}

static void assert_logged(struct fixture *f, const char *fragment)
{
	if (strstr(f->log, fragment) == NULL)
		fail_msg("no '%s' in the audit lines:\n%s", fragment, f->log);
}

static int login(struct fixture *f, const char *user, const char *code)
{
	struct pt_conv c = { .reply = code };
	int rc;

	sink_drain(f->sink);
	rc = hu_call(&f->mod, &f->sb, user, &c, NULL, false, NULL);
	collect(f);
	return rc;
}

static void code_at(time_t t, char code[16])
{
	pt_code(SEED, "sha1", 6, 30, t, code);
}

static void wrong_code(char code[16])
{
	code_at(pt_fake_now, code);
	code[5] = code[5] == '0' ? '1' : '0';
}

/* Enroll through the core, as `mfauth enroll` does; returns the core's code. */
static int enroll(struct fixture *f, const char *user, const char *seed_b32)
{
	struct mfa_store *store = hu_store_open(&f->sb);
	struct mfa_record rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	rec.created_at = (uint64_t)pt_fake_now;
	rec.totp.present = true;
	assert_int_equal(mfa_base32_decode(seed_b32, rec.totp.secret, sizeof(rec.totp.secret),
	                     &rec.totp.secret_len),
	    0);
	rec.totp.alg = MFA_ALG_SHA1;
	rec.totp.digits = 6;
	rec.totp.period = 30;
	rec.totp.enrolled_at = (uint64_t)pt_fake_now;
	rc = mfa_store_save(store, user, &rec);
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	return rc;
}

/* --- a really full tmpfs ---------------------------------------------------- */

static void test_full_disk_logins_work_and_count(void **state)
{
	struct fixture *f = *state;
	char code[16], wrong[16];

	fill_pages(f);
	/* The right code: in-place state write, no new page needed. */
	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "alice", code), PAM_SUCCESS);
	assert_logged(f, "event=auth result=success user=alice");
	assert_int_equal(login(f, "alice", code), PAM_AUTH_ERR); /* replay */
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
	/* Wrong codes are counted, and lock, while the disk is full. */
	wrong_code(wrong);
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "bob", wrong), PAM_AUTH_ERR);
	assert_logged(f, "event=lock result=locked user=bob");
	assert_int_equal(pt_failures(&f->sb, "bob"), 3);
	assert_int_equal(login(f, "bob", code), PAM_AUTH_ERR);
	assert_logged(f, "result=locked user=bob");
	assert_int_equal(store_files(f, "alice"), 2);
	unfill(f);
	pt_fake_now += 30;
	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "alice", code), PAM_SUCCESS);
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
}

static void test_full_disk_enroll_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	char code[16], newcode[16];

	fill_pages(f);
	/* A new user: nothing of carol's appears, and no temp file stays. */
	assert_int_equal(enroll(f, "carol", SEED2), MFA_ERR_IO);
	assert_int_equal(store_files(f, "carol"), 0);
	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "carol", code), PAM_AUTH_ERR);
	assert_logged(f, "user=carol factor=totp reason=not_enrolled");
	/* Re-enrolling alice with a new seed fails; her old record still works. */
	assert_int_equal(enroll(f, "alice", SEED2), MFA_ERR_IO);
	assert_int_equal(store_files(f, "alice"), 2);
	pt_code(SEED2, "sha1", 6, 30, pt_fake_now, newcode);
	assert_int_equal(login(f, "alice", newcode), PAM_AUTH_ERR);
	assert_int_equal(login(f, "alice", code), PAM_SUCCESS);
	/* Space returns: enrollment works, and so do the logins. */
	unfill(f);
	assert_int_equal(enroll(f, "carol", SEED2), 0);
	pt_fake_now += 30;
	pt_code(SEED2, "sha1", 6, 30, pt_fake_now, newcode);
	assert_int_equal(login(f, "carol", newcode), PAM_SUCCESS);
	assert_int_equal(pt_failures(&f->sb, "carol"), 0);
}

static void test_no_inodes_left(void **state)
{
	struct fixture *f = *state;
	char code[16], wrong[16];

	fill_inodes(f);
	assert_int_equal(enroll(f, "carol", SEED2), MFA_ERR_IO);
	assert_int_equal(store_files(f, "carol"), 0);
	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "alice", code), PAM_SUCCESS);
	wrong_code(wrong);
	assert_int_equal(login(f, "bob", wrong), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(&f->sb, "bob"), 1);
	unfill(f);
	assert_int_equal(enroll(f, "carol", SEED2), 0);
}

/* --- a state write that fails (copy-on-write or thin storage) --------------- */

static void test_state_write_enospc_fails_closed(void **state)
{
	struct fixture *f = *state;
	char code[16], wrong[16];

	code_at(pt_fake_now, code);
	wrong_code(wrong);
	fail_pwrite = ENOSPC;
	pwrite_calls = 0;
	/* The right code: refused, because the new watermark could not be written. */
	assert_int_equal(login(f, "alice", code), PAM_AUTH_ERR);
	assert_true(pwrite_calls > 0);
	assert_logged(f, "event=store_error result=fail user=alice factor=totp reason=io");
	assert_null(strstr(f->log, "result=success"));
	/* A wrong code: refused too, and not counted (nothing could be written). */
	assert_int_equal(login(f, "bob", wrong), PAM_AUTH_ERR);
	assert_logged(f, "event=store_error result=fail user=bob factor=totp reason=io");
	fail_pwrite = 0;
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
	assert_int_equal(pt_failures(&f->sb, "bob"), 0);
	/* Space returns: the same code was not consumed and now works. */
	assert_int_equal(login(f, "alice", code), PAM_SUCCESS);
	assert_int_equal(login(f, "bob", wrong), PAM_AUTH_ERR);
	assert_int_equal(pt_failures(&f->sb, "bob"), 1);
}

static void test_state_sync_fails_closed(void **state)
{
	struct fixture *f = *state;
	char code[16];

	code_at(pt_fake_now, code);
	fail_fdatasync = EIO;
	fdatasync_calls = 0;
	assert_int_equal(login(f, "alice", code), PAM_AUTH_ERR);
	assert_true(fdatasync_calls > 0);
	assert_logged(f, "event=store_error result=fail user=alice factor=totp reason=io");
	fail_fdatasync = 0;
	/*
	 * The write reached the page cache before the sync failed, so the code's
	 * step counts as used: trying it again is a replay.  Refusing is the safe
	 * side (a success that was never reported must not be repeatable); the
	 * clerk waits for the next code.
	 */
	assert_int_equal(login(f, "alice", code), PAM_AUTH_ERR);
	assert_logged(f, "result=replay user=alice");
	assert_int_equal(pt_failures(&f->sb, "alice"), 1);
	pt_fake_now += 30;
	code_at(pt_fake_now, code);
	assert_int_equal(login(f, "alice", code), PAM_SUCCESS);
	assert_int_equal(pt_failures(&f->sb, "alice"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_disk_logins_work_and_count, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_enroll_fails_cleanly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_inodes_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_write_enospc_fails_closed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_sync_fails_closed, setup, teardown),
	};
	tu_require_root();
	/* The private mount namespace (for /dev/log) also keeps the store's tmpfs ours. */
	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private mount namespace: %s\n", sink_error());
		return 1;
	}
	return cmocka_run_group_tests_name("pam_diskfull", tests, NULL, NULL);
}
