/*
 * mfauth check: read-only self-inspection (DESIGN §3).
 *
 * Looks at the config file, the key file, the store directory and every file
 * in it (each record must decrypt and name a factor, each state must load),
 * the clock, and the PAM stacks.  One line per result,
 * "SEVERITY: SUBJECT: MESSAGE", with an "ok" line for every check that
 * passed so an auditor sees what was looked at, then a summary; --json prints
 * the same results as an array of {check, severity, subject, message}.
 * Exit 1 when anything is an error or critical; warnings alone exit 0.
 *
 * Nothing is written: the store is opened with mfa_store_open() and read with
 * mfa_store_load() and mfa_store_read_state() (a shared lock, no update).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mfauth/err.h"

#define DEFAULT_PAM_DIR "/etc/pam.d"
#define MODULE_NAME "pam_mfauth.so"
/* Store file names (store.h): NAME.rec, NAME.state, the decoy, .tmp.* while a write is in progress. */
#define REC_SUFFIX ".rec"
#define STATE_SUFFIX ".state"
#define TMP_PREFIX ".tmp."
/* A temp file older than this is left over from an interrupted write. */
#define TMP_STALE_SECS 3600
/* Timestamps this far ahead of the clock are a clock that went back, not jitter. */
#define CLOCK_SLACK_SECS 60
/* When __DATE__ cannot be read: the first release. */
#define FALLBACK_BUILD_Y 2026
#define FALLBACK_BUILD_M 11
#define FALLBACK_BUILD_D 1
/* PAM files: larger ones or longer logical lines are reported, not parsed. */
#define PAM_FILE_MAX (1024 * 1024)
#define PAM_LINE_MAX (64 * 1024)

/* ---- results ------------------------------------------------------------ */

enum sev { SEV_OK, SEV_INFO, SEV_WARNING, SEV_ERROR, SEV_CRITICAL };
static const char *const sev_name[] = { "ok", "info", "warning", "error", "critical" };

struct report {
	bool json;
	size_t total;
	size_t count[SEV_CRITICAL + 1];
};

/* Text output: control bytes and backslashes escaped, so one result is one line. */
static void put_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static void report(struct report *r, enum sev sev, const char *check, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct report *r, enum sev sev, const char *check, const char *subject,
    const char *fmt, ...)
{
	char msg[PATH_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->json) {
		fputs(r->total == 0 ? "\n{\"check\":" : ",\n{\"check\":", stdout);
		cli_json_string(stdout, check);
		fputs(",\"severity\":", stdout);
		cli_json_string(stdout, sev_name[sev]);
		fputs(",\"subject\":", stdout);
		cli_json_string(stdout, subject);
		fputs(",\"message\":", stdout);
		cli_json_string(stdout, msg);
		fputs("}", stdout);
	} else {
		printf("%s: ", sev_name[sev]);
		put_text(subject);
		fputs(": ", stdout);
		put_text(msg);
		putchar('\n');
	}
	r->total++;
	r->count[sev]++;
}

/* Library messages start with the path; the subject already names it. */
static const char *after_subject(const char *msg, const char *subject)
{
	size_t n = strlen(subject);
	if (strncmp(msg, subject, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg[0] ? msg : _("unknown problem");
}

/* ---- (1) config ----------------------------------------------------------- */

/* "nullok", "nullok=yes" (or true, 1, on) as a module argument. */
static bool is_nullok_arg(const char *tok)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };

	if (strcmp(tok, "nullok") == 0)
		return true;
	if (strncmp(tok, "nullok=", 7) != 0)
		return false;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(tok + 7, yes[i]) == 0)
			return true;
	return false;
}

/*
 * Load the config ourselves (main does not, for check): an unsafe or broken
 * file is a finding here, not a reason to stop.  Returns true when c->cfg
 * holds a configuration the module would use.
 */
static bool check_config(struct cli *c, struct report *r)
{
	struct mfa_config_error cerr = { "" };
	struct mfa_path_error perr = { "" };
	const char *path = c->config_path ? c->config_path : mfa_config_default_path();
	int fd;

	mfa_config_defaults(&c->cfg);
	fd = mfa_open_trusted(path, O_RDONLY, false, &perr);
	if (fd == MFA_ERR_NOENT && c->config_path == NULL) {
		report(r, SEV_OK, "config", path, "%s",
		    _("not present: the built-in defaults are in use"));
		return true;
	}
	if (fd < 0) {
		report(r, fd == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "config", path,
		    _("%s (the module refuses it, so every login fails)"),
		    after_subject(perr.msg, path));
		return false;
	}
	close(fd);
	if (mfa_config_load_file(&c->cfg, path, c->config_path == NULL, &cerr) != 0) {
		report(r, SEV_ERROR, "config", path, _("%s (the module refuses it, so every login "
		    "fails)"), after_subject(cerr.msg, path));
		return false;
	}
	report(r, SEV_OK, "config", path, "%s", _("root-owned, not writable by others, parses"));
	if (c->cfg.nullok)
		report(r, SEV_WARNING, "config", path, "%s", _("nullok = yes: users with no "
		    "enrollment at all log in without a second factor"));
	return true;
}

/* ---- (2) key file ------------------------------------------------------- */

