/*
 * The card layer (card.h): one transfer routine that follows 61xx and 6Cxx
 * with bounds, and the JPKI and PIV profiles behind one small vtable.  The
 * APDUs are exactly doc/DESIGN.md §5's tables; tests/unit/test_card.c holds them
 * to it byte for byte.
 *
 * Ownership: struct mfa_card and every buffer are the caller's; the only
 * heap memory (the PIV certificate object, the PIV signing template) is
 * freed before the function that took it returns.  The
 * VERIFY APDU is the only place a PIN is copied to, and it is wiped on every
 * path (invariant 7).  Nothing is logged here.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/card.h"
#include "mfauth/err.h"
#include "mfauth/card_cert.h"

/* A PIV certificate object: the certificate plus its 53/70/71/FE headers. */
#define PIV_OBJECT_MAX (MFA_CERT_MAX + 64)
#define SHA256_LEN 32

struct mfa_card_ops {
	uint8_t profile;
	int (*select)(struct mfa_card *c);
	int (*read_certificate)(struct mfa_card *c, uint8_t *der, size_t cap, size_t *len);
	/* The identifier's object, head only: one APDU after any SELECT (card.h). */
	int (*read_id)(struct mfa_card *c, uint8_t *id, size_t cap, size_t *len);
	/* 63 0X answers X tries left (ISO leaves 63 01..0F undefined). */
	bool tries_630x;
	/* Send VERIFY without data; *sw is the card's answer. */
	int (*pin_tries)(struct mfa_card *c, uint16_t *sw);
	/* Can this PIN be sent at all?  Checked before anything is transmitted. */
	bool (*pin_acceptable)(const char *pin, size_t len);
	int (*verify_pin)(struct mfa_card *c, const char *pin, size_t len, uint16_t *sw);
	int (*sign)(struct mfa_card *c, enum mfa_card_alg alg, const uint8_t digest[SHA256_LEN],
	    uint8_t *sig, size_t cap, size_t *siglen);
};

/* DER of DigestInfo { sha256, NULL } up to the 32 hash bytes (RFC 8017 9.2). */
static const uint8_t sha256_digestinfo[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};
#define DIGESTINFO_LEN (sizeof(sha256_digestinfo) + SHA256_LEN)

/* --- transfer ------------------------------------------------------------- */

/* Send one command; the response is split in place in resp. */
static int card_exchange(struct mfa_card *c, const struct mfa_apdu *cmd,
    uint8_t resp[MFA_RESP_MAX], const uint8_t **data, size_t *dlen, uint16_t *sw)
{
	size_t rlen = MFA_RESP_MAX;
	int rc;

	c->apdus++;
	rc = c->io.transmit(c->io.ctx, cmd->bytes, cmd->len, resp, &rlen);
	if (rc != 0)
		return rc < 0 ? rc : MFA_ERR_CARD;
	/* A transport claiming more than the buffer holds is lying or broken. */
	if (rlen > MFA_RESP_MAX || mfa_apdu_split(resp, rlen, data, dlen, sw) != 0)
		return MFA_ERR_CARD;
	return 0;
}

/*
 * Send cmd and collect its response data into out (cap bytes): 6Cxx
 * re-issues the command once with the Le the card asked for (commands
 * without Le are never re-sent), 61xx fetches the rest with GET RESPONSE at
 * most MFA_CARD_MORE_MAX times -- unless head_only, which stops at the
 * first 61xx with what came so far (the rest is left on the card, and the
 * next command discards it).  A response longer than its Le, or the total
 * exceeding cap, is MFA_ERR_CARD.  On 0, *sw is the final status word,
 * whatever it is: the caller decides what it means.
 */
