/*
 * The directory client layer (lib/store_ldap_conn.c) against the private slapd
 * of tests/ldap/slapd-rig.sh: run by tests/ldap/test-ldap-conn.sh, which
 * starts the rig and exports its LDAP_RIG_* variables.
 *
 *   test_ldap_conn all        every case below
 *   test_ldap_conn evil-conf  only the wrong-CA cases (run with a hostile LDAPCONF)
 *   test_ldap_conn quick      a short round of each operation (for valgrind)
 *   test_ldap_conn server-gone  stops the rig's slapd under open connections
 *   test_ldap_conn blackhole  only the black-hole cases
 *   test_ldap_conn timing     connect and operation costs (printed as "# ..." lines)
 *   test_ldap_conn fault-read|fault-list|fault-cert  under tests/fault/faultshim.so (see
 *                             test_fault)
 *
 * Prints "ok"/"FAIL" lines and "N passed, N failed"; exits 1 on any failure.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "mfauth/store_ldap_conn.h"

static int passed, failed;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf(cond ? "ok   - " : "FAIL - ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (cond)
		passed++;
	else
		failed++;
}

static void check_err(int got, int want, const char *what)
{
	check(got == want, "%s: %s (%d)%s%s", what, mfa_errtoken(got), got,
	    got == want ? "" : ", expected ", got == want ? "" : mfa_errtoken(want));
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL) {
		fprintf(stderr,
		    "test_ldap_conn: %s is not set (run under tests/ldap/test-ldap-conn.sh)\n",
		    name);
		exit(99);
	}
	return v;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

enum who { TERMINAL, STAFF, OTHER };

/*
 * Seconds per operation.  The valgrind round ("quick") is about memory, not
 * time: a TLS handshake under memcheck on a loaded 2-core machine was
 * measured to pass 2 s, so it waits longer.
 */
static int op_timeout = 2;

/* Settings for identity `who` (terminal number `term` 1..4) on `uris`. */
static struct mfa_ldap_settings settings(enum who who, int term, const char *uris)
{
	static char dn_name[32];
	struct mfa_ldap_settings s = {
		.uris = uris,
		.base = env("LDAP_RIG_BASE"),
		.ca_file = env("LDAP_RIG_CA"),
		.starttls = true,
		.timeout = op_timeout,
	};
	const char *pw;

	switch (who) {
	case TERMINAL:
		snprintf(dn_name, sizeof(dn_name), "LDAP_RIG_TERM_DN_%d", term);
		s.bind_dn = env(dn_name);
		pw = env("LDAP_RIG_TERM_PW");
		break;
	case STAFF:
		s.bind_dn = env("LDAP_RIG_STAFF_DN");
		pw = env("LDAP_RIG_STAFF_PW");
		break;
	default:
		s.bind_dn = env("LDAP_RIG_OTHER_DN");
		pw = env("LDAP_RIG_OTHER_PW");
		break;
	}
	s.bind_pw = (const unsigned char *)pw;
	s.bind_pw_len = strlen(pw);
	return s;
}

static struct mfa_ldap *open_as(enum who who, int term, const char *uris)
{
	struct mfa_ldap_settings s = settings(who, term, uris);
	struct mfa_ldap *c = NULL;
	int rc = mfa_ldap_open(&s, &c);

	if (rc != 0) {
		fprintf(stderr, "open %s: %s\n", uris, mfa_strerror(rc));
		return NULL;
	}
	return c;
}

/* --- the RDN escaper ---------------------------------------------------------------------- */

