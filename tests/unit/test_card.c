/*
 * Unit tests for the card layer: lib/card_apdu.c, lib/card.c, lib/card_cert.c
 * and the error mapping of lib/card_pcsc.c (doc/DESIGN.md §5 and invariants 7-9).
 *
 * A fake card sits behind struct mfa_card_io.  It either plays a script
 * (exact APDU expected -> response) or emulates a JPKI or PIV card that
 * really signs with keys generated once per run, so a signature that
 * verifies here would verify on the host in a login.  On top of either it
 * can inject a fault at the k-th exchange (truncated response, status word
 * only, endless 61xx, ...), which lets the tests walk every step of every
 * flow.
 *
 * The contract tests compare every APDU byte with doc/DESIGN.md §5's tables,
 * written out here by hand, not taken from the code.
 *
 * OPENSSL_cleanse is interposed (as in test_buf.c) to see that the VERIFY
 * APDU holding the PIN is wiped, and so are the SCard* functions lib/card_pcsc.c
 * calls (a fake pcsc-lite: readers, cards, failures on demand), to check that
 * every path out of a session resets the card and releases what it took
 * (invariant 8).  With the fake off, they pass through to libpcsclite.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <winscard.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/card.h"
#include "mfauth/card_auth.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "mfauth/card_pcsc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- a recording OPENSSL_cleanse ------------------------------------------ */

#define WIPE_LOG_MAX 256

static struct {
	uintptr_t p;
	size_t n;
} wipe_log[WIPE_LOG_MAX];
static size_t wipe_count;
static bool wipe_recording;

/* Replaces libcrypto's symbol for this program; it still wipes. */
void OPENSSL_cleanse(void *ptr, size_t len)
{
	if (ptr != NULL && len > 0) {
		memset(ptr, 0, len);
		__asm__ __volatile__("" : : "r"(ptr) : "memory");
	}
	if (wipe_recording && wipe_count < WIPE_LOG_MAX) {
		wipe_log[wipe_count].p = (uintptr_t)ptr;
		wipe_log[wipe_count].n = len;
		wipe_count++;
	}
}

static bool wiped(uintptr_t a, size_t n)
{
	for (size_t i = 0; i < wipe_count; i++)
		if (wipe_log[i].p <= a && a + n <= wipe_log[i].p + wipe_log[i].n)
			return true;
	return false;
}

/* --- hex ------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex with optional blanks into out; fails the test on odd digits or overflow. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v = hexval(*s);
		if (v < 0) {
			assert_true(*s == ' ');
			continue;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

/* --- keys and certificates, made once per run --------------------------- */

static EVP_PKEY *rsa_a, *rsa_b, *ec_a, *ec_b;
static uint8_t *cert_rsa_a, *cert_ec_a;
static size_t cert_rsa_a_len, cert_ec_a_len;
static uint8_t spki_rsa_a[MFA_SPKI_MAX], spki_rsa_b[MFA_SPKI_MAX];
static uint8_t spki_ec_a[MFA_SPKI_MAX], spki_ec_b[MFA_SPKI_MAX];
static size_t spki_rsa_a_len, spki_rsa_b_len, spki_ec_a_len, spki_ec_b_len;

#define CERT_NOT_BEFORE 1700000000
#define CERT_NOT_AFTER 1900000000

static EVP_PKEY *keygen(const char *type, int bits, const char *curve)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	if (bits > 0)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
	if (curve != NULL)
		assert_int_equal(EVP_PKEY_CTX_set_group_name(ctx, curve), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &k), 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static size_t spki_of(EVP_PKEY *k, uint8_t *out)
{
	unsigned char *p = out;
	int n = i2d_PUBKEY(k, NULL);

	assert_true(n > 0 && n <= MFA_SPKI_MAX);
	assert_int_equal(i2d_PUBKEY(k, &p), n);
	return (size_t)n;
}

static X509_NAME *make_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"JP", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"mfauth test", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

/* A certificate for key, signed by signer under issuer_cn (self-signed when equal). */
static uint8_t *make_cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, const char *issuer_cn,
    const char *serial_hex, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *subj = make_name(cn), *iss = make_name(issuer_cn);
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_true(BN_hex2bn(&bn, serial_hex) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), CERT_NOT_BEFORE));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), CERT_NOT_AFTER));
	assert_int_equal(X509_set_subject_name(x, subj), 1);
	assert_int_equal(X509_set_issuer_name(x, iss), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (strcmp(cn, issuer_cn) == 0) {
		/* A CA: the chain check wants basicConstraints CA:TRUE. */
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
		    "critical,CA:TRUE");
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
	assert_true((n = i2d_X509(x, &der)) > 0);
	*len = (size_t)n;
	BN_free(bn);
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	X509_free(x);
	return der;
}

static int group_setup(void **state)
{
	(void)state;
	rsa_a = keygen("RSA", 2048, NULL);
	rsa_b = keygen("RSA", 2048, NULL);
	ec_a = keygen("EC", 0, "P-256");
	ec_b = keygen("EC", 0, "P-256");
	spki_rsa_a_len = spki_of(rsa_a, spki_rsa_a);
	spki_rsa_b_len = spki_of(rsa_b, spki_rsa_b);
	spki_ec_a_len = spki_of(ec_a, spki_ec_a);
	spki_ec_b_len = spki_of(ec_b, spki_ec_b);
	cert_rsa_a = make_cert(rsa_a, "Test Clerk", rsa_a, "Test Clerk", "0123456789ABCDEF",
	    &cert_rsa_a_len);
	cert_ec_a = make_cert(ec_a, "PIV Clerk", ec_a, "PIV Clerk", "42", &cert_ec_a_len);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_a);
	EVP_PKEY_free(rsa_b);
	EVP_PKEY_free(ec_a);
	EVP_PKEY_free(ec_b);
	OPENSSL_free(cert_rsa_a);
	OPENSSL_free(cert_ec_a);
	return 0;
}

/* --- the fake card --------------------------------------------------------- */

#define FAKE_LOG_MAX 128
#define FAKE_RESP_MAX 4096

struct step {
	const char *expect;             /* hex APDU, NULL = any */
	const char *resp;               /* hex response */
};

struct fake {
	/* script mode */
	const struct step *script;
	size_t nscript;
	bool mismatch;                  /* an APDU differed from the script */
	size_t mismatch_at;
	/* emulator mode */
	uint8_t profile;                /* MFA_CARD_JPKI / MFA_CARD_PIV, 0 = script */
	EVP_PKEY *key;
	const uint8_t *object;          /* JPKI cert EF / PIV 5FC105 object */
	size_t object_len;
	const uint8_t *chuid;           /* PIV 5FC102 object, NULL = none (6A82) */
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
	bool lie_len;                   /* claim one byte more than the capacity */
	/* what was sent */
	size_t count;
	uint8_t log[FAKE_LOG_MAX][MFA_APDU_MAX];
	size_t loglen[FAKE_LOG_MAX];
	uintptr_t logptr[FAKE_LOG_MAX];
	size_t resplen[FAKE_LOG_MAX];
	uint8_t resp0[FAKE_LOG_MAX];    /* the first byte of each response */
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	return f;
}

static void fake_emulate(struct fake *f, uint8_t profile, EVP_PKEY *key, const uint8_t *obj,
    size_t objlen, const char *pin)
{
	f->profile = profile;
	f->key = key;
	f->object = obj;
	f->object_len = objlen;
	snprintf(f->pin, sizeof(f->pin), "%s", pin);
	f->tries = 3;
	f->max_read = 256;
}

static void fake_fault(struct fake *f, size_t at, const char *resp_hex, bool sticky)
{
	f->fault_on = true;
	f->fault_at = at;
	f->fault_sticky = sticky;
	f->fault_len = unhex(resp_hex, f->fault, sizeof(f->fault));
}

static size_t put_sw(uint8_t *out, size_t n, uint16_t sw)
{
	out[n] = (uint8_t)(sw >> 8);
	out[n + 1] = (uint8_t)sw;
	return n + 2;
}

/* Hand out pending data: up to 256 bytes, then 61xx or 9000. */
static size_t emu_pending(struct fake *f, size_t le, uint8_t *out)
{
	size_t left = f->pending_len - f->pending_off;
	size_t n = left < le ? left : le;

	memcpy(out, f->pending + f->pending_off, n);
	f->pending_off += n;
	left -= n;
	if (left == 0)
		return put_sw(out, n, 0x9000);
	return put_sw(out, n, (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
}

struct capdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc, le;
	bool has_le;
};

static bool parse_capdu(const uint8_t *a, size_t len, struct capdu *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 4)
		return false;
	c->cla = a[0];
	c->ins = a[1];
	c->p1 = a[2];
	c->p2 = a[3];
	if (len == 4)
		return true;
	if (len == 5) {
		c->has_le = true;
		c->le = a[4] ? a[4] : 256;
		return true;
	}
	c->lc = a[4];
	c->data = a + 5;
	if (len == 5 + c->lc)
		return true;
	if (len == 6 + c->lc) {
		c->has_le = true;
		c->le = a[len - 1] ? a[len - 1] : 256;
		return true;
	}
	return false;
}

static size_t emu_verify(struct fake *f, const struct capdu *c, const uint8_t *pinfield,
    uint8_t *out)
{
	if (c->lc == 0) {
		if (f->tries == 0)
			return put_sw(out, 0, 0x6983);
		return put_sw(out, 0, f->verified ? 0x9000 : (uint16_t)(0x63C0 | f->tries));
	}
	if (f->tries == 0)
		return put_sw(out, 0, 0x6983);
	if (c->lc == strlen(pinfield ? (const char *)pinfield : "") &&
	    memcmp(c->data, pinfield, c->lc) == 0) {
		f->verified = true;
		f->tries = 3;
		return put_sw(out, 0, 0x9000);
	}
	f->verified = false;
	f->tries--;
	return put_sw(out, 0, (uint16_t)(0x63C0 | f->tries));
}

/* Sign with the emulated card's key: pad = RSA padding or -1 for EC. */
static size_t emu_sign(struct fake *f, int pad, const uint8_t *in, size_t inlen, uint8_t *sig)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(f->key, NULL);
	size_t n = 512;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	if (pad >= 0)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, sig, &n, in, inlen), 1);
	EVP_PKEY_CTX_free(ctx);
	return n;
}

static size_t emu_jpki(struct fake *f, const struct capdu *c, uint8_t *out)
{
	static const uint8_t aid[] = { 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t di_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
		0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

	if (c->cla == 0x00 && c->ins == 0xA4 && c->p1 == 0x04 && c->p2 == 0x0C) {
		if (c->lc != sizeof(aid) || memcmp(c->data, aid, sizeof(aid)) != 0 || c->has_le)
			return put_sw(out, 0, 0x6A82);
		f->selected = true;
		f->ef = 0;
		return put_sw(out, 0, 0x9000);
	}
	if (!f->selected)
		return put_sw(out, 0, 0x6985);
	if (c->cla == 0x00 && c->ins == 0xA4 && c->p1 == 0x02 && c->p2 == 0x0C && c->lc == 2) {
		uint16_t ef = (uint16_t)(c->data[0] << 8 | c->data[1]);
		if (ef != 0x000A && ef != 0x0017 && ef != 0x0018)
			return put_sw(out, 0, 0x6A82);
		f->ef = ef;
		return put_sw(out, 0, 0x9000);
	}
	if (c->cla == 0x00 && c->ins == 0xB0 && c->has_le && c->lc == 0 && f->ef == 0x000A) {
		size_t off = (size_t)(c->p1 << 8 | c->p2), n = c->le;
		if (off >= f->object_len)
			return put_sw(out, 0, 0x6B00);
		if (n > f->object_len - off)
			n = f->object_len - off;
		if (off >= 4 && n > f->max_read)       /* the header always comes whole */
			n = f->max_read;
		memcpy(out, f->object + off, n);
		return put_sw(out, n, 0x9000);
	}
	if (c->cla == 0x00 && c->ins == 0x20 && c->p1 == 0x00 && c->p2 == 0x80 && f->ef == 0x0018)
		return emu_verify(f, c, (const uint8_t *)f->pin, out);
	if (c->cla == 0x80 && c->ins == 0x2A && c->p1 == 0x00 && c->p2 == 0x80 && f->ef == 0x0017 &&
	    c->has_le && c->le == 256) {
		if (!f->verified)
			return put_sw(out, 0, 0x6982);
		if (c->lc != 51 || memcmp(c->data, di_prefix, sizeof(di_prefix)) != 0)
			return put_sw(out, 0, 0x6A80);
		return put_sw(out, emu_sign(f, RSA_PKCS1_PADDING, c->data, c->lc, out), 0x9000);
	}
	return put_sw(out, 0, 0x6D00);
}

/* GENERAL AUTHENTICATE on the collected chain: 7C { 82 00, 81 <input> }. */
static size_t emu_piv_auth(struct fake *f, uint8_t alg, uint8_t *out)
{
	uint8_t sig[512], *r = f->pending;
	const uint8_t *in;
	size_t inlen, siglen, hdr = alg == 0x07 ? 10 : 6, n = 0;

	if (!f->verified)
		return put_sw(out, 0, 0x6982);
	if (f->chain_len < hdr || f->chain[0] != 0x7C)
		return put_sw(out, 0, 0x6A80);
	in = f->chain + hdr;
	inlen = f->chain_len - hdr;
	if (alg == 0x07 && EVP_PKEY_is_a(f->key, "RSA") && inlen == 256)
		siglen = emu_sign(f, RSA_NO_PADDING, in, inlen, sig);
	else if (alg == 0x11 && EVP_PKEY_is_a(f->key, "EC") && inlen == 32)
		siglen = emu_sign(f, -1, in, inlen, sig);
	else
		return put_sw(out, 0, 0x6A80);
	/* 7C L { 82 L sig }, lengths in the shortest form */
	r[n++] = 0x7C;
	if (siglen + 4 > 0xFF) {
		r[n++] = 0x82; r[n++] = (uint8_t)((siglen + 4) >> 8); r[n++] = (uint8_t)(siglen + 4);
		r[n++] = 0x82; r[n++] = 0x82; r[n++] = (uint8_t)(siglen >> 8); r[n++] = (uint8_t)siglen;
	} else {
		r[n++] = (uint8_t)(siglen + 2);
		r[n++] = 0x82; r[n++] = (uint8_t)siglen;
	}
	memcpy(r + n, sig, siglen);
	f->pending_len = n + siglen;
	f->pending_off = 0;
	return emu_pending(f, 256, out);
}

static size_t emu_piv(struct fake *f, const struct capdu *c, uint8_t *out)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00 };
	static const uint8_t getdata[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x05 };
	uint8_t field[9] = { 0 };
	size_t n;

	if ((c->cla & ~0x10) == 0x00 && c->ins == 0x87 && c->p2 == 0x9A) {
		if (f->chain_len + c->lc > sizeof(f->chain))
			return put_sw(out, 0, 0x6700);
		memcpy(f->chain + f->chain_len, c->data, c->lc);
		f->chain_len += c->lc;
		if (c->cla & 0x10)
			return put_sw(out, 0, 0x9000);
		n = emu_piv_auth(f, c->p1, out);
		f->chain_len = 0;
		return n;
	}
	f->chain_len = 0;
	if (c->cla == 0x00 && c->ins == 0xA4 && c->p1 == 0x04) {
		if (c->lc != sizeof(aid) || memcmp(c->data, aid, sizeof(aid)) != 0 || c->p2 != 0x00)
			return put_sw(out, 0, 0x6A82);
		f->selected = true;
		/* An application property template, as a real card sends. */
		return put_sw(out, unhex("61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08",
		    out, 64), 0x9000);
	}
	if (!f->selected)
		return put_sw(out, 0, 0x6985);
	if (c->cla == 0x00 && c->ins == 0x20 && c->p1 == 0x00 && c->p2 == 0x80) {
		memset(field, 0xFF, 8);
		memcpy(field, f->pin, strlen(f->pin));
		field[8] = 0;
		if (c->lc != 0 && c->lc != 8)
			return put_sw(out, 0, 0x6700);
		/* compare all 8 bytes including the FF padding */
		if (c->lc == 8 && f->tries > 0 && memcmp(c->data, field, 8) != 0) {
			f->verified = false;
			f->tries--;
			return put_sw(out, 0, (uint16_t)(0x63C0 | f->tries));
		}
		if (c->lc == 8 && f->tries > 0) {
			f->verified = true;
			f->tries = 3;
			return put_sw(out, 0, 0x9000);
		}
		return emu_verify(f, c, NULL, out);
	}
	if (c->cla == 0x00 && c->ins == 0xCB && c->p1 == 0x3F && c->p2 == 0xFF &&
	    c->lc == sizeof(getdata) && memcmp(c->data, getdata, sizeof(getdata)) == 0) {
		assert_true(f->object_len <= sizeof(f->pending));
		memcpy(f->pending, f->object, f->object_len);
		f->pending_len = f->object_len;
		f->pending_off = 0;
		return emu_pending(f, c->le, out);
	}
	if (c->cla == 0x00 && c->ins == 0xCB && c->p1 == 0x3F && c->p2 == 0xFF &&
	    c->lc == sizeof(getdata) && memcmp(c->data, getdata, 3) == 0 && c->data[3] == 0xC1 &&
	    c->data[4] == 0x02) {
		if (f->chuid == NULL)
			return put_sw(out, 0, 0x6A82);
		assert_true(f->chuid_len <= sizeof(f->pending));
		memcpy(f->pending, f->chuid, f->chuid_len);
		f->pending_len = f->chuid_len;
		f->pending_off = 0;
		return emu_pending(f, c->le, out);
	}
	if (c->cla == 0x00 && c->ins == 0xC0 && c->has_le && f->pending_off < f->pending_len)
		return emu_pending(f, c->le, out);
	return put_sw(out, 0, 0x6D00);
}

