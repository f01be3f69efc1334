/*
 * The card layer's entry points (card.h): argument checks, the PIN's format
 * check before anything is sent, the status words of the tries query and
 * VERIFY mapped to results, and the dispatch to the profile the card was
 * opened with (card_profile.h: card_jpki.c, card_piv.c, which talk to the
 * card through card_transfer.c).  The APDUs are exactly doc/DESIGN.md §5's
 * tables; tests/unit/test_card_jpki.c and test_card_piv.c hold them to it
 * byte for byte.
 *
 * Ownership: struct mfa_card and every buffer are the caller's; the only
 * heap memory is the PIV profile's, freed before the function that took it
 * returns.  The VERIFY APDU (the profile's) is the only place a PIN is
 * copied to, and it is wiped on every path (invariant 7).  Nothing is
 * logged here.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <openssl/evp.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/err.h"
#include "mfauth/card_cert.h"
#include "card_profile.h"

int mfa_card_open(struct mfa_card *card, const struct mfa_card_io *io, uint8_t profile)
{
	const struct mfa_card_ops *ops;
	int rc;

	if (card == NULL || io == NULL || io->transmit == NULL)
		return MFA_ERR_INVAL;
	memset(card, 0, sizeof(*card));
	card->io = *io;
	if (profile == MFA_CARD_JPKI)
		ops = &card_jpki_ops;
	else if (profile == MFA_CARD_PIV)
		ops = &card_piv_ops;
	else
		return MFA_ERR_INVAL;
	if ((rc = ops->select(card)) != 0)
		return rc;
	card->ops = ops;
	return 0;
}

uint8_t mfa_card_profile(const struct mfa_card *card)
{
	return card != NULL && card->ops != NULL ? card->ops->profile : 0;
}

int mfa_card_read_certificate(struct mfa_card *card, uint8_t *der, size_t cap, size_t *len)
{
	if (card == NULL || card->ops == NULL || der == NULL || len == NULL)
		return MFA_ERR_INVAL;
	return card->ops->read_certificate(card, der, cap, len);
}

int mfa_card_read_id(struct mfa_card *card, uint8_t *id, size_t cap, size_t *id_len)
{
	if (card == NULL || card->ops == NULL || id == NULL || id_len == NULL)
		return MFA_ERR_INVAL;
	return card->ops->read_id(card, id, cap, id_len);
}

/* 63 0X as X tries left, only for a profile whose cards are known to say it so. */
static bool quirk_tries(const struct mfa_card *card, unsigned arg)
{
	return card->ops->tries_630x && arg >= 1 && arg <= 15;
}

int mfa_card_pin_tries(struct mfa_card *card, int *tries)
{
	uint16_t sw;
	unsigned arg;
	int rc;

	if (card == NULL || card->ops == NULL || tries == NULL)
		return MFA_ERR_INVAL;
	if ((rc = card->ops->pin_tries(card, &sw)) != 0)
		return rc;
	switch (mfa_sw_classify(sw, &arg)) {
	case MFA_SW_OK:
		*tries = MFA_CARD_TRIES_VERIFIED;
		return 0;
	case MFA_SW_TRIES:
		*tries = (int)arg; /* 63C0 is MFA_CARD_TRIES_BLOCKED */
		return 0;
	case MFA_SW_TRIES_630X:
		if (!quirk_tries(card, arg))
			return MFA_ERR_TRIES_UNKNOWN;
		*tries = (int)arg;
		return 0;
	case MFA_SW_BLOCKED:
		*tries = MFA_CARD_TRIES_BLOCKED;
		return 0;
	default:
		/* No PIN was sent: fail, but nothing was tried that could count. */
		return MFA_ERR_TRIES_UNKNOWN;
	}
}

bool mfa_card_tries_ok(int tries, unsigned min)
{
	return tries > 0 && (unsigned)tries >= min;
}

int mfa_card_verify_pin(struct mfa_card *card, const char *pin, size_t pinlen, int *tries)
{
	uint16_t sw;
	unsigned arg;
	int rc;

	if (card == NULL || card->ops == NULL || pin == NULL)
		return MFA_ERR_INVAL;
	/* OpenSC CVE-2023-40660: an empty VERIFY can "succeed" on a verified card. */
	if (pinlen == 0 || !card->ops->pin_acceptable(pin, pinlen))
		return MFA_ERR_PIN_FORMAT;
	if ((rc = card->ops->verify_pin(card, pin, pinlen, &sw)) != 0)
		return rc;
	switch (mfa_sw_classify(sw, &arg)) {
	case MFA_SW_OK:
		return 0;
	case MFA_SW_TRIES:
		if (tries != NULL)
			*tries = (int)arg;
		return arg > 0 ? MFA_ERR_BADPIN : MFA_ERR_PIN_BLOCKED;
	case MFA_SW_TRIES_630X:
		/* 63 00 after a PIN is no count: an error, and it counts (a PIN was sent). */
		if (!quirk_tries(card, arg))
			return MFA_ERR_CARD;
		if (tries != NULL)
			*tries = (int)arg;
		return MFA_ERR_BADPIN;
	case MFA_SW_BLOCKED:
		if (tries != NULL)
			*tries = MFA_CARD_TRIES_BLOCKED;
		return MFA_ERR_PIN_BLOCKED;
	default:
		return MFA_ERR_CARD;
	}
}

int mfa_card_sign_challenge(struct mfa_card *card, enum mfa_card_alg alg, const uint8_t *chal,
    size_t chal_len, uint8_t *sig, size_t cap, size_t *siglen)
{
	uint8_t digest[SHA256_LEN];
	unsigned int dlen = 0;

	if (card == NULL || card->ops == NULL || chal == NULL || sig == NULL || siglen == NULL ||
	    chal_len < MFA_CHALLENGE_MIN || chal_len > MFA_CHALLENGE_MAX)
		return MFA_ERR_INVAL;
	if (EVP_Digest(chal, chal_len, digest, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen != SHA256_LEN)
		return MFA_ERR_CRYPTO;
	return card->ops->sign(card, alg, digest, sig, cap, siglen);
}