static void test_escape(void)
{
	static const struct {
		const char *in;
		const char *out;
		/* clang-format off */
	} table[] = {
		{ "alice", "alice" },
		{ "a,b", "a\\,b" },
		{ "a+b", "a\\+b" },
		{ "\"q\"", "\\\"q\\\"" },
		{ "back\\slash", "back\\\\slash" },
		{ "<x>", "\\<x\\>" },
		{ "a;b", "a\\;b" },
		{ "a=b", "a\\=b" },
		{ "#lead", "\\23lead" },
		{ "mid#dle", "mid#dle" },
		{ " lead", "\\20lead" },
		{ "trail ", "trail\\20" },
		{ " ", "\\20" },
		{ "in side", "in side" },
		{ "tab\there", "tab\\09here" },
		{ "nl\n", "nl\\0A" },
		{ "del\x7f", "del\\7F" },
		{ "山田", "山田" },
		{ ",+\"\\<>;=", "\\,\\+\\\"\\\\\\<\\>\\;\\=" },
	};
	/* clang-format on */
	char out[64];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = mfa_ldap_rdn_escape(table[i].in, strlen(table[i].in), out, sizeof(out));
		/* Named by the expected output: some inputs hold control characters. */
		check(rc == 0 && strcmp(out, table[i].out) == 0, "escape -> %s (got %s)",
		    table[i].out, rc == 0 ? out : mfa_errtoken(rc));
	}
	check_err(mfa_ldap_rdn_escape("a\0b", 3, out, sizeof(out)), MFA_ERR_BADNAME,
	    "escape: an embedded NUL is refused");
	check_err(mfa_ldap_rdn_escape("", 0, out, sizeof(out)), MFA_ERR_BADNAME,
	    "escape: the empty name is refused");
	check_err(mfa_ldap_rdn_escape(",,,,", 4, out, 8), MFA_ERR_RANGE,
	    "escape: a short output buffer is refused");
	check_err(mfa_ldap_rdn_escape(",,,,", 4, out, 13), 0, "escape: 3 * len + 1 suffices");
	/* The exact room is enough: each character takes what it needs, 1, 2 or 3 bytes. */
	check_err(mfa_ldap_rdn_escape("a", 1, out, 2), 0, "escape: 'a' fits 2 bytes");
	check_err(mfa_ldap_rdn_escape("a", 1, out, 1), MFA_ERR_RANGE, "escape: 'a' not 1 byte");
	check_err(mfa_ldap_rdn_escape(",", 1, out, 3), 0, "escape: ',' fits 3 bytes");
	check_err(mfa_ldap_rdn_escape(",", 1, out, 2), MFA_ERR_RANGE, "escape: ',' not 2 bytes");
	check_err(mfa_ldap_rdn_escape("#", 1, out, 4), 0, "escape: a leading '#' fits 4 bytes");
	check_err(mfa_ldap_rdn_escape("#", 1, out, 3), MFA_ERR_RANGE,
	    "escape: a leading '#' not 3 bytes");
	check(mfa_ldap_rdn_escape("ab,", 3, out, 5) == 0 && strcmp(out, "ab\\,") == 0,
	    "escape: 'ab,' into exactly 5 bytes is ab\\,");

	/* Every hostile name parses back, through libldap's own DN parser, to itself. */
	static const char *const hostile[] = { ",+\"\\<>;=", "#x", " x", "x ", "cn=root,dc=x",
		"a\\2cb", "*)(objectClass=*", "\xe5\xb1\xb1", "x\ty" };
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char dn[256];
		LDAPDN parsed = NULL;
		bool same = false;

		mfa_ldap_rdn_escape(hostile[i], strlen(hostile[i]), out, sizeof(out));
		snprintf(dn, sizeof(dn), "cn=%s,ou=mfauth,dc=example", out);
		if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
		    parsed[0] != NULL && parsed[0][1] == NULL && parsed[1] != NULL &&
		    parsed[2] != NULL && parsed[3] == NULL) {
			struct berval *v = &parsed[0][0]->la_value;
			same = v->bv_len == strlen(hostile[i]) &&
			    memcmp(v->bv_val, hostile[i], v->bv_len) == 0;
		}
		ldap_dnfree(parsed);
		check(same, "escape: %s is one RDN value that parses back to itself", hostile[i]);
	}
}

/* --- connecting --------------------------------------------------------------------------- */

static void test_connect(void)
{
	const char *ldaps = env("LDAP_RIG_URI_LDAPS"), *ldap = env("LDAP_RIG_URI_LDAP");
	const char *ldapi = env("LDAP_RIG_URI_LDAPI");
	struct mfa_ldap_settings s;
	struct mfa_ldap *c = NULL;
	char uris[512];
	double t0;

	s = settings(TERMINAL, 1, ldaps);
	check_err(mfa_ldap_open(&s, &c), 0, "ldaps:// with the CA");
	mfa_ldap_close(c);
	c = NULL;
	s = settings(TERMINAL, 1, ldap);
	check_err(mfa_ldap_open(&s, &c), 0, "ldap:// + StartTLS with the CA");
	mfa_ldap_close(c);
	c = NULL;
	s = settings(TERMINAL, 1, ldapi);
	check_err(mfa_ldap_open(&s, &c), 0, "ldapi://");
	mfa_ldap_close(c);
	c = NULL;
	s = settings(TERMINAL, 1, ldap);
	s.starttls = false;
	check_err(mfa_ldap_open(&s, &c), 0, "ldap:// in plain text when starttls = no");
	mfa_ldap_close(c);
	c = NULL;

	s = settings(TERMINAL, 1, ldap);
	s.ca_file = NULL;
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "ldap:// with StartTLS but no CA file");
	s = settings(TERMINAL, 1, ldaps);
	s.ca_file = "";
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "ldaps:// with no CA file");
	s = settings(TERMINAL, 1, "http://127.0.0.1/");
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "an http:// URI");
	s = settings(TERMINAL, 1, "  ");
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "no URI at all");
	s = settings(TERMINAL, 1, ldaps);
	s.base = "not a dn";
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "a malformed base DN");
	s = settings(TERMINAL, 1, ldaps);
	s.timeout = 0;
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "timeout 0");
	s = settings(TERMINAL, 1, ldaps);
	s.bind_pw_len = 0;
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_CONFIG, "an empty password (an anonymous bind)");
	check(c == NULL, "a failed open leaves no object");

	s = settings(TERMINAL, 1, ldaps);
	s.bind_pw = (const unsigned char *)"wrong";
	s.bind_pw_len = 5;
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_DIR_AUTH, "a wrong password");

	/* The first server is down: the second is used, at once. */
	snprintf(uris, sizeof(uris), "ldaps://127.0.0.1:%s/ %s", env("LDAP_RIG_CLOSED_PORT"),
	    ldaps);
	s = settings(TERMINAL, 1, uris);
	t0 = now();
	check_err(mfa_ldap_open(&s, &c), 0, "first URI a closed port, second up");
	printf("# closed port then ldaps: %.0f ms\n", (now() - t0) * 1e3);
	check(c != NULL && strcmp(mfa_ldap_uri(c), ldaps) == 0,
	    "... the second URI is the one used");
	check(now() - t0 < 1.0, "... within a second");
	mfa_ldap_close(c);
	c = NULL;

	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%s/ ldaps://127.0.0.1:%s/",
	    env("LDAP_RIG_CLOSED_PORT"), env("LDAP_RIG_CLOSED_PORT"));
	s = settings(TERMINAL, 1, uris);
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_DIR_UNREACHABLE, "every server down");
}