static size_t fake_script(struct fake *f, size_t i, const uint8_t *apdu, size_t len, uint8_t *out)
{
	uint8_t want[MFA_APDU_MAX];
	size_t n;

	if (i >= f->nscript) {
		f->mismatch = true;
		f->mismatch_at = i;
		return SIZE_MAX;
	}
	if (f->script[i].expect != NULL) {
		n = unhex(f->script[i].expect, want, sizeof(want));
		if (n != len || memcmp(want, apdu, len) != 0) {
			if (!f->mismatch)
				f->mismatch_at = i;
			f->mismatch = true;
		}
	}
	return unhex(f->script[i].resp, out, FAKE_RESP_MAX);
}

static int fake_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp,
    size_t *resplen)
{
	struct fake *f = ctx;
	uint8_t out[FAKE_RESP_MAX];
	size_t i = f->count++, n;
	struct capdu c;

	assert_true(len >= 4 && len <= MFA_APDU_MAX);
	if (i < FAKE_LOG_MAX) {
		memcpy(f->log[i], apdu, len);
		f->loglen[i] = len;
		f->logptr[i] = (uintptr_t)apdu;
	}
	if (f->fault_on && (i == f->fault_at || (f->fault_sticky && i > f->fault_at))) {
		n = f->fault_len;
		memcpy(out, f->fault, n);
	} else if (f->profile == 0) {
		if ((n = fake_script(f, i, apdu, len, out)) == SIZE_MAX)
			return MFA_ERR_CARD;
	} else if (!parse_capdu(apdu, len, &c)) {
		n = put_sw(out, 0, 0x6700);
	} else {
		n = f->profile == MFA_CARD_JPKI ? emu_jpki(f, &c, out) : emu_piv(f, &c, out);
	}
	if (i < FAKE_LOG_MAX) {
		f->resplen[i] = n;
		f->resp0[i] = n > 0 ? out[0] : 0;
	}
	if (f->lie_len) {
		*resplen += 1;
		return 0;
	}
	if (n > *resplen)
		return MFA_ERR_CARD;    /* what SCardTransmit does: insufficient buffer */
	memcpy(resp, out, n);
	*resplen = n;
	return 0;
}

static struct mfa_card_io fake_io(struct fake *f)
{
	struct mfa_card_io io = { fake_transmit, f };
	return io;
}

/* Assert the APDU log from index from equals the hex list. */
static void assert_apdus(const struct fake *f, size_t from, const char *const *hex, size_t n)
{
	uint8_t want[MFA_APDU_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t len = unhex(hex[i], want, sizeof(want));
		if (f->loglen[from + i] != len || memcmp(f->log[from + i], want, len) != 0)
			fail_msg("APDU %zu differs from DESIGN §5: expected %s", from + i, hex[i]);
	}
}

static void hexstr(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 3 * i, "%02X ", p[i]);
	out[n ? 3 * n - 1 : 0] = '\0';
}

/* --- card_apdu.c --------------------------------------------------------------- */

static void test_apdu_build(void **state)
{
	static const uint8_t d255[255] = { 0 };
	struct mfa_apdu a;
	uint8_t want[MFA_APDU_MAX];
	static const struct {
		uint8_t cla, ins, p1, p2;
		const char *data;
		size_t le;
		const char *expect;
	} cases[] = {
		{ 0x00, 0x20, 0x00, 0x80, "", 0, "00 20 00 80" },                     /* case 1 */
		{ 0x00, 0xB0, 0x00, 0x00, "", 4, "00 B0 00 00 04" },                  /* case 2 */
		{ 0x00, 0xB0, 0x01, 0x04, "", 256, "00 B0 01 04 00" },                /* Le 256 = 00 */
		{ 0x00, 0xA4, 0x02, 0x0C, "00 18", 0, "00 A4 02 0C 02 00 18" },       /* case 3 */
		{ 0x00, 0xCB, 0x3F, 0xFF, "5C 03 5F C1 05", 256,
		  "00 CB 3F FF 05 5C 03 5F C1 05 00" },                               /* case 4 */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t data[16];
		size_t dlen = unhex(cases[i].data, data, sizeof(data));
		size_t n = unhex(cases[i].expect, want, sizeof(want));
		assert_int_equal(mfa_apdu_build(&a, cases[i].cla, cases[i].ins, cases[i].p1,
		    cases[i].p2, data, dlen, cases[i].le), 0);
		assert_int_equal(a.len, n);
		assert_memory_equal(a.bytes, want, n);
	}
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, d255, 255, 256), 0);
	assert_int_equal(a.len, 4 + 1 + 255 + 1);
	assert_int_equal(a.bytes[4], 0xFF);
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, d255, 256, 0), MFA_ERR_RANGE);
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, NULL, 0, 257), MFA_ERR_RANGE);
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, NULL, 5, 0), MFA_ERR_RANGE);
}

static void test_apdu_set_le(void **state)
{
	static const uint8_t d255[255] = { 0 };
	struct mfa_apdu a;
	(void)state;

	assert_int_equal(mfa_apdu_build(&a, 0, 0xB0, 0, 0, NULL, 0, 4), 0);
	assert_int_equal(mfa_apdu_set_le(&a, 0x12), 0);
	assert_int_equal(a.len, 5);
	assert_int_equal(a.bytes[4], 0x12);
	assert_int_equal(mfa_apdu_set_le(&a, 256), 0);
	assert_int_equal(a.bytes[4], 0x00);
	assert_int_equal(mfa_apdu_set_le(&a, 0), MFA_ERR_RANGE);
	assert_int_equal(mfa_apdu_set_le(&a, 257), MFA_ERR_RANGE);
	/* a command without Le gets one appended */
	assert_int_equal(mfa_apdu_build(&a, 0, 0xA4, 2, 0x0C, (const uint8_t *)"\x00\x0A", 2, 0), 0);
	assert_int_equal(mfa_apdu_set_le(&a, 8), 0);
	assert_int_equal(a.len, 8);
	assert_int_equal(a.bytes[7], 8);
	/* a full command without Le has no room for one */
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, d255, 255, 0), 0);
	a.len = MFA_APDU_MAX;
	assert_int_equal(mfa_apdu_set_le(&a, 8), MFA_ERR_RANGE);
}

static void test_apdu_chain(void **state)
{
	uint8_t data[600];
	struct mfa_apdu a;
	(void)state;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(mfa_apdu_chain_count(0), 1);
	assert_int_equal(mfa_apdu_chain_count(255), 1);
	assert_int_equal(mfa_apdu_chain_count(256), 2);
	assert_int_equal(mfa_apdu_chain_count(266), 2);
	assert_int_equal(mfa_apdu_chain_count(600), 3);
	/* 266 bytes: 255 with CLA 10 and no Le, then 11 with CLA 00 and Le */
	assert_int_equal(mfa_apdu_build_chained(&a, 0, 0x00, 0x87, 0x07, 0x9A, data, 266, 256), 0);
	assert_int_equal(a.len, 5 + 255);
	assert_int_equal(a.bytes[0], 0x10);
	assert_int_equal(a.bytes[4], 0xFF);
	assert_memory_equal(a.bytes + 5, data, 255);
	assert_int_equal(mfa_apdu_build_chained(&a, 1, 0x00, 0x87, 0x07, 0x9A, data, 266, 256), 0);
	assert_int_equal(a.len, 5 + 11 + 1);
	assert_int_equal(a.bytes[0], 0x00);
	assert_int_equal(a.bytes[4], 11);
	assert_memory_equal(a.bytes + 5, data + 255, 11);
	assert_int_equal(a.bytes[16], 0x00);
	assert_int_equal(mfa_apdu_build_chained(&a, 2, 0x00, 0x87, 0x07, 0x9A, data, 266, 256),
	    MFA_ERR_RANGE);
	/* short data: one plain command */
	assert_int_equal(mfa_apdu_build_chained(&a, 0, 0x00, 0x87, 0x11, 0x9A, data, 38, 256), 0);
	assert_int_equal(a.bytes[0], 0x00);
	assert_int_equal(a.len, 5 + 38 + 1);
}

static void test_apdu_split(void **state)
{
	static const uint8_t r[] = { 0xAA, 0xBB, 0x90, 0x00 };
	const uint8_t *d = NULL;
	size_t dl = 99;
	uint16_t sw = 0;
	(void)state;

	assert_int_equal(mfa_apdu_split(r, 0, &d, &dl, &sw), MFA_ERR_CORRUPT);
	assert_int_equal(mfa_apdu_split(r, 1, &d, &dl, &sw), MFA_ERR_CORRUPT);
	assert_int_equal(mfa_apdu_split(NULL, 4, &d, &dl, &sw), MFA_ERR_CORRUPT);
	assert_int_equal(dl, 99);
	assert_int_equal(mfa_apdu_split(r + 2, 2, &d, &dl, &sw), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(mfa_apdu_split(r, 4, &d, &dl, &sw), 0);
	assert_int_equal(dl, 2);
	assert_ptr_equal(d, r);
	assert_int_equal(sw, 0x9000);
}

static void test_sw_table(void **state)
{
	static const struct {
		uint16_t sw;
		enum mfa_sw kind;
		unsigned arg;
		int err;
	} cases[] = {
		{ 0x9000, MFA_SW_OK, 0, 0 },
		{ 0x63C3, MFA_SW_TRIES, 3, MFA_ERR_BADPIN },
		{ 0x63C1, MFA_SW_TRIES, 1, MFA_ERR_BADPIN },
		{ 0x63CF, MFA_SW_TRIES, 15, MFA_ERR_BADPIN },
		{ 0x63C0, MFA_SW_TRIES, 0, MFA_ERR_PIN_BLOCKED },
		{ 0x6983, MFA_SW_BLOCKED, 0, MFA_ERR_PIN_BLOCKED },
		{ 0x6982, MFA_SW_SECURITY, 0, MFA_ERR_PIN_REQUIRED },
		{ 0x6108, MFA_SW_MORE, 8, MFA_ERR_CARD },
		{ 0x6100, MFA_SW_MORE, 0, MFA_ERR_CARD },
		{ 0x6C12, MFA_SW_WRONG_LE, 0x12, MFA_ERR_CARD },
		{ 0x6A82, MFA_SW_NOT_FOUND, 0, MFA_ERR_NOAPP },
		{ 0x6700, MFA_SW_WRONG_LENGTH, 0, MFA_ERR_CARD },
		/* 63 0X: the profile decides (card.c); as an error it is never a count */
		{ 0x6300, MFA_SW_TRIES_630X, 0, MFA_ERR_CARD },
		{ 0x6302, MFA_SW_TRIES_630X, 2, MFA_ERR_CARD },
		{ 0x630F, MFA_SW_TRIES_630X, 15, MFA_ERR_CARD },
		{ 0x6381, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x63D3, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6984, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6A80, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6A81, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6D00, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6F00, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x9001, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x0000, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0xFFFF, MFA_SW_OTHER, 0, MFA_ERR_CARD },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned arg = 12345;
		assert_int_equal(mfa_sw_classify(cases[i].sw, &arg), cases[i].kind);
		assert_int_equal(arg, cases[i].arg);
		assert_int_equal(mfa_sw_classify(cases[i].sw, NULL), cases[i].kind);
		assert_int_equal(mfa_sw_to_err(cases[i].sw), cases[i].err);
	}
}

static void test_tlv_get(void **state)
{
	static const struct {
		const char *hex;
		int rc;
		uint32_t tag;
		size_t vlen;
		size_t left;
	} cases[] = {
		{ "70 03 01 02 03", 0, 0x70, 3, 0 },
		{ "70 00 FE 00", 0, 0x70, 0, 2 },
		{ "71 01 01 FE", 0, 0x71, 1, 1 },
		{ "5F C1 05 01 AA", 0, 0x5FC105, 1, 0 },          /* 3-byte tag */
		{ "5F 2F 01 AA", 0, 0x5F2F, 1, 0 },              /* 2-byte tag */
		{ "7C 81 02 AA BB", 0, 0x7C, 2, 0 },            /* 81 form */
		{ "53 82 00 02 AA BB CC", 0, 0x53, 2, 1 },      /* 82 form */
		{ "", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "70", MFA_ERR_CORRUPT, 0, 0, 0 },             /* no length */
		{ "5F", MFA_ERR_CORRUPT, 0, 0, 0 },             /* tag cut */
		{ "5F C1", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "5F FF FF 01 00", MFA_ERR_CORRUPT, 0, 0, 0 }, /* 4-byte tag */
		{ "70 05 01 02", MFA_ERR_CORRUPT, 0, 0, 0 },    /* value runs past */
		{ "70 81", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "70 81 05 01", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "70 82 01", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "30 82 FF FF 01 02 03", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "30 80 01 02 00 00", MFA_ERR_CORRUPT, 0, 0, 0 },       /* indefinite */
		{ "30 83 00 00 01 AA", MFA_ERR_CORRUPT, 0, 0, 0 },       /* 83 form */
		{ "30 84 00 00 00 01 AA", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "30 FF 00", MFA_ERR_CORRUPT, 0, 0, 0 },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t buf[64];
		size_t n = unhex(cases[i].hex, buf, sizeof(buf));
		struct mfa_reader r = mfa_reader_init(buf, n);
		uint32_t tag = 0xDEAD;
		const uint8_t *v = NULL;
		size_t vlen = 777;
		int rc = mfa_tlv_get(&r, &tag, &v, &vlen);

		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].hex, rc, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(tag, cases[i].tag);
			assert_int_equal(vlen, cases[i].vlen);
			assert_int_equal(r.len, cases[i].left);
			assert_true(v >= buf && v + vlen <= buf + n);
		} else {
			/* nothing consumed, nothing written */
			assert_int_equal(r.len, n);
			assert_ptr_equal(r.p, buf);
			assert_int_equal(tag, 0xDEAD);
			assert_int_equal(vlen, 777);
		}
	}
}

static void test_tlv_find_put(void **state)
{
	uint8_t buf[64];
	size_t n = unhex("82 00 81 02 AA BB", buf, sizeof(buf));
	const uint8_t *v;
	size_t vlen;
	struct mfa_buf b;
	static const size_t lens[] = { 0, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0xFFFF };
	static const uint32_t tags[] = { 0x7C, 0x5F2F, 0x5FC105 };
	(void)state;

	assert_int_equal(mfa_tlv_find(buf, n, 0x81, &v, &vlen), 0);
	assert_int_equal(vlen, 2);
	assert_int_equal(v[0], 0xAA);
	assert_int_equal(mfa_tlv_find(buf, n, 0x82, &v, &vlen), 0);
	assert_int_equal(vlen, 0);
	assert_int_equal(mfa_tlv_find(buf, n, 0x83, &v, &vlen), MFA_ERR_NOENT);
	assert_int_equal(mfa_tlv_find(buf, n - 1, 0x81, &v, &vlen), MFA_ERR_CORRUPT);
	/* headers written by put_header read back with get */
	for (size_t t = 0; t < NELEM(tags); t++) {
		for (size_t i = 0; i < NELEM(lens); i++) {
			struct mfa_reader r;
			uint32_t tag;

			mfa_buf_init(&b);
			mfa_tlv_put_header(&b, tags[t], lens[i]);
			assert_non_null(mfa_put_zeros(&b, lens[i]));
			assert_int_equal(mfa_buf_error(&b), 0);
			r = mfa_reader_init(b.data, b.len);
			assert_int_equal(mfa_tlv_get(&r, &tag, &v, &vlen), 0);
			assert_int_equal(tag, tags[t]);
			assert_int_equal(vlen, lens[i]);
			assert_int_equal(r.len, 0);
			mfa_buf_free(&b);
		}
	}
	mfa_buf_init(&b);
	mfa_tlv_put_header(&b, 0x70, 0x10000);
	assert_int_equal(mfa_buf_error(&b), MFA_ERR_RANGE);
	mfa_buf_free(&b);
}

/* --- login flows (used by the contract and the fault tests) --------------- */

static const char JPKI_SELECT_AP[] = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
static const char JPKI_SELECT_CERT[] = "00 A4 02 0C 02 00 0A";
static const char JPKI_SELECT_PIN[] = "00 A4 02 0C 02 00 18";
static const char JPKI_SELECT_KEY[] = "00 A4 02 0C 02 00 17";
static const char VERIFY_QUERY[] = "00 20 00 80";
static const char PIV_SELECT[] = "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00";
static const char PIV_GET_CERT[] = "00 CB 3F FF 05 5C 03 5F C1 05 00";
static const char DIGESTINFO_PREFIX[] =
    "30 31 30 0d 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20";

/* A fixed challenge for the contract tests (random ones elsewhere). */
static void fixed_challenge(uint8_t chal[MFA_CHALLENGE_LEN])
{
	for (size_t i = 0; i < MFA_CHALLENGE_LEN; i++)
		chal[i] = (uint8_t)(0xC0 + i);
}

