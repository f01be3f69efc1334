/*
 * What the card unit tests share (cardtest.h).
 *
 * The fake card either plays a script (exact APDU expected -> response) or
 * emulates a JPKI or PIV card that really signs with keys generated once
 * per run, so a signature that verifies here would verify on the host in a
 * login.  On top of either it can inject a fault at the k-th exchange
 * (truncated response, status word only, endless 61xx, ...), which lets the
 * tests walk every step of every flow.
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
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "cardtest.h"
#include "testutil.h"

/* --- hex ------------------------------------------------------------------- */

void hexstr(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 3 * i, "%02X ", p[i]);
	out[n ? 3 * n - 1 : 0] = '\0';
}

/* --- keys and certificates, made once per run --------------------------- */

EVP_PKEY *rsa_a, *rsa_b, *ec_a, *ec_b;
uint8_t *cert_rsa_a, *cert_ec_a;
size_t cert_rsa_a_len, cert_ec_a_len;
uint8_t spki_rsa_a[MFA_SPKI_MAX], spki_rsa_b[MFA_SPKI_MAX];
uint8_t spki_ec_a[MFA_SPKI_MAX], spki_ec_b[MFA_SPKI_MAX];
size_t spki_rsa_a_len, spki_rsa_b_len, spki_ec_a_len, spki_ec_b_len;

EVP_PKEY *keygen(const char *type, int bits, const char *curve)
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

size_t spki_of(EVP_PKEY *k, uint8_t *out)
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
	                     (const unsigned char *)"JP", -1, -1, 0),
	    1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	                     (const unsigned char *)"mfauth test", -1, -1, 0),
	    1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	                     (const unsigned char *)cn, -1, -1, 0),
	    1);
	return n;
}

/* A certificate for key, signed by signer under issuer_cn (self-signed when equal). */
uint8_t *make_cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, const char *issuer_cn,
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

int cardtest_keys_setup(void **state)
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

int cardtest_keys_teardown(void **state)
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

struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	return f;
}

void fake_emulate(struct fake *f, uint8_t profile, EVP_PKEY *key, const uint8_t *obj, size_t objlen,
    const char *pin)
{
	f->profile = profile;
	f->key = key;
	f->object = obj;
	f->object_len = objlen;
	snprintf(f->pin, sizeof(f->pin), "%s", pin);
	f->tries = 3;
	f->max_read = 256;
}

void fake_fault(struct fake *f, size_t at, const char *resp_hex, bool sticky)
{
	f->fault_on = true;
	f->fault_at = at;
	f->fault_sticky = sticky;
	f->fault_len = tu_unhex(resp_hex, f->fault, sizeof(f->fault));
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
	static const uint8_t di_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
		0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

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
		if (off >= 4 && n > f->max_read) /* the header always comes whole */
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
		r[n++] = 0x82;
		r[n++] = (uint8_t)((siglen + 4) >> 8);
		r[n++] = (uint8_t)(siglen + 4);
		r[n++] = 0x82;
		r[n++] = 0x82;
		r[n++] = (uint8_t)(siglen >> 8);
		r[n++] = (uint8_t)siglen;
	} else {
		r[n++] = (uint8_t)(siglen + 2);
		r[n++] = 0x82;
		r[n++] = (uint8_t)siglen;
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
		return put_sw(out,
		    tu_unhex("61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08", out, 64),
		    0x9000);
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
		n = tu_unhex(f->script[i].expect, want, sizeof(want));
		if (n != len || memcmp(want, apdu, len) != 0) {
			if (!f->mismatch)
				f->mismatch_at = i;
			f->mismatch = true;
		}
	}
	return tu_unhex(f->script[i].resp, out, FAKE_RESP_MAX);
}

static int fake_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *resplen)
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
		return MFA_ERR_CARD; /* what SCardTransmit does: insufficient buffer */
	memcpy(resp, out, n);
	*resplen = n;
	return 0;
}

struct mfa_card_io fake_io(struct fake *f)
{
	struct mfa_card_io io = { fake_transmit, f };
	return io;
}

/* Assert the APDU log from index from equals the hex list. */
void assert_apdus(const struct fake *f, size_t from, const char *const *hex, size_t n)
{
	uint8_t want[MFA_APDU_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t len = tu_unhex(hex[i], want, sizeof(want));
		if (f->loglen[from + i] != len || memcmp(f->log[from + i], want, len) != 0)
			fail_msg("APDU %zu differs from DESIGN §5: expected %s", from + i, hex[i]);
	}
}