/* A black hole accepts and never answers: each server costs its timeout, then we give up. */
static void test_blackhole(void)
{
	const char *port = env("LDAP_RIG_BLACKHOLE_PORT");
	static const char *const schemes[] = { "ldap", "ldaps" };
	struct mfa_ldap_settings s;
	struct mfa_ldap *c = NULL;
	char uris[512];
	double t0, dt;

	for (size_t i = 0; i < 2; i++) {
		for (int starttls = 1; starttls >= (i == 0 ? 0 : 1); starttls--) {
			snprintf(uris, sizeof(uris), "%s://127.0.0.1:%s/", schemes[i], port);
			s = settings(TERMINAL, 1, uris);
			s.timeout = 1;
			s.starttls = starttls;
			t0 = now();
			int rc = mfa_ldap_open(&s, &c);
			dt = now() - t0;
			check_err(rc, MFA_ERR_DIR_UNREACHABLE,
			    i == 0 && starttls ? "black hole, ldap:// + StartTLS, timeout 1" :
			        i == 0         ? "black hole, ldap:// in plain text, timeout 1" :
			                         "black hole, ldaps://, timeout 1");
			check(dt >= 0.9 && dt < 2.0,
			    "... gave up after %.2f s (timeout 1, limit 2)", dt);
		}
	}
	snprintf(uris, sizeof(uris), "ldaps://127.0.0.1:%s/ %s", port, env("LDAP_RIG_URI_LDAPS"));
	s = settings(TERMINAL, 1, uris);
	s.timeout = 1;
	t0 = now();
	check_err(mfa_ldap_open(&s, &c), 0, "black hole first, then a working server");
	dt = now() - t0;
	check(dt < 2.0, "... the working one reached after %.2f s (< timeout + 1)", dt);
	mfa_ldap_close(c);
}

static void test_wrong_ca(const char *label)
{
	struct mfa_ldap_settings s;
	struct mfa_ldap *c = NULL;
	char what[128];

	s = settings(TERMINAL, 1, env("LDAP_RIG_URI_LDAPS"));
	s.ca_file = env("LDAP_RIG_OTHER_CA");
	snprintf(what, sizeof(what), "ldaps:// with another CA%s", label);
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_DIR_TLS, what);
	s = settings(TERMINAL, 1, env("LDAP_RIG_URI_LDAP"));
	s.ca_file = env("LDAP_RIG_OTHER_CA");
	snprintf(what, sizeof(what), "ldap:// + StartTLS with another CA%s", label);
	check_err(mfa_ldap_open(&s, &c), MFA_ERR_DIR_TLS, what);
	/* The rig's certificate names 127.0.0.1 and localhost, not this address. */
	char uri[128];
	snprintf(uri, sizeof(uri), "ldaps://127.0.0.2:%s/", env("LDAP_RIG_PORT_LDAPS"));
	s = settings(TERMINAL, 1, uri);
	snprintf(what, sizeof(what), "ldaps:// to a name the certificate does not hold%s", label);
	int rc = mfa_ldap_open(&s, &c);
	/* slapd listens on 127.0.0.1 only: 127.0.0.2 is refused before TLS. */
	check(rc == MFA_ERR_DIR_TLS || rc == MFA_ERR_DIR_UNREACHABLE, "%s: %s", what,
	    mfa_errtoken(rc));
	mfa_ldap_close(c);
}

/* --- operations --------------------------------------------------------------------------- */

static bool entry_is(const struct mfa_ldap_entry *e, const char *rec, const char *st)
{
	return e->has_record == (rec != NULL) && e->has_state == (st != NULL) &&
	    (rec == NULL ||
	        (e->record_len == strlen(rec) && memcmp(e->record, rec, e->record_len) == 0)) &&
	    (st == NULL || (e->state_len == strlen(st) && memcmp(e->state, st, e->state_len) == 0));
}

#define B(s) (const unsigned char *)(s), strlen(s)