/* Ownership and mode of the key file; returns the worst severity reported. */
static enum sev key_file_modes(struct report *r, const char *path, const struct stat *st)
{
	mode_t mode = st->st_mode & 07777;
	enum sev worst = SEV_OK;

	if (S_ISLNK(st->st_mode)) {
		report(r, SEV_CRITICAL, "key", path, "%s", _("is a symbolic link"));
		return SEV_CRITICAL;
	}
	if (!S_ISREG(st->st_mode)) {
		report(r, SEV_CRITICAL, "key", path, "%s", _("not a regular file"));
		return SEV_CRITICAL;
	}
	if (st->st_uid != 0) {
		report(r, SEV_CRITICAL, "key", path, _("owned by uid %u, not root"),
		    (unsigned)st->st_uid);
		worst = SEV_CRITICAL;
	}
	if ((mode & 0022) != 0) {
		report(r, SEV_CRITICAL, "key", path, _("writable by group or others (mode %04o)"),
		    (unsigned)mode);
		worst = SEV_CRITICAL;
	}
	if ((mode & 0044) != 0) {
		report(r, SEV_CRITICAL, "key", path, _("readable by group or others (mode %04o): "
		    "chmod 0400, and run mfauth rekey if anyone may have read it"), (unsigned)mode);
		worst = SEV_CRITICAL;
	}
	if ((mode & ~(mode_t)0666) != 0) {
		report(r, SEV_ERROR, "key", path,
		    _("mode %04o has execute or special bits: want 0400"),
		    (unsigned)mode);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	if (st->st_nlink != 1) {
		report(r, SEV_CRITICAL, "key", path,
		    _("has %lu hard links: a copy elsewhere may be "
		    "readable"), (unsigned long)st->st_nlink);
		worst = SEV_CRITICAL;
	}
	if (st->st_size != MFA_KEY_LEN) {
		report(r, SEV_ERROR, "key", path, _("%lld bytes, want exactly %d"),
		    (long long)st->st_size, MFA_KEY_LEN);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	return worst;
}

/* Returns true when the key loads (the store can be opened as far as the key goes). */
static bool check_key(struct cli *c, struct report *r)
{
	const char *path = c->cfg.key_file;
	struct mfa_path_error perr = { "" };
	struct mfa_key key;
	struct stat st;
	char leftover[PATH_MAX + 8];
	enum sev worst;
	int rc;

	/* The next key of a rotation (store.h): the store reads with it too, so check it alike. */
	snprintf(leftover, sizeof(leftover), "%s.new", path);
	if (lstat(leftover, &st) == 0) {
		report(r, SEV_ERROR, "key", leftover, "%s",
		    _("rekey interrupted: run mfauth rekey to finish"));
		key_file_modes(r, leftover, &st);
	}
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			report(r, SEV_ERROR, "key", path, "%s",
			    _("missing (mfauth init creates it)"));
		else
			report(r, SEV_ERROR, "key", path, _("cannot stat: %s"), strerror(errno));
		return false;
	}
	worst = key_file_modes(r, path, &st);
	memset(&key, 0, sizeof(key));
	rc = mfa_key_load(path, &key, &perr);
	mfa_key_wipe(&key);
	if (rc != 0) {
		/* Only when the checks above did not already say why. */
		if (worst < SEV_ERROR)
			report(r, rc == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "key", path, "%s",
			    after_subject(perr.msg, path));
		return false;
	}
	if ((st.st_mode & 0200) != 0)
		report(r, SEV_WARNING, "key", path,
		    _("mode %04o: 0400 preferred (nothing writes the "
		    "key after mfauth init)"), (unsigned)(st.st_mode & 07777));
	else if (worst == SEV_OK)
		report(r, SEV_OK, "key", path, _("root-owned, mode 0400, %d bytes, loads"),
		    MFA_KEY_LEN);
	return true;
}

/* ---- (3) store directory ---------------------------------------------------- */

/* Returns true when the directory is on a trusted path (the store may open). */
static bool check_store_dir(struct cli *c, struct report *r)
{
	const char *path = c->cfg.store_dir;
	struct mfa_path_error perr = { "" };
	enum sev worst = SEV_OK;
	mode_t mode;
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			report(r, SEV_ERROR, "store", path, "%s",
			    _("missing (mfauth init creates it)"));
		else
			report(r, SEV_ERROR, "store", path, _("cannot stat: %s"), strerror(errno));
		return false;
	}
	mode = st.st_mode & 07777;
	if (S_ISLNK(st.st_mode)) {
		report(r, SEV_CRITICAL, "store", path, "%s", _("is a symbolic link"));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		report(r, SEV_CRITICAL, "store", path, "%s", _("not a directory"));
		return false;
	}
	if (st.st_uid != 0) {
		report(r, SEV_CRITICAL, "store", path, _("owned by uid %u, not root"),
		    (unsigned)st.st_uid);
		worst = SEV_CRITICAL;
	}
	if ((mode & 0022) != 0) {
		report(r, SEV_CRITICAL, "store", path, _("writable by group or others (mode %04o): "
		    "anyone can plant, swap or remove files"), (unsigned)mode);
		worst = SEV_CRITICAL;
	} else if ((mode & 0055) != 0) {
		report(r, SEV_WARNING, "store", path, _("mode %04o: others can list the enrolled "
		    "users; 0700 wanted"), (unsigned)mode);
		worst = SEV_WARNING;
	}
	fd = mfa_open_trusted(path, O_RDONLY, true, &perr);
	if (fd < 0) {
		if (worst < SEV_ERROR)
			report(r, fd == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "store", path, "%s",
			    after_subject(perr.msg, path));
		return false;
	}
	close(fd);
	if (worst == SEV_OK)
		report(r, SEV_OK, "store", path, _("root-owned, mode %04o, on a trusted path"),
		    (unsigned)mode);
	return true;
}

