/*
 * libFuzzer target for everything that parses bytes from a smartcard
 * (lib/card_apdu.c, lib/card*.c).
 *
 * Input: byte 0 picks a mode; the rest is, for the card modes, a sequence of
 * card responses, each a big-endian u16 length and that many bytes (a length
 * past the end takes what is left).  A fake transport hands them out one per
 * APDU and reports the card gone when they run out; a response larger than
 * the caller's buffer is refused as SCardTransmit would.  Other modes feed
 * the rest directly to one parser.
 *
 *   0 JPKI read certificate (then parse it)   1 JPKI login, RSA
 *   2 PIV read certificate (then parse it)    3 PIV login, RSA (chained)
 *   4 PIV login, P-256                        5 BER-TLV walk (nested)
 *   6 PIV certificate object unwrap + parse   7 certificate parse + checks
 *   8 responses split and classified
 *   9 the login with the identifier guard (card_auth.c): profile and kind of
 *     the enrolled identifier from the high part of byte 0
 *  10 identifier read (JPKI certificate head, PIV CHUID)
 *  11 identifier parsers on raw bytes (certificate head, CHUID)
 *
 * Properties checked (abort on violation): every APDU the library builds is a
 * well-formed short APDU; nothing returned exceeds its documented bound; a
 * refused PIN never reaches the card; a TLV's value lies inside its input; an
 * identifier read sends no VERIFY and at most 4 APDUs, and a card refused as
 * not the enrolled one was never asked for, nor sent, a PIN; a certificate's
 * identifier is the same from the whole certificate and from its head.
 * ASan/UBSan catch the rest.  The keys the login modes verify against are
 * generated once; nothing here reads the clock or the RNG per input, so a
 * crash replays.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/card.h"
#include "mfauth/card_auth.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

enum {
	M_JPKI_CERT,
	M_JPKI_LOGIN,
	M_PIV_CERT,
	M_PIV_RSA,
	M_PIV_EC,
	M_TLV,
	M_PIV_OBJECT,
	M_CERT,
	M_SPLIT,
	M_GUARD,
	M_ID_READ,
	M_ID_PARSE,
	M_COUNT
};

static uint8_t spki_rsa[MFA_SPKI_MAX], spki_ec[MFA_SPKI_MAX];
static size_t spki_rsa_len, spki_ec_len;

struct fuzz_card {
	const uint8_t *p;
	size_t len;
	bool pin_sent; /* a VERIFY with data went out */
};

/* Take the next u16-length-prefixed chunk of the input. */
static bool next_chunk(struct fuzz_card *fc, const uint8_t **chunk, size_t *n)
{
	size_t want;

	if (fc->len < 2)
		return false;
	want = (size_t)fc->p[0] << 8 | fc->p[1];
	fc->p += 2;
	fc->len -= 2;
	if (want > fc->len)
		want = fc->len;
	*chunk = fc->p;
	*n = want;
	fc->p += want;
	fc->len -= want;
	return true;
}

/* Is apdu a well-formed short APDU (what mfa_apdu_build promises)? */
static bool apdu_wellformed(const uint8_t *a, size_t len)
{
	if (len < 4 || len > MFA_APDU_MAX)
		return false;
	if (len == 4 || len == 5)
		return true;
	return a[4] != 0 && (len == 5u + a[4] || len == 6u + a[4]);
}

static int fuzz_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *resplen)
{
	struct fuzz_card *fc = ctx;
	const uint8_t *chunk;
	size_t n;

	if (!apdu_wellformed(apdu, len))
		abort();
	if (apdu[1] == 0x20 && len > 5)
		fc->pin_sent = true;
	if (!next_chunk(fc, &chunk, &n))
		return MFA_ERR_NOCARD;
	if (n > *resplen)
		return MFA_ERR_CARD;
	if (n > 0)
		memcpy(resp, chunk, n);
	*resplen = n;
	return 0;
}

