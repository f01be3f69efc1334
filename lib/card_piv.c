/*
 * The PIV profile of the card layer (card.h): the PIV application, the CHUID,
 * key 9A's certificate object and GENERAL AUTHENTICATE, behind the ops table
 * card.c dispatches to (card_profile.h).  The APDUs are doc/DESIGN.md §5's PIV
 * table; tests/unit/test_card_piv.c holds them to it byte for byte.
 *
 * Heap memory (the certificate object, the signing template) is freed before
 * the function that took it returns; the VERIFY APDU and its PIN field are
 * wiped on every path (invariant 7).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/card.h"
#include "mfauth/err.h"
#include "mfauth/card_cert.h"
#include "card_profile.h"
#include "card_transfer.h"

/* A PIV certificate object: the certificate plus its 53/70/71/FE headers. */
#define PIV_OBJECT_MAX (MFA_CERT_MAX + 64)

#define PIV_PIN_MIN 6
#define PIV_PIN_MAX 8
#define PIV_KEY_AUTH 0x9A /* PIV Authentication: needs the PIN */
#define PIV_ALG_RSA2048 0x07
#define PIV_ALG_P256 0x11
#define PIV_EC_SIG_MAX 72 /* DER ECDSA-P256: 30 46 02 21 .. 02 21 .. */

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
	return card_select_result(sw);
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
	         MFA_APDU_LE_MAX)) != 0 ||
	    (rc = card_xfer(c, &cmd, obj, PIV_OBJECT_MAX, &objlen, &sw)) != 0)
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
	memcpy(block + 3 + ps, card_sha256_digestinfo, sizeof(card_sha256_digestinfo));
	memcpy(block + 3 + ps + sizeof(card_sha256_digestinfo), digest, SHA256_LEN);
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
static int piv_general_authenticate(struct mfa_card *c, uint8_t alg_ref, const struct mfa_buf *t,
    uint8_t *resp, size_t cap, size_t *rlen, uint16_t *sw)
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
			return card_data_result(*sw); /* never 0: sw is not 9000 */
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
	if (rc != 0 ||
	    (rc = piv_general_authenticate(c,
	         alg == MFA_CARD_ALG_RSA2048 ? PIV_ALG_RSA2048 : PIV_ALG_P256, &t, resp,
	         sizeof(resp), &rlen, &sw)) != 0)
		goto out;
	if ((rc = card_data_result(sw)) != 0 ||
	    (rc = piv_parse_response(resp, rlen, &s, &slen)) != 0)
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

const struct mfa_card_ops card_piv_ops = {
	.profile = MFA_CARD_PIV,
	.select = piv_select,
	.read_certificate = piv_read_certificate,
	.read_id = piv_read_id,
	.tries_630x = true, /* OpenSC's CI_VERIFY_630X (YubiKey NEO) */
	.pin_tries = card_tries_query,
	.pin_acceptable = piv_pin_acceptable,
	.verify_pin = piv_verify_pin,
	.sign = piv_sign,
};