static int card_xfer_ex(struct mfa_card *c, struct mfa_apdu *cmd, uint8_t *out, size_t cap,
    size_t *outlen, uint16_t *sw, bool head_only)
{
	uint8_t resp[MFA_RESP_MAX];
	struct mfa_apdu getresp;
	struct mfa_apdu *cur = cmd;
	const uint8_t *data;
	size_t dlen, total = 0;
	unsigned arg, rounds = 0;
	bool reissued = false;
	int rc = MFA_ERR_CARD;

	for (;;) {
		if ((rc = card_exchange(c, cur, resp, &data, &dlen, sw)) != 0)
			goto out;
		rc = MFA_ERR_CARD;
		if (dlen > cur->le || dlen > cap - total)
			goto out;
		if (dlen > 0) {
			memcpy(out + total, data, dlen);
			total += dlen;
		}
		switch (mfa_sw_classify(*sw, &arg)) {
		case MFA_SW_WRONG_LE:
			if (reissued || dlen > 0 || cur->le == 0 ||
			    mfa_apdu_set_le(cur, arg ? arg : MFA_APDU_LE_MAX) != 0)
				goto out;
			reissued = true;
			continue;
		case MFA_SW_MORE:
			if (head_only)
				break;
			if (++rounds > MFA_CARD_MORE_MAX ||
			    mfa_apdu_build(&getresp, 0x00, 0xC0, 0x00, 0x00, NULL, 0,
			    arg ? arg : MFA_APDU_LE_MAX) != 0)
				goto out;
			cur = &getresp;
			continue;
		default:
			break;
		}
		break;
	}
	*outlen = total;
	rc = 0;
out:
	return rc;
}

static int card_xfer(struct mfa_card *c, struct mfa_apdu *cmd, uint8_t *out, size_t cap,
    size_t *outlen, uint16_t *sw)
{
	return card_xfer_ex(c, cmd, out, cap, outlen, sw, false);
}

/* A command whose response data (if any, at most 256 bytes) is not needed. */
static int card_command(struct mfa_card *c, struct mfa_apdu *cmd, uint16_t *sw)
{
	uint8_t scratch[MFA_APDU_LE_MAX];
	size_t n;

	return card_xfer(c, cmd, scratch, sizeof(scratch), &n, sw);
}

/* A SELECT's status word as an error: a missing file or AID means "not this card". */
static int select_result(uint16_t sw)
{
	if (sw == 0x9000)
		return 0;
	return mfa_sw_classify(sw, NULL) == MFA_SW_NOT_FOUND ? MFA_ERR_NOAPP : MFA_ERR_CARD;
}

/* The final status word of a data-returning command as an error. */
static int data_result(uint16_t sw)
{
	int rc = mfa_sw_to_err(sw);
	/* Only 6982 means something specific here; wrong-PIN codes cannot be. */
	return (rc == 0 || rc == MFA_ERR_PIN_REQUIRED) ? rc : MFA_ERR_CARD;
}

/* VERIFY without data: the same APDU for both profiles. */
static int card_tries_query(struct mfa_card *c, uint16_t *sw)
{
	struct mfa_apdu cmd;
	int rc;

	if ((rc = mfa_apdu_build(&cmd, 0x00, 0x20, 0x00, 0x80, NULL, 0, 0)) != 0)
		return rc;
	return card_command(c, &cmd, sw);
}

/* --- JPKI ------------------------------------------------------------------- */

#define JPKI_EF_CERT 0x000A             /* user-authentication certificate */
#define JPKI_EF_KEY 0x0017              /* user-authentication private key */
#define JPKI_EF_PIN 0x0018              /* user-authentication PIN */
#define JPKI_PIN_LEN 4
#define JPKI_READ_CHUNK 256

static const uint8_t jpki_aid[] = { 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01 };

static int jpki_select(struct mfa_card *c)
{
	struct mfa_apdu cmd;
	uint16_t sw;
	int rc;

	c->cur_ef = 0;
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xA4, 0x04, 0x0C, jpki_aid, sizeof(jpki_aid), 0)) != 0 ||
	    (rc = card_command(c, &cmd, &sw)) != 0)
		return rc;
	return select_result(sw);
}

/* SELECT an EF of the AP unless it is the current one already. */
static int jpki_select_ef(struct mfa_card *c, uint16_t ef)
{
	struct mfa_apdu cmd;
	uint8_t fid[2] = { (uint8_t)(ef >> 8), (uint8_t)ef };
	uint16_t sw;
	int rc;

	if (c->cur_ef == ef)
		return 0;
	c->cur_ef = 0;                  /* unknown until the card says yes */
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xA4, 0x02, 0x0C, fid, sizeof(fid), 0)) != 0 ||
	    (rc = card_command(c, &cmd, &sw)) != 0)
		return rc;
	if ((rc = select_result(sw)) != 0)
		return rc;
	c->cur_ef = ef;
	return 0;
}

