/*
 * The TOTP parameters and base32 seeds an administrator types or a vendor's
 * file carries, shared by `enroll totp`, `import csv` and `import pskc`
 * (declared in cli.h).  Kept apart from the commands so the import parsers
 * and their fuzz targets link them without the store and QR code.
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/totp.h"

#define SEED_MIN 10                     /* 80 bits: the floor authenticator apps accept */

int enroll_parse_digits(const char *s, uint8_t *digits)
{
	if (strcmp(s, "6") == 0)
		*digits = 6;
	else if (strcmp(s, "8") == 0)
		*digits = 8;
	else
		return MFA_ERR_INVAL;
	return 0;
}

int enroll_parse_period(const char *s, uint16_t *period)
{
	if (strcmp(s, "30") == 0)
		*period = 30;
	else if (strcmp(s, "60") == 0)
		*period = 60;
	else
		return MFA_ERR_INVAL;
	return 0;
}

int enroll_decode_seed(const char *b32, struct mfa_totp_factor *f, const char **why)
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
