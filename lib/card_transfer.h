/*
 * Inside the card layer: what the profiles (card_jpki.c, card_piv.c) share,
 * defined in card_transfer.c.  Not installed and not part of card.h's
 * contract.
 */
#ifndef MFAUTH_LIB_CARD_TRANSFER_H
#define MFAUTH_LIB_CARD_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "card_profile.h"

/* DER of DigestInfo { sha256, NULL } up to the 32 hash bytes (RFC 8017 9.2). */
#define DIGESTINFO_PREFIX_LEN 19
extern const uint8_t card_sha256_digestinfo[DIGESTINFO_PREFIX_LEN];
#define DIGESTINFO_LEN (DIGESTINFO_PREFIX_LEN + SHA256_LEN)

/*
 * Send cmd and collect its response data into out (cap bytes), following
 * 6Cxx once and 61xx at most MFA_CARD_MORE_MAX times (head_only: stop at the
 * first 61xx).  0 with *outlen and the final *sw, whatever it is; a
 * transport error; MFA_ERR_CARD for a response longer than its Le or cap.
 * card_xfer is card_xfer_ex without head_only.
 */
int card_xfer_ex(struct mfa_card *c, struct mfa_apdu *cmd, uint8_t *out, size_t cap, size_t *outlen,
    uint16_t *sw, bool head_only);
int card_xfer(struct mfa_card *c, struct mfa_apdu *cmd, uint8_t *out, size_t cap, size_t *outlen,
    uint16_t *sw);

/* A command whose response data (at most 256 bytes) is thrown away: 0 and *sw. */
int card_command(struct mfa_card *c, struct mfa_apdu *cmd, uint16_t *sw);

/* A SELECT's status word: 0, MFA_ERR_NOAPP (not found) or MFA_ERR_CARD. */
int card_select_result(uint16_t sw);

/* A data command's final status word: 0, MFA_ERR_PIN_REQUIRED or MFA_ERR_CARD. */
int card_data_result(uint16_t sw);

/* VERIFY without data (the same APDU for both profiles): 0 and the card's *sw. */
int card_tries_query(struct mfa_card *c, uint16_t *sw);

#endif
