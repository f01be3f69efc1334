/*
 * `mfauth report`: one syslog line in, one audit record out.
 *
 * The lines come from files anyone with write access to a log collector
 * could have touched, so this is a parser of untrusted bytes: bounded, no
 * allocation, and every line ends as exactly one of "ours", "another
 * program's" or "malformed" (with a reason), never a crash.  Fuzzed by
 * fuzz/fuzz_report_parse.c.
 *
 * Headers understood (doc/DESIGN.md §3 "mfauth report"):
 *   RFC 3164 as rsyslog writes auth.log   "Dec  6 07:55:18 HOST TAG[PID]: MSG"
 *   rsyslog's RFC 3339 file format         "2026-12-06T07:55:18.1+09:00 HOST TAG[PID]: MSG"
 *   RFC 5424                               "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG"
 * each optionally starting with "<PRI>".  MSG is the audit line of
 * lib/audit.c: key=value fields separated by one blank, values bare
 * ([A-Za-z0-9._@:/+-]) or double-quoted with \", \\ and \xHH escapes.
 */
#ifndef MFAUTH_REPORT_PARSE_H
#define MFAUTH_REPORT_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Longer lines are malformed: lib/audit.c never writes more than 2048 bytes. */
#define REPORT_LINE_MAX 4096
#define REPORT_FIELDS_MAX 32
#define REPORT_HOST_MAX 256
#define REPORT_IDENT_MAX 64

enum report_origin {
	REPORT_MODULE, /* ident pam_mfauth: the module and the setuid helper */
	REPORT_TOOL,   /* ident mfauth: the admin tool */
};

struct report_field {
	const char *key;
	const char *value; /* decoded (escapes resolved), NUL-terminated */
};

/* One audit line.  The strings point into buf: valid until the next parse. */
struct report_line {
	int64_t time;               /* epoch seconds, UTC */
	char host[REPORT_HOST_MAX]; /* the terminal; "-" when the header had none */
	enum report_origin origin;
	int cut; /* the last value was cut at the line limit */
	size_t nfields;
	struct report_field f[REPORT_FIELDS_MAX];
	char buf[REPORT_LINE_MAX * 2];
};

enum report_parse_result {
	REPORT_PARSE_OURS = 0,       /* an audit line of ours, *out filled */
	REPORT_PARSE_OTHER = 1,      /* a well-formed line of another program */
	REPORT_PARSE_MALFORMED = -1, /* *why says what was wrong */
};

/*
 * Parse one line (without its newline; a trailing CR is dropped).  ref is
 * the time the file was written (its mtime): an RFC 3164 stamp has no year,
 * so it gets the latest year that puts it no more than a day after ref.
 * RFC 3164 stamps are local time (TZ); the others carry their offset.
 * Returns a report_parse_result; *why is a static English token (for the
 * malformed list) on REPORT_PARSE_MALFORMED.
 */
int report_parse_syslog(const char *line, size_t len, int64_t ref, struct report_line *out,
    const char **why);

/*
 * Parse only the audit fields of a message (the journal's MESSAGE): the
 * same rules as above, time and host left to the caller.
 */
int report_parse_fields(const char *msg, size_t len, struct report_line *out, const char **why);

/* A field's decoded value, or NULL when the line has no such key. */
const char *report_field(const struct report_line *l, const char *key);

#endif
