/*
 * State slots: fixed-size, sealed, sequence-numbered (see state.h).
 */
#include "config.h"

#include <string.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/state.h"

#define SLOT_HEADER_LEN (4 + 1 + MFA_KEYID_LEN + 8)
/*
 * Fixed plaintext size: the fields below plus room for later ones (zeros).
 * A field added at the end needs no new version: a slot written before it
 * existed holds zeros there, which read as the field's "nothing yet" (so
 * failures_total, added after version 1 was released, loads as 0 from an
 * older file), and an older reader ignores the bytes it does not know.
 */
#define STATE_PT_LEN 256
#define SLOT_USED_LEN (SLOT_HEADER_LEN + STATE_PT_LEN + MFA_SEAL_OVERHEAD)

/* The plaintext, field by field (never a struct dump). */
static int state_encode(const struct mfa_state *st, uint8_t pt[STATE_PT_LEN])
{
	struct mfa_buf b;
	int rc;

	mfa_buf_init(&b);
	mfa_put_u64(&b, st->last_step);
	mfa_put_u32(&b, st->failures);
	mfa_put_u64(&b, st->first_failure);
	mfa_put_u64(&b, st->last_failure);
	mfa_put_u64(&b, st->locked_until);
	mfa_put_u64(&b, st->last_success);
	mfa_put_u64(&b, st->recovery_used);
	mfa_put_bytes(&b, st->fail_service, sizeof(st->fail_service));
	mfa_put_bytes(&b, st->fail_tty, sizeof(st->fail_tty));
	mfa_put_bytes(&b, st->fail_rhost, sizeof(st->fail_rhost));
	mfa_put_u32(&b, st->failures_total);
	rc = mfa_buf_error(&b);
	if (rc == 0 && b.len > STATE_PT_LEN)
		rc = MFA_ERR_RANGE;
	if (rc == 0) {
		memset(pt, 0, STATE_PT_LEN);
		memcpy(pt, b.data, b.len);
	}
	mfa_buf_free(&b);
	return rc;
}

static void get_str(struct mfa_reader *r, char *dst, size_t size, int *rc)
{
	if (*rc == 0)
		*rc = mfa_get_bytes(r, dst, size);
	dst[size - 1] = '\0';
}

static int state_decode(const uint8_t pt[STATE_PT_LEN], struct mfa_state *st)
{
	struct mfa_reader r = mfa_reader_init(pt, STATE_PT_LEN);
	int rc = 0;

	rc |= mfa_get_u64(&r, &st->last_step);
	rc |= mfa_get_u32(&r, &st->failures);
	rc |= mfa_get_u64(&r, &st->first_failure);
	rc |= mfa_get_u64(&r, &st->last_failure);
	rc |= mfa_get_u64(&r, &st->locked_until);
	rc |= mfa_get_u64(&r, &st->last_success);
	rc |= mfa_get_u64(&r, &st->recovery_used);
	get_str(&r, st->fail_service, sizeof(st->fail_service), &rc);
	get_str(&r, st->fail_tty, sizeof(st->fail_tty), &rc);
	get_str(&r, st->fail_rhost, sizeof(st->fail_rhost), &rc);
	rc |= mfa_get_u32(&r, &st->failures_total);
	return rc == 0 ? 0 : MFA_ERR_CORRUPT;
}

/* header || u16 name length || name */
static int slot_aad(struct mfa_buf *aad, const uint8_t header[SLOT_HEADER_LEN], const char *user)
{
	size_t ulen = strlen(user);
	if (ulen > UINT16_MAX)
		return MFA_ERR_RANGE;
	mfa_put_bytes(aad, header, SLOT_HEADER_LEN);
	mfa_put_u16(aad, (uint16_t)ulen);
	mfa_put_bytes(aad, user, ulen);
	return mfa_buf_error(aad);
}

int mfa_state_seal_slot(const struct mfa_key *key, const char *user, const struct mfa_state *st,
    uint8_t slot[MFA_STATE_SLOT_LEN])
{
	uint8_t pt[STATE_PT_LEN];
	struct mfa_buf aad, hdr;
	int rc;

	mfa_buf_init(&aad);
	mfa_buf_init(&hdr);
	mfa_put_bytes(&hdr, MFA_STATE_MAGIC, 4);
	mfa_put_u8(&hdr, MFA_STATE_VERSION);
	mfa_put_bytes(&hdr, key->id, MFA_KEYID_LEN);
	mfa_put_u64(&hdr, st->seq);
	if ((rc = mfa_buf_error(&hdr)) != 0 || (rc = slot_aad(&aad, hdr.data, user)) != 0 ||
	    (rc = state_encode(st, pt)) != 0)
		goto out;
	memset(slot, 0, MFA_STATE_SLOT_LEN);
	memcpy(slot, hdr.data, SLOT_HEADER_LEN);
	rc = mfa_seal(key, aad.data, aad.len, pt, STATE_PT_LEN, slot + SLOT_HEADER_LEN);
out:
	mfa_wipe(pt, sizeof(pt));
	mfa_buf_free(&aad);
	mfa_buf_free(&hdr);
	return rc;
}