static void check_cert(const uint8_t *der, size_t len, uint8_t profile)
{
	struct mfa_cert_info info;
	struct mfa_card_factor f;
	enum mfa_card_alg alg;

	if (mfa_cert_parse(der, len, &info) != 0)
		return;
	if (info.spki_len == 0 || info.spki_len > MFA_SPKI_MAX ||
	    memchr(info.subject, '\0', sizeof(info.subject)) == NULL ||
	    memchr(info.serial, '\0', sizeof(info.serial)) == NULL)
		abort();
	for (const char *s = info.subject; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7E)
			abort(); /* it goes into records and logs as is */
	(void)mfa_cert_check_profile(&info, profile);
	(void)mfa_cert_check_time(&info, 1750000000);
	if (mfa_cert_to_factor(&info, profile, 1750000000, &f) != 0)
		abort();
	/* what enrollment recorded, the login side must read back the same way */
	if (mfa_spki_alg(f.spki, f.spki_len, &alg) == 0 && alg != info.alg)
		abort();
}

static void run_read_cert(struct fuzz_card *fc, uint8_t profile)
{
	struct mfa_card_io io = { fuzz_transmit, fc };
	struct mfa_card card;
	uint8_t *der = malloc(MFA_CERT_MAX);
	size_t len = 0;

	if (der == NULL)
		return;
	if (mfa_card_open(&card, &io, profile) == 0 &&
	    mfa_card_read_certificate(&card, der, MFA_CERT_MAX, &len) == 0) {
		if (len == 0 || len > MFA_CERT_MAX)
			abort();
		check_cert(der, len, profile);
	}
	free(der);
}

/* A login as the module runs it; PINs chosen by the input, valid or not. */
static void run_login(struct fuzz_card *fc, uint8_t profile, enum mfa_card_alg alg, uint8_t pinsel)
{
	static const char *const pins[] = { "1234", "123456", "12345678", "", "123", "12a4",
		"1234567\xff" };
	struct mfa_card_io io = { fuzz_transmit, fc };
	struct mfa_card card;
	uint8_t chal[MFA_CHALLENGE_LEN], sig[MFA_SIG_MAX];
	const char *pin = pins[pinsel % (sizeof(pins) / sizeof(pins[0]))];
	size_t siglen = 0;
	int tries = 0, rc;

	memset(chal, 0x5A, sizeof(chal));
	if (mfa_card_open(&card, &io, profile) != 0)
		return;
	if (mfa_card_pin_tries(&card, &tries) == 0 &&
	    (tries < MFA_CARD_TRIES_VERIFIED || tries > 15))
		abort();
	(void)mfa_card_tries_ok(tries, 2);
	rc = mfa_card_verify_pin(&card, pin, strlen(pin), &tries);
	if (rc == MFA_ERR_PIN_FORMAT && fc->pin_sent)
		abort(); /* a refused PIN must never have been transmitted */
	if (mfa_card_sign_challenge(&card, alg, chal, sizeof(chal), sig, sizeof(sig), &siglen) != 0)
		return;
	if (siglen == 0 || siglen > MFA_SIG_MAX || (alg == MFA_CARD_ALG_RSA2048 && siglen != 256))
		abort();
	(void)mfa_card_verify_signature(alg == MFA_CARD_ALG_RSA2048 ? spki_rsa : spki_ec,
	    alg == MFA_CARD_ALG_RSA2048 ? spki_rsa_len : spki_ec_len, chal, sizeof(chal), sig,
	    siglen);
}

/* Walk TLVs, descending into constructed ones (bit 6 of the first tag byte). */
static void walk_tlv(const uint8_t *p, size_t len, int depth)
{
	struct mfa_reader r = mfa_reader_init(p, len);
	const uint8_t *v;
	size_t vlen;
	uint32_t tag;

	while (r.len > 0 && depth < 8) {
		size_t before = r.len;

		if (mfa_tlv_get(&r, &tag, &v, &vlen) != 0) {
			if (r.len != before)
				abort(); /* a failure consumes nothing */
			return;
		}
		if (v < p || v + vlen > p + len || r.len >= before)
			abort();
		{
			uint32_t first = tag > 0xFFFF ? tag >> 16 : tag > 0xFF ? tag >> 8 : tag;
			if (first & 0x20)
				walk_tlv(v, vlen, depth + 1);
		}
	}
	(void)mfa_tlv_find(p, len, 0x7C, &v, &vlen);
}

