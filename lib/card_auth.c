/*
 * The card login (see card_auth.h).  One function per step, each failing
 * closed; the result becomes 0 only after the host verified the signature.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "mfauth/buf.h"
#include "mfauth/card_auth.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"

/*
 * Read the tries counter (the application is selected).  A card another
 * application left verified is reset once, selected again and asked again:
 * a PIN must never be skipped because someone else entered it (OpenSC
 * CVE-2023-40660).
 */
static int count_tries(struct mfa_card *card, const struct mfa_card_io *io,
    const struct mfa_card_factor *f, const struct mfa_card_hooks *hooks, int *tries)
{
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt > 0 && (rc = mfa_card_open(card, io, f->profile)) != 0)
			return rc;
		if ((rc = mfa_card_pin_tries(card, tries)) != 0)
			return rc;
		if (*tries != MFA_CARD_TRIES_VERIFIED)
			return 0;
		if (hooks->reset == NULL || (rc = hooks->reset(hooks->ctx)) != 0)
			return rc ? rc : MFA_ERR_CARD;
	}
	return MFA_ERR_CARD; /* still "verified" after a reset: not a card we trust */
}

/*
 * Enrollments without an identifier (and PIV cards without a CHUID): read
 * the whole certificate and compare its public key with the enrolled one.
 * Several APDUs instead of one, but still no PIN.
 */
static int same_public_key(struct mfa_card *card, const struct mfa_card_factor *f)
{
	struct mfa_cert_info *info = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = MFA_ERR_NOMEM;

	if ((der = malloc(MFA_CERT_MAX)) == NULL || (info = malloc(sizeof(*info))) == NULL)
		goto out;
	if ((rc = mfa_card_read_certificate(card, der, MFA_CERT_MAX, &len)) != 0 ||
	    (rc = mfa_cert_parse(der, len, info)) != 0)
		goto out;
	rc = MFA_ERR_WRONG_CARD;
	if (info->spki_len == f->spki_len && CRYPTO_memcmp(info->spki, f->spki, f->spki_len) == 0)
		rc = 0;
out:
	free(der);
	free(info);
	return rc;
}

/*
 * The guard before any VERIFY (card.h, "Identifier"): is this the enrolled
 * card?  MFA_ERR_WRONG_CARD when it is not, so that no PIN is asked for and
 * none reaches somebody else's card.  Only a guard: a card can copy another
 * card's identifier; the signature check in prove_possession() against the
 * enrolled key stays the only proof.
 */
static int check_identity(struct mfa_card *card, const struct mfa_card_factor *f)
{
	uint8_t id[MFA_CARD_ID_MAX];
	size_t len = 0;
	int rc;

	if (f->id_kind == MFA_CARD_ID_LEGACY || f->id_kind == MFA_CARD_ID_SPKI)
		return same_public_key(card, f);
	if (f->id_kind != MFA_CARD_ID_CERT && f->id_kind != MFA_CARD_ID_CHUID)
		return MFA_ERR_CORRUPT;
	rc = mfa_card_read_id(card, id, sizeof(id), &len);
	/* The enrolled card had an identifier: a card without one is another card. */
	if (rc == MFA_ERR_NOENT)
		return MFA_ERR_WRONG_CARD;
	if (rc != 0)
		return rc;
	if (len != f->id_len || CRYPTO_memcmp(id, f->id, len) != 0)
		return MFA_ERR_WRONG_CARD;
	return 0;
}

static int verify_pin(struct mfa_card *card, const struct mfa_card_hooks *hooks, uint8_t profile,
    int *tries)
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
	if ((rc = mfa_card_open(&card, io, f->profile)) != 0 ||
	    (rc = check_identity(&card, f)) != 0 ||
	    (rc = count_tries(&card, io, f, hooks, &tries)) != 0)
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
	/*
	 * From here a PIN went to the card: whatever happens is an attempt, so
	 * MFA_ERR_PIN_BLOCKED (nothing sent, mfa_card_error_falls_back()) may not
	 * leave.  The wrong PIN that blocked the card is a wrong PIN with no try
	 * left; a card that says "blocked" after a right PIN is a card error.
	 * Deciding it here, once, makes the module and the setuid helper count
	 * it alike (both take mfa_card_error_counts() of what this returns).
	 */
	if ((rc = verify_pin(&card, hooks, f->profile, &tries)) != 0) {
		if (rc == MFA_ERR_PIN_BLOCKED) {
			rc = MFA_ERR_BADPIN;
			tries = 0;
		}
		goto out;
	}
	if ((rc = prove_possession(&card, f)) == MFA_ERR_PIN_BLOCKED)
		rc = MFA_ERR_CARD;
out:
	out->tries_left = tries;
	out->apdus = card.apdus;
	return rc;
}

int mfa_card_enroll_id(struct mfa_card *card, const uint8_t *der, size_t len,
    struct mfa_card_factor *f)
{
	uint8_t profile = mfa_card_profile(card);
	int rc = MFA_ERR_INVAL;

	f->id_kind = MFA_CARD_ID_LEGACY;
	f->id_len = 0;
	if (profile == MFA_CARD_JPKI) {
		/* The head a login reads is the head of this very certificate. */
		if ((rc = mfa_card_id_from_cert(der, len, f->id, sizeof(f->id), &f->id_len)) == 0)
			f->id_kind = MFA_CARD_ID_CERT;
	} else if (profile == MFA_CARD_PIV) {
		rc = mfa_card_read_id(card, f->id, sizeof(f->id), &f->id_len);
		if (rc == 0) {
			f->id_kind = MFA_CARD_ID_CHUID;
		} else if (rc == MFA_ERR_NOENT) {
			f->id_kind = MFA_CARD_ID_SPKI;
			f->id_len = 0;
			rc = 0;
		}
	}
	if (rc != 0) {
		f->id_kind = MFA_CARD_ID_LEGACY;
		f->id_len = 0;
	}
	return rc;
}

const char *mfa_card_check_token(const struct mfa_card_factor *f)
{
	return f->id_kind == MFA_CARD_ID_LEGACY ? mfa_card_id_token(f->id_kind) : NULL;
}

const char *mfa_card_id_token(uint8_t id_kind)
{
	switch (id_kind) {
	case MFA_CARD_ID_CERT:
		return "cert_serial";
	case MFA_CARD_ID_CHUID:
		return "chuid";
	case MFA_CARD_ID_SPKI:
		return "public_key";
	case MFA_CARD_ID_LEGACY:
		return "legacy_public_key";
	default:
		return "unknown";
	}
}

bool mfa_card_error_falls_back(int err)
{
	return err == MFA_ERR_NOCARD || err == MFA_ERR_NOREADER || err == MFA_ERR_NOSERVICE ||
	    err == MFA_ERR_PIN_TRIES || err == MFA_ERR_PIN_BLOCKED || err == MFA_ERR_EXPIRED ||
	    err == MFA_ERR_TRIES_UNKNOWN;
}

bool mfa_card_error_counts(int err)
{
	switch (err) {
	case MFA_ERR_BADPIN:
	case MFA_ERR_BADSIG:
	case MFA_ERR_PIN_REQUIRED:
	case MFA_ERR_NOAPP:
	case MFA_ERR_CARD:
	case MFA_ERR_CERT:
	case MFA_ERR_KEYTYPE:
	case MFA_ERR_WRONG_CARD: /* no PIN was sent, but it was a login attempt */
		return true;
	default:
		return false;
	}
}
