/*
 * The TOTP parameters and base32 seed an administrator types or a vendor's
 * file carries (seed_input.c), shared by `enroll totp`, `import csv` and
 * `import pskc` and reached by the fuzz targets of the import parsers.
 */
#ifndef MFAUTH_SEED_INPUT_H
#define MFAUTH_SEED_INPUT_H

#include <stdint.h>

#include "mfauth/record.h"

/* Parse exactly "6"/"8" and "30"/"60": 0, or MFA_ERR_INVAL with *out untouched. */
int seed_parse_digits(const char *s, uint8_t *digits);
int seed_parse_period(const char *s, uint16_t *period);

/*
 * Decode a base32 seed into f->secret/secret_len; it must be 10..64 bytes.
 * Returns 0, or MFA_ERR_INVAL with *why saying which rule failed (never a
 * part of the seed) and f's secret wiped.
 */
int seed_decode(const char *b32, struct mfa_totp_factor *f, const char **why);

#endif