/* ---- (5) clock ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The build date as epoch seconds (midnight UTC): MFA_BUILD_EPOCH or __DATE__. */
static uint64_t build_epoch(void)
{
#ifdef MFA_BUILD_EPOCH
	return (uint64_t)MFA_BUILD_EPOCH;
#else
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *date = __DATE__; /* "Nov 26 2026"; follows SOURCE_DATE_EPOCH in GCC */
	const char *m;
	char *end = NULL;
	unsigned long d, y;

	m = strlen(date) == 11 ? strstr(months, (char[4]){ date[0], date[1], date[2], '\0' }) : NULL;
	if (m != NULL && (m - months) % 3 == 0) {
		d = strtoul(date + 4, &end, 10);
		if (end != NULL && *end == ' ') {
			y = strtoul(end + 1, &end, 10);
			if (*end == '\0' && d >= 1 && d <= 31 && y >= 2000 && y <= 9999)
				return (uint64_t)days_from_civil((int64_t)y,
				    (unsigned)((m - months) / 3 + 1), (unsigned)d) * 86400;
		}
	}
	return (uint64_t)days_from_civil(FALLBACK_BUILD_Y, FALLBACK_BUILD_M, FALLBACK_BUILD_D) *
	    86400;
#endif
}

static void check_clock_build(struct report *r, uint64_t now)
{
	char t1[40], t2[40];
	uint64_t built = build_epoch();

	cli_format_time(now, t1, sizeof(t1));
	cli_format_time(built, t2, sizeof(t2));
	if (now < built) {
		report(r, SEV_CRITICAL, "clock", "clock",
		    _("system time %s is before this program's "
		    "build date %s: set the clock (TOTP codes are checked against it)"), t1, t2);
		return;
	}
	report(r, SEV_OK, "clock", "clock", _("system time %s is not before the build date %s"),
	    t1, t2);
}

/*
 * A clock behind what a user's state has seen: after a TOTP step the clock has
 * not reached (beyond the window), every code is refused as a replay.
 */
static bool check_clock_user(struct report *r, const char *user, const struct mfa_state *st,
    uint16_t period, unsigned window, uint64_t now)
{
	char t[40];

	if (period != 0 && st->last_step != 0 && st->last_step > now / period + window) {
		uint64_t at = st->last_step > UINT64_MAX / period ? UINT64_MAX :
		    st->last_step * period;
		cli_format_time(at, t, sizeof(t));
		report(r, SEV_CRITICAL, "clock", "clock", _("clock jumped backwards past %s's last "
		    "accepted code (time step of %s): codes are refused as replays until then"),
		    user, t);
		return false;
	}
	if (st->last_success > now + CLOCK_SLACK_SECS) {
		cli_format_time(st->last_success, t, sizeof(t));
		report(r, SEV_CRITICAL, "clock", "clock", _("clock jumped backwards past %s's last "
		    "successful login at %s"), user, t);
		return false;
	}
	if (st->last_failure > now + CLOCK_SLACK_SECS) {
		cli_format_time(st->last_failure, t, sizeof(t));
		report(r, SEV_CRITICAL, "clock", "clock", _("clock jumped backwards past %s's last "
		    "failed attempt at %s"), user, t);
		return false;
	}
	return true;
}

/* ---- (4) the files in the store -------------------------------------------------- */

/* What the store scan learned about the clock. */
struct clock_seen {
	bool checked;     /* states were read */
	size_t users;     /* states that loaded */
	size_t behind;    /* users the clock is behind */
};

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

