/*
 * libFuzzer target for the `import csv` line parser (tools/csv_parse.c),
 * the bytes of a vendor's seed list on stdin.
 *
 * Input: byte 0 picks the command-line defaults (digits, algorithm,
 * period), as --digits/--algorithm/--period would; the rest is the file,
 * cut into lines the way cmd_import_csv.c reads them (LF, a CR before it
 * dropped, lines longer than CSV_LINE_MAX refused unparsed, blank and '#'
 * lines skipped).  Each line is parsed from a buffer of exactly its size, so
 * an over-read is caught.
 *
 * Properties checked (abort on violation): an accepted line has a user name
 * the store accepts, 6 or 8 digits, a 30 or 60 second period, a known hash
 * and a 10..64-byte seed; a refused line has a reason and an audit token,
 * names a user only once the name passed the store's check, and leaves no
 * seed behind.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv_parse.h"
#include "mfauth/record.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(const char *why, const char *user, const char *token,
    const struct mfa_totp_factor *f)
{
	if (user != NULL && mfa_name_check(user) != 0)
		abort();
	if (why != NULL) {
		if (token == NULL || f->secret_len != 0)
			abort();
		for (size_t i = 0; i < sizeof(f->secret); i++)
			if (f->secret[i] != 0)
				abort();
		return;
	}
	if (user == NULL || (f->digits != 6 && f->digits != 8) ||
	    (f->period != 30 && f->period != 60) || mfa_alg_name(f->alg) == NULL ||
	    f->secret_len < 10 || f->secret_len > MFA_SECRET_MAX)
		abort();
}

static void parse_one(const uint8_t *p, size_t len, const struct mfa_totp_factor *defaults)
{
	struct mfa_totp_factor f = *defaults;
	const char *user = NULL, *token = NULL, *why;
	char *line;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > CSV_LINE_MAX || (line = malloc(len + 1)) == NULL)
		return;
	memcpy(line, p, len);
	line[len] = '\0';
	if (!csv_skip_line(line)) {
		why = csv_parse_line(line, len, &user, &f, &token);
		check_result(why, user, token, &f);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t algs[] = { MFA_ALG_SHA1, MFA_ALG_SHA256, MFA_ALG_SHA512 };
	struct mfa_totp_factor defaults;
	const uint8_t *p, *end;

	if (size < 1)
		return 0;
	memset(&defaults, 0, sizeof(defaults));
	defaults.digits = data[0] & 1 ? 8 : 6;
	defaults.period = data[0] & 2 ? 60 : 30;
	defaults.alg = algs[(data[0] >> 2) % 3];
	for (p = data + 1, end = data + size; p < end;) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol != NULL ? eol : end) - p);

		parse_one(p, len, &defaults);
		p += len + 1;
	}
	return 0;
}