static void sha256(const uint8_t *p, size_t n, uint8_t md[32])
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

/*
 * A whole login: open, tries (must be ok for min 2), verify, sign, and the
 * host check against spki.  0 only when the signature verifies.
 */
static int flow_login(struct fake *f, uint8_t profile, enum mfa_card_alg alg, const char *pin,
    const uint8_t *spki, size_t spki_len)
{
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
	size_t siglen = 0;
	int tries = -2, rc;

	assert_int_equal(mfa_challenge_new(chal, sizeof(chal)), 0);
	if ((rc = mfa_card_open(&card, &io, profile)) != 0)
		return rc;
	if ((rc = mfa_card_pin_tries(&card, &tries)) != 0)
		return rc;
	if (!mfa_card_tries_ok(tries, 2))
		return MFA_ERR_PIN_TRIES;
	if ((rc = mfa_card_verify_pin(&card, pin, strlen(pin), NULL)) != 0)
		return rc;
	if ((rc = mfa_card_sign_challenge(&card, alg, chal, sizeof(chal), sig, sizeof(sig),
	    &siglen)) != 0)
		return rc;
	assert_true(siglen <= sizeof(sig));
	return mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal), sig, siglen);
}

/* Read the certificate; 0 only when the bytes equal want. */
static int flow_read_cert(struct fake *f, uint8_t profile, const uint8_t *want, size_t wantlen)
{
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t *der = malloc(MFA_CERT_MAX);
	size_t len = 0;
	int rc;

	assert_non_null(der);
	if ((rc = mfa_card_open(&card, &io, profile)) == 0 &&
	    (rc = mfa_card_read_certificate(&card, der, MFA_CERT_MAX, &len)) == 0 &&
	    (len != wantlen || memcmp(der, want, len) != 0))
		rc = MFA_ERR_CORRUPT;
	free(der);
	return rc;
}

/* 53 { 70 cert 71 01 info FE 00 } with lengths in 82 form where needed. */
static size_t piv_object(const uint8_t *cert, size_t clen, uint8_t info, uint8_t *out,
    size_t cap)
{
	size_t inner = 4 + clen + 3 + 2, n = 0;

	assert_true(clen <= 0xFFFF && inner + 4 <= cap);
	out[n++] = 0x53; out[n++] = 0x82; out[n++] = (uint8_t)(inner >> 8); out[n++] = (uint8_t)inner;
	out[n++] = 0x70; out[n++] = 0x82; out[n++] = (uint8_t)(clen >> 8); out[n++] = (uint8_t)clen;
	memcpy(out + n, cert, clen);
	n += clen;
	out[n++] = 0x71; out[n++] = 0x01; out[n++] = info;
	out[n++] = 0xFE; out[n++] = 0x00;
	return n;
}

/* gzip with zlib (deflate + gzip wrapper) into a malloc'd buffer. */
static uint8_t *gzip(const uint8_t *in, size_t inlen, size_t *outlen)
{
	z_stream zs;
	size_t cap = inlen + 1024;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
	    Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* --- contract tests (doc/DESIGN.md §5, byte for byte) --------------------- */

static void test_jpki_login_contract(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], md[32], sig[MFA_SIG_MAX];
	char mdhex[32 * 3 + 1], sign_apdu[512];
	size_t siglen = 0;
	int tries = -2;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	fixed_challenge(chal);
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_card_profile(&card), MFA_CARD_JPKI);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 3);
	assert_true(mfa_card_tries_ok(tries, 2));
	assert_int_equal(mfa_card_verify_pin(&card, "1234", 4, NULL), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, sizeof(chal),
	    sig, sizeof(sig), &siglen), 0);
	assert_int_equal(siglen, 256);

	sha256(chal, sizeof(chal), md);
	hexstr(md, 32, mdhex);
	snprintf(sign_apdu, sizeof(sign_apdu), "80 2A 00 80 33 %s %s 00", DIGESTINFO_PREFIX, mdhex);
	{
		const char *want[] = { JPKI_SELECT_AP, JPKI_SELECT_PIN, VERIFY_QUERY,
			"00 20 00 80 04 31 32 33 34", JPKI_SELECT_KEY, sign_apdu };
		assert_apdus(f, 0, want, NELEM(want));
	}
	/* At most 6 APDUs from SELECT AP to the signature. */
	assert_int_equal(f->count, 6);
	assert_int_equal(card.apdus, 6);
	/* The fake card really signed: the enrolled key verifies it, another does not. */
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, siglen), 0);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_b, spki_rsa_b_len, chal, sizeof(chal),
	    sig, siglen), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	    sig, siglen), MFA_ERR_BADSIG);
	chal[0] ^= 1;
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, siglen), MFA_ERR_BADSIG);
	free(f);
}

static void test_jpki_read_cert_contract(void **state)
{
	struct fake *f = fake_new();
	char buf[64];
	const char *want[3] = { JPKI_SELECT_AP, JPKI_SELECT_CERT, "00 B0 00 00 04" };
	size_t off = 4, i = 3;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	assert_int_equal(flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len), 0);
	assert_apdus(f, 0, want, 3);
	/* then 00 B0 offH offL Le until LLLL + 4 bytes, Le 00 (256) but for the tail */
	while (off < cert_rsa_a_len) {
		size_t n = cert_rsa_a_len - off < 256 ? cert_rsa_a_len - off : 256;
		const char *p = buf;
		snprintf(buf, sizeof(buf), "00 B0 %02zX %02zX %02zX", off >> 8, off & 0xFF,
		    n == 256 ? (size_t)0 : n);
		assert_apdus(f, i++, &p, 1);
		off += n;
	}
	assert_int_equal(f->count, i);
	free(f);
}

static void test_jpki_short_reads(void **state)
{
	struct fake *f = fake_new();
	(void)state;

	/* A card answering with less than asked is followed, offset by offset. */
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	f->max_read = 100;
	assert_int_equal(flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len), 0);
	assert_true(f->count > 3 + cert_rsa_a_len / 100);
	free(f);
	/* ...but not forever: 1 byte per READ BINARY hits MFA_CARD_READS_MAX. */
	f = fake_new();
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	f->max_read = 1;
	assert_int_equal(flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len),
	    MFA_ERR_CARD);
	assert_int_equal(f->count, 3 + MFA_CARD_READS_MAX);
	free(f);
}

static void test_piv_ec_login_contract(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], md[32], sig[MFA_SIG_MAX];
	char mdhex[32 * 3 + 1], sign_apdu[256];
	size_t siglen = 0;
	int tries = -2;
	(void)state;

	fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
	fixed_challenge(chal);
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 3);
	assert_int_equal(mfa_card_verify_pin(&card, "123456", 6, NULL), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, sizeof(chal),
	    sig, sizeof(sig), &siglen), 0);
	sha256(chal, sizeof(chal), md);
	hexstr(md, 32, mdhex);
	snprintf(sign_apdu, sizeof(sign_apdu), "00 87 11 9A 26 7C 24 82 00 81 20 %s 00", mdhex);
	{
		const char *want[] = { PIV_SELECT, VERIFY_QUERY,
			"00 20 00 80 08 31 32 33 34 35 36 FF FF", sign_apdu };
		assert_apdus(f, 0, want, NELEM(want));
	}
	assert_int_equal(f->count, 4);
	assert_true(siglen >= 8 && siglen <= 72);
	assert_int_equal(sig[0], 0x30);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	    sig, siglen), 0);
	assert_int_equal(mfa_card_verify_signature(spki_ec_b, spki_ec_b_len, chal, sizeof(chal),
	    sig, siglen), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, siglen), MFA_ERR_BADSIG);
	free(f);
}

static void test_piv_rsa_login_contract(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], md[32], sig[MFA_SIG_MAX], block[266];
	char first[5 * 3 + 255 * 3 + 1], second[5 * 3 + 11 * 3 + 4];
	size_t siglen = 0, n = 0;
	(void)state;

	fake_emulate(f, MFA_CARD_PIV, rsa_a, NULL, 0, "12345678");
	fixed_challenge(chal);
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_verify_pin(&card, "12345678", 8, NULL), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, sizeof(chal),
	    sig, sizeof(sig), &siglen), 0);
	assert_int_equal(siglen, 256);

	/* 7C 82 01 06 82 00 81 82 01 00 <00 01 FF*202 00 DigestInfo hash> */
	n = unhex("7C 82 01 06 82 00 81 82 01 00 00 01", block, sizeof(block));
	memset(block + n, 0xFF, 202);
	n += 202;
	block[n++] = 0x00;
	n += unhex(DIGESTINFO_PREFIX, block + n, sizeof(block) - n);
	sha256(chal, sizeof(chal), md);
	memcpy(block + n, md, 32);
	n += 32;
	assert_int_equal(n, 266);
	memcpy(first, "10 87 07 9A FF ", 15);
	hexstr(block, 255, first + 15);
	memcpy(second, "00 87 07 9A 0B ", 15);
	hexstr(block + 255, 11, second + 15);
	strcat(second, " 00");
	{
		const char *want[] = { PIV_SELECT, "00 20 00 80 08 31 32 33 34 35 36 37 38",
			first, second, "00 C0 00 00 08" };
		assert_apdus(f, 0, want, NELEM(want));
	}
	/* select, verify, two chained commands, one GET RESPONSE (+ tries = 6 in a login) */
	assert_int_equal(f->count, 5);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, siglen), 0);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_b, spki_rsa_b_len, chal, sizeof(chal),
	    sig, siglen), MFA_ERR_BADSIG);
	free(f);
}

static void test_login_apdu_counts(void **state)
{
	static const struct {
		uint8_t profile;
		enum mfa_card_alg alg;
		const char *pin;
		size_t apdus;
	} cases[] = {
		{ MFA_CARD_JPKI, MFA_CARD_ALG_RSA2048, "1234", 6 },
		{ MFA_CARD_PIV, MFA_CARD_ALG_P256, "123456", 4 },
		{ MFA_CARD_PIV, MFA_CARD_ALG_RSA2048, "123456", 6 },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fake *f = fake_new();
		bool ec = cases[i].alg == MFA_CARD_ALG_P256;

		fake_emulate(f, cases[i].profile, ec ? ec_a : rsa_a, NULL, 0, cases[i].pin);
		assert_int_equal(flow_login(f, cases[i].profile, cases[i].alg, cases[i].pin,
		    ec ? spki_ec_a : spki_rsa_a, ec ? spki_ec_a_len : spki_rsa_a_len), 0);
		assert_int_equal(f->count, cases[i].apdus);
		free(f);
		/* same card, another enrolled key: the login fails on the host */
		f = fake_new();
		fake_emulate(f, cases[i].profile, ec ? ec_a : rsa_a, NULL, 0, cases[i].pin);
		assert_int_equal(flow_login(f, cases[i].profile, cases[i].alg, cases[i].pin,
		    ec ? spki_ec_b : spki_rsa_b, ec ? spki_ec_b_len : spki_rsa_b_len),
		    MFA_ERR_BADSIG);
		free(f);
	}
}

static void test_piv_read_cert_contract(void **state)
{
	uint8_t *obj = malloc(MFA_CERT_MAX + 64), *gz;
	size_t objlen, gzlen, rounds;
	(void)state;

	assert_non_null(obj);
	for (int compressed = 0; compressed <= 1; compressed++) {
		struct fake *f = fake_new();
		const char *want[] = { PIV_SELECT, PIV_GET_CERT };

		if (compressed) {
			gz = gzip(cert_ec_a, cert_ec_a_len, &gzlen);
			objlen = piv_object(gz, gzlen, 0x01, obj, MFA_CERT_MAX + 64);
			free(gz);
		} else {
			objlen = piv_object(cert_ec_a, cert_ec_a_len, 0x00, obj, MFA_CERT_MAX + 64);
		}
		fake_emulate(f, MFA_CARD_PIV, ec_a, obj, objlen, "123456");
		assert_int_equal(flow_read_cert(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len), 0);
		assert_apdus(f, 0, want, NELEM(want));
		rounds = (objlen + 255) / 256 - 1;
		assert_int_equal(f->count, 2 + rounds);
		for (size_t i = 0; i < rounds; i++)
			assert_memory_equal(f->log[2 + i], "\x00\xC0\x00\x00", 4);
		free(f);
	}
	/* An RSA certificate needs GET RESPONSE rounds too. */
	{
		struct fake *f = fake_new();
		objlen = piv_object(cert_rsa_a, cert_rsa_a_len, 0x00, obj, MFA_CERT_MAX + 64);
		fake_emulate(f, MFA_CARD_PIV, rsa_a, obj, objlen, "123456");
		assert_int_equal(flow_read_cert(f, MFA_CARD_PIV, cert_rsa_a, cert_rsa_a_len), 0);
		assert_true(f->count >= 4);
		free(f);
	}
	free(obj);
}

/* --- PINs ---------------------------------------------------------------- */

static void test_pin_refused_without_transmit(void **state)
{
	static const struct {
		uint8_t profile;
		const char *pin;
		size_t len;
	} cases[] = {
		{ MFA_CARD_JPKI, "", 0 },
		{ MFA_CARD_JPKI, "1234", 0 },           /* a length of 0 whatever the buffer */
		{ MFA_CARD_JPKI, "123", 3 },
		{ MFA_CARD_JPKI, "12345", 5 },
		{ MFA_CARD_JPKI, "12a4", 4 },
		{ MFA_CARD_JPKI, "12 4", 4 },
		{ MFA_CARD_JPKI, "-123", 4 },
		{ MFA_CARD_JPKI, "\xef\xbc\x91\x32", 4 }, /* a full-width digit's bytes */
		{ MFA_CARD_JPKI, "12\0" "4", 4 },
		{ MFA_CARD_PIV, "", 0 },
		{ MFA_CARD_PIV, "12345", 5 },
		{ MFA_CARD_PIV, "123456789", 9 },
		{ MFA_CARD_PIV, "12345\xff", 6 },
		{ MFA_CARD_PIV, "123 56", 6 },
		{ MFA_CARD_PIV, "1234567\n", 8 },
		{ MFA_CARD_PIV, "123\0" "56", 6 },
		/* SP 800-73-4: digits only (a card enforcing it answers 6A80) */
		{ MFA_CARD_PIV, "12345a", 6 },
		{ MFA_CARD_PIV, "abcdefgh", 8 },
		{ MFA_CARD_PIV, "1234567!", 8 },
		{ MFA_CARD_PIV, "\xef\xbc\x91\x32\x33\x34", 6 },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		size_t before;
		int tries = 77;

		fake_emulate(f, cases[i].profile, rsa_a, NULL, 0, "1234");
		assert_int_equal(mfa_card_open(&card, &io, cases[i].profile), 0);
		before = f->count;
		if (mfa_card_verify_pin(&card, cases[i].pin, cases[i].len, &tries) !=
		    MFA_ERR_PIN_FORMAT)
			fail_msg("case %zu: PIN not refused", i);
		assert_int_equal(f->count, before);
		assert_int_equal(tries, 77);
		assert_int_equal(f->tries, 3);
		free(f);
	}
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_verify_pin(&card, NULL, 6, NULL), MFA_ERR_INVAL);
		assert_int_equal(f->count, 1);
		free(f);
	}
}

static void test_pin_apdu_wiped(void **state)
{
	static const struct {
		uint8_t profile;
		const char *pin;
	} cases[] = { { MFA_CARD_JPKI, "1234" }, { MFA_CARD_PIV, "123456" },
		{ MFA_CARD_JPKI, "9999" }, { MFA_CARD_PIV, "654321" } };
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		size_t at;

		fake_emulate(f, cases[i].profile, rsa_a, NULL, 0, i < 2 ? cases[i].pin : "0000");
		assert_int_equal(mfa_card_open(&card, &io, cases[i].profile), 0);
		wipe_count = 0;
		wipe_recording = true;
		(void)mfa_card_verify_pin(&card, cases[i].pin, strlen(cases[i].pin), NULL);
		wipe_recording = false;
		at = f->count - 1;
		assert_int_equal(f->log[at][1], 0x20);
		assert_true(f->loglen[at] > 5);
		/* the buffer the PIN was handed over in is wiped, wrong PIN or right */
		if (!wiped(f->logptr[at], f->loglen[at]))
			fail_msg("case %zu: VERIFY APDU not wiped", i);
		free(f);
	}
}

static void test_wrong_pin_and_block(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	int tries = -2;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, NULL, 0, "1234");
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_card_verify_pin(&card, "9999", 4, &tries), MFA_ERR_BADPIN);
	assert_int_equal(tries, 2);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 2);
	assert_true(mfa_card_tries_ok(tries, 2));
	assert_int_equal(mfa_card_verify_pin(&card, "9998", 4, &tries), MFA_ERR_BADPIN);
	assert_int_equal(tries, 1);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, 1);
	/* the module's guard would stop here; the card layer itself still obeys */
	assert_false(mfa_card_tries_ok(tries, 2));
	assert_int_equal(mfa_card_verify_pin(&card, "9997", 4, &tries), MFA_ERR_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(mfa_card_pin_tries(&card, &tries), 0);
	assert_int_equal(tries, MFA_CARD_TRIES_BLOCKED);
	assert_int_equal(mfa_card_verify_pin(&card, "1234", 4, &tries), MFA_ERR_PIN_BLOCKED);
	/* the EF was selected once: SELECT AP, SELECT PIN EF, then 7 VERIFYs */
	assert_int_equal(f->count, 2 + 7);
	free(f);
}

