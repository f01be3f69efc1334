/*
 * The store key file and its rotation (store_keys.h): key_file, and beside
 * it key_file.new while a rotation runs on this machine, or key_file.next
 * while a fleet's rotation is staged.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "mfauth/store_keys.h"

#define NEXT_KEY_SUFFIX ".new"
#define STAGED_KEY_SUFFIX ".next"

/* out = key_file + suffix. */
static int key_path(const struct mfa_config *cfg, const char *suffix, char *out, size_t outlen)
{
	if ((size_t)snprintf(out, outlen, "%s%s", cfg->key_file, suffix) >= outlen)
		return MFA_ERR_RANGE;
	return 0;
}

/* name (a key file's base name, NAME_MAX + 1 bytes) + suffix, in place. */
static int add_suffix(char *name, const char *suffix)
{
	if (strlen(name) + strlen(suffix) > NAME_MAX)
		return MFA_ERR_RANGE;
	strcat(name, suffix);
	return 0;
}

/* Load base + suffix into *key: 0, MFA_ERR_NOENT when absent, or an error. */
static int load_beside(int dirfd, const char *base, const char *suffix,
    const struct mfa_config *cfg, struct mfa_key *key, struct mfa_path_error *err)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	int rc;

	snprintf(name, sizeof(name), "%s", base);
	if ((rc = add_suffix(name, suffix)) != 0 ||
	    (rc = key_path(cfg, suffix, path, sizeof(path))) != 0)
		return rc;
	return mfa_key_load_at(dirfd, name, path, key, err);
}

/*
 * The key and, during a rotation, the next key: files of one directory,
 * reached by one trusted walk.  keys[1] is scratch for .next when .new is
 * there too (only to compare their ids).
 */
int mfa_store_keys_load(const struct mfa_config *cfg, struct mfa_key keys[MFA_RING_MAX],
    struct mfa_keyring *ring, struct mfa_path_error *err)
{
	char name[NAME_MAX + 1];
	struct mfa_key staged;
	int dirfd, rc;

	ring->n = 0;
	ring->staged = false;
	if ((dirfd = mfa_open_trusted_parent(cfg->key_file, name, err)) < 0)
		return dirfd == MFA_ERR_IO || dirfd == MFA_ERR_NOENT ? MFA_ERR_KEY : dirfd;
	if ((rc = mfa_key_load_at(dirfd, name, cfg->key_file, &keys[0], err)) != 0) {
		if (rc == MFA_ERR_NOENT)
			rc = MFA_ERR_KEY;
		goto out;
	}
	ring->keys[ring->n++] = &keys[0];
	rc = load_beside(dirfd, name, NEXT_KEY_SUFFIX, cfg, &keys[1], err);
	if (rc == 0)
		ring->keys[ring->n++] = &keys[1];
	if (rc != MFA_ERR_NOENT && rc != 0)
		goto out;
	rc = load_beside(dirfd, name, STAGED_KEY_SUFFIX, cfg, &staged, err);
	if (rc == 0 && ring->n == 1) {
		keys[1] = staged;
		ring->keys[ring->n++] = &keys[1];
		ring->staged = true;
	} else if (rc == 0 && memcmp(staged.id, keys[1].id, sizeof(staged.id)) != 0) {
		snprintf(err->msg, sizeof(err->msg),
		    "%s: " NEXT_KEY_SUFFIX " and " STAGED_KEY_SUFFIX
		    " beside it hold different keys (two rotations at once)",
		    cfg->key_file);
		rc = MFA_ERR_KEY;
	} else if (rc == MFA_ERR_NOENT) {
		rc = 0;
	}
	mfa_key_wipe(&staged);
out:
	close(dirfd);
	return rc;
}

const struct mfa_key *mfa_store_keys_write_key(const struct mfa_keyring *ring)
{
	return ring->staged ? ring->keys[0] : ring->keys[ring->n - 1];
}

const struct mfa_key *mfa_store_keys_last_key(const struct mfa_keyring *ring)
{
	return ring->keys[ring->n - 1];
}

/* key_file's directory, opened as trusted (the caller closes it), and key_file's base name. */
static int open_key_dir(const struct mfa_config *cfg, const char **base, struct mfa_path_error *err)
{
	char dir[PATH_MAX];
	int rc;

	*base = strrchr(cfg->key_file, '/');
	if ((rc = mfa_path_parent(cfg->key_file, dir, sizeof(dir))) != 0)
		return rc;
	if (*base == NULL)
		return MFA_ERR_INVAL;
	(*base)++;
	return mfa_open_trusted(dir, O_RDONLY, true, err);
}