static void test_operations(void)
{
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPS"));
	struct mfa_ldap *term = open_as(TERMINAL, 2, env("LDAP_RIG_URI_LDAP"));
	struct mfa_ldap *other = open_as(OTHER, 0, env("LDAP_RIG_URI_LDAPS"));
	struct mfa_ldap_entry e = { 0 };
	static const unsigned char binary[] = { 0, 1, 2, 0xff, 0, '\n', 0x80 };

	check(staff && term && other, "staff, terminal and an unrelated account connect");
	if (!(staff && term && other))
		goto out;
	check_err(mfa_ldap_add(staff, "bob", B("rec-1"), B("st-1")), 0, "staff add bob");
	check_err(mfa_ldap_add(staff, "bob", B("rec-x"), B("st-x")), MFA_ERR_EXISTS,
	    "staff add bob again");
	check_err(mfa_ldap_read(term, "bob", &e), 0, "terminal reads bob");
	check(entry_is(&e, "rec-1", "st-1"), "... both values as written");
	mfa_ldap_entry_free(&e);
	check_err(mfa_ldap_swap(term, "bob", MFA_LDAP_STATE, B("st-1"), B("st-2")), 0,
	    "terminal swaps the state st-1 -> st-2");
	check_err(mfa_ldap_swap(term, "bob", MFA_LDAP_STATE, B("st-1"), B("st-3")),
	    MFA_ERR_DIR_CONFLICT, "terminal swaps from the stale st-1");
	check_err(mfa_ldap_swap(term, "bob", MFA_LDAP_STATE, NULL, 0, B("st-3")),
	    MFA_ERR_DIR_CONFLICT, "add-only while a state is there");
	check_err(mfa_ldap_read(staff, "bob", &e), 0, "staff read bob");
	check(entry_is(&e, "rec-1", "st-2"), "... the lost swaps changed nothing");
	mfa_ldap_entry_free(&e);
	check_err(mfa_ldap_swap(term, "bob", MFA_LDAP_RECORD, B("rec-1"), B("planted")),
	    MFA_ERR_DIR_DENIED, "terminal cannot swap the record");
	check_err(mfa_ldap_swap(term, "bob", MFA_LDAP_RECORD, B("wrong-old"), B("planted")),
	    MFA_ERR_DIR_DENIED, "... not even from a wrong old value (the ACL answers first)");
	check_err(mfa_ldap_add(term, "mallory", B("planted"), B("st")), MFA_ERR_DIR_DENIED,
	    "terminal cannot add an entry");
	check_err(mfa_ldap_delete(term, "bob"), MFA_ERR_DIR_DENIED,
	    "terminal cannot delete an entry");
	check_err(mfa_ldap_read(other, "bob", &e), MFA_ERR_NOENT,
	    "an account in neither group does not see the entry");
	check_err(mfa_ldap_swap(other, "bob", MFA_LDAP_STATE, B("st-2"), B("x")),
	    MFA_ERR_DIR_DENIED, "... nor change its state");
	check_err(mfa_ldap_swap(staff, "bob", MFA_LDAP_RECORD, B("rec-1"), binary, sizeof(binary)),
	    0, "staff swap the record to binary bytes");
	check_err(mfa_ldap_read(term, "bob", &e), 0, "terminal reads them back");
	check(e.has_record && e.record_len == sizeof(binary) &&
	        memcmp(e.record, binary, sizeof(binary)) == 0,
	    "... byte for byte (NULs included)");
	mfa_ldap_entry_free(&e);
	check_err(mfa_ldap_swap(staff, "bob", MFA_LDAP_STATE, B("st-2"), NULL, 0), 0,
	    "staff delete the state (new NULL)");
	check_err(mfa_ldap_read(term, "bob", &e), 0, "terminal reads an entry without a state");
	check(e.has_record && !e.has_state, "... has_state false");
	mfa_ldap_entry_free(&e);
	check_err(mfa_ldap_swap(term, "bob", MFA_LDAP_STATE, NULL, 0, B("st-4")), 0,
	    "terminal adds a first state (old NULL)");
	check_err(mfa_ldap_read(term, "nobody", &e), MFA_ERR_NOENT, "read of a missing entry");
	check_err(mfa_ldap_swap(term, "nobody", MFA_LDAP_STATE, B("a"), B("b")), MFA_ERR_NOENT,
	    "swap on a missing entry");
	check_err(mfa_ldap_delete(staff, "nobody"), MFA_ERR_NOENT, "delete of a missing entry");
	check_err(mfa_ldap_read(term, "", &e), MFA_ERR_BADNAME, "the empty user name");
	check_err(mfa_ldap_delete(staff, "bob"), 0, "staff delete bob");
	check_err(mfa_ldap_read(staff, "bob", &e), MFA_ERR_NOENT, "... gone");
out:
	mfa_ldap_close(staff);
	mfa_ldap_close(term);
	mfa_ldap_close(other);
}

struct names {
	const char *const *want;
	size_t n;
	size_t seen;
	bool unexpected;
};

static int collect(const char *user, void *arg)
{
	struct names *ns = arg;
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->want[i], user) == 0) {
			ns->seen |= (size_t)1 << i;
			return 0;
		}
	ns->unexpected = true;
	return 0;
}

static int count_cb(const char *user, void *arg)
{
	(void)user;
	(*(size_t *)arg)++;
	return 0;
}

static int stop_cb(const char *user, void *arg)
{
	(void)user;
	(void)arg;
	return MFA_ERR_EXISTS;
}

/* Stops the listing at the `stop_at`-th user (counting in `seen`). */
struct stopper {
	size_t seen;
	size_t stop_at;
};

static int stop_at_cb(const char *user, void *arg)
{
	struct stopper *s = arg;

	(void)user;
	return ++s->seen >= s->stop_at ? MFA_ERR_EXISTS : 0;
}