const uint8_t *mfa_state_slot_keyid(const uint8_t slot[MFA_STATE_SLOT_LEN])
{
	return memcmp(slot, MFA_STATE_MAGIC, 4) == 0 ? slot + 5 : NULL;
}

int mfa_state_unseal_slot(const struct mfa_key *key, const char *user,
    const uint8_t slot[MFA_STATE_SLOT_LEN], struct mfa_state *st)
{
	uint8_t pt[STATE_PT_LEN];
	struct mfa_reader r = mfa_reader_init(slot + 4 + 1 + MFA_KEYID_LEN, 8);
	struct mfa_buf aad;
	uint64_t seq = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if (memcmp(slot, MFA_STATE_MAGIC, 4) != 0)
		return MFA_ERR_CORRUPT;
	if (slot[4] != MFA_STATE_VERSION)
		return MFA_ERR_VERSION;
	if (memcmp(slot + 5, key->id, MFA_KEYID_LEN) != 0)
		return MFA_ERR_KEYID;
	if (mfa_get_u64(&r, &seq) != 0)
		return MFA_ERR_CORRUPT;
	/* The padding is not authenticated, so it must be exactly zeros. */
	for (size_t i = SLOT_USED_LEN; i < MFA_STATE_SLOT_LEN; i++)
		if (slot[i] != 0)
			return MFA_ERR_CORRUPT;
	mfa_buf_init(&aad);
	if ((rc = slot_aad(&aad, slot, user)) == 0)
		rc = mfa_unseal(key, aad.data, aad.len, slot + SLOT_HEADER_LEN,
		    STATE_PT_LEN + MFA_SEAL_OVERHEAD, pt);
	if (rc == 0)
		rc = state_decode(pt, st);
	if (rc == 0)
		st->seq = seq;
	else
		memset(st, 0, sizeof(*st));
	mfa_wipe(pt, sizeof(pt));
	mfa_buf_free(&aad);
	return rc;
}

int mfa_state_pick_ring(const struct mfa_keyring *ring, const char *user,
    const uint8_t file[MFA_STATE_FILE_LEN], struct mfa_state *st, int *slot_out, bool under_last[2])
{
	struct mfa_state s[2];
	int rc[2];

	for (int i = 0; i < 2; i++) {
		const uint8_t *slot = file + i * MFA_STATE_SLOT_LEN;
		const struct mfa_key *key = mfa_keyring_find(ring, slot + 5);
		rc[i] = key ? mfa_state_unseal_slot(key, user, slot, &s[i]) :
		    memcmp(slot, MFA_STATE_MAGIC, 4) != 0 ? MFA_ERR_CORRUPT :
		                                            MFA_ERR_KEYID;
		if (under_last != NULL)
			under_last[i] = rc[i] == 0 && ring->n > 0 && key == ring->keys[ring->n - 1];
	}
	/*
	 * Only a slot whose bytes are bad (a torn write) may be passed over.  A
	 * slot we could not open for another reason (out of memory, an OpenSSL
	 * failure) may be the newest one: falling back to the older slot would
	 * roll back the lock, the failure count and the replay watermark, and
	 * the next write would make the rollback permanent.  Fail instead.
	 */
	for (int i = 0; i < 2; i++)
		if (rc[i] != 0 && rc[i] != MFA_ERR_CORRUPT && rc[i] != MFA_ERR_VERSION &&
		    rc[i] != MFA_ERR_KEYID) {
			mfa_wipe(s, sizeof(s));
			return rc[i];
		}
	if (rc[0] != 0 && rc[1] != 0)
		return rc[0];
	/* The newest valid slot wins; a torn write only ever hits the older one. */
	int pick = rc[0] != 0 ? 1 : rc[1] != 0 ? 0 : (s[1].seq > s[0].seq ? 1 : 0);
	*st = s[pick];
	*slot_out = pick;
	mfa_wipe(s, sizeof(s));
	return 0;
}

int mfa_state_pick(const struct mfa_key *key, const char *user,
    const uint8_t file[MFA_STATE_FILE_LEN], struct mfa_state *st, int *slot_out)
{
	struct mfa_keyring ring = { { key }, 1, false };
	return mfa_state_pick_ring(&ring, user, file, st, slot_out, NULL);
}