/* What the store itself checks before trusting a file (invariant 5). */
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
		report(s->r, SEV_ERROR, "store", subj, _("cannot stat: %s"),
		    strerror(e->stat_errno));
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		report(s->r, SEV_CRITICAL, "store", subj, "%s", _("symbolic link in the store"));
		return;
	}
	if (!S_ISREG(st->st_mode)) {
		report(s->r, SEV_CRITICAL, "store", subj, "%s", _("not a regular file"));
		return;
	}
	if (st->st_uid != 0)
		report(s->r, SEV_CRITICAL, "store", subj, _("owned by uid %u, not root"),
		    (unsigned)st->st_uid);
	if ((st->st_mode & 0022) != 0)
		report(s->r, SEV_CRITICAL, "store", subj,
		    _("writable by group or others (mode %04o)"),
		    (unsigned)(st->st_mode & 07777));
	if (st->st_nlink != 1)
		report(s->r, SEV_CRITICAL, "store", subj,
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
	report(s->r, SEV_ERROR, "store", subject_of(s, e->name), "%s",
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
		report(s->r, SEV_WARNING, "store", subj, _("stale temp file from an interrupted "
		    "enrollment or write (last modified %s): remove it"), t);
	else
		report(s->r, SEV_INFO, "store", subj, _("temp file of a write that may be in "
		    "progress (last modified %s)"), t);
}

/* The state of a user whose record loaded: loads, and the clock is not behind it. */
static void check_state(struct scan *s, const char *user, const struct entry *st_e,
    uint16_t period)
{
	struct mfa_state st;
	int rc;

	if ((rc = mfa_store_read_state(s->store, user, &st)) != 0) {
		report(s->r, SEV_ERROR, "state", subject_of(s, st_e->name),
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
		report(s->r, SEV_ERROR, "record", subject_of(s, e->name),
		    _("record without a state "
		    "file: %s cannot log in (enroll again or revoke)"), user);
	}
	if (s->store == NULL || !e->safe)
		return;
	if ((rc = mfa_store_load(s->store, user, &rec)) != 0) {
		report(s->r, SEV_ERROR, "record", subject_of(s, e->name), _("record of %s does not "
		    "load: %s"), user, cli_strerror(rc));
		return;
	}
	period = rec.totp.present ? rec.totp.period : 0;
	if (!mfa_record_enrolled(&rec)) {
		report(s->r, SEV_ERROR, "record", subject_of(s, e->name), _("record of %s has no "
		    "factor enrolled"), user);
	} else {
		s->records_ok++;
	}
	if (rec.card.present && rec.card.not_after != 0 && rec.card.not_after < s->now) {
		char t[40];
		cli_format_time(rec.card.not_after, t, sizeof(t));
		report(s->r, SEV_WARNING, "record", subject_of(s, e->name),
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
	if (find_entry(s, rec_name) == NULL)
		report(s->r, SEV_WARNING, "state", subject_of(s, e->name),
		    _("state without a record "
		    "(orphan of %s, left by an interrupted enrollment or revoke)"), user);
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
		report(s->r, SEV_WARNING, "store", subject_of(s, e->name), "%s",
		    _("lock file: mfauth "
		    "keeps no lock files (it locks the state file itself), so this one is stale or "
		    "foreign"));
	else
		report(s->r, SEV_WARNING, "store", subject_of(s, e->name), "%s",
		    _("unexpected file in "
		    "the store"));
}

/*
 * Every file in the store.  With the store open (trusted directory, key
 * loaded), records are decrypted and states read; otherwise only names and
 * modes, from a plain read-only descriptor of the directory.
 */
static void check_store_files(struct cli *c, struct report *r, struct mfa_store *store,
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
		report(r, SEV_ERROR, "store", c->cfg.store_dir, _("cannot list: %s"),
		    cli_strerror(rc));
		return;
	}
	/* Safety first for all: a record's check looks at its state's. */
	for (size_t i = 0; i < s.n; i++)
		s.e[i].safe = entry_is_safe(&s.e[i]);
	for (size_t i = 0; i < s.n; i++)
		check_entry(&s, &s.e[i]);
	if (s.unsafe == 0 && s.n > 0)
		report(r, SEV_OK, "store", c->cfg.store_dir,
		    _("%zu files, all regular, root-owned, "
		    "not writable by others, one link each"), s.n);
	if (store == NULL)
		report(r, SEV_INFO, "record", c->cfg.store_dir, "%s",
		    _("records and states not decrypted: "
		    "the store cannot be opened (see above)"));
	else if (s.records == 0)
		report(r, SEV_OK, "record", c->cfg.store_dir, "%s", _("no users enrolled"));
	else if (s.records_ok == s.records && s.states_ok == s.records)
		report(r, SEV_OK, "record", c->cfg.store_dir, _("%zu records decrypt and name a "
		    "factor, %zu states load"), s.records_ok, s.states_ok);
	if (store != NULL) {
		clock->checked = true;
		clock->users = s.states_ok;
		clock->behind = s.clock_problems;
	}
	free_entries(s.e, s.n);
}

/* ---- (6) PAM stacks ----------------------------------------------------------------- */

struct pam_ent {
	char type[16];     /* auth, account, password, session (lower case) */
	bool dash;         /* "-auth": PAM skips the line silently when the module will not load */
	char *control;     /* as written, brackets included */
	char *module;      /* base name */
	bool nullok;
	unsigned line;
	char *file;        /* the file the line is in */
	bool direct;       /* in the file itself, not in one it includes */
};

struct pam_file {
	char *name;
	struct pam_ent *v;
	size_t n, cap;
	bool included;     /* another file includes it: a fragment, not a service */
	struct stat st;
};

struct pam_ctx {
	struct report *r;
	const char *dir;
	int dirfd;
	struct pam_file *files;
	size_t nfiles;
	char subject[PATH_MAX + 300];
};

static const char *pam_subject(struct pam_ctx *x, const char *file, unsigned line)
{
	if (line > 0)
		snprintf(x->subject, sizeof(x->subject), "%s/%s:%u", x->dir, file, line);
	else
		snprintf(x->subject, sizeof(x->subject), "%s/%s", x->dir, file);
	return x->subject;
}

static bool is_type(const char *s)
{
	return strcasecmp(s, "auth") == 0 || strcasecmp(s, "account") == 0 ||
	    strcasecmp(s, "password") == 0 || strcasecmp(s, "session") == 0;
}

static bool is_password_module(const char *m)
{
	static const char *const names[] = { "pam_unix.so", "pam_sss.so", "pam_ldap.so",
		"pam_krb5.so" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(m, names[i]) == 0)
			return true;
	return false;
}

static bool is_mfauth(const struct pam_ent *e)
{
	return strcmp(e->module, MODULE_NAME) == 0;
}

/*
 * Next token of a logical line: blank-separated, or a [...] group that may
 * hold blanks ("\]" inside does not close it).  NUL-terminates it in place;
 * NULL at the end of the line.
 */
static char *pam_token(char **pp, bool *unterminated)
{
	char *p = *pp + strspn(*pp, " \t\r\n"), *start = p;

	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	if (*p == '[') {
		for (p++; *p != '\0' && *p != ']'; p++)
			if (*p == '\\' && p[1] == ']')
				p++;
		if (*p == ']')
			p++;
		else
			*unterminated = true;
	}
	p += strcspn(p, " \t\r\n");
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return start;
}

static void pam_file_free(struct pam_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].control);
		free(f->v[i].module);
		free(f->v[i].file);
	}
	free(f->v);
	free(f->name);
}

