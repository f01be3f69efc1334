/*
 * The card login (see cardauth.h).  One function per step, each failing
 * closed; the result becomes 0 only after the host verified the signature.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mfauth/buf.h"
#include "mfauth/cardauth.h"
#include "mfauth/cardverify.h"
#include "mfauth/err.h"

/*
 * Select the profile and read the tries counter.  A card another
 * application left verified is reset once and asked again: a PIN must never
 * be skipped because someone else entered it (OpenSC CVE-2023-40660).
 */
static int open_and_count(struct mfa_card *card, const struct mfa_card_io *io,
    const struct mfa_card_factor *f, const struct mfa_card_hooks *hooks, int *tries)
{
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = mfa_card_open(card, io, f->profile)) != 0 ||
		    (rc = mfa_card_pin_tries(card, tries)) != 0)
			return rc;
		if (*tries != MFA_CARD_TRIES_VERIFIED)
			return 0;
		if (hooks->reset == NULL || (rc = hooks->reset(hooks->ctx)) != 0)
			return rc ? rc : MFA_ERR_CARD;
	}
	return MFA_ERR_CARD;     /* still "verified" after a reset: not a card we trust */
}

static int verify_pin(struct mfa_card *card, const struct mfa_card_hooks *hooks,
    uint8_t profile, int *tries)
{
	char *pin = NULL;
	int rc = hooks->ask_pin(hooks->ctx, profile, *tries, &pin);

	if (rc == 0 && pin == NULL)
		rc = MFA_ERR_INVAL;
	/* Never a zero-length PIN, whatever the card would make of it. */
	if (rc == 0 && pin[0] == '\0')
		rc = MFA_ERR_PIN_FORMAT;
	if (rc == 0)
		rc = mfa_card_verify_pin(card, pin, strlen(pin), tries);
	if (pin != NULL) {
		mfa_wipe(pin, strlen(pin));
		free(pin);
	}
	return rc;
}

/* A fresh host challenge, signed by the card, checked against the enrolled key. */
static int prove_possession(struct mfa_card *card, const struct mfa_card_factor *f)
{
	uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
	enum mfa_card_alg alg = MFA_CARD_ALG_NONE;
	size_t siglen = 0;
	int rc;

	if ((rc = mfa_spki_alg(f->spki, f->spki_len, &alg)) != 0 ||
	    (rc = mfa_challenge_new(chal, sizeof(chal))) != 0 ||
	    (rc = mfa_card_sign_challenge(card, alg, chal, sizeof(chal), sig, sizeof(sig),
	    &siglen)) != 0)
		return rc;
	return mfa_card_verify_signature(f->spki, f->spki_len, chal, sizeof(chal), sig, siglen);
}

int mfa_card_login(const struct mfa_card_factor *f, const struct mfa_card_io *io,
    const struct mfa_card_hooks *hooks, unsigned min_tries, uint64_t now,
    struct mfa_card_outcome *out)
{
	struct mfa_card card;
	int tries = -1, rc = MFA_ERR_CARD;

	memset(&card, 0, sizeof(card));
	out->tries_left = -1;
	out->apdus = 0;
	if (!f->present || f->spki_len == 0)
		return MFA_ERR_NOENT;
	/* An expired enrollment is refused before the card is touched. */
	if (now > f->not_after || now < f->not_before)
		return MFA_ERR_EXPIRED;
	if ((rc = open_and_count(&card, io, f, hooks, &tries)) != 0)
		goto out;
	if (tries == MFA_CARD_TRIES_BLOCKED) {
		rc = MFA_ERR_PIN_BLOCKED;
		goto out;
	}
	/* The PIN-lock guard (doc/DESIGN.md invariant 9): too few tries left, do not spend one. */
	if (!mfa_card_tries_ok(tries, min_tries)) {
		rc = MFA_ERR_PIN_TRIES;
		goto out;
	}
	if ((rc = verify_pin(&card, hooks, f->profile, &tries)) != 0)
		goto out;
	rc = prove_possession(&card, f);
out:
	out->tries_left = tries;
	out->apdus = card.apdus;
	return rc;
}

bool mfa_card_error_counts(int err)
{
	switch (err) {
	case MFA_ERR_BADPIN:
	case MFA_ERR_BADSIG:
	case MFA_ERR_PIN_BLOCKED:
	case MFA_ERR_PIN_REQUIRED:
	case MFA_ERR_NOAPP:
	case MFA_ERR_CARD:
	case MFA_ERR_CERT:
	case MFA_ERR_KEYTYPE:
		return true;
	default:
		return false;
	}
}
