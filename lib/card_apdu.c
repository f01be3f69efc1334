/*
 * Short APDUs, the status-word table and BER-TLV (see card_apdu.h).
 *
 * Everything here is pure byte shuffling on caller-owned memory: no
 * allocation, no I/O, so the fuzzer and the unit tests reach every branch.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mfauth/card_apdu.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"

int mfa_apdu_build(struct mfa_apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t dlen, size_t le)
{
	size_t n = 0;

	if (dlen > MFA_APDU_DATA_MAX || le > MFA_APDU_LE_MAX || (dlen > 0 && data == NULL))
		return MFA_ERR_RANGE;
	a->bytes[n++] = cla;
	a->bytes[n++] = ins;
	a->bytes[n++] = p1;
	a->bytes[n++] = p2;
	if (dlen > 0) {
		a->bytes[n++] = (uint8_t)dlen;
		memcpy(a->bytes + n, data, dlen);
		n += dlen;
	}
	if (le > 0)
		a->bytes[n++] = (uint8_t)(le == MFA_APDU_LE_MAX ? 0 : le);
	a->len = n;
	a->le = le;
	return 0;
}

int mfa_apdu_set_le(struct mfa_apdu *a, size_t le)
{
	if (le == 0 || le > MFA_APDU_LE_MAX || a->len < 4 || a->len > MFA_APDU_MAX ||
	    (a->le == 0 && a->len == MFA_APDU_MAX))
		return MFA_ERR_RANGE;
	if (a->le == 0)
		a->len++; /* the field did not exist: append it */
	a->bytes[a->len - 1] = (uint8_t)(le == MFA_APDU_LE_MAX ? 0 : le);
	a->le = le;
	return 0;
}

size_t mfa_apdu_chain_count(size_t dlen)
{
	if (dlen == 0)
		return 1;
	return (dlen + MFA_APDU_DATA_MAX - 1) / MFA_APDU_DATA_MAX;
}

int mfa_apdu_build_chained(struct mfa_apdu *a, size_t i, uint8_t cla, uint8_t ins, uint8_t p1,
    uint8_t p2, const uint8_t *data, size_t dlen, size_t le)
{
	size_t n = mfa_apdu_chain_count(dlen);
	size_t off, chunk;
	bool last;

	if (i >= n)
		return MFA_ERR_RANGE;
	last = (i + 1 == n);
	off = i * MFA_APDU_DATA_MAX;
	chunk = last ? dlen - off : MFA_APDU_DATA_MAX;
	return mfa_apdu_build(a, last ? cla : (uint8_t)(cla | MFA_APDU_CLA_CHAIN), ins, p1, p2,
	    chunk > 0 ? data + off : NULL, chunk, last ? le : 0);
}

int mfa_apdu_split(const uint8_t *resp, size_t len, const uint8_t **data, size_t *dlen,
    uint16_t *sw)
{
	if (resp == NULL || len < 2)
		return MFA_ERR_CORRUPT;
	*data = resp;
	*dlen = len - 2;
	*sw = (uint16_t)(resp[len - 2] << 8 | resp[len - 1]);
	return 0;
}

/*
 * The one status-word table.  First match wins; argmask selects the part of
 * the SW that is a parameter rather than part of the code.
 */
static const struct {
	uint16_t mask;
	uint16_t value;
	uint16_t argmask;
	enum mfa_sw kind;
	/* clang-format off */
} sw_table[] = {
	{ 0xFFFF, 0x9000, 0x0000, MFA_SW_OK },
	{ 0xFFF0, 0x63C0, 0x000F, MFA_SW_TRIES },
	{ 0xFFF0, 0x6300, 0x000F, MFA_SW_TRIES_630X },
	{ 0xFFFF, 0x6983, 0x0000, MFA_SW_BLOCKED },
	{ 0xFFFF, 0x6982, 0x0000, MFA_SW_SECURITY },
	{ 0xFF00, 0x6100, 0x00FF, MFA_SW_MORE },
	{ 0xFF00, 0x6C00, 0x00FF, MFA_SW_WRONG_LE },
	{ 0xFFFF, 0x6A82, 0x0000, MFA_SW_NOT_FOUND },
	{ 0xFFFF, 0x6700, 0x0000, MFA_SW_WRONG_LENGTH },
};
/* clang-format on */

enum mfa_sw mfa_sw_classify(uint16_t sw, unsigned *arg)
{
	for (size_t i = 0; i < sizeof(sw_table) / sizeof(sw_table[0]); i++) {
		if ((sw & sw_table[i].mask) != sw_table[i].value)
			continue;
		if (arg != NULL)
			*arg = sw & sw_table[i].argmask;
		return sw_table[i].kind;
	}
	if (arg != NULL)
		*arg = 0;
	return MFA_SW_OTHER;
}

