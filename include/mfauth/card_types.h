/*
 * The card layer's shared types and limits: what card.h (talking to the
 * card) and card_cert.h (host-side crypto on what it returns) both use.
 * Its own header so that neither of the two needs the other for a type:
 * card.c calls card_cert.c, never the other way.
 */
#ifndef MFAUTH_CARD_TYPES_H
#define MFAUTH_CARD_TYPES_H

#define MFA_CERT_MAX 8192 /* largest certificate (DER) we accept */
#define MFA_SIG_MAX 256   /* RSA-2048; a P-256 DER signature is at most 72 */

/* Key algorithms a card may use for its second-factor key. */
enum mfa_card_alg {
	MFA_CARD_ALG_NONE = 0,    /* anything else: never accepted */
	MFA_CARD_ALG_RSA2048 = 1, /* JPKI, PIV-RSA: PKCS#1 v1.5, SHA-256 */
	MFA_CARD_ALG_P256 = 2,    /* PIV-EC: ECDSA, SHA-256 */
};

#endif