/* READ BINARY at off for up to want bytes; *got is 1..want on success. */
static int jpki_read_binary(struct mfa_card *c, size_t off, size_t want, uint8_t *out,
    size_t *got)
{
	struct mfa_apdu cmd;
	uint16_t sw;
	int rc;

	/* P1 bit 8 would switch to short-EF addressing: offsets stay below 0x8000. */
	if (off > 0x7FFF)
		return MFA_ERR_CARD;
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off, NULL, 0,
	    want)) != 0 || (rc = card_xfer(c, &cmd, out, want, got, &sw)) != 0)
		return rc;
	if (sw != 0x9000 || *got == 0)
		return MFA_ERR_CARD;
	return 0;
}

/*
 * The EF holds the DER certificate with no length of its own: read the
 * 4-byte SEQUENCE header, then exactly the length it announces, refusing
 * anything over MFA_CERT_MAX before reading on.
 */
static int jpki_read_certificate(struct mfa_card *c, uint8_t *der, size_t cap, size_t *len)
{
	uint8_t hdr[4];
	size_t total, got = 0, n;
	unsigned reads = 0;
	int rc;

	if ((rc = jpki_select_ef(c, JPKI_EF_CERT)) != 0 ||
	    (rc = jpki_read_binary(c, 0, sizeof(hdr), hdr, &n)) != 0)
		return rc;
	if (n != sizeof(hdr) || hdr[0] != 0x30 || hdr[1] != 0x82)
		return MFA_ERR_CERT;
	total = sizeof(hdr) + ((size_t)hdr[2] << 8 | hdr[3]);
	if (total > MFA_CERT_MAX)
		return MFA_ERR_CERT;
	if (total > cap)
		return MFA_ERR_RANGE;
	memcpy(der, hdr, sizeof(hdr));
	got = sizeof(hdr);
	while (got < total) {
		size_t want = total - got < JPKI_READ_CHUNK ? total - got : JPKI_READ_CHUNK;

		if (++reads > MFA_CARD_READS_MAX)
			return MFA_ERR_CARD;
		if ((rc = jpki_read_binary(c, got, want, der + got, &n)) != 0)
			return rc;
		got += n;
	}
	*len = total;
	return 0;
}

/*
 * The head of the certificate: one READ BINARY of MFA_CARD_HEAD_MAX bytes.
 * 6282 (end of file before Le) is a certificate shorter than that, which
 * the enrollment then saw whole: both derive the identifier from the same
 * bytes.
 */
static int jpki_read_id(struct mfa_card *c, uint8_t *id, size_t cap, size_t *len)
{
	uint8_t head[MFA_CARD_HEAD_MAX];
	struct mfa_apdu cmd;
	size_t got = 0;
	uint16_t sw;
	int rc;

	if ((rc = jpki_select_ef(c, JPKI_EF_CERT)) != 0 ||
	    (rc = mfa_apdu_build(&cmd, 0x00, 0xB0, 0x00, 0x00, NULL, 0, sizeof(head))) != 0 ||
	    (rc = card_xfer_ex(c, &cmd, head, sizeof(head), &got, &sw, true)) != 0)
		return rc;
	if ((sw != 0x9000 && sw != 0x6282) || got == 0)
		return MFA_ERR_CARD;
	return mfa_card_id_from_cert(head, got, id, cap, len);
}

static int jpki_pin_tries(struct mfa_card *c, uint16_t *sw)
{
	int rc;

	if ((rc = jpki_select_ef(c, JPKI_EF_PIN)) != 0)
		return rc;
	return card_tries_query(c, sw);
}

