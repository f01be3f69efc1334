/*
 * ISO 7816-4 short APDUs and BER-TLV, for talking to untrusted cards.
 *
 * Builder: a command lives in a fixed struct mfa_apdu (no allocation); the
 * caller owns it and wipes it (mfa_wipe) when it carried a PIN.
 * Response: mfa_apdu_split() only points into the caller's bytes; nothing is
 * copied and no length the card sent is believed before it is checked
 * against what was actually received.
 * Status words: one table (card_apdu.c) maps every SW to enum mfa_sw, with 63Cx
 * (tries left), 61xx (more data) and 6Cxx (wrong Le) carrying their low
 * nibble/byte in *arg.
 * TLV: BER tags of up to 3 bytes, lengths in the short, 81 and 82 forms;
 * indefinite (80) and longer (83+) forms, and values running past the input,
 * are MFA_ERR_CORRUPT.  Nothing is consumed on failure.
 */
#ifndef MFAUTH_CARD_APDU_H
#define MFAUTH_CARD_APDU_H

#include <stddef.h>
#include <stdint.h>
#include "mfauth/buf.h"

#define MFA_APDU_DATA_MAX 255 /* Lc of a short APDU */
#define MFA_APDU_LE_MAX 256   /* Le 00 */
#define MFA_APDU_MAX (4 + 1 + MFA_APDU_DATA_MAX + 1)
#define MFA_RESP_MAX (MFA_APDU_LE_MAX + 2)
#define MFA_APDU_CLA_CHAIN 0x10 /* "more commands of this chain follow" */

struct mfa_apdu {
	uint8_t bytes[MFA_APDU_MAX];
	size_t len;
	size_t le; /* 0 = no Le field, else 1..256 */
};

/*
 * Build a short APDU: header, then Lc + data when dlen > 0, then Le when
 * le > 0 (256 is encoded as 00).  MFA_ERR_RANGE if dlen > 255 or le > 256.
 */
int mfa_apdu_build(struct mfa_apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t dlen, size_t le);

/* Replace (or add) the Le field, for re-issuing after 6Cxx; MFA_ERR_RANGE as above. */
int mfa_apdu_set_le(struct mfa_apdu *a, size_t le);

/*
 * Command chaining (ISO 7816-4 5.3.3): data is sent in MFA_APDU_DATA_MAX
 * chunks; mfa_apdu_chain_count() says how many commands that takes (at least
 * 1), and mfa_apdu_build_chained() builds command i of them: CLA | 0x10 on all
 * but the last, Le only on the last.
 */
size_t mfa_apdu_chain_count(size_t dlen);
int mfa_apdu_build_chained(struct mfa_apdu *a, size_t i, uint8_t cla, uint8_t ins, uint8_t p1,
    uint8_t p2, const uint8_t *data, size_t dlen, size_t le);

/*
 * Split a response into data and status word.  *data points into resp.
 * MFA_ERR_CORRUPT when fewer than 2 bytes arrived.
 */
int mfa_apdu_split(const uint8_t *resp, size_t len, const uint8_t **data, size_t *dlen,
    uint16_t *sw);

enum mfa_sw {
	MFA_SW_OK,           /* 9000 */
	MFA_SW_TRIES,        /* 63Cx: *arg = x tries left */
	MFA_SW_TRIES_630X,   /* 630x: *arg = x; ISO defines only 6300 ("no
	                                 * information"), some PIV cards mean x tries left
	                                 * (OpenSC's CI_VERIFY_630X): the profile decides */
	MFA_SW_BLOCKED,      /* 6983: authentication method blocked */
	MFA_SW_SECURITY,     /* 6982: security status not satisfied */
	MFA_SW_MORE,         /* 61xx: *arg = xx bytes waiting (0 = 256) */
	MFA_SW_WRONG_LE,     /* 6Cxx: *arg = xx, the right Le (0 = 256) */
	MFA_SW_NOT_FOUND,    /* 6A82: file or application not found */
	MFA_SW_WRONG_LENGTH, /* 6700 */
	MFA_SW_OTHER,        /* anything else: a failure */
};

/* Classify sw; arg (may be NULL) receives the parameter described above, else 0. */
enum mfa_sw mfa_sw_classify(uint16_t sw, unsigned *arg);

/*
 * The core error for a status word that ended an operation: 0 for 9000,
 * MFA_ERR_BADPIN (63Cx, x > 0), MFA_ERR_PIN_BLOCKED (63C0, 6983),
 * MFA_ERR_PIN_REQUIRED (6982), MFA_ERR_NOAPP (6A82), MFA_ERR_CARD otherwise.
 */
int mfa_sw_to_err(uint16_t sw);

/*
 * Read one TLV: *tag (1-3 tag bytes, big-endian), *val and *vlen pointing into
 * the reader's bytes.  On failure nothing is consumed.
 */
int mfa_tlv_get(struct mfa_reader *r, uint32_t *tag, const uint8_t **val, size_t *vlen);

/*
 * Read only a TLV's tag and length, for a value that may run past the bytes
 * at hand (the head of a longer object); on failure nothing is consumed.
 */
int mfa_tlv_get_header(struct mfa_reader *r, uint32_t *tag, size_t *vlen);

/*
 * Find the first TLV with tag among the TLVs of p[0..len): 0 and the value,
 * MFA_ERR_NOENT if absent, MFA_ERR_CORRUPT if the list is malformed up to
 * the point where tag was found.
 */
int mfa_tlv_find(const uint8_t *p, size_t len, uint32_t tag, const uint8_t **val, size_t *vlen);

/* Append a TLV header (tag of 1-3 bytes as written by mfa_tlv_get) for a vlen-byte value. */
void mfa_tlv_put_header(struct mfa_buf *b, uint32_t tag, size_t vlen);

#endif
