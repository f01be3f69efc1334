/*
 * What both card profiles share (card_transfer.h): one transfer routine that
 * follows 61xx and 6Cxx with bounds, the status-word results, the tries
 * query both send alike, the SHA-256 DigestInfo prefix.  Below the profiles
 * (card_jpki.c, card_piv.c), which are below the dispatch (card.c): calls go
 * one way.  Nothing is logged here; no PIN passes through but inside the
 * profile's VERIFY APDU, which the profile wipes.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/err.h"
#include "card_transfer.h"

/* clang-format off */
const uint8_t card_sha256_digestinfo[DIGESTINFO_PREFIX_LEN] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};
/* clang-format on */

/* Send one command; the response is split in place in resp. */
static int card_exchange(struct mfa_card *c, const struct mfa_apdu *cmd, uint8_t resp[MFA_RESP_MAX],
    const uint8_t **data, size_t *dlen, uint16_t *sw)
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
int card_xfer_ex(struct mfa_card *c, struct mfa_apdu *cmd, uint8_t *out, size_t cap, size_t *outlen,
    uint16_t *sw, bool head_only)
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

int card_xfer(struct mfa_card *c, struct mfa_apdu *cmd, uint8_t *out, size_t cap, size_t *outlen,
    uint16_t *sw)
{
	return card_xfer_ex(c, cmd, out, cap, outlen, sw, false);
}

/* A command whose response data (if any, at most 256 bytes) is not needed. */
int card_command(struct mfa_card *c, struct mfa_apdu *cmd, uint16_t *sw)
{
	uint8_t scratch[MFA_APDU_LE_MAX];
	size_t n;

	return card_xfer(c, cmd, scratch, sizeof(scratch), &n, sw);
}

/* A SELECT's status word as an error: a missing file or AID means "not this card". */
int card_select_result(uint16_t sw)
{
	if (sw == 0x9000)
		return 0;
	return mfa_sw_classify(sw, NULL) == MFA_SW_NOT_FOUND ? MFA_ERR_NOAPP : MFA_ERR_CARD;
}

/* The final status word of a data-returning command as an error. */
int card_data_result(uint16_t sw)
{
	int rc = mfa_sw_to_err(sw);
	/* Only 6982 means something specific here; wrong-PIN codes cannot be. */
	return (rc == 0 || rc == MFA_ERR_PIN_REQUIRED) ? rc : MFA_ERR_CARD;
}

/* VERIFY without data: the same APDU for both profiles. */
int card_tries_query(struct mfa_card *c, uint16_t *sw)
{
	struct mfa_apdu cmd;
	int rc;

	if ((rc = mfa_apdu_build(&cmd, 0x00, 0x20, 0x00, 0x80, NULL, 0, 0)) != 0)
		return rc;
	return card_command(c, &cmd, sw);
}
