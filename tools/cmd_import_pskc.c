/*
 * mfauth import pskc FILE --map CSV [--key-file KEYFILE]
 *
 * Bulk enrollment of hardware TOTP tokens from the RFC 6030 (PSKC) file a
 * vendor ships with them.  The file names each token by its serial number
 * (KeyPackage/DeviceInfo/SerialNo); the map says who gets which token, one
 * "serial,user" line each ('#' comments and blank lines skipped, CRLF and a
 * UTF-8 BOM accepted, no quoting; serials compared exactly).
 *
 * Semantics are those of `import csv`: every key package is validated
 * completely before anything of it is written and saved with the
 * replace-only-the-TOTP-factor rule, so a bad one costs itself alone; each
 * outcome is reported ("key N (serial S): user: enrolled" on stdout, reasons
 * on stderr) and audited; never a seed; a summary line; exit 0 when all was
 * imported, 1 when anything failed, 2 for usage errors.
 *
 * The PSKC document itself (what is read from it, the encrypted values, why
 * libxml2 alone, how its copies of the seeds are wiped) is pskc_parse.c's
 * business; this file holds the command: arguments, the input files, the
 * serial-to-user map, the store, the reports and audit lines.  Our own
 * buffers and the pre-shared key are wiped on every path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "csv_parse.h"
#include "enroll_save.h"
#include "pskc_parse.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/safefile.h"
#include "mfauth/totp.h"

#define PSKC_USAGE "usage: mfauth import pskc FILE --map CSV [--key-file KEYFILE]"

#define PSKC_FILE_MAX ((size_t)64 << 20) /* ~60,000 tokens; split bigger shipments */
#define MAP_FILE_MAX ((size_t)16 << 20)
#define KEYFILE_MAX 256
#define SERIAL_MAX PSKC_SERIAL_MAX
#define UNUSED_SHOWN 10 /* unused map lines listed one by one */

struct psk {
	uint8_t key[PSKC_PSK_MAX];
	size_t len; /* 0: no --key-file */
};

struct map_entry {
	const char *serial; /* into map.text */
	const char *user;
	size_t line;
	size_t same_serial_line;      /* another line with this serial (ambiguous), or 0 */
	size_t same_user_line;        /* the earlier line giving this user a token, or 0 */
	const char *same_user_serial; /* that line's serial */
	size_t used_by;               /* the key package that claimed it (1-based), or 0 */
	bool seen;                    /* some key package has this serial */
};

struct map {
	char *text;
	struct map_entry *e;          /* in line order */
	struct map_entry **by_serial; /* sorted by serial, then line */
	size_t n;
	size_t bad_lines;
};

struct run {
	const struct cli *c;
	struct map *map;
	struct mfa_store *store;
	size_t imported, failed;
	bool saw_plain;
};

/* What we learned about one key package, for its report and audit line. */
struct key_report {
	size_t index;                /* 1-based position in the file */
	char label[40 + SERIAL_MAX]; /* "key 3 (serial 987654321)" */
	const char *serial;          /* "" until it has passed pskc_serial_ok() */
	const char *user;            /* a checked name from the map, or NULL */
	const char *token;           /* audit reason of a failure */
	char why[SERIAL_MAX + MFA_USER_MAX + 160];
};

/* --- small helpers ------------------------------------------------------- */

/* Wipe and free a buffer that may have held seeds. */
static void free_wiped(char *p, size_t len)
{
	if (p == NULL)
		return;
	mfa_wipe(p, len);
	free(p);
}

/*
 * Read all of fd, a regular file of at most max bytes, into a NUL-terminated
 * malloc'd buffer (mfa_read_fd_all, which wipes what it leaves behind).
 * Returns 0, or an error with *why for the message.  The caller wipes
 * (free_wiped) what may hold a secret.
 */