static bool exists_beside(int dirfd, const char *base, const char *suffix)
{
	char name[NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s", base);
	return add_suffix(name, suffix) == 0 &&
	    faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * Rename base + from_suffix over base + to_suffix in one step (readers see
 * one file or the other, never neither), and make it durable.
 */
static int rename_beside(int dirfd, const struct mfa_config *cfg, const char *base,
    const char *from_suffix, const char *to_suffix, struct mfa_path_error *err)
{
	char from[NAME_MAX + 1], to[NAME_MAX + 1];

	snprintf(from, sizeof(from), "%s", base);
	snprintf(to, sizeof(to), "%s", base);
	if (add_suffix(from, from_suffix) != 0 || add_suffix(to, to_suffix) != 0)
		return MFA_ERR_RANGE;
	if (renameat(dirfd, from, dirfd, to) != 0 || fsync(dirfd) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot replace the key: %s",
		    cfg->key_file, strerror(errno));
		return MFA_ERR_IO;
	}
	return 0;
}

static int begin(const struct mfa_config *cfg, bool need_stage, enum mfa_rekey_start *how,
    struct mfa_path_error *err)
{
	char next[PATH_MAX];
	const char *base;
	struct mfa_key key;
	int dirfd, rc;

	if (how != NULL)
		*how = MFA_REKEY_RESUMED;
	if ((rc = key_path(cfg, NEXT_KEY_SUFFIX, next, sizeof(next))) != 0)
		return rc;
	if ((dirfd = open_key_dir(cfg, &base, err)) < 0)
		return dirfd;
	if (exists_beside(dirfd, base, NEXT_KEY_SUFFIX)) {
		rc = 0; /* resume the rotation that was interrupted */
	} else if (exists_beside(dirfd, base, STAGED_KEY_SUFFIX)) {
		rc = rename_beside(dirfd, cfg, base, STAGED_KEY_SUFFIX, NEXT_KEY_SUFFIX, err);
		if (rc == 0 && how != NULL)
			*how = MFA_REKEY_PROMOTED;
	} else if (need_stage) {
		snprintf(err->msg, sizeof(err->msg),
		    "no staged key (%s" STAGED_KEY_SUFFIX
		    "): over the directory, stage it first and copy it to every machine",
		    cfg->key_file);
		rc = MFA_ERR_NOENT;
	} else {
		rc = mfa_key_create(next, &key, err);
		mfa_key_wipe(&key);
		if (rc == MFA_ERR_EXISTS)
			rc = 0; /* made meanwhile by another run: resume with it */
		else if (rc == 0 && how != NULL)
			*how = MFA_REKEY_CREATED;
	}
	close(dirfd);
	return rc;
}

int mfa_store_keys_begin(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err)
{
	return begin(cfg, false, how, err);
}

int mfa_store_keys_begin_staged(const struct mfa_config *cfg, enum mfa_rekey_start *how,
    struct mfa_path_error *err)
{
	return begin(cfg, true, how, err);
}

int mfa_store_keys_finish(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	const char *base;
	int dirfd, rc;

	if ((dirfd = open_key_dir(cfg, &base, err)) < 0)
		return dirfd;
	rc = rename_beside(dirfd, cfg, base, NEXT_KEY_SUFFIX, "", err);
	close(dirfd);
	return rc;
}

int mfa_store_keys_stage(const struct mfa_config *cfg, bool *created, struct mfa_path_error *err)
{
	char staged[PATH_MAX];
	const char *base;
	struct mfa_key key;
	int dirfd, rc;

	if (created != NULL)
		*created = false;
	if ((rc = key_path(cfg, STAGED_KEY_SUFFIX, staged, sizeof(staged))) != 0)
		return rc;
	if ((dirfd = open_key_dir(cfg, &base, err)) < 0)
		return dirfd;
	if (exists_beside(dirfd, base, NEXT_KEY_SUFFIX)) {
		snprintf(err->msg, sizeof(err->msg),
		    "%s" NEXT_KEY_SUFFIX ": a rotation is under way here; finish it first",
		    cfg->key_file);
		close(dirfd);
		return MFA_ERR_EXISTS;
	}
	close(dirfd);
	rc = mfa_key_create(staged, &key, err);
	mfa_key_wipe(&key);
	if (rc == MFA_ERR_EXISTS)
		return 0; /* staged already: the same key, to copy where it is missing */
	if (rc == 0 && created != NULL)
		*created = true;
	return rc;
}

int mfa_store_keys_retire(const struct mfa_config *cfg, bool check_only, struct mfa_path_error *err)
{
	const char *base;
	int dirfd, rc;

	if ((dirfd = open_key_dir(cfg, &base, err)) < 0)
		return dirfd;
	if (exists_beside(dirfd, base, NEXT_KEY_SUFFIX)) {
		snprintf(err->msg, sizeof(err->msg),
		    "%s" NEXT_KEY_SUFFIX
		    ": this machine runs the rotation; it ends with mfauth rekey",
		    cfg->key_file);
		rc = MFA_ERR_EXISTS;
	} else if (!exists_beside(dirfd, base, STAGED_KEY_SUFFIX)) {
		snprintf(err->msg, sizeof(err->msg), "no staged key (%s" STAGED_KEY_SUFFIX ")",
		    cfg->key_file);
		rc = MFA_ERR_NOENT;
	} else if (!check_only) {
		rc = rename_beside(dirfd, cfg, base, STAGED_KEY_SUFFIX, "", err);
	} else {
		rc = 0;
	}
	close(dirfd);
	return rc;
}