static struct pam_file *pam_find(struct pam_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nfiles; i++)
		if (strcmp(x->files[i].name, name) == 0)
			return &x->files[i];
	return NULL;
}

static int pam_push(struct pam_file *out, const char *type, bool dash, const char *control,
    const char *module, bool nullok, unsigned line, const char *file, bool direct)
{
	struct pam_ent *e;
	const char *base = strrchr(module, '/');

	if (out->n == out->cap) {
		size_t ncap = out->cap ? out->cap * 2 : 32;
		struct pam_ent *p = realloc(out->v, ncap * sizeof(*p));
		if (p == NULL)
			return MFA_ERR_NOMEM;
		out->v = p;
		out->cap = ncap;
	}
	e = &out->v[out->n];
	memset(e, 0, sizeof(*e));
	for (size_t i = 0; type[i] != '\0' && i + 1 < sizeof(e->type); i++)
		e->type[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
	e->dash = dash;
	e->control = strdup(control);
	e->module = strdup(base ? base + 1 : module);
	e->file = strdup(file);
	e->nullok = nullok;
	e->line = line;
	e->direct = direct;
	if (e->control == NULL || e->module == NULL || e->file == NULL) {
		free(e->control);
		free(e->module);
		free(e->file);
		return MFA_ERR_NOMEM;
	}
	out->n++;
	return 0;
}

static int pam_parse_file(struct pam_ctx *x, struct pam_file *out, const char *name,
    const char *only_type, int depth, struct stat *st_out);

/*
 * "@include NAME" or "TYPE include|substack NAME": one level is followed
 * (the included lines count as this file's, for the password-module order);
 * an include inside an included file is noted but not followed.
 */
static void pam_include(struct pam_ctx *x, struct pam_file *out, const char *file,
    unsigned line, const char *target, const char *only_type, int depth)
{
	size_t dl = strlen(x->dir);
	const char *base = target;
	struct pam_file *inc;
	struct stat st;
	int rc;

	if (target == NULL) {
		if (depth == 0)
			report(x->r, SEV_WARNING, "pam", pam_subject(x, file, line), "%s",
			    _("include "
			    "without a file name"));
		return;
	}
	if (strchr(target, '/') != NULL) {
		if (strncmp(target, x->dir, dl) == 0 && target[dl] == '/' && target[dl + 1] != '\0' &&
		    strchr(target + dl + 1, '/') == NULL) {
			base = target + dl + 1;
		} else {
			if (depth == 0)
				report(x->r, SEV_INFO, "pam", pam_subject(x, file, line),
				    _("include of "
				    "%s outside %s not followed"), target, x->dir);
			return;
		}
	}
	if ((inc = pam_find(x, base)) != NULL)
		inc->included = true;
	if (depth > 0)
		return;
	rc = pam_parse_file(x, out, base, only_type, depth + 1, &st);
	if (rc == MFA_ERR_NOENT)
		report(x->r, SEV_WARNING, "pam", pam_subject(x, file, line), _("included file %s "
		    "does not exist"), base);
}

/* One logical line (comment and continuations already handled). */
static void pam_line(struct pam_ctx *x, struct pam_file *out, const char *file, char *line,
    unsigned lineno, const char *only_type, int depth)
{
	char *p = line, *tok, *type, *control, *module;
	bool unterminated = false, dash = false, nullok = false;

	if ((tok = pam_token(&p, &unterminated)) == NULL)
		return;
	if (strcasecmp(tok, "@include") == 0) {
		pam_include(x, out, file, lineno, pam_token(&p, &unterminated), NULL, depth);
		return;
	}
	type = tok;
	if (type[0] == '-') {
		dash = true;
		type++;
	}
	if (!is_type(type)) {
		if (depth == 0)
			report(x->r, SEV_WARNING, "pam", pam_subject(x, file, lineno), _("unknown "
			    "type '%.40s': PAM ignores the line"), type);
		return;
	}
	control = pam_token(&p, &unterminated);
	module = control ? pam_token(&p, &unterminated) : NULL;
	if (control != NULL && module != NULL && !unterminated)
		while ((tok = pam_token(&p, &unterminated)) != NULL)
			nullok = nullok || is_nullok_arg(tok);
	if (control == NULL || module == NULL || unterminated) {
		if (depth == 0)
			report(x->r, SEV_WARNING, "pam", pam_subject(x, file, lineno), _("%s: PAM "
			    "rejects the line"), unterminated ? _("'[' without ']'") :
			    _("no control or module"));
		return;
	}
	if (only_type != NULL && strcasecmp(type, only_type) != 0)
		return;
	if (strcasecmp(control, "include") == 0 || strcasecmp(control, "substack") == 0) {
		pam_include(x, out, file, lineno, module, type, depth);
		return;
	}
	if (pam_push(out, type, dash, control, module, nullok, lineno, file, depth == 0) != 0)
		report(x->r, SEV_ERROR, "pam", pam_subject(x, file, lineno), "%s",
		    _("out of memory"));
}

struct logical {
	char *buf;
	size_t len;
	unsigned start;
	bool too_long;
};

/*
 * Add one physical line to the logical line as Linux-PAM assembles it: blank
 * and comment lines skipped, '#' starts a comment anywhere, a trailing
 * backslash continues on the next line.  Returns true when the logical line
 * is complete.
 */
static bool pam_assemble(struct logical *l, char *phys, unsigned lineno)
{
	char *s = phys + strspn(phys, " \t\r"), *hash;
	size_t sl;
	bool cont;

	if (*s == '\0' || *s == '#')
		return false;
	if ((hash = strchr(s, '#')) != NULL)
		*hash = '\0';
	sl = strlen(s);
	while (sl > 0 && (s[sl - 1] == ' ' || s[sl - 1] == '\t' || s[sl - 1] == '\r'))
		sl--;
	cont = sl > 0 && s[sl - 1] == '\\';
	if (cont)
		sl--;
	if (l->len == 0 && !l->too_long)
		l->start = lineno;
	if (l->len + sl + 1 > PAM_LINE_MAX) {
		l->too_long = true;
	} else if (!l->too_long) {
		memcpy(l->buf + l->len, s, sl);
		l->len += sl;
		l->buf[l->len++] = ' ';
	}
	return !cont;
}

static void pam_flush(struct pam_ctx *x, struct pam_file *out, const char *name,
    struct logical *l, const char *only_type, int depth)
{
	if (l->too_long) {
		if (depth == 0)
			report(x->r, SEV_WARNING, "pam", pam_subject(x, name, l->start),
			    _("line longer "
			    "than %d bytes: not checked"), PAM_LINE_MAX);
	} else if (l->len > 0) {
		l->buf[l->len] = '\0';
		pam_line(x, out, name, l->buf, l->start, only_type, depth);
	}
	l->len = 0;
	l->too_long = false;
}

/* Read a regular file of the PAM directory (a symlink is followed, as PAM does). */
static int pam_read(struct pam_ctx *x, const char *name, char **text, size_t *len,
    struct stat *st)
{
	int fd = openat(x->dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), rc;

	if (fd < 0)
		return errno == ENOENT ? MFA_ERR_NOENT : MFA_ERR_IO;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return MFA_ERR_INVAL;
	}
	rc = mfa_read_fd_all(fd, PAM_FILE_MAX, text, len);
	close(fd);
	return rc;
}

