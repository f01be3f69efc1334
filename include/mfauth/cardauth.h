/*
 * The card second factor at login (doc/DESIGN.md invariants 8, 9): over one card
 * session, check the enrolled certificate is still valid, select the
 * profile, guard the PIN-try counter, ask for the PIN, VERIFY, have the card
 * sign a fresh host challenge and verify that signature against the public
 * key recorded at enrollment.  No store access here: the caller counts
 * failures under the user's lock (auth.h).
 */
#ifndef MFAUTH_CARDAUTH_H
#define MFAUTH_CARDAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "mfauth/card.h"
#include "mfauth/record.h"

/* What the login needs from its caller (the PAM conversation, the session). */
struct mfa_card_hooks {
	/*
	 * Ask for the PIN, telling the clerk how many tries are left.  On 0,
	 * *pin is a malloc'd string the core wipes and frees.  Any error ends
	 * the login (a NULL or failed conversation is a failure).
	 */
	int (*ask_pin)(void *ctx, uint8_t profile, int tries_left, char **pin);
	/* Reset the card within the session (another application left it verified). */
	int (*reset)(void *ctx);
	void *ctx;
};

struct mfa_card_outcome {
	int tries_left;       /* after the attempt; -1 when unknown */
	unsigned apdus;       /* commands sent */
};

/*
 * Run the card login for the enrolled factor f at time now.  0 only when the
 * card proved possession of the enrolled key after a correct PIN.  Errors:
 * MFA_ERR_EXPIRED (enrolled certificate expired: nothing sent), MFA_ERR_NOAPP
 * (another kind of card), MFA_ERR_PIN_TRIES (fewer than min_tries left: the
 * PIN is not tried), MFA_ERR_PIN_BLOCKED, MFA_ERR_PIN_FORMAT (empty or
 * misshapen PIN: nothing sent), MFA_ERR_BADPIN, MFA_ERR_BADSIG (another
 * card's key), MFA_ERR_CARD / MFA_ERR_NOCARD and the hooks' errors.
 */
int mfa_card_login(const struct mfa_card_factor *f, const struct mfa_card_io *io,
    const struct mfa_card_hooks *hooks, unsigned min_tries, uint64_t now,
    struct mfa_card_outcome *out);

/* Does this card error count toward the user's lockout? (an attempt was made) */
bool mfa_card_error_counts(int err);

#endif
