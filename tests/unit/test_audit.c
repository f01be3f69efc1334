/*
 * Tests for lib/audit.c: the key=value formatter (escaping, forged fields,
 * truncation) and the sender, the latter against real sockets at /dev/log in
 * a private mount namespace (tests/syslog_sink.h), so no syslog daemon is
 * needed and the host's logging is never touched.  Needs root.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mfauth/audit.h"
#include "mfauth/err.h"
#include "syslog_sink.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
/* Facility authpriv (10) shifted, as on the wire. */
#define AUTHPRIV 80
#define MSG_CAP 2048

/* sink_enter_namespace() result, set in main() before any test runs. */
static int sink_ready = -1;

/* ---- a strict parser for audit lines, independent of the formatter ---- */

struct pfield {
	char key[32];
	char val[8192];
	size_t vlen;
	bool cut; /* quoted value with no closing quote: the line was cut here */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_bare_char(char c)
{
	return c != '\0' &&
	    ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	        strchr("._@:/+-", c) != NULL);
}

/* One quoted value after its opening quote; -1 on a bad or partial escape. */
static int parse_quoted(const char **sp, struct pfield *f)
{
	const char *s = *sp;

	for (;;) {
		unsigned char c = (unsigned char)*s;

		if (c == '\0') {
			f->cut = true;
			break;
		}
		if (c == '"') {
			s++;
			break;
		}
		if (f->vlen + 1 >= sizeof(f->val))
			return -1;
		if (c == '\\' && (s[1] == '"' || s[1] == '\\')) {
			f->val[f->vlen++] = s[1];
			s += 2;
		} else if (c == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
			int b = hexval(s[2]) * 16 + hexval(s[3]);
			if (b > 0x20 && b < 0x7f)
				return -1; /* printable bytes but the blank are never escaped */
			f->val[f->vlen++] = (char)b;
			s += 4;
		} else if (c == '\\' || c <= 0x20 || c >= 0x7f) {
			return -1; /* a blank inside quotes is always \x20 */
		} else {
			f->val[f->vlen++] = *s++;
		}
	}
	*sp = s;
	return 0;
}

/* Parse a whole line strictly; -1 when it is not well formed. */
static int parse_line(const char *s, struct pfield *f, size_t max, size_t *nout)
{
	size_t n = 0;

	*nout = 0;
	while (*s != '\0') {
		size_t k = 0;

		if (n == max)
			return -1;
		memset(&f[n], 0, sizeof(f[n]));
		if (n > 0 && *s++ != ' ')
			return -1;
		while (is_key_char(*s) && k + 1 < sizeof(f[n].key))
			f[n].key[k++] = *s++;
		if (k == 0 || *s++ != '=')
			return -1;
		if (*s == '"') {
			s++;
			if (parse_quoted(&s, &f[n]) != 0)
				return -1;
		} else {
			while (is_bare_char(*s) && f[n].vlen + 1 < sizeof(f[n].val))
				f[n].val[f[n].vlen++] = *s++;
		}
		if (f[n].cut && *s != '\0')
			return -1;
		n++;
	}
	*nout = n;
	return 0;
}

static struct pfield parsed[16];

/* Parse or fail the test; returns the number of fields. */
static size_t must_parse(const char *line)
{
	size_t n;

	if (parse_line(line, parsed, NFIELDS(parsed), &n) != 0)
		fail_msg("not a well-formed audit line: [%s]", line);
	return n;
}

static const char *format(const struct mfa_audit_field *f, size_t n)
{
	static char out[8192];
	size_t len = mfa_audit_format(out, sizeof(out), f, n);

	assert_int_equal(len, strlen(out));
	return out;
}

/* ---- formatter ---- */

