/*
 * libFuzzer target for the store's parsers of on-disk bytes (lib/record.c,
 * lib/state.c, lib/seal.c): the input is fed
 *   - to mfa_record_decode() as a record plaintext;
 *   - to mfa_record_unseal() as a whole record file, under a fixed key and
 *     user (fuzz_record.h), so seeds made by gen_record_corpus.c get past
 *     authentication;
 *   - sealed here as a plaintext and then opened with mfa_record_unseal(), so
 *     mutations of plaintexts also run the decoder behind the tag;
 *   - padded with zeros or cut to MFA_STATE_FILE_LEN, to mfa_state_pick().
 * Whatever decodes must re-encode and decode to the same record, and a
 * refused input must leave no field behind; a violation aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/record.h"
#include "mfauth/seal.h"
#include "mfauth/state.h"
#include "fuzz_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORD_HEADER_LEN (4 + 1 + MFA_KEYID_LEN)

static const struct mfa_key *fuzz_key(void)
{
	static struct mfa_key key;
	static int ready;

	if (!ready) {
		memcpy(key.bytes, fuzz_record_key, MFA_KEY_LEN);
		if (mfa_key_derive_id(&key) != 0)
			abort();
		ready = 1;
	}
	return &key;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* The decoder zeroes rec first and writes fields only, so whole-struct compares are exact. */
static void check_same(const struct mfa_record *a, const struct mfa_record *b)
{
	if (memcmp(a, b, sizeof(*a)) != 0)
		abort();
}

/* A decoded record re-encodes, decodes the same, and survives seal + unseal. */
static void check_round_trip(const struct mfa_record *rec)
{
	struct mfa_record again;
	struct mfa_buf b;

	mfa_buf_init(&b);
	if (mfa_record_encode(rec, &b) != 0)
		abort();
	if (mfa_record_decode(b.data, b.len, &again) != 0)
		abort();
	check_same(rec, &again);
	mfa_buf_free(&b);

	mfa_buf_init(&b);
	if (mfa_record_seal(fuzz_key(), FUZZ_RECORD_USER, rec, &b) != 0)
		abort();
	if (mfa_record_unseal(fuzz_key(), FUZZ_RECORD_USER, b.data, b.len, &again) != 0)
		abort();
	check_same(rec, &again);
	/* Under any other name it must not open. */
	if (mfa_record_unseal(fuzz_key(), "mallory", b.data, b.len, &again) != MFA_ERR_CORRUPT)
		abort();
	mfa_buf_free(&b);
	mfa_record_wipe(&again);
}

static void fuzz_plaintext(const uint8_t *data, size_t size, struct mfa_record *plain, int *prc)
{
	*prc = mfa_record_decode(data, size, plain);
	if (*prc == 0)
		check_round_trip(plain);
	else if (*prc != MFA_ERR_CORRUPT || !all_zero(plain, sizeof(*plain)))
		abort();
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	struct mfa_record rec;
	int rc = mfa_record_unseal(fuzz_key(), FUZZ_RECORD_USER, data, size, &rec);

	if (rc == 0)
		check_round_trip(&rec);
	else if (rc != MFA_ERR_CORRUPT && rc != MFA_ERR_VERSION && rc != MFA_ERR_KEYID)
		abort();
	else if (rec.totp.present || rec.card.present || rec.recovery.present ||
	    !all_zero(rec.totp.secret, sizeof(rec.totp.secret)))
		abort();
	mfa_record_wipe(&rec);
}

/*
 * Seal the input as a plaintext the way record.c does (AAD: magic, version,
 * key id, u16 name length, name) and open it as a file: the result must be
 * exactly what the plain decoder gave.
 */
static void fuzz_sealed_plaintext(const uint8_t *data, size_t size, const struct mfa_record *plain,
    int prc)
{
	const struct mfa_key *key = fuzz_key();
	const size_t ulen = strlen(FUZZ_RECORD_USER);
	struct mfa_buf aad, file;
	struct mfa_record rec;
	uint8_t *sealed;
	int rc;

	if (size > MFA_RECORD_MAX - RECORD_HEADER_LEN - MFA_SEAL_OVERHEAD)
		return;
	mfa_buf_init(&aad);
	mfa_buf_init(&file);
	mfa_put_bytes(&aad, MFA_RECORD_MAGIC, 4);
	mfa_put_u8(&aad, MFA_RECORD_VERSION);
	mfa_put_bytes(&aad, key->id, MFA_KEYID_LEN);
	mfa_put_u16(&aad, (uint16_t)ulen);
	mfa_put_bytes(&aad, FUZZ_RECORD_USER, ulen);
	mfa_put_bytes(&file, aad.data, RECORD_HEADER_LEN);
	sealed = mfa_put_zeros(&file, size + MFA_SEAL_OVERHEAD);
	if (sealed == NULL || mfa_buf_error(&aad) != 0)
		abort();
	if (mfa_seal(key, aad.data, aad.len, data, size, sealed) != 0)
		abort();
	rc = mfa_record_unseal(key, FUZZ_RECORD_USER, file.data, file.len, &rec);
	if (rc != prc)
		abort();
	if (rc == 0)
		check_same(plain, &rec);
	mfa_record_wipe(&rec);
	mfa_buf_free(&aad);
	mfa_buf_free(&file);
}

static void fuzz_state(const uint8_t *data, size_t size)
{
	uint8_t *file = malloc(MFA_STATE_FILE_LEN);
	struct mfa_state st;
	int slot = -1, rc;

	if (file == NULL)
		abort();
	memset(file, 0, MFA_STATE_FILE_LEN);
	memcpy(file, data, size < MFA_STATE_FILE_LEN ? size : MFA_STATE_FILE_LEN);
	rc = mfa_state_pick(fuzz_key(), FUZZ_RECORD_USER, file, &st, &slot);
	if (rc == 0) {
		/* The strings come back terminated inside their arrays. */
		if ((slot != 0 && slot != 1) ||
		    memchr(st.fail_service, '\0', sizeof(st.fail_service)) == NULL ||
		    memchr(st.fail_tty, '\0', sizeof(st.fail_tty)) == NULL ||
		    memchr(st.fail_rhost, '\0', sizeof(st.fail_rhost)) == NULL)
			abort();
	} else if (rc != MFA_ERR_CORRUPT && rc != MFA_ERR_VERSION && rc != MFA_ERR_KEYID) {
		abort();
	}
	free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mfa_record plain;
	int prc;

	fuzz_plaintext(data, size, &plain, &prc);
	fuzz_sealed_plaintext(data, size, &plain, prc);
	mfa_record_wipe(&plain);
	fuzz_file(data, size);
	fuzz_state(data, size);
	return 0;
}
