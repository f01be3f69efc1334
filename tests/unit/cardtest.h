/*
 * What the card unit tests share (tests/unit/test_card*.c): hex helpers,
 * keys and certificates made once per program, the fake card behind
 * struct mfa_card_io, the APDUs of doc/DESIGN.md §5 and the login flows.
 * Compiled once into tests/unit/libcardtest.la (check only).
 */
#ifndef MFAUTH_TESTS_CARDTEST_H
#define MFAUTH_TESTS_CARDTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "mfauth/card.h"
#include "mfauth/card_apdu.h"
#include "mfauth/card_cert.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* "AA BB" for n bytes (hex in: tu_unhex of tests/testutil.h). */
void hexstr(const uint8_t *p, size_t n, char *out);

/*
 * Keys and certificates made once per program by cardtest_keys_setup (a
 * cmocka group setup; cardtest_keys_teardown frees them): two RSA-2048 and
 * two P-256 keys, self-signed certificates for rsa_a and ec_a, and the DER
 * SubjectPublicKeyInfo of each key.
 */
extern EVP_PKEY *rsa_a, *rsa_b, *ec_a, *ec_b;
extern uint8_t *cert_rsa_a, *cert_ec_a;
extern size_t cert_rsa_a_len, cert_ec_a_len;
extern uint8_t spki_rsa_a[MFA_SPKI_MAX], spki_rsa_b[MFA_SPKI_MAX];
extern uint8_t spki_ec_a[MFA_SPKI_MAX], spki_ec_b[MFA_SPKI_MAX];
extern size_t spki_rsa_a_len, spki_rsa_b_len, spki_ec_a_len, spki_ec_b_len;

#define CERT_NOT_BEFORE 1700000000
#define CERT_NOT_AFTER 1900000000

EVP_PKEY *keygen(const char *type, int bits, const char *curve);

size_t spki_of(EVP_PKEY *k, uint8_t *out);

uint8_t *make_cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, const char *issuer_cn,
    const char *serial_hex, size_t *len);

int cardtest_keys_setup(void **state);

int cardtest_keys_teardown(void **state);

/*
 * The fake card behind struct mfa_card_io (fake_io): a script of exact
 * APDUs and answers, or a JPKI/PIV emulator that really signs with the key
 * given to fake_emulate; fake_fault injects an answer at the at-th exchange.
 * Every APDU sent is logged; assert_apdus compares the log with hex.
 */
#define FAKE_LOG_MAX 128
#define FAKE_RESP_MAX 4096

struct step {
	const char *expect; /* hex APDU, NULL = any */
	const char *resp;   /* hex response */
};

struct fake {
	/* script mode */
	const struct step *script;
	size_t nscript;
	bool mismatch; /* an APDU differed from the script */
	size_t mismatch_at;
	/* emulator mode */
	uint8_t profile; /* MFA_CARD_JPKI / MFA_CARD_PIV, 0 = script */
	EVP_PKEY *key;
	const uint8_t *object; /* JPKI cert EF / PIV 5FC105 object */
	size_t object_len;
	const uint8_t *chuid; /* PIV 5FC102 object, NULL = none (6A82) */
	size_t chuid_len;
	char pin[9];
	int tries;
	bool verified, selected;
	uint16_t ef;
	size_t max_read;                /* JPKI: answer READ BINARY with at most this */
	uint8_t pending[FAKE_RESP_MAX]; /* data still to hand out via 61xx */
	size_t pending_len, pending_off;
	uint8_t chain[1024];
	size_t chain_len;
	/* fault injection */
	bool fault_on, fault_sticky;
	size_t fault_at;
	uint8_t fault[FAKE_RESP_MAX];
	size_t fault_len;
	bool lie_len; /* claim one byte more than the capacity */
	/* what was sent */
	size_t count;
	uint8_t log[FAKE_LOG_MAX][MFA_APDU_MAX];
	size_t loglen[FAKE_LOG_MAX];
	uintptr_t logptr[FAKE_LOG_MAX];
	size_t resplen[FAKE_LOG_MAX];
	uint8_t resp0[FAKE_LOG_MAX]; /* the first byte of each response */
};

struct fake *fake_new(void);

void fake_emulate(struct fake *f, uint8_t profile, EVP_PKEY *key, const uint8_t *obj, size_t objlen,
    const char *pin);

void fake_fault(struct fake *f, size_t at, const char *resp_hex, bool sticky);

struct mfa_card_io fake_io(struct fake *f);

void assert_apdus(const struct fake *f, size_t from, const char *const *hex, size_t n);

/* The APDUs of doc/DESIGN.md §5, written out by hand, not taken from the code. */
extern const char JPKI_SELECT_AP[];
extern const char JPKI_SELECT_CERT[];
extern const char JPKI_SELECT_PIN[];
extern const char JPKI_SELECT_KEY[];
extern const char VERIFY_QUERY[];
extern const char PIV_SELECT[];
extern const char PIV_GET_CERT[];
extern const char DIGESTINFO_PREFIX[];

/*
 * Login flows over the fake card: flow_login opens, reads the tries, verifies
 * pin, signs a fresh challenge and checks the signature against spki;
 * flow_read_cert reads the certificate and compares it with want.
 * piv_object wraps a certificate as a PIV object (info: 71 byte), gzip
 * compresses (caller frees), chuid_object builds a CHUID.
 */
void fixed_challenge(uint8_t chal[MFA_CHALLENGE_LEN]);
void sha256(const uint8_t *p, size_t n, uint8_t md[32]);

int flow_login(struct fake *f, uint8_t profile, enum mfa_card_alg alg, const char *pin,
    const uint8_t *spki, size_t spki_len);

int flow_read_cert(struct fake *f, uint8_t profile, const uint8_t *want, size_t wantlen);

size_t piv_object(const uint8_t *cert, size_t clen, uint8_t info, uint8_t *out, size_t cap);

uint8_t *gzip(const uint8_t *in, size_t inlen, size_t *outlen);
extern const char PIV_SELECT_FULL[];
extern const char PIV_GET_CHUID[];
extern const char JPKI_READ_HEAD[];

size_t chuid_object(uint8_t guid_byte, bool extras, size_t siglen, uint8_t *out, size_t cap);

#endif