static void test_format_plain_fields(void **state)
{
	/* clang-format off */
	static const struct mfa_audit_field f[] = {
		{ "event", "auth" }, { "result", "fail" }, { "user", "alice" },
		{ "factor", "totp" }, { "reason", "bad_code" }, { "failures", "2" },
		{ "service", "login" }, { "tty", "tty2" }, { "rhost", "" },
	};
	/* clang-format on */
	/* clang-format off */
	static const struct mfa_audit_field bare[] = {
		{ "v", "AZaz09._@:/+-" }, { "rhost", "192.0.2.1" }, { "tty", "/dev/pts/3" },
		{ "user", "a.b-c_d@EXAMPLE.JP" },
	};
	/* clang-format on */
	(void)state;

	/* The example line of doc/DESIGN.md §3, byte for byte. */
	assert_string_equal(format(f, NFIELDS(f)),
	    "event=auth result=fail user=alice factor=totp "
	    "reason=bad_code failures=2 service=login tty=tty2 rhost=");
	assert_string_equal(format(bare, NFIELDS(bare)),
	    "v=AZaz09._@:/+- rhost=192.0.2.1 tty=/dev/pts/3 user=a.b-c_d@EXAMPLE.JP");
}

static void test_format_empty_and_null(void **state)
{
	static const struct mfa_audit_field f[] = {
		{ "a", "" },
		{ "b", NULL },
		{ "c", "x" },
		{ "d", NULL },
	};
	char out[16];
	(void)state;

	assert_string_equal(format(f, NFIELDS(f)), "a= b= c=x d=");
	assert_string_equal(format(f, 0), "");
	assert_string_equal(format(NULL, 3), "");
	assert_int_equal(mfa_audit_format(NULL, 100, f, NFIELDS(f)), 0);
	memset(out, 'Z', sizeof(out));
	assert_int_equal(mfa_audit_format(out, 0, f, NFIELDS(f)), 0);
	assert_int_equal(out[0], 'Z');
	assert_int_equal(mfa_audit_format(out, 1, f, NFIELDS(f)), 0);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'Z');
}

static void test_format_escaping(void **state)
{
	static const struct {
		const char *in, *out;
		/* clang-format off */
	} cases[] = {
		{ "a b", "k=\"a\\x20b\"" },
		{ "say \"hi\"", "k=\"say\\x20\\\"hi\\\"\"" },
		{ "back\\slash", "k=\"back\\\\slash\"" },
		{ "line\nbreak", "k=\"line\\x0abreak\"" },
		{ "cr\rtab\t", "k=\"cr\\x0dtab\\x09\"" },
		{ "del\x7f", "k=\"del\\x7f\"" },
		{ "\x1b[31mred", "k=\"\\x1b[31mred\"" },
		{ "\x01", "k=\"\\x01\"" },
		/* UTF-8 "山田" (Yamada): every byte >= 0x80 is escaped. */
		{ "\xe5\xb1\xb1\xe7\x94\xb0", "k=\"\\xe5\\xb1\\xb1\\xe7\\x94\\xb0\"" },
		{ "\xff", "k=\"\\xff\"" },
		/* Printable but not bare-safe: quoted, written as is. */
		{ "semi;colon", "k=\"semi;colon\"" },
		{ "$HOME'`#!*?&|<>()[]{}~%^", "k=\"$HOME'`#!*?&|<>()[]{}~%^\"" },
		{ " ", "k=\"\\x20\"" },
		/* '=' and ',' would let a value pass for a field to naive readers. */
		{ "a=b", "k=\"a=b\"" },
		{ "a,b", "k=\"a,b\"" },
		{ "\"", "k=\"\\\"\"" },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NFIELDS(cases); i++) {
		struct mfa_audit_field f = { "k", cases[i].in };
		const char *got = format(&f, 1);

		if (strcmp(got, cases[i].out) != 0)
			fail_msg("case %zu: got [%s], want [%s]", i, got, cases[i].out);
		/* And the strict parser gets the exact original bytes back. */
		assert_int_equal(must_parse(got), 1);
		assert_false(parsed[0].cut);
		assert_int_equal(parsed[0].vlen, strlen(cases[i].in));
		assert_memory_equal(parsed[0].val, cases[i].in, parsed[0].vlen);
	}
}

