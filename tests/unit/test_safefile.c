/*
 * Unit tests for lib/safefile.c: opening files root may trust (doc/DESIGN.md
 * invariant 5), in one call (mfa_open_trusted) and in two, a directory then
 * files in it (mfa_open_trusted_parent + mfa_open_trusted_at), which the
 * store uses to load the key and the next key with one walk; reading a
 * whole file (mfa_read_fd_all) at and around its limit, across the
 * buffer's growth; the one atomic writer (mfa_write_atomic_at).
 *
 * Every test builds its tree in a fresh root-owned directory under /tmp
 * (itself sticky and world-writable: a directory on the way that is allowed).
 * Must run as root.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mfauth/err.h"
#include "mfauth/safefile.h"
#include "testutil.h"

#define NOBODY 65534

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	assert_int_equal(chmod(dir, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	free(dir);
	return 0;
}

/* dir/rel, in one of two static buffers (so that two may be passed to one call). */
static const char *at(const char *rel)
{
	static char buf[2][PATH_MAX];
	static int next;
	char *b = buf[next];

	next = 1 - next;
	snprintf(b, PATH_MAX, "%s/%s", dir, rel);
	return b;
}

static void mkdir_mode(const char *rel, mode_t mode)
{
	assert_int_equal(mkdir(at(rel), mode), 0);
	assert_int_equal(chmod(at(rel), mode), 0);
}

/* mfa_open_trusted on dir/rel: the fd closed again, or the error. */
static int try_open(const char *rel, bool want_dir, struct mfa_path_error *err)
{
	int fd = mfa_open_trusted(at(rel), O_RDONLY, want_dir, err);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return fd;
}