static int slurp(int fd, size_t max, char **out, size_t *outlen, mode_t *mode, const char **why)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		return MFA_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = _("not a regular file");
		return MFA_ERR_INVAL;
	}
	if ((uintmax_t)st.st_size > max) {
		*why = _("too large");
		return MFA_ERR_RANGE;
	}
	/* Up to the size fstat saw: more means the file grew under us. */
	rc = mfa_read_fd_all(fd, (size_t)st.st_size, out, outlen);
	if (rc == MFA_ERR_RANGE) {
		*why = _("changed while being read");
		return MFA_ERR_IO;
	}
	if (rc == MFA_ERR_NOMEM)
		*why = _("out of memory");
	else if (rc != 0)
		*why = strerror(errno);
	else
		*mode = st.st_mode;
	return rc;
}

/* Open and read an input file named on the command line.  0 or MFA_ERR_*. */
static int read_input(const char *what, const char *path, size_t max, char **out, size_t *outlen,
    mode_t *mode)
{
	const char *why = NULL;
	int fd, rc;

	/* O_NONBLOCK: a FIFO named by mistake must not hang us before fstat says so. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		cli_error(_("import pskc: %s %s: %s"), what, path, strerror(errno));
		return MFA_ERR_IO;
	}
	rc = slurp(fd, max, out, outlen, mode, &why);
	close(fd);
	if (rc == MFA_ERR_RANGE)
		cli_error(_("import pskc: %s %s: larger than %zu MiB%s"), what, path, max >> 20,
		    max == PSKC_FILE_MAX ? _(": split the shipment") : "");
	else if (rc != 0)
		cli_error(_("import pskc: %s %s: %s"), what, path, why);
	return rc;
}

/*
 * The pre-shared key from --key-file: root-owned, mode 0600 or 0400, on a
 * path only root can change (a relative name is taken from the current
 * directory, whose path is checked too).  0, or MFA_ERR_* after a message.
 */
static int load_psk(const char *path, struct psk *psk)
{
	struct mfa_path_error perr = { "" };
	char abs[PATH_MAX], *text = NULL;
	const char *why = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int fd = -1, rc = MFA_ERR_RANGE;

	if (path[0] == '/') {
		if (snprintf(abs, sizeof(abs), "%s", path) >= (int)sizeof(abs))
			goto out;
	} else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= (int)sizeof(abs))
			goto out;
	}
	if ((fd = mfa_open_trusted(abs, O_RDONLY, false, &perr)) < 0) {
		rc = fd;
		goto out;
	}
	if ((rc = mfa_check_trusted_fd(fd, 0600, abs, &perr)) != 0)
		goto out;
	if ((rc = slurp(fd, KEYFILE_MAX, &text, &len, &mode, &why)) != 0) {
		snprintf(perr.msg, sizeof(perr.msg), "%s: %s", abs, why);
		goto out;
	}
	if ((rc = pskc_psk_from_hex(text, psk->key, &psk->len)) != 0)
		snprintf(perr.msg, sizeof(perr.msg),
		    _("%s: expected 32 or 64 hex digits "
		      "(an AES-128 or AES-256 key) and nothing else"),
		    abs);
out:
	if (rc == MFA_ERR_RANGE && perr.msg[0] == '\0')
		snprintf(perr.msg, sizeof(perr.msg), _("%s: path too long"), path);
	if (rc != 0)
		cli_error(_("import pskc: cannot use the key file: %s (%s); nothing imported"),
		    perr.msg, cli_strerror(rc));
	free_wiped(text, len);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- the map: serial,user ------------------------------------------------ */