/* A hostile user name must stay one value of one field on one line. */
static void test_format_injection(void **state)
{
	/* clang-format off */
	static const char *const names[] = {
		"alice result=success",
		"alice\" result=\"success",
		"alice\\\" result=success",
		"alice\nevent=auth result=success user=alice",
		"alice\r\nevent=auth result=success",
		"alice result=success\\",
		"=",
		"\"",
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NFIELDS(names); i++) {
		struct mfa_audit_field f[] = {
			{ "event", "auth" },
			{ "result", "fail" },
			{ "user", names[i] },
		};
		const char *line = format(f, NFIELDS(f));

		assert_null(strchr(line, '\n'));
		assert_null(strchr(line, '\r'));
		assert_int_equal(must_parse(line), 3);
		assert_string_equal(parsed[1].key, "result");
		assert_string_equal(parsed[1].val, "fail");
		assert_string_equal(parsed[2].key, "user");
		assert_string_equal(parsed[2].val, names[i]);
	}
	{
		struct mfa_audit_field f = { "user", "alice result=success" };
		assert_string_equal(format(&f, 1), "user=\"alice\\x20result=success\"");
	}
}

/*
 * What a hurried reader does with a line: split at blanks and commas, take
 * each piece as key=value at its first '=', no notion of quotes.  Returns the
 * number of pieces whose key is `key` and whose value is exactly `value`.
 */
static int naive_count(const char *line, const char *key, const char *value)
{
	char copy[MSG_CAP], *save = NULL;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *t = strtok_r(copy, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		char *eq = strchr(t, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(t, key) == 0 && strcmp(eq + 1, value) == 0)
			n++;
	}
	return n;
}

/*
 * Issue 12 finding 4: a user named "x,event=lock" must not add an event=lock
 * field for a reader that splits naively, nor match the README's
 * grep 'event=lock '; the strict parser still gets the name back.
 */
static void test_format_no_forged_field_for_naive_readers(void **state)
{
	/* clang-format off */
	static const char *const names[] = {
		"x,event=lock", "x,event=lock result=success", "x event=lock y", "x=y", "event=lock",
		"a,b",
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NFIELDS(names); i++) {
		/* clang-format off */
		struct mfa_audit_field f[] = {
			{ "event", "auth" }, { "result", "fail" }, { "user", names[i] },
			{ "factor", "totp" },
		};
		/* clang-format on */
		const char *line = format(f, NFIELDS(f));

		assert_null(strstr(line, "event=lock "));
		assert_int_equal(naive_count(line, "event", "lock"), 0);
		assert_int_equal(naive_count(line, "event", "auth"), 1);
		assert_int_equal(naive_count(line, "result", "success"), 0);
		assert_int_equal(naive_count(line, "factor", "totp"), 1);
		assert_int_equal(must_parse(line), 4);
		assert_string_equal(parsed[2].val, names[i]);
		assert_string_equal(parsed[3].val, "totp");
	}
}

static void test_format_bad_keys_skipped(void **state)
{
	/* clang-format off */
	static const struct mfa_audit_field f[] = {
		{ "Event", "x" }, { "a b", "x" }, { "", "x" }, { NULL, "x" }, { "k=v", "x" },
		{ "user\n", "x" }, { "\xc3\xbc", "x" }, { "re-sult", "x" },
		{ "event", "auth" },
		{ "result\"", "success" },
		{ "user_2", "bob" },
	};
	/* clang-format on */
	(void)state;

	/* No leading space either, though the first fields were skipped. */
	assert_string_equal(format(f, NFIELDS(f)), "event=auth user_2=bob");
	assert_string_equal(format(f, 8), "");
}

/*
 * Every outlen from 0 to past the full length: nothing written at or past
 * outlen, always NUL-terminated, never a partial escape or a dangling key,
 * and what is there are the leading fields, only the last one possibly cut
 * (and then visibly so: an open quote).
 */