static void test_good_file_and_dir(void **state)
{
	struct mfa_path_error err;
	char buf[16];
	int fd;

	(void)state;
	mkdir_mode("etc", 0755);
	tu_write_file(at("etc/conf"), "key=value\n", 10, 0600);
	fd = mfa_open_trusted(at("etc/conf"), O_RDONLY, false, &err);
	assert_true(fd >= 0);
	/* O_NONBLOCK stays set on what is returned; a regular file reads as usual. */
	assert_true((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 10);
	close(fd);
	assert_int_equal(try_open("etc", true, &err), 0);
	assert_int_equal(try_open("etc/", true, &err), 0);
	assert_int_equal(try_open("etc//conf", false, &err), 0);
}

/*
 * Security review, finding 8b: the directory holding a trusted file (key,
 * config) may not be writable by others even when sticky -- anyone could
 * create KEY_FILE.new beside the key.  The error names that directory.
 * Directories further up may be sticky (like /tmp), and so may a
 * directory's own parent.
 */
static void test_holder_not_world_writable(void **state)
{
	static const mode_t modes[] = { 01777, 0777, 01770, 0775, 01733 };
	struct mfa_path_error err;
	char name[NAME_MAX + 1], want[2 * PATH_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		mkdir_mode("holder", modes[i]);
		tu_write_file(at("holder/store.key"), "k", 1, 0400);
		/* Sticky: refused as the holder; not sticky: already on the way there. */
		snprintf(want, sizeof(want),
		    (modes[i] & 01000) ? "%s: the directory holding %s" :
		                         "%s (on the path of %s): directory writable",
		    at("holder"), at("holder/store.key"));
		memset(&err, 0, sizeof(err));
		assert_int_equal(mfa_open_trusted_parent(at("holder/store.key"), name, &err),
		    MFA_ERR_UNSAFE);
		if (strstr(err.msg, want) == NULL)
			fail_msg("mode %04o: message does not name the directory: %s",
			    (unsigned)modes[i], err.msg);
		/* The config is opened in one call: the same rule. */
		assert_int_equal(try_open("holder/store.key", false, &err), MFA_ERR_UNSAFE);
		assert_non_null(strstr(err.msg, want));
		unlink(at("holder/store.key"));
		rmdir(at("holder"));
	}
	/* A sticky directory further up is fine; so is a directory's sticky parent. */
	mkdir_mode("tmp", 01777);
	mkdir_mode("tmp/etc", 0755);
	tu_write_file(at("tmp/etc/mfauth.conf"), "x", 1, 0600);
	assert_int_equal(try_open("tmp/etc/mfauth.conf", false, &err), 0);
	assert_int_equal(try_open("tmp/etc", true, &err), 0);
}

/* The directory is opened as one holding files; files in it are checked in full. */
static void test_parent_then_files(void **state)
{
	struct mfa_path_error err;
	char name[NAME_MAX + 1];
	int dfd, fd;

	(void)state;
	mkdir_mode("keys", 0755);
	tu_write_file(at("keys/store.key"), "k", 1, 0400);
	tu_write_file(at("keys/loose.key"), "k", 1, 0644);
	dfd = mfa_open_trusted_parent(at("keys/store.key"), name, &err);
	assert_true(dfd >= 0);
	assert_string_equal(name, "store.key");
	fd = mfa_open_trusted_at(dfd, name, O_RDONLY, false, 0600, at("keys/store.key"), &err);
	assert_true(fd >= 0);
	close(fd);
	/* max_mode: 0644 is more than a key may have. */
	assert_int_equal(mfa_open_trusted_at(dfd, "loose.key", O_RDONLY, false, 0600,
	                     at("keys/loose.key"), &err),
	    MFA_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "mode too open"));
	assert_int_equal(mfa_open_trusted_at(dfd, "missing", O_RDONLY, false, 0, at("keys/missing"),
	                     &err),
	    MFA_ERR_NOENT);
	close(dfd);
	/* A sticky directory as the final one of a path is refused. */
	assert_int_equal(chmod(at("keys"), 01777), 0);
	assert_int_equal(try_open("keys", true, &err), MFA_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	assert_int_equal(chmod(at("keys"), 0755), 0);
	/* A trailing slash is not part of the name. */
	dfd = mfa_open_trusted_parent(at("keys/"), name, &err);
	assert_true(dfd >= 0);
	assert_string_equal(name, "keys");
	close(dfd);
}

static void test_unsafe_paths(void **state)
{
	struct mfa_path_error err;
	int fd;

	(void)state;
	mkdir_mode("open", 0777);
	tu_write_file(at("open/f"), "x", 1, 0600);
	assert_int_equal(try_open("open/f", false, &err), MFA_ERR_UNSAFE);

	mkdir_mode("real", 0755);
	tu_write_file(at("real/f"), "x", 1, 0600);
	assert_int_equal(symlink("real", at("link")), 0);
	assert_int_equal(try_open("link/f", false, &err), MFA_ERR_UNSAFE);
	assert_int_equal(symlink("f", at("real/lf")), 0);
	assert_int_equal(try_open("real/lf", false, &err), MFA_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "symbolic link"));

	assert_int_equal(try_open("real/../real/f", false, &err), MFA_ERR_UNSAFE);
	assert_int_equal(try_open("real/./f", false, &err), MFA_ERR_UNSAFE);
	assert_int_equal(mfa_open_trusted("real/f", O_RDONLY, false, &err), MFA_ERR_UNSAFE);
	assert_int_equal(mfa_open_trusted(NULL, O_RDONLY, false, &err), MFA_ERR_UNSAFE);

	tu_write_file(at("real/other"), "x", 1, 0600);
	assert_int_equal(chown(at("real/other"), NOBODY, NOBODY), 0);
	assert_int_equal(try_open("real/other", false, &err), MFA_ERR_UNSAFE);
	assert_int_equal(link(at("real/f"), at("real/f2")), 0);
	assert_int_equal(try_open("real/f", false, &err), MFA_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "more than one hard link"));

	mkdir_mode("users", 0755);
	assert_int_equal(chown(at("users"), NOBODY, NOBODY), 0);
	tu_write_file(at("users/f"), "x", 1, 0600);
	assert_int_equal(try_open("users/f", false, &err), MFA_ERR_UNSAFE);

	/* A FIFO where a file belongs: refused at once, never waited on. */
	assert_int_equal(mkfifo(at("real/fifo"), 0600), 0);
	fd = mfa_open_trusted(at("real/fifo"), O_RDONLY, false, &err);
	assert_int_equal(fd, MFA_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

static void test_missing_and_odd(void **state)
{
	struct mfa_path_error err;
	char name[NAME_MAX + 1], longname[NAME_MAX + 8];
	int fd;

	(void)state;
	assert_int_equal(try_open("nothing", false, &err), MFA_ERR_NOENT);
	assert_int_equal(try_open("no/dir/f", false, &err), MFA_ERR_NOENT);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mfa_open_trusted_parent(at(longname), name, &err), MFA_ERR_IO);
	assert_non_null(strstr(err.msg, "too long"));

	fd = mfa_open_trusted("/", O_RDONLY, true, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mfa_open_trusted("//", O_RDONLY, false, &err), MFA_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "not a file"));
	assert_int_equal(mfa_open_trusted_parent("/", name, &err), MFA_ERR_UNSAFE);
}

/* Bytes 0..n-1 of a pattern, written to dir/rel. */
static void pattern_file(const char *rel, size_t n)
{
	uint8_t *b = malloc(n + 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)('a' + i % 26);
	tu_write_file(at(rel), b, n, 0600);
	free(b);
}