static int pam_parse_file(struct pam_ctx *x, struct pam_file *out, const char *name,
    const char *only_type, int depth, struct stat *st_out)
{
	struct logical l = { NULL, 0, 0, false };
	char *text = NULL, *p, *end;
	size_t len = 0;
	unsigned lineno = 0;
	int rc;

	if ((rc = pam_read(x, name, &text, &len, st_out)) != 0) {
		if (rc == MFA_ERR_RANGE && depth == 0)
			report(x->r, SEV_WARNING, "pam", pam_subject(x, name, 0),
			    _("larger than %d "
			    "bytes: not checked"), PAM_FILE_MAX);
		return rc;
	}
	if ((l.buf = malloc(PAM_LINE_MAX + 1)) == NULL) {
		free(text);
		return MFA_ERR_NOMEM;
	}
	for (p = text, end = text + len; p < end; lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl ? nl : end;
		*line_end = '\0';
		if (pam_assemble(&l, p, lineno + 1))
			pam_flush(x, out, name, &l, only_type, depth);
		p = line_end + 1;
	}
	/* A continuation on the last line: what was gathered still counts. */
	pam_flush(x, out, name, &l, only_type, depth);
	free(l.buf);
	free(text);
	return 0;
}

/* Is a password module in the auth stack of f before entry idx? */
static bool pam_password_before(const struct pam_file *f, size_t idx)
{
	for (size_t i = 0; i < idx && i < f->n; i++)
		if (strcmp(f->v[i].type, "auth") == 0 && is_password_module(f->v[i].module))
			return true;
	return false;
}

/* The action of a [key=value ...] control for key, else its default=; NULL if neither. */
static const char *bracket_action(const char *control, const char *key, char *buf, size_t len)
{
	const char *found = NULL, *dflt = NULL;
	char *p, *tok, *save = NULL;

	snprintf(buf, len, "%s", control + 1);
	if ((p = strrchr(buf, ']')) != NULL)
		*p = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcasecmp(tok, key) == 0)
			found = eq + 1;
		else if (strcasecmp(tok, "default") == 0)
			dflt = eq + 1;
	}
	return found ? found : dflt;
}

/*
 * Does a failure of the module fail the stack under this control?  Returns
 * the severity of the problem (SEV_OK when none) with why filled in.
 */