static void test_format_truncation_every_length(void **state)
{
	/* clang-format off */
	static const struct mfa_audit_field f[] = {
		{ "event", "auth" }, { "user", "al\"ice \\ \n\x7f\xe5\xb1\xb1 x" }, { "rhost", NULL },
		{ "reason", "bad_code" }, { "tty", "pts/3" }, { "note", "a b" }, { "z", "" },
	};
	/* clang-format on */
	char full[512];
	size_t full_len = mfa_audit_format(full, sizeof(full), f, NFIELDS(f));
	(void)state;

	assert_true(full_len > 40 && full_len < sizeof(full) - 1);
	assert_int_equal(must_parse(full), NFIELDS(f));
	for (size_t outlen = 0; outlen <= full_len + 2; outlen++) {
		/* Exactly outlen bytes plus one canary; ASan catches anything further. */
		char *buf = malloc(outlen + 1);
		size_t len, n;

		assert_non_null(buf);
		memset(buf, 'Z', outlen + 1);
		len = mfa_audit_format(buf, outlen, f, NFIELDS(f));
		assert_int_equal(buf[outlen], 'Z');
		if (outlen == 0) {
			assert_int_equal(len, 0);
			free(buf);
			continue;
		}
		assert_true(len < outlen);
		assert_int_equal(buf[len], '\0');
		assert_int_equal(strlen(buf), len);
		if (outlen > full_len)
			assert_string_equal(buf, full);
		n = must_parse(buf);
		for (size_t i = 0; i < n; i++) {
			const char *want = f[i].value != NULL ? f[i].value : "";

			assert_string_equal(parsed[i].key, f[i].key);
			if (parsed[i].cut) {
				assert_int_equal(i, n - 1);
				assert_true(parsed[i].vlen <= strlen(want));
				assert_memory_equal(parsed[i].val, want, parsed[i].vlen);
			} else {
				assert_int_equal(parsed[i].vlen, strlen(want));
				assert_memory_equal(parsed[i].val, want, parsed[i].vlen);
			}
		}
		/* Nothing lost silently: short of the full line means a cut or a dropped tail. */
		if (len < full_len)
			assert_true(n < NFIELDS(f) || parsed[n - 1].cut);
		free(buf);
	}
}

static void test_format_long_value_cut_visibly(void **state)
{
	char *big = malloc(5001), out[100];
	struct mfa_audit_field f[] = { { "user", NULL }, { "result", "fail" } };
	size_t len;
	(void)state;

	assert_non_null(big);
	memset(big, 'a', 5000);
	big[5000] = '\0';
	f[0].value = big;
	len = mfa_audit_format(out, sizeof(out), f, NFIELDS(f));
	assert_int_equal(len, sizeof(out) - 1);
	/* Cut bare value turns quoted and stays open, so it cannot pass as "user=aaa". */
	assert_memory_equal(out, "user=\"aaaa", 10);
	assert_int_equal(must_parse(out), 1);
	assert_true(parsed[0].cut);
	/* Escapes are whole or absent: 2 + 4k bytes of escapes never end mid-way. */
	memset(big, '\n', 5000);
	for (size_t outlen = 1; outlen <= sizeof(out); outlen++) {
		len = mfa_audit_format(out, outlen, f, NFIELDS(f));
		if (len > 0) {
			assert_memory_equal(out, "user=\"", 6);
			assert_int_equal((len - 6) % 4, 0);
		}
		assert_int_equal(must_parse(out), len > 0 ? 1 : 0);
	}
	free(big);
}

/* ---- sender, through a real /dev/log in our private namespace ---- */

static void need_sink(void)
{
	if (sink_ready != 0)
		fail_msg("no private /dev/log: %s", sink_error());
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Check "<PRI>Mmm dd hh:mm:ss IDENT[PID]: " with a time stamp between t0 and
 * t1 and return what follows.  strftime in the C locale (this test never calls
 * setlocale) gives the English month names syslog expects.
 */
static const char *check_header(const char *msg, int pri, const char *ident, time_t t0, time_t t1)
{
	char want[160], stamp[32];

	for (time_t t = t0; t <= t1; t++) {
		struct tm tm;

		assert_non_null(localtime_r(&t, &tm));
		assert_int_equal(strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm), 15);
		snprintf(want, sizeof(want), "<%d>%s %s[%ld]: ", pri, stamp, ident, (long)getpid());
		if (strncmp(msg, want, strlen(want)) == 0)
			return msg + strlen(want);
	}
	fail_msg("unexpected header in [%s]", msg);
	return NULL;
}

