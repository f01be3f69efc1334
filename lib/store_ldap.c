/*
 * The directory backend of the store (layout, compare-and-swap and retries:
 * see store_ldap.h), reached only through the operations table at the end
 * (store_backend.h).  The connection is store_ldap_conn.c's; this file seals
 * and opens the values, and decides what to swap.
 *
 * Every value read from the directory is untrusted: it is opened with the
 * key ring and the user's name (record.h, state.h), and a value that does
 * not open is an error of that user, never handed to fn and never replaced.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/store_keys.h"
#include "mfauth/store_ldap.h"
#include "mfauth/store_ldap_conn.h"

/* The check's findings are shown by the tool, in its text domain (as store_files.c). */
#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) dgettext("mfauth", s)
#else
#define _(s) (s)
#endif

#define DECOY_USER MFA_STORE_LDAP_DECOY
#define TRIES MFA_STORE_LDAP_TRIES

/*
 * The last entry load (or load_decoy) read, kept for the one update or
 * state read that follows it in the same login: a login is then one search
 * and one modify after the bind.  Safe by construction: the update's swap
 * names the exact state value this read saw, so if anything changed since,
 * the swap fails and the update reads afresh.  Used once, then dropped;
 * every write of this handle drops it too.
 */
struct entry_cache {
	char user[MFA_USER_MAX + 1]; /* "" = empty */
	struct mfa_ldap_entry e;
};

struct ldap_store {
	struct mfa_ldap *conn;
	struct mfa_key keys[MFA_RING_MAX];
	struct mfa_keyring ring;
	struct entry_cache cache;
};

static const struct mfa_key *write_key(const struct ldap_store *s)
{
	return mfa_store_keys_write_key(&s->ring);
}

/*
 * The key an entry's next values are sealed under: the key its state is
 * sealed under now (used, from open_state), else the write key (a new
 * entry, or a state that did not open).  An entry thus changes key only by
 * rekey_user: a machine holding a staged key (store_keys.h) keeps writing
 * the old key where the fleet still reads it, and writes the new key on an
 * entry already re-sealed, never taking it back to a key being retired.
 */
static const struct mfa_key *entry_key(const struct ldap_store *s, const struct mfa_key *used)
{
	return used != NULL ? used : write_key(s);
}

static int open_state(const struct ldap_store *s, const char *user, const unsigned char *v,
    size_t len, struct mfa_state *st, const struct mfa_key **used);

/*
 * The key a new entry is sealed under.  The machine running a rotation
 * seals under its next key.  Any other: under the key the decoy entry is
 * under (the rotation re-seals it last), so a staff machine that has not
 * retired the old key yet still enrolls under the new one once the
 * directory is re-sealed, and one that never got the new key is refused
 * (MFA_ERR_KEYID) instead of sealing what the fleet can no longer read.
 * Without a readable decoy: the write key.  One search more, on the tool's
 * enrollments only (terminals never create entries).
 */
static int new_entry_key(struct ldap_store *s, const struct mfa_key **key)
{
	struct mfa_ldap_entry e;
	struct mfa_state st;
	int rc;

	*key = write_key(s);
	if (s->ring.n > 1 && !s->ring.staged)
		return 0;
	memset(&e, 0, sizeof(e));
	if (mfa_ldap_read(s->conn, DECOY_USER, &e) == 0 && e.has_state) {
		rc = open_state(s, DECOY_USER, e.state, e.state_len, &st, key);
		mfa_wipe(&st, sizeof(st));
		if (rc == MFA_ERR_KEYID) {
			mfa_ldap_entry_free(&e);
			return rc;
		}
		if (rc != 0)
			*key = write_key(s);
	}
	mfa_ldap_entry_free(&e);
	return 0;
}

/* --- the bind password ------------------------------------------------------------------- */

/*
 * ldap_bind_pw_file, opened like the key file (invariant 5: a trusted path,
 * root-owned, mode 0600 at most), one trailing newline dropped.  *pw is a
 * malloc'd buffer the caller wipes and frees; its bytes are never logged.
 */
static int read_bind_pw(const char *path, char **pw, size_t *len, struct mfa_path_error *err)
{
	char name[NAME_MAX + 1];
	char *data = NULL;
	size_t n = 0;
	int dirfd, fd, rc;

	*pw = NULL;
	*len = 0;
	if ((dirfd = mfa_open_trusted_parent(path, name, err)) < 0)
		return dirfd == MFA_ERR_NOENT || dirfd == MFA_ERR_IO ? MFA_ERR_CONFIG : dirfd;
	fd = mfa_open_trusted_at(dirfd, name, O_RDONLY, false, 0600, path, err);
	close(dirfd);
	if (fd < 0)
		return fd == MFA_ERR_NOENT || fd == MFA_ERR_IO ? MFA_ERR_CONFIG : fd;
	rc = mfa_read_fd_all(fd, MFA_STORE_LDAP_PW_MAX, &data, &n);
	close(fd);
	if (rc != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
		    rc == MFA_ERR_RANGE ? "longer than a password file may be" : "cannot be read");
		return rc == MFA_ERR_RANGE ? MFA_ERR_CONFIG : rc;
	}
	if (n > 0 && data[n - 1] == '\n')
		n--;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	if (n == 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: empty (no password)", path);
		mfa_wipe(data, n + 1);
		free(data);
		return MFA_ERR_CONFIG;
	}
	*pw = data;
	*len = n;
	return 0;
}