static void run_piv_object(const uint8_t *p, size_t len)
{
	uint8_t *der = malloc(MFA_CERT_MAX);
	size_t dlen = 0;

	if (der == NULL)
		return;
	if (mfa_piv_cert_unwrap(p, len, der, MFA_CERT_MAX, &dlen) == 0) {
		if (dlen == 0 || dlen > MFA_CERT_MAX)
			abort();
		check_cert(der, dlen, MFA_CARD_PIV);
	}
	free(der);
}

static void run_split(struct fuzz_card *fc)
{
	const uint8_t *chunk, *d;
	size_t n, dlen;
	uint16_t sw;
	unsigned arg;

	while (next_chunk(fc, &chunk, &n)) {
		if (mfa_apdu_split(chunk, n, &d, &dlen, &sw) != 0) {
			if (n >= 2)
				abort();
			continue;
		}
		if (dlen + 2 != n)
			abort();
		if (mfa_sw_classify(sw, &arg) == MFA_SW_TRIES && arg > 15)
			abort();
		(void)mfa_sw_to_err(sw);
	}
}

/* --- identifiers before the PIN ------------------------------------------- */

struct guard_hooks {
	struct fuzz_card *fc;
	bool asked;
};

static int guard_ask(void *ctx, uint8_t profile, int tries_left, char **pin)
{
	struct guard_hooks *g = ctx;

	(void)tries_left;
	g->asked = true;
	*pin = strdup(profile == MFA_CARD_JPKI ? "1234" : "123456");
	return *pin != NULL ? 0 : MFA_ERR_NOMEM;
}

static int guard_reset(void *ctx)
{
	(void)ctx;
	return 0;
}

/* The whole login against an enrolled factor whose identifier sel chooses. */
static void run_guard(struct fuzz_card *fc, uint8_t sel)
{
	/* clang-format off */
	static const uint8_t kinds[2][3] = {
		{ MFA_CARD_ID_LEGACY, MFA_CARD_ID_CERT, MFA_CARD_ID_CERT },
		{ MFA_CARD_ID_LEGACY, MFA_CARD_ID_CHUID, MFA_CARD_ID_SPKI },
	};
	/* clang-format on */
	struct mfa_card_io io = { fuzz_transmit, fc };
	struct guard_hooks g = { fc, false };
	struct mfa_card_hooks hooks = { guard_ask, guard_reset, &g };
	struct mfa_card_outcome out;
	struct mfa_card_factor *f = calloc(1, sizeof(*f));
	bool piv = sel & 1;
	int rc;

	if (f == NULL)
		return;
	f->present = true;
	f->profile = piv ? MFA_CARD_PIV : MFA_CARD_JPKI;
	f->not_after = UINT64_MAX;
	memcpy(f->spki, piv && (sel & 8) ? spki_ec : spki_rsa,
	    piv && (sel & 8) ? spki_ec_len : spki_rsa_len);
	f->spki_len = piv && (sel & 8) ? spki_ec_len : spki_rsa_len;
	f->id_kind = kinds[piv][(sel >> 1) % 3];
	if (f->id_kind == MFA_CARD_ID_CERT || f->id_kind == MFA_CARD_ID_CHUID) {
		/* an identifier the input can match: 30 19 <25 x 00> 34 10 <16 x 11> */
		memset(f->id, 0, MFA_CHUID_ID_LEN);
		memcpy(f->id, "\x30\x19", 2);
		memcpy(f->id + 27, "\x34\x10", 2);
		memset(f->id + 29, 0x11, 16);
		f->id_len = MFA_CHUID_ID_LEN;
	}
	rc = mfa_card_login(f, &io, &hooks, 2, 1750000000, &out);
	if (rc == MFA_ERR_WRONG_CARD && (g.asked || fc->pin_sent))
		abort(); /* the guard exists so that this never happens */
	if ((rc == MFA_ERR_TRIES_UNKNOWN || rc == MFA_ERR_PIN_TRIES) && (g.asked || fc->pin_sent))
		abort();
	free(f);
}

