/*
 * Audit lines (doc/DESIGN.md §3 "Audit lines"): one syslog line per decision,
 * made of key=value fields, facility authpriv.
 *
 * The module runs inside login, sshd and display managers.  openlog() and
 * syslog() would change that host's process-wide ident, facility and log
 * socket, so each line goes out on a socket of our own that is closed again
 * before we return: no global state, nothing left open.
 *
 * A user name is attacker-chosen (it is typed at the login prompt), so values
 * are quoted and escaped: no value can add a field, close its quotes early or
 * start a new log line.  A value is bare only when it holds nothing but
 * letters, digits and "._@:/+-"; otherwise it is quoted, with '"' and '\\'
 * backslash-escaped and blanks, control and non-ASCII bytes written \xHH, so
 * even a reader that splits at blanks, '=' or ',' without knowing about quotes
 * finds no field that is not ours.  Never pass a secret (invariant 7).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mfauth/audit.h"
#include "mfauth/err.h"

/*
 * Spelled out so this file needs nothing from the libc logger's header: the
 * module must never call openlog()/syslog().
 */
#define FACILITY_AUTHPRIV (10 << 3)
#define PRIORITY_MASK 0x07

#define LOG_SOCKET "/dev/log"
/* Whole message, header included: what RFC 5424 §6.1 says every receiver takes. */
#define MSG_MAX 2048
#define IDENT_MAX 64
/*
 * Room kept for "<PRI>Mmm dd hh:mm:ss IDENT[PID]: " so that mfa_audit()
 * truncates in the formatter (which never cuts an escape), not in the sender.
 */
#define HEADER_RESERVE 128
#define AUDIT_LINE_MAX (MSG_MAX - HEADER_RESERVE)
/* A stuck daemon (stream or datagram) may delay a login by this much per line, never more. */
#define STREAM_TIMEOUT_USEC 500000

_Static_assert(5 + 16 + IDENT_MAX + 1 + 20 + 3 < HEADER_RESERVE,
    "HEADER_RESERVE too small for the longest header");

/* Fixed English names: the host's locale must not change our log format. */
/* clang-format off */
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
/* clang-format on */

static bool key_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Bytes a value may hold without quotes.  Not '=' or ',': a reader that
 * splits at them (or greps "event=lock ") would take user "x,event=lock"
 * for a field (issue 12 finding 4).
 */
static bool bare_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("._@:/+-", c) != NULL);
}

/* Keys are constants of ours, but a bad one must still not break the line. */
static bool key_ok(const char *key, size_t *klen)
{
	size_t i;

	if (key == NULL || key[0] == '\0')
		return false;
	for (i = 0; key[i] != '\0'; i++)
		if (!key_char_ok((unsigned char)key[i]))
			return false;
	*klen = i;
	return true;
}

static bool needs_quotes(const char *v)
{
	for (; *v != '\0'; v++)
		if (!bare_char_ok((unsigned char)*v))
			return true;
	return false;
}

/*
 * Written as \xHH inside quotes: control bytes, DEL, every byte >= 0x80, and
 * the blank, so that no value holds a blank and a reader that splits a line
 * at blanks still gets whole fields.
 */
static bool hex_escaped(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f;
}

/* Bytes one value byte takes inside quotes: itself, \" or \\, or \xHH. */
static size_t quoted_char_len(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (hex_escaped(c))
		return 4;
	return 1;
}

/* Write one value byte as it appears inside quotes; returns its length. */
static size_t put_quoted_char(char *dst, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		dst[0] = '\\';
		dst[1] = (char)c;
		return 2;
	}
	if (hex_escaped(c)) {
		dst[0] = '\\';
		dst[1] = 'x';
		dst[2] = hex[c >> 4];
		dst[3] = hex[c & 0x0f];
		return 4;
	}
	dst[0] = (char)c;
	return 1;
}

static size_t value_len(const char *v, bool quoted)
{
	size_t n = 0;

	if (!quoted)
		return strlen(v);
	for (; *v != '\0'; v++)
		n += quoted_char_len((unsigned char)*v);
	return n + 2;
}

/*
 * Write as much of v, quoted, as fits in room bytes, escape by escape, and
 * leave the quotes open.  A complete quoted value always ends with '"', so an
 * open quote at the end of the line tells the reader the value was cut; a
 * cut bare value would instead pass for a complete, different one.
 */
static size_t put_cut_value(char *dst, size_t room, const char *v)
{
	size_t len = 0;

	if (room == 0)
		return 0;
	dst[len++] = '"';
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (quoted_char_len(c) > room - len)
			break;
		len += put_quoted_char(dst + len, c);
	}
	return len;
}

/*
 * Fields are written whole while they fit.  The first one that does not fit
 * is written cut (see put_cut_value) and ends the line, so the output is
 * always complete fields plus at most one visibly cut value.
 */
size_t mfa_audit_format(char *out, size_t outlen, const struct mfa_audit_field *fields, size_t n)
{
	size_t len = 0, room;

	if (out == NULL || outlen == 0)
		return 0;
	out[0] = '\0';
	if (fields == NULL)
		return 0;
	room = outlen - 1; /* the NUL always has its byte */
	for (size_t i = 0; i < n; i++) {
		const char *v = fields[i].value != NULL ? fields[i].value : "";
		size_t klen, head, vlen;
		bool quoted, whole;

		if (!key_ok(fields[i].key, &klen))
			continue;
		head = (len > 0 ? 1 : 0) + klen + 1;
		quoted = needs_quotes(v);
		vlen = value_len(v, quoted);
		whole = head + vlen <= room - len;
		/* A dangling "key=" would read as an empty value: a cut needs its quote. */
		if (!whole && head + 1 > room - len)
			break;
		if (len > 0)
			out[len++] = ' ';
		memcpy(out + len, fields[i].key, klen);
		len += klen;
		out[len++] = '=';
		if (!whole) {
			len += put_cut_value(out + len, room - len, v);
			break;
		}
		if (quoted) {
			out[len++] = '"';
			for (const char *p = v; *p != '\0'; p++)
				len += put_quoted_char(out + len, (unsigned char)*p);
			out[len++] = '"';
		} else {
			memcpy(out + len, v, vlen);
			len += vlen;
		}
	}
	out[len] = '\0';
	return len;
}

