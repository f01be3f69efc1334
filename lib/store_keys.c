/*
 * The store key file and its rotation (store_keys.h): key_file, and
 * key_file.new while a rotation is under way.
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

static int next_key_path(const struct mfa_config *cfg, char *out, size_t outlen)
{
	if ((size_t)snprintf(out, outlen, "%s" NEXT_KEY_SUFFIX, cfg->key_file) >= outlen)
		return MFA_ERR_RANGE;
	return 0;
}

/*
 * The key and, during a rotation, the next key (read with both, write with
 * the new one): two files of one directory, reached by one trusted walk.
 */
int mfa_store_keys_load(const struct mfa_config *cfg, struct mfa_key keys[MFA_RING_MAX],
    struct mfa_keyring *ring, struct mfa_path_error *err)
{
	char name[NAME_MAX + 1], next[PATH_MAX];
	int dirfd, rc;

	ring->n = 0;
	if ((rc = next_key_path(cfg, next, sizeof(next))) != 0)
		return rc;
	if ((dirfd = mfa_open_trusted_parent(cfg->key_file, name, err)) < 0)
		return dirfd == MFA_ERR_IO || dirfd == MFA_ERR_NOENT ? MFA_ERR_KEY : dirfd;
	if ((rc = mfa_key_load_at(dirfd, name, cfg->key_file, &keys[0], err)) != 0) {
		if (rc == MFA_ERR_NOENT)
			rc = MFA_ERR_KEY;
		goto out;
	}
	ring->keys[ring->n++] = &keys[0];
	if (strlen(name) + sizeof(NEXT_KEY_SUFFIX) > sizeof(name)) {
		rc = MFA_ERR_RANGE;
		goto out;
	}
	strcat(name, NEXT_KEY_SUFFIX);
	rc = mfa_key_load_at(dirfd, name, next, &keys[1], err);
	if (rc == 0)
		ring->keys[ring->n++] = &keys[1];
	else if (rc == MFA_ERR_NOENT)
		rc = 0;
out:
	close(dirfd);
	return rc;
}

const struct mfa_key *mfa_store_keys_write_key(const struct mfa_keyring *ring)
{
	return ring->keys[ring->n - 1];
}

int mfa_store_keys_begin(const struct mfa_config *cfg, bool *created, struct mfa_path_error *err)
{
	char next[PATH_MAX];
	struct mfa_key key;
	int rc;

	if (created != NULL)
		*created = false;
	if ((rc = next_key_path(cfg, next, sizeof(next))) != 0)
		return rc;
	rc = mfa_key_create(next, &key, err);
	mfa_key_wipe(&key);
	if (rc == MFA_ERR_EXISTS)
		return 0; /* resume the rotation that was interrupted */
	if (rc == 0 && created != NULL)
		*created = true;
	return rc;
}

int mfa_store_keys_finish(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	char next[PATH_MAX], dir[PATH_MAX];
	const char *base = strrchr(cfg->key_file, '/');
	int dirfd, rc = 0;

	if ((rc = next_key_path(cfg, next, sizeof(next))) != 0 ||
	    (rc = mfa_path_parent(cfg->key_file, dir, sizeof(dir))) != 0 || base == NULL)
		return rc ? rc : MFA_ERR_INVAL;
	if ((dirfd = mfa_open_trusted(dir, O_RDONLY, true, err)) < 0)
		return dirfd;
	/* One atomic step: readers see the old key file or the new one, never neither. */
	if (renameat(dirfd, strrchr(next, '/') + 1, dirfd, base + 1) != 0 || fsync(dirfd) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot replace the key: %s",
		    cfg->key_file, strerror(errno));
		rc = MFA_ERR_IO;
	}
	close(dirfd);
	return rc;
}