/* Lines of the rig's slapd log (LDAP_RIG_SLAPD_DEBUG=stats) that contain needle; -1: no log. */
static int log_lines(const char *needle)
{
	char path[512], line[4096];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/slapd.log", env("LDAP_RIG_DIR"));
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* slapd logs a result as it sends it: wait (up to 2 s) until `want` lines hold needle. */
static int log_lines_wait(const char *needle, int want)
{
	int n = log_lines(needle);

	for (int i = 0; i < 200 && n >= 0 && n < want; i++) {
		usleep(10000);
		n = log_lines(needle);
	}
	return n;
}

/*
 * A listing stopped early (a callback's error, the bound) releases the server's paged search
 * (RFC 2696: the last cookie, page size 0); slapd's back-mdb answers that request, and only a
 * live one, with this text -- seen in its stats log.  A listing run to its end sends none.
 */
#define ABANDONED_TEXT "text=search abandoned by pagedResult size=0"
static void test_list_release(struct mfa_ldap *staff)
{
	struct stopper st = { 0, 256 };
	size_t count = 0;
	int n0 = log_lines(ABANDONED_TEXT), n;

	check(log_lines("SRCH base=") > 0 && n0 >= 0,
	    "the rig's slapd logs every search (LDAP_RIG_SLAPD_DEBUG=stats)");
	check_err(mfa_ldap_list(staff, stop_at_cb, &st, 0), MFA_ERR_EXISTS,
	    "a listing stopped by its callback at the last user of page 1");
	check(st.seen == 256, "... after exactly 256 users (%zu)", st.seen);
	n = log_lines_wait(ABANDONED_TEXT, n0 + 1);
	check(n == n0 + 1, "... released its paged search on the server (%d release(s) logged)",
	    n - n0);
	st = (struct stopper){ 0, 300 };
	check_err(mfa_ldap_list(staff, stop_at_cb, &st, 0), MFA_ERR_EXISTS,
	    "a listing stopped in page 2");
	n = log_lines_wait(ABANDONED_TEXT, n0 + 2);
	check(n == n0 + 2, "... released its paged search too (%d in all)", n - n0);
	check_err(mfa_ldap_list(staff, count_cb, &count, 100), MFA_ERR_RANGE,
	    "a listing over its bound (100)");
	n = log_lines_wait(ABANDONED_TEXT, n0 + 3);
	check(n == n0 + 3, "... released its paged search too (%d in all)", n - n0);
	count = 0;
	check_err(mfa_ldap_list(staff, count_cb, &count, 0), 0,
	    "the same connection lists all users after the releases");
	check(count == 630, "... all of them (%zu)", count);
	usleep(100000);
	n = log_lines(ABANDONED_TEXT);
	check(n == n0 + 3, "... and a listing run to its end releases nothing (%d in all)", n - n0);
}

static void test_hostile_names_and_list(void)
{
	static const char *const names[] = { ",+\"\\<>;=", "#hash", " lead", "trail ", "a=b,c=d",
		"cn=x", "山田太郎", "x\ty", "(*)", "plain" };
	const size_t n = sizeof(names) / sizeof(names[0]);
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPI"));
	struct mfa_ldap *term = open_as(TERMINAL, 3, env("LDAP_RIG_URI_LDAPS"));
	struct mfa_ldap_entry e = { 0 };
	struct names ns = { names, n, 0, false };
	bool all_ok = true;
	size_t count = 0;
	char user[32];

	check(staff && term, "staff (ldapi) and a terminal connect");
	if (!(staff && term))
		goto out;
	for (size_t i = 0; i < n; i++) {
		char rec[64];
		snprintf(rec, sizeof(rec), "record of %zu", i);
		int rc = mfa_ldap_add(staff, names[i], B(rec), B("st"));
		int rd = mfa_ldap_read(term, names[i], &e);
		bool same = rd == 0 && entry_is(&e, rec, "st");
		mfa_ldap_entry_free(&e);
		check(rc == 0 && same, "hostile name [%s]: added, read back as itself (%s, %s)",
		    names[i], mfa_errtoken(rc), mfa_errtoken(rd));
	}
	check_err(mfa_ldap_list(staff, collect, &ns, 0), 0, "staff list");
	check(ns.seen == ((size_t)1 << n) - 1 && !ns.unexpected,
	    "... every hostile name once, nothing else");
	check_err(mfa_ldap_list(staff, stop_cb, NULL, 0), MFA_ERR_EXISTS,
	    "a callback's error stops the listing and is returned");

	/* More than a page (256) and more than slapd's default size limit (500). */
	for (int i = 0; i < 620 && all_ok; i++) {
		snprintf(user, sizeof(user), "user%04d", i);
		all_ok = mfa_ldap_add(staff, user, B("r"), B("s")) == 0;
	}
	check(all_ok, "staff add 620 more users");
	check_err(mfa_ldap_list(staff, count_cb, &count, 0), 0, "staff list 630 users in pages");
	check(count == 630, "... all of them (%zu)", count);
	count = 0;
	check_err(mfa_ldap_list(staff, count_cb, &count, 100), MFA_ERR_RANGE,
	    "a listing over its bound (100) stops");
	test_list_release(staff);
	count = 0;
	int rc = mfa_ldap_list(term, count_cb, &count, 0);
	printf("# a terminal listing: %s, %zu entries\n", mfa_errtoken(rc), count);
	/* slapd's default size limit (500) covers the pages together; the sample ACL lifts it
	 * for staff only, who are the ones that list. */
	check(rc == MFA_ERR_RANGE && count < 500,
	    "a terminal's listing stops at the size limit: range after %zu entries", count);
	for (int i = 0; i < 620 && all_ok; i++) {
		snprintf(user, sizeof(user), "user%04d", i);
		all_ok = mfa_ldap_delete(staff, user) == 0;
	}
	for (size_t i = 0; i < n; i++)
		all_ok = all_ok && mfa_ldap_delete(staff, names[i]) == 0;
	check(all_ok, "staff delete them all");
out:
	mfa_ldap_close(staff);
	mfa_ldap_close(term);
}

/* What mfa_ldap_list_present() said of the three entries test_list_present() adds. */
struct presence {
	int seen[3]; /* per entry: 1 + record * 2 + state, 0 = not listed */
	bool unexpected;
};

static int note_presence(const char *user, const bool present[2], void *arg)
{
	static const char *const names[] = { "pres-record", "pres-state", "pres-both" };
	struct presence *p = arg;

	for (int i = 0; i < 3; i++)
		if (strcmp(user, names[i]) == 0) {
			p->seen[i] = 1 + present[MFA_LDAP_RECORD] * 2 + present[MFA_LDAP_STATE];
			return 0;
		}
	p->unexpected = true;
	return 0;
}

/* The listing that names each entry's attributes: one with a record only, a state only, both. */
static void test_list_present(void)
{
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPI"));
	struct presence p = { { 0, 0, 0 }, false };
	bool added;

	check(staff != NULL, "staff connects (ldapi)");
	if (staff == NULL)
		return;
	added = mfa_ldap_add(staff, "pres-record", B("r1"), NULL, 0) == 0 &&
	    mfa_ldap_add(staff, "pres-state", NULL, 0, B("s2")) == 0 &&
	    mfa_ldap_add(staff, "pres-both", B("r3"), B("s3")) == 0;
	check(added, "staff adds a record-only, a state-only and a full entry");
	check_err(mfa_ldap_list_present(staff, note_presence, &p, 0), 0, "list with presence");
	check(p.seen[0] == 3 && p.seen[1] == 2 && p.seen[2] == 4 && !p.unexpected,
	    "... record only, state only, both: as added (%d %d %d)", p.seen[0], p.seen[1],
	    p.seen[2]);
	check_err(mfa_ldap_list_present(staff, note_presence, &p, 2), MFA_ERR_RANGE,
	    "... bounded like mfa_ldap_list");
	check(mfa_ldap_delete(staff, "pres-record") == 0 &&
	        mfa_ldap_delete(staff, "pres-state") == 0 &&
	        mfa_ldap_delete(staff, "pres-both") == 0,
	    "staff deletes them");
	mfa_ldap_close(staff);
}

/* 16 processes swap from one old value at once: exactly one wins. */
static void test_cas_race(void)
{
	enum { N = 16 };
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPI"));
	struct mfa_ldap_entry e = { 0 };
	int go[2], wins = 0, conflicts = 0, others = 0, winner = -1;
	pid_t pids[N];

	check(staff != NULL && mfa_ldap_add(staff, "racer", B("rec"), B("state-0")) == 0,
	    "staff add racer with state-0");
	if (staff == NULL || pipe(go) != 0)
		goto out;
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char buf, mine[32];
			int rc;
			struct mfa_ldap *t;
			close(go[1]);
			/* Connected and bound before the start signal: only the swaps race. */
			t = open_as(TERMINAL, 1 + i % 4, env("LDAP_RIG_URI_LDAPS"));
			if (t == NULL)
				_exit(3);
			if (read(go[0], &buf, 1) != 0)
				_exit(4);
			snprintf(mine, sizeof(mine), "state-%d", i + 1);
			rc = mfa_ldap_swap(t, "racer", MFA_LDAP_STATE, B("state-0"), B(mine));
			mfa_ldap_close(t);
			_exit(rc == 0 ? 0 : rc == MFA_ERR_DIR_CONFLICT ? 1 : 2);
		}
	}
	close(go[0]);
	usleep(300000); /* let them connect */
	close(go[1]);   /* EOF: everyone goes */
	for (int i = 0; i < N; i++) {
		int st = 0;
		waitpid(pids[i], &st, 0);
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 9;
		if (code == 0) {
			wins++;
			winner = i + 1;
		} else if (code == 1) {
			conflicts++;
		} else {
			others++;
		}
	}
	check(wins == 1 && conflicts == N - 1 && others == 0,
	    "16 concurrent swaps from state-0 (4 terminals): %d won, %d conflicts, %d other", wins,
	    conflicts, others);
	check_err(mfa_ldap_read(staff, "racer", &e), 0, "staff read racer");
	char want[32];
	snprintf(want, sizeof(want), "state-%d", winner);
	check(entry_is(&e, "rec", want), "... the state is the winner's (%s)", want);
	mfa_ldap_entry_free(&e);
	mfa_ldap_delete(staff, "racer");