static void test_tries_ok(void **state)
{
	(void)state;
	assert_false(mfa_card_tries_ok(1, 2));
	assert_true(mfa_card_tries_ok(2, 2));
	assert_true(mfa_card_tries_ok(3, 2));
	assert_true(mfa_card_tries_ok(15, 15));
	assert_false(mfa_card_tries_ok(14, 15));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_BLOCKED, 0));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_BLOCKED, 2));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_VERIFIED, 0));
	assert_false(mfa_card_tries_ok(MFA_CARD_TRIES_VERIFIED, 2));
	assert_true(mfa_card_tries_ok(1, 0));
}

/* Tries query over every status-word path (JPKI script). */
static void test_tries_status_words(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		int tries;
	} cases[] = {
		{ "63 C1", 0, 1 },              /* with card_min_tries = 2: not ok */
		{ "63 C3", 0, 3 },
		{ "63 C0", 0, MFA_CARD_TRIES_BLOCKED },
		{ "69 83", 0, MFA_CARD_TRIES_BLOCKED },
		{ "90 00", 0, MFA_CARD_TRIES_VERIFIED },
		/* not understood, no PIN sent: a failure that does not count */
		{ "69 82", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "6A 82", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "67 00", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "63 00", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "63 02", MFA_ERR_TRIES_UNKNOWN, 0 },  /* JPKI: no 63 0X quirk */
		{ "6A 88", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "6C 04", MFA_ERR_CARD, 0 },   /* no Le in the query: never re-sent */
		{ "", MFA_ERR_CARD, 0 },
		{ "63", MFA_ERR_CARD, 0 },
		{ "01 63 C3", MFA_ERR_CARD, 0 }, /* data where none may come */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" },
			{ JPKI_SELECT_PIN, "90 00" },
			{ VERIFY_QUERY, cases[i].resp },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 99, rc;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		rc = mfa_card_pin_tries(&card, &tries);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].resp, rc,
			    cases[i].rc);
		if (rc == 0)
			assert_int_equal(tries, cases[i].tries);
		assert_false(f->mismatch);
		assert_int_equal(f->count, 3);
		free(f);
	}
}

/* VERIFY over every status-word path (PIV script). */
static void test_verify_status_words(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		int tries;
	} cases[] = {
		{ "90 00", 0, 99 },
		{ "63 C2", MFA_ERR_BADPIN, 2 },
		{ "63 C1", MFA_ERR_BADPIN, 1 },
		{ "63 C0", MFA_ERR_PIN_BLOCKED, 0 },
		{ "69 83", MFA_ERR_PIN_BLOCKED, 0 },
		{ "69 82", MFA_ERR_CARD, 99 },
		{ "69 84", MFA_ERR_CARD, 99 },
		{ "6A 82", MFA_ERR_CARD, 99 },
		{ "67 00", MFA_ERR_CARD, 99 },
		{ "63 00", MFA_ERR_CARD, 99 },
		{ "6C 08", MFA_ERR_CARD, 99 },
		{ "", MFA_ERR_CARD, 99 },
		{ "90", MFA_ERR_CARD, 99 },
		{ "00 90 00", MFA_ERR_CARD, 99 },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct step script[] = {
			{ PIV_SELECT, "90 00" },
			{ "00 20 00 80 08 31 32 33 34 35 36 FF FF", cases[i].resp },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 99, rc;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		rc = mfa_card_verify_pin(&card, "123456", 6, &tries);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].resp, rc,
			    cases[i].rc);
		assert_int_equal(tries, cases[i].tries);
		assert_false(f->mismatch);
		/* a VERIFY carrying a PIN is sent exactly once, whatever comes back */
		assert_int_equal(f->count, 2);
		free(f);
	}
}

/* JPKI SIGN over status words and malformed responses (script). */
static void test_sign_status_words(void **state)
{
	static const struct {
		const char *resp;
		size_t data;            /* bytes of signature before the SW */
		int rc;
	} cases[] = {
		{ "90 00", 256, 0 },
		{ "90 00", 0, MFA_ERR_CARD },
		{ "90 00", 255, MFA_ERR_CARD },
		{ "90 00", 128, MFA_ERR_CARD },
		{ "69 82", 0, MFA_ERR_PIN_REQUIRED },
		{ "6A 80", 0, MFA_ERR_CARD },
		{ "6A 82", 0, MFA_ERR_CARD },
		{ "63 C2", 0, MFA_ERR_CARD },
		{ "69 83", 0, MFA_ERR_CARD },
		{ "67 00", 0, MFA_ERR_CARD },
		{ "", 0, MFA_ERR_CARD },
		{ "90", 0, MFA_ERR_CARD },
		{ "90 00", 257, MFA_ERR_CARD },     /* more than Le: the transport refuses */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		char resp[2 * 3 * 300];
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" },
			{ JPKI_SELECT_KEY, "90 00" },
			{ NULL, resp },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
		size_t siglen = 0, n = 0;
		int rc;

		for (size_t b = 0; b < cases[i].data; b++)
			n += (size_t)sprintf(resp + n, "AB ");
		snprintf(resp + n, sizeof(resp) - n, "%s", cases[i].resp);
		f->script = script;
		f->nscript = NELEM(script);
		fixed_challenge(chal);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		rc = mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, sizeof(chal), sig,
		    sizeof(sig), &siglen);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
		assert_false(f->mismatch);
		free(f);
	}
}

static void test_endless_61xx(void **state)
{
	static const char *const resps[] = {
		"61 00",                /* SW only, forever */
		"61 10",
		NULL,                   /* 256 bytes + 61 00, forever: the size bound stops it */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(resps); i++) {
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t *der = malloc(MFA_CERT_MAX);
		size_t len;

		assert_non_null(der);
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		if (resps[i] != NULL) {
			fake_fault(f, 1, resps[i], true);
		} else {
			char *big = malloc(256 * 3 + 8);
			size_t n = 0;
			assert_non_null(big);
			for (size_t b = 0; b < 256; b++)
				n += (size_t)sprintf(big + n, "30 ");
			strcpy(big + n, "61 00");
			fake_fault(f, 1, big, true);
			free(big);
		}
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_read_certificate(&card, der, MFA_CERT_MAX, &len),
		    MFA_ERR_CARD);
		/* GET DATA plus at most MFA_CARD_MORE_MAX GET RESPONSEs */
		assert_true(f->count <= 1 + 1 + MFA_CARD_MORE_MAX);
		if (resps[i] != NULL && strcmp(resps[i], "61 00") == 0)
			assert_int_equal(f->count, 1 + 1 + MFA_CARD_MORE_MAX);
		assert_memory_equal(f->log[2], "\x00\xC0\x00\x00", 4);
		free(der);
		free(f);
	}
}

static void test_6Cxx_reissue(void **state)
{
	(void)state;
	/* PIV SELECT carries Le: 6C12 re-issues it once with Le 12 */
	{
		struct step script[] = {
			{ PIV_SELECT, "6C 12" },
			{ "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 12", "4F 06 00 00 10 00 01 00 90 00" },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_false(f->mismatch);
		assert_int_equal(f->count, 2);
		free(f);
	}
	/* 6C again, or 6C with data: refused */
	{
		static const char *const second[] = { "6C 12", "6C 10" };
		for (size_t i = 0; i < NELEM(second); i++) {
			struct step script[] = { { PIV_SELECT, "6C 12" }, { NULL, second[i] } };
			struct fake *f = fake_new();
			struct mfa_card_io io = fake_io(f);
			struct mfa_card card;

			f->script = script;
			f->nscript = NELEM(script);
			assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_CARD);
			assert_int_equal(f->count, 2);
			free(f);
		}
	}
	{
		struct step script[] = { { PIV_SELECT, "AA 6C 12" } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_CARD);
		assert_int_equal(f->count, 1);
		free(f);
	}
}

static void test_6Cxx_jpki(void **state)
{
	(void)state;
	/* JPKI SELECT AP has no Le: 6Cxx is an error, not a re-send */
	{
		struct step script[] = { { JPKI_SELECT_AP, "6C 00" } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_CARD);
		assert_int_equal(f->count, 1);
		free(f);
	}
	/* JPKI READ BINARY: 6C02 -> re-read with Le 2 -> too short a header */
	{
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" }, { JPKI_SELECT_CERT, "90 00" },
			{ "00 B0 00 00 04", "6C 02" }, { "00 B0 00 00 02", "30 82 90 00" },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t der[64];
		size_t len;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		assert_int_equal(mfa_card_read_certificate(&card, der, sizeof(der), &len),
		    MFA_ERR_CERT);
		assert_false(f->mismatch);
		assert_int_equal(f->count, 4);
		free(f);
	}
}

static void test_jpki_cert_header(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		size_t count;           /* APDUs sent in all */
	} cases[] = {
		{ "30 82 FF FF 90 00", MFA_ERR_CERT, 3 },      /* 64 KiB promised */
		{ "30 82 1F FD 90 00", MFA_ERR_CERT, 3 },      /* 8193 bytes */
		{ "30 83 00 01 90 00", MFA_ERR_CERT, 3 },
		{ "31 82 01 00 90 00", MFA_ERR_CERT, 3 },
		{ "30 81 80 30 90 00", MFA_ERR_CERT, 3 },
		{ "30 82 01 90 00", MFA_ERR_CERT, 3 },         /* 3 of 4 bytes */
		{ "30 82 01 00 00 90 00", MFA_ERR_CARD, 3 },   /* 5 of 4 bytes */
		{ "90 00", MFA_ERR_CARD, 3 },
		{ "", MFA_ERR_CARD, 3 },
		{ "30", MFA_ERR_CARD, 3 },
		{ "6A 82", MFA_ERR_CARD, 3 },
		{ "6B 00", MFA_ERR_CARD, 3 },
		{ "30 82 1F FC 90 00", MFA_ERR_CARD, 4 },      /* 8192: allowed, then the card dies */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct step script[] = {
			{ JPKI_SELECT_AP, "90 00" },
			{ JPKI_SELECT_CERT, "90 00" },
			{ "00 B0 00 00 04", cases[i].resp },
			{ "00 B0 00 04 00", "6F 00" },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t *der = malloc(MFA_CERT_MAX);
		size_t len = 0;
		int rc;

		assert_non_null(der);
		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		rc = mfa_card_read_certificate(&card, der, MFA_CERT_MAX, &len);
		if (rc != cases[i].rc || f->count != cases[i].count)
			fail_msg("case %zu (%s): rc %d after %zu APDUs", i, cases[i].resp, rc,
			    f->count);
		assert_false(f->mismatch);
		free(der);
		free(f);
	}
	/* a buffer too small for an honest certificate: MFA_ERR_RANGE, nothing read */
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t der[100];
		size_t len;

		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		assert_int_equal(mfa_card_read_certificate(&card, der, sizeof(der), &len),
		    MFA_ERR_RANGE);
		assert_int_equal(f->count, 3);
		free(f);
	}
}

static void test_piv_sign_response_malformed(void **state)
{
	static const struct {
		const char *resp;
		int rc;
	} cases[] = {
		{ "7C 0A 82 08 30 06 02 01 01 02 01 01 90 00", 0 },     /* well-formed, 8 bytes */
		{ "7D 0A 82 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* wrong outer tag */
		{ "7C 0A 83 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* 83 for 82 */
		{ "7C 0A 82 08 30 06 02 01 01 02 01 01 00 90 00", MFA_ERR_CARD }, /* trailing byte */
		{ "7C 0B 82 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* outer too long */
		{ "7C 0A 82 09 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },  /* inner too long */
		{ "7C 02 82 00 90 00", MFA_ERR_CARD },                          /* empty signature */
		{ "7C 05 82 03 30 01 00 90 00", MFA_ERR_CARD },                 /* too short */
		{ "7C 80 82 08 30 06 02 01 01 02 01 01 00 00 90 00", MFA_ERR_CARD }, /* indefinite */
		{ "7C 84 00 00 00 0A 82 08 30 06 02 01 01 02 01 01 90 00", MFA_ERR_CARD },
		{ "90 00", MFA_ERR_CARD },
		{ "69 82", MFA_ERR_PIN_REQUIRED },
		{ "6A 80", MFA_ERR_CARD },
		{ "", MFA_ERR_CARD },
		{ "7C", MFA_ERR_CARD },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct step script[] = { { PIV_SELECT, "90 00" }, { NULL, cases[i].resp } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
		size_t siglen = 0;
		int rc;

		f->script = script;
		f->nscript = NELEM(script);
		fixed_challenge(chal);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		rc = mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, sizeof(chal), sig,
		    sizeof(sig), &siglen);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].resp, rc,
			    cases[i].rc);
		if (rc == 0)
			assert_int_equal(siglen, 8);
		free(f);
	}
	/* An EC-sized signature where RSA was asked for: refused. */
	{
		struct step script[] = { { PIV_SELECT, "90 00" }, { NULL, "90 00" },
			{ NULL, "7C 0A 82 08 30 06 02 01 01 02 01 01 90 00" } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
		size_t siglen = 0;

		f->script = script;
		f->nscript = NELEM(script);
		fixed_challenge(chal);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal,
		    sizeof(chal), sig, sizeof(sig), &siglen), MFA_ERR_CARD);
		free(f);
	}
}

static void test_sign_args_and_state(void **state)
{
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card, closed;
	uint8_t chal[MFA_CHALLENGE_MAX + 1] = { 0 }, sig[MFA_SIG_MAX];
	size_t siglen, before;
	int tries;
	(void)state;

	fake_emulate(f, MFA_CARD_JPKI, rsa_a, NULL, 0, "1234");
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	before = f->count;
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, 31, sig,
	    sizeof(sig), &siglen), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal,
	    MFA_CHALLENGE_MAX + 1, sig, sizeof(sig), &siglen), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, 32, sig,
	    sizeof(sig), &siglen), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, 32, sig,
	    100, &siglen), MFA_ERR_RANGE);
	assert_int_equal(f->count, before);
	/* no VERIFY yet: the card refuses to sign (6982) */
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_RSA2048, chal, 32, sig,
	    sizeof(sig), &siglen), MFA_ERR_PIN_REQUIRED);
	/* a card that was never opened does nothing */
	memset(&closed, 0, sizeof(closed));
	assert_int_equal(mfa_card_pin_tries(&closed, &tries), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_verify_pin(&closed, "1234", 4, NULL), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_sign_challenge(&closed, MFA_CARD_ALG_RSA2048, chal, 32, sig,
	    sizeof(sig), &siglen), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_read_certificate(&closed, sig, sizeof(sig), &siglen),
	    MFA_ERR_INVAL);
	assert_int_equal(mfa_card_profile(&closed), 0);
	free(f);

	/* PIV without VERIFY */
	f = fake_new();
	io = fake_io(f);
	fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_P256, chal, 32, sig,
	    sizeof(sig), &siglen), MFA_ERR_PIN_REQUIRED);
	assert_int_equal(mfa_card_sign_challenge(&card, MFA_CARD_ALG_NONE, chal, 32, sig,
	    sizeof(sig), &siglen), MFA_ERR_KEYTYPE);
	free(f);
}

static int failing_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp,
    size_t *resplen)
{
	(void)apdu; (void)len; (void)resp; (void)resplen;
	return *(int *)ctx;
}

static void test_open_errors(void **state)
{
	struct mfa_card card;
	struct mfa_card_io io;
	int err;
	(void)state;

	/* a PIV card asked for JPKI: not this profile */
	{
		struct step script[] = { { JPKI_SELECT_AP, "6A 82" } };
		struct fake *f = fake_new();
		io = fake_io(f);
		f->script = script;
		f->nscript = 1;
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_NOAPP);
		assert_int_equal(mfa_card_profile(&card), 0);
		free(f);
	}
	{
		struct fake *f = fake_new();
		io = fake_io(f);
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_NOAPP);
		assert_int_equal(mfa_card_open(&card, &io, 9), MFA_ERR_INVAL);
		assert_int_equal(mfa_card_open(&card, &io, 0), MFA_ERR_INVAL);
		free(f);
	}
	/* transport errors come through as they are; a positive one is a card error */
	io.transmit = failing_transmit;
	io.ctx = &err;
	err = MFA_ERR_NOCARD;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_NOCARD);
	err = 5;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_CARD);
	io.transmit = NULL;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), MFA_ERR_INVAL);
	assert_int_equal(mfa_card_open(&card, NULL, MFA_CARD_JPKI), MFA_ERR_INVAL);
	/* a transport claiming more bytes than the buffer holds */
	{
		struct fake *f = fake_new();
		io = fake_io(f);
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		f->lie_len = true;
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), MFA_ERR_CARD);
		free(f);
	}
}

/*
 * Every step of every flow, broken in every way: the flow must fail (never
 * a login or a certificate), and the number of APDUs stays bounded.
 */
enum flow_kind { F_JPKI_LOGIN, F_PIV_EC_LOGIN, F_PIV_RSA_LOGIN, F_JPKI_CERT, F_PIV_CERT };