static ssize_t must_recv(int fd, char *buf, size_t len)
{
	ssize_t n = sink_recv(fd, buf, len, 2000);

	if (n <= 0)
		fail_msg("no message at /dev/log: %s", n < 0 ? sink_error() : "timeout");
	return n;
}

static void assert_nothing_more(int fd)
{
	char buf[MSG_CAP + 1];

	assert_int_equal(sink_recv(fd, buf, sizeof(buf), 100), 0);
}

static void test_syslog_audit_line(void **state)
{
	/* clang-format off */
	static const struct mfa_audit_field f[] = {
		{ "event", "auth" }, { "result", "fail" }, { "user", "alice" },
		{ "factor", "totp" }, { "reason", "bad_code" }, { "failures", "2" },
		{ "service", "login" }, { "tty", "tty2" }, { "rhost", "" },
	};
	/* clang-format on */
	char buf[MSG_CAP + 1];
	int fd, fds;
	time_t t0, t1;
	ssize_t n;
	(void)state;

	need_sink();
	fd = sink_open();
	assert_true(fd >= 0);
	fds = count_fds();
	t0 = time(NULL);
	assert_int_equal(mfa_audit(MFA_LOG_INFO, "pam_mfauth", f, NFIELDS(f)), 0);
	t1 = time(NULL);
	assert_int_equal(count_fds(), fds);
	n = must_recv(fd, buf, sizeof(buf));
	/* authpriv (10 << 3 = 80) + info (6) */
	assert_memory_equal(buf, "<86>", 4);
	assert_string_equal(check_header(buf, AUTHPRIV + MFA_LOG_INFO, "pam_mfauth", t0, t1),
	    "event=auth result=fail user=alice factor=totp reason=bad_code failures=2 "
	    "service=login tty=tty2 rhost=");
	/* One datagram, no trailing NUL or newline. */
	assert_int_equal((size_t)n, strlen(buf));
	assert_nothing_more(fd);
	assert_int_equal(sink_close(fd), 0);
}

static void test_syslog_priorities(void **state)
{
	static const struct {
		int prio, pri;
		/* clang-format off */
	} cases[] = {
		{ MFA_LOG_ERR, 83 }, { MFA_LOG_WARNING, 84 }, { MFA_LOG_NOTICE, 85 },
		{ MFA_LOG_INFO, 86 }, { MFA_LOG_DEBUG, 87 },
		/* A facility passed in by mistake is replaced by authpriv. */
		{ (4 << 3) | MFA_LOG_INFO, 86 }, { (1 << 3) | MFA_LOG_ERR, 83 },
	};
	/* clang-format on */
	char buf[MSG_CAP + 1];
	int fd;
	(void)state;

	need_sink();
	fd = sink_open();
	assert_true(fd >= 0);
	for (size_t i = 0; i < NFIELDS(cases); i++) {
		time_t t0 = time(NULL), t1;

		assert_int_equal(mfa_syslog(cases[i].prio, "mfauth", "event=unlock user=bob"), 0);
		t1 = time(NULL);
		must_recv(fd, buf, sizeof(buf));
		assert_string_equal(check_header(buf, cases[i].pri, "mfauth", t0, t1),
		    "event=unlock user=bob");
	}
	assert_int_equal(sink_close(fd), 0);
}

static void test_syslog_injection_one_line(void **state)
{
	/* clang-format off */
	struct mfa_audit_field f[] = {
		{ "event", "auth" }, { "result", "fail" },
		{ "user", "alice\nMar  1 00:00:00 host pam_mfauth[1]: event=auth result=success" },
	};
	/* clang-format on */
	char buf[MSG_CAP + 1];
	const char *rest;
	int fd;
	(void)state;

	need_sink();
	fd = sink_open();
	assert_true(fd >= 0);
	assert_int_equal(mfa_audit(MFA_LOG_NOTICE, "pam_mfauth", f, NFIELDS(f)), 0);
	must_recv(fd, buf, sizeof(buf));
	assert_null(strchr(buf, '\n'));
	rest = check_header(buf, AUTHPRIV + MFA_LOG_NOTICE, "pam_mfauth", time(NULL) - 2,
	    time(NULL));
	assert_int_equal(must_parse(rest), 3);
	assert_string_equal(parsed[1].val, "fail");
	assert_string_equal(parsed[2].val, f[2].value);
	assert_nothing_more(fd);
	assert_int_equal(sink_close(fd), 0);
}