static enum sev pam_control_problem(const struct pam_ent *e, char *why, size_t len)
{
	static const char *const auth_keys[] = { "auth_err", NULL };
	static const char *const acct_keys[] = { "perm_denied", "auth_err", NULL };
	bool auth = strcmp(e->type, "auth") == 0;
	const char *c = e->control, *what = auth ? _("a wrong code does not stop the login") :
	    _("a locked user is let in");
	char buf[512];

	if (strcasecmp(c, "required") == 0 || strcasecmp(c, "requisite") == 0)
		return SEV_OK;
	if (strcasecmp(c, "sufficient") == 0 || strcasecmp(c, "optional") == 0) {
		snprintf(why, len, _("control '%s': PAM ignores a failure of the module, so %s%s; "
		    "use required"), c, what, auth && strcasecmp(c, "sufficient") == 0 ?
		    _(", and its success can stand in for the password") : "");
		return SEV_ERROR;
	}
	if (c[0] != '[') {
		snprintf(why, len, _("unknown control '%.60s'"), c);
		return SEV_WARNING;
	}
	for (const char *const *k = auth ? auth_keys : acct_keys; *k; k++) {
		const char *act = bracket_action(c, *k, buf, sizeof(buf));
		if (act == NULL) {
			snprintf(why, len, _("control %.200s sets neither %s= nor default=: make a "
			    "failure 'bad' or 'die'"), c, *k);
			return SEV_WARNING;
		}
		if (strcasecmp(act, "bad") != 0 && strcasecmp(act, "die") != 0) {
			snprintf(why, len, _("control %.200s: %s=%.20s, so %s; use %s=bad or die"),
			    c,
			    *k, act, what, *k);
			return SEV_ERROR;
		}
	}
	return SEV_OK;
}

/*
 * A pam_mfauth.so auth line in a fragment without a password module before
 * it: fine if every file that includes the fragment has one before it.
 */
static bool pam_password_in_includers(struct pam_ctx *x, const struct pam_file *f,
    const struct pam_ent *e)
{
	size_t seen = 0;

	for (size_t i = 0; i < x->nfiles; i++) {
		const struct pam_file *g = &x->files[i];
		for (size_t j = 0; g != f && j < g->n; j++) {
			const struct pam_ent *ge = &g->v[j];
			if (ge->direct || ge->line != e->line || strcmp(ge->file, f->name) != 0 ||
			    strcmp(ge->type, "auth") != 0)
				continue;
			if (!pam_password_before(g, j))
				return false;
			seen++;
		}
	}
	return seen > 0;
}

/* The checks of one pam_mfauth.so line written in f; true if all passed. */
static bool pam_check_line(struct pam_ctx *x, const struct pam_file *f, size_t idx)
{
	const struct pam_ent *e = &f->v[idx];
	const char *subj;
	char why[1024];
	enum sev sev;
	bool ok = true;

	subj = pam_subject(x, f->name, e->line);
	if (e->dash) {
		report(x->r, SEV_WARNING, "pam", subj, _("'-%s': PAM skips the line silently when "
		    "the module does not load; drop the '-'"), e->type);
		ok = false;
	}
	if ((sev = pam_control_problem(e, why, sizeof(why))) != SEV_OK) {
		report(x->r, sev, "pam", subj, "%s", why);
		ok = false;
	}
	if (strcmp(e->type, "auth") != 0)
		return ok;
	if (e->nullok) {
		report(x->r, SEV_WARNING, "pam", subj, "%s",
		    _("nullok: users without an enrollment log in "
		    "with the password alone"));
		ok = false;
	}
	if (!pam_password_before(f, idx) && !(f->included && pam_password_in_includers(x, f, e))) {
		report(x->r, SEV_ERROR, "pam", subj, "%s",
		    _("no password module (pam_unix, pam_sss, "
		    "pam_ldap, pam_krb5) before pam_mfauth.so in auth (includes followed one "
		    "level)"));
		ok = false;
	}
	return ok;
}

/* One file: its own pam_mfauth.so lines, and as a service, auth and account. */
static bool pam_check_file(struct pam_ctx *x, struct pam_file *f)
{
	bool in_auth = false, in_acct = false, direct = false, ok = true;

	for (size_t i = 0; i < f->n; i++) {
		if (!is_mfauth(&f->v[i]))
			continue;
		in_auth = in_auth || strcmp(f->v[i].type, "auth") == 0;
		in_acct = in_acct || strcmp(f->v[i].type, "account") == 0;
		if (f->v[i].direct) {
			direct = true;
			ok = pam_check_line(x, f, i) && ok;
		}
	}
	if (!in_auth && !in_acct)
		return false;
	if (direct && (f->st.st_uid != 0 || (f->st.st_mode & 0022) != 0)) {
		report(x->r, SEV_CRITICAL, "pam", pam_subject(x, f->name, 0), _("not root-owned or "
		    "writable by others (uid %u, mode %04o): anyone could take the module out"),
		    (unsigned)f->st.st_uid, (unsigned)(f->st.st_mode & 07777));
		ok = false;
	}
	if (in_auth && !in_acct && !f->included) {
		report(x->r, SEV_ERROR, "pam", pam_subject(x, f->name, 0), "%s",
		    _("pam_mfauth.so in auth "
		    "but not in account: a locked user still gets in where only account runs "
		    "(su from root, ssh keys)"));
		ok = false;
	}
	if (ok)
		report(x->r, SEV_OK, "pam", pam_subject(x, f->name, 0),
		    _("pam_mfauth.so in %s%s%s"),
		    in_auth && in_acct ? _("auth and account") : in_auth ? "auth" : "account",
		    direct ? "" : _(" (through an include)"),
		    f->included && !in_acct ? _(" (a fragment included by other files)") : "");
	return true;
}

