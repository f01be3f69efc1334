/*
 * The module <-> helper protocol (helper_proto.h): bounded parsers for both
 * directions and the descriptor I/O around them.  Untrusted in both
 * directions: the module distrusts a helper that misbehaves, the helper
 * distrusts its unprivileged caller.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/helper_proto.h"
#include "mfauth/record.h"

static const char *const msg_names[] = {
	[MFA_HP_MSG_LOCKED] = "locked",
	[MFA_HP_MSG_ACCOUNT_LOCKED] = "account_locked",
	[MFA_HP_MSG_NO_CARD] = "no_card",
	[MFA_HP_MSG_PIN_TRIES] = "pin_tries",
	[MFA_HP_MSG_PIN_BLOCKED_JPKI] = "pin_blocked_jpki",
	[MFA_HP_MSG_PIN_BLOCKED] = "pin_blocked",
	[MFA_HP_MSG_BAD_PIN] = "bad_pin",
	[MFA_HP_MSG_PIN_FORMAT_JPKI] = "pin_format_jpki",
	[MFA_HP_MSG_PIN_FORMAT] = "pin_format",
	[MFA_HP_MSG_CERT_EXPIRED] = "cert_expired",
	[MFA_HP_MSG_WRONG_CARD] = "wrong_card",
	[MFA_HP_MSG_CARD_ERROR] = "card_error",
	[MFA_HP_MSG_TRIES_UNKNOWN] = "tries_unknown",
	[MFA_HP_MSG_REPLAY] = "replay",
	[MFA_HP_MSG_DIRECTORY] = "directory_unreachable",
	[MFA_HP_MSG_CARD_REMOTE] = "card_remote",
	[MFA_HP_MSG_CARD_REMOTE_REFUSED] = "card_remote_refused",
};

bool mfa_hp_msg_has_arg(enum mfa_hp_msg msg)
{
	return msg == MFA_HP_MSG_PIN_TRIES || msg == MFA_HP_MSG_BAD_PIN ||
	    msg == MFA_HP_MSG_CERT_EXPIRED;
}

/* The card errors and their messages: the first row that matches wins, both ways. */
#define ANY_PROFILE 0xff
static const struct {
	int rc;
	uint8_t profile; /* ANY_PROFILE, or the one profile the row is for */
	enum mfa_hp_msg msg;
	/* clang-format off */
} card_msgs[] = {
	{ 0, ANY_PROFILE, MFA_HP_MSG_NONE },
	{ MFA_ERR_LOCKED, ANY_PROFILE, MFA_HP_MSG_NONE },
	{ MFA_ERR_NOCARD, ANY_PROFILE, MFA_HP_MSG_NONE },
	{ MFA_ERR_NOREADER, ANY_PROFILE, MFA_HP_MSG_NONE },
	{ MFA_ERR_NOSERVICE, ANY_PROFILE, MFA_HP_MSG_NONE },
	{ MFA_ERR_PIN_TRIES, ANY_PROFILE, MFA_HP_MSG_PIN_TRIES },
	{ MFA_ERR_PIN_BLOCKED, MFA_CARD_JPKI, MFA_HP_MSG_PIN_BLOCKED_JPKI },
	{ MFA_ERR_PIN_BLOCKED, ANY_PROFILE, MFA_HP_MSG_PIN_BLOCKED },
	{ MFA_ERR_BADPIN, ANY_PROFILE, MFA_HP_MSG_BAD_PIN },
	{ MFA_ERR_PIN_FORMAT, MFA_CARD_JPKI, MFA_HP_MSG_PIN_FORMAT_JPKI },
	{ MFA_ERR_PIN_FORMAT, ANY_PROFILE, MFA_HP_MSG_PIN_FORMAT },
	{ MFA_ERR_EXPIRED, ANY_PROFILE, MFA_HP_MSG_CERT_EXPIRED },
	/* Found before any PIN prompt, or by the signature: the same words. */
	{ MFA_ERR_WRONG_CARD, ANY_PROFILE, MFA_HP_MSG_WRONG_CARD },
	{ MFA_ERR_BADSIG, ANY_PROFILE, MFA_HP_MSG_WRONG_CARD },
	{ MFA_ERR_NOAPP, ANY_PROFILE, MFA_HP_MSG_WRONG_CARD },
	{ MFA_ERR_TRIES_UNKNOWN, ANY_PROFILE, MFA_HP_MSG_TRIES_UNKNOWN },
};
/* clang-format on */

enum mfa_hp_msg mfa_hp_card_msg(int rc, uint8_t profile)
{
	for (size_t i = 0; i < sizeof(card_msgs) / sizeof(card_msgs[0]); i++)
		if (card_msgs[i].rc == rc &&
		    (card_msgs[i].profile == ANY_PROFILE || card_msgs[i].profile == profile))
			return card_msgs[i].msg;
	return MFA_HP_MSG_CARD_ERROR;
}

