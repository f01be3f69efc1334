/*
 * Syslog lines to audit records for `mfauth report` (report_parse.h).
 *
 * Written as a cursor over a length-bounded buffer: every step checks what
 * is left before it reads, so a line cut anywhere is malformed, not an
 * over-read.  No allocation: one million lines cost one struct.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "report_parse.h"

struct cur {
	const char *p;
	const char *end;
};

/* clang-format off */
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
/* clang-format on */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n digits, as a number. */
static bool take_digits(struct cur *c, int n, int *out)
{
	int v = 0;

	if (c->end - c->p < n)
		return false;
	for (int i = 0; i < n; i++) {
		if (!is_digit(c->p[i]))
			return false;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*out = v;
	return true;
}

static bool take_char(struct cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* A run of bytes up to the next blank (not empty), as [*s, *s + *n). */
static bool take_word(struct cur *c, const char **s, size_t *n)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*s = start;
	*n = (size_t)(c->p - start);
	return *n > 0;
}

/* "<PRI>", 1 to 3 digits, value at most 191 (RFC 5424 §6.2.1). */
static bool take_pri(struct cur *c)
{
	int v = 0, n = 0;

	if (!take_char(c, '<'))
		return false;
	while (c->p < c->end && is_digit(*c->p) && n < 3) {
		v = v * 10 + (*c->p - '0');
		c->p++;
		n++;
	}
	return n > 0 && v <= 191 && take_char(c, '>');
}

static bool days_ok(int y, int m, int d)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return m != 2 || d < 29 || leap;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian): no timegm, no locale. */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/*
 * RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" to epoch seconds.
 * The fraction is read and dropped: reports count seconds.
 */
static bool take_rfc3339(struct cur *c, int64_t *t)
{
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;

	if (!take_digits(c, 4, &y) || !take_char(c, '-') || !take_digits(c, 2, &mo) ||
	    !take_char(c, '-') || !take_digits(c, 2, &d) || !take_char(c, 'T') ||
	    !take_digits(c, 2, &h) || !take_char(c, ':') || !take_digits(c, 2, &mi) ||
	    !take_char(c, ':') || !take_digits(c, 2, &s))
		return false;
	if (take_char(c, '.')) {
		int n = 0;
		while (c->p < c->end && is_digit(*c->p) && n < 9) {
			c->p++;
			n++;
		}
		if (n == 0)
			return false;
	}
	if (take_char(c, 'Z'))
		sign = 0;
	else if (take_char(c, '+'))
		sign = 1;
	else if (take_char(c, '-'))
		sign = -1;
	else
		return false;
	if (sign != 0 &&
	    (!take_digits(c, 2, &oh) || !take_char(c, ':') || !take_digits(c, 2, &om) || oh > 23 ||
	        om > 59))
		return false;
	if (!days_ok(y, mo, d) || h > 23 || mi > 59 || s > 60)
		return false;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	    sign * (oh * 3600 + om * 60);
	return true;
}

/*
 * Local midnight of y-m-d through mktime, remembered for the next line: a
 * file's lines share a handful of days, and mktime is the slow part of a
 * million-line run.  The cache is one entry, per process; the tool is
 * single-threaded.
 */
