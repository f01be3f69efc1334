/*
 * The smartcard layer, independent of how APDUs reach the card (doc/DESIGN.md
 * §4, §5, invariants 7-9).
 *
 * Transport: struct mfa_card_io.  transmit() sends len bytes of apdu and
 * receives the response (data and SW1 SW2) into resp; *resplen holds resp's
 * capacity on entry and the received length on return.  It returns 0 or a
 * negative MFA_ERR_* (MFA_ERR_NOCARD when the card went away).  The real one
 * is card_pcsc.h's; unit tests and the fuzzer plug in fake cards.  The card layer
 * believes none of what comes back: a length beyond the capacity, a
 * response shorter than a status word, a TLV running past its container,
 * a certificate header promising more than MFA_CERT_MAX are all MFA_ERR_CARD
 * (or MFA_ERR_CERT for certificate contents).
 *
 * Profiles: JPKI (My Number card, user authentication) and PIV (key 9A),
 * one small vtable each (card_jpki.c, card_piv.c; card.c dispatches).  A login is
 *     mfa_card_open -> mfa_card_read_id (compared with the enrollment)
 *         -> mfa_card_pin_tries -> [ask the PIN]
 *         -> mfa_card_verify_pin -> mfa_card_sign_challenge
 * and the signature is then checked on the host by card_cert.h against the
 * public key recorded at enrollment, never against anything the card says.
 * The caller holds one PC/SC transaction across all of it and resets the
 * card afterwards (card_pcsc.h does).
 *
 * PINs: the caller owns the PIN string; this layer copies it only into the
 * VERIFY APDU, which it wipes before returning, and never logs or returns
 * it.  A PIN the profile cannot accept (empty, JPKI not exactly 4 ASCII
 * digits, PIV not 6-8 ASCII digits as SP 800-73-4 requires) is refused with
 * MFA_ERR_PIN_FORMAT before anything is sent.
 *
 * Identifier: something the card gives without a PIN, read before any
 * VERIFY so that a PIN is never sent to somebody else's card (a clerk
 * holding a colleague's card would spend the colleague's tries).  JPKI: the
 * serial number and issuer in the head of the user-authentication
 * certificate (EF 000A is readable without a PIN); PIV: FASC-N and GUID of
 * the CHUID.  One APDU reads the head of the object (MFA_CARD_HEAD_MAX
 * bytes, 61xx not followed).  It is a guard for the clerk, not an
 * authenticator: anyone can make a card that answers with a copied
 * identifier, so only the signature checked against the enrolled key
 * proves the card (card_auth.h).
 *
 * Nothing here is global: a struct mfa_card is the whole state; many may
 * exist at once in one long-lived process.
 */
#ifndef MFAUTH_CARD_H
#define MFAUTH_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mfauth/card_types.h"
#include "mfauth/record.h"

#define MFA_CARD_MORE_MAX 40               /* 61xx / GET RESPONSE rounds per command */
#define MFA_CARD_READS_MAX 64              /* READ BINARY commands per certificate */
#define MFA_CARD_HEAD_MAX 256              /* bytes of an identifier's object: one APDU */
#define MFA_CHUID_ID_LEN (2 + 25 + 2 + 16) /* 30 19 FASC-N 34 10 GUID */

/* Results of a tries query besides a count 1..15. */
#define MFA_CARD_TRIES_VERIFIED (-1) /* 9000: already verified, count unknown */
#define MFA_CARD_TRIES_BLOCKED 0     /* 63C0 or 6983 */

struct mfa_card_io {
	int (*transmit)(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *resplen);
	void *ctx;
};

struct mfa_card_ops;

struct mfa_card {
	struct mfa_card_io io;
	const struct mfa_card_ops *ops; /* profile; NULL until opened */
	uint16_t cur_ef;                /* JPKI: EF selected last, 0 = none (saves SELECTs) */
	unsigned apdus;                 /* commands transmitted since open (tests, debug) */
};

/*
 * Select the application of profile (enum mfa_card_profile) over io (PIV:
 * the AID without version as OpenSC does, then the full AID
 * A0 00 00 03 08 00 00 10 00 01 00 if the card answers 6A82).
 * MFA_ERR_NOAPP if the card does not have it, MFA_ERR_INVAL for an unknown
 * profile.  card needs no cleanup: it holds no memory and no secret.
 */