static int cmp_serial(const void *a, const void *b)
{
	const struct map_entry *x = *(struct map_entry *const *)a,
	                       *y = *(struct map_entry *const *)b;
	int d = strcmp(x->serial, y->serial);

	return d != 0 ? d : x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_user(const void *a, const void *b)
{
	const struct map_entry *x = *(struct map_entry *const *)a,
	                       *y = *(struct map_entry *const *)b;
	int d = strcmp(x->user, y->user);

	return d != 0 ? d : x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_key_serial(const void *key, const void *elem)
{
	return strcmp((const char *)key, (*(struct map_entry *const *)elem)->serial);
}

/* One line (NUL-terminated, in place) into e.  NULL, or why it is refused. */
static const char *map_parse_line(char *line, size_t len, struct map_entry *e)
{
	char *comma, *serial, *user;

	if (strlen(line) != len)
		return _("contains a NUL byte");
	if ((comma = strchr(line, ',')) == NULL || strchr(comma + 1, ',') != NULL)
		return _("expected serial,user");
	*comma = '\0';
	serial = csv_trim_blanks(line);
	user = csv_trim_blanks(comma + 1);
	if (!pskc_serial_ok(serial))
		return _("serial must be 1 to 128 printable ASCII characters without blanks or "
		         "commas");
	if (mfa_name_check(user) != 0)
		return _("user name not acceptable");
	e->serial = serial;
	e->user = user;
	return NULL;
}

/* Split the text into entries, reporting bad lines.  0 or MFA_ERR_NOMEM. */
static int map_split(struct map *m, size_t textlen)
{
	char *p = m->text, *end = m->text + textlen;
	size_t lines = 1, lineno = 0;

	for (size_t i = 0; i < textlen; i++)
		lines += m->text[i] == '\n';
	if ((m->e = calloc(lines, sizeof(*m->e))) == NULL)
		return MFA_ERR_NOMEM;
	if (textlen >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) /* spreadsheets write a BOM */
		p += 3;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len;
		const char *why, *q;

		if (eol == NULL)
			eol = end; /* text[textlen] is the terminating NUL */
		*eol = '\0';
		len = (size_t)(eol - p);
		lineno++;
		if (len > 0 && p[len - 1] == '\r')
			p[--len] = '\0';
		for (q = p; *q == ' ' || *q == '\t'; q++)
			;
		if (*q != '\0' && *q != '#') {
			struct map_entry *e = &m->e[m->n];
			if ((why = map_parse_line(p, len, e)) != NULL) {
				fprintf(stderr, _("map line %zu: %s\n"), lineno, why);
				m->bad_lines++;
			} else {
				e->line = lineno;
				m->n++;
			}
		}
		p = eol + 1;
	}
	return 0;
}

/*
 * Mark the conflicts and report them in line order.  A serial on two lines
 * is ambiguous: neither line is used.  A user on two lines keeps the first
 * token only ("an error for the second").
 */
static int map_index(struct map *m)
{
	struct map_entry **by_user = NULL;
	int rc = MFA_ERR_NOMEM;

	if (m->n == 0)
		return 0;
	if ((m->by_serial = calloc(m->n, sizeof(*m->by_serial))) == NULL ||
	    (by_user = calloc(m->n, sizeof(*by_user))) == NULL)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		m->by_serial[i] = by_user[i] = &m->e[i];
	qsort(by_user, m->n, sizeof(*by_user), cmp_user);
	for (size_t i = 1, first = 0; i < m->n; i++) {
		if (strcmp(by_user[i]->user, by_user[first]->user) != 0) {
			first = i;
			continue;
		}
		by_user[i]->same_user_line = by_user[first]->line;
		by_user[i]->same_user_serial = by_user[first]->serial;
	}
	qsort(m->by_serial, m->n, sizeof(*m->by_serial), cmp_serial);
	for (size_t i = 1, first = 0; i < m->n; i++) {
		struct map_entry *a = m->by_serial[first], *b = m->by_serial[i];
		if (strcmp(a->serial, b->serial) != 0) {
			first = i;
			continue;
		}
		b->same_serial_line = a->line;
		if (a->same_serial_line == 0)
			a->same_serial_line = b->line;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->e[i];
		if (e->same_serial_line != 0 && e->same_serial_line < e->line) {
			fprintf(stderr,
			    _("map line %zu: serial %s is also on map line %zu: which user "
			      "gets it is unclear, so neither line is used\n"),
			    e->line, e->serial, e->same_serial_line);
			m->bad_lines++;
		} else if (e->same_user_line != 0) {
			fprintf(stderr,
			    _("map line %zu: %s already gets serial %s on map line %zu: "
			      "a user gets one token, so this line is not used\n"),
			    e->line, e->user, e->same_user_serial, e->same_user_line);
			m->bad_lines++;
		}
	}
	rc = 0;
out:
	free(by_user);
	return rc;
}

static void map_free(struct map *m)
{
	free(m->text);
	free(m->e);
	free(m->by_serial);
	memset(m, 0, sizeof(*m));
}

/* Read and index the map; bad lines are reported and counted.  0 or MFA_ERR_*. */
static int map_load(const char *path, struct map *m)
{
	size_t len = 0;
	mode_t mode = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = read_input(_("map"), path, MAP_FILE_MAX, &m->text, &len, &mode)) != 0)
		return rc;
	if ((rc = map_split(m, len)) == 0)
		rc = map_index(m);
	if (rc != 0)
		cli_error(_("import pskc: map %s: %s"), path, cli_strerror(rc));
	return rc;
}