/* mfa_read_fd_all of dir/rel with max; the bytes checked against the pattern. */
static int read_all(const char *rel, size_t max, size_t *len)
{
	char *out = NULL;
	int fd = open(at(rel), O_RDONLY | O_CLOEXEC), rc;

	assert_true(fd >= 0);
	*len = 0;
	rc = mfa_read_fd_all(fd, max, &out, len);
	close(fd);
	if (rc == 0) {
		assert_int_equal(out[*len], '\0');
		for (size_t i = 0; i < *len; i++)
			assert_int_equal(out[i], 'a' + i % 26);
		free(out);
	} else {
		assert_null(out);
	}
	return rc;
}

static void test_read_fd_all_limits(void **state)
{
	/* Around the first buffer (4096), its doublings, and max itself. */
	/* clang-format off */
	static const struct { size_t size, max; int rc; } cases[] = {
		{ 0, 0, 0 }, { 1, 0, MFA_ERR_RANGE }, { 10, 10, 0 }, { 11, 10, MFA_ERR_RANGE },
		{ 4094, 5000, 0 }, { 4095, 5000, 0 }, { 4096, 5000, 0 }, { 4097, 5000, 0 },
		{ 8190, 8190, 0 }, { 8191, 8190, MFA_ERR_RANGE }, { 20000, 100000, 0 },
		{ 100001, 100000, MFA_ERR_RANGE }, { 4095, 4094, MFA_ERR_RANGE },
	};
	/* clang-format on */
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pattern_file("f", cases[i].size);
		assert_int_equal(read_all("f", cases[i].max, &len), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(len, cases[i].size);
		assert_int_equal(unlink(at("f")), 0);
	}
}

static size_t count_prefixed(const char *prefix)
{
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void test_write_atomic(void **state)
{
	struct mfa_write_opts o = { ".tmp.", 0640, false, NULL };
	struct mfa_path_error err;
	struct stat st;
	size_t len = 0;
	uint8_t *back;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mode_t old = umask(0077);

	(void)state;
	assert_true(dfd >= 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(mfa_write_atomic_at(dfd, "x", "one", 3, &o, &err), 0);
	assert_int_equal(stat(at("x"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* exactly, despite the umask */
	assert_int_equal(mfa_write_atomic_at(dfd, "x", "two!", 4, &o, &err), 0);
	back = tu_read_file(at("x"), &len);
	assert_int_equal(len, 4);
	assert_memory_equal(back, "two!", 4);
	free(back);
	/* noreplace: the file stays, the temp file goes, the error names path. */
	o.noreplace = true;
	o.path = "/the/key";
	assert_int_equal(mfa_write_atomic_at(dfd, "x", "three", 5, &o, &err), MFA_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "/the/key"));
	back = tu_read_file(at("x"), &len);
	assert_int_equal(len, 4);
	free(back);
	assert_int_equal(mfa_write_atomic_at(dfd, "y", "new", 3, &o, NULL), 0);
	assert_int_equal(count_prefixed(".tmp."), 0);
	/* A directory where the file belongs: the rename fails, nothing is left behind. */
	mkdir_mode("z", 0700);
	o.noreplace = false;
	assert_int_equal(mfa_write_atomic_at(dfd, "z", "x", 1, &o, &err), MFA_ERR_IO);
	assert_int_equal(count_prefixed(".tmp."), 0);
	umask(old);
	close(dfd);
}

/* The key's directory, from the configured path (the store's init and the key's rotation). */
static void test_path_parent(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(mfa_path_parent("/etc/mfauth/store.key", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/mfauth");
	assert_int_equal(mfa_path_parent("/store.key", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(mfa_path_parent("store.key", out, sizeof(out)), MFA_ERR_INVAL);
	/* The parent must fit with its NUL: 15 bytes do, 16 do not. */
	assert_int_equal(mfa_path_parent("/aaaaaaaaaaaaaa/k", out, sizeof(out)), 0);
	assert_string_equal(out, "/aaaaaaaaaaaaaa");
	assert_int_equal(mfa_path_parent("/aaaaaaaaaaaaaaa/k", out, sizeof(out)), MFA_ERR_INVAL);
	/* The root as parent needs two bytes ("/" and its NUL): one is refused, nothing written past it. */
	out[0] = 'x';
	out[1] = 'y';
	assert_int_equal(mfa_path_parent("/store.key", out, 1), MFA_ERR_INVAL);
	assert_int_equal(out[1], 'y');
	assert_int_equal(mfa_path_parent("/store.key", out, 2), 0);
	assert_string_equal(out, "/");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file_and_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_then_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holder_not_world_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_odd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_fd_all_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
		cmocka_unit_test(test_path_parent),
	};

	tu_require_root();
	return cmocka_run_group_tests_name("safefile", tests, NULL, NULL);
}