/* Lines that do not come from mfa_audit() still cannot start a new record. */
static void test_syslog_sanitizes_raw_line(void **state)
{
	char buf[MSG_CAP + 1];
	int fd;
	(void)state;

	need_sink();
	fd = sink_open();
	assert_true(fd >= 0);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "mfauth",
	                     "a\nb\rc\x7f"
	                     "d\x01"
	                     "e\xe5\xb1\xb1"),
	    0);
	must_recv(fd, buf, sizeof(buf));
	assert_string_equal(check_header(buf, 86, "mfauth", time(NULL) - 2, time(NULL)),
	    "a?b?c?d?e\xe5\xb1\xb1");
	assert_int_equal(sink_close(fd), 0);
}

static void test_syslog_message_cap(void **state)
{
	char *line = malloc(5001), buf[8192];
	struct mfa_audit_field f[] = { { "event", "store_error" }, { "path", NULL } };
	const char *rest;
	ssize_t n;
	int fd;
	(void)state;

	need_sink();
	assert_non_null(line);
	fd = sink_open();
	assert_true(fd >= 0);
	memset(line, 'x', 5000);
	line[5000] = '\0';
	assert_int_equal(mfa_syslog(MFA_LOG_ERR, "mfauth", line), 0);
	n = must_recv(fd, buf, sizeof(buf));
	assert_int_equal(n, MSG_CAP);
	rest = check_header(buf, 83, "mfauth", time(NULL) - 2, time(NULL));
	assert_int_equal(strspn(rest, "x"), strlen(rest));

	/* Through mfa_audit the cut happens in the formatter: still well formed. */
	memset(line, '\n', 5000);
	f[1].value = line;
	assert_int_equal(mfa_audit(MFA_LOG_ERR, "pam_mfauth", f, NFIELDS(f)), 0);
	n = must_recv(fd, buf, sizeof(buf));
	assert_true(n <= MSG_CAP && n > MSG_CAP - 200);
	rest = check_header(buf, 83, "pam_mfauth", time(NULL) - 2, time(NULL));
	assert_int_equal(must_parse(rest), 2);
	assert_string_equal(parsed[0].val, "store_error");
	assert_true(parsed[1].cut);
	assert_int_equal(sink_close(fd), 0);
	free(line);
}

/* A stream socket at /dev/log (EPROTOTYPE for datagrams): retried as a stream. */
static void test_syslog_stream_fallback(void **state)
{
	char buf[MSG_CAP + 1];
	int lfd, fds;
	time_t t0, t1;
	ssize_t n;
	(void)state;

	need_sink();
	lfd = sink_open_stream(4);
	assert_true(lfd >= 0);
	fds = count_fds();
	t0 = time(NULL);
	assert_int_equal(mfa_syslog(MFA_LOG_NOTICE, "mfauth", "event=unlock user=bob reason=x"), 0);
	t1 = time(NULL);
	assert_int_equal(count_fds(), fds);
	n = must_recv(lfd, buf, sizeof(buf));
	assert_string_equal(check_header(buf, 85, "mfauth", t0, t1),
	    "event=unlock user=bob reason=x");
	/* The connection carried the message and nothing else: no NUL, no newline. */
	assert_int_equal((size_t)n, strlen(buf));
	assert_null(strchr(buf, '\n'));
	assert_int_equal(sink_close(lfd), 0);
}

