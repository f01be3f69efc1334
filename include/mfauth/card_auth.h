/*
 * The card second factor at login (doc/DESIGN.md invariants 8, 9): over one card
 * session, check the enrolled certificate is still valid, select the
 * profile, compare the card's identifier with the enrollment (card.h; old
 * enrollments without one: the public key of the card's certificate), guard
 * the PIN-try counter, ask for the PIN, VERIFY, have the card sign a fresh
 * host challenge and verify that signature against the public key recorded
 * at enrollment.  The identifier only keeps a PIN away from the wrong card;
 * the signature is the proof.  No store access here: the caller counts
 * failures under the user's lock (auth.h).
 */
#ifndef MFAUTH_CARD_AUTH_H
#define MFAUTH_CARD_AUTH_H

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
	int tries_left; /* after the attempt; -1 when unknown */
	unsigned apdus; /* commands sent */
};

/*
 * Run the card login for the enrolled factor f at time now.  0 only when the
 * card proved possession of the enrolled key after a correct PIN.  Errors:
 * MFA_ERR_EXPIRED (enrolled certificate expired: nothing sent), MFA_ERR_NOAPP
 * (another kind of card), MFA_ERR_WRONG_CARD (another card of the enrolled
 * kind: nothing asked, no VERIFY sent), MFA_ERR_TRIES_UNKNOWN (the card's
 * answer to the tries query was not understood: no PIN asked),
 * MFA_ERR_PIN_TRIES (fewer than min_tries left: the PIN is not tried),
 * MFA_ERR_PIN_BLOCKED (blocked before this login: no PIN asked or sent),
 * MFA_ERR_PIN_FORMAT (empty or misshapen PIN: nothing sent), MFA_ERR_BADPIN
 * (a wrong PIN; out->tries_left 0 when it blocked the card),
 * MFA_ERR_BADSIG (another card's key), MFA_ERR_CARD / MFA_ERR_NOCARD and
 * the hooks' errors.
 */
int mfa_card_login(const struct mfa_card_factor *f, const struct mfa_card_io *io,
    const struct mfa_card_hooks *hooks, unsigned min_tries, uint64_t now,
    struct mfa_card_outcome *out);

/*
 * Enrollment: record in f (id_kind, id, id_len) what logins will compare
 * before the PIN, for the card opened in card whose certificate der was
 * just read.  JPKI: serial and issuer from der (no APDU); PIV: the CHUID's
 * FASC-N and GUID (one GET DATA), or MFA_CARD_ID_SPKI when the card has no
 * CHUID or its GUID is all zeros.  0, or MFA_ERR_CARD for a malformed
 * answer (f then says LEGACY; the caller should refuse to enroll).
 */
int mfa_card_enroll_id(struct mfa_card *card, const uint8_t *der, size_t len,
    struct mfa_card_factor *f);

/*
 * A stable token for what a login compares before the PIN (enum
 * mfa_card_id_kind), for audit lines and JSON: "cert_serial", "chuid",
 * "public_key", "legacy_public_key" (enrolled before identifiers).
 */
const char *mfa_card_id_token(uint8_t id_kind);
/*
 * The audit's card_check field for a login with this enrollment: enrollments
 * made before card identifiers told the card apart by its certificate's
 * public key (more APDUs), and the audit says so ("legacy_public_key") so
 * that staff can re-enroll; NULL (no field) for every other enrollment.  The
 * module and the helper audit the same.
 */
const char *mfa_card_check_token(const struct mfa_card_factor *f);

/*
 * Does this card error count toward the user's lockout?  An attempt was
 * made: a PIN or signature was tried, or the card was not the enrolled one.
 */
bool mfa_card_error_counts(int err);

/*
 * True for a card error that means no card attempt happened (no card, no
 * reader, no pcscd, too few or unknown PIN tries, a blocked PIN, an expired
 * enrollment): the code prompt may follow.  Shared by the module and the
 * setuid helper so that both fall back on exactly the same errors.
 */
bool mfa_card_error_falls_back(int err);

#endif