static struct map_entry *map_find(const struct map *m, const char *serial)
{
	struct map_entry **hit;

	if (m->n == 0)
		return NULL;
	hit = bsearch(serial, m->by_serial, m->n, sizeof(*m->by_serial), cmp_key_serial);
	return hit != NULL ? *hit : NULL;
}

/* Map lines that no key package used: a warning (the map may cover several shipments). */
static void warn_unused(const struct map *m, const char *path)
{
	size_t unused = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->e[i];
		if (e->seen || e->same_serial_line != 0 || e->same_user_line != 0)
			continue;
		if (++unused <= UNUSED_SHOWN)
			cli_warn(_("map line %zu: serial %s is not in %s"), e->line, e->serial,
			    path);
	}
	if (unused > UNUSED_SHOWN)
		cli_warn(ngettext("... and %zu more map line whose serial is not in %s",
		             "... and %zu more map lines whose serial is not in %s",
		             unused - UNUSED_SHOWN),
		    unused - UNUSED_SHOWN, path);
}
/* --- the PSKC file -------------------------------------------------------- */

/* Parse the file's bytes; 0 with *out, or MFA_ERR_* after a message. */
static int open_pskc(const char *path, const char *text, size_t len, const struct psk *psk,
    struct pskc_doc **out)
{
	struct pskc_doc_error e;
	int rc = pskc_open((const uint8_t *)text, len, psk->key, psk->len, out, &e);

	if (rc == 0)
		return 0;
	if (e.code == PSKC_DOC_XML)
		cli_error(_("import pskc: %s: not well-formed XML (line %d: %s); nothing imported"),
		    path, e.line, e.msg[0] ? e.msg : _("parse error"));
	else if (e.code == PSKC_DOC_DOCTYPE)
		cli_error(_("import pskc: %s: has a DOCTYPE declaration: refused (PSKC needs none, "
		            "and entity declarations are how XML external-entity attacks start); "
		            "nothing imported"),
		    path);
	else if (e.code == PSKC_DOC_ROOT)
		cli_error(_("import pskc: %s: not a PSKC file (the root element is not an RFC 6030 "
		            "KeyContainer in namespace %s); nothing imported"),
		    path, "urn:ietf:params:xml:ns:keyprov:pskc");
	else if (e.code == PSKC_DOC_VERSION)
		cli_error(_("import pskc: %s: KeyContainer Version is not 1.0; nothing imported"),
		    path);
	else
		cli_error(_("import pskc: %s: cannot set up the XML parser"), path);
	return rc;
}

/* --- one key package ----------------------------------------------------- */

/* The user of k's map line m (NULL: none), claiming the line.  NULL, or why not. */
static const char *map_claim(struct map_entry *m, struct key_report *k)
{
	k->token = "not_in_map";
	if (m == NULL)
		return _("serial not in the map (--map): skipped");
	k->token = "map_conflict";
	if (m->same_serial_line != 0) {
		snprintf(k->why, sizeof(k->why),
		    _("serial is on map lines %zu and %zu: which "
		      "user gets it is unclear"),
		    m->line < m->same_serial_line ? m->line : m->same_serial_line,
		    m->line < m->same_serial_line ? m->same_serial_line : m->line);
		return k->why;
	}
	if (m->same_user_line != 0) {
		k->user = m->user;
		snprintf(k->why, sizeof(k->why),
		    _("already gets serial %s (map line %zu); map "
		      "line %zu gives a second token: not imported"),
		    m->same_user_serial, m->same_user_line, m->line);
		return k->why;
	}
	k->token = "duplicate";
	k->user = m->user;
	if (m->used_by != 0) {
		snprintf(k->why, sizeof(k->why),
		    _("the file has this serial twice: key %zu "
		      "already took its map line"),
		    m->used_by);
		return k->why;
	}
	m->used_by = k->index;
	return NULL;
}

