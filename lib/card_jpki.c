/*
 * The JPKI profile of the card layer (card.h): the My Number card's
 * user-authentication AP, its certificate EF, PIN EF and key EF, behind the
 * ops table card.c dispatches to (card_profile.h).  The APDUs are
 * doc/DESIGN.md §5's JPKI table; tests/unit/test_card_jpki.c holds them to it
 * byte for byte.  The VERIFY APDU is wiped on every path (invariant 7).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/err.h"
#include "card_profile.h"
#include "card_transfer.h"

#define JPKI_EF_CERT 0x000A /* user-authentication certificate */
#define JPKI_EF_KEY 0x0017  /* user-authentication private key */
#define JPKI_EF_PIN 0x0018  /* user-authentication PIN */
#define JPKI_PIN_LEN 4
#define JPKI_READ_CHUNK 256

static const uint8_t jpki_aid[] = { 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01 };

static int jpki_select(struct mfa_card *c)
{
	struct mfa_apdu cmd;
	uint16_t sw;
	int rc;

	c->cur_ef = 0;
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xA4, 0x04, 0x0C, jpki_aid, sizeof(jpki_aid), 0)) !=
	        0 ||
	    (rc = card_command(c, &cmd, &sw)) != 0)
		return rc;
	return card_select_result(sw);
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
	c->cur_ef = 0; /* unknown until the card says yes */
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xA4, 0x02, 0x0C, fid, sizeof(fid), 0)) != 0 ||
	    (rc = card_command(c, &cmd, &sw)) != 0)
		return rc;
	if ((rc = card_select_result(sw)) != 0)
		return rc;
	c->cur_ef = ef;
	return 0;
}

/* READ BINARY at off for up to want bytes; *got is 1..want on success. */
static int jpki_read_binary(struct mfa_card *c, size_t off, size_t want, uint8_t *out, size_t *got)
{
	struct mfa_apdu cmd;
	uint16_t sw;
	int rc;

	/* P1 bit 8 would switch to short-EF addressing: offsets stay below 0x8000. */
	if (off > 0x7FFF)
		return MFA_ERR_CARD;
	if ((rc = mfa_apdu_build(&cmd, 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off, NULL, 0,
	         want)) != 0 ||
	    (rc = card_xfer(c, &cmd, out, want, got, &sw)) != 0)
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
	memcpy(di, card_sha256_digestinfo, sizeof(card_sha256_digestinfo));
	memcpy(di + sizeof(card_sha256_digestinfo), digest, SHA256_LEN);
	if ((rc = jpki_select_ef(c, JPKI_EF_KEY)) != 0 ||
	    (rc = mfa_apdu_build(&cmd, 0x80, 0x2A, 0x00, 0x80, di, sizeof(di), MFA_APDU_LE_MAX)) !=
	        0 ||
	    (rc = card_xfer(c, &cmd, sig, 256, &n, &sw)) != 0)
		return rc;
	if ((rc = card_data_result(sw)) != 0)
		return rc;
	if (n != 256)
		return MFA_ERR_CARD;
	*siglen = n;
	return 0;
}

const struct mfa_card_ops card_jpki_ops = {
	.profile = MFA_CARD_JPKI,
	.select = jpki_select,
	.read_certificate = jpki_read_certificate,
	.read_id = jpki_read_id,
	.tries_630x = false, /* no JPKI card is known to answer so */
	.pin_tries = jpki_pin_tries,
	.pin_acceptable = jpki_pin_acceptable,
	.verify_pin = jpki_verify_pin,
	.sign = jpki_sign,
};