static int run_flow(struct fake *f, enum flow_kind k, const uint8_t *obj, size_t objlen)
{
	switch (k) {
	case F_JPKI_LOGIN:
		fake_emulate(f, MFA_CARD_JPKI, rsa_a, NULL, 0, "1234");
		return flow_login(f, MFA_CARD_JPKI, MFA_CARD_ALG_RSA2048, "1234", spki_rsa_a,
		    spki_rsa_a_len);
	case F_PIV_EC_LOGIN:
		fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
		return flow_login(f, MFA_CARD_PIV, MFA_CARD_ALG_P256, "123456", spki_ec_a,
		    spki_ec_a_len);
	case F_PIV_RSA_LOGIN:
		fake_emulate(f, MFA_CARD_PIV, rsa_a, NULL, 0, "123456");
		return flow_login(f, MFA_CARD_PIV, MFA_CARD_ALG_RSA2048, "123456", spki_rsa_a,
		    spki_rsa_a_len);
	case F_JPKI_CERT:
		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		return flow_read_cert(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len);
	case F_PIV_CERT:
		fake_emulate(f, MFA_CARD_PIV, rsa_a, obj, objlen, "1234");
		return flow_read_cert(f, MFA_CARD_PIV, cert_rsa_a, cert_rsa_a_len);
	}
	return -1;
}

static void test_faults_at_every_step(void **state)
{
	static const struct {
		const char *resp;
		bool sticky;
		bool data_steps_only;   /* an SW-only 9000 is a fine answer to SELECT/VERIFY */
	} faults[] = {
		{ "", false, false },           /* nothing at all */
		{ "90", false, false },         /* 1 byte */
		{ "6F 00", false, false },      /* an error SW */
		{ "61 00", true, false },       /* endless 61xx */
		{ "61 01", true, false },
		{ "90 00", false, true },       /* SW only where data is needed */
		{ "00 90 00", false, true },    /* too little data (the byte: see below) */
	};
	uint8_t *obj = malloc(MFA_CERT_MAX + 64);
	size_t objlen;
	(void)state;

	assert_non_null(obj);
	objlen = piv_object(cert_rsa_a, cert_rsa_a_len, 0x00, obj, MFA_CERT_MAX + 64);
	for (int k = F_JPKI_LOGIN; k <= F_PIV_CERT; k++) {
		struct fake *clean = fake_new();
		size_t steps;

		assert_int_equal(run_flow(clean, (enum flow_kind)k, obj, objlen), 0);
		steps = clean->count;
		for (size_t at = 0; at < steps; at++) {
			for (size_t i = 0; i < NELEM(faults); i++) {
				struct fake *f;
				int rc;

				if (faults[i].data_steps_only &&
				    (clean->resplen[at] <= 2 || clean->log[at][1] == 0xA4))
					continue;
				f = fake_new();
				fake_fault(f, at, faults[i].resp, faults[i].sticky);
				/*
				 * One data byte where more were due: not the byte the card
				 * would have sent, or a short read that a reader rightly
				 * continues would be no fault at all (the test keys and
				 * certificates are made afresh each run: 1 in 256).
				 */
				if (f->fault_len == 3)
					f->fault[0] = (uint8_t)~clean->resp0[at];
				rc = run_flow(f, (enum flow_kind)k, obj, objlen);
				if (rc == 0)
					fail_msg("flow %d succeeded with '%s' at step %zu", k,
					    faults[i].resp, at);
				if (f->count > steps + MFA_CARD_MORE_MAX + 1)
					fail_msg("flow %d: %zu APDUs with '%s' at step %zu", k,
					    f->count, faults[i].resp, at);
				free(f);
			}
		}
		free(clean);
	}
	free(obj);
}

/* --- PIV certificate objects and gzip ------------------------------------- */

static void test_piv_container(void **state)
{
	static const struct {
		const char *hex;
		int rc;
		size_t len;
	} cases[] = {
		{ "53 09 70 02 AA BB 71 01 00 FE 00", 0, 2 },
		{ "53 04 70 02 AA BB", 0, 2 },                          /* no CertInfo: plain */
		{ "53 0D 70 02 AA BB 71 01 00 72 02 01 02 FE 00", 0, 2 }, /* MSCUID ignored */
		{ "53 81 09 70 02 AA BB 71 01 00 FE 00", 0, 2 },
		{ "53 82 00 09 70 81 02 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 }, /* 53 len wrong */
		{ "53 0A 70 81 02 AA BB 71 01 00 FE 00", 0, 2 },
		{ "54 09 70 02 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* wrong outer tag */
		{ "53 09 70 02 AA BB 71 01 00 FE 00 00", MFA_ERR_CERT, 0 }, /* trailing byte */
		{ "53 05 71 01 00 FE 00", MFA_ERR_CERT, 0 },            /* no certificate */
		{ "53 07 70 00 71 01 00 FE 00", MFA_ERR_CERT, 0 },      /* empty certificate */
		{ "53 0D 70 02 AA BB 70 02 CC DD 71 01 00 FE 00", MFA_ERR_CERT, 0 }, /* 70 twice */
		{ "53 0C 70 02 AA BB 71 01 00 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* 71 twice */
		{ "53 0B 70 02 AA BB 71 01 00 FE 00 FE 00", MFA_ERR_CERT, 0 },     /* FE twice */
		{ "53 0C 70 02 AA BB 73 01 00 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* unknown tag */
		{ "53 09 30 02 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* 30 for 70 */
		{ "53 09 70 02 AA BB 71 01 02 FE 00", MFA_ERR_CERT, 0 },  /* CertInfo 02 */
		{ "53 09 70 02 AA BB 71 01 FF FE 00", MFA_ERR_CERT, 0 },
		{ "53 0A 70 02 AA BB 71 02 00 00 FE 00", MFA_ERR_CERT, 0 }, /* CertInfo length 2 */
		{ "53 08 70 02 AA BB 71 00 FE 00", MFA_ERR_CERT, 0 },     /* CertInfo empty */
		{ "53 09 70 08 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* 70 runs past */
		{ "53 09 70 80 AA BB 71 01 00 FE 00", MFA_ERR_CERT, 0 },  /* indefinite */
		{ "53 0B 70 83 00 00 02 AA BB FE 00", MFA_ERR_CERT, 0 },  /* 83 form */
		{ "53 82 FF FF 70 02 AA BB", MFA_ERR_CERT, 0 },           /* 53 promises 64 KiB */
		{ "53 09 70 02 AA BB 71 01 01 FE 00", MFA_ERR_CERT, 0 },  /* "gzip", not gzip */
		{ "53", MFA_ERR_CERT, 0 },
		{ "", MFA_ERR_CERT, 0 },
	};
	uint8_t der[64];
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t obj[64];
		size_t n = unhex(cases[i].hex, obj, sizeof(obj)), len = 0;
		int rc = mfa_piv_cert_unwrap(obj, n, der, sizeof(der), &len);

		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].hex, rc,
			    cases[i].rc);
		if (rc == 0) {
			assert_int_equal(len, cases[i].len);
			assert_int_equal(der[0], 0xAA);
		}
	}
	/* A certificate that does not fit the caller's buffer. */
	{
		uint8_t obj[64];
		size_t n = unhex("53 09 70 02 AA BB 71 01 00 FE 00", obj, sizeof(obj)), len;
		assert_int_equal(mfa_piv_cert_unwrap(obj, n, der, 1, &len), MFA_ERR_RANGE);
	}
}

static void test_piv_gzip(void **state)
{
	size_t sizes[] = { MFA_CERT_MAX, MFA_CERT_MAX + 1, 1u << 20 };
	uint8_t *obj = malloc(1u << 16), *der = malloc(MFA_CERT_MAX);
	size_t objlen, len, gzlen;
	uint8_t *gz;
	(void)state;

	assert_non_null(obj);
	assert_non_null(der);
	/* a real certificate round-trips */
	gz = gzip(cert_rsa_a, cert_rsa_a_len, &gzlen);
	objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len), 0);
	assert_int_equal(len, cert_rsa_a_len);
	assert_memory_equal(der, cert_rsa_a, len);
	/* cut short, or followed by garbage: refused */
	objlen = piv_object(gz, gzlen - 5, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len), MFA_ERR_CERT);
	{
		uint8_t *tail = malloc(gzlen + 3);
		assert_non_null(tail);
		memcpy(tail, gz, gzlen);
		memcpy(tail + gzlen, "\x1f\x8b\x00", 3);
		objlen = piv_object(tail, gzlen + 3, 0x01, obj, 1u << 16);
		assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len),
		    MFA_ERR_CERT);
		free(tail);
	}
	/* plain bytes flagged as gzip */
	objlen = piv_object(cert_rsa_a, cert_rsa_a_len, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len), MFA_ERR_CERT);
	/* fits in the caller's buffer or not */
	objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
	assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, cert_rsa_a_len - 1, &len),
	    MFA_ERR_RANGE);
	free(gz);
	/* exactly MFA_CERT_MAX inflates; one more byte, or a 1 MiB bomb, does not */
	for (size_t i = 0; i < NELEM(sizes); i++) {
		uint8_t *zeros = calloc(1, sizes[i]);
		assert_non_null(zeros);
		gz = gzip(zeros, sizes[i], &gzlen);
		assert_true(gzlen < 2048);      /* it is a bomb: tiny in, huge out */
		objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
		assert_int_equal(mfa_piv_cert_unwrap(obj, objlen, der, MFA_CERT_MAX, &len),
		    i == 0 ? 0 : MFA_ERR_CERT);
		if (i == 0)
			assert_int_equal(len, MFA_CERT_MAX);
		free(gz);
		free(zeros);
	}
	free(obj);
	free(der);
}

static void test_piv_gzip_bomb_via_card(void **state)
{
	uint8_t *zeros = calloc(1, 1u << 20), *gz, *obj = malloc(1u << 16);
	size_t gzlen, objlen;
	struct fake *f = fake_new();
	(void)state;

	assert_non_null(zeros);
	assert_non_null(obj);
	gz = gzip(zeros, 1u << 20, &gzlen);
	objlen = piv_object(gz, gzlen, 0x01, obj, 1u << 16);
	fake_emulate(f, MFA_CARD_PIV, ec_a, obj, objlen, "123456");
	assert_int_equal(flow_read_cert(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len), MFA_ERR_CERT);
	free(f);
	free(gz);
	free(zeros);
	free(obj);
}

/* --- card_cert.c ---------------------------------------------------------- */

static void test_challenge(void **state)
{
	uint8_t a[MFA_CHALLENGE_LEN], b[MFA_CHALLENGE_LEN], big[MFA_CHALLENGE_MAX];
	(void)state;

	assert_int_equal(mfa_challenge_new(a, sizeof(a)), 0);
	assert_int_equal(mfa_challenge_new(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(mfa_challenge_new(big, sizeof(big)), 0);
	assert_int_equal(mfa_challenge_new(a, 31), MFA_ERR_INVAL);
	assert_int_equal(mfa_challenge_new(big, MFA_CHALLENGE_MAX + 1), MFA_ERR_INVAL);
	assert_int_equal(mfa_challenge_new(NULL, 32), MFA_ERR_INVAL);
}

/* Sign chal with key the way the card does (SHA-256), for the host checks. */
static size_t host_sign(EVP_PKEY *key, const uint8_t *chal, size_t n, uint8_t *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = MFA_SIG_MAX;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &len, chal, n), 1);
	EVP_MD_CTX_free(md);
	return len;
}

static void test_verify_signature(void **state)
{
	uint8_t chal[64], sig[MFA_SIG_MAX], bad[MFA_SIG_MAX + 8], spki[MFA_SPKI_MAX + 2];
	size_t rlen, elen;
	enum mfa_card_alg alg;
	EVP_PKEY *rsa1024 = keygen("RSA", 1024, NULL), *p384 = keygen("EC", 0, "P-384");
	uint8_t spki1024[MFA_SPKI_MAX], spki384[MFA_SPKI_MAX];
	size_t l1024 = spki_of(rsa1024, spki1024), l384 = spki_of(p384, spki384);
	(void)state;

	assert_int_equal(mfa_challenge_new(chal, sizeof(chal)), 0);
	rlen = host_sign(rsa_a, chal, sizeof(chal), sig);
	assert_int_equal(rlen, 256);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, rlen), 0);
	memcpy(bad, sig, rlen);
	bad[100] ^= 0x01;
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    bad, rlen), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, rlen - 1), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    sig, 0), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, sizeof(chal),
	    NULL, 0), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal,
	    sizeof(chal) - 1, sig, rlen), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_rsa_a, spki_rsa_a_len, chal, 31, sig,
	    rlen), MFA_ERR_INVAL);
	/* unusable enrolled keys */
	memcpy(spki, spki_rsa_a, spki_rsa_a_len);
	spki[spki_rsa_a_len] = 0;
	assert_int_equal(mfa_card_verify_signature(spki, spki_rsa_a_len + 1, chal, sizeof(chal),
	    sig, rlen), MFA_ERR_CORRUPT);
	assert_int_equal(mfa_card_verify_signature(spki, 20, chal, sizeof(chal), sig, rlen),
	    MFA_ERR_CORRUPT);
	assert_int_equal(mfa_card_verify_signature(spki, 0, chal, sizeof(chal), sig, rlen),
	    MFA_ERR_CORRUPT);
	assert_int_equal(mfa_card_verify_signature(spki1024, l1024, chal, sizeof(chal), sig, 128),
	    MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_card_verify_signature(spki384, l384, chal, sizeof(chal), sig, 64),
	    MFA_ERR_KEYTYPE);
	/* ECDSA */
	elen = host_sign(ec_a, chal, sizeof(chal), sig);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	    sig, elen), 0);
	assert_int_equal(mfa_card_verify_signature(spki_ec_b, spki_ec_b_len, chal, sizeof(chal),
	    sig, elen), MFA_ERR_BADSIG);
	memcpy(bad, sig, elen);
	bad[elen] = 0x00;               /* trailing byte after the DER */
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	    bad, elen + 1), MFA_ERR_BADSIG);
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	    (const uint8_t *)"\x30\x00", 2), MFA_ERR_BADSIG);
	memset(bad, 0xAB, sizeof(bad));
	assert_int_equal(mfa_card_verify_signature(spki_ec_a, spki_ec_a_len, chal, sizeof(chal),
	    bad, MFA_SIG_MAX + 1), MFA_ERR_BADSIG);
	/* algorithms */
	assert_int_equal(mfa_spki_alg(spki_rsa_a, spki_rsa_a_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_RSA2048);
	assert_int_equal(mfa_spki_alg(spki_ec_a, spki_ec_a_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_P256);
	assert_int_equal(mfa_spki_alg(spki1024, l1024, &alg), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_spki_alg(spki384, l384, &alg), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_spki_alg(spki, 20, &alg), MFA_ERR_CORRUPT);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p384);
}

/* A public RSA key with template's modulus and exponent e (no private half). */
static EVP_PKEY *rsa_with_exponent(EVP_PKEY *template, unsigned long e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *n = NULL, *bn_e = BN_new();

	assert_non_null(bld);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_get_bn_param(template, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(BN_set_word(bn_e, e), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e), 1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(bn_e);
	return k;
}

/* The EMSA-PKCS1-v1_5 block for SHA-256(chal), 256 bytes (RFC 8017 §9.2). */
static void pkcs1_block(const uint8_t *chal, size_t n, uint8_t block[256])
{
	static const uint8_t prefix[19] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
	};
	unsigned int mdlen = 0;

	memset(block, 0xff, 256);
	block[0] = 0x00;
	block[1] = 0x01;
	block[256 - 32 - 19 - 1] = 0x00;
	memcpy(block + 256 - 32 - 19, prefix, sizeof(prefix));
	assert_int_equal(EVP_Digest(chal, n, block + 256 - 32, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
}

/*
 * Issue 12 finding 6: a 2048-bit RSA key with e = 1 let the padded block
 * itself pass as a signature (s^1 = s), with no private key anywhere; e = 3
 * is a card emulator's choice, not a card's.  Both are refused at
 * enrollment (the certificate's key is no RSA-2048 of ours) and at login.
 */
static void test_weak_rsa_exponents(void **state)
{
	static const unsigned long weak[] = { 1, 3 };
	uint8_t chal[32], block[256], spki[MFA_SPKI_MAX];
	struct mfa_cert_info info;
	enum mfa_card_alg alg;
	(void)state;

	assert_int_equal(mfa_challenge_new(chal, sizeof(chal)), 0);
	pkcs1_block(chal, sizeof(chal), block);
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		EVP_PKEY *k = rsa_with_exponent(rsa_a, weak[i]);
		size_t spki_len = spki_of(k, spki), len;
		uint8_t *der = make_cert(k, "Emulator", rsa_a, "Card CA", "0E", &len);

		/* Enrollment: parsed, but not a key of any profile. */
		assert_int_equal(mfa_cert_parse(der, len, &info), 0);
		assert_int_equal(info.alg, MFA_CARD_ALG_NONE);
		assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), MFA_ERR_KEYTYPE);
		assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), MFA_ERR_KEYTYPE);
		assert_int_equal(mfa_spki_alg(spki, spki_len, &alg), MFA_ERR_KEYTYPE);
		/* Login with such a key enrolled (an old record): refused, never verified. */
		assert_int_not_equal(mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal),
		    block, sizeof(block)), 0);
		assert_int_equal(mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal),
		    block, sizeof(block)), MFA_ERR_KEYTYPE);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
	{
		/* e = 3 with a real private key: a genuine signature is still refused. */
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		EVP_PKEY *k3 = NULL;
		BIGNUM *three = BN_new();
		uint8_t sig[MFA_SIG_MAX];
		size_t slen, spki_len;

		assert_non_null(ctx);
		assert_int_equal(BN_set_word(three, 3), 1);
		assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
		assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, three), 1);
		assert_int_equal(EVP_PKEY_keygen(ctx, &k3), 1);
		spki_len = spki_of(k3, spki);
		slen = host_sign(k3, chal, sizeof(chal), sig);
		assert_int_equal(mfa_card_verify_signature(spki, spki_len, chal, sizeof(chal), sig,
		    slen), MFA_ERR_KEYTYPE);
		EVP_PKEY_free(k3);
		EVP_PKEY_CTX_free(ctx);
		BN_free(three);
	}
	/* The same modulus with e = 65537 is the good key it always was. */
	assert_int_equal(mfa_spki_alg(spki_rsa_a, spki_rsa_a_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_RSA2048);
}

