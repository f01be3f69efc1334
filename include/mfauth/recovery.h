/*
 * One-time recovery codes issued by security staff when a clerk lost a phone
 * or card.  A code is 80 random bits written as 16 Crockford base32
 * characters in groups of four (e.g. "7K3M-Q9TZ-2D4R-HX8N"); the record keeps
 * only a salted PBKDF2-HMAC-SHA256 hash, the parameters and the expiry.  The
 * state remembers the id of the last code used, so each code works once.
 */
#ifndef MFAUTH_RECOVERY_H
#define MFAUTH_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mfauth/record.h"

#define MFA_RECOVERY_CHARS 16
/* "XXXX-XXXX-XXXX-XXXX" and a NUL. */
#define MFA_RECOVERY_TEXT_LEN (MFA_RECOVERY_CHARS + 3 + 1)
#define MFA_RECOVERY_ITERATIONS 100000
#define MFA_RECOVERY_TTL_DEFAULT (24 * 3600)
#define MFA_RECOVERY_TTL_MAX (7 * 24 * 3600)

/*
 * Make a new code valid from now for ttl seconds: fills *r (salt, hash, id,
 * times) and writes the code text to code (MFA_RECOVERY_TEXT_LEN bytes).
 * The caller shows the code once and wipes it.
 */
int mfa_recovery_issue(struct mfa_recovery *r, uint64_t now, uint64_t ttl,
    char code[MFA_RECOVERY_TEXT_LEN]);

/*
 * True if input has the shape of a recovery code: 16 Crockford characters
 * once blanks (codetext.h) and '-' are dropped (case-insensitive; I/L read as 1, O as 0).
 */
bool mfa_recovery_looks_like(const char *input);

/*
 * Check input against r at time now, given the id of the last used code.
 * 0 if it matches an unexpired, unused code; MFA_ERR_REPLAY if that code was
 * used; MFA_ERR_EXPIRED if expired; MFA_ERR_BADCODE otherwise (also when no
 * code is issued).  Constant-time comparison; the slow hash runs in every case
 * where a code is issued, so timing does not tell expiry or use apart.
 */
int mfa_recovery_check(const struct mfa_recovery *r, const char *input, uint64_t now,
    uint64_t used_id);

#endif