static void expect_io_fast(const char *what)
{
	int fds = count_fds();
	double t = now_s();
	int rc;

	errno = 4242;
	rc = mfa_syslog(MFA_LOG_INFO, "mfauth", "event=test");
	if (rc != MFA_ERR_IO)
		fail_msg("%s: mfa_syslog returned %d, want MFA_ERR_IO", what, rc);
	/* Logging must not disturb the host's errno, nor keep an fd. */
	assert_int_equal(errno, 4242);
	assert_int_equal(count_fds(), fds);
	assert_true(now_s() - t < 1.0);
}

static void test_syslog_nobody_listening(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = SINK_PATH };
	int fd;
	(void)state;

	need_sink();
	alarm(20); /* a hang kills the test binary: a failure, never a pass */

	assert_int_equal(sink_close(-1), 0);
	expect_io_fast("no /dev/log");

	/* A socket file left behind by a daemon that died. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	expect_io_fast("stale datagram socket");
	assert_int_equal(sink_close(-1), 0);

	/* A stream listener that went away. */
	fd = sink_open_stream(4);
	assert_true(fd >= 0);
	close(fd);
	expect_io_fast("stale stream socket");
	assert_int_equal(sink_close(-1), 0);

	/* Not a socket at all. */
	fd = open(SINK_PATH, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	expect_io_fast("regular file");
	assert_int_equal(sink_close(-1), 0);
	alarm(0);
}

/* A daemon that stopped reading: the line is dropped after the send timeout, the login goes on. */
static void test_syslog_full_queue_does_not_block(void **state)
{
	char buf[MSG_CAP + 1];
	int fd, rc = 0, sent = 0;
	double t;
	(void)state;

	need_sink();
	alarm(20);
	fd = sink_open();
	assert_true(fd >= 0);
	t = now_s();
	while (sent < 10000 && (rc = mfa_syslog(MFA_LOG_INFO, "mfauth", "event=test")) == 0)
		sent++;
	assert_int_equal(rc, MFA_ERR_IO);
	assert_true(sent >= 1);
	assert_true(now_s() - t < 2.0);
	assert_int_equal(sink_drain(fd), sent);
	/* Once the daemon reads again, so do we. */
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "mfauth", "event=again"), 0);
	must_recv(fd, buf, sizeof(buf));
	assert_string_equal(check_header(buf, 86, "mfauth", time(NULL) - 2, time(NULL)),
	    "event=again");
	assert_int_equal(sink_close(fd), 0);
	alarm(0);
}

/*
 * A burst: the queue is full for a moment, then the daemon reads again.  The
 * line waits for the room (at most the send timeout) instead of being
 * dropped -- measured in the demo: a directory server's own lines on the same
 * socket cost a login's audit line while the send did not wait.
 */
static void test_syslog_burst_waits_for_room(void **state)
{
	char buf[MSG_CAP + 1];
	int fd, rc = 0, sent = 0, status = 0;
	double t;
	pid_t child;
	(void)state;

	need_sink();
	alarm(20);
	fd = sink_open();
	assert_true(fd >= 0);
	while (sent < 10000 && (rc = mfa_syslog(MFA_LOG_INFO, "mfauth", "event=fill")) == 0)
		sent++;
	assert_int_equal(rc, MFA_ERR_IO); /* full, and the daemon does not read */
	/* The daemon reads one line 100 ms from now. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		usleep(100000);
		_exit(sink_recv(fd, buf, sizeof(buf), 2000) > 0 ? 0 : 1);
	}
	t = now_s();
	rc = mfa_syslog(MFA_LOG_INFO, "mfauth", "event=burst");
	t = now_s() - t;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (rc != 0)
		fail_msg("the line was dropped after %.3f s although the daemon read again", t);
	assert_true(t >= 0.05 && t < 2.0);
	/* Every line but the one the child read, the burst's last. */
	for (int i = 0; i < sent - 1; i++) {
		must_recv(fd, buf, sizeof(buf));
		assert_non_null(strstr(buf, "event=fill"));
	}
	must_recv(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "event=burst"));
	assert_nothing_more(fd);
	assert_int_equal(sink_close(fd), 0);
	alarm(0);
}

