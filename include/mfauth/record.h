/*
 * A user's record: what enrollment writes and logins only read.
 *
 * On disk: "MFAR" | version (1) | key id (8) | nonce (12) | ciphertext | tag (16).
 * The associated data is magic, version, key id and the user name, so a record
 * copied under another user's name, or sealed under another key, fails to load.
 * The plaintext is a list of fields (u16 tag, u16 length, value), each tag at
 * most once; tags with the high bit set are optional and skipped when unknown,
 * any other unknown tag is an error (a newer format we must not half-read).
 * A known optional field may also be absent (records written before it
 * existed): it then decodes as zero, and a zero value is not written.
 */
#ifndef MFAUTH_RECORD_H
#define MFAUTH_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mfauth/buf.h"
#include "mfauth/seal.h"

#define MFA_RECORD_MAGIC "MFAR"
#define MFA_RECORD_VERSION 1
#define MFA_RECORD_MAX 16384 /* largest record file we read */
#define MFA_SECRET_MAX 64
#define MFA_SPKI_MAX 1024
#define MFA_CARD_ID_MAX 512 /* a recorded card identifier (card.h) */

enum mfa_totp_alg {
	MFA_ALG_SHA1 = 1,
	MFA_ALG_SHA256 = 2,
	MFA_ALG_SHA512 = 3,
};

enum mfa_card_profile {
	MFA_CARD_JPKI = 1,
	MFA_CARD_PIV = 2,
};

/*
 * What a login compares before it asks for the PIN (card.h, "Identifier"):
 * a guard that keeps a PIN away from someone else's card, never proof of
 * anything -- the signature checked against spki is the only proof.
 */
enum mfa_card_id_kind {
	MFA_CARD_ID_LEGACY = 0, /* enrolled before identifiers: compare the certificate's key */
	MFA_CARD_ID_CERT = 1,   /* JPKI: serial and issuer from the certificate's head */
	MFA_CARD_ID_CHUID = 2,  /* PIV: FASC-N and card GUID from the CHUID */
	MFA_CARD_ID_SPKI = 3,   /* PIV without a usable CHUID: the certificate's key */
};

struct mfa_totp_factor {
	bool present;
	uint8_t secret[MFA_SECRET_MAX];
	size_t secret_len;    /* 10..64 */
	uint8_t digits;       /* 6 or 8 */
	uint8_t alg;          /* enum mfa_totp_alg */
	uint16_t period;      /* 30 or 60 */
	uint64_t enrolled_at; /* epoch seconds */
};

struct mfa_card_factor {
	bool present;
	uint8_t profile;            /* enum mfa_card_profile */
	uint8_t spki[MFA_SPKI_MAX]; /* DER SubjectPublicKeyInfo recorded at enrollment */
	size_t spki_len;
	uint8_t fingerprint[32]; /* SHA-256 of the certificate */
	char subject[256];
	char serial[80]; /* hex */
	uint64_t not_before;
	uint64_t not_after;
	uint64_t enrolled_at;
	uint8_t id_kind;             /* enum mfa_card_id_kind; optional field, 0 when absent */
	uint8_t id[MFA_CARD_ID_MAX]; /* CERT, CHUID: the identifier's bytes (card.h) */
	size_t id_len;               /* 0 for LEGACY and SPKI */
};

struct mfa_recovery {
	bool present;
	uint64_t id; /* random; the state remembers the used one */
	uint8_t salt[16];
	uint8_t hash[32];
	uint32_t iterations; /* PBKDF2-HMAC-SHA256 */
	uint64_t issued_at;
	uint64_t expires_at;
};

struct mfa_record {
	uint64_t created_at;
	struct mfa_totp_factor totp;
	struct mfa_card_factor card;
	struct mfa_recovery recovery;
};

/* Plaintext encoding; out receives the bytes (it is wiped when freed). */
int mfa_record_encode(const struct mfa_record *rec, struct mfa_buf *out);
/* Decode a plaintext; MFA_ERR_CORRUPT on any malformed field. */
int mfa_record_decode(const uint8_t *p, size_t len, struct mfa_record *rec);

/* Encode and seal a record for user into file (the whole file's bytes). */
int mfa_record_seal(const struct mfa_key *key, const char *user, const struct mfa_record *rec,
    struct mfa_buf *file);
/*
 * Authenticate and decode a record file.  MFA_ERR_CORRUPT (bad magic, short,
 * tag mismatch), MFA_ERR_VERSION, MFA_ERR_KEYID (sealed under another key).
 */
int mfa_record_unseal(const struct mfa_key *key, const char *user, const uint8_t *file, size_t len,
    struct mfa_record *rec);

/*
 * The key id a record file claims to be sealed under (not authenticated:
 * only for choosing a key), or NULL if the file is too short or not a record.
 */
const uint8_t *mfa_record_keyid(const uint8_t *file, size_t len);

/* Wipe every secret in rec. */
void mfa_record_wipe(struct mfa_record *rec);

/*
 * True if the record holds anything the login may accept: a factor, or a
 * recovery code (issued while a factor was lost; whether it is still unused
 * and unexpired is the state's and the clock's business).
 */
bool mfa_record_enrolled(const struct mfa_record *rec);

#endif