int mfa_card_open(struct mfa_card *card, const struct mfa_card_io *io, uint8_t profile);

/*
 * Read the second-factor certificate (JPKI user authentication, PIV 9A) into
 * der (cap bytes, at least MFA_CERT_MAX to be sure): 0 and *len, or
 * MFA_ERR_CARD / MFA_ERR_CERT / MFA_ERR_RANGE (does not fit in cap).
 * The bytes are only as trustworthy as the card: for enrollment, never login.
 */
int mfa_card_read_certificate(struct mfa_card *card, uint8_t *der, size_t cap, size_t *len);

/*
 * Read the card's identifier (see above) into id (cap bytes, MFA_CARD_ID_MAX
 * is enough): 0 and *id_len; MFA_ERR_NOENT when the card has none (PIV: no
 * CHUID, or one whose GUID is all zeros and so names no card); MFA_ERR_CARD
 * for a malformed, truncated or refused answer.  JPKI: SELECT EF 000A and
 * one READ BINARY; PIV: one GET DATA.  Sends no PIN and changes no counter.
 */
int mfa_card_read_id(struct mfa_card *card, uint8_t *id, size_t cap, size_t *id_len);

/*
 * The identifiers as bytes, from what the card returned (pure functions,
 * shared by login and enrollment so both derive the same bytes).
 * mfa_card_id_from_cert: the DER TLVs of serialNumber and issuer found in
 * the first MFA_CARD_HEAD_MAX bytes of a certificate (der may be the whole
 * certificate or its head); the serial must be complete there, the issuer
 * is kept as far as the head reaches.  mfa_card_id_from_chuid: the TLVs 30
 * (FASC-N, 25 bytes) and 34 (GUID, 16 bytes) of a CHUID object 53 {...}
 * whose end may lie past len; MFA_ERR_NOENT for an all-zero GUID.  Both:
 * MFA_ERR_CARD for anything malformed, MFA_ERR_RANGE if cap is too small.
 */
int mfa_card_id_from_cert(const uint8_t *der, size_t len, uint8_t *id, size_t cap, size_t *id_len);
int mfa_card_id_from_chuid(const uint8_t *obj, size_t len, uint8_t *id, size_t cap, size_t *id_len);

/*
 * Ask how many PIN tries are left (VERIFY without data): 0 with *tries 1..15,
 * MFA_CARD_TRIES_BLOCKED or MFA_CARD_TRIES_VERIFIED.  PIV cards that answer
 * 63 0X (X = 1..15) instead of 63 CX have X tries left (a known quirk; ISO
 * gives 63 01..0F no other meaning); any other answer, 63 00 included, is
 * MFA_ERR_TRIES_UNKNOWN: no PIN is sent and the login fails without
 * counting against the user, since nothing was tried.  Costs no try.
 */
int mfa_card_pin_tries(struct mfa_card *card, int *tries);

/*
 * The PIN-lock guard (invariant 9): true only for a known count of at least
 * min (and at least 1).  "Verified" has no count, so it is not ok: reset the
 * card and ask again rather than guess.
 */
bool mfa_card_tries_ok(int tries, unsigned min);

/*
 * VERIFY pin (pinlen bytes, no NUL needed).  0 when verified;
 * MFA_ERR_BADPIN with *tries = tries left (tries may be NULL);
 * MFA_ERR_PIN_BLOCKED; MFA_ERR_PIN_FORMAT without transmitting anything;
 * MFA_ERR_CARD for any other answer.
 */
int mfa_card_verify_pin(struct mfa_card *card, const char *pin, size_t pinlen, int *tries);

/*
 * Have the card sign SHA-256(chal) with its second-factor key of algorithm
 * alg (JPKI: RSA-2048 only).  chal is the host's fresh challenge,
 * MFA_CHALLENGE_MIN..MFA_CHALLENGE_MAX bytes (card_cert.h).  sig receives
 * the raw RSA signature (256 bytes) or the DER ECDSA signature.
 * MFA_ERR_PIN_REQUIRED if the PIN was not verified first.
 */
int mfa_card_sign_challenge(struct mfa_card *card, enum mfa_card_alg alg, const uint8_t *chal,
    size_t chal_len, uint8_t *sig, size_t cap, size_t *siglen);

/* The profile card was opened with (enum mfa_card_profile), 0 if none. */
uint8_t mfa_card_profile(const struct mfa_card *card);

#endif