static void test_cert_parse(void **state)
{
	struct mfa_cert_info info;
	uint8_t md[32], *copy;
	(void)state;

	assert_int_equal(mfa_cert_parse(cert_rsa_a, cert_rsa_a_len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_RSA2048);
	assert_string_equal(info.key_desc, "RSA-2048");
	assert_int_equal(info.spki_len, spki_rsa_a_len);
	assert_memory_equal(info.spki, spki_rsa_a, spki_rsa_a_len);
	sha256(cert_rsa_a, cert_rsa_a_len, md);
	assert_memory_equal(info.fingerprint, md, 32);
	assert_string_equal(info.subject, "CN=Test Clerk,O=mfauth test,C=JP");
	assert_string_equal(info.serial, "0123456789ABCDEF");
	assert_int_equal(info.not_before, CERT_NOT_BEFORE);
	assert_int_equal(info.not_after, CERT_NOT_AFTER);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_cert_check_profile(&info, 7), MFA_ERR_INVAL);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_BEFORE), 0);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_AFTER), 0);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_BEFORE - 1), MFA_ERR_EXPIRED);
	assert_int_equal(mfa_cert_check_time(&info, CERT_NOT_AFTER + 1), MFA_ERR_EXPIRED);

	assert_int_equal(mfa_cert_parse(cert_ec_a, cert_ec_a_len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_P256);
	assert_string_equal(info.key_desc, "EC-prime256v1");
	assert_string_equal(info.serial, "42");
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), 0);

	/* malformed: trailing byte, cut, empty, oversized */
	copy = malloc(MFA_CERT_MAX + 1);
	assert_non_null(copy);
	memcpy(copy, cert_rsa_a, cert_rsa_a_len);
	copy[cert_rsa_a_len] = 0;
	assert_int_equal(mfa_cert_parse(copy, cert_rsa_a_len + 1, &info), MFA_ERR_CERT);
	assert_int_equal(info.spki_len, 0);
	assert_int_equal(mfa_cert_parse(copy, cert_rsa_a_len - 1, &info), MFA_ERR_CERT);
	assert_int_equal(mfa_cert_parse(copy, 0, &info), MFA_ERR_CERT);
	assert_int_equal(mfa_cert_parse(copy, MFA_CERT_MAX + 1, &info), MFA_ERR_CERT);
	copy[0] = 0x31;
	assert_int_equal(mfa_cert_parse(copy, cert_rsa_a_len, &info), MFA_ERR_CERT);
	free(copy);
}

static void test_cert_other_keys(void **state)
{
	EVP_PKEY *rsa1024 = keygen("RSA", 1024, NULL), *p384 = keygen("EC", 0, "P-384");
	struct mfa_cert_info info;
	uint8_t *der;
	size_t len;
	(void)state;

	der = make_cert(rsa1024, "Weak", rsa1024, "Weak", "01", &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_NONE);
	assert_string_equal(info.key_desc, "RSA-1024");
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_JPKI), MFA_ERR_KEYTYPE);
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), MFA_ERR_KEYTYPE);
	OPENSSL_free(der);
	der = make_cert(p384, "P384", p384, "P384", "02", &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_int_equal(info.alg, MFA_CARD_ALG_NONE);
	assert_string_equal(info.key_desc, "EC-secp384r1");
	assert_int_equal(mfa_cert_check_profile(&info, MFA_CARD_PIV), MFA_ERR_KEYTYPE);
	OPENSSL_free(der);
	/* a serial too long to record is refused, not cut */
	der = make_cert(p384, "Long", p384, "Long",
	    "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627"
	    "28292A", &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), MFA_ERR_CERT);
	OPENSSL_free(der);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p384);
}


/* A self-signed certificate with the given subject entries (NULL-terminated
 * "field", "value" pairs; none = an empty name) and notBefore. */
static uint8_t *make_cert_named(EVP_PKEY *key, const char *const *entries, time_t not_before,
    size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	assert_non_null(name);
	for (size_t i = 0; entries[i] != NULL; i += 2)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, entries[i], MBSTRING_UTF8,
		    (const unsigned char *)entries[i + 1], -1, -1, 0), 1);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), CERT_NOT_AFTER));
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_true((n = i2d_X509(x, &der)) > 0);
	*len = (size_t)n;
	X509_NAME_free(name);
	X509_free(x);
	return der;
}

static void test_cert_subject_edges(void **state)
{
	static const char *const empty[] = { NULL };
	static const char *const many[] = {
		"OU", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"OU", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		"OU", "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		"OU", "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
		"OU", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
		NULL };
	/* a control character and Japanese: the record gets printable ASCII only */
	static const char *const odd[] = { "CN", "\xe5\xb1\xb1\xe7\x94\xb0\x01x", NULL };
	struct mfa_cert_info info;
	uint8_t *der;
	size_t len;
	(void)state;

	der = make_cert_named(ec_a, empty, CERT_NOT_BEFORE, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_string_equal(info.subject, "");
	OPENSSL_free(der);

	der = make_cert_named(ec_a, many, CERT_NOT_BEFORE, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_int_equal(strlen(info.subject), sizeof(info.subject) - 1);
	assert_string_equal(info.subject + sizeof(info.subject) - 4, "...");
	assert_memory_equal(info.subject, "OU=eeee", 7);
	OPENSSL_free(der);

	der = make_cert_named(ec_a, odd, CERT_NOT_BEFORE, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), 0);
	assert_true(strlen(info.subject) > 3);
	for (const char *c = info.subject; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c <= 0x7E);
	OPENSSL_free(der);

	/* validity before 1970 cannot be recorded as epoch seconds */
	der = make_cert_named(ec_a, empty, -86400, &len);
	assert_int_equal(mfa_cert_parse(der, len, &info), MFA_ERR_CERT);
	OPENSSL_free(der);
}

static char *write_pem(const uint8_t *der, size_t len)
{
	char tmpl[] = "/tmp/mfauth-test-ca-XXXXXX";
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int fd = mkstemp(tmpl);
	FILE *fp;

	assert_non_null(x);
	assert_true(fd >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
	X509_free(x);
	return strdup(tmpl);
}

static void test_cert_chain(void **state)
{
	uint8_t *ca, *other, *leaf;
	size_t calen, otherlen, leaflen;
	char *cafile, *otherfile;
	(void)state;

	ca = make_cert(ec_b, "Test CA", ec_b, "Test CA", "0100", &calen);
	other = make_cert(rsa_b, "Other CA", rsa_b, "Other CA", "0200", &otherlen);
	leaf = make_cert(rsa_a, "Clerk", ec_b, "Test CA", "0300", &leaflen);
	cafile = write_pem(ca, calen);
	otherfile = write_pem(other, otherlen);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, cafile, CERT_NOT_BEFORE + 1000), 0);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, otherfile, CERT_NOT_BEFORE + 1000),
	    MFA_ERR_UNTRUSTED);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, cafile, CERT_NOT_AFTER + 1000),
	    MFA_ERR_UNTRUSTED);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, cafile, CERT_NOT_BEFORE - 1000),
	    MFA_ERR_UNTRUSTED);
	/* a self-signed card certificate is not trusted by being self-signed */
	assert_int_equal(mfa_cert_check_chain(cert_rsa_a, cert_rsa_a_len, cafile,
	    CERT_NOT_BEFORE + 1000), MFA_ERR_UNTRUSTED);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen, "/nonexistent/mfauth-ca.pem",
	    CERT_NOT_BEFORE + 1000), MFA_ERR_IO);
	assert_int_equal(mfa_cert_check_chain(leaf, leaflen - 1, cafile, CERT_NOT_BEFORE + 1000),
	    MFA_ERR_CERT);
	unlink(cafile);
	unlink(otherfile);
	free(cafile);
	free(otherfile);
	OPENSSL_free(ca);
	OPENSSL_free(other);
	OPENSSL_free(leaf);
}

static void test_cert_to_factor(void **state)
{
	struct mfa_cert_info info;
	struct mfa_card_factor f;
	enum mfa_card_alg alg;
	(void)state;

	assert_int_equal(mfa_cert_parse(cert_ec_a, cert_ec_a_len, &info), 0);
	assert_int_equal(mfa_cert_to_factor(&info, MFA_CARD_PIV, 1750000000, &f), 0);
	assert_true(f.present);
	assert_int_equal(f.profile, MFA_CARD_PIV);
	assert_int_equal(f.spki_len, spki_ec_a_len);
	assert_memory_equal(f.spki, spki_ec_a, spki_ec_a_len);
	assert_memory_equal(f.fingerprint, info.fingerprint, 32);
	assert_string_equal(f.subject, "CN=PIV Clerk,O=mfauth test,C=JP");
	assert_string_equal(f.serial, "42");
	assert_int_equal(f.not_before, CERT_NOT_BEFORE);
	assert_int_equal(f.not_after, CERT_NOT_AFTER);
	assert_int_equal(f.enrolled_at, 1750000000);
	/* the login side reads the algorithm back from the recorded key */
	assert_int_equal(mfa_spki_alg(f.spki, f.spki_len, &alg), 0);
	assert_int_equal(alg, MFA_CARD_ALG_P256);
	assert_int_equal(mfa_cert_to_factor(&info, 3, 0, &f), MFA_ERR_INVAL);
	assert_false(f.present);
}

/* --- errors --------------------------------------------------------------- */

static void test_card_errors(void **state)
{
	static const int codes[] = { MFA_ERR_NOSERVICE, MFA_ERR_NOREADER, MFA_ERR_NOCARD,
		MFA_ERR_CARD, MFA_ERR_NOAPP, MFA_ERR_PIN_FORMAT, MFA_ERR_BADPIN, MFA_ERR_PIN_TRIES,
		MFA_ERR_PIN_BLOCKED, MFA_ERR_PIN_REQUIRED, MFA_ERR_BADSIG, MFA_ERR_CERT,
		MFA_ERR_KEYTYPE, MFA_ERR_UNTRUSTED, MFA_ERR_PCSC };
	(void)state;

	for (size_t i = 0; i < NELEM(codes); i++) {
		assert_true(codes[i] <= -100);
		assert_string_not_equal(mfa_strerror(codes[i]), "unknown error");
		assert_string_not_equal(mfa_errtoken(codes[i]), "unknown");
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(mfa_errtoken(codes[i]),
			    mfa_errtoken(codes[j]));
		}
	}
}

/* --- identifiers before the PIN (issue 17) --------------------------------- */

static const char PIV_SELECT_FULL[] = "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00";
static const char PIV_GET_CHUID[] = "00 CB 3F FF 05 5C 03 5F C1 02 00";
static const char JPKI_READ_HEAD[] = "00 B0 00 00 00";

/* A CHUID object: 53 { [EE] 30 FASC-N [32 org] 34 GUID 35 expiry 3E sig(siglen) FE 00 }. */
static size_t chuid_object(uint8_t guid_byte, bool extras, size_t siglen, uint8_t *out, size_t cap)
{
	uint8_t body[2048];
	size_t n = 0, o = 0;

	assert_true(siglen + 128 <= sizeof(body));
	if (extras) {
		body[n++] = 0xEE; body[n++] = 0x01; body[n++] = 0x00;
	}
	body[n++] = 0x30; body[n++] = 25;
	for (int i = 0; i < 25; i++)
		body[n++] = (uint8_t)(0xD0 + i);
	if (extras) {
		body[n++] = 0x32; body[n++] = 0x02; body[n++] = 0x12; body[n++] = 0x34;
	}
	body[n++] = 0x34; body[n++] = 16;
	memset(body + n, guid_byte, 16);
	n += 16;
	body[n++] = 0x35; body[n++] = 8;
	memcpy(body + n, "20301231", 8);
	n += 8;
	body[n++] = 0x3E; body[n++] = 0x82; body[n++] = (uint8_t)(siglen >> 8);
	body[n++] = (uint8_t)siglen;
	memset(body + n, 0x5A, siglen);
	n += siglen;
	body[n++] = 0xFE; body[n++] = 0x00;
	assert_true(n + 4 <= cap);
	out[o++] = 0x53; out[o++] = 0x82; out[o++] = (uint8_t)(n >> 8); out[o++] = (uint8_t)n;
	memcpy(out + o, body, n);
	return o + n;
}

static void test_id_from_cert(void **state)
{
	uint8_t id[MFA_CARD_ID_MAX], id2[MFA_CARD_ID_MAX];
	size_t n = 0, n2 = 0;
	(void)state;

	/* the whole certificate and its head give the same bytes */
	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, cert_rsa_a_len, id, sizeof(id), &n), 0);
	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, MFA_CARD_HEAD_MAX, id2, sizeof(id2),
	    &n2), 0);
	assert_int_equal(n, n2);
	assert_memory_equal(id, id2, n);
	/* it starts with the serial's TLV: 02 08 01 23 45 67 89 AB CD EF */
	assert_true(n > 10);
	assert_memory_equal(id, "\x02\x08\x01\x23\x45\x67\x89\xAB\xCD\xEF", 10);
	/* and goes on with the issuer (a SEQUENCE) */
	assert_int_equal(id[10], 0x30);
	/* another certificate of the same issuer: another identifier */
	{
		size_t len = 0;
		uint8_t *other = make_cert(rsa_b, "Test Clerk", rsa_a, "Test Clerk", "0123456789ABCDF0",
		    &len);
		assert_int_equal(mfa_card_id_from_cert(other, len, id2, sizeof(id2), &n2), 0);
		assert_false(n == n2 && memcmp(id, id2, n) == 0);
		OPENSSL_free(other);
	}
	/* every cut before the issuer's header is refused; none reads past the cut */
	for (size_t cut = 0; cut < 40; cut++) {
		uint8_t *head = malloc(cut ? cut : 1);
		int rc;

		assert_non_null(head);
		memcpy(head, cert_rsa_a, cut);
		rc = mfa_card_id_from_cert(head, cut, id2, sizeof(id2), &n2);
		if (rc != 0 && rc != MFA_ERR_CARD)
			fail_msg("cut %zu: rc %d", cut, rc);
		free(head);
	}
	/* too small an output buffer */
	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, cert_rsa_a_len, id2, 5, &n2),
	    MFA_ERR_RANGE);
	/* hostile heads */
	{
		static const char *const bad[] = {
			"31 82 01 00 30 82 00 F0 02 01 01",             /* not a SEQUENCE */
			"30 82 01 00 31 82 00 F0 02 01 01",
			"30 82 01 00 30 82 00 F0 A0 03 02 01",          /* version cut */
			"30 82 01 00 30 82 00 F0 04 01 01 30 00 30 00",  /* serial not INTEGER */
			"30 82 01 00 30 82 00 F0 02 00 30 00 30 00",     /* empty serial */
			"30 82 01 00 30 82 00 F0 02 7F 01",              /* serial past the head */
			"30 82 01 00 30 82 00 F0 02 01 01 30 05 06",     /* algorithm cut */
			"30 82 01 00 30 82 00 F0 02 01 01 30 00 31 00",  /* issuer not a SEQUENCE */
			"30 84 00 00 01 00",                             /* length form 84 */
			"30 80",                                         /* indefinite */
		};
		for (size_t i = 0; i < NELEM(bad); i++) {
			uint8_t b[64];
			size_t len = unhex(bad[i], b, sizeof(b));
			if (mfa_card_id_from_cert(b, len, id2, sizeof(id2), &n2) != MFA_ERR_CARD)
				fail_msg("bad head %zu accepted", i);
		}
	}
	/* an issuer running past the head is kept as far as the head goes */
	{
		uint8_t b[64];
		size_t len = unhex("30 82 01 00 30 82 00 F0 02 01 07 30 00 30 81 C8 31 0B 30 09",
		    b, sizeof(b));
		assert_int_equal(mfa_card_id_from_cert(b, len, id2, sizeof(id2), &n2), 0);
		assert_int_equal(n2, 3 + 3 + 4);
		assert_memory_equal(id2, "\x02\x01\x07\x30\x81\xC8\x31\x0B\x30\x09", 10);
	}
	assert_int_equal(mfa_card_id_from_cert(NULL, 10, id2, sizeof(id2), &n2), MFA_ERR_INVAL);
}

