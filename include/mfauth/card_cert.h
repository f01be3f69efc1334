/*
 * Host-side cryptography for the card factor (OpenSSL 3; doc/DESIGN.md invariant 8).
 *
 * Login: mfa_challenge_new() makes the challenge on the host, the card signs
 * it (card.h), and mfa_card_verify_signature() checks the signature against
 * the DER SubjectPublicKeyInfo stored in the user's record at enrollment.
 * Nothing the card presents at login is trusted.
 *
 * Enrollment: mfa_piv_cert_unwrap() takes the certificate out of a PIV
 * container, mfa_cert_parse() extracts what the record keeps, and the
 * mfa_cert_check_*() functions decide whether the card is acceptable.
 *
 * All inputs are caller-owned and only read; outputs go to caller-owned
 * memory.  Every function returns 0 or a negative MFA_ERR_* (err.h), so
 * a caller that treats non-zero as "no" fails closed.
 */
#ifndef MFAUTH_CARD_CERT_H
#define MFAUTH_CARD_CERT_H

#include <stddef.h>
#include <stdint.h>
#include "mfauth/card_types.h"
#include "mfauth/record.h"

#define MFA_CHALLENGE_LEN 32 /* what logins use */
#define MFA_CHALLENGE_MIN 32
#define MFA_CHALLENGE_MAX 1024

/* Fill chal with len (MFA_CHALLENGE_MIN..MAX) random bytes: 0, MFA_ERR_INVAL or MFA_ERR_CRYPTO. */
int mfa_challenge_new(uint8_t *chal, size_t len);

/*
 * The algorithm of a DER SubjectPublicKeyInfo: 0 and *alg for RSA-2048 or
 * P-256, MFA_ERR_KEYTYPE for any other key, MFA_ERR_CORRUPT if it does not
 * parse (or has trailing bytes).
 */
int mfa_spki_alg(const uint8_t *spki, size_t spki_len, enum mfa_card_alg *alg);

/*
 * Verify sig over chal (SHA-256; RSA PKCS#1 v1.5 or ECDSA by the key's
 * type) with the enrolled spki.  0 only for a valid signature;
 * MFA_ERR_BADSIG for an invalid one; MFA_ERR_CORRUPT / MFA_ERR_KEYTYPE for
 * an unusable key; MFA_ERR_INVAL for a challenge outside the limits.
 */
int mfa_card_verify_signature(const uint8_t *spki, size_t spki_len, const uint8_t *chal,
    size_t chal_len, const uint8_t *sig, size_t sig_len);

/* What enrollment learns from a certificate. */
struct mfa_cert_info {
	enum mfa_card_alg alg; /* MFA_CARD_ALG_NONE for any other key */
	char key_desc[32];     /* "RSA-2048", "EC-prime256v1", "RSA-1024", ... */
	uint8_t spki[MFA_SPKI_MAX];
	size_t spki_len;
	uint8_t fingerprint[32]; /* SHA-256 of the DER certificate */
	char subject[256];       /* RFC 2253 one line, printable ASCII, may end in "..." */
	char serial[80];         /* upper-case hex */
	uint64_t not_before;     /* epoch seconds */
	uint64_t not_after;
};

/*
 * Parse a DER certificate (exactly len bytes, at most MFA_CERT_MAX).
 * MFA_ERR_CERT if it is malformed, has trailing bytes, a serial too long to
 * record, validity dates before 1970, or an SPKI over MFA_SPKI_MAX.
 * A key of another type still parses (alg NONE): the profile check refuses it.
 */
int mfa_cert_parse(const uint8_t *der, size_t len, struct mfa_cert_info *info);

/*
 * The key must suit the profile: JPKI RSA-2048; PIV RSA-2048 or P-256.
 * MFA_ERR_KEYTYPE otherwise, MFA_ERR_INVAL for an unknown profile.
 */
int mfa_cert_check_profile(const struct mfa_cert_info *info, uint8_t profile);

/* not_before <= now <= not_after, else MFA_ERR_EXPIRED. */
int mfa_cert_check_time(const struct mfa_cert_info *info, uint64_t now);

/*
 * Verify the certificate chains to a trust anchor in cafile (PEM; the file
 * holds the root and any intermediates) at time now.  No revocation check
 * (the terminals are offline).  MFA_ERR_UNTRUSTED if it does not chain,
 * MFA_ERR_IO if cafile cannot be loaded, MFA_ERR_CERT if der is malformed.
 */
int mfa_cert_check_chain(const uint8_t *der, size_t len, const char *cafile, uint64_t now);

/* Fill a record's card factor (present, profile, key, fingerprint, ...) from info. */
int mfa_cert_to_factor(const struct mfa_cert_info *info, uint8_t profile, uint64_t now,
    struct mfa_card_factor *f);

/*
 * Take the certificate out of a PIV certificate object
 * 53 { 70 <cert> 71 01 <info> [72 ..] FE <edc> }: 71 = 00 plain, 01 gzip
 * (inflated, bounded to cap and MFA_CERT_MAX; anything larger is refused
 * without inflating further).  Unknown, repeated or missing tags, bytes
 * after the 53 object, another CertInfo value: MFA_ERR_CERT.
 * MFA_ERR_RANGE if the certificate does not fit in cap.
 */
int mfa_piv_cert_unwrap(const uint8_t *obj, size_t len, uint8_t *der, size_t cap, size_t *der_len);

#endif