/* "key 3 (serial S)", "key 3 (Id I)" or "key 3", for every message about pk. */
static void name_key(const struct pskc_key *pk, struct key_report *k)
{
	k->index = pk->index;
	k->serial = pk->serial;
	if (pk->serial[0] != '\0')
		snprintf(k->label, sizeof(k->label), _("key %zu (serial %s)"), k->index, k->serial);
	else if (pk->id[0] != '\0')
		snprintf(k->label, sizeof(k->label), _("key %zu (Id %s)"), k->index, pk->id);
	else
		snprintf(k->label, sizeof(k->label), _("key %zu"), k->index);
}

/* A TimeDrift we cannot keep is worth a warning, not a refusal. */
static void warn_drift(const struct pskc_key *pk, const struct key_report *k)
{
	if (pk->drift_state == PSKC_DRIFT_BAD)
		cli_warn(_("%s: TimeDrift ignored (not a PlainValue integer)"), k->label);
	else if (pk->drift_state == PSKC_DRIFT_SET && pk->drift != 0)
		cli_warn(_("%s: TimeDrift %lld ignored: mfauth keeps no per-token drift "
		           "(logins accept `window` steps either side)"),
		    k->label, pk->drift);
}

/*
 * The parser's verdict, then the map's, then the seed's: a key the map does
 * not give anyone is never decrypted.  NULL, or why it is refused with
 * k->token set.
 */
static const char *check_key(struct run *r, struct pskc_doc *d, struct pskc_key *pk,
    struct key_report *k)
{
	struct map_entry *m = NULL;
	const char *why;

	warn_drift(pk, k);
	k->token = pk->token;
	if (pk->serial[0] != '\0' && (m = map_find(r->map, pk->serial)) != NULL)
		m->seen = true; /* whatever becomes of it, it is not missing */
	if (pk->why != NULL)
		return pk->why;
	if ((why = map_claim(m, k)) != NULL)
		return why;
	why = pskc_key_secret(d, pk);
	k->token = pk->token;
	if (pk->plain)
		r->saw_plain = true;
	return why;
}

static void audit_key(const struct cli *c, const struct key_report *k,
    const struct mfa_totp_factor *f, bool ok)
{
	char num[24], digits[8], period[8];

	snprintf(num, sizeof(num), "%zu", k->index);
	if (ok) {
		snprintf(digits, sizeof(digits), "%u", (unsigned)f->digits);
		snprintf(period, sizeof(period), "%u", (unsigned)f->period);
		cli_audit(c, "enroll", k->user, "success", "", "factor", "totp", "source",
		    "import_pskc", "serial", k->serial, "algorithm", mfa_alg_name(f->alg), "digits",
		    digits, "period", period, "key", num, NULL);
	} else {
		cli_audit(c, "enroll", k->user != NULL ? k->user : "", "fail", k->token, "factor",
		    "totp", "source", "import_pskc", "serial", k->serial, "key", num, NULL);
	}
}

/* pskc_each callback: validate, then save; report and audit. */
static void import_key(void *ctx, struct pskc_doc *d, struct pskc_key *pk)
{
	struct run *r = ctx;
	struct key_report k;
	char account[MFA_USER_MAX + 1];
	const char *why;
	bool save_failed = false;
	int rc;

	memset(&k, 0, sizeof(k));
	name_key(pk, &k);
	why = check_key(r, d, pk, &k);
	/* Keyed by the account NSS returns, like enroll (issue 12 finding 2). */
	if (why == NULL && k.user != NULL &&
	    cli_account(k.user, account, sizeof(account), true) != EXIT_OK) {
		why = _("user database lookup failed");
		k.token = mfa_errtoken(MFA_ERR_NSS);
	} else if (why == NULL && k.user != NULL) {
		k.user = account;
	}
	if (why == NULL &&
	    (rc = enroll_save_totp(r->store, k.user, &pk->f, (uint64_t)time(NULL), 0)) != 0) {
		why = cli_strerror(rc);
		k.token = mfa_errtoken(rc);
		save_failed = true;
	}
	if (why == NULL)
		printf(_("%s: %s: enrolled\n"), k.label, k.user);
	else if (k.user != NULL)
		fprintf(stderr, "%s: %s: %s%s\n", k.label, k.user,
		    save_failed ? _("cannot save: ") : "", why);
	else
		fprintf(stderr, "%s: %s\n", k.label, why);
	audit_key(r->c, &k, &pk->f, why == NULL);
	if (why == NULL)
		r->imported++;
	else
		r->failed++;
}