static bool local_time(int y, int mo, int d, int h, int mi, int s, int64_t *t)
{
	static int cy = -1, cmo, cd, ch;
	static int64_t cbase;
	struct tm tm;
	time_t r;

	if (y == cy && mo == cmo && d == cd && h == ch) {
		*t = cbase + mi * 60 + s;
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_isdst = -1;
	r = mktime(&tm);
	if (r == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return false;
	cy = y, cmo = mo, cd = d, ch = h;
	cbase = (int64_t)r;
	*t = cbase + mi * 60 + s;
	return true;
}

/* "Mmm dd hh:mm:ss" (the day space-padded), local time, year from ref. */
static bool take_rfc3164(struct cur *c, int64_t ref, int64_t *t)
{
	int mo = -1, d = 0, h, mi, s, y;
	struct tm rtm;
	time_t rt = (time_t)ref;

	if (c->end - c->p < 15)
		return false;
	for (int i = 0; i < 12; i++)
		if (memcmp(c->p, month_names[i], 3) == 0)
			mo = i + 1;
	if (mo < 0 || c->p[3] != ' ')
		return false;
	c->p += 4;
	if (*c->p == ' ' && is_digit(c->p[1]))
		d = c->p[1] - '0';
	else if (is_digit(c->p[0]) && is_digit(c->p[1]))
		d = (c->p[0] - '0') * 10 + (c->p[1] - '0');
	else
		return false;
	c->p += 2;
	if (!take_char(c, ' ') || !take_digits(c, 2, &h) || !take_char(c, ':') ||
	    !take_digits(c, 2, &mi) || !take_char(c, ':') || !take_digits(c, 2, &s) || h > 23 ||
	    mi > 59 || s > 60)
		return false;
	if (localtime_r(&rt, &rtm) == NULL)
		return false;
	y = rtm.tm_year + 1900;
	/* The latest year that is not more than a day after the file was written. */
	for (int back = 0; back < 8; back++, y--) {
		if (!days_ok(y, mo, d))
			continue;
		if (!local_time(y, mo, d, h, mi, s, t))
			return false;
		if (*t <= ref + 86400)
			return true;
	}
	return false;
}

/* A host name as a terminal: printable ASCII, no blank, bounded. */
static bool copy_host(char *dst, const char *s, size_t n)
{
	if (n == 0 || n >= REPORT_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* Which of our idents, if any: exact names only. */
static int origin_of(const char *s, size_t n, enum report_origin *o)
{
	if (n == 10 && memcmp(s, "pam_mfauth", 10) == 0)
		*o = REPORT_MODULE;
	else if (n == 6 && memcmp(s, "mfauth", 6) == 0)
		*o = REPORT_TOOL;
	else
		return REPORT_PARSE_OTHER;
	return REPORT_PARSE_OURS;
}

/* RFC 3164 "TAG[PID]: " or "TAG: ", the ident in [*s, *s + *n). */
static bool take_tag(struct cur *c, const char **s, size_t *n)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p != '[' && *c->p != ':' && *c->p != ' ')
		c->p++;
	*s = start;
	*n = (size_t)(c->p - start);
	if (*n == 0 || *n > REPORT_IDENT_MAX)
		return false;
	if (take_char(c, '[')) {
		int digits = 0;
		while (c->p < c->end && is_digit(*c->p) && digits < 10) {
			c->p++;
			digits++;
		}
		if (digits == 0 || !take_char(c, ']'))
			return false;
	}
	return take_char(c, ':') && take_char(c, ' ');
}

/* RFC 5424 STRUCTURED-DATA: "-" or [...] elements, quotes and \] inside. */
static bool skip_sd(struct cur *c)
{
	if (take_char(c, '-'))
		return true;
	if (c->p >= c->end || *c->p != '[')
		return false;
	while (c->p < c->end && *c->p == '[') {
		bool quoted = false;
		for (c->p++; c->p < c->end; c->p++) {
			if (quoted && *c->p == '\\' && c->p + 1 < c->end)
				c->p++;
			else if (*c->p == '"')
				quoted = !quoted;
			else if (!quoted && *c->p == ']')
				break;
		}
		if (!take_char(c, ']'))
			return false;
	}
	return true;
}

static int parse_5424(struct cur *c, struct report_line *out, const char **why)
{
	const char *s;
	size_t n;
	int64_t t;
	int rc;

	if (!take_rfc3339(c, &t) || !take_char(c, ' '))
		return *why = "bad_timestamp", REPORT_PARSE_MALFORMED;
	if (!take_word(c, &s, &n) || !take_char(c, ' '))
		return *why = "bad_header", REPORT_PARSE_MALFORMED;
	if (!(n == 1 && *s == '-') && !copy_host(out->host, s, n))
		return *why = "bad_host", REPORT_PARSE_MALFORMED;
	if (n == 1 && *s == '-')
		strcpy(out->host, "-");
	if (!take_word(c, &s, &n) || !take_char(c, ' '))
		return *why = "bad_header", REPORT_PARSE_MALFORMED;
	rc = origin_of(s, n, &out->origin);
	if (!take_word(c, &s, &n) || !take_char(c, ' ') || /* PROCID */
	    !take_word(c, &s, &n) || !take_char(c, ' ') || /* MSGID */
	    !skip_sd(c))
		return *why = "bad_header", REPORT_PARSE_MALFORMED;
	if (rc != REPORT_PARSE_OURS)
		return REPORT_PARSE_OTHER;
	if (!take_char(c, ' '))
		return *why = "no_message", REPORT_PARSE_MALFORMED;
	/* A message may start with a UTF-8 byte-order mark (RFC 5424 §6.4). */
	if (c->end - c->p >= 3 && memcmp(c->p, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
	out->time = t;
	return report_parse_fields(c->p, (size_t)(c->end - c->p), out, why);
}

int report_parse_syslog(const char *line, size_t len, int64_t ref, struct report_line *out,
    const char **why)
{
	struct cur c = { line, line + len };
	const char *s;
	size_t n;
	int64_t t;
	int rc;

	*why = "";
	out->nfields = 0;
	out->cut = 0;
	out->host[0] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		c.end--;
	if (len > REPORT_LINE_MAX)
		return *why = "too_long", REPORT_PARSE_MALFORMED;
	if (c.p < c.end && *c.p == '<' && !take_pri(&c))
		return *why = "bad_priority", REPORT_PARSE_MALFORMED;
	if (c.end - c.p >= 2 && c.p[0] == '1' && c.p[1] == ' ') {
		c.p += 2;
		return parse_5424(&c, out, why);
	}
	if (c.p < c.end && is_digit(*c.p)) {
		if (!take_rfc3339(&c, &t))
			return *why = "bad_timestamp", REPORT_PARSE_MALFORMED;
	} else if (!take_rfc3164(&c, ref, &t)) {
		return *why = "bad_timestamp", REPORT_PARSE_MALFORMED;
	}
	if (!take_char(&c, ' ') || !take_word(&c, &s, &n) || !take_char(&c, ' '))
		return *why = "bad_header", REPORT_PARSE_MALFORMED;
	if (!copy_host(out->host, s, n))
		return *why = "bad_host", REPORT_PARSE_MALFORMED;
	if (!take_tag(&c, &s, &n))
		/* Kernel lines and the like have no tag: not ours, not broken. */
		return REPORT_PARSE_OTHER;
	rc = origin_of(s, n, &out->origin);
	if (rc != REPORT_PARSE_OURS)
		return rc;
	out->time = t;
	return report_parse_fields(c.p, (size_t)(c.end - c.p), out, why);
}

static bool key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '_';
}

static bool bare_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) ||
	    (ch != '\0' && strchr("._@:/+-", ch) != NULL);
}

static int hex_val(char ch)
{
	if (is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * One quoted value after its opening quote, decoded into *o.  Only the
 * escapes lib/audit.c writes are accepted (\" \\ \xHH with lower-case hex,
 * of a byte it would escape), so a value has one spelling and a line that
 * our writer could not have made is malformed.  An open quote at the end of
 * the message is a value cut at the line limit.
 */
static bool take_quoted(struct cur *c, char **o, int *cut)
{
	while (c->p < c->end) {
		char ch = *c->p++;
		if (ch == '"')
			return true;
		if ((unsigned char)ch <= 0x20 || (unsigned char)ch >= 0x7f)
			return false;
		if (ch != '\\') {
			*(*o)++ = ch;
			continue;
		}
		if (c->p >= c->end)
			return false;
		ch = *c->p++;
		if (ch == '"' || ch == '\\') {
			*(*o)++ = ch;
		} else if (ch == 'x' && c->end - c->p >= 2 && hex_val(c->p[0]) >= 0 &&
		    hex_val(c->p[1]) >= 0) {
			int v = hex_val(c->p[0]) * 16 + hex_val(c->p[1]);
			if (v == 0 || (v > 0x20 && v < 0x7f))
				return false;
			*(*o)++ = (char)v;
			c->p += 2;
		} else {
			return false;
		}
	}
	*cut = 1;
	return true;
}

int report_parse_fields(const char *msg, size_t len, struct report_line *out, const char **why)
{
	struct cur c = { msg, msg + len };
	char *o = out->buf;

	*why = "";
	out->nfields = 0;
	out->cut = 0;
	if (len > REPORT_LINE_MAX)
		return *why = "too_long", REPORT_PARSE_MALFORMED;
	while (c.p < c.end) {
		struct report_field *f;
		const char *kstart;

		if (out->nfields > 0 && !take_char(&c, ' '))
			return *why = "bad_separator", REPORT_PARSE_MALFORMED;
		if (out->nfields == REPORT_FIELDS_MAX)
			return *why = "too_many_fields", REPORT_PARSE_MALFORMED;
		f = &out->f[out->nfields];
		kstart = c.p;
		while (c.p < c.end && key_char(*c.p))
			c.p++;
		if (c.p == kstart || !take_char(&c, '='))
			return *why = "bad_key", REPORT_PARSE_MALFORMED;
		memcpy(o, kstart, (size_t)(c.p - kstart - 1));
		o[c.p - kstart - 1] = '\0';
		f->key = o;
		o += c.p - kstart;
		f->value = o;
		if (take_char(&c, '"')) {
			if (!take_quoted(&c, &o, &out->cut))
				return *why = "bad_quote", REPORT_PARSE_MALFORMED;
		} else {
			while (c.p < c.end && bare_char(*c.p))
				*o++ = *c.p++;
			if (c.p < c.end && *c.p != ' ')
				return *why = "bad_value", REPORT_PARSE_MALFORMED;
		}
		*o++ = '\0';
		out->nfields++;
	}
	/* Our writer names each key once: a second "event=" is someone else's. */
	for (size_t i = 1; i < out->nfields; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->f[i].key, out->f[j].key) == 0)
				return *why = "duplicate_key", REPORT_PARSE_MALFORMED;
	/* Every line of ours starts "event=E result=R user=U". */
	if (out->nfields < 3 || strcmp(out->f[0].key, "event") != 0 ||
	    strcmp(out->f[1].key, "result") != 0 || strcmp(out->f[2].key, "user") != 0 ||
	    out->f[0].value[0] == '\0' || out->f[1].value[0] == '\0')
		return *why = "not_an_audit_line", REPORT_PARSE_MALFORMED;
	return REPORT_PARSE_OURS;
}

const char *report_field(const struct report_line *l, const char *key)
{
	for (size_t i = 0; i < l->nfields; i++)
		if (strcmp(l->f[i].key, key) == 0)
			return l->f[i].value;
	return NULL;
}
