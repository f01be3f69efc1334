/*
 * TOTP (RFC 6238) over liboath, with our own constant-time comparison and the
 * replay rule (only a time step strictly after the last accepted one).
 */
#ifndef MFAUTH_TOTP_H
#define MFAUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include "mfauth/record.h"

/* Time step of `now` for a factor's period. */
uint64_t mfa_totp_step(const struct mfa_totp_factor *f, uint64_t now);

/* The code for a time step, NUL-terminated in out (at least 9 bytes). */
int mfa_totp_code(const struct mfa_totp_factor *f, uint64_t step, char *out, size_t outlen);

/* 0 if code is exactly f->digits ASCII digits, else MFA_ERR_INVAL. */
int mfa_totp_check_format(const struct mfa_totp_factor *f, const char *code);

/*
 * Verify code at time now, accepting steps within `window` either side.
 * Every step in the window is compared (constant time, no early exit).
 * Returns 0 and sets *step to the earliest matching step after last_step;
 * MFA_ERR_REPLAY if the code matches only steps <= last_step;
 * MFA_ERR_BADCODE if it matches nothing; MFA_ERR_INVAL for a malformed code.
 */
int mfa_totp_verify(const struct mfa_totp_factor *f, const char *code, uint64_t now,
    unsigned window, uint64_t last_step, uint64_t *step);

/* Base32 (RFC 4648, no padding required, case-insensitive, blanks ignored). */
int mfa_base32_decode(const char *in, uint8_t *out, size_t outmax, size_t *outlen);
/* Encode without padding; out must hold 8 * ceil(len / 5) + 1 bytes. */
int mfa_base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen);

/* Algorithm names: "sha1", "sha256", "sha512". */
const char *mfa_alg_name(uint8_t alg);
int mfa_alg_parse(const char *name, uint8_t *alg);

#endif
