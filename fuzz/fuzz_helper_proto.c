/*
 * libFuzzer target for the module <-> helper protocol (lib/helper_proto.c),
 * both directions: the requests the module parses from the helper, and the
 * answers the helper parses from its unprivileged caller.
 *
 * Input: byte 0 even = a request line (the rest, as read, without '\n'),
 * odd = an answer stream (the rest, as bytes).
 *
 * Properties checked (abort on violation): a request that parses formats
 * back to exactly the bytes parsed (one spelling per request, so nothing
 * can be smuggled past the module's reading) and a refused one leaves the
 * request zeroed; an answer that parses is at most MFA_HP_ANSWER_MAX bytes
 * with no NUL or newline, is exactly what followed its length line, and
 * reports the bytes it consumed within the input; the descriptor reader over
 * a pipe agrees with the buffer parser.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "mfauth/helper_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const uint8_t *p, size_t n)
{
	static const struct mfa_hp_request zero;
	struct mfa_hp_request rq;
	char out[MFA_HP_LINE_MAX + 2];

	if (mfa_hp_parse_request((const char *)p, n, &rq) != 0) {
		if (memcmp(&rq, &zero, sizeof(rq)) != 0)
			abort();
		return;
	}
	if (mfa_hp_format_request(&rq, out, sizeof(out)) != 0)
		abort();
	if (strlen(out) != n + 1 || memcmp(out, p, n) != 0 || out[n] != '\n')
		abort();
}

/* The same bytes through a pipe and the descriptor reader. */
static int read_via_pipe(const uint8_t *p, size_t n, char *out, size_t outsize)
{
	int fds[2], rc;

	if (n > 4096 || pipe(fds) != 0)
		return MFA_ERR_IO - 100;
	if (n > 0 && write(fds[1], p, n) != (ssize_t)n)
		abort();
	close(fds[1]);
	rc = mfa_hp_read_answer(fds[0], out, outsize);
	close(fds[0]);
	return rc;
}

static void check_answer(const uint8_t *p, size_t n)
{
	char out[MFA_HP_ANSWER_MAX + 1], out2[MFA_HP_ANSWER_MAX + 1];
	size_t used = 0, alen;
	int rc = mfa_hp_parse_answer(p, n, out, sizeof(out), &used), rc2;

	rc2 = read_via_pipe(p, n, out2, sizeof(out2));
	if (rc != 0) {
		if (used != 0 || out[0] != '\0')
			abort();
		if (rc2 >= 0 && rc2 != MFA_ERR_IO - 100)
			abort(); /* the reader accepted what the parser refused */
		return;
	}
	alen = strlen(out);
	if (alen > MFA_HP_ANSWER_MAX || used > n || used < alen + 2)
		abort();
	if (memcmp(p + used - alen, out, alen) != 0 || p[used - alen - 1] != '\n')
		abort();
	if (rc2 != MFA_ERR_IO - 100 && (rc2 != (int)alen || strcmp(out, out2) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		check_request(data + 1, size - 1);
	else
		check_answer(data + 1, size - 1);
	return 0;
}
