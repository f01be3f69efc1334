/*
 * mfauth check, part 2: this machine's key files and, over the directory,
 * whether they open what the fleet is sealed under (doc/DESIGN.md §4
 * "Directory backend", Rekey).
 *
 * key_file, and beside it the staged key_file.next and a running rotation's
 * key_file.new (store_keys.h): each is checked as the key itself is (owner,
 * mode, links, size) and named by its key id, which is not secret (a hash
 * of the key: seal.h), so a staff member can compare machines by it; the
 * key bytes are wiped at once and never printed.  The store scan
 * (check_store.c) then counts the entries under each key id and hands over
 * the key the decoy entry is under: the rotation re-seals it last, so it is
 * the key the fleet is on.  A machine that does not hold that key, or the
 * key of any entry, is told so here before a login of it fails (key_id).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "mfauth/err.h"

static const char *const key_suffix[CHECK_KEY_FILES] = { "", ".next", ".new" };

/* Ownership and mode of a key file; returns the worst severity reported. */
static enum sev key_file_modes(struct report *r, const char *path, const struct stat *st)
{
	mode_t mode = st->st_mode & 07777;
	enum sev worst = SEV_OK;

	if (S_ISLNK(st->st_mode)) {
		check_report(r, SEV_CRITICAL, "key", path, "%s", _("is a symbolic link"));
		return SEV_CRITICAL;
	}
	if (!S_ISREG(st->st_mode)) {
		check_report(r, SEV_CRITICAL, "key", path, "%s", _("not a regular file"));
		return SEV_CRITICAL;
	}
	if (st->st_uid != 0) {
		check_report(r, SEV_CRITICAL, "key", path, _("owned by uid %u, not root"),
		    (unsigned)st->st_uid);
		worst = SEV_CRITICAL;
	}
	if ((mode & 0022) != 0) {
		check_report(r, SEV_CRITICAL, "key", path,
		    _("writable by group or others (mode %04o)"), (unsigned)mode);
		worst = SEV_CRITICAL;
	}
	if ((mode & 0044) != 0) {
		check_report(r, SEV_CRITICAL, "key", path,
		    _("readable by group or others (mode %04o): "
		      "chmod 0400, and run mfauth rekey if anyone may have read it"),
		    (unsigned)mode);
		worst = SEV_CRITICAL;
	}
	if ((mode & ~(mode_t)0666) != 0) {
		check_report(r, SEV_ERROR, "key", path,
		    _("mode %04o has execute or special bits: want 0400"), (unsigned)mode);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	if (st->st_nlink != 1) {
		check_report(r, SEV_CRITICAL, "key", path,
		    _("has %lu hard links: a copy elsewhere may be "
		      "readable"),
		    (unsigned long)st->st_nlink);
		worst = SEV_CRITICAL;
	}
	if (st->st_size != MFA_KEY_LEN) {
		check_report(r, SEV_ERROR, "key", path, _("%lld bytes, want exactly %d"),
		    (long long)st->st_size, MFA_KEY_LEN);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	return worst;
}

/* id as hex into out (2 * MFA_KEYID_LEN + 1 bytes). */
static const char *hex_id(const uint8_t id[MFA_KEYID_LEN], char out[2 * MFA_KEYID_LEN + 1])
{
	for (size_t i = 0; i < MFA_KEYID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
	return out;
}

/*
 * One key file: its modes, and its key id into k when it loads.  A missing
 * key_file is an error (init creates it); the other two are simply absent.
 * Returns true when the file loads; *clean when nothing was found wrong.
 */
static bool key_file(struct report *r, const char *path, enum check_key_file which,
    struct check_keys *k, bool *clean)
{
	struct mfa_path_error perr = { "" };
	struct mfa_key key;
	struct stat st;
	enum sev worst;
	int rc;

	*clean = false;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT && which != CHECK_KEY_CURRENT)
			return false;
		if (errno == ENOENT)
			check_report(r, SEV_ERROR, "key", path, "%s",
			    _("missing (mfauth init creates it)"));
		else
			check_report(r, SEV_ERROR, "key", path, _("cannot stat: %s"),
			    strerror(errno));
		return false;
	}
	worst = key_file_modes(r, path, &st);
	memset(&key, 0, sizeof(key));
	rc = mfa_key_load(path, &key, &perr);
	if (rc == 0) {
		memcpy(k->id[which], key.id, MFA_KEYID_LEN);
		k->loaded[which] = true;
	}
	mfa_key_wipe(&key);
	/* Only when the checks above did not already say why. */
	if (rc != 0 && worst < SEV_ERROR)
		check_report(r, rc == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "key", path, "%s",
		    check_after_subject(perr.msg, path));
	if (rc == 0 && (st.st_mode & 0200) != 0) {
		check_report(r, SEV_WARNING, "key", path,
		    _("mode %04o: 0400 preferred (nothing writes the "
		      "key after mfauth init)"),
		    (unsigned)(st.st_mode & 07777));
		worst = SEV_WARNING;
	}
	*clean = rc == 0 && worst == SEV_OK;
	return rc == 0;
}

/* Key files (check.h). */
bool check_keys_files(const struct cli *c, struct report *r, struct check_keys *k)
{
	char path[PATH_MAX + 8], id[2 * MFA_KEYID_LEN + 1];
	bool loads = false, clean;

	memset(k, 0, sizeof(*k));
	for (int i = 0; i < CHECK_KEY_FILES; i++) {
		snprintf(path, sizeof(path), "%s%s", c->cfg.key_file, key_suffix[i]);
		if (!key_file(r, path, (enum check_key_file)i, k, &clean))
			continue;
		hex_id(k->id[i], id);
		if (i == CHECK_KEY_NEXT)
			check_report(r, SEV_WARNING, "key", path,
			    _("a rotation to key %s was interrupted or is running: run mfauth rekey "
			      "to finish"),
			    id);
		else if (i == CHECK_KEY_STAGED)
			check_report(r, SEV_INFO, "key", path,
			    _("a staged key, %s: read with, never sealed under, until mfauth "
			      "rekey rotates to it"),
			    id);
		else if (clean)
			check_report(r, SEV_OK, "key", path,
			    _("root-owned, mode 0400, %d bytes, loads; key %s"), MFA_KEY_LEN, id);
		else
			check_report(r, SEV_INFO, "key", path, _("loads; key %s"), id);
		if (i == CHECK_KEY_CURRENT)
			loads = true;
	}
	return loads;
}

/* The slot of id in k->under, added when new; NULL when the table is full. */
static struct check_key_count *count_of(struct check_keys *k, const uint8_t *id)
{
	for (size_t i = 0; i < k->nunder; i++)
		if (memcmp(k->under[i].id, id, MFA_KEYID_LEN) == 0)
			return &k->under[i];
	if (k->nunder == CHECK_KEYIDS_MAX)
		return NULL;
	memcpy(k->under[k->nunder].id, id, MFA_KEYID_LEN);
	k->under[k->nunder].entries = 0;
	return &k->under[k->nunder++];
}

void check_keys_count(struct check_keys *k, const uint8_t *state_id, const uint8_t *record_id)
{
	/* An entry's values are written together under its state's key (§4, Rekey). */
	const uint8_t *id = state_id != NULL ? state_id : record_id;
	struct check_key_count *n;

	if (id == NULL)
		return;
	if ((n = count_of(k, id)) != NULL)
		n->entries++;
	else
		k->other_entries++;
}

void check_keys_store_key(struct check_keys *k, const uint8_t *id)
{
	memcpy(k->store_key, id, MFA_KEYID_LEN);
	k->store_key_seen = true;
}

/* Which of this machine's key files holds id: CHECK_KEY_FILES when none. */
static enum check_key_file held(const struct check_keys *k, const uint8_t *id)
{
	for (int i = 0; i < CHECK_KEY_FILES; i++)
		if (k->loaded[i] && memcmp(k->id[i], id, MFA_KEYID_LEN) == 0)
			return (enum check_key_file)i;
	return CHECK_KEY_FILES;
}

static size_t entries_under(const struct check_keys *k, const uint8_t *id)
{
	for (size_t i = 0; i < k->nunder; i++)
		if (memcmp(k->under[i].id, id, MFA_KEYID_LEN) == 0)
			return k->under[i].entries;
	return 0;
}

/* Entries under keys this machine does not hold: each such key, an error. */
static void entries_not_held(const struct cli *c, struct report *r, const struct check_keys *k)
{
	char id[2 * MFA_KEYID_LEN + 1];

	for (size_t i = 0; i < k->nunder; i++)
		if (held(k, k->under[i].id) == CHECK_KEY_FILES)
			check_report(r, SEV_ERROR, "key", c->cfg.ldap_base,
			    _("entries sealed under key %s, which this machine does not hold: %zu "
			      "(their logins fail here; copy the staged key, %s.next, from the "
			      "staff machine that staged it)"),
			    hex_id(k->under[i].id, id), k->under[i].entries, c->cfg.key_file);
	if (k->other_entries > 0)
		check_report(r, SEV_ERROR, "key", c->cfg.ldap_base,
		    _("entries sealed under more keys than a rotation uses: %zu"),
		    k->other_entries);
}

/* During a rotation: how far it got, as entries under the old key and the new. */
static void rotation_counts(const struct cli *c, struct report *r, const struct check_keys *k,
    enum check_key_file to)
{
	char old[2 * MFA_KEYID_LEN + 1], new[2 * MFA_KEYID_LEN + 1];