static bool jpki_pin_acceptable(const char *pin, size_t len)
{
	if (len != JPKI_PIN_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

static int jpki_verify_pin(struct mfa_card *c, const char *pin, size_t len, uint16_t *sw)
{
	struct mfa_apdu cmd;
	int rc;

	if ((rc = jpki_select_ef(c, JPKI_EF_PIN)) != 0)
		return rc;
	rc = mfa_apdu_build(&cmd, 0x00, 0x20, 0x00, 0x80, (const uint8_t *)pin, len, 0);
	if (rc == 0)
		rc = card_command(c, &cmd, sw);
	mfa_wipe(&cmd, sizeof(cmd));
	return rc;
}

/* The host builds DigestInfo, the card adds PKCS#1 v1.5 padding and signs. */
static int jpki_sign(struct mfa_card *c, enum mfa_card_alg alg, const uint8_t digest[SHA256_LEN],
    uint8_t *sig, size_t cap, size_t *siglen)
{
	uint8_t di[DIGESTINFO_LEN];
	struct mfa_apdu cmd;
	uint16_t sw;
	size_t n;
	int rc;

	if (alg != MFA_CARD_ALG_RSA2048)
		return MFA_ERR_KEYTYPE;
	if (cap < 256)
		return MFA_ERR_RANGE;
	memcpy(di, sha256_digestinfo, sizeof(sha256_digestinfo));
	memcpy(di + sizeof(sha256_digestinfo), digest, SHA256_LEN);
	if ((rc = jpki_select_ef(c, JPKI_EF_KEY)) != 0 ||
	    (rc = mfa_apdu_build(&cmd, 0x80, 0x2A, 0x00, 0x80, di, sizeof(di),
	    MFA_APDU_LE_MAX)) != 0 || (rc = card_xfer(c, &cmd, sig, 256, &n, &sw)) != 0)
		return rc;
	if ((rc = data_result(sw)) != 0)
		return rc;
	if (n != 256)
		return MFA_ERR_CARD;
	*siglen = n;
	return 0;
}

static const struct mfa_card_ops jpki_ops = {
	.profile = MFA_CARD_JPKI,
	.select = jpki_select,
	.read_certificate = jpki_read_certificate,
	.read_id = jpki_read_id,
	.tries_630x = false,            /* no JPKI card is known to answer so */
	.pin_tries = jpki_pin_tries,
	.pin_acceptable = jpki_pin_acceptable,
	.verify_pin = jpki_verify_pin,
	.sign = jpki_sign,
};

/* --- PIV ------------------------------------------------------------------- */

#define PIV_PIN_MIN 6
#define PIV_PIN_MAX 8
#define PIV_KEY_AUTH 0x9A               /* PIV Authentication: needs the PIN */
#define PIV_ALG_RSA2048 0x07
#define PIV_ALG_P256 0x11
#define PIV_EC_SIG_MAX 72               /* DER ECDSA-P256: 30 46 02 21 .. 02 21 .. */

/* The PIX without its version (as OpenSC selects it), then with version 01 00. */
static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01,
	0x00 };
#define PIV_AID_SHORT 9

static int piv_select_aid(struct mfa_card *c, size_t aid_len, uint16_t *sw)
{
	struct mfa_apdu cmd;
	int rc;

	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xA4, 0x04, 0x00, piv_aid, aid_len,
	    MFA_APDU_LE_MAX)) != 0)
		return rc;
	return card_command(c, &cmd, sw);
}

/* Cards that match only the full AID answer 6A82 to the short one: one more SELECT. */
static int piv_select(struct mfa_card *c)
{
	uint16_t sw;
	int rc;

	if ((rc = piv_select_aid(c, PIV_AID_SHORT, &sw)) != 0)
		return rc;
	if (mfa_sw_classify(sw, NULL) == MFA_SW_NOT_FOUND &&
	    (rc = piv_select_aid(c, sizeof(piv_aid), &sw)) != 0)
		return rc;
	return select_result(sw);
}

/*
 * GET DATA of the CHUID (5FC102), head only.  6A82: the card has no CHUID
 * (MFA_ERR_NOENT, as for a GUID of zeros: enrollment then falls back to the
 * certificate's key).
 */
static int piv_read_id(struct mfa_card *c, uint8_t *id, size_t cap, size_t *len)
{
	static const uint8_t tag_list[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x02 };
	uint8_t head[MFA_CARD_HEAD_MAX];
	struct mfa_apdu cmd;
	size_t got = 0;
	uint16_t sw;
	int rc;

	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xCB, 0x3F, 0xFF, tag_list, sizeof(tag_list),
	    sizeof(head))) != 0 ||
	    (rc = card_xfer_ex(c, &cmd, head, sizeof(head), &got, &sw, true)) != 0)
		return rc;
	if (mfa_sw_classify(sw, NULL) == MFA_SW_NOT_FOUND)
		return MFA_ERR_NOENT;
	if ((sw != 0x9000 && mfa_sw_classify(sw, NULL) != MFA_SW_MORE) || got == 0)
		return MFA_ERR_CARD;
	return mfa_card_id_from_chuid(head, got, id, cap, len);
}

