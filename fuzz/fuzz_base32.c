/*
 * libFuzzer target for the text an administrator or a clerk types that the
 * core parses (lib/totp.c, lib/recovery.c): base32 seeds (enroll
 * --secret-stdin, import csv, import pskc's plain seeds) and the codes typed
 * at the PAM prompt (TOTP format check, recovery-code shape).
 *
 * Input: byte 0 picks the output size for the decoder (0..63 bytes, so the
 * "seed too long" path is reached) and the factor's digit count; the rest is
 * the text, cut at the first NUL as a C string would be.
 *
 * Properties checked (abort on violation): the decoder never writes past
 * outmax, reports a length within it, and leaves nothing behind on failure;
 * whatever decodes re-encodes to text that decodes to the same bytes; a code
 * passes the format check only if it is exactly `digits` ASCII digits.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfauth/recovery.h"
#include "mfauth/record.h"
#include "mfauth/totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX 64
#define CANARY 0xA5

static void check_base32(const char *text, size_t outmax)
{
	uint8_t out[OUT_MAX + 16], again[OUT_MAX + 16];
	char enc[8 * ((OUT_MAX + 4) / 5) + 1];
	size_t len = (size_t)-1, len2 = 0;
	int rc;

	memset(out, CANARY, sizeof(out));
	rc = mfa_base32_decode(text, out, outmax, &len);
	for (size_t i = outmax; i < sizeof(out); i++)
		if (out[i] != CANARY)
			abort(); /* wrote past outmax */
	if (rc != 0) {
		if (len != 0)
			abort();
		for (size_t i = 0; i < outmax; i++)
			if (out[i] != 0 && out[i] != CANARY)
				abort(); /* a partial seed left behind */
		return;
	}
	if (len > outmax)
		abort();
	if (mfa_base32_encode(out, len, enc, sizeof(enc)) != 0)
		abort();
	if (mfa_base32_decode(enc, again, sizeof(again), &len2) != 0 || len2 != len ||
	    memcmp(out, again, len) != 0)
		abort();
}

static void check_code(const char *text, uint8_t digits)
{
	struct mfa_totp_factor f;
	size_t n = strlen(text);
	bool all_digits = n == digits;

	memset(&f, 0, sizeof(f));
	f.digits = digits;
	for (size_t i = 0; all_digits && i < n; i++)
		all_digits = text[i] >= '0' && text[i] <= '9';
	if ((mfa_totp_check_format(&f, text) == 0) != all_digits)
		abort();
	(void)mfa_recovery_looks_like(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	check_base32(text, data[0] % OUT_MAX);
	check_code(text, data[0] & 0x80 ? 8 : 6);
	free(text);
	return 0;
}
