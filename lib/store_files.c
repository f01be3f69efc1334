/*
 * The files backend of the store (layout and locking: see store_files.h),
 * reached only through the operations table at the end (store_backend.h).
 *
 * Every file is opened relative to the store's directory fd with O_NOFOLLOW
 * and checked (root-owned, regular, one link, not writable by others) before
 * a byte of it is trusted.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "mfauth/store_files.h"
#include "mfauth/store_keys.h"

/*
 * The check's findings are shown by the tool, in its text domain (the
 * module never runs the check, so it never binds this).
 */
#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) dgettext("mfauth", s)
#else
#define _(s) (s)
#endif

#define REC_SUFFIX MFA_STORE_FILES_REC_SUFFIX
#define STATE_SUFFIX MFA_STORE_FILES_STATE_SUFFIX
#define TMP_PREFIX MFA_STORE_FILES_TMP_PREFIX
#define DECOY_FILE MFA_STORE_FILES_DECOY

/* The decoy's slots are sealed for this name: it holds a '/', so no user's state opens as it. */
#define DECOY_USER "/decoy"

struct files_store {
	int dirfd;
	struct mfa_key keys[MFA_RING_MAX]; /* [0] key_file; [1] key_file.new during rekey */
	struct mfa_keyring ring;
};

/* New blobs are sealed under the newest key the store holds. */
static const struct mfa_key *write_key(const struct files_store *s)
{
	return mfa_store_keys_write_key(&s->ring);
}

/* The file name of user's record or state: encoded stem + suffix. */
static int user_file(const char *user, const char *suffix, char *out, size_t outlen)
{
	char stem[MFA_NAME_ENC_MAX];
	int rc = mfa_name_encode(user, stem, sizeof(stem));
	if (rc != 0)
		return MFA_ERR_BADNAME;
	if ((size_t)snprintf(out, outlen, "%s%s", stem, suffix) >= outlen)
		return MFA_ERR_BADNAME;
	/* NAME_MAX: a name too long for the file system is a bad name, not an I/O error. */
	if (strlen(out) > 255)
		return MFA_ERR_BADNAME;
	return 0;
}