/* --- the command --------------------------------------------------------- */

struct pskc_args {
	const char *file;
	const char *map;
	const char *key_file;
};

/* argv[0] is "pskc".  Options may come before or after FILE. */
static int parse_pskc_opts(int argc, char **argv, struct pskc_args *a)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "key-file", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 0; /* full reset: getopt already ran on another argv */
	opterr = 0; /* its messages would start with "pskc:" */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = opt == 'm' ? &a->map : opt == 'k' ? &a->key_file : NULL;
		if (slot == NULL) {
			cli_error(_("import pskc: unknown option or missing value: '%s'"),
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (*slot != NULL) {
			cli_error(_("import pskc: --%s given twice"),
			    opt == 'm' ? "map" : "key-file");
			return EXIT_USAGE;
		}
		*slot = optarg;
	}
	if (argc - optind != 1) {
		cli_error("%s", _("import pskc: expected exactly one PSKC file"));
		return EXIT_USAGE;
	}
	a->file = argv[optind];
	if (a->map == NULL) {
		cli_error("%s", _("import pskc: --map CSV (serial,user lines) is required"));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_import_pskc(struct cli *c, int argc, char **argv)
{
	struct pskc_args a;
	struct map map;
	struct run r;
	struct psk psk;
	struct pskc_doc *doc = NULL;
	char *text = NULL;
	size_t len = 0, nkeys;
	mode_t mode = 0;
	int status;

	if ((status = parse_pskc_opts(argc, argv, &a)) != EXIT_OK) {
		cli_error(PSKC_USAGE);
		return status;
	}
	memset(&map, 0, sizeof(map));
	memset(&r, 0, sizeof(r));
	memset(&psk, 0, sizeof(psk));
	r.c = c;
	r.map = &map;
	status = EXIT_FAIL;
	if (pskc_setup() != 0) {
		cli_error("%s", _("import pskc: cannot set up the XML parser"));
		goto out;
	}
	if ((a.key_file != NULL && load_psk(a.key_file, &psk) != 0) || map_load(a.map, &map) != 0 ||
	    read_input(_("file"), a.file, PSKC_FILE_MAX, &text, &len, &mode) != 0 ||
	    open_pskc(a.file, text, len, &psk, &doc) != 0)
		goto out;
	if (cli_open_store(c, &r.store) != EXIT_OK)
		goto out;
	nkeys = pskc_each(doc, import_key, &r);
	if (nkeys == 0)
		cli_error(_("import pskc: %s: no KeyPackage in the file"), a.file);
	warn_unused(&map, a.file);
	if (r.saw_plain && (mode & (S_IRGRP | S_IROTH)) != 0)
		cli_warn(_("%s holds unencrypted seeds and is readable by group or others: "
		           "protect or remove it"),
		    a.file);
	if (map.bad_lines > 0)
		fprintf(stderr,
		    ngettext("map: %zu line not used (see above)\n",
		        "map: %zu lines not used (see above)\n", map.bad_lines),
		    map.bad_lines);
	printf(_("imported %zu, failed %zu\n"), r.imported, r.failed);
	status = nkeys > 0 && r.failed == 0 && map.bad_lines == 0 ? EXIT_OK : EXIT_FAIL;
out:
	mfa_store_close(r.store);
	pskc_close(doc);
	free_wiped(text, len);
	map_free(&map);
	mfa_wipe(&psk, sizeof(psk));
	return status;
}