out:
	mfa_ldap_close(staff);
}

/* Open and close over every path, successful and failed: no descriptor stays open. */
static void test_fd_leak(void)
{
	char uris[256];
	int before, after;

	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%s/ %s", env("LDAP_RIG_CLOSED_PORT"),
	    env("LDAP_RIG_URI_LDAPS"));
	before = count_fds();
	for (int i = 0; i < 5; i++) {
		const char *list[] = { env("LDAP_RIG_URI_LDAPS"), env("LDAP_RIG_URI_LDAP"),
			env("LDAP_RIG_URI_LDAPI"), uris };
		for (size_t j = 0; j < 4; j++) {
			struct mfa_ldap *c = open_as(TERMINAL, 1, list[j]);
			struct mfa_ldap_entry e = { 0 };
			if (c != NULL)
				(void)mfa_ldap_read(c, "nobody", &e);
			mfa_ldap_close(c);
		}
		struct mfa_ldap_settings s = settings(TERMINAL, 1, env("LDAP_RIG_URI_LDAPS"));
		struct mfa_ldap *c = NULL;
		s.ca_file = env("LDAP_RIG_OTHER_CA");
		(void)mfa_ldap_open(&s, &c);
		s = settings(TERMINAL, 1, env("LDAP_RIG_URI_LDAP"));
		s.bind_pw_len = 3;
		(void)mfa_ldap_open(&s, &c);
	}
	after = count_fds();
	check(before > 0 && before == after, "no descriptor left open (%d before, %d after)",
	    before, after);
}

