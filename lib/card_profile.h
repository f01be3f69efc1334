/*
 * Inside the card layer: what card.c's dispatch needs from a profile, the
 * ops table each of card_jpki.c and card_piv.c defines.  Not installed and
 * not part of card.h's contract.
 */
#ifndef MFAUTH_LIB_CARD_PROFILE_H
#define MFAUTH_LIB_CARD_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mfauth/card.h"

#define SHA256_LEN 32

/*
 * One profile.  card.c checks the arguments and the PIN's length, calls
 * these, and maps the status words they hand back (card.h's contract).
 */
struct mfa_card_ops {
	uint8_t profile;
	int (*select)(struct mfa_card *c);
	int (*read_certificate)(struct mfa_card *c, uint8_t *der, size_t cap, size_t *len);
	/* The identifier's object, head only: one APDU after any SELECT (card.h). */
	int (*read_id)(struct mfa_card *c, uint8_t *id, size_t cap, size_t *len);
	/* 63 0X answers X tries left (ISO leaves 63 01..0F undefined). */
	bool tries_630x;
	/* Send VERIFY without data; *sw is the card's answer. */
	int (*pin_tries)(struct mfa_card *c, uint16_t *sw);
	/* Can this PIN be sent at all?  Checked before anything is transmitted. */
	bool (*pin_acceptable)(const char *pin, size_t len);
	int (*verify_pin)(struct mfa_card *c, const char *pin, size_t len, uint16_t *sw);
	int (*sign)(struct mfa_card *c, enum mfa_card_alg alg, const uint8_t digest[SHA256_LEN],
	    uint8_t *sig, size_t cap, size_t *siglen);
};

extern const struct mfa_card_ops card_jpki_ops; /* card_jpki.c */
extern const struct mfa_card_ops card_piv_ops;  /* card_piv.c */

#endif
