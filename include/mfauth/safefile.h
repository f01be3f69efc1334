/*
 * Opening files that root may trust (doc/DESIGN.md invariant 5).
 *
 * A path is trusted when every directory on it is owned by root and either
 * not writable by group/other or sticky (so nobody else can swap the entry we
 * open next), no component is a symlink, and the final object is owned by
 * root, not writable by group/other, of the expected type, with one link.
 * The directory that holds a trusted *file* (the key, the config) may not be
 * writable by group/other at all, sticky or not: anyone could create names
 * beside the file there (KEY_FILE.new made every login fail).  The error
 * names that directory.
 */
#ifndef MFAUTH_SAFEFILE_H
#define MFAUTH_SAFEFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Detail for messages: the component that failed and why. */
struct mfa_path_error {
	char msg[PATH_MAX + 256];
};

/*
 * Open an absolute path safely.  want_dir selects O_DIRECTORY.  flags are
 * extra open flags (O_RDONLY/O_RDWR/...); O_NOFOLLOW|O_CLOEXEC are always
 * added.  Returns a file descriptor (>= 0) or a negative MFA_ERR_*:
 * MFA_ERR_NOENT if the final component does not exist, MFA_ERR_UNSAFE for
 * any ownership/mode/type/link problem, MFA_ERR_IO otherwise.
 */
int mfa_open_trusted(const char *path, int flags, bool want_dir, struct mfa_path_error *err);

/*
 * The same in two steps, for several files in one directory: open the
 * directory that holds path's last component (every directory on the way
 * checked as above; this one, the holder, not writable by group/other even
 * when sticky) and copy that component into name; then open names in it.  path is only
 * for messages there.  max_mode as in mfa_check_trusted_fd().
 */
int mfa_open_trusted_parent(const char *path, char name[NAME_MAX + 1], struct mfa_path_error *err);
int mfa_open_trusted_at(int dirfd, const char *name, int flags, bool want_dir, mode_t max_mode,
    const char *path, struct mfa_path_error *err);

/*
 * Check an open file: regular, owned by root, no group/other write bit, one
 * link.  If max_mode is non-zero, mode bits outside it are also refused
 * (key file: 0600).
 */
int mfa_check_trusted_fd(int fd, mode_t max_mode, const char *what, struct mfa_path_error *err);

/*
 * Read all of fd, at most max bytes, into a NUL-terminated malloc'd buffer
 * (*outlen without the NUL); MFA_ERR_RANGE when fd holds more than max.
 * The buffer grows as it fills, and every buffer left behind (grown out of,
 * or freed on an error) is wiped first: what is read may be a secret (a
 * seed file).  The caller frees *out, wiping it when it held one.  On
 * MFA_ERR_IO errno says why.
 */
int mfa_read_fd_all(int fd, size_t max, char **out, size_t *outlen);

/*
 * The one atomic file writer (the store's records and states, the key):
 * write data to a fresh temp file in dirfd (tmp_prefix and 16 random hex
 * digits, O_EXCL, exactly mode), fsync it, rename it over name (noreplace:
 * MFA_ERR_EXISTS instead of replacing), fsync the directory.  A crash leaves
 * at most a stale temp file, never a partial file under name; a failure
 * before the rename removes the temp file.  path names the target in err's
 * messages (NULL: name); err may be NULL.
 */
struct mfa_write_opts {
	const char *tmp_prefix;
	mode_t mode;
	bool noreplace;
	const char *path;
};
int mfa_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
    const struct mfa_write_opts *o, struct mfa_path_error *err);

/* write()/read() until done or error; EINTR retried. */
/*
 * The directory part of an absolute path ("/a/b" -> "/a", "/a" -> "/"):
 * 0, or MFA_ERR_INVAL for a path without '/' or a parent longer than outlen.
 */
int mfa_path_parent(const char *path, char *out, size_t outlen);
int mfa_write_all(int fd, const void *p, size_t n);
int mfa_pread_all(int fd, void *p, size_t n, off_t off, size_t *got);

#endif