	check_report(r, SEV_INFO, "key", c->cfg.ldap_base,
	    _("entries under the old key %s: %zu; under the new key %s: %zu"),
	    hex_id(k->id[CHECK_KEY_CURRENT], old), entries_under(k, k->id[CHECK_KEY_CURRENT]),
	    hex_id(k->id[to], new), entries_under(k, k->id[to]));
}

/* The key the directory is on (its decoy entry's) against this machine's keys. */
static void directory_key(const struct cli *c, struct report *r, const struct check_keys *k)
{
	char id[2 * MFA_KEYID_LEN + 1];
	enum check_key_file has = held(k, k->store_key);

	hex_id(k->store_key, id);
	if (has == CHECK_KEY_FILES)
		check_report(r, SEV_ERROR, "key", c->cfg.ldap_base,
		    _("the directory is sealed under key %s, which this machine does not hold: "
		      "copy the staged key (%s.next) from the staff machine that staged it, "
		      "then run mfauth rekey --retire"),
		    id, c->cfg.key_file);
	else if (k->loaded[CHECK_KEY_NEXT])
		check_report(r, SEV_INFO, "key", c->cfg.ldap_base,
		    memcmp(k->store_key, k->id[CHECK_KEY_NEXT], MFA_KEYID_LEN) == 0 ?
		        _("the decoy entry is re-sealed under the new key %s: the rotation "
		          "running here is past its second pass") :
		        _("the decoy entry is still under the old key %s: the rotation "
		          "running here re-seals it last"),
		    id);
	else if (has == CHECK_KEY_STAGED)
		check_report(r, SEV_WARNING, "key", c->cfg.ldap_base,
		    _("the rotation finished in the directory (sealed under the staged key %s): "
		      "run mfauth rekey --retire"),
		    id);
	else if (k->loaded[CHECK_KEY_STAGED])
		check_report(r, SEV_INFO, "key", c->cfg.ldap_base,
		    _("a key is staged (%s); the directory is not yet re-sealed under it"),
		    hex_id(k->id[CHECK_KEY_STAGED], id));
	else
		check_report(r, SEV_OK, "key", c->cfg.ldap_base,
		    _("the directory is sealed under this machine's key %s"), id);
}

/* What the store is sealed under against this machine's keys (check.h). */
void check_keys_store(const struct cli *c, struct report *r, const struct check_keys *k)
{
	if (c->cfg.store != MFA_BACKEND_LDAP || !k->loaded[CHECK_KEY_CURRENT])
		return; /* files: this machine's own store, told by the key files alone */
	if (k->store_key_seen)
		directory_key(c, r, k);
	if (k->loaded[CHECK_KEY_NEXT])
		rotation_counts(c, r, k, CHECK_KEY_NEXT);
	else if (k->loaded[CHECK_KEY_STAGED])
		rotation_counts(c, r, k, CHECK_KEY_STAGED);
	entries_not_held(c, r, k);
}