/* Open a file in the store and check that it may be trusted. */
static int open_in_store(const struct files_store *s, const char *name, int flags)
{
	int fd = openat(s->dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return MFA_ERR_NOENT;
		/* A symlink, a directory or a socket where a regular file belongs. */
		if (errno == ELOOP || errno == EISDIR || errno == ENXIO)
			return MFA_ERR_UNSAFE;
		return MFA_ERR_IO;
	}
	if ((rc = mfa_check_trusted_fd(fd, 0, name, NULL)) != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

static void files_close(void *handle);

static int files_open(const struct mfa_config *cfg, void **out, struct mfa_path_error *err)
{
	struct files_store *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return MFA_ERR_NOMEM;
	s->dirfd = mfa_open_trusted(cfg->store_dir, O_RDONLY, true, err);
	if (s->dirfd < 0) {
		/* A missing store is a broken installation, not an unenrolled user. */
		rc = s->dirfd == MFA_ERR_NOENT ? MFA_ERR_IO : s->dirfd;
		free(s);
		return rc;
	}
	if ((rc = mfa_store_keys_load(cfg, s->keys, &s->ring, err)) != 0) {
		files_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void files_close(void *handle)
{
	struct files_store *s = handle;

	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	mfa_wipe(s->keys, sizeof(s->keys));
	free(s);
}

const struct mfa_key *mfa_store_files_key(const struct mfa_store *store)
{
	const struct files_store *s = mfa_store_handle(store, &mfa_store_files_ops);
	return s != NULL ? write_key(s) : NULL;
}

const struct mfa_keyring *mfa_store_files_keyring(const struct mfa_store *store)
{
	const struct files_store *s = mfa_store_handle(store, &mfa_store_files_ops);
	return s != NULL ? &s->ring : NULL;
}

/*
 * Make sure dir exists and is trusted, creating it (one level) if missing.
 * Creation needs a parent nobody else can write: root never creates
 * anything in a directory another user could have prepared (doc/DESIGN.md invariant 5).
 */
static int ensure_dir(const char *path, mode_t mode, struct mfa_path_error *err)
{
	char parent[PATH_MAX];
	const char *base = strrchr(path, '/');
	int pfd, fd;

	if (path[0] != '/' || base == NULL || base[1] == '\0' || strlen(path) >= sizeof(parent)) {
		snprintf(err->msg, sizeof(err->msg), "%s: not an absolute directory path", path);
		return MFA_ERR_INVAL;
	}
	fd = mfa_open_trusted(path, O_RDONLY, true, err);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd != MFA_ERR_NOENT)
		return fd;
	memcpy(parent, path, (size_t)(base - path));
	parent[base - path] = '\0';
	pfd = mfa_open_trusted(parent[0] ? parent : "/", O_RDONLY, true, err);
	if (pfd < 0)
		return pfd;
	if (mkdirat(pfd, base + 1, mode) != 0 && errno != EEXIST) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot create: %s", path,
		    strerror(errno));
		close(pfd);
		return MFA_ERR_IO;
	}
	fsync(pfd);
	close(pfd);
	fd = mfa_open_trusted(path, O_RDONLY, true, err);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int files_init(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	char keydir[PATH_MAX];
	struct mfa_key key;
	int rc;

	if ((rc = ensure_dir(cfg->store_dir, 0700, err)) != 0)
		return rc;
	if ((rc = mfa_path_parent(cfg->key_file, keydir, sizeof(keydir))) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: not an absolute file path",
		    cfg->key_file);
		return rc;
	}
	if (strcmp(keydir, "/") != 0 && (rc = ensure_dir(keydir, 0755, err)) != 0)
		return rc;
	rc = mfa_key_create(cfg->key_file, &key, err);
	mfa_key_wipe(&key);
	return rc;
}

static int read_record_file(const struct files_store *s, const char *name, uint8_t **buf,
    size_t *len)
{
	char *data = NULL;
	int fd = open_in_store(s, name, O_RDONLY), rc;

	if (fd < 0)
		return fd;
	rc = mfa_read_fd_all(fd, MFA_RECORD_MAX, &data, len);
	close(fd);
	if (rc == MFA_ERR_RANGE)
		rc = MFA_ERR_CORRUPT;
	*buf = (uint8_t *)data;
	return rc;
}

/* Open a record file with the ring's key of the id it names. */
static int unseal_record(const struct files_store *s, const char *user, const uint8_t *buf,
    size_t len, struct mfa_record *rec, bool *under_write_key)
{
	const uint8_t *id = mfa_record_keyid(buf, len);
	const struct mfa_key *key = id ? mfa_keyring_find(&s->ring, id) : NULL;

	if (id == NULL)
		return MFA_ERR_CORRUPT;
	if (key == NULL)
		return MFA_ERR_KEYID;
	if (under_write_key != NULL)
		*under_write_key = key == write_key(s);
	return mfa_record_unseal(key, user, buf, len, rec);
}

static int files_load(void *handle, const char *user, struct mfa_record *rec)
{
	struct files_store *s = handle;
	char name[MFA_NAME_ENC_MAX + 16];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(rec, 0, sizeof(*rec));
	if ((rc = user_file(user, REC_SUFFIX, name, sizeof(name))) != 0)
		return rc;
	if ((rc = read_record_file(s, name, &buf, &len)) != 0)
		return rc;
	rc = unseal_record(s, user, buf, len, rec, NULL);
	free(buf);
	return rc;
}

/*
 * Write bytes to a fresh temp file in the store and rename it over `name`
 * (noreplace: fail with MFA_ERR_EXISTS instead of replacing), with
 * safefile.h's one atomic writer.  The data and the directory entry are on
 * disk before this returns.
 */
static int write_atomic(const struct files_store *s, const char *name, const uint8_t *data,
    size_t len, bool noreplace)
{
	const struct mfa_write_opts o = { TMP_PREFIX, 0600, noreplace, NULL };

	return mfa_write_atomic_at(s->dirfd, name, data, len, &o, NULL);
}

/* A new state file: slot 0 holds an empty state with sequence 1. */
static int create_state(const struct files_store *s, const char *user, const char *name)
{
	uint8_t file[MFA_STATE_FILE_LEN];
	struct mfa_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	memset(file, 0, sizeof(file));
	st.seq = 1;
	if ((rc = mfa_state_seal_slot(write_key(s), user, &st, file)) != 0)
		return rc;
	rc = write_atomic(s, name, file, sizeof(file), true);
	return rc == MFA_ERR_EXISTS ? 0 : rc; /* someone else created it: fine */
}

/*
 * Open user's state file and take its lock.  A file that was unlinked while
 * we waited for the lock (revoke) is not the state any more: report it gone.
 */
static int lock_state(const struct files_store *s, const char *name, int how, int *fd_out)
{
	struct stat st;
	int fd = open_in_store(s, name, O_RDWR);

	if (fd < 0)
		return fd == MFA_ERR_NOENT ? MFA_ERR_NOSTATE : fd;
	while (flock(fd, how) != 0) {
		if (errno != EINTR) {
			close(fd);
			return MFA_ERR_IO;
		}
	}
	if (fstat(fd, &st) != 0 || st.st_nlink == 0) {
		close(fd);
		return MFA_ERR_NOSTATE;
	}
	*fd_out = fd;
	return 0;
}

static int files_save(void *handle, const char *user, const struct mfa_record *rec)
{
	struct files_store *s = handle;
	char rec_name[MFA_NAME_ENC_MAX + 16], state_name[MFA_NAME_ENC_MAX + 16];
	struct mfa_buf file;
	int fd = -1, rc;

	if ((rc = user_file(user, REC_SUFFIX, rec_name, sizeof(rec_name))) != 0 ||
	    (rc = user_file(user, STATE_SUFFIX, state_name, sizeof(state_name))) != 0)
		return rc;
	mfa_buf_init(&file);
	if ((rc = mfa_record_seal(write_key(s), user, rec, &file)) != 0)
		goto out;
	/* The state exists before the record does, so logins never see one without it. */
	for (int tries = 0; tries < 3; tries++) {
		if ((rc = create_state(s, user, state_name)) != 0)
			goto out;
		rc = lock_state(s, state_name, LOCK_EX, &fd);
		if (rc != MFA_ERR_NOSTATE)
			break;
	}
	if (rc != 0)
		goto out;
	rc = write_atomic(s, rec_name, file.data, file.len, false);
out:
	if (fd >= 0)
		close(fd);
	mfa_buf_free(&file);
	return rc;
}

static int files_remove(void *handle, const char *user)
{
	struct files_store *s = handle;
	char rec_name[MFA_NAME_ENC_MAX + 16], state_name[MFA_NAME_ENC_MAX + 16];
	int fd = -1, rc;

	if ((rc = user_file(user, REC_SUFFIX, rec_name, sizeof(rec_name))) != 0 ||
	    (rc = user_file(user, STATE_SUFFIX, state_name, sizeof(state_name))) != 0)
		return rc;
	rc = lock_state(s, state_name, LOCK_EX, &fd);
	if (rc != 0 && rc != MFA_ERR_NOSTATE)
		return rc;
	/* Record first: a crash in between leaves an unenrolled user with a harmless state. */
	if (unlinkat(s->dirfd, rec_name, 0) != 0) {
		rc = errno == ENOENT ? MFA_ERR_NOENT : MFA_ERR_IO;
		goto out;
	}
	if (fsync(s->dirfd) != 0) {
		rc = MFA_ERR_IO;
		goto out;
	}
	if (fd >= 0 && unlinkat(s->dirfd, state_name, 0) != 0 && errno != ENOENT) {
		rc = MFA_ERR_IO;
		goto out;
	}
	rc = fsync(s->dirfd) == 0 ? 0 : MFA_ERR_IO;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int read_state_locked(const struct files_store *s, int fd, const char *user,
    struct mfa_state *st, int *slot, bool under_write_key[2])
{
	uint8_t file[MFA_STATE_FILE_LEN + 1];
	size_t got = 0;
	ssize_t n;
	int rc;

	/*
	 * Exactly two slots: anything longer or shorter is not our file.  One
	 * byte more than that is asked for, in one call (a login's every system
	 * call counts); only a short read goes on to read the rest.
	 */
	while ((n = pread(fd, file, sizeof(file), 0)) < 0 && errno == EINTR)
		continue;
	if (n < 0)
		return MFA_ERR_IO;
	got = (size_t)n;
	if (got < MFA_STATE_FILE_LEN && got > 0) {
		size_t more = 0;
		if ((rc = mfa_pread_all(fd, file + got, sizeof(file) - got, n, &more)) != 0)
			return rc;
		got += more;
	}
	if (got != MFA_STATE_FILE_LEN)
		return MFA_ERR_CORRUPT;
	return mfa_state_pick_ring(&s->ring, user, file, st, slot, under_write_key);
}

/*
 * Write st with the next sequence number into the slot that does not hold
 * the newest state (*slot names the newest; afterwards the one written), so
 * that the newest valid state stays intact if this write tears.
 */
static int write_state_slot(const struct files_store *s, int fd, const char *user,
    struct mfa_state *st, int *slot)
{
	uint8_t bytes[MFA_STATE_SLOT_LEN];
	int rc;

	st->seq++;
	*slot = 1 - *slot;
	if ((rc = mfa_state_seal_slot(write_key(s), user, st, bytes)) != 0)
		return rc;
	if (pwrite(fd, bytes, sizeof(bytes), (off_t)*slot * MFA_STATE_SLOT_LEN) !=
	        (ssize_t)sizeof(bytes) ||
	    fdatasync(fd) != 0)
		return MFA_ERR_IO;
	return 0;
}

/*
 * Lock user's state file, creating it first when asked (enrollment); a user
 * with neither record nor state is MFA_ERR_NOENT without create.
 */
static int lock_for_change(const struct files_store *s, const char *rec_name,
    const char *state_name, const char *user, bool create, int *fd)
{
	struct stat st;
	int rc = MFA_ERR_NOSTATE;

	if (!create && fstatat(s->dirfd, rec_name, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
	    errno == ENOENT) {
		rc = lock_state(s, state_name, LOCK_EX, fd);
		return rc == MFA_ERR_NOSTATE ? MFA_ERR_NOENT : rc;
	}
	for (int tries = 0; tries < 3 && rc == MFA_ERR_NOSTATE; tries++) {
		if ((rc = create_state(s, user, state_name)) != 0)
			return rc;
		rc = lock_state(s, state_name, LOCK_EX, fd);
	}
	return rc;
}

/* The record behind the lock: *exists false (rec zeroed) when there is none. */
static int read_record_locked(const struct files_store *s, const char *user, const char *name,
    struct mfa_record *rec, bool *exists)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(rec, 0, sizeof(*rec));
	*exists = false;
	rc = read_record_file(s, name, &buf, &len);
	if (rc == MFA_ERR_NOENT)
		return 0;
	if (rc == 0)
		rc = unseal_record(s, user, buf, len, rec, NULL);
	free(buf);
	*exists = rc == 0;
	return rc;
}

/* Write what fn asked for: the state first, then the record (or its removal). */
static int apply_change(const struct files_store *s, int fd, const char *user, const char *rec_name,
    int what, struct mfa_state *st, int *slot, const struct mfa_record *rec)
{
	struct mfa_buf file;
	int rc = 0;

	if ((what & MFA_CHANGE_STATE) && (rc = write_state_slot(s, fd, user, st, slot)) != 0)
		return rc;
	if (what & MFA_CHANGE_RECORD) {
		mfa_buf_init(&file);
		if ((rc = mfa_record_seal(write_key(s), user, rec, &file)) == 0)
			rc = write_atomic(s, rec_name, file.data, file.len, false);
		mfa_buf_free(&file);
	} else if (what & MFA_CHANGE_REMOVE) {
		if (unlinkat(s->dirfd, rec_name, 0) != 0)
			return errno == ENOENT ? MFA_ERR_NOENT : MFA_ERR_IO;
		rc = fsync(s->dirfd) == 0 ? 0 : MFA_ERR_IO;
	}
	return rc;
}

static int files_change(void *handle, const char *user, bool create, mfa_change_fn fn, void *ctx)
{
	struct files_store *s = handle;
	char rec_name[MFA_NAME_ENC_MAX + 16], state_name[MFA_NAME_ENC_MAX + 16];
	struct mfa_record rec;
	struct mfa_state st;
	bool exists = false;
	int fd = -1, slot = 0, rc;

	memset(&rec, 0, sizeof(rec));
	memset(&st, 0, sizeof(st));
	if ((rc = user_file(user, REC_SUFFIX, rec_name, sizeof(rec_name))) != 0 ||
	    (rc = user_file(user, STATE_SUFFIX, state_name, sizeof(state_name))) != 0)
		return rc;
	if ((rc = lock_for_change(s, rec_name, state_name, user, create, &fd)) != 0)
		return rc;
	if ((rc = read_state_locked(s, fd, user, &st, &slot, NULL)) != 0 ||
	    (rc = read_record_locked(s, user, rec_name, &rec, &exists)) != 0)
		goto out;
	if ((rc = fn(&rec, exists, &st, ctx)) > 0)
		rc = apply_change(s, fd, user, rec_name, rc, &st, &slot, &rec);
out:
	mfa_record_wipe(&rec);
	mfa_wipe(&st, sizeof(st));
	close(fd);
	return rc;
}

/*
 * Re-read the state behind the lock held on fd, let fn decide, write.  With
 * start_over, a state that does not open (the decoy's, torn or sealed under
 * a retired key) is replaced by an empty one instead of failing.
 */
static int update_locked(const struct files_store *s, int fd, const char *user, bool start_over,
    mfa_state_fn fn, void *ctx)
{
	struct mfa_state st;
	int slot = 0, rc;

	rc = read_state_locked(s, fd, user, &st, &slot, NULL);
	if (start_over && (rc == MFA_ERR_CORRUPT || rc == MFA_ERR_VERSION || rc == MFA_ERR_KEYID)) {
		memset(&st, 0, sizeof(st));
		slot = 1;
		rc = ftruncate(fd, MFA_STATE_FILE_LEN) == 0 ? 0 : MFA_ERR_IO;
	}
	if (rc == 0 && (rc = fn(&st, ctx)) > 0)
		rc = write_state_slot(s, fd, user, &st, &slot);
	mfa_wipe(&st, sizeof(st));
	return rc;
}

static int files_update(void *handle, const char *user, mfa_state_fn fn, void *ctx)
{
	struct files_store *s = handle;
	char name[MFA_NAME_ENC_MAX + 16];
	int fd = -1, rc;

	if ((rc = user_file(user, STATE_SUFFIX, name, sizeof(name))) != 0)
		return rc;
	if ((rc = lock_state(s, name, LOCK_EX, &fd)) != 0)
		return rc;
	rc = update_locked(s, fd, user, false, fn, ctx);
	close(fd);
	return rc;
}

/*
 * The decoy is locked shared: it holds nothing, so concurrent logins of
 * unknown users need not queue behind each other (an enrolled user's logins
 * do not queue behind anyone else's either).  A missing decoy is created
 * the way enrollment creates a state.
 */
static int files_update_decoy(void *handle, mfa_state_fn fn, void *ctx)
{
	struct files_store *s = handle;
	int fd = -1, rc;

	rc = lock_state(s, DECOY_FILE, LOCK_SH, &fd);
	if (rc == MFA_ERR_NOSTATE) {
		if ((rc = create_state(s, DECOY_USER, DECOY_FILE)) != 0)
			return rc;
		rc = lock_state(s, DECOY_FILE, LOCK_SH, &fd);
	}
	if (rc != 0)
		return rc == MFA_ERR_NOSTATE ? MFA_ERR_IO : rc;
	rc = update_locked(s, fd, DECOY_USER, true, fn, ctx);
	close(fd);
	return rc;
}

static void files_load_decoy(void *handle)
{
	struct files_store *s = handle;
	struct mfa_state st;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (read_record_file(s, DECOY_FILE, &buf, &len) != 0)
		return;
	if (len == MFA_STATE_FILE_LEN &&
	    mfa_state_unseal_slot(write_key(s), DECOY_USER, buf, &st) == 0)
		mfa_wipe(&st, sizeof(st));
	free(buf);
}

static int files_read_state(void *handle, const char *user, struct mfa_state *st)
{
	struct files_store *s = handle;
	char name[MFA_NAME_ENC_MAX + 16];
	int fd = -1, slot = 0, rc;

	if ((rc = user_file(user, STATE_SUFFIX, name, sizeof(name))) != 0)
		return rc;
	if ((rc = lock_state(s, name, LOCK_SH, &fd)) != 0)
		return rc;
	rc = read_state_locked(s, fd, user, st, &slot, NULL);
	close(fd);
	return rc;
}

static int list_suffix(const struct files_store *s, const char *suffix, char ***names_out,
    size_t *count, size_t *skipped)
{
	char **names = NULL;
	size_t n = 0, cap = 0, bad = 0, sl = strlen(suffix);
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	/* A fresh fd: a dup would share (and move) the directory offset. */
	if ((fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return MFA_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return MFA_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		char stem[MFA_NAME_ENC_MAX + 16], user[MFA_USER_MAX + 1];
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= sl || strcmp(de->d_name + len - sl, suffix) != 0)
			continue;
		if (len - sl >= sizeof(stem)) {
			bad++;
			continue;
		}
		memcpy(stem, de->d_name, len - sl);
		stem[len - sl] = '\0';
		if (mfa_name_decode(stem, user, sizeof(user)) != 0) {
			bad++;
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **p = realloc(names, ncap * sizeof(*p));
			if (p == NULL) {
				rc = MFA_ERR_NOMEM;
				break;
			}
			names = p;
			cap = ncap;
		}
		if ((names[n] = strdup(user)) == NULL) {
			rc = MFA_ERR_NOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != 0) {
		mfa_store_list_free(names, n);
		return rc;
	}
	*names_out = names;
	*count = n;
	if (skipped != NULL)
		*skipped = bad;
	return 0;
}

/* The dispatch sorts the names (store.c). */
static int files_list(void *handle, bool states, char ***names, size_t *count, size_t *skipped)
{
	return list_suffix(handle, states ? STATE_SUFFIX : REC_SUFFIX, names, count, skipped);
}

/* Re-seal the record under the write key, if it is not already. */
static int rekey_record(struct files_store *s, const char *user)
{
	char name[MFA_NAME_ENC_MAX + 16];
	struct mfa_record rec;
	struct mfa_buf file;
	uint8_t *buf = NULL;
	size_t len = 0;
	bool current = false;
	int rc;

	if ((rc = user_file(user, REC_SUFFIX, name, sizeof(name))) != 0)
		return rc;
	if ((rc = read_record_file(s, name, &buf, &len)) != 0)
		return rc;
	memset(&rec, 0, sizeof(rec));
	mfa_buf_init(&file);
	rc = unseal_record(s, user, buf, len, &rec, &current);
	if (rc == 0 && !current && (rc = mfa_record_seal(write_key(s), user, &rec, &file)) == 0)
		rc = write_atomic(s, name, file.data, file.len, false);
	mfa_record_wipe(&rec);
	mfa_buf_free(&file);
	free(buf);
	return rc;
}

static int files_rekey_user(void *handle, const char *user)
{
	struct files_store *s = handle;
	char name[MFA_NAME_ENC_MAX + 16];
	struct mfa_state st;
	bool current[2] = { false, false };
	int fd = -1, slot = 0, rc;

	if (user == NULL)
		return 0; /* the decoy file is not re-sealed here (it holds nothing to keep) */
	if ((rc = user_file(user, STATE_SUFFIX, name, sizeof(name))) != 0)
		return rc;
	if ((rc = lock_state(s, name, LOCK_EX, &fd)) != 0)
		return rc;
	/* A revoked user keeps a state (the replay watermark) without a record. */
	if ((rc = read_state_locked(s, fd, user, &st, &slot, current)) != 0 ||
	    ((rc = rekey_record(s, user)) != 0 && rc != MFA_ERR_NOENT))
		goto out;
	rc = 0;
	/* Two writes, each into the older slot: both end up under the new key. */
	for (int i = 0; i < 2 && !(current[0] && current[1]) && rc == 0; i++)
		rc = write_state_slot(s, fd, user, &st, &slot);
out:
	mfa_wipe(&st, sizeof(st));
	close(fd);
	return rc;
}

/*
 * `mfauth check` of the files (store.h, mfa_store_check): every name in the
 * directory, stat'ed without following links; each file's safety (what
 * open_in_store() demands before trusting a byte), temp files, names that
 * do not decode, a record without its state; each user handed to the
 * caller, who loads the record and reads the state through the store.
 */

/* A temp file older than this is left over from an interrupted write. */
#define TMP_STALE_SECS 3600
/* store_dir "/" file name */
#define SUBJECT_MAX (PATH_MAX + MFA_NAME_ENC_MAX + 16)

struct entry {
	char *name;
	struct stat st;
	bool stat_ok;
	int stat_errno;
	bool safe; /* regular, root-owned, not writable by others, one link */
};

struct scan {
	const struct mfa_config *cfg;
	const struct mfa_store_inspector *ins;
	void *ctx;
	struct entry *e;
	size_t n;
	uint64_t now;
	size_t unsafe;
	char subject[SUBJECT_MAX], state_subject[SUBJECT_MAX];
	char detail[MFA_USER_MAX * 4 + 512]; /* a user name and a translated line */
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static struct entry *find_entry(struct scan *s, const char *name)
{
	struct entry key = { .name = (char *)name };
	return bsearch(&key, s->e, s->n, sizeof(*s->e), cmp_entry);
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/* Every name in the directory, stat'ed without following links, sorted. */
static int read_entries(int dirfd, struct entry **out, size_t *count)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	/* A fresh fd: the store's own must keep its offset. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return MFA_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return MFA_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct entry *p = realloc(e, ncap * sizeof(*p));
			if (p == NULL)
				goto nomem;
			e = p;
			cap = ncap;
		}
		memset(&e[n], 0, sizeof(e[n]));
		if ((e[n].name = strdup(de->d_name)) == NULL)
			goto nomem;
		e[n].stat_ok = fstatat(dirfd, de->d_name, &e[n].st, AT_SYMLINK_NOFOLLOW) == 0;
		e[n].stat_errno = e[n].stat_ok ? 0 : errno;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_entry);
	*out = e;
	*count = n;
	return 0;
nomem:
	closedir(d);
	free_entries(e, n);
	return MFA_ERR_NOMEM;
}

static const char *subject_of(struct scan *s, char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", s->cfg->store_dir, name);
	return out;
}

/* One finding about the file name (NULL: the store directory itself). */
static void say(struct scan *s, enum mfa_store_sev sev, const char *what, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void say(struct scan *s, enum mfa_store_sev sev, const char *what, const char *name,
    const char *fmt, ...)
{
	struct mfa_store_finding f;
	char subject[SUBJECT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	f.sev = sev;
	f.what = what;
	f.subject = name != NULL ? subject_of(s, subject, sizeof(subject), name) :
	                           s->cfg->store_dir;
	f.detail = s->detail;
	s->ins->finding(&f, s->ctx);
}

/* What open_in_store() checks before trusting a file (doc/DESIGN.md invariant 5). */
static bool entry_is_safe(const struct entry *e)
{
	return e->stat_ok && S_ISREG(e->st.st_mode) && e->st.st_uid == 0 &&
	    (e->st.st_mode & 0022) == 0 && e->st.st_nlink == 1;
}

/* Each reason a file fails entry_is_safe(), one line each. */
static void report_file_safety(struct scan *s, const struct entry *e)
{
	const struct stat *st = &e->st;

	if (entry_is_safe(e))
		return;
	s->unsafe++;
	if (!e->stat_ok) {
		say(s, MFA_STORE_ERROR, "store", e->name, _("cannot stat: %s"),
		    strerror(e->stat_errno));
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		say(s, MFA_STORE_CRITICAL, "store", e->name, "%s", _("symbolic link in the store"));
		return;
	}
	if (!S_ISREG(st->st_mode)) {
		say(s, MFA_STORE_CRITICAL, "store", e->name, "%s", _("not a regular file"));
		return;
	}
	if (st->st_uid != 0)
		say(s, MFA_STORE_CRITICAL, "store", e->name, _("owned by uid %u, not root"),
		    (unsigned)st->st_uid);
	if ((st->st_mode & 0022) != 0)
		say(s, MFA_STORE_CRITICAL, "store", e->name,
		    _("writable by group or others (mode %04o)"), (unsigned)(st->st_mode & 07777));
	if (st->st_nlink != 1)
		say(s, MFA_STORE_CRITICAL, "store", e->name,
		    _("has %lu hard links: another name for it "
		      "can be read or changed outside the store"),
		    (unsigned long)st->st_nlink);
}

static bool has_suffix(const char *name, const char *suffix, size_t *stem_len)
{
	size_t n = strlen(name), sl = strlen(suffix);
	if (n <= sl || strcmp(name + n - sl, suffix) != 0)
		return false;
	*stem_len = n - sl;
	return true;
}

/* Decode NAME of NAME.rec / NAME.state; reports the file when it names nobody. */
static bool decode_stem(struct scan *s, const struct entry *e, size_t stem_len, char *stem,
    char *user)
{
	if (stem_len >= MFA_NAME_ENC_MAX)
		goto bad;
	memcpy(stem, e->name, stem_len);
	stem[stem_len] = '\0';
	if (mfa_name_decode(stem, user, MFA_USER_MAX + 1) == 0)
		return true;
bad:
	say(s, MFA_STORE_ERROR, "store", e->name, "%s",
	    _("file name does not decode to "
	      "a user name (not written by mfauth)"));
	return false;
}

/* The time of a temp file, as the tool prints times (UTC, "-" when unknown). */
static void format_mtime(uint64_t t, char *out, size_t outlen)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "-");
}

static void check_temp(struct scan *s, const struct entry *e)
{
	uint64_t mtime = e->stat_ok && e->st.st_mtime > 0 ? (uint64_t)e->st.st_mtime : 0;
	char t[40];

	format_mtime(mtime, t, sizeof(t));
	if (s->now > mtime && s->now - mtime > TMP_STALE_SECS)
		say(s, MFA_STORE_WARNING, "store", e->name,
		    _("stale temp file from an interrupted "
		      "enrollment or write (last modified %s): remove it"),
		    t);
	else
		say(s, MFA_STORE_INFO, "store", e->name,
		    _("temp file of a write that may be in "
		      "progress (last modified %s)"),
		    t);
}

static void check_record(struct scan *s, const struct entry *e, size_t stem_len)
{
	char stem[MFA_NAME_ENC_MAX + 1], user[MFA_USER_MAX + 1];
	char state_name[MFA_NAME_ENC_MAX + sizeof(STATE_SUFFIX)];
	const struct entry *st_e;
	struct mfa_store_item it;

	if (!decode_stem(s, e, stem_len, stem, user))
		return;
	snprintf(state_name, sizeof(state_name), "%s%s", stem, STATE_SUFFIX);
	st_e = find_entry(s, state_name);
	if (st_e == NULL)
		say(s, MFA_STORE_ERROR, "record", e->name,
		    _("record without a state "
		      "file: %s cannot log in (enroll again or revoke)"),
		    user);
	memset(&it, 0, sizeof(it));
	it.user = user;
	it.has_record = true;
	it.subject = subject_of(s, s->subject, sizeof(s->subject), e->name);
	it.readable = e->safe;
	it.has_state = st_e != NULL;
	it.state_subject = subject_of(s, s->state_subject, sizeof(s->state_subject), state_name);
	it.state_readable = st_e != NULL && st_e->safe;
	s->ins->item(&it, s->ctx);
}

static void check_state_file(struct scan *s, const struct entry *e, size_t stem_len)
{
	char stem[MFA_NAME_ENC_MAX + 1], user[MFA_USER_MAX + 1];
	char rec_name[MFA_NAME_ENC_MAX + sizeof(REC_SUFFIX)];
	struct mfa_store_item it;

	if (!decode_stem(s, e, stem_len, stem, user))
		return;
	snprintf(rec_name, sizeof(rec_name), "%s%s", stem, REC_SUFFIX);
	if (find_entry(s, rec_name) != NULL)
		return; /* handed over with its record */
	memset(&it, 0, sizeof(it));
	it.user = user;
	it.subject = subject_of(s, s->subject, sizeof(s->subject), e->name);
	it.readable = e->safe;
	it.has_state = true;
	it.state_subject = it.subject;
	it.state_readable = e->safe;
	s->ins->item(&it, s->ctx);
}

static void check_entry(struct scan *s, const struct entry *e)
{
	size_t stem_len;

	report_file_safety(s, e);
	if (strncmp(e->name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
		check_temp(s, e);
	else if (e->name[0] != '.' && has_suffix(e->name, REC_SUFFIX, &stem_len))
		check_record(s, e, stem_len);
	else if (e->name[0] != '.' && has_suffix(e->name, STATE_SUFFIX, &stem_len))
		check_state_file(s, e, stem_len);
	else if (strcmp(e->name, DECOY_FILE) == 0)
		; /* nobody's state: its safety was checked above, its bytes never matter */
	else if (has_suffix(e->name, ".lock", &stem_len))
		say(s, MFA_STORE_WARNING, "store", e->name, "%s",
		    _("lock file: mfauth "
		      "keeps no lock files (it locks the state file itself), so this one is stale or "
		      "foreign"));
	else
		say(s, MFA_STORE_WARNING, "store", e->name, "%s",
		    _("unexpected file in "
		      "the store"));
}

/*
 * Without an open store (handle NULL), names and modes come from a plain
 * read-only descriptor of the directory.
 */
static int files_check(const struct mfa_config *cfg, void *handle, uint64_t now,
    const struct mfa_store_inspector *ins, void *ctx)
{
	const struct files_store *fs = handle;
	struct scan s;
	int dirfd, rc;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.ins = ins;
	s.ctx = ctx;
	s.now = now;
	if (fs != NULL)
		dirfd = fs->dirfd;
	else
		dirfd = open(cfg->store_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return MFA_ERR_IO;
	rc = read_entries(dirfd, &s.e, &s.n);
	if (fs == NULL)
		close(dirfd);
	if (rc != 0) {
		say(&s, MFA_STORE_ERROR, "store", NULL, _("cannot list: %s"), _(mfa_strerror(rc)));
		return 0;
	}
	/* Safety first for all: a record's item says whether its state is safe. */
	for (size_t i = 0; i < s.n; i++)
		s.e[i].safe = entry_is_safe(&s.e[i]);
	for (size_t i = 0; i < s.n; i++)
		check_entry(&s, &s.e[i]);
	if (s.unsafe == 0 && s.n > 0)
		say(&s, MFA_STORE_OK, "store", NULL,
		    _("%zu files, all regular, root-owned, "
		      "not writable by others, one link each"),
		    s.n);
	free_entries(s.e, s.n);
	return 0;
}

const struct mfa_store_ops mfa_store_files_ops = {
	.name = "files",
	.open = files_open,
	.close = files_close,
	.init = files_init,
	.load = files_load,
	.save = files_save,
	.change = files_change,
	.update = files_update,
	.read_state = files_read_state,
	.remove = files_remove,
	.list = files_list,
	.load_decoy = files_load_decoy,
	.update_decoy = files_update_decoy,
	.decoy_where = DECOY_FILE,
	.check = files_check,
	.rekey_begin = mfa_store_keys_begin,
	.rekey_user = files_rekey_user,
	.rekey_finish = mfa_store_keys_finish,
};