/* GET DATA of the PIV Authentication certificate object (5FC105). */
static int piv_read_certificate(struct mfa_card *c, uint8_t *der, size_t cap, size_t *len)
{
	static const uint8_t tag_list[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x05 };
	struct mfa_apdu cmd;
	uint8_t *obj = NULL;
	size_t objlen;
	uint16_t sw;
	int rc;

	if ((obj = malloc(PIV_OBJECT_MAX)) == NULL)
		return MFA_ERR_NOMEM;
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xCB, 0x3F, 0xFF, tag_list, sizeof(tag_list),
	    MFA_APDU_LE_MAX)) != 0 || (rc = card_xfer(c, &cmd, obj, PIV_OBJECT_MAX, &objlen,
	    &sw)) != 0)
		goto out;
	if (sw != 0x9000) {
		/* 6A82: the slot holds no certificate; nothing to enroll either way. */
		rc = mfa_sw_classify(sw, NULL) == MFA_SW_NOT_FOUND ? MFA_ERR_CERT : MFA_ERR_CARD;
		goto out;
	}
	rc = mfa_piv_cert_unwrap(obj, objlen, der, cap, len);
out:
	free(obj);
	return rc;
}

static bool piv_pin_acceptable(const char *pin, size_t len)
{
	if (len < PIV_PIN_MIN || len > PIV_PIN_MAX)
		return false;
	/*
	 * SP 800-73-4 3.5.3: the PIV Card Application PIN is 6-8 digits.  A
	 * card enforcing it answers 6A80 to anything else, which would cost
	 * the clerk a failed login for a typo the host can see.
	 */
	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

static int piv_verify_pin(struct mfa_card *c, const char *pin, size_t len, uint16_t *sw)
{
	uint8_t field[PIV_PIN_MAX];
	struct mfa_apdu cmd;
	int rc;

	memset(field, 0xFF, sizeof(field));
	memcpy(field, pin, len);
	rc = mfa_apdu_build(&cmd, 0x00, 0x20, 0x00, 0x80, field, sizeof(field), 0);
	if (rc == 0)
		rc = card_command(c, &cmd, sw);
	mfa_wipe(field, sizeof(field));
	mfa_wipe(&cmd, sizeof(cmd));
	return rc;
}

/* EMSA-PKCS1-v1_5 (RFC 8017 9.2) for a 2048-bit key: 00 01 FF.. 00 DigestInfo. */
static void piv_pkcs1_block(uint8_t block[256], const uint8_t digest[SHA256_LEN])
{
	size_t ps = 256 - 3 - DIGESTINFO_LEN;

	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, ps);
	block[2 + ps] = 0x00;
	memcpy(block + 3 + ps, sha256_digestinfo, sizeof(sha256_digestinfo));
	memcpy(block + 3 + ps + sizeof(sha256_digestinfo), digest, SHA256_LEN);
}

/*
 * Dynamic Authentication Template 7C { 82 (empty: response wanted), 81 <input> }.
 * The input is the full RSA block or, for EC, the hash.
 */
static int piv_auth_template(struct mfa_buf *t, const uint8_t *input, size_t ilen)
{
	size_t hdr81 = ilen < 0x80 ? 2 : ilen <= 0xFF ? 3 : 4;

	mfa_tlv_put_header(t, 0x7C, 2 + hdr81 + ilen);
	mfa_put_u8(t, 0x82);
	mfa_put_u8(t, 0x00);
	mfa_tlv_put_header(t, 0x81, ilen);
	mfa_put_bytes(t, input, ilen);
	return mfa_buf_error(t);
}

/* 7C L { 82 L <signature> }, nothing around it: the signature's place in resp. */
static int piv_parse_response(const uint8_t *resp, size_t len, const uint8_t **sig, size_t *siglen)
{
	struct mfa_reader r = mfa_reader_init(resp, len);
	const uint8_t *tmpl;
	size_t tlen;
	uint32_t tag;

	if (mfa_tlv_get(&r, &tag, &tmpl, &tlen) != 0 || tag != 0x7C || r.len != 0)
		return MFA_ERR_CARD;
	if (mfa_tlv_find(tmpl, tlen, 0x82, sig, siglen) != 0)
		return MFA_ERR_CARD;
	return 0;
}

