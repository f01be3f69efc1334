/*
 * Opening files root may trust: no symlinks, root-owned, nobody else can
 * write or swap anything on the way (doc/DESIGN.md invariant 5; pam_oath
 * CVE-2024-47191 followed a symlink in a user-writable directory).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/safefile.h"

/* mfa_read_fd_all() starts with this much and doubles up to what max allows. */
#define READ_CHUNK 4096

static int path_fail(struct mfa_path_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill in err (if any) and return code. */
static int path_fail(struct mfa_path_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/*
 * A directory on the way: root-owned, and not writable by others unless
 * sticky.  The final directory of a path (final) may not be writable by
 * others at all, sticky or not.
 */
static int check_dir(int fd, bool final, const char *shown, struct mfa_path_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return path_fail(err, MFA_ERR_IO, "%s: cannot stat: %s", shown, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return path_fail(err, MFA_ERR_UNSAFE, "%s: not a directory", shown);
	if (st.st_uid != 0)
		return path_fail(err, MFA_ERR_UNSAFE, "%s: directory not owned by root", shown);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (final || (st.st_mode & S_ISVTX) == 0))
		return path_fail(err, MFA_ERR_UNSAFE, "%s: directory writable by group or others",
		    shown);
	return 0;
}

int mfa_check_trusted_fd(int fd, mode_t max_mode, const char *what, struct mfa_path_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return path_fail(err, MFA_ERR_IO, "%s: cannot stat: %s", what, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return path_fail(err, MFA_ERR_UNSAFE, "%s: not a regular file", what);
	if (st.st_uid != 0)
		return path_fail(err, MFA_ERR_UNSAFE, "%s: not owned by root", what);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return path_fail(err, MFA_ERR_UNSAFE, "%s: writable by group or others", what);
	if (max_mode != 0 && (st.st_mode & 07777 & ~max_mode) != 0)
		return path_fail(err, MFA_ERR_UNSAFE, "%s: mode too open (want %s)", what,
		    max_mode == 0600 ? "0600 or 0400" : "tighter");
	if (st.st_nlink != 1)
		return path_fail(err, MFA_ERR_UNSAFE, "%s: has more than one hard link", what);
	return 0;
}

/* "/", checked as the first directory of a path (or as its final one). */
static int open_root(bool final, struct mfa_path_error *err)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return path_fail(err, MFA_ERR_IO, "/: %s", strerror(errno));
	if ((rc = check_dir(fd, final, "/", err)) != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int mfa_open_trusted_at(int dirfd, const char *name, int flags, bool want_dir, mode_t max_mode,
    const char *path, struct mfa_path_error *err)
{
	/*
	 * O_NONBLOCK so a FIFO planted on the path cannot hang the host process.
	 * It stays set: what is returned is a regular file or a directory, whose
	 * reads, writes and flock() it does not change.
	 */
	int fd = openat(dirfd, name,
	    flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (want_dir ? O_DIRECTORY : 0));
	int rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return path_fail(err, MFA_ERR_NOENT, "%s: does not exist", path);
		if (errno == ELOOP)
			return path_fail(err, MFA_ERR_UNSAFE, "%s: is a symbolic link", path);
		if (errno == ENOTDIR && want_dir)
			return path_fail(err, MFA_ERR_UNSAFE, "%s: not a directory", path);
		return path_fail(err, MFA_ERR_IO, "%s: %s", path, strerror(errno));
	}
	rc = want_dir ? check_dir(fd, true, path, err) :
	                mfa_check_trusted_fd(fd, max_mode, path, err);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * The directory that holds a file root trusts (a key, the config): only
 * root may write in it, sticky or not.  A sticky world-writable directory
 * keeps others from replacing the file, but not from creating names beside
 * it: KEY_FILE.new planted by anyone made every login fail.
 */
static int check_holder(int fd, const char *path, const char *comp_end, struct mfa_path_error *err)
{
	struct stat st;
	int len = (int)(comp_end - path);

	if (fstat(fd, &st) != 0)
		return path_fail(err, MFA_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return 0;
	if (len <= 0)
		len = 1; /* "/" */
	return path_fail(err, MFA_ERR_UNSAFE,
	    "%.*s: the directory holding %s is writable by "
	    "group or others (mode %04o), sticky or not: anyone could create files beside it; "
	    "move the file or chmod go-w the directory",
	    len, path, path, (unsigned)(st.st_mode & 07777));
}

static int open_parent(const char *path, char name[NAME_MAX + 1], bool strict,
    struct mfa_path_error *err);

int mfa_open_trusted_parent(const char *path, char name[NAME_MAX + 1], struct mfa_path_error *err)
{
	return open_parent(path, name, true, err);
}

static int open_parent(const char *path, char name[NAME_MAX + 1], bool strict,
    struct mfa_path_error *err)
{
	const char *holder_end = path;
	char shown[2 * PATH_MAX + 32];
	char copy[PATH_MAX];
	char *comp, *next, *save = NULL;
	int dirfd, rc;

	if (path == NULL || path[0] != '/')
		return path_fail(err, MFA_ERR_UNSAFE, "%s: not an absolute path",
		    path ? path : "(null)");
	if (strlen(path) >= sizeof(copy))
		return path_fail(err, MFA_ERR_INVAL, "path too long (%zu bytes)", strlen(path));
	strcpy(copy, path);

	if ((dirfd = open_root(false, err)) < 0)
		return dirfd;
	comp = strtok_r(copy, "/", &save);
	if (comp == NULL) {
		rc = path_fail(err, MFA_ERR_UNSAFE, "/: has no parent to open");
		goto fail;
	}
	for (;;) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			rc = path_fail(err, MFA_ERR_UNSAFE, "%s: '.' or '..' in path", path);
			goto fail;
		}
		if (next == NULL)
			break;
		int fd = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = path_fail(err, errno == ENOENT ? MFA_ERR_NOENT : MFA_ERR_UNSAFE,
			    "%s: directory on the path is missing, a symlink or not a directory (%s)",
			    path, strerror(errno));
			goto fail;
		}
		close(dirfd);
		dirfd = fd;
		holder_end = path + (comp - copy) + strlen(comp);
		/* Name the directory that fails, and the path it is on. */
		snprintf(shown, sizeof(shown), "%.*s (on the path of %s)", (int)(holder_end - path),
		    path, path);
		if ((rc = check_dir(dirfd, false, shown, err)) != 0)
			goto fail;
		comp = next;
	}
	if (strict && (rc = check_holder(dirfd, path, holder_end, err)) != 0)
		goto fail;
	if (strlen(comp) > NAME_MAX) {
		rc = path_fail(err, MFA_ERR_IO, "%s: %s", path, strerror(ENAMETOOLONG));
		goto fail;
	}
	strcpy(name, comp);
	return dirfd;
fail:
	close(dirfd);
	return rc;
}

int mfa_open_trusted(const char *path, int flags, bool want_dir, struct mfa_path_error *err)
{
	char name[NAME_MAX + 1];
	int dirfd, rc;

	/* "/" itself (or "//"): there is no parent to walk from. */
	if (path != NULL && path[0] == '/' && path[strspn(path, "/")] == '\0')
		return want_dir ? open_root(true, err) :
		                  path_fail(err, MFA_ERR_UNSAFE, "/: not a file");
	/* A directory's own parent may be sticky (like /tmp); a file's may not. */
	if ((dirfd = open_parent(path, name, !want_dir, err)) < 0)
		return dirfd;
	rc = mfa_open_trusted_at(dirfd, name, flags, want_dir, 0, path, err);
	close(dirfd);
	return rc;
}

/* Move buf into a new buffer of ncap bytes, wiping the old one (it may hold a secret). */
static int grow_wiped(char **buf, size_t len, size_t *cap, size_t ncap)
{
	char *bigger = malloc(ncap);

	if (bigger == NULL)
		return MFA_ERR_NOMEM;
	memcpy(bigger, *buf, len);
	mfa_wipe(*buf, *cap);
	free(*buf);
	*buf = bigger;
	*cap = ncap;
	return 0;
}

int mfa_read_fd_all(int fd, size_t max, char **out, size_t *outlen)
{
	/* Room for max + 1 bytes (one more than allowed shows a file too long) and the NUL. */
	size_t len = 0, cap, limit;
	char *buf;
	int rc = MFA_ERR_IO, saved;

	if (max > SIZE_MAX - 2)
		return MFA_ERR_RANGE;
	limit = max + 2;
	cap = limit < READ_CHUNK ? limit : READ_CHUNK;
	if ((buf = malloc(cap)) == NULL)
		return MFA_ERR_NOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap - 1 &&
		    (rc = grow_wiped(&buf, len, &cap, cap > limit / 2 ? limit : cap * 2)) != 0)
			goto fail;
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = MFA_ERR_IO;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = MFA_ERR_RANGE;
			goto fail;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	saved = errno; /* the caller may say why a read failed */
	mfa_wipe(buf, cap);
	free(buf);
	errno = saved;
	return rc;
}

/* A temp file name: prefix and 16 random hex digits. */
static int temp_name(const char *prefix, char *out, size_t outlen)
{
	uint8_t rnd[8];
	int n;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return MFA_ERR_CRYPTO;
	n = snprintf(out, outlen, "%s%02x%02x%02x%02x%02x%02x%02x%02x", prefix, rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	return n < 0 || (size_t)n >= outlen ? MFA_ERR_RANGE : 0;
}

int mfa_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
    const struct mfa_write_opts *o, struct mfa_path_error *err)
{
	const char *what = o->path != NULL ? o->path : name;
	char tmp[NAME_MAX + 1];
	int fd, rc;

	if ((rc = temp_name(o->tmp_prefix, tmp, sizeof(tmp))) != 0)
		return path_fail(err, rc, "%s: no temp file name", what);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, o->mode);
	if (fd < 0)
		return path_fail(err, MFA_ERR_IO, "%s: %s", what, strerror(errno));
	/* The mode exactly, whatever the umask. */
	if (fchmod(fd, o->mode) != 0 || mfa_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = path_fail(err, MFA_ERR_IO, "%s: cannot write: %s", what, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if ((o->noreplace ? renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) :
	                    renameat(dirfd, tmp, dirfd, name)) != 0) {
		rc = errno == EEXIST && o->noreplace ? MFA_ERR_EXISTS : MFA_ERR_IO;
		rc = path_fail(err, rc, "%s: %s", what, strerror(errno));
		goto fail;
	}
	if (fsync(dirfd) != 0)
		return path_fail(err, MFA_ERR_IO, "%s: cannot sync: %s", what, strerror(errno));
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return rc;
}

int mfa_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MFA_ERR_IO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int mfa_pread_all(int fd, void *p, size_t n, off_t off, size_t *got)
{
	char *c = p;
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, c + done, n - done, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return MFA_ERR_IO;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

int mfa_path_parent(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');

	/* outlen >= 2: room for "/" and its NUL when the parent is the root. */
	if (slash == NULL || outlen < 2 || (size_t)(slash - path) >= outlen)
		return MFA_ERR_INVAL;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	if (out[0] == '\0')
		strcpy(out, "/");
	return 0;
}