/* A stream daemon that stopped accepting: connect() gives up after a short timeout. */
static void test_syslog_stream_backlog_full_times_out(void **state)
{
	int lfd, fds, rc = 0, calls = 0;
	double t = 0;
	char buf[MSG_CAP + 1];
	(void)state;

	need_sink();
	alarm(30);
	lfd = sink_open_stream(0);
	assert_true(lfd >= 0);
	fds = count_fds();
	while (calls < 8) {
		t = now_s();
		rc = mfa_syslog(MFA_LOG_INFO, "mfauth", "event=test");
		calls++;
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, MFA_ERR_IO);
	/* Bounded by SO_SNDTIMEO (0.5 s), with slack for a loaded machine. */
	assert_true(now_s() - t < 3.0);
	assert_int_equal(count_fds(), fds);
	/* The connections that did get in carry complete messages. */
	for (int i = 0; i < calls - 1; i++) {
		must_recv(lfd, buf, sizeof(buf));
		assert_string_equal(check_header(buf, 86, "mfauth", time(NULL) - 10, time(NULL)),
		    "event=test");
	}
	assert_int_equal(sink_close(lfd), 0);
	alarm(0);
}

static void test_syslog_bad_arguments(void **state)
{
	static const struct mfa_audit_field f[] = { { "event", "auth" } };
	char longident[80];
	int fd;
	(void)state;

	need_sink();
	fd = sink_open();
	assert_true(fd >= 0);
	memset(longident, 'a', sizeof(longident) - 1);
	longident[sizeof(longident) - 1] = '\0';
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, NULL, "x"), MFA_ERR_INVAL);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "", "x"), MFA_ERR_INVAL);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "pam mfauth", "x"), MFA_ERR_INVAL);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "pam_mfauth[1]", "x"), MFA_ERR_INVAL);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "a\nb", "x"), MFA_ERR_INVAL);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, longident, "x"), MFA_ERR_INVAL);
	assert_int_equal(mfa_syslog(MFA_LOG_INFO, "mfauth", NULL), MFA_ERR_INVAL);
	assert_int_equal(mfa_audit(MFA_LOG_INFO, NULL, f, 1), MFA_ERR_INVAL);
	assert_nothing_more(fd);
	assert_int_equal(sink_close(fd), 0);
}

/* The overlay kept the device nodes the rest of the tests rely on. */
static void test_sink_namespace_keeps_dev(void **state)
{
	char b[4];
	int fd;
	(void)state;

	need_sink();
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, b, sizeof(b)), sizeof(b));
	close(fd);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, sizeof(b)), sizeof(b));
	close(fd);
	assert_int_equal(access(SINK_PATH, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_plain_fields),
		cmocka_unit_test(test_format_empty_and_null),
		cmocka_unit_test(test_format_escaping),
		cmocka_unit_test(test_format_injection),
		cmocka_unit_test(test_format_no_forged_field_for_naive_readers),
		cmocka_unit_test(test_format_bad_keys_skipped),
		cmocka_unit_test(test_format_truncation_every_length),
		cmocka_unit_test(test_format_long_value_cut_visibly),
		cmocka_unit_test(test_sink_namespace_keeps_dev),
		cmocka_unit_test(test_syslog_audit_line),
		cmocka_unit_test(test_syslog_priorities),
		cmocka_unit_test(test_syslog_injection_one_line),
		cmocka_unit_test(test_syslog_sanitizes_raw_line),
		cmocka_unit_test(test_syslog_message_cap),
		cmocka_unit_test(test_syslog_stream_fallback),
		cmocka_unit_test(test_syslog_nobody_listening),
		cmocka_unit_test(test_syslog_full_queue_does_not_block),
		cmocka_unit_test(test_syslog_burst_waits_for_room),
		cmocka_unit_test(test_syslog_stream_backlog_full_times_out),
		cmocka_unit_test(test_syslog_bad_arguments),
	};

	/* Before cmocka and before any thread: unshare() moves only this thread. */
	sink_ready = sink_enter_namespace();
	if (sink_ready != 0)
		fprintf(stderr, "test_audit: %s\n", sink_error());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