/* Send the template (chained when over 255 bytes) and collect the response. */
static int piv_general_authenticate(struct mfa_card *c, uint8_t alg_ref,
    const struct mfa_buf *t, uint8_t *resp, size_t cap, size_t *rlen, uint16_t *sw)
{
	struct mfa_apdu cmd;
	size_t n = mfa_apdu_chain_count(t->len);
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = mfa_apdu_build_chained(&cmd, i, 0x00, 0x87, alg_ref, PIV_KEY_AUTH,
		    t->data, t->len, MFA_APDU_LE_MAX)) != 0)
			return rc;
		if (i + 1 == n)
			return card_xfer(c, &cmd, resp, cap, rlen, sw);
		/* A link of the chain must be accepted as is before the next is sent. */
		if ((rc = card_command(c, &cmd, sw)) != 0)
			return rc;
		if (*sw != 0x9000)
			return data_result(*sw);        /* never 0: sw is not 9000 */
	}
	return MFA_ERR_CARD;
}

static int piv_sign(struct mfa_card *c, enum mfa_card_alg alg, const uint8_t digest[SHA256_LEN],
    uint8_t *sig, size_t cap, size_t *siglen)
{
	uint8_t block[256], resp[512];
	const uint8_t *s;
	struct mfa_buf t;
	size_t rlen, slen;
	uint16_t sw;
	int rc = MFA_ERR_CARD;

	mfa_buf_init(&t);
	if (alg == MFA_CARD_ALG_RSA2048) {
		piv_pkcs1_block(block, digest);
		rc = piv_auth_template(&t, block, sizeof(block));
	} else if (alg == MFA_CARD_ALG_P256) {
		rc = piv_auth_template(&t, digest, SHA256_LEN);
	} else {
		rc = MFA_ERR_KEYTYPE;
	}
	if (rc != 0 || (rc = piv_general_authenticate(c, alg == MFA_CARD_ALG_RSA2048 ?
	    PIV_ALG_RSA2048 : PIV_ALG_P256, &t, resp, sizeof(resp), &rlen, &sw)) != 0)
		goto out;
	if ((rc = data_result(sw)) != 0 || (rc = piv_parse_response(resp, rlen, &s, &slen)) != 0)
		goto out;
	rc = MFA_ERR_CARD;
	if (alg == MFA_CARD_ALG_RSA2048 ? slen != 256 : (slen < 8 || slen > PIV_EC_SIG_MAX))
		goto out;
	rc = MFA_ERR_RANGE;
	if (slen > cap)
		goto out;
	memcpy(sig, s, slen);
	*siglen = slen;
	rc = 0;
out:
	mfa_buf_free(&t);
	return rc;
}

static const struct mfa_card_ops piv_ops = {
	.profile = MFA_CARD_PIV,
	.select = piv_select,
	.read_certificate = piv_read_certificate,
	.read_id = piv_read_id,
	.tries_630x = true,             /* OpenSC's CI_VERIFY_630X (YubiKey NEO) */
	.pin_tries = card_tries_query,
	.pin_acceptable = piv_pin_acceptable,
	.verify_pin = piv_verify_pin,
	.sign = piv_sign,
};

/* --- profile-independent entry points ------------------------------------- */

int mfa_card_open(struct mfa_card *card, const struct mfa_card_io *io, uint8_t profile)
{
	const struct mfa_card_ops *ops;
	int rc;

	if (card == NULL || io == NULL || io->transmit == NULL)
		return MFA_ERR_INVAL;
	memset(card, 0, sizeof(*card));
	card->io = *io;
	if (profile == MFA_CARD_JPKI)
		ops = &jpki_ops;
	else if (profile == MFA_CARD_PIV)
		ops = &piv_ops;
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
		*tries = (int)arg;      /* 63C0 is MFA_CARD_TRIES_BLOCKED */
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

int mfa_card_sign_challenge(struct mfa_card *card, enum mfa_card_alg alg,
    const uint8_t *chal, size_t chal_len, uint8_t *sig, size_t cap, size_t *siglen)
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

