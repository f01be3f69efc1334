/*
 * Card identifiers as bytes (card.h, "Identifier"): what a login compares
 * with the enrollment before it sends any VERIFY.  Pure functions over
 * caller-owned bytes the card sent (hostile: every length is checked
 * against what is at hand, nothing is read past len), shared by login and
 * enrollment so that both derive the same bytes from the same card.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/card.h"
#include "mfauth/err.h"

#define SERIAL_MAX 40 /* RFC 5280 allows 20 octets; some CAs use more */
#define FASCN_LEN 25
#define GUID_LEN 16

/* Append len bytes at p to id (n bytes used of cap). */
static int id_append(uint8_t *id, size_t cap, size_t *n, const uint8_t *p, size_t len)
{
	if (len > cap - *n)
		return MFA_ERR_RANGE;
	memcpy(id + *n, p, len);
	*n += len;
	return 0;
}

/* A complete TLV with tag at the reader: its bytes (header included) start at *tlv. */
static int whole_tlv(struct mfa_reader *r, uint32_t want, const uint8_t **tlv, size_t *tlv_len)
{
	const uint8_t *start = r->p, *v;
	uint32_t tag;
	size_t vlen;

	if (mfa_tlv_get(r, &tag, &v, &vlen) != 0 || tag != want)
		return MFA_ERR_CARD;
	*tlv = start;
	*tlv_len = (size_t)(v + vlen - start);
	return 0;
}

/*
 * Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version OPTIONAL,
 * serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name, ... } }
 * Only the head is at hand: the two outer SEQUENCEs are entered by their
 * headers; version, serial and algorithm must be whole; the issuer is taken
 * as far as the head goes (at least its header).
 */
int mfa_card_id_from_cert(const uint8_t *der, size_t len, uint8_t *id, size_t cap, size_t *id_len)
{
	struct mfa_reader r;
	const uint8_t *tlv, *issuer;
	size_t tlen, vlen, n = 0;
	uint32_t tag;
	int rc;

	if (der == NULL || id == NULL || id_len == NULL)
		return MFA_ERR_INVAL;
	r = mfa_reader_init(der, len < MFA_CARD_HEAD_MAX ? len : MFA_CARD_HEAD_MAX);
	if (mfa_tlv_get_header(&r, &tag, &vlen) != 0 || tag != 0x30 ||
	    mfa_tlv_get_header(&r, &tag, &vlen) != 0 || tag != 0x30)
		return MFA_ERR_CARD;
	if (r.len > 0 && r.p[0] == 0xA0 && whole_tlv(&r, 0xA0, &tlv, &tlen) != 0)
		return MFA_ERR_CARD;
	/* tag, one length byte (a serial is never over 127 bytes), then the value */
	if (whole_tlv(&r, 0x02, &tlv, &tlen) != 0 || tlen < 3 || tlen - 2 > SERIAL_MAX)
		return MFA_ERR_CARD;
	if ((rc = id_append(id, cap, &n, tlv, tlen)) != 0)
		return rc;
	if (whole_tlv(&r, 0x30, &tlv, &tlen) != 0)
		return MFA_ERR_CARD;
	issuer = r.p;
	if (mfa_tlv_get_header(&r, &tag, &vlen) != 0 || tag != 0x30)
		return MFA_ERR_CARD;
	/* The issuer's header and as much of its value as the head holds. */
	tlen = (size_t)(r.p - issuer) + (vlen < r.len ? vlen : r.len);
	if ((rc = id_append(id, cap, &n, issuer, tlen)) != 0)
		return rc;
	*id_len = n;
	return 0;
}

/*
 * CHUID (SP 800-73-4 3.1.2): 53 { [EE buffer length] 30 FASC-N [32 org id]
 * [33 DUNS] 34 GUID 35 expiry [36 UUID] 3E signature FE LRC }.  The head
 * holds the first elements; the walk stops at the GUID, so the (large,
 * possibly cut) signature is never looked at.
 */
int mfa_card_id_from_chuid(const uint8_t *obj, size_t len, uint8_t *id, size_t cap, size_t *id_len)
{
	struct mfa_reader r;
	const uint8_t *fascn = NULL, *guid = NULL, *tlv;
	size_t vlen, tlen, n = 0;
	uint32_t tag;
	bool zero = true;
	int rc;

	if (obj == NULL || id == NULL || id_len == NULL)
		return MFA_ERR_INVAL;
	r = mfa_reader_init(obj, len < MFA_CARD_HEAD_MAX ? len : MFA_CARD_HEAD_MAX);
	if (mfa_tlv_get_header(&r, &tag, &vlen) != 0 || tag != 0x53)
		return MFA_ERR_CARD;
	if (vlen < r.len)
		r.len = vlen; /* nothing after the object counts */
	while (guid == NULL) {
		if (mfa_tlv_get(&r, &tag, &tlv, &tlen) != 0)
			return MFA_ERR_CARD;
		if (tag == 0x30 && fascn == NULL && tlen == FASCN_LEN)
			fascn = tlv;
		else if (tag == 0x34 && fascn != NULL && tlen == GUID_LEN)
			guid = tlv;
		else if (tag != 0xEE && tag != 0x32 && tag != 0x33)
			return MFA_ERR_CARD; /* out of order, repeated or misshapen */
	}
	for (size_t i = 0; i < GUID_LEN; i++)
		zero = zero && guid[i] == 0;
	if (zero)
		return MFA_ERR_NOENT; /* "no GUID": names no card in particular */
	if ((rc = id_append(id, cap, &n, (const uint8_t *)"\x30\x19", 2)) != 0 ||
	    (rc = id_append(id, cap, &n, fascn, FASCN_LEN)) != 0 ||
	    (rc = id_append(id, cap, &n, (const uint8_t *)"\x34\x10", 2)) != 0 ||
	    (rc = id_append(id, cap, &n, guid, GUID_LEN)) != 0)
		return rc;
	*id_len = n;
	return 0;
}