/* --- login flows (used by the contract and the fault tests) --------------- */

const char JPKI_SELECT_AP[] = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
const char JPKI_SELECT_CERT[] = "00 A4 02 0C 02 00 0A";
const char JPKI_SELECT_PIN[] = "00 A4 02 0C 02 00 18";
const char JPKI_SELECT_KEY[] = "00 A4 02 0C 02 00 17";
const char VERIFY_QUERY[] = "00 20 00 80";
const char PIV_SELECT[] = "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00";
const char PIV_GET_CERT[] = "00 CB 3F FF 05 5C 03 5F C1 05 00";
const char DIGESTINFO_PREFIX[] = "30 31 30 0d 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20";

/* A fixed challenge for the contract tests (random ones elsewhere). */
void fixed_challenge(uint8_t chal[MFA_CHALLENGE_LEN])
{
	for (size_t i = 0; i < MFA_CHALLENGE_LEN; i++)
		chal[i] = (uint8_t)(0xC0 + i);
}

void sha256(const uint8_t *p, size_t n, uint8_t md[32])
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

/*
 * A whole login: open, tries (must be ok for min 2), verify, sign, and the
 * host check against spki.  0 only when the signature verifies.
 */
int flow_login(struct fake *f, uint8_t profile, enum mfa_card_alg alg, const char *pin,
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
int flow_read_cert(struct fake *f, uint8_t profile, const uint8_t *want, size_t wantlen)
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
size_t piv_object(const uint8_t *cert, size_t clen, uint8_t info, uint8_t *out, size_t cap)
{
	size_t inner = 4 + clen + 3 + 2, n = 0;

	assert_true(clen <= 0xFFFF && inner + 4 <= cap);
	out[n++] = 0x53;
	out[n++] = 0x82;
	out[n++] = (uint8_t)(inner >> 8);
	out[n++] = (uint8_t)inner;
	out[n++] = 0x70;
	out[n++] = 0x82;
	out[n++] = (uint8_t)(clen >> 8);
	out[n++] = (uint8_t)clen;
	memcpy(out + n, cert, clen);
	n += clen;
	out[n++] = 0x71;
	out[n++] = 0x01;
	out[n++] = info;
	out[n++] = 0xFE;
	out[n++] = 0x00;
	return n;
}

/* gzip with zlib (deflate + gzip wrapper) into a malloc'd buffer. */
uint8_t *gzip(const uint8_t *in, size_t inlen, size_t *outlen)
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

/* --- identifiers before the PIN (issue 17) --------------------------------- */

const char PIV_SELECT_FULL[] = "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00";
const char PIV_GET_CHUID[] = "00 CB 3F FF 05 5C 03 5F C1 02 00";
const char JPKI_READ_HEAD[] = "00 B0 00 00 00";

/* A CHUID object: 53 { [EE] 30 FASC-N [32 org] 34 GUID 35 expiry 3E sig(siglen) FE 00 }. */
size_t chuid_object(uint8_t guid_byte, bool extras, size_t siglen, uint8_t *out, size_t cap)
{
	uint8_t body[2048];
	size_t n = 0, o = 0;

	assert_true(siglen + 128 <= sizeof(body));
	if (extras) {
		body[n++] = 0xEE;
		body[n++] = 0x01;
		body[n++] = 0x00;
	}
	body[n++] = 0x30;
	body[n++] = 25;
	for (int i = 0; i < 25; i++)
		body[n++] = (uint8_t)(0xD0 + i);
	if (extras) {
		body[n++] = 0x32;
		body[n++] = 0x02;
		body[n++] = 0x12;
		body[n++] = 0x34;
	}
	body[n++] = 0x34;
	body[n++] = 16;
	memset(body + n, guid_byte, 16);
	n += 16;
	body[n++] = 0x35;
	body[n++] = 8;
	memcpy(body + n, "20301231", 8);
	n += 8;
	body[n++] = 0x3E;
	body[n++] = 0x82;
	body[n++] = (uint8_t)(siglen >> 8);
	body[n++] = (uint8_t)siglen;
	memset(body + n, 0x5A, siglen);
	n += siglen;
	body[n++] = 0xFE;
	body[n++] = 0x00;
	assert_true(n + 4 <= cap);
	out[o++] = 0x53;
	out[o++] = 0x82;
	out[o++] = (uint8_t)(n >> 8);
	out[o++] = (uint8_t)n;
	memcpy(out + o, body, n);
	return o + n;
}