/* The ident lands in every line's header: a constant of ours, but check it. */
static bool ident_ok(const char *ident)
{
	size_t i;

	if (ident == NULL || ident[0] == '\0')
		return false;
	for (i = 0; ident[i] != '\0'; i++) {
		unsigned char c = (unsigned char)ident[i];
		if (i >= IDENT_MAX || c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == ':')
			return false;
	}
	return true;
}

/*
 * "<PRI>Mmm dd hh:mm:ss IDENT[PID]: LINE" in local time, as syslogd, rsyslog
 * and journald expect on /dev/log.  The result is at most cap - 1 bytes.
 */
static size_t build_message(char *msg, size_t cap, int priority, const char *ident,
    const char *line)
{
	char stamp[32] = "", hms[16];
	struct tm tm;
	time_t now = time(NULL);
	size_t len;
	int n;

	/* Without a usable time, leave the stamp out: the daemon adds its own. */
	if (now != (time_t)-1 && localtime_r(&now, &tm) != NULL && tm.tm_mon >= 0 &&
	    tm.tm_mon < 12 && tm.tm_mday >= 1 && tm.tm_mday <= 31 &&
	    strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 8)
		snprintf(stamp, sizeof(stamp), "%s %2d %s ", month_names[tm.tm_mon], tm.tm_mday,
		    hms);
	/* Every line goes to authpriv, whatever facility a caller passed. */
	n = snprintf(msg, cap, "<%d>%s%s[%ld]: ", FACILITY_AUTHPRIV | (priority & PRIORITY_MASK),
	    stamp, ident, (long)getpid());
	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	/*
	 * Lines from mfa_audit() are already escaped; a line from another caller
	 * still must not start a second log record (stream-mode daemons split
	 * on newlines, some on NUL).
	 */
	for (; *line != '\0' && len < cap - 1; line++) {
		unsigned char c = (unsigned char)*line;
		msg[len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	msg[len] = '\0';
	return len;
}

/* 0, MFA_ERR_IO, or 1 when /dev/log is a stream socket and we should retry. */
static int send_dgram(const struct sockaddr_un *sa, socklen_t salen, const char *msg, size_t len)
{
	int fd, rc = MFA_ERR_IO;
	ssize_t w;

	struct timeval tv = { 0, STREAM_TIMEOUT_USEC };

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return MFA_ERR_IO;
	/*
	 * A full receive queue is waited on, for at most the send timeout: a
	 * burst (the daemon busy for a moment, another program's lines -- the
	 * queue holds net.unix.max_dgram_qlen datagrams, 10 where systemd has not
	 * raised it) must not cost an audit line; a daemon that stopped reading
	 * delays a login by that much per line, never more, and the line is then
	 * dropped (MFA_ERR_IO).
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		close(fd);
		return MFA_ERR_IO;
	}
	do {
		w = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)sa, salen);
	} while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w == len)
		rc = 0;
	else if (w < 0 && errno == EPROTOTYPE)
		rc = 1;
	close(fd);
	return rc;
}

/*
 * One message per connection, without a trailing NUL or newline: closing the
 * connection ends the record.
 */
static int send_stream(const struct sockaddr_un *sa, socklen_t salen, const char *msg, size_t len)
{
	struct timeval tv = { 0, STREAM_TIMEOUT_USEC };
	size_t off = 0;
	int fd, rc = MFA_ERR_IO;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return MFA_ERR_IO;
	/* On AF_UNIX the send timeout also bounds connect() to a full backlog. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto out;
	/* No retry on EINTR: the connection may be half made; best effort. */
	if (connect(fd, (const struct sockaddr *)sa, salen) != 0)
		goto out;
	while (off < len) {
		/* MSG_NOSIGNAL: a daemon that went away must not SIGPIPE the host. */
		ssize_t w = send(fd, msg + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int mfa_syslog(int priority, const char *ident, const char *line)
{
	struct sockaddr_un sa;
	char msg[MSG_MAX + 1];
	socklen_t salen;
	size_t len;
	int rc, saved_errno = errno;

	if (!ident_ok(ident) || line == NULL)
		return MFA_ERR_INVAL;
	len = build_message(msg, sizeof(msg), priority, ident, line);
	if (len == 0)
		return MFA_ERR_INVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, LOG_SOCKET, sizeof(LOG_SOCKET));
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof(LOG_SOCKET));

	rc = send_dgram(&sa, salen, msg, len);
	if (rc == 1)
		rc = send_stream(&sa, salen, msg, len);
	/* Logging is a side effect: the host's errno is not ours to change. */
	errno = saved_errno;
	return rc;
}

int mfa_audit(int priority, const char *ident, const struct mfa_audit_field *fields, size_t n)
{
	char line[AUDIT_LINE_MAX];

	mfa_audit_format(line, sizeof(line), fields, n);
	return mfa_syslog(priority, ident, line);
}
