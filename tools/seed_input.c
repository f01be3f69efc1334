/*
 * The TOTP parameters and base32 seeds an administrator types or a vendor's
 * file carries, shared by `enroll totp`, `import csv` and `import pskc`
 * (declared in seed_input.h).  Kept apart from the commands so the import
 * parsers and their fuzz targets link them without the store and QR code.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "seed_input.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/totp.h"

#define SEED_MIN 10 /* 80 bits: the floor authenticator apps accept */

/* s is exactly one of the two decimal texts allowed: its value in *v. */
static int parse_one_of(const char *s, unsigned a, unsigned b, unsigned *v)
{
	char text[8];

	snprintf(text, sizeof(text), "%u", a);
	if (strcmp(s, text) == 0) {
		*v = a;
		return 0;
	}
	snprintf(text, sizeof(text), "%u", b);
	if (strcmp(s, text) == 0) {
		*v = b;
		return 0;
	}
	return MFA_ERR_INVAL;
}

int seed_parse_digits(const char *s, uint8_t *digits)
{
	unsigned v;

	if (parse_one_of(s, 6, 8, &v) != 0)
		return MFA_ERR_INVAL;
	*digits = (uint8_t)v;
	return 0;
}

int seed_parse_period(const char *s, uint16_t *period)
{
	unsigned v;

	if (parse_one_of(s, 30, 60, &v) != 0)
		return MFA_ERR_INVAL;
	*period = (uint16_t)v;
	return 0;
}

int seed_decode(const char *b32, struct mfa_totp_factor *f, const char **why)
{
	int rc = mfa_base32_decode(b32, f->secret, sizeof(f->secret), &f->secret_len);

	/* The reasons name the rule broken, never a character of the seed. */
	if (rc == MFA_ERR_RANGE)
		*why = _("seed is longer than 64 bytes (103 base32 characters)");
	else if (rc != 0)
		*why = _("seed is not valid base32 (letters A-Z and digits 2-7)");
	else if (f->secret_len == 0)
		*why = _("seed is empty");
	else if (f->secret_len < SEED_MIN)
		*why = _("seed is shorter than 10 bytes (16 base32 characters)");
	else
		return 0;
	mfa_wipe(f->secret, sizeof(f->secret));
	f->secret_len = 0;
	return MFA_ERR_INVAL;
}