static void run_read_id(struct fuzz_card *fc, uint8_t profile)
{
	struct mfa_card_io io = { fuzz_transmit, fc };
	struct mfa_card card;
	uint8_t id[MFA_CARD_ID_MAX];
	size_t n = 0;
	unsigned opened;
	int rc;

	if (mfa_card_open(&card, &io, profile) != 0)
		return;
	opened = card.apdus;
	rc = mfa_card_read_id(&card, id, sizeof(id), &n);
	/* SELECT EF (JPKI) + one read, re-issued at most once after 6Cxx */
	if (fc->pin_sent || card.apdus - opened > 3)
		abort();
	if (rc == 0 &&
	    (n == 0 || n > sizeof(id) || (profile == MFA_CARD_PIV && n != MFA_CHUID_ID_LEN)))
		abort();
}

static void run_id_parse(const uint8_t *p, size_t len, bool chuid)
{
	uint8_t id[MFA_CARD_ID_MAX], id2[MFA_CARD_ID_MAX];
	size_t n = 0, n2 = 0;

	if (chuid) {
		if (mfa_card_id_from_chuid(p, len, id, sizeof(id), &n) == 0 &&
		    n != MFA_CHUID_ID_LEN)
			abort();
		return;
	}
	if (mfa_card_id_from_cert(p, len, id, sizeof(id), &n) != 0)
		return;
	if (n == 0 || n > MFA_CARD_HEAD_MAX)
		abort();
	/* login reads the head, enrollment has the whole: the same bytes */
	if (len > MFA_CARD_HEAD_MAX &&
	    (mfa_card_id_from_cert(p, MFA_CARD_HEAD_MAX, id2, sizeof(id2), &n2) != 0 || n2 != n ||
	        memcmp(id, id2, n) != 0))
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *rsa, *ec;
	unsigned char *p;

	(void)argc;
	(void)argv;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa == NULL || ec == NULL)
		abort();
	p = spki_rsa;
	spki_rsa_len = (size_t)i2d_PUBKEY(rsa, &p);
	p = spki_ec;
	spki_ec_len = (size_t)i2d_PUBKEY(ec, &p);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_card fc;
	uint8_t mode, sel;

	if (size < 1)
		return 0;
	/* replay.c calls Initialize; a bare libFuzzer run without it still works */
	if (spki_rsa_len == 0)
		LLVMFuzzerInitialize(NULL, NULL);
	mode = (uint8_t)(data[0] % M_COUNT);
	fc.p = data + 1;
	fc.len = size - 1;
	fc.pin_sent = false;
	/* the high part of byte 0 picks the PIN (logins) or the profile (certificates) */
	sel = (uint8_t)(data[0] / M_COUNT);
	switch (mode) {
	case M_JPKI_CERT:
		run_read_cert(&fc, MFA_CARD_JPKI);
		break;
	case M_JPKI_LOGIN:
		run_login(&fc, MFA_CARD_JPKI, MFA_CARD_ALG_RSA2048, sel);
		break;
	case M_PIV_CERT:
		run_read_cert(&fc, MFA_CARD_PIV);
		break;
	case M_PIV_RSA:
		run_login(&fc, MFA_CARD_PIV, MFA_CARD_ALG_RSA2048, sel);
		break;
	case M_PIV_EC:
		run_login(&fc, MFA_CARD_PIV, MFA_CARD_ALG_P256, sel);
		break;
	case M_TLV:
		walk_tlv(data + 1, size - 1, 0);
		break;
	case M_PIV_OBJECT:
		run_piv_object(data + 1, size - 1);
		break;
	case M_CERT:
		check_cert(data + 1, size - 1, sel & 1 ? MFA_CARD_PIV : MFA_CARD_JPKI);
		break;
	case M_SPLIT:
		run_split(&fc);
		break;
	case M_GUARD:
		run_guard(&fc, sel);
		break;
	case M_ID_READ:
		run_read_id(&fc, sel & 1 ? MFA_CARD_PIV : MFA_CARD_JPKI);
		break;
	case M_ID_PARSE:
		run_id_parse(data + 1, size - 1, sel & 1);
		break;
	}
	return 0;
}