static void test_id_from_chuid(void **state)
{
	uint8_t obj[2200], id[MFA_CARD_ID_MAX], id2[MFA_CARD_ID_MAX];
	size_t len, n = 0, n2 = 0;
	(void)state;

	len = chuid_object(0x11, false, 1024, obj, sizeof(obj));
	/* only the head is looked at: the signature may be cut anywhere */
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id, sizeof(id), &n), 0);
	assert_int_equal(n, MFA_CHUID_ID_LEN);
	assert_memory_equal(id, "\x30\x19\xD0\xD1", 4);
	assert_memory_equal(id + 27, "\x34\x10\x11\x11", 4);
	assert_int_equal(mfa_card_id_from_chuid(obj, 256, id2, sizeof(id2), &n2), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(id, id2, n);
	/* the optional EE and 32 before the GUID are skipped */
	len = chuid_object(0x11, true, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, sizeof(id2), &n2), 0);
	assert_memory_equal(id, id2, n);
	/* another GUID, another card */
	len = chuid_object(0x12, false, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, sizeof(id2), &n2), 0);
	assert_true(memcmp(id, id2, n) != 0);
	/* a GUID of zeros names no card */
	len = chuid_object(0x00, false, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, sizeof(id2), &n2), MFA_ERR_NOENT);
	/* every cut before the GUID is complete: refused, nothing read past it */
	len = chuid_object(0x11, true, 10, obj, sizeof(obj));
	for (size_t cut = 0; cut < 4 + 3 + 27 + 4 + 18; cut++) {
		uint8_t *head = malloc(cut ? cut : 1);

		assert_non_null(head);
		memcpy(head, obj, cut);
		if (mfa_card_id_from_chuid(head, cut, id2, sizeof(id2), &n2) != MFA_ERR_CARD)
			fail_msg("cut %zu accepted", cut);
		free(head);
	}
	assert_int_equal(mfa_card_id_from_chuid(obj, 4 + 3 + 27 + 4 + 18, id2, sizeof(id2), &n2), 0);
	/* hostile objects */
	{
		static const char *const bad[] = {
			"54 2D 30 19",                                   /* not 53 */
			"53 2D 34 10 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11", /* GUID first */
			"53 2D 30 18 00",                                /* FASC-N of 24 bytes, cut */
			"53 05 30 19 00 00 00",                          /* FASC-N past the object */
			"53 30 35 08 32 30 33 30 31 32 33 31",           /* expiry before the ids */
			"53 82 FF",                                      /* length cut */
		};
		for (size_t i = 0; i < NELEM(bad); i++) {
			uint8_t b[64];
			size_t blen = unhex(bad[i], b, sizeof(b));
			if (mfa_card_id_from_chuid(b, blen, id2, sizeof(id2), &n2) != MFA_ERR_CARD)
				fail_msg("bad CHUID %zu accepted", i);
		}
	}
	len = chuid_object(0x11, false, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, 44, &n2), MFA_ERR_RANGE);
}

/* JPKI: SELECT EF 000A and one READ BINARY of the head, byte for byte. */
static void test_read_id_jpki(void **state)
{
	uint8_t id[MFA_CARD_ID_MAX], want[MFA_CARD_ID_MAX];
	size_t n = 0, wn = 0;
	(void)state;

	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, cert_rsa_a_len, want, sizeof(want),
	    &wn), 0);
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		static const char *const expect[] = { JPKI_SELECT_AP, JPKI_SELECT_CERT,
			JPKI_READ_HEAD };

		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), 0);
		assert_int_equal(f->count, 3);
		assert_apdus(f, 0, expect, NELEM(expect));
		assert_int_equal(n, wn);
		assert_memory_equal(id, want, n);
		free(f);
	}
	/* answers that are no head: refused, never a match */
	{
		static const struct {
			const char *resp;
			int rc;
		} cases[] = {
			{ "6A 82", MFA_ERR_CARD },
			{ "69 82", MFA_ERR_CARD },
			{ "90 00", MFA_ERR_CARD },              /* no data */
			{ "30 82 01 00 62 82", MFA_ERR_CARD },  /* a head that ends too soon */
			{ "30 82 01 00 30 82 00 F0 02 01 07 30 00 30 00 61 10", MFA_ERR_CARD },
			{ "30 82 01 00 30 82 00 F0 02 01 07 30 00 30 00 62 82", 0 },
		};
		for (size_t i = 0; i < NELEM(cases); i++) {
			struct step script[] = {
				{ JPKI_SELECT_AP, "90 00" },
				{ JPKI_SELECT_CERT, "90 00" },
				{ JPKI_READ_HEAD, cases[i].resp },
			};
			struct fake *f = fake_new();
			struct mfa_card_io io = fake_io(f);
			struct mfa_card card;
			int rc;

			f->script = script;
			f->nscript = NELEM(script);
			assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
			rc = mfa_card_read_id(&card, id, sizeof(id), &n);
			if (rc != cases[i].rc)
				fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
			assert_false(f->mismatch);
			assert_int_equal(f->count, 3);  /* 61xx is not followed */
			free(f);
		}
	}
	/* a response longer than Le, or than any APDU: refused by the transfer */
	{
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
		f->lie_len = true;
		assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), MFA_ERR_CARD);
		free(f);
	}
}

/* PIV: one GET DATA of the CHUID; its 61xx rest is left on the card. */
static void test_read_id_piv(void **state)
{
	uint8_t obj[2200], id[MFA_CARD_ID_MAX], want[MFA_CARD_ID_MAX];
	size_t len, n = 0, wn = 0;
	struct fake *f = fake_new();
	struct mfa_card_io io = fake_io(f);
	struct mfa_card card;
	static const char *const expect[] = { PIV_SELECT, PIV_GET_CHUID };
	(void)state;

	len = chuid_object(0x42, false, 1024, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, want, sizeof(want), &wn), 0);
	fake_emulate(f, MFA_CARD_PIV, ec_a, NULL, 0, "123456");
	f->chuid = obj;
	f->chuid_len = len;
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
	assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), 0);
	assert_int_equal(f->count, 2);
	assert_apdus(f, 0, expect, NELEM(expect));
	assert_int_equal(f->resplen[1], 256 + 2);       /* a head, then 61 00 */
	assert_int_equal(n, wn);
	assert_memory_equal(id, want, n);
	/* no CHUID: NOENT, still one APDU */
	f->chuid = NULL;
	assert_int_equal(mfa_card_read_id(&card, id, sizeof(id), &n), MFA_ERR_NOENT);
	assert_int_equal(f->count, 3);
	free(f);
	/* status words and shapes that are no CHUID */
	{
		static const char *const bad[] = { "69 82", "6D 00", "90 00", "53 05 30 19 00 61 20",
			"63 C2" };
		for (size_t i = 0; i < NELEM(bad); i++) {
			struct step script[] = {
				{ PIV_SELECT, "90 00" },
				{ PIV_GET_CHUID, bad[i] },
			};
			struct fake *g = fake_new();
			struct mfa_card_io gio = fake_io(g);

			g->script = script;
			g->nscript = NELEM(script);
			assert_int_equal(mfa_card_open(&card, &gio, MFA_CARD_PIV), 0);
			if (mfa_card_read_id(&card, id, sizeof(id), &n) != MFA_ERR_CARD)
				fail_msg("case %zu accepted", i);
			assert_false(g->mismatch);
			free(g);
		}
	}
}

/* SELECT by the short AID, then by the full one on 6A82; nothing more. */
static void test_piv_select_full_aid(void **state)
{
	static const struct {
		const char *short_sw, *full_sw;
		int rc;
		size_t count;
	} cases[] = {
		{ "90 00", NULL, 0, 1 },
		{ "6A 82", "90 00", 0, 2 },
		{ "6A 82", "6A 82", MFA_ERR_NOAPP, 2 },
		{ "6A 82", "6F 00", MFA_ERR_CARD, 2 },
		{ "6F 00", NULL, MFA_ERR_CARD, 1 },     /* only 6A82 means "try the other" */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct step script[] = {
			{ PIV_SELECT, cases[i].short_sw },
			{ PIV_SELECT_FULL, cases[i].full_sw ? cases[i].full_sw : "" },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int rc;

		f->script = script;
		f->nscript = cases[i].count;
		rc = mfa_card_open(&card, &io, MFA_CARD_PIV);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
		assert_false(f->mismatch);
		assert_int_equal(f->count, cases[i].count);
		free(f);
	}
}

/* 63 0X on PIV: X tries left where X is 1..15; 63 00 is no count. */
static void test_piv_630x(void **state)
{
	static const struct {
		const char *query;
		int rc, tries;
	} q[] = {
		{ "63 02", 0, 2 },
		{ "63 01", 0, 1 },
		{ "63 0F", 0, 15 },
		{ "63 00", MFA_ERR_TRIES_UNKNOWN, 0 },
		{ "63 81", MFA_ERR_TRIES_UNKNOWN, 0 },
	};
	static const struct {
		const char *sw;
		int rc, tries;
	} v[] = {
		{ "63 01", MFA_ERR_BADPIN, 1 },
		{ "63 00", MFA_ERR_CARD, 77 },          /* after a PIN: an error that counts */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(q); i++) {
		struct step script[] = { { PIV_SELECT, "90 00" }, { VERIFY_QUERY, q[i].query } };
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 77, rc;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		rc = mfa_card_pin_tries(&card, &tries);
		if (rc != q[i].rc)
			fail_msg("query %s: rc %d", q[i].query, rc);
		if (rc == 0)
			assert_int_equal(tries, q[i].tries);
		free(f);
	}
	for (size_t i = 0; i < NELEM(v); i++) {
		struct step script[] = {
			{ PIV_SELECT, "90 00" },
			{ "00 20 00 80 08 31 32 33 34 35 36 FF FF", v[i].sw },
		};
		struct fake *f = fake_new();
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;
		int tries = 77;

		f->script = script;
		f->nscript = NELEM(script);
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_verify_pin(&card, "123456", 6, &tries), v[i].rc);
		assert_int_equal(tries, v[i].tries);
		assert_false(f->mismatch);
		free(f);
	}
}

/* --- the whole login with the guard (card_auth.h) ---------------------------- */

struct hook_ctx {
	unsigned asked;
	const char *pin;
};

static int hook_ask(void *ctx, uint8_t profile, int tries_left, char **pin)
{
	struct hook_ctx *h = ctx;

	(void)profile;
	(void)tries_left;
	h->asked++;
	*pin = strdup(h->pin);
	return *pin ? 0 : MFA_ERR_NOMEM;
}

static bool sent_verify(const struct fake *f)
{
	for (size_t i = 0; i < f->count && i < FAKE_LOG_MAX; i++)
		if (f->log[i][1] == 0x20)
			return true;
	return false;
}

/* A factor for cert (enrolled through the same code as `enroll card`). */
static void enroll_factor(struct fake *f, uint8_t profile, const uint8_t *cert, size_t clen,
    struct mfa_card_factor *fac)
{
	struct mfa_card_io io = fake_io(f);
	struct mfa_cert_info info;
	struct mfa_card card;
	size_t count = f->count;

	assert_int_equal(mfa_cert_parse(cert, clen, &info), 0);
	assert_int_equal(mfa_cert_to_factor(&info, profile, CERT_NOT_BEFORE + 10, fac), 0);
	assert_int_equal(mfa_card_open(&card, &io, profile), 0);
	assert_int_equal(mfa_card_enroll_id(&card, cert, clen, fac), 0);
	f->count = count;
	f->tries = 3;
}

static int run_login(struct fake *f, const struct mfa_card_factor *fac, struct hook_ctx *h)
{
	struct mfa_card_hooks hooks = { hook_ask, NULL, h };
	struct mfa_card_io io = fake_io(f);
	struct mfa_card_outcome out;

	f->verified = false;            /* each login is a new session: the last one reset the card */
	return mfa_card_login(fac, &io, &hooks, 2, CERT_NOT_BEFORE + 20, &out);
}

static void test_login_guard_jpki(void **state)
{
	struct mfa_card_factor *fac = calloc(1, sizeof(*fac));
	struct hook_ctx h = { 0, "1234" };
	uint8_t *other;
	size_t olen = 0;
	struct fake *f = fake_new();
	(void)state;

	assert_non_null(fac);
	other = make_cert(rsa_b, "Other Clerk", rsa_b, "Test Clerk", "0123456789ABCDF0", &olen);
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	enroll_factor(f, MFA_CARD_JPKI, cert_rsa_a, cert_rsa_a_len, fac);
	assert_int_equal(fac->id_kind, MFA_CARD_ID_CERT);
	assert_int_equal(f->count, 0);  /* JPKI: the identifier comes from the certificate */
	/* the enrolled card: 6 APDUs of the login + 2 of the identifier */
	assert_int_equal(run_login(f, fac, &h), 0);
	assert_int_equal(h.asked, 1);
	assert_int_equal(f->count, 8);
	free(f);
	/* another card, same PIN: no PIN asked, no VERIFY, its counter untouched */
	f = fake_new();
	fake_emulate(f, MFA_CARD_JPKI, rsa_b, other, olen, "1234");
	h.asked = 0;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	assert_int_equal(h.asked, 0);
	assert_false(sent_verify(f));
	assert_int_equal(f->tries, 3);
	assert_int_equal(f->count, 3);
	assert_true(mfa_card_error_counts(MFA_ERR_WRONG_CARD));
	assert_false(mfa_card_error_counts(MFA_ERR_TRIES_UNKNOWN));
	/* an enrollment from before identifiers: the certificate's key decides */
	fac->id_kind = MFA_CARD_ID_LEGACY;
	fac->id_len = 0;
	f->count = 0;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	assert_int_equal(h.asked, 0);
	assert_false(sent_verify(f));
	free(f);
	f = fake_new();
	fake_emulate(f, MFA_CARD_JPKI, rsa_a, cert_rsa_a, cert_rsa_a_len, "1234");
	assert_int_equal(run_login(f, fac, &h), 0);
	assert_int_equal(h.asked, 1);
	free(f);
	OPENSSL_free(other);
	free(fac);
}

static void test_login_guard_piv(void **state)
{
	struct mfa_card_factor *fac = calloc(1, sizeof(*fac));
	struct hook_ctx h = { 0, "123456" };
	uint8_t obj[MFA_CERT_MAX + 64], chuid[2200], chuid_b[2200];
	size_t olen, clen, clen_b;
	struct fake *f = fake_new();
	(void)state;

	assert_non_null(fac);
	olen = piv_object(cert_ec_a, cert_ec_a_len, 0x00, obj, sizeof(obj));
	clen = chuid_object(0x42, false, 1024, chuid, sizeof(chuid));
	clen_b = chuid_object(0x43, false, 1024, chuid_b, sizeof(chuid_b));
	fake_emulate(f, MFA_CARD_PIV, ec_a, obj, olen, "123456");
	f->chuid = chuid;
	f->chuid_len = clen;
	enroll_factor(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len, fac);
	assert_int_equal(fac->id_kind, MFA_CARD_ID_CHUID);
	assert_int_equal(fac->id_len, MFA_CHUID_ID_LEN);
	/* the enrolled card: 4 APDUs of the EC login + 1 GET DATA */
	assert_int_equal(run_login(f, fac, &h), 0);
	assert_int_equal(f->count, 5);
	assert_int_equal(h.asked, 1);
	/* another GUID, or no CHUID at all: another card */
	f->chuid = chuid_b;
	f->chuid_len = clen_b;
	f->count = 0;
	h.asked = 0;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	f->chuid = NULL;
	assert_int_equal(run_login(f, fac, &h), MFA_ERR_WRONG_CARD);
	assert_int_equal(h.asked, 0);
	assert_false(sent_verify(f));
	assert_int_equal(f->tries, 3);
	/* a card without CHUID enrolls by its key, and is then checked by it */
	enroll_factor(f, MFA_CARD_PIV, cert_ec_a, cert_ec_a_len, fac);
	assert_int_equal(fac->id_kind, MFA_CARD_ID_SPKI);
	assert_int_equal(fac->id_len, 0);
	assert_int_equal(run_login(f, fac, &h), 0);
	/* a malformed CHUID is no enrollment */
	{
		struct mfa_card_io io = fake_io(f);
		struct mfa_card card;

		f->chuid = (const uint8_t *)"\x53\x03\x30\x19\x00";
		f->chuid_len = 5;
		assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_PIV), 0);
		assert_int_equal(mfa_card_enroll_id(&card, cert_ec_a, cert_ec_a_len, fac),
		    MFA_ERR_CARD);
		assert_int_equal(fac->id_kind, MFA_CARD_ID_LEGACY);
	}
	free(f);
	free(fac);
}