int mfa_sw_to_err(uint16_t sw)
{
	unsigned arg;

	switch (mfa_sw_classify(sw, &arg)) {
	case MFA_SW_OK:
		return 0;
	case MFA_SW_TRIES:
		return arg > 0 ? MFA_ERR_BADPIN : MFA_ERR_PIN_BLOCKED;
	case MFA_SW_BLOCKED:
		return MFA_ERR_PIN_BLOCKED;
	case MFA_SW_SECURITY:
		return MFA_ERR_PIN_REQUIRED;
	case MFA_SW_NOT_FOUND:
		return MFA_ERR_NOAPP;
	default:
		return MFA_ERR_CARD;
	}
}

/* Tag bytes: a low-5-bits-all-ones first byte continues while bit 8 is set. */
static int tlv_get_tag(struct mfa_reader *r, uint32_t *tag)
{
	uint8_t b;
	uint32_t t;

	if (mfa_get_u8(r, &b) != 0)
		return MFA_ERR_CORRUPT;
	t = b;
	if ((b & 0x1F) != 0x1F) {
		*tag = t;
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		if (mfa_get_u8(r, &b) != 0)
			return MFA_ERR_CORRUPT;
		t = t << 8 | b;
		if ((b & 0x80) == 0) {
			*tag = t;
			return 0;
		}
	}
	return MFA_ERR_CORRUPT; /* tags beyond 3 bytes: never used by our cards */
}

static int tlv_get_len(struct mfa_reader *r, size_t *len)
{
	uint8_t b;
	uint16_t v16;

	if (mfa_get_u8(r, &b) != 0)
		return MFA_ERR_CORRUPT;
	if (b < 0x80) {
		*len = b;
		return 0;
	}
	if (b == 0x81) {
		if (mfa_get_u8(r, &b) != 0)
			return MFA_ERR_CORRUPT;
		*len = b;
		return 0;
	}
	if (b == 0x82) {
		if (mfa_get_u16(r, &v16) != 0)
			return MFA_ERR_CORRUPT;
		*len = v16;
		return 0;
	}
	return MFA_ERR_CORRUPT; /* 80 indefinite, 83+ larger than any card object */
}

int mfa_tlv_get_header(struct mfa_reader *r, uint32_t *tag, size_t *vlen)
{
	struct mfa_reader t = *r;
	uint32_t tg;
	size_t len;

	if (tlv_get_tag(&t, &tg) != 0 || tlv_get_len(&t, &len) != 0)
		return MFA_ERR_CORRUPT;
	*tag = tg;
	*vlen = len;
	*r = t;
	return 0;
}

int mfa_tlv_get(struct mfa_reader *r, uint32_t *tag, const uint8_t **val, size_t *vlen)
{
	struct mfa_reader t = *r; /* work on a copy: consume only on success */
	uint32_t tg;
	size_t len;
	const uint8_t *v;

	if (tlv_get_tag(&t, &tg) != 0 || tlv_get_len(&t, &len) != 0 ||
	    mfa_get_view(&t, len, &v) != 0)
		return MFA_ERR_CORRUPT;
	*tag = tg;
	*val = v;
	*vlen = len;
	*r = t;
	return 0;
}

int mfa_tlv_find(const uint8_t *p, size_t len, uint32_t tag, const uint8_t **val, size_t *vlen)
{
	struct mfa_reader r = mfa_reader_init(p, len);

	while (r.len > 0) {
		uint32_t t;
		const uint8_t *v;
		size_t n;

		if (mfa_tlv_get(&r, &t, &v, &n) != 0)
			return MFA_ERR_CORRUPT;
		if (t == tag) {
			*val = v;
			*vlen = n;
			return 0;
		}
	}
	return MFA_ERR_NOENT;
}

void mfa_tlv_put_header(struct mfa_buf *b, uint32_t tag, size_t vlen)
{
	if (b->err != 0)
		return;
	if (vlen > 0xFFFF) {
		b->err = MFA_ERR_RANGE;
		return;
	}
	if (tag > 0xFFFF)
		mfa_put_u8(b, (uint8_t)(tag >> 16));
	if (tag > 0xFF)
		mfa_put_u8(b, (uint8_t)(tag >> 8));
	mfa_put_u8(b, (uint8_t)tag);
	if (vlen < 0x80) {
		mfa_put_u8(b, (uint8_t)vlen);
	} else if (vlen <= 0xFF) {
		mfa_put_u8(b, 0x81);
		mfa_put_u8(b, (uint8_t)vlen);
	} else {
		mfa_put_u8(b, 0x82);
		mfa_put_u16(b, (uint16_t)vlen);
	}
}
