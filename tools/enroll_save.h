/*
 * The save shared by `enroll totp` and the imports (enroll_save.c), kept
 * apart from the commands so that no command is another's library.
 */
#ifndef MFAUTH_ENROLL_SAVE_H
#define MFAUTH_ENROLL_SAVE_H

#include <stdint.h>

#include "mfauth/record.h"
#include "mfauth/store.h"

/*
 * Make f (present, enrolled_at = now) user's TOTP factor, under the user's
 * lock: replaces only the record's TOTP factor, or starts a new record
 * (created_at = now) when the user has none.  used_step (0 = none), the
 * step of the code that confirmed the enrollment, becomes the replay
 * watermark in the same step, on disk before the record.  A record that
 * exists but does not load is never overwritten: its error is returned.
 * 0 or MFA_ERR_*.
 */
int enroll_save_totp(struct mfa_store *store, const char *user, const struct mfa_totp_factor *f,
    uint64_t now, uint64_t used_step);

#endif
