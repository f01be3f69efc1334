/*
 * mfauth check, part 4: every file in the store.  Names decode to users,
 * every file is regular, root-owned, not writable by others and has one link;
 * each record decrypts and names a factor, each state loads and the clock is
 * not behind it; a temp file is reported, as a warning once it is too old to
 * belong to a write in progress.  Read-only: records with mfa_store_load(), states with
 * mfa_store_read_state() (a shared lock, no update).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "mfauth/err.h"

/* Store file names (store.h): NAME.rec, NAME.state, the decoy, .tmp.* while a write is in progress. */
#define REC_SUFFIX ".rec"
#define STATE_SUFFIX ".state"
#define TMP_PREFIX ".tmp."
/* A temp file older than this is left over from an interrupted write. */
#define TMP_STALE_SECS 3600

struct entry {
	char *name;
	struct stat st;
	bool stat_ok;
	int stat_errno;
	bool safe;        /* regular, root-owned, not writable by others, one link */
};

struct scan {
	struct cli *c;
	struct report *r;
	struct mfa_store *store; /* NULL: names and modes are checked, nothing decrypted */
	struct entry *e;
	size_t n;
	uint64_t now;
	size_t records, records_ok, states_ok, unsafe, clock_problems;
	char subject[PATH_MAX + 300];
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

static const char *subject_of(struct scan *s, const char *name)
{
	snprintf(s->subject, sizeof(s->subject), "%s/%s", s->c->cfg.store_dir, name);
	return s->subject;
}

/* What the store itself checks before trusting a file (doc/DESIGN.md invariant 5). */
static bool entry_is_safe(const struct entry *e)
{
	return e->stat_ok && S_ISREG(e->st.st_mode) && e->st.st_uid == 0 &&
	    (e->st.st_mode & 0022) == 0 && e->st.st_nlink == 1;
}

/* Each reason a file fails entry_is_safe(), one line each. */
static void report_file_safety(struct scan *s, const struct entry *e)
{
	const struct stat *st = &e->st;
	const char *subj = subject_of(s, e->name);

	if (entry_is_safe(e))
		return;
	s->unsafe++;
	if (!e->stat_ok) {
		check_report(s->r, SEV_ERROR, "store", subj, _("cannot stat: %s"),
		    strerror(e->stat_errno));
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		check_report(s->r, SEV_CRITICAL, "store", subj, "%s", _("symbolic link in the store"));
		return;
	}
	if (!S_ISREG(st->st_mode)) {
		check_report(s->r, SEV_CRITICAL, "store", subj, "%s", _("not a regular file"));
		return;
	}
	if (st->st_uid != 0)
		check_report(s->r, SEV_CRITICAL, "store", subj, _("owned by uid %u, not root"),
		    (unsigned)st->st_uid);
	if ((st->st_mode & 0022) != 0)
		check_report(s->r, SEV_CRITICAL, "store", subj,
		    _("writable by group or others (mode %04o)"),
		    (unsigned)(st->st_mode & 07777));
	if (st->st_nlink != 1)
		check_report(s->r, SEV_CRITICAL, "store", subj,
		    _("has %lu hard links: another name for it "
		    "can be read or changed outside the store"), (unsigned long)st->st_nlink);
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
	check_report(s->r, SEV_ERROR, "store", subject_of(s, e->name), "%s",
	    _("file name does not decode to "
	    "a user name (not written by mfauth)"));
	return false;
}

static void check_temp(struct scan *s, const struct entry *e)
{
	const char *subj = subject_of(s, e->name);
	uint64_t mtime = e->stat_ok && e->st.st_mtime > 0 ? (uint64_t)e->st.st_mtime : 0;
	char t[40];

	cli_format_time(mtime, t, sizeof(t));
	if (s->now > mtime && s->now - mtime > TMP_STALE_SECS)
		check_report(s->r, SEV_WARNING, "store", subj, _("stale temp file from an interrupted "
		    "enrollment or write (last modified %s): remove it"), t);
	else
		check_report(s->r, SEV_INFO, "store", subj, _("temp file of a write that may be in "
		    "progress (last modified %s)"), t);
}

/* The state of a user whose record loaded: loads, and the clock is not behind it. */
static void check_state(struct scan *s, const char *user, const struct entry *st_e,
    uint16_t period)
{
	struct mfa_state st;
	int rc;

	if ((rc = mfa_store_read_state(s->store, user, &st)) != 0) {
		check_report(s->r, SEV_ERROR, "state", subject_of(s, st_e->name),
		    _("state of %s does not "
		    "load: %s"), user, cli_strerror(rc));
		return;
	}
	s->states_ok++;
	if (!check_clock_user(s->r, user, &st, period, s->c->cfg.window, s->now))
		s->clock_problems++;
	mfa_wipe(&st, sizeof(st));
}

static void check_record(struct scan *s, struct entry *e, size_t stem_len)
{
	char stem[MFA_NAME_ENC_MAX + 1], user[MFA_USER_MAX + 1];
	char state_name[MFA_NAME_ENC_MAX + sizeof(STATE_SUFFIX)];
	const struct entry *st_e;
	struct mfa_record rec;
	uint16_t period;
	int rc;

	if (!decode_stem(s, e, stem_len, stem, user))
		return;
	s->records++;
	snprintf(state_name, sizeof(state_name), "%s%s", stem, STATE_SUFFIX);
	st_e = find_entry(s, state_name);
	if (st_e == NULL) {
		check_report(s->r, SEV_ERROR, "record", subject_of(s, e->name),
		    _("record without a state "
		    "file: %s cannot log in (enroll again or revoke)"), user);
	}
	if (s->store == NULL || !e->safe)
		return;
	if ((rc = mfa_store_load(s->store, user, &rec)) != 0) {
		check_report(s->r, SEV_ERROR, "record", subject_of(s, e->name), _("record of %s does not "
		    "load: %s"), user, cli_strerror(rc));
		return;
	}
	period = rec.totp.present ? rec.totp.period : 0;
	if (!mfa_record_enrolled(&rec)) {
		check_report(s->r, SEV_ERROR, "record", subject_of(s, e->name), _("record of %s has no "
		    "factor enrolled"), user);
	} else {
		s->records_ok++;
	}
	if (rec.card.present && rec.card.not_after != 0 && rec.card.not_after < s->now) {
		char t[40];
		cli_format_time(rec.card.not_after, t, sizeof(t));
		check_report(s->r, SEV_WARNING, "record", subject_of(s, e->name),
		    _("the card certificate "
		    "of %s expired on %s: enroll the renewed card"), user, t);
	}
	mfa_record_wipe(&rec);
	if (st_e != NULL && st_e->safe)
		check_state(s, user, st_e, period);
}

static void check_state_file(struct scan *s, const struct entry *e, size_t stem_len)
{
	char stem[MFA_NAME_ENC_MAX + 1], user[MFA_USER_MAX + 1];
	char rec_name[MFA_NAME_ENC_MAX + sizeof(REC_SUFFIX)];

	if (!decode_stem(s, e, stem_len, stem, user))
		return;
	snprintf(rec_name, sizeof(rec_name), "%s%s", stem, REC_SUFFIX);
	if (find_entry(s, rec_name) != NULL)
		return;
	/* A revoked user keeps the state for its replay watermark: fine, if it opens. */
	if (s->store != NULL && e->safe) {
		struct mfa_state st;
		int rc = mfa_store_read_state(s->store, user, &st);
		mfa_wipe(&st, sizeof(st));
		if (rc != 0) {
			check_report(s->r, SEV_ERROR, "state", subject_of(s, e->name),
			    _("state of %s does not load: %s"), user, cli_strerror(rc));
			return;
		}
	}
	check_report(s->r, SEV_INFO, "state", subject_of(s, e->name), _("state without a record: %s "
	    "is not enrolled (revoked, or an interrupted enrollment); kept for its replay "
	    "watermark"), user);
}

static void check_entry(struct scan *s, struct entry *e)
{
	size_t stem_len;

	report_file_safety(s, e);
	if (strncmp(e->name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
		check_temp(s, e);
	else if (e->name[0] != '.' && has_suffix(e->name, REC_SUFFIX, &stem_len))
		check_record(s, e, stem_len);
	else if (e->name[0] != '.' && has_suffix(e->name, STATE_SUFFIX, &stem_len))
		check_state_file(s, e, stem_len);
	else if (strcmp(e->name, MFA_STORE_DECOY) == 0)
		;       /* nobody's state (store.h): its safety was checked above, its bytes never matter */
	else if (has_suffix(e->name, ".lock", &stem_len))
		check_report(s->r, SEV_WARNING, "store", subject_of(s, e->name), "%s",
		    _("lock file: mfauth "
		    "keeps no lock files (it locks the state file itself), so this one is stale or "
		    "foreign"));
	else
		check_report(s->r, SEV_WARNING, "store", subject_of(s, e->name), "%s",
		    _("unexpected file in "
		    "the store"));
}

/*
 * Every file in the store (check.h).  Without the store, names and modes come
 * from a plain read-only descriptor of the directory.
 */
void check_store_files(struct cli *c, struct report *r, struct mfa_store *store,
    uint64_t now, struct clock_seen *clock)
{
	struct scan s;
	int dirfd = -1, rc;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.r = r;
	s.store = store;
	s.now = now;
	if (store != NULL)
		dirfd = mfa_store_dirfd(store);
	else
		dirfd = open(c->cfg.store_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return;   /* check_store_dir has said why */
	rc = read_entries(dirfd, &s.e, &s.n);
	if (store == NULL)
		close(dirfd);
	if (rc != 0) {
		check_report(r, SEV_ERROR, "store", c->cfg.store_dir, _("cannot list: %s"),
		    cli_strerror(rc));
		return;
	}
	/* Safety first for all: a record's check looks at its state's. */
	for (size_t i = 0; i < s.n; i++)
		s.e[i].safe = entry_is_safe(&s.e[i]);
	for (size_t i = 0; i < s.n; i++)
		check_entry(&s, &s.e[i]);
	if (s.unsafe == 0 && s.n > 0)
		check_report(r, SEV_OK, "store", c->cfg.store_dir,
		    _("%zu files, all regular, root-owned, "
		    "not writable by others, one link each"), s.n);
	if (store == NULL)
		check_report(r, SEV_INFO, "record", c->cfg.store_dir, "%s",
		    _("records and states not decrypted: "
		    "the store cannot be opened (see above)"));
	else if (s.records == 0)
		check_report(r, SEV_OK, "record", c->cfg.store_dir, "%s", _("no users enrolled"));
	else if (s.records_ok == s.records && s.states_ok == s.records)
		check_report(r, SEV_OK, "record", c->cfg.store_dir, _("%zu records decrypt and name a "
		    "factor, %zu states load"), s.records_ok, s.states_ok);
	if (store != NULL) {
		clock->checked = true;
		clock->users = s.states_ok;
		clock->behind = s.clock_problems;
	}
	free_entries(s.e, s.n);
}