static void test_pcsc_error_map(void **state)
{
	static const struct {
		long rv;
		int err;
	} cases[] = {
		{ 0, 0 },
		{ 0x8010001DL, MFA_ERR_NOSERVICE },
		{ 0x8010001EL, MFA_ERR_NOSERVICE },
		{ 0x8010002EL, MFA_ERR_NOREADER },
		{ 0x80100009L, MFA_ERR_NOREADER },
		{ 0x80100017L, MFA_ERR_NOREADER },
		{ 0x8010000CL, MFA_ERR_NOCARD },
		{ 0x80100069L, MFA_ERR_NOCARD },
		{ 0x80100016L, MFA_ERR_NOCARD },
		{ 0x8010000AL, MFA_ERR_NOCARD },
		{ 0x80100067L, MFA_ERR_NOCARD },
		{ 0x80100008L, MFA_ERR_CARD },
		{ 0x80100066L, MFA_ERR_CARD },
		{ 0x80100068L, MFA_ERR_CARD },
		{ 0x80100006L, MFA_ERR_NOMEM },
		{ 0x8010000BL, MFA_ERR_PCSC },  /* sharing violation */
		{ 0x80100001L, MFA_ERR_PCSC },
		{ 0x12345678L, MFA_ERR_PCSC },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(mfa_pcsc_error(cases[i].rv), cases[i].err);
}


/* --- a fake pcsc-lite ------------------------------------------------------ */

/*
 * The executable's SCard* definitions take the place of libpcsclite's for
 * lib/card_pcsc.c.  Each call appends a token to pc.log, so a test states the
 * whole conversation as one string.
 */
static struct {
	bool active;                    /* else forward to libpcsclite */
	LONG establish_rv, list_rv, connect_rv, begin_rv, transmit_rv, end_rv;
	bool begin_reset_once;          /* first Begin says "reset by someone else" */
	struct {
		const char *name;
		bool card;
	} readers[4];
	size_t nreaders;
	int insert_on_wait;             /* reader whose card arrives during a wait, -1 none */
	DWORD wait_timeout;             /* the last blocking wait's timeout */
	int contexts, handles, txs;     /* currently open */
	DWORD share, protos;
	char log[1024];
} pc;

static void pc_reset(void)
{
	memset(&pc, 0, sizeof(pc));
	pc.active = true;
	pc.insert_on_wait = -1;
}

static void pc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void pc_log(const char *fmt, ...)
{
	size_t n = strlen(pc.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pc.log + n, sizeof(pc.log) - n, fmt, ap);
	va_end(ap);
}

static const char *disp_name(DWORD d)
{
	return d == SCARD_RESET_CARD ? "reset" : d == SCARD_LEAVE_CARD ? "leave" : "other";
}

typedef LONG (*establish_fn)(DWORD, LPCVOID, LPCVOID, LPSCARDCONTEXT);

LONG SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx)
{
	if (!pc.active) {
		establish_fn real = (establish_fn)(uintptr_t)dlsym(RTLD_NEXT,
		    "SCardEstablishContext");
		assert_non_null(real);
		return real(scope, r1, r2, ctx);
	}
	pc_log("E%s ", scope == SCARD_SCOPE_SYSTEM ? "" : "(not system)");
	if (pc.establish_rv != SCARD_S_SUCCESS)
		return pc.establish_rv;
	pc.contexts++;
	*ctx = 0x1111;
	return SCARD_S_SUCCESS;
}

LONG SCardReleaseContext(SCARDCONTEXT ctx)
{
	assert_true(pc.active);
	assert_int_equal(ctx, 0x1111);
	pc_log("R");
	pc.contexts--;
	return SCARD_S_SUCCESS;
}

LONG SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR buf, LPDWORD len)
{
	char all[256];
	size_t n = 0;

	(void)ctx;
	(void)groups;
	if (pc.list_rv != SCARD_S_SUCCESS)
		return pc.list_rv;
	if (pc.nreaders == 0)
		return SCARD_E_NO_READERS_AVAILABLE;
	for (size_t i = 0; i < pc.nreaders; i++) {
		memcpy(all + n, pc.readers[i].name, strlen(pc.readers[i].name) + 1);
		n += strlen(pc.readers[i].name) + 1;
	}
	all[n++] = '\0';
	if (buf != NULL) {
		if (*len < n)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(buf, all, n);
	}
	*len = (DWORD)n;
	return SCARD_S_SUCCESS;
}

LONG SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *st, DWORD n)
{
	(void)ctx;
	if (timeout != 0) {
		pc_log("W ");
		pc.wait_timeout = timeout;
		if (pc.insert_on_wait < 0)
			return SCARD_E_TIMEOUT;
		pc.readers[pc.insert_on_wait].card = true;
		pc.insert_on_wait = -1;
	}
	for (DWORD i = 0; i < n; i++) {
		bool found = false;

		if (strcmp(st[i].szReader, "\\\\?PnP?\\Notification") == 0) {
			st[i].dwEventState = (DWORD)pc.nreaders << 16;
			continue;
		}
		for (size_t r = 0; r < pc.nreaders; r++) {
			if (strcmp(st[i].szReader, pc.readers[r].name) != 0)
				continue;
			found = true;
			st[i].dwEventState = SCARD_STATE_CHANGED |
			    (pc.readers[r].card ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY);
		}
		if (!found)
			return SCARD_E_UNKNOWN_READER;
	}
	return SCARD_S_SUCCESS;
}

LONG SCardConnect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD protos, LPSCARDHANDLE h,
    LPDWORD proto)
{
	(void)ctx;
	pc_log("C(%s) ", reader);
	pc.share = share;
	pc.protos = protos;
	if (pc.connect_rv != SCARD_S_SUCCESS)
		return pc.connect_rv;
	pc.handles++;
	*h = 0x2222;
	*proto = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

LONG SCardReconnect(SCARDHANDLE h, DWORD share, DWORD protos, DWORD init, LPDWORD proto)
{
	(void)share;
	(void)protos;
	assert_int_equal(h, 0x2222);
	pc_log("Re(%s) ", disp_name(init));
	*proto = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

LONG SCardBeginTransaction(SCARDHANDLE h)
{
	assert_int_equal(h, 0x2222);
	pc_log("B ");
	if (pc.begin_reset_once) {
		pc.begin_reset_once = false;
		return SCARD_W_RESET_CARD;
	}
	if (pc.begin_rv != SCARD_S_SUCCESS)
		return pc.begin_rv;
	pc.txs++;
	return SCARD_S_SUCCESS;
}

LONG SCardEndTransaction(SCARDHANDLE h, DWORD disp)
{
	assert_int_equal(h, 0x2222);
	pc_log("X(%s) ", disp_name(disp));
	pc.txs--;
	return pc.end_rv;
}

LONG SCardDisconnect(SCARDHANDLE h, DWORD disp)
{
	assert_int_equal(h, 0x2222);
	pc_log("D(%s) ", disp_name(disp));
	pc.handles--;
	return SCARD_S_SUCCESS;
}

LONG SCardTransmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE send, DWORD sendlen,
    SCARD_IO_REQUEST *rpci, LPBYTE recv, LPDWORD recvlen)
{
	(void)rpci;
	assert_int_equal(h, 0x2222);
	assert_true(sendlen >= 4);
	assert_int_equal(pci->dwProtocol, SCARD_PROTOCOL_T1);
	pc_log("T%02X ", send[1]);
	if (pc.transmit_rv != SCARD_S_SUCCESS)
		return pc.transmit_rv;
	if (*recvlen < 2)
		return SCARD_E_INSUFFICIENT_BUFFER;
	recv[0] = 0x90;
	recv[1] = 0x00;
	*recvlen = 2;
	return SCARD_S_SUCCESS;
}

static void pc_add_reader(const char *name, bool card)
{
	pc.readers[pc.nreaders].name = name;
	pc.readers[pc.nreaders].card = card;
	pc.nreaders++;
}

/* Nothing is left open, whatever happened. */
static void assert_pc_released(void)
{
	assert_int_equal(pc.contexts, 0);
	assert_int_equal(pc.handles, 0);
	assert_int_equal(pc.txs, 0);
}

static void test_pcsc_session(void **state)
{
	struct mfa_pcsc *p = NULL;
	struct mfa_card_io io;
	struct mfa_card card;
	(void)state;

	pc_reset();
	pc_add_reader("Virtual PCD 00 00", false);
	pc_add_reader("Sony FeliCa Port 00 00", true);
	assert_int_equal(mfa_pcsc_open(&p, "", 0), 0);
	assert_string_equal(mfa_pcsc_reader(p), "Sony FeliCa Port 00 00");
	assert_int_equal(pc.share, SCARD_SHARE_SHARED);
	assert_int_equal(pc.protos, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1);
	mfa_pcsc_io(p, &io);
	/* the card layer talks through it */
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_pcsc_reset(p), 0);
	mfa_pcsc_close(p);
	/* one reset at the end: the Disconnect leaves the card as the End left it */
	assert_string_equal(pc.log, "E C(Sony FeliCa Port 00 00) B TA4 Re(reset) X(reset) "
	    "D(leave) R");
	assert_pc_released();

	/* a reader-name substring picks among readers with cards */
	pc_reset();
	pc_add_reader("Virtual PCD 00 00", true);
	pc_add_reader("Virtual PCD 00 01", true);
	assert_int_equal(mfa_pcsc_open(&p, "00 01", 0), 0);
	assert_string_equal(mfa_pcsc_reader(p), "Virtual PCD 00 01");
	mfa_pcsc_close(p);
	assert_pc_released();
	/* many sessions in one process: nothing accumulates */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(mfa_pcsc_open(&p, NULL, 0), 0);
		mfa_pcsc_close(p);
	}
	assert_pc_released();
	pc.active = false;
}

static void test_pcsc_failures(void **state)
{
	static const struct {
		const char *setup;      /* what goes wrong */
		int rc;
		const char *log;        /* the whole conversation */
	} cases[] = {
		{ "no pcscd", MFA_ERR_NOSERVICE, "E " },
		{ "no readers", MFA_ERR_NOREADER, "E R" },
		{ "no matching reader", MFA_ERR_NOREADER, "E R" },
		{ "no card", MFA_ERR_NOCARD, "E R" },
		{ "card gone at connect", MFA_ERR_NOCARD, "E C(Reader A) R" },
		{ "begin fails", MFA_ERR_NOCARD, "E C(Reader A) B D(reset) R" },
		{ "reset by another", 0, "E C(Reader A) B Re(leave) B X(reset) D(leave) R" },
		{ "pcscd stopped", MFA_ERR_NOSERVICE, "E R" },
		/* the End's reset failed: the Disconnect resets instead */
		{ "end fails", 0, "E C(Reader A) B X(reset) D(reset) R" },
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct mfa_pcsc *p = (struct mfa_pcsc *)&cases;
		const char *substr = "";
		int rc;

		pc_reset();
		if (i != 1)
			pc_add_reader("Reader A", i != 3);
		if (i == 0)
			pc.establish_rv = SCARD_E_NO_SERVICE;
		if (i == 2)
			substr = "FeliCa";
		if (i == 4)
			pc.connect_rv = SCARD_E_NO_SMARTCARD;
		if (i == 5)
			pc.begin_rv = SCARD_E_NOT_TRANSACTED;
		if (i == 6)
			pc.begin_reset_once = true;
		if (i == 7)
			pc.list_rv = SCARD_E_SERVICE_STOPPED;
		if (i == 8)
			pc.end_rv = SCARD_W_REMOVED_CARD;
		rc = mfa_pcsc_open(&p, substr, 0);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, expected %d", cases[i].setup, rc, cases[i].rc);
		if (rc == 0)
			mfa_pcsc_close(p);
		else
			assert_null(p);
		if (strcmp(pc.log, cases[i].log) != 0)
			fail_msg("%s: '%s', expected '%s'", cases[i].setup, pc.log, cases[i].log);
		assert_pc_released();
	}
	pc.active = false;
}

static void test_pcsc_wait_and_transmit(void **state)
{
	struct mfa_pcsc *p = NULL;
	struct mfa_card_io io;
	uint8_t resp[MFA_RESP_MAX];
	size_t rlen = sizeof(resp);
	static const uint8_t query[] = { 0x00, 0x20, 0x00, 0x80 };
	(void)state;

	/* the card arrives while we wait: one blocking wait, within card_wait */
	pc_reset();
	pc_add_reader("Reader A", false);
	pc.insert_on_wait = 0;
	assert_int_equal(mfa_pcsc_open(&p, "", 5), 0);
	assert_true(pc.wait_timeout > 0 && pc.wait_timeout <= 5000);
	assert_string_equal(pc.log, "E W C(Reader A) B ");
	/* a card pulled mid-session reads as "card gone" (doc/testing.md, the rig's error codes) */
	mfa_pcsc_io(p, &io);
	pc.transmit_rv = SCARD_E_NOT_TRANSACTED;
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), MFA_ERR_NOCARD);
	pc.transmit_rv = SCARD_W_REMOVED_CARD;
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), MFA_ERR_NOCARD);
	pc.transmit_rv = SCARD_S_SUCCESS;
	rlen = 1;
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), MFA_ERR_INVAL);
	rlen = sizeof(resp);
	assert_int_equal(io.transmit(io.ctx, query, 3, resp, &rlen), MFA_ERR_INVAL);
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), 0);
	assert_int_equal(rlen, 2);
	mfa_pcsc_close(p);
	assert_pc_released();

	/* nothing arrives: NOCARD after the wait, everything released */
	pc_reset();
	pc_add_reader("Reader A", false);
	p = NULL;
	assert_int_equal(mfa_pcsc_open(&p, "", 2), MFA_ERR_NOCARD);
	assert_null(p);
	assert_true(pc.wait_timeout > 0 && pc.wait_timeout <= 2000);
	assert_string_equal(pc.log, "E W R");
	assert_pc_released();
	/* card_wait = 0 looks once and never blocks */
	pc_reset();
	pc_add_reader("Reader A", false);
	assert_int_equal(mfa_pcsc_open(&p, "", 0), MFA_ERR_NOCARD);
	assert_string_equal(pc.log, "E R");
	pc.active = false;
}

static void test_pcsc_no_service(void **state)
{
	struct mfa_pcsc *p = (struct mfa_pcsc *)&p;
	(void)state;

	/* The real libpcsclite, at a socket nobody listens on: "no service". */
	pc.active = false;
	assert_int_equal(setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/mfauth-test/pcscd.comm", 1),
	    0);
	for (int i = 0; i < 3; i++) {   /* repeatable: nothing leaks between calls */
		assert_int_equal(mfa_pcsc_open(&p, "", 0), MFA_ERR_NOSERVICE);
		assert_null(p);
	}
	assert_int_equal(mfa_pcsc_open(NULL, "", 0), MFA_ERR_INVAL);
	mfa_pcsc_close(NULL);
	assert_string_equal(mfa_pcsc_reader(NULL), "");
	assert_int_equal(mfa_pcsc_reset(NULL), MFA_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apdu_build),
		cmocka_unit_test(test_apdu_set_le),
		cmocka_unit_test(test_apdu_chain),
		cmocka_unit_test(test_apdu_split),
		cmocka_unit_test(test_sw_table),
		cmocka_unit_test(test_tlv_get),
		cmocka_unit_test(test_tlv_find_put),
		cmocka_unit_test(test_jpki_login_contract),
		cmocka_unit_test(test_jpki_read_cert_contract),
		cmocka_unit_test(test_jpki_short_reads),
		cmocka_unit_test(test_piv_ec_login_contract),
		cmocka_unit_test(test_piv_rsa_login_contract),
		cmocka_unit_test(test_login_apdu_counts),
		cmocka_unit_test(test_piv_read_cert_contract),
		cmocka_unit_test(test_pin_refused_without_transmit),
		cmocka_unit_test(test_pin_apdu_wiped),
		cmocka_unit_test(test_wrong_pin_and_block),
		cmocka_unit_test(test_tries_ok),
		cmocka_unit_test(test_tries_status_words),
		cmocka_unit_test(test_verify_status_words),
		cmocka_unit_test(test_sign_status_words),
		cmocka_unit_test(test_endless_61xx),
		cmocka_unit_test(test_6Cxx_reissue),
		cmocka_unit_test(test_6Cxx_jpki),
		cmocka_unit_test(test_jpki_cert_header),
		cmocka_unit_test(test_piv_sign_response_malformed),
		cmocka_unit_test(test_sign_args_and_state),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_faults_at_every_step),
		cmocka_unit_test(test_piv_container),
		cmocka_unit_test(test_piv_gzip),
		cmocka_unit_test(test_piv_gzip_bomb_via_card),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_verify_signature),
		cmocka_unit_test(test_weak_rsa_exponents),
		cmocka_unit_test(test_cert_parse),
		cmocka_unit_test(test_cert_other_keys),
		cmocka_unit_test(test_cert_subject_edges),
		cmocka_unit_test(test_cert_chain),
		cmocka_unit_test(test_cert_to_factor),
		cmocka_unit_test(test_card_errors),
		cmocka_unit_test(test_id_from_cert),
		cmocka_unit_test(test_id_from_chuid),
		cmocka_unit_test(test_read_id_jpki),
		cmocka_unit_test(test_read_id_piv),
		cmocka_unit_test(test_piv_select_full_aid),
		cmocka_unit_test(test_piv_630x),
		cmocka_unit_test(test_login_guard_jpki),
		cmocka_unit_test(test_login_guard_piv),
		cmocka_unit_test(test_pcsc_error_map),
		cmocka_unit_test(test_pcsc_session),
		cmocka_unit_test(test_pcsc_failures),
		cmocka_unit_test(test_pcsc_wait_and_transmit),
		cmocka_unit_test(test_pcsc_no_service),
	};

	return cmocka_run_group_tests_name("card", tests, group_setup, group_teardown);
}