static int cmp_pam_file(const void *a, const void *b)
{
	return strcmp(((const struct pam_file *)a)->name, ((const struct pam_file *)b)->name);
}

/* The non-hidden regular files of the PAM directory, sorted, unparsed. */
static int pam_list(struct pam_ctx *x)
{
	struct dirent *de;
	size_t cap = 0;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if ((fd = openat(x->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return MFA_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return MFA_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(x->dirfd, de->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (x->nfiles == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct pam_file *p = realloc(x->files, ncap * sizeof(*p));
			if (p == NULL) {
				rc = MFA_ERR_NOMEM;
				break;
			}
			x->files = p;
			cap = ncap;
		}
		memset(&x->files[x->nfiles], 0, sizeof(x->files[0]));
		if ((x->files[x->nfiles].name = strdup(de->d_name)) == NULL) {
			rc = MFA_ERR_NOMEM;
			break;
		}
		x->nfiles++;
	}
	closedir(d);
	if (x->nfiles > 1)
		qsort(x->files, x->nfiles, sizeof(x->files[0]), cmp_pam_file);
	return rc;
}

static void check_pam(struct report *r, const char *dir)
{
	struct pam_ctx x;
	size_t found = 0;
	int rc;

	memset(&x, 0, sizeof(x));
	x.r = r;
	x.dir = dir;
	if ((x.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		report(r, SEV_ERROR, "pam", dir, _("cannot open: %s"), strerror(errno));
		return;
	}
	if ((rc = pam_list(&x)) != 0) {
		report(r, SEV_ERROR, "pam", dir, _("cannot list: %s"), cli_strerror(rc));
		goto out;
	}
	/* All files first: includes mark their targets as fragments. */
	for (size_t i = 0; i < x.nfiles; i++)
		pam_parse_file(&x, &x.files[i], x.files[i].name, NULL, 0, &x.files[i].st);
	for (size_t i = 0; i < x.nfiles; i++)
		if (pam_check_file(&x, &x.files[i]))
			found++;
	if (found == 0)
		report(r, SEV_ERROR, "pam", dir, "%s",
		    _("module not in any PAM stack: no file here "
		    "has a pam_mfauth.so line"));
out:
	for (size_t i = 0; i < x.nfiles; i++)
		pam_file_free(&x.files[i]);
	free(x.files);
	close(x.dirfd);
}

/* ---- the command --------------------------------------------------------------- */

/* Key, store directory, every store file and the per-user clock, given a usable config. */
static void check_store(struct cli *c, struct report *r, uint64_t now, struct clock_seen *clock)
{
	struct mfa_path_error perr = { "" };
	struct mfa_store *store = NULL;
	bool key_ok = check_key(c, r), dir_ok = check_store_dir(c, r);
	int rc;

	if (key_ok && dir_ok && (rc = mfa_store_open(&c->cfg, &store, &perr)) != 0) {
		report(r, SEV_ERROR, "store", c->cfg.store_dir, _("cannot open the store: %s (%s)"),
		    perr.msg[0] ? perr.msg : "?", cli_strerror(rc));
		store = NULL;
	}
	check_store_files(c, r, store, now, clock);
	mfa_store_close(store);
}

int cmd_check(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pam-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct clock_seen clock = { false, 0, 0 };
	struct report r;
	const char *pam_dir = DEFAULT_PAM_DIR;
	uint64_t now;
	int opt;

	memset(&r, 0, sizeof(r));
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pam_dir = optarg;
			break;
		case 'j':
			r.json = true;
			break;
		default:
			cli_error("%s", _("usage: mfauth check [--pam-dir DIR] [--json]"));
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("%s", _("usage: mfauth check [--pam-dir DIR] [--json]"));
		return EXIT_USAGE;
	}
	now = (uint64_t)time(NULL);
	if (r.json)
		putchar('[');
	if (check_config(c, &r))
		check_store(c, &r, now, &clock);
	else
		report(&r, SEV_INFO, "store", "store", "%s",
		    _("key, store and records not checked: no "
		    "usable configuration"));
	check_clock_build(&r, now);
	if (clock.checked && clock.behind == 0)
		report(&r, SEV_OK, "clock", "clock",
		    _("not behind the last login or accepted code of "
		    "any of %zu users"), clock.users);
	check_pam(&r, pam_dir);
	if (r.json) {
		puts(r.total > 0 ? "\n]" : "]");
	} else {
		size_t findings = r.count[SEV_WARNING] + r.count[SEV_ERROR] + r.count[SEV_CRITICAL];
		printf(_("%zu checks, %zu findings (%zu critical, %zu errors, %zu warnings)\n"),
		    r.total, findings, r.count[SEV_CRITICAL], r.count[SEV_ERROR],
		    r.count[SEV_WARNING]);
	}
	return r.count[SEV_ERROR] + r.count[SEV_CRITICAL] > 0 ? EXIT_FAIL : EXIT_OK;
}