/* --- opening ------------------------------------------------------------------------------ */

/* Connect with cfg's settings, to uris (cfg's own when NULL). */
static int connect_dir(const struct mfa_config *cfg, const char *uris, struct mfa_ldap **out,
    struct mfa_path_error *err)
{
	struct mfa_ldap_settings set;
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	if ((rc = read_bind_pw(cfg->ldap_bind_pw_file, &pw, &pwlen, err)) != 0)
		return rc;
	memset(&set, 0, sizeof(set));
	set.uris = uris != NULL ? uris : cfg->ldap_uri;
	set.base = cfg->ldap_base;
	set.bind_dn = cfg->ldap_bind_dn;
	set.bind_pw = (const unsigned char *)pw;
	set.bind_pw_len = pwlen;
	set.ca_file = cfg->ldap_ca_file;
	set.starttls = cfg->ldap_starttls;
	set.timeout = cfg->ldap_timeout;
	rc = mfa_ldap_open(&set, out);
	mfa_wipe(pw, pwlen);
	free(pw);
	if (rc != 0)
		snprintf(err->msg, sizeof(err->msg), "%s: %s", set.uris, mfa_strerror(rc));
	return rc;
}

static void ldap_close(void *handle);

static int ldap_open(const struct mfa_config *cfg, void **out, struct mfa_path_error *err)
{
	struct mfa_config_error cerr;
	struct ldap_store *s;
	int rc;

	if (mfa_config_check(cfg, &cerr) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s", cerr.msg);
		return MFA_ERR_CONFIG;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MFA_ERR_NOMEM;
	/* The key first: a terminal without it has nothing to ask the directory for. */
	if ((rc = mfa_store_keys_load(cfg, s->keys, &s->ring, err)) != 0 ||
	    (rc = connect_dir(cfg, NULL, &s->conn, err)) != 0) {
		ldap_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void ldap_close(void *handle)
{
	struct ldap_store *s = handle;

	if (s == NULL)
		return;
	mfa_ldap_entry_free(&s->cache.e);
	mfa_ldap_close(s->conn);
	mfa_wipe(s->keys, sizeof(s->keys));
	free(s);
}

/* --- sealing and opening values ------------------------------------------------------------ */

/*
 * One state slot, opened with the ring's key of the id it names; *used
 * (may be NULL) is that key when it opened, else NULL.
 */
static int open_state(const struct ldap_store *s, const char *user, const unsigned char *v,
    size_t len, struct mfa_state *st, const struct mfa_key **used)
{
	int rc = MFA_ERR_KEYID;
	size_t i = s->ring.n;

	if (used != NULL)
		*used = NULL;
	if (len != MFA_STATE_SLOT_LEN)
		return MFA_ERR_CORRUPT;
	/* unseal_slot answers MFA_ERR_KEYID before any decryption when the id differs. */
	while (
	    i-- > 0 && (rc = mfa_state_unseal_slot(s->ring.keys[i], user, v, st)) == MFA_ERR_KEYID)
		;
	if (rc == 0 && used != NULL)
		*used = s->ring.keys[i];
	return rc;
}

/* The record, opened with the ring's key of the id it names; *used as open_state's. */
static int open_record(const struct ldap_store *s, const char *user, const unsigned char *v,
    size_t len, struct mfa_record *rec, const struct mfa_key **used)
{
	const uint8_t *id = len <= MFA_RECORD_MAX ? mfa_record_keyid(v, len) : NULL;
	const struct mfa_key *key = id != NULL ? mfa_keyring_find(&s->ring, id) : NULL;
	int rc;

	if (used != NULL)
		*used = NULL;
	if (id == NULL)
		return MFA_ERR_CORRUPT;
	if (key == NULL)
		return MFA_ERR_KEYID;
	rc = mfa_record_unseal(key, user, v, len, rec);
	if (rc == 0 && used != NULL)
		*used = key;
	return rc;
}

static void cache_drop(struct ldap_store *s)
{
	mfa_ldap_entry_free(&s->cache.e);
	s->cache.user[0] = '\0';
}

/* Keep a copy of what was read for user (nothing on failure: the cache is an optimisation). */
static void cache_keep(struct ldap_store *s, const char *user, const struct mfa_ldap_entry *e)
{
	struct mfa_ldap_entry *c = &s->cache.e;

	cache_drop(s);
	if (strlen(user) >= sizeof(s->cache.user))
		return;
	if (e->has_record && (c->record = malloc(e->record_len ? e->record_len : 1)) == NULL)
		return;
	if (e->has_state && (c->state = malloc(e->state_len ? e->state_len : 1)) == NULL) {
		cache_drop(s);
		return;
	}
	if (e->has_record)
		memcpy(c->record, e->record, e->record_len);
	if (e->has_state)
		memcpy(c->state, e->state, e->state_len);
	c->record_len = e->record_len;
	c->has_record = e->has_record;
	c->state_len = e->state_len;
	c->has_state = e->has_state;
	strcpy(s->cache.user, user);
}

/*
 * A user's entry, read whole (one search): both values, if any.  With
 * use_cache, the entry load just read for the same user, if any (taken:
 * the cache is empty afterwards).
 */
static int read_entry_from(struct ldap_store *s, const char *user, struct mfa_ldap_entry *e,
    bool use_cache)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if (use_cache && s->cache.user[0] != '\0' && strcmp(s->cache.user, user) == 0) {
		*e = s->cache.e;
		memset(&s->cache.e, 0, sizeof(s->cache.e));
		s->cache.user[0] = '\0';
		return 0;
	}
	cache_drop(s);
	if ((rc = mfa_name_check(user)) != 0)
		return rc;
	return mfa_ldap_read(s->conn, user, e);
}

static int read_entry(struct ldap_store *s, const char *user, struct mfa_ldap_entry *e)
{
	return read_entry_from(s, user, e, false);
}

/* --- reading -------------------------------------------------------------------------------- */

/*
 * No entry for the user: not enrolled, or an entry this identity cannot
 * see (an ACL that hides entries, a wrong base).  Told apart by the decoy
 * entry `mfauth init` makes, which every terminal must see as it sees a
 * user's: visible, the user is not enrolled (MFA_ERR_NOENT, and the decoy
 * read is kept for the unknown user's login that follows, as one search);
 * not visible, MFA_ERR_DIR_DENIED, so that `nullok` never lets a clerk in
 * because the directory hides every entry (fail closed).
 */
static int no_entry(struct ldap_store *s)
{
	struct mfa_ldap_entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = mfa_ldap_read(s->conn, DECOY_USER, &e);
	if (rc == MFA_ERR_NOENT || (rc == 0 && !e.has_state))
		rc = MFA_ERR_DIR_DENIED;
	if (rc == 0)
		cache_keep(s, DECOY_USER, &e);
	mfa_ldap_entry_free(&e);
	return rc == 0 ? MFA_ERR_NOENT : rc;
}

static int ldap_load(void *handle, const char *user, struct mfa_record *rec)
{
	struct ldap_store *s = handle;
	struct mfa_ldap_entry e;
	int rc;

	memset(rec, 0, sizeof(*rec));
	if ((rc = read_entry(s, user, &e)) == MFA_ERR_NOENT)
		return no_entry(s);
	if (rc != 0)
		return rc;
	rc = e.has_record ? open_record(s, user, e.record, e.record_len, rec, NULL) : MFA_ERR_NOENT;
	if (rc == 0)
		cache_keep(s, user, &e);
	mfa_ldap_entry_free(&e);
	return rc;
}

static int ldap_read_state(void *handle, const char *user, struct mfa_state *st)
{
	struct ldap_store *s = handle;
	struct mfa_ldap_entry e;
	int rc;

	if ((rc = read_entry_from(s, user, &e, true)) != 0)
		return rc == MFA_ERR_NOENT ? MFA_ERR_NOSTATE : rc;
	rc = e.has_state ? open_state(s, user, e.state, e.state_len, st, NULL) : MFA_ERR_NOSTATE;
	mfa_ldap_entry_free(&e);
	return rc;
}

/* --- writing: compare-and-swap ------------------------------------------------------------- */

/*
 * Swap the state from the value read (old NULL: none yet) to st with the
 * next sequence number.  MFA_ERR_DIR_CONFLICT when another writer came first.
 */
static int swap_state(struct ldap_store *s, const char *user, const struct mfa_ldap_entry *e,
    const struct mfa_key *key, uint64_t old_seq, struct mfa_state *st)
{
	uint8_t slot[MFA_STATE_SLOT_LEN];
	int rc;

	st->seq = old_seq + 1;
	if ((rc = mfa_state_seal_slot(key, user, st, slot)) != 0)
		return rc;
	return mfa_ldap_swap(s->conn, user, MFA_LDAP_STATE, e->has_state ? e->state : NULL,
	    e->has_state ? e->state_len : 0, slot, sizeof(slot));
}

/*
 * One attempt of an update: read (the first attempt: what load just read,
 * if that is at hand), decide, swap.  A lost swap is MFA_ERR_DIR_CONFLICT.
 */
static int update_once(struct ldap_store *s, const char *user, mfa_state_fn fn, void *ctx,
    bool first)
{
	const struct mfa_key *key = NULL;
	struct mfa_ldap_entry e;
	struct mfa_state st;
	uint64_t seq;
	int rc;

	memset(&st, 0, sizeof(st));
	if ((rc = read_entry_from(s, user, &e, first)) != 0)
		return rc == MFA_ERR_NOENT ? MFA_ERR_NOSTATE : rc;
	if (!e.has_state)
		rc = MFA_ERR_NOSTATE;
	else
		rc = open_state(s, user, e.state, e.state_len, &st, &key);
	seq = st.seq;
	if (rc == 0 && (rc = fn(&st, ctx)) > 0)
		rc = swap_state(s, user, &e, key, seq, &st);
	mfa_wipe(&st, sizeof(st));
	mfa_ldap_entry_free(&e);
	return rc;
}

static int ldap_update(void *handle, const char *user, mfa_state_fn fn, void *ctx)
{
	int rc = MFA_ERR_DIR_CONFLICT;

	for (int i = 0; i < TRIES && rc == MFA_ERR_DIR_CONFLICT; i++)
		rc = update_once(handle, user, fn, ctx, i == 0);
	return rc;
}

/*
 * The state (sealed into slot) and the record (file: its new bytes, or NULL
 * to remove it) in one modify: both change, or neither (an ACL refusal too).
 */
static int swap_both(struct ldap_store *s, const char *user, const struct mfa_ldap_entry *e,
    const uint8_t *slot, const struct mfa_buf *file)
{
	const struct mfa_ldap_cas cas[2] = {
		{ MFA_LDAP_STATE, e->has_state ? e->state : NULL, e->has_state ? e->state_len : 0,
		    slot, MFA_STATE_SLOT_LEN },
		{ MFA_LDAP_RECORD, e->has_record ? e->record : NULL,
		    e->has_record ? e->record_len : 0, file != NULL ? file->data : NULL,
		    file != NULL ? file->len : 0 },
	};

	return mfa_ldap_swap_many(s->conn, user, cas, 2);
}

/*
 * Write what a change's fn asked for, sealed under key, in one operation: a
 * missing entry is added whole; otherwise one modify swaps the state (whenever anything is
 * written, with MFA_CHANGE_STATE or not: the state's old value is what
 * orders two staff changes) and, in the same modify, the record or its
 * removal.  Both change or neither does: the new state (a raised replay
 * watermark) is never without the record that goes with it (store.h).
 */
static int apply_change(struct ldap_store *s, const char *user, const struct mfa_ldap_entry *e,
    const struct mfa_key *key, bool entry_exists, uint64_t seq, int what, struct mfa_state *st,
    const struct mfa_record *rec)
{
	uint8_t slot[MFA_STATE_SLOT_LEN];
	bool record = (what & MFA_CHANGE_RECORD) != 0;
	bool drop = !record && (what & MFA_CHANGE_REMOVE) != 0;
	struct mfa_buf file;
	int rc;

	if (drop && !e->has_record)
		return MFA_ERR_NOENT; /* as the files backend's unlink of a missing record */
	if (entry_exists && !record && !drop)
		return swap_state(s, user, e, key, seq, st); /* the state alone */
	st->seq = seq + 1;
	if ((rc = mfa_state_seal_slot(key, user, st, slot)) != 0)
		return rc;
	mfa_buf_init(&file);
	if (record && (rc = mfa_record_seal(key, user, rec, &file)) != 0)
		goto out;
	if (entry_exists) {
		rc = swap_both(s, user, e, slot, record ? &file : NULL);
		goto out;
	}
	rc = mfa_ldap_add(s->conn, user, record ? file.data : NULL, file.len, slot, sizeof(slot));
	/* Someone else created it meanwhile: decide again on what they wrote. */
	if (rc == MFA_ERR_EXISTS)
		rc = MFA_ERR_DIR_CONFLICT;
out:
	mfa_buf_free(&file);
	return rc;
}

static int change_once(struct ldap_store *s, const char *user, bool create, mfa_change_fn fn,
    void *ctx)
{
	const struct mfa_key *key = NULL;
	struct mfa_ldap_entry e;
	struct mfa_record rec;
	struct mfa_state st;
	bool entry_exists;
	uint64_t seq = 0;
	int rc;

	memset(&rec, 0, sizeof(rec));
	memset(&st, 0, sizeof(st));
	rc = read_entry(s, user, &e);
	if (rc != 0 && rc != MFA_ERR_NOENT)
		return rc;
	entry_exists = rc == 0;
	if (!create && (!entry_exists || (!e.has_record && !e.has_state))) {
		rc = MFA_ERR_NOENT;
		goto out;
	}
	/* A record that exists but does not open is reported, never replaced. */
	if (e.has_record && (rc = open_record(s, user, e.record, e.record_len, &rec, NULL)) != 0)
		goto out;
	if (e.has_state && (rc = open_state(s, user, e.state, e.state_len, &st, &key)) != 0)
		goto out;
	seq = st.seq;
	if ((rc = fn(&rec, e.has_record, &st, ctx)) > 0 && key == NULL)
		rc = new_entry_key(s, &key) == 0 ? rc : MFA_ERR_KEYID;
	if (rc > 0)
		rc = apply_change(s, user, &e, entry_key(s, key), entry_exists, seq, rc, &st, &rec);
out:
	mfa_record_wipe(&rec);
	mfa_wipe(&st, sizeof(st));
	mfa_ldap_entry_free(&e);
	return rc;
}

static int ldap_change(void *handle, const char *user, bool create, mfa_change_fn fn, void *ctx)
{
	int rc = MFA_ERR_DIR_CONFLICT;

	for (int i = 0; i < TRIES && rc == MFA_ERR_DIR_CONFLICT; i++)
		rc = change_once(handle, user, create, fn, ctx);
	return rc;
}

/* save is a change that puts the record (and creates the state when missing). */
static int put_record(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	(void)exists;
	(void)st;
	*rec = *(const struct mfa_record *)ctx;
	return MFA_CHANGE_RECORD;
}

static int ldap_save(void *handle, const char *user, const struct mfa_record *rec)
{
	return ldap_change(handle, user, true, put_record, (void *)rec);
}

/*
 * Remove the record, keeping the state (the replay watermark outlives the
 * record, as revoke keeps it): the entry stays with the state only.  The
 * files backend removes its state file too; nothing reads a revoked user's
 * state but a later enrollment, which is better off with the watermark.
 */
static int remove_record(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	(void)rec;
	(void)st;
	(void)ctx;
	return exists ? MFA_CHANGE_REMOVE : MFA_ERR_NOENT;
}

static int ldap_remove(void *handle, const char *user)
{
	return ldap_change(handle, user, false, remove_record, NULL);
}

/* --- the decoy ----------------------------------------------------------------------------- */

/*
 * An unknown user's login reads the decoy entry as an enrolled user's
 * login reads its own (one search of the same shape) and opens its state.
 * What differs: the enrolled read returns a record too (about 200 bytes
 * more), and opens it.
 */
static void ldap_load_decoy(void *handle)
{
	struct ldap_store *s = handle;
	struct mfa_ldap_entry e;
	struct mfa_state st;

	memset(&e, 0, sizeof(e));
	if (s->cache.user[0] != '\0' && strcmp(s->cache.user, DECOY_USER) == 0)
		return; /* read just now by load (no_entry), kept for the update */
	cache_drop(s);
	if (mfa_ldap_read(s->conn, DECOY_USER, &e) == 0 && e.has_state &&
	    open_state(s, DECOY_USER, e.state, e.state_len, &st, NULL) == 0) {
		mfa_wipe(&st, sizeof(st));
		cache_keep(s, DECOY_USER, &e);
	}
	mfa_ldap_entry_free(&e);
}

/*
 * The decoy's update: read, fn, one swap, as an enrolled user's wrong code
 * costs.  A state that does not open starts over; a lost swap is not tried
 * again (the decoy holds nothing; a retry would only make unknown users
 * queue behind each other).  Without a decoy entry (`mfauth init` creates
 * it; terminals may not add entries) fn runs on an empty state and nothing
 * is written: such a login costs one modify less than an enrolled user's.
 */
static int ldap_update_decoy(void *handle, mfa_state_fn fn, void *ctx)
{
	struct ldap_store *s = handle;
	const struct mfa_key *key = NULL;
	struct mfa_ldap_entry e;
	struct mfa_state st;
	uint64_t seq = 0;
	int rc;

	memset(&st, 0, sizeof(st));
	memset(&e, 0, sizeof(e));
	if (s->cache.user[0] != '\0' && strcmp(s->cache.user, DECOY_USER) == 0) {
		e = s->cache.e;
		memset(&s->cache.e, 0, sizeof(s->cache.e));
		s->cache.user[0] = '\0';
	} else if ((rc = mfa_ldap_read(s->conn, DECOY_USER, &e)) != 0 && rc != MFA_ERR_NOENT) {
		return rc;
	}
	rc = e.has_state ? open_state(s, DECOY_USER, e.state, e.state_len, &st, &key) : 0;
	/*
	 * A state that does not open starts over under the write key -- but one
	 * under a key this machine does not hold is left alone: re-sealed under
	 * ours, the machines holding only the other could no longer open it.
	 */
	if (rc != 0) {
		memset(&st, 0, sizeof(st));
		key = rc == MFA_ERR_KEYID ? NULL : write_key(s);
	}
	seq = st.seq;
	if ((rc = fn(&st, ctx)) > 0) {
		rc = e.has_state && key != NULL ? swap_state(s, DECOY_USER, &e, key, seq, &st) : 0;
		if (rc == MFA_ERR_DIR_CONFLICT || rc == MFA_ERR_NOENT)
			rc = 0;
	}
	mfa_wipe(&st, sizeof(st));
	mfa_ldap_entry_free(&e);
	return rc < 0 ? rc : 0;
}

/* --- init: the key and the decoy entry ------------------------------------------------------- */

/* The decoy entry, added with an empty state when missing. */
static int add_decoy(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	uint8_t slot[MFA_STATE_SLOT_LEN];
	struct ldap_store *s = NULL;
	struct mfa_state st;
	int rc;

	if ((rc = ldap_open(cfg, (void **)&s, err)) != 0)
		return rc;
	memset(&st, 0, sizeof(st));
	st.seq = 1;
	if ((rc = mfa_state_seal_slot(write_key(s), DECOY_USER, &st, slot)) == 0)
		rc = mfa_ldap_add(s->conn, DECOY_USER, NULL, 0, slot, sizeof(slot));
	if (rc == MFA_ERR_EXISTS)
		rc = 0;
	if (rc != 0)
		snprintf(err->msg, sizeof(err->msg), "cn=%s,%s: cannot add the decoy entry: %s",
		    DECOY_USER, cfg->ldap_base, mfa_strerror(rc));
	ldap_close(s);
	return rc;
}

/*
 * `mfauth init` with staff credentials: the key file (never overwritten:
 * MFA_ERR_EXISTS, as with files; another staff machine or a terminal gets
 * the fleet's key by a copy) and the decoy entry.  With the key already
 * there, the decoy entry is still added, and the answer is MFA_ERR_EXISTS.
 */
static int ldap_init(const struct mfa_config *cfg, struct mfa_path_error *err)
{
	struct mfa_path_error scratch = { "" };
	struct mfa_key key;
	int key_rc, rc;

	key_rc = mfa_key_create(cfg->key_file, &key, err);
	mfa_key_wipe(&key);
	if (key_rc != 0 && key_rc != MFA_ERR_EXISTS)
		return key_rc;
	if ((rc = add_decoy(cfg, &scratch)) != 0) {
		memcpy(err, &scratch, sizeof(*err));
		return rc;
	}
	return key_rc;
}

/* --- listing --------------------------------------------------------------------------------- */

struct name_list {
	char **names;
	size_t n, cap;
};

static int collect(const char *user, void *arg)
{
	struct name_list *l = arg;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **p = realloc(l->names, ncap * sizeof(*p));
		if (p == NULL)
			return MFA_ERR_NOMEM;
		l->names = p;
		l->cap = ncap;
	}
	if ((l->names[l->n] = strdup(user)) == NULL)
		return MFA_ERR_NOMEM;
	l->n++;
	return 0;
}

/* Every entry's name under the base (the decoy's too), in the server's order. */
static int list_entries(struct ldap_store *s, struct name_list *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	rc = mfa_ldap_list(s->conn, collect, l, 0);
	if (rc != 0) {
		mfa_store_list_free(l->names, l->n);
		memset(l, 0, sizeof(*l));
	}
	return rc;
}

/* What ldap_list gathers: the names with the attribute it looks for; names no user could have. */
struct listing {
	enum mfa_ldap_attr want;
	struct name_list out;
	size_t bad;
};

static int collect_present(const char *user, const bool present[2], void *arg)
{
	struct listing *l = arg;

	if (strcmp(user, DECOY_USER) == 0 || !present[l->want])
		return 0;
	if (mfa_name_check(user) != 0) {
		l->bad++;
		return 0;
	}
	return collect(user, &l->out);
}

/*
 * The users with a record (states false) or with a state (true): one paged
 * search that names the attributes each entry holds, no values (a tool
 * command only: terminals never list).  Names no user could have are
 * skipped (and counted).
 */
static int ldap_list(void *handle, bool states, char ***names, size_t *count, size_t *skipped)
{
	struct ldap_store *s = handle;
	struct listing l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.want = states ? MFA_LDAP_STATE : MFA_LDAP_RECORD;
	if ((rc = mfa_ldap_list_present(s->conn, collect_present, &l, 0)) != 0) {
		mfa_store_list_free(l.out.names, l.out.n);
		return rc;
	}
	*names = l.out.names;
	*count = l.out.n;
	if (skipped != NULL)
		*skipped = l.bad;
	return 0;
}

/* --- rekey ----------------------------------------------------------------------------------- */

/* A user's entry (user NULL: the decoy's) for rekey: NOENT when there is none. */
static int read_for_rekey(struct ldap_store *s, const char *user, struct mfa_ldap_entry *e)
{
	if (user != NULL)
		return read_entry(s, user, e);
	cache_drop(s);
	memset(e, 0, sizeof(*e));
	return mfa_ldap_read(s->conn, DECOY_USER, e);
}

/*
 * Open what the entry holds; *st_key and *rec_key are the keys they are
 * under (rec_key NULL: no record).  An entry without a state is
 * MFA_ERR_NOSTATE (every entry the tool writes has one).
 */
static int open_entry(const struct ldap_store *s, const char *user, const struct mfa_ldap_entry *e,
    struct mfa_state *st, struct mfa_record *rec, const struct mfa_key **st_key,
    const struct mfa_key **rec_key)
{
	int rc;

	*rec_key = NULL;
	if (!e->has_state)
		return MFA_ERR_NOSTATE;
	if ((rc = open_state(s, user, e->state, e->state_len, st, st_key)) != 0)
		return rc;
	return e->has_record ? open_record(s, user, e->record, e->record_len, rec, rec_key) : 0;
}

/* Re-seal whatever is not under the write key yet: state and record in one swap. */
static int rekey_once(struct ldap_store *s, const char *user)
{
	const char *name = user != NULL ? user : DECOY_USER;
	const struct mfa_key *key = write_key(s), *st_key = NULL, *rec_key = NULL;
	struct mfa_ldap_entry e;
	struct mfa_record rec;
	struct mfa_state st;
	int rc;

	memset(&rec, 0, sizeof(rec));
	memset(&st, 0, sizeof(st));
	if ((rc = read_for_rekey(s, user, &e)) != 0) {
		if (rc == MFA_ERR_NOENT)
			rc = user != NULL ? MFA_ERR_NOSTATE : 0; /* no decoy: nothing to re-seal */
		return rc;
	}
	rc = open_entry(s, name, &e, &st, &rec, &st_key, &rec_key);
	if (rc == 0 && (st_key != key || (rec_key != NULL && rec_key != key)))
		rc = apply_change(s, name, &e, key, true, st.seq,
		    rec_key == NULL || rec_key == key ? MFA_CHANGE_STATE :
		                                        MFA_CHANGE_STATE | MFA_CHANGE_RECORD,
		    &st, &rec);
	mfa_record_wipe(&rec);
	mfa_wipe(&st, sizeof(st));
	mfa_ldap_entry_free(&e);
	return rc;
}

static int ldap_rekey_user(void *handle, const char *user)
{
	int rc = MFA_ERR_DIR_CONFLICT;

	for (int i = 0; i < TRIES && rc == MFA_ERR_DIR_CONFLICT; i++)
		rc = rekey_once(handle, user);
	return rc;
}

/* Whether the entry's values are all under the key that stays (store.h): a read, no write. */
static int ldap_rekey_pending(void *handle, const char *user)
{
	struct ldap_store *s = handle;
	const char *name = user != NULL ? user : DECOY_USER;
	const struct mfa_key *last = mfa_store_keys_last_key(&s->ring), *st_key, *rec_key;
	struct mfa_ldap_entry e;
	struct mfa_record rec;
	struct mfa_state st;
	int rc;

	memset(&rec, 0, sizeof(rec));
	memset(&st, 0, sizeof(st));
	if ((rc = read_for_rekey(s, user, &e)) != 0)
		return rc == MFA_ERR_NOENT && user != NULL ? 0 : rc;
	rc = open_entry(s, name, &e, &st, &rec, &st_key, &rec_key);
	if (rc == MFA_ERR_NOSTATE && e.has_record)
		rc = open_record(s, name, e.record, e.record_len, &rec, &rec_key);
	else if (rc == MFA_ERR_NOSTATE)
		rc = 0;
	if (rc == 0 && ((e.has_state && st_key != last) || (e.has_record && rec_key != last)))
		rc = MFA_ERR_KEYID;
	mfa_record_wipe(&rec);
	mfa_wipe(&st, sizeof(st));
	mfa_ldap_entry_free(&e);
	return rc;
}

/* --- check ----------------------------------------------------------------------------------- */

/* A server certificate this close to its end is a warning: renewing it takes a change window. */
#define CERT_WARN_DAYS 30

struct scan {
	const struct mfa_config *cfg;
	const struct mfa_store_inspector *ins;
	void *ctx;
	uint64_t now;
	char detail[MFA_USER_MAX * 4 + 512];
	char subject[MFA_CONFIG_LINE_MAX + 8];
};

static void say(struct scan *sc, enum mfa_store_sev sev, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(struct scan *sc, enum mfa_store_sev sev, const char *subject, const char *fmt, ...)
{
	struct mfa_store_finding f;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sc->detail, sizeof(sc->detail), fmt, ap);
	va_end(ap);
	f.sev = sev;
	f.what = "store";
	f.subject = subject;
	f.detail = sc->detail;
	sc->ins->finding(&f, sc->ctx);
}

/* The end of validity of a DER certificate, as epoch seconds; -1 when it does not parse. */
static int64_t cert_not_after(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = len <= 65536 ? d2i_X509(NULL, &p, (long)len) : NULL;
	struct tm tm;
	int64_t t = -1;

	memset(&tm, 0, sizeof(tm));
	if (x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		t = (int64_t)timegm(&tm);
	X509_free(x);
	return t;
}

/* The certificate the server just presented: its expiry, a warning when near. */
static void check_cert(struct scan *sc, struct mfa_ldap *c)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int64_t end;
	char when[32];
	struct tm tm;
	time_t tt;
	int rc = mfa_ldap_peer_cert(c, &der, &len);

	if (rc == MFA_ERR_NOENT)
		return; /* ldapi:// or plain ldap://: no certificate to speak of */
	/* A certificate libldap could not hand over is one whose end nobody read. */
	end = rc == 0 ? cert_not_after(der, len) : -1;
	free(der);
	tt = (time_t)end;
	if (end < 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		say(sc, MFA_STORE_WARNING, sc->subject, "%s",
		    _("the server's certificate has no readable end of validity"));
		return;
	}
	if ((uint64_t)end < sc->now + (uint64_t)CERT_WARN_DAYS * 86400)
		say(sc, MFA_STORE_WARNING, sc->subject,
		    _("the server's certificate expires on %s, "
		      "in less than %d days: renew it"),
		    when, CERT_WARN_DAYS);
	else
		say(sc, MFA_STORE_OK, sc->subject, _("the server's certificate is valid until %s"),
		    when);
}

/* Each URI on its own: reachable, TLS as configured, the bind accepted, the certificate. */
static void check_uris(struct scan *sc)
{
	const char *p = sc->cfg->ldap_uri;

	for (;;) {
		struct mfa_path_error err = { "" };
		struct mfa_ldap *c = NULL;
		size_t n;
		int rc;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (n = 0; p[n] != '\0' && p[n] != ' ' && p[n] != '\t'; n++)
			;
		if (n >= sizeof(sc->subject))
			n = sizeof(sc->subject) - 1;
		memcpy(sc->subject, p, n);
		sc->subject[n] = '\0';
		p += n;
		rc = connect_dir(sc->cfg, sc->subject, &c, &err);
		if (rc == 0) {
			say(sc, MFA_STORE_OK, sc->subject, _("reachable, bind as %s accepted"),
			    sc->cfg->ldap_bind_dn);
			check_cert(sc, c);
		} else if (err.msg[0] != '\0' && rc != MFA_ERR_DIR_UNREACHABLE &&
		    rc != MFA_ERR_DIR_TLS && rc != MFA_ERR_DIR_AUTH && rc != MFA_ERR_DIR)
			say(sc, MFA_STORE_ERROR, sc->subject, "%s",
			    err.msg); /* the password file */
		else
			say(sc, rc == MFA_ERR_DIR_UNREACHABLE ? MFA_STORE_WARNING : MFA_STORE_ERROR,
			    sc->subject, "%s", _(mfa_strerror(rc)));
		mfa_ldap_close(c);
	}
}

/* The key id the decoy's state claims: the key the fleet is on (rekey seals the decoy last). */
static void check_decoy_key(struct scan *sc, struct ldap_store *s)
{
	struct mfa_ldap_entry e;
	const uint8_t *id;

	memset(&e, 0, sizeof(e));
	if (sc->ins->store_key == NULL || mfa_ldap_read(s->conn, DECOY_USER, &e) != 0)
		return;
	id = e.has_state && e.state_len == MFA_STATE_SLOT_LEN ?
	    mfa_state_slot_keyid(e.state) :
	    NULL;
	if (id != NULL)
		sc->ins->store_key(id, sc->ctx);
	mfa_ldap_entry_free(&e);
}

/* Each user found under the base, handed to the caller (who loads record and state). */
static int check_entries(struct scan *sc, struct ldap_store *s)
{
	struct name_list all;
	size_t users = 0;
	bool decoy = false;
	int rc;

	if ((rc = list_entries(s, &all)) != 0) {
		say(sc, MFA_STORE_ERROR, sc->cfg->ldap_base,
		    rc == MFA_ERR_NOENT ? _("the base entry does not exist") : _("cannot list: %s"),
		    _(mfa_strerror(rc)));
		return 0;
	}
	for (size_t i = 0; i < all.n; i++) {
		struct mfa_store_item it;
		struct mfa_ldap_entry e;
		char subject[MFA_USER_MAX * 3 + 600];

		if (strcmp(all.names[i], DECOY_USER) == 0) {
			decoy = true;
			check_decoy_key(sc, s);
			continue;
		}
		snprintf(subject, sizeof(subject), "cn=%s,%s", all.names[i], sc->cfg->ldap_base);
		if (mfa_name_check(all.names[i]) != 0) {
			say(sc, MFA_STORE_ERROR, subject, "%s",
			    _("entry name is not a user name (not written by mfauth)"));
			continue;
		}
		if (mfa_ldap_read(s->conn, all.names[i], &e) != 0)
			continue;
		memset(&it, 0, sizeof(it));
		it.user = all.names[i];
		it.has_record = e.has_record;
		it.subject = subject;
		it.readable = true;
		it.has_state = e.has_state;
		it.state_subject = subject;
		it.state_readable = e.has_state;
		it.state_keyid = e.has_state && e.state_len == MFA_STATE_SLOT_LEN ?
		    mfa_state_slot_keyid(e.state) :
		    NULL;
		it.record_keyid = e.has_record && e.record_len <= MFA_RECORD_MAX ?
		    mfa_record_keyid(e.record, e.record_len) :
		    NULL;
		if (e.has_record && !e.has_state)
			say(sc, MFA_STORE_ERROR, subject,
			    _("record without a state: %s cannot log in "
			      "(enroll again or revoke)"),
			    all.names[i]);
		if (e.has_record || e.has_state) {
			sc->ins->item(&it, sc->ctx);
			users++;
		}
		mfa_ldap_entry_free(&e);
	}
	mfa_store_list_free(all.names, all.n);
	/* The schema is there when an entry of class mfauthUser is (the decoy at least). */
	if (!decoy)
		say(sc, MFA_STORE_WARNING, sc->cfg->ldap_base, "%s",
		    _("no decoy entry "
		      "(cn=/decoy): unknown users' logins cost less than enrolled users'; run "
		      "mfauth init with staff credentials"));
	else
		say(sc, MFA_STORE_OK, sc->cfg->ldap_base,
		    _("base present, mfauthUser schema in "
		      "use, %zu users"),
		    users);
	return 0;
}

static int ldap_check(const struct mfa_config *cfg, void *handle, uint64_t now,
    const struct mfa_store_inspector *ins, void *ctx)
{
	struct scan sc;

	memset(&sc, 0, sizeof(sc));
	sc.now = now;
	sc.cfg = cfg;
	sc.ins = ins;
	sc.ctx = ctx;
	check_uris(&sc);
	if (handle == NULL)
		return 0;
	return check_entries(&sc, handle);
}

const struct mfa_store_ops mfa_store_ldap_ops = {
	.name = "ldap",
	.open = ldap_open,
	.close = ldap_close,
	.init = ldap_init,
	.load = ldap_load,
	.save = ldap_save,
	.change = ldap_change,
	.update = ldap_update,
	.read_state = ldap_read_state,
	.remove = ldap_remove,
	.list = ldap_list,
	.load_decoy = ldap_load_decoy,
	.update_decoy = ldap_update_decoy,
	.decoy_where = "cn=" DECOY_USER,
	.check = ldap_check,
	.rekey_begin = mfa_store_keys_begin_staged,
	.rekey_user = ldap_rekey_user,
	.rekey_finish = mfa_store_keys_finish,
	.rekey_pending = ldap_rekey_pending,
};