/* One of each operation, for valgrind. */
static void test_quick(void)
{
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPS"));
	struct mfa_ldap *term = open_as(TERMINAL, 4, env("LDAP_RIG_URI_LDAP"));
	struct mfa_ldap_entry e = { 0 };
	size_t count = 0;

	check(staff && term, "quick: connect");
	if (staff && term) {
		check_err(mfa_ldap_add(staff, "q,uick", B("r"), B("s")), 0, "quick: add");
		check_err(mfa_ldap_read(term, "q,uick", &e), 0, "quick: read");
		mfa_ldap_entry_free(&e);
		check_err(mfa_ldap_swap(term, "q,uick", MFA_LDAP_STATE, B("s"), B("t")), 0,
		    "quick: swap");
		check_err(mfa_ldap_swap(term, "q,uick", MFA_LDAP_STATE, B("s"), B("t")),
		    MFA_ERR_DIR_CONFLICT, "quick: conflict");
		check_err(mfa_ldap_list(staff, count_cb, &count, 0), 0, "quick: list");
		check_err(mfa_ldap_delete(staff, "q,uick"), 0, "quick: delete");
	}
	mfa_ldap_close(staff);
	mfa_ldap_close(term);
	test_wrong_ca("");
}

/*
 * The server goes away under open connections (slapd stopped): every call fails closed with
 * directory_unreachable, and closing -- which sends an unbind into a reset connection -- must
 * not raise SIGPIPE in the host (left at its default here: it would kill this process).
 */