int mfa_hp_card_error(enum mfa_hp_msg msg, uint8_t *profile)
{
	*profile = MFA_CARD_PIV;
	if (msg == MFA_HP_MSG_NONE)
		return MFA_ERR_CARD;
	for (size_t i = 0; i < sizeof(card_msgs) / sizeof(card_msgs[0]); i++)
		if (card_msgs[i].msg == msg) {
			if (card_msgs[i].profile != ANY_PROFILE)
				*profile = card_msgs[i].profile;
			return card_msgs[i].rc;
		}
	return MFA_ERR_CARD;
}

/* The next blank-separated word of [*p, end); false at the end of the line. */
static bool next_word(const char **p, const char *end, const char **w, size_t *wlen)
{
	const char *s = *p;

	if (s == end)
		return false;
	*w = s;
	while (s < end && *s != ' ')
		s++;
	*wlen = (size_t)(s - *w);
	if (s < end)
		s++; /* exactly one blank between words: "a  b" has an empty word */
	*p = s;
	return *wlen > 0;
}

static bool word_is(const char *w, size_t wlen, const char *lit)
{
	return wlen == strlen(lit) && memcmp(w, lit, wlen) == 0;
}

/* A decimal number of at most 20 digits, no sign, no leading zero but "0". */
static int parse_u64(const char *w, size_t wlen, uint64_t *v)
{
	uint64_t n = 0;

	if (wlen == 0 || wlen > 20 || (wlen > 1 && w[0] == '0'))
		return MFA_ERR_INVAL;
	for (size_t i = 0; i < wlen; i++) {
		unsigned d = (unsigned)(unsigned char)w[i] - '0';
		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return MFA_ERR_INVAL;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

static int parse_pin(const char **p, const char *end, struct mfa_hp_request *rq)
{
	const char *w;
	size_t wlen;
	uint64_t n;

	if (!next_word(p, end, &w, &wlen))
		return MFA_ERR_INVAL;
	if (word_is(w, wlen, "jpki"))
		rq->profile = MFA_CARD_JPKI;
	else if (word_is(w, wlen, "piv"))
		rq->profile = MFA_CARD_PIV;
	else
		return MFA_ERR_INVAL;
	if (!next_word(p, end, &w, &wlen))
		return MFA_ERR_INVAL;
	if (word_is(w, wlen, "-1"))
		rq->tries = -1;
	else if (parse_u64(w, wlen, &n) == 0 && n <= 15)
		rq->tries = (int)n;
	else
		return MFA_ERR_INVAL;
	return 0;
}

static int parse_msg(const char **p, const char *end, struct mfa_hp_request *rq)
{
	const char *w;
	size_t wlen;

	if (!next_word(p, end, &w, &wlen))
		return MFA_ERR_INVAL;
	for (int i = 1; i <= MFA_HP_MSG_MAX_; i++)
		if (word_is(w, wlen, msg_names[i]))
			rq->msg = (enum mfa_hp_msg)i;
	if (rq->msg == 0)
		return MFA_ERR_INVAL;
	if (!mfa_hp_msg_has_arg(rq->msg))
		return 0;
	if (!next_word(p, end, &w, &wlen))
		return MFA_ERR_INVAL;
	return parse_u64(w, wlen, &rq->arg);
}

int mfa_hp_parse_request(const char *line, size_t len, struct mfa_hp_request *rq)
{
	const char *p = line, *end = line + len, *w;
	size_t wlen;
	int rc = MFA_ERR_INVAL;

	memset(rq, 0, sizeof(*rq));
	if (len >= MFA_HP_LINE_MAX)
		return MFA_ERR_INVAL;
	for (size_t i = 0; i < len; i++)
		if (line[i] < ' ' || line[i] > '~')
			return MFA_ERR_INVAL;
	if (!next_word(&p, end, &w, &wlen))
		return MFA_ERR_INVAL;
	if (word_is(w, wlen, "code")) {
		rq->kind = MFA_HP_CODE;
		rc = 0;
	} else if (word_is(w, wlen, "pin")) {
		rq->kind = MFA_HP_PIN;
		rc = parse_pin(&p, end, rq);
	} else if (word_is(w, wlen, "msg")) {
		rq->kind = MFA_HP_MSG;
		rc = parse_msg(&p, end, rq);
	} else if (word_is(w, wlen, "end")) {
		rq->kind = MFA_HP_END;
		if (!next_word(&p, end, &w, &wlen) || parse_u64(w, wlen, &rq->arg) != 0 ||
		    rq->arg > MFA_HP_EXIT_MAX_)
			rc = MFA_ERR_INVAL;
		else
			rc = 0;
	}
	/* Nothing may follow, not even a blank. */
	if (rc == 0 && (p != end || line[len - 1] == ' '))
		rc = MFA_ERR_INVAL;
	if (rc != 0)
		memset(rq, 0, sizeof(*rq));
	return rc;
}

int mfa_hp_format_request(const struct mfa_hp_request *rq, char *out, size_t outlen)
{
	int n = -1;

	switch (rq->kind) {
	case MFA_HP_CODE:
		n = snprintf(out, outlen, "code\n");
		break;
	case MFA_HP_PIN:
		if ((rq->profile != MFA_CARD_JPKI && rq->profile != MFA_CARD_PIV) ||
		    rq->tries < -1 || rq->tries > 15)
			return MFA_ERR_INVAL;
		n = snprintf(out, outlen, "pin %s %d\n",
		    rq->profile == MFA_CARD_JPKI ? "jpki" : "piv", rq->tries);
		break;
	case MFA_HP_MSG:
		if (rq->msg < 1 || rq->msg > MFA_HP_MSG_MAX_)
			return MFA_ERR_INVAL;
		if (mfa_hp_msg_has_arg(rq->msg))
			n = snprintf(out, outlen, "msg %s %" PRIu64 "\n", msg_names[rq->msg],
			    rq->arg);
		else
			n = snprintf(out, outlen, "msg %s\n", msg_names[rq->msg]);
		break;
	case MFA_HP_END:
		if (rq->arg > MFA_HP_EXIT_MAX_)
			return MFA_ERR_INVAL;
		n = snprintf(out, outlen, "end %" PRIu64 "\n", rq->arg);
		break;
	default:
		return MFA_ERR_INVAL;
	}
	if (n < 0 || (size_t)n >= outlen || n > MFA_HP_LINE_MAX)
		return MFA_ERR_RANGE;
	return 0;
}

int mfa_hp_parse_answer(const uint8_t *buf, size_t len, char *out, size_t outsize, size_t *used)
{
	const uint8_t *nl = memchr(buf, '\n', len < 4 ? len : 4);
	uint64_t n = 0;

	*used = 0;
	if (outsize <= MFA_HP_ANSWER_MAX)
		return MFA_ERR_INVAL;
	out[0] = '\0';
	if (nl == NULL)
		return len < 4 ? MFA_ERR_RANGE : MFA_ERR_INVAL;
	if (parse_u64((const char *)buf, (size_t)(nl - buf), &n) != 0 || n > MFA_HP_ANSWER_MAX)
		return MFA_ERR_INVAL;
	if (len - (size_t)(nl + 1 - buf) < n)
		return MFA_ERR_RANGE;
	if (memchr(nl + 1, '\0', n) != NULL || memchr(nl + 1, '\n', n) != NULL)
		return MFA_ERR_INVAL;
	memcpy(out, nl + 1, n);
	out[n] = '\0';
	*used = (size_t)(nl + 1 - buf) + n;
	return 0;
}

/*
 * send() with MSG_NOSIGNAL where fd is a socket (the module's end: a helper
 * that died must not SIGPIPE the host), write() where it is a pipe.
 */
int mfa_hp_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	bool sock = true;

	while (n > 0) {
		ssize_t w = sock ? send(fd, b, n, MSG_NOSIGNAL) : write(fd, b, n);
		if (w < 0 && sock && errno == ENOTSOCK) {
			sock = false;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MFA_ERR_IO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Byte by byte: nothing past the line is taken from the pipe. */
int mfa_hp_read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[0] = '\0';
			return MFA_ERR_IO;
		}
		if (c == '\n')
			break;
		/* Lines are printable ASCII (a NUL would hide what follows it). */
		if (n + 1 >= size || c < ' ' || c > '~') {
			buf[0] = '\0';
			return MFA_ERR_INVAL;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

int mfa_hp_send_answer(int fd, const char *answer)
{
	uint8_t frame[8 + MFA_HP_ANSWER_MAX];
	size_t n = answer != NULL ? strlen(answer) : 0;
	int len, rc;

	if (n > MFA_HP_ANSWER_MAX || (answer != NULL && strchr(answer, '\n') != NULL))
		n = 0, answer = NULL; /* cannot be a code or a PIN: send "no answer" */
	len = snprintf((char *)frame, sizeof(frame), "%zu\n", n);
	if (n > 0)
		memcpy(frame + len, answer, n);
	rc = mfa_hp_write_all(fd, frame, (size_t)len + n);
	mfa_wipe(frame, sizeof(frame));
	return rc;
}

/* Exactly n bytes, through EINTR; MFA_ERR_IO on EOF. */
static int read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return MFA_ERR_IO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int mfa_hp_read_answer(int fd, char *out, size_t outsize)
{
	uint8_t buf[8 + MFA_HP_ANSWER_MAX];
	char head[8];
	size_t hlen, used = 0;
	uint64_t n = 0;
	int rc;

	if (outsize <= MFA_HP_ANSWER_MAX)
		return MFA_ERR_INVAL;
	out[0] = '\0';
	if ((rc = mfa_hp_read_line(fd, head, sizeof(head))) != 0)
		return rc;
	hlen = strlen(head);
	if (parse_u64(head, hlen, &n) != 0 || n > MFA_HP_ANSWER_MAX)
		return MFA_ERR_INVAL;
	memcpy(buf, head, hlen);
	buf[hlen] = '\n';
	rc = read_exact(fd, buf + hlen + 1, (size_t)n);
	/* One parser decides, whatever the transport did. */
	if (rc == 0)
		rc = mfa_hp_parse_answer(buf, hlen + 1 + (size_t)n, out, outsize, &used);
	mfa_wipe(buf, sizeof(buf));
	return rc == 0 ? (int)strlen(out) : rc;
}