static void test_server_gone(void)
{
	const char *uris[] = { env("LDAP_RIG_URI_LDAPS"), env("LDAP_RIG_URI_LDAP"),
		env("LDAP_RIG_URI_LDAPI") };
	struct mfa_ldap *c[3];
	struct mfa_ldap_entry e = { 0 };
	char path[512];
	FILE *f;
	long pid = 0;

	for (size_t i = 0; i < 3; i++)
		c[i] = open_as(TERMINAL, 1, uris[i]);
	check(c[0] && c[1] && c[2], "server gone: three connections open");
	snprintf(path, sizeof(path), "%s/slapd.job", env("LDAP_RIG_DIR"));
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		check(false, "server gone: slapd's pid from %s", path);
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	kill((pid_t)pid, SIGTERM);
	for (int i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
		usleep(10000);
	for (size_t i = 0; i < 3; i++) {
		if (c[i] == NULL)
			continue;
		check_err(mfa_ldap_read(c[i], "bob", &e), MFA_ERR_DIR_UNREACHABLE, uris[i]);
		check_err(mfa_ldap_swap(c[i], "bob", MFA_LDAP_STATE, B("a"), B("b")),
		    MFA_ERR_DIR_UNREACHABLE, "... and every later call");
		mfa_ldap_close(c[i]);
		check(true, "... closed without SIGPIPE");
	}
}

/*
 * Run under tests/fault/faultshim.so by test-ldap-conn.sh, which fails the first call of one
 * libldap function made from this program (MFAUTH_FAULT_ONLY=NAME, MFAUTH_FAULT_AT=1) and
 * checks that the shim did fail one.  libldap answers NULL both for "no more" and for a
 * failure there; the client layer must not read such a NULL as "absent".
 */
static void test_fault(const char *which)
{
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPI"));
	struct mfa_ldap *term = open_as(TERMINAL, 2, env("LDAP_RIG_URI_LDAPS"));
	struct mfa_ldap_entry e = { 0 };
	char user[32];
	int rc;

	check(staff && term, "%s: staff and a terminal connect", which);
	if (!(staff && term))
		goto out;
	if (strcmp(which, "fault-read") == 0) {
		/* ldap_next_attribute fails after mfauthRecord: the state is not "absent". */
		check_err(mfa_ldap_add(staff, "fault-read", B("rec"), B("st")), 0,
		    "fault-read: add");
		rc = mfa_ldap_read(term, "fault-read", &e);
		check(rc != 0 || (e.has_record && e.has_state),
		    "fault-read: a failed attribute walk is an error (%s), never a value absent "
		    "(record %s, state %s)",
		    mfa_errtoken(rc), e.has_record ? "read" : "absent",
		    e.has_state ? "read" : "absent");
		check_err(rc, MFA_ERR_DIR, "fault-read: ... directory_error");
		mfa_ldap_entry_free(&e);
		rc = mfa_ldap_read(term, "fault-read", &e);
		check(rc == 0 && entry_is(&e, "rec", "st"),
		    "fault-read: the next read sees both (%s)", mfa_errtoken(rc));
		mfa_ldap_entry_free(&e);
		check_err(mfa_ldap_delete(staff, "fault-read"), 0, "fault-read: delete");
	} else if (strcmp(which, "fault-list") == 0) {
		/* ldap_next_entry fails after the first entry: not a shorter list. */
		size_t count = 0;
		bool all_ok = true;
		for (int i = 0; i < 3; i++) {
			snprintf(user, sizeof(user), "fault-list-%d", i);
			all_ok = all_ok && mfa_ldap_add(staff, user, B("r"), B("s")) == 0;
		}
		check(all_ok, "fault-list: staff add 3 users");
		rc = mfa_ldap_list(staff, count_cb, &count, 0);
		check(rc != 0 || count == 3,
		    "fault-list: a failed entry walk is an error (%s), never a shorter list (%zu of 3)",
		    mfa_errtoken(rc), count);
		check_err(rc, MFA_ERR_DIR, "fault-list: ... directory_error");
		count = 0;
		rc = mfa_ldap_list(staff, count_cb, &count, 0);
		check(rc == 0 && count == 3, "fault-list: the next listing sees all 3 (%s, %zu)",
		    mfa_errtoken(rc), count);
		for (int i = 0; i < 3; i++) {
			snprintf(user, sizeof(user), "fault-list-%d", i);
			all_ok = all_ok && mfa_ldap_delete(staff, user) == 0;
		}
		check(all_ok, "fault-list: staff delete them");
	} else {
		/* ldap_get_option(LDAP_OPT_X_TLS_SSL_CTX) fails: not "no TLS". */
		unsigned char *der = NULL;
		size_t len = 0;
		check_err(mfa_ldap_peer_cert(term, &der, &len), MFA_ERR_DIR,
		    "fault-cert: a failed question about TLS is an error, not \"no TLS\"");
		free(der);
		der = NULL;
		rc = mfa_ldap_peer_cert(term, &der, &len);
		check(rc == 0 && len > 0,
		    "fault-cert: the next call returns the certificate (%s, %zu bytes)",
		    mfa_errtoken(rc), len);
		free(der);
	}
out:
	mfa_ldap_close(staff);
	mfa_ldap_close(term);
}

/* What a login would pay: connect+bind per scheme, and a read + swap on an open connection. */
static void test_timing(void)
{
	const char *uris[] = { env("LDAP_RIG_URI_LDAPS"), env("LDAP_RIG_URI_LDAP"),
		env("LDAP_RIG_URI_LDAPI") };
	const char *names[] = { "ldaps", "ldap+StartTLS", "ldapi" };
	struct mfa_ldap *staff = open_as(STAFF, 0, env("LDAP_RIG_URI_LDAPI"));
	bool all = staff != NULL && mfa_ldap_add(staff, "timer", B("rec"), B("0")) == 0;

	for (size_t i = 0; i < 3 && all; i++) {
		double t0 = now();
		for (int k = 0; k < 20 && all; k++) {
			struct mfa_ldap *c = open_as(TERMINAL, 1, uris[i]);
			all = c != NULL;
			mfa_ldap_close(c);
		}
		printf("# open (connect%s + bind) + close over %s: %.0f us each\n",
		    i < 2 ? " + TLS" : "", names[i], (now() - t0) / 20 * 1e6);
	}
	struct mfa_ldap *t = all ? open_as(TERMINAL, 1, uris[0]) : NULL;
	if (t != NULL) {
		double t0 = now();
		for (int k = 0; k < 200 && all; k++) {
			struct mfa_ldap_entry e = { 0 };
			char old[16], nw[16];
			snprintf(old, sizeof(old), "%d", k);
			snprintf(nw, sizeof(nw), "%d", k + 1);
			all = mfa_ldap_read(t, "timer", &e) == 0 &&
			    mfa_ldap_swap(t, "timer", MFA_LDAP_STATE, B(old), B(nw)) == 0;
			mfa_ldap_entry_free(&e);
		}
		printf("# read + swap on an open ldaps connection: %.0f us per pair\n",
		    (now() - t0) / 200 * 1e6);
	}
	check(all && t != NULL, "timing: 60 opens and 200 read+swap pairs succeed");
	mfa_ldap_close(t);
	if (staff != NULL)
		mfa_ldap_delete(staff, "timer");
	mfa_ldap_close(staff);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	if (strcmp(mode, "evil-conf") == 0) {
		test_wrong_ca(" (hostile LDAPCONF: TLS_REQCERT never)");
	} else if (strcmp(mode, "quick") == 0) {
		op_timeout = 20;
		test_quick();
	} else if (strcmp(mode, "timing") == 0) {
		test_timing();
	} else if (strcmp(mode, "server-gone") == 0) {
		test_server_gone();
	} else if (strcmp(mode, "blackhole") == 0) {
		test_blackhole();
	} else if (strncmp(mode, "fault-", 6) == 0) {
		test_fault(mode);
	} else {
		test_escape();
		test_connect();
		test_wrong_ca("");
		test_operations();
		test_hostile_names_and_list();
		test_list_present();
		test_cas_race();
		test_fd_leak();
		test_blackhole();
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
