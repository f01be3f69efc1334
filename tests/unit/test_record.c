/*
 * Unit tests for lib/record.c (doc/DESIGN.md invariant 4): the record
 * plaintext encoding and the sealed record file.
 *
 * Expectations come from the headers and the design, not from the code:
 * sealed records are checked by decrypting them with OpenSSL directly, and
 * the plaintext decoder is fed hand-written field lists (hex) rather than
 * encoder output.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "testutil.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/record.h"
#include "mfauth/seal.h"

#define HEADER_LEN (4 + 1 + MFA_KEYID_LEN) /* "MFAR" | version | key id */

/* --- records with distinctive values --------------------------------------- */

static void set_totp(struct mfa_record *r)
{
	r->totp.present = true;
	tu_fill_pattern(r->totp.secret, 37, 0x11);
	r->totp.secret_len = 37;
	r->totp.digits = 8;
	r->totp.alg = MFA_ALG_SHA512;
	r->totp.period = 60;
	r->totp.enrolled_at = 0x1112131415161718ULL;
}

static void set_card(struct mfa_record *r)
{
	r->card.present = true;
	r->card.profile = MFA_CARD_PIV;
	tu_fill_pattern(r->card.spki, 294, 0x30);
	r->card.spki_len = 294;
	tu_fill_pattern(r->card.fingerprint, sizeof(r->card.fingerprint), 0xf0);
	strcpy(r->card.subject,
	    "CN=\xe7\x94\xb0\xe4\xb8\xad \xe5\xa4\xaa\xe9\x83\x8e,"
	    "OU=Citizens Division,O=Example City,C=JP");
	strcpy(r->card.serial, "0A1B2C3D4E5F60718293A4B5C6D7E8F9");
	r->card.not_before = 0x2122232425262728ULL;
	r->card.not_after = 0x3132333435363738ULL;
	r->card.enrolled_at = 0x4142434445464748ULL;
}

static void set_recovery(struct mfa_record *r)
{
	r->recovery.present = true;
	r->recovery.id = 0xa1a2a3a4a5a6a7a8ULL;
	tu_fill_pattern(r->recovery.salt, sizeof(r->recovery.salt), 0x51);
	tu_fill_pattern(r->recovery.hash, sizeof(r->recovery.hash), 0x62);
	r->recovery.iterations = 600017;
	r->recovery.issued_at = 0x5152535455565758ULL;
	r->recovery.expires_at = 0x6162636465666768ULL;
}

static void full_record(struct mfa_record *r)
{
	memset(r, 0, sizeof(*r));
	r->created_at = 0x0102030405060708ULL;
	set_totp(r);
	set_card(r);
	set_recovery(r);
}

/* Field by field, so a failure names the field. */
static void assert_record_equal(const struct mfa_record *a, const struct mfa_record *b)
{
	assert_true(a->created_at == b->created_at);

	assert_int_equal(a->totp.present, b->totp.present);
	if (a->totp.present) {
		assert_int_equal(a->totp.secret_len, b->totp.secret_len);
		assert_memory_equal(a->totp.secret, b->totp.secret, a->totp.secret_len);
		assert_int_equal(a->totp.digits, b->totp.digits);
		assert_int_equal(a->totp.alg, b->totp.alg);
		assert_int_equal(a->totp.period, b->totp.period);
		assert_true(a->totp.enrolled_at == b->totp.enrolled_at);
	}

	assert_int_equal(a->card.present, b->card.present);
	if (a->card.present) {
		assert_int_equal(a->card.profile, b->card.profile);
		assert_int_equal(a->card.spki_len, b->card.spki_len);
		assert_memory_equal(a->card.spki, b->card.spki, a->card.spki_len);
		assert_memory_equal(a->card.fingerprint, b->card.fingerprint,
		    sizeof(a->card.fingerprint));
		assert_string_equal(a->card.subject, b->card.subject);
		assert_string_equal(a->card.serial, b->card.serial);
		assert_true(a->card.not_before == b->card.not_before);
		assert_true(a->card.not_after == b->card.not_after);
		assert_true(a->card.enrolled_at == b->card.enrolled_at);
	}

	assert_int_equal(a->recovery.present, b->recovery.present);
	if (a->recovery.present) {
		assert_true(a->recovery.id == b->recovery.id);
		assert_memory_equal(a->recovery.salt, b->recovery.salt, sizeof(a->recovery.salt));
		assert_memory_equal(a->recovery.hash, b->recovery.hash, sizeof(a->recovery.hash));
		assert_int_equal(a->recovery.iterations, b->recovery.iterations);
		assert_true(a->recovery.issued_at == b->recovery.issued_at);
		assert_true(a->recovery.expires_at == b->recovery.expires_at);
	}
}

/* An absent group decodes to all zeros: nothing left over to be misused. */
static void assert_groups_absent_zero(const struct mfa_record *r)
{
	if (!r->totp.present)
		assert_true(tu_all_zero(&r->totp, sizeof(r->totp)));
	if (!r->card.present)
		assert_true(tu_all_zero(&r->card, sizeof(r->card)));
	if (!r->recovery.present)
		assert_true(tu_all_zero(&r->recovery, sizeof(r->recovery)));
}

/* Seal rec for user into a malloc'd exact-size copy (so over-reads trip ASan). */
static uint8_t *seal_record(const struct mfa_key *key, const char *user,
    const struct mfa_record *rec, size_t *len)
{
	struct mfa_buf file;
	uint8_t *copy;

	mfa_buf_init(&file);
	assert_int_equal(mfa_record_seal(key, user, rec, &file), 0);
	assert_int_equal(mfa_buf_error(&file), 0);
	copy = malloc(file.len);
	assert_non_null(copy);
	memcpy(copy, file.data, file.len);
	*len = file.len;
	mfa_buf_free(&file);
	return copy;
}

/* --- record: sealed file ----------------------------------------------------- */

/* Every field set to a distinctive value survives seal + unseal. */
static void test_record_round_trip_full(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *file;
	size_t len;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	file = seal_record(&key, "alice", &rec, &len);
	assert_memory_equal(file, MFA_RECORD_MAGIC, 4);
	assert_int_equal(file[4], MFA_RECORD_VERSION);
	assert_memory_equal(file + 5, key.id, MFA_KEYID_LEN);
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), 0);
	assert_record_equal(&rec, &out);
	assert_true(mfa_record_enrolled(&out));
	free(file);

	/* The plaintext codec alone, too. */
	{
		struct mfa_buf pt;
		mfa_buf_init(&pt);
		assert_int_equal(mfa_record_encode(&rec, &pt), 0);
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(mfa_record_decode(pt.data, pt.len, &out), 0);
		assert_record_equal(&rec, &out);
		mfa_buf_free(&pt);
	}
	mfa_record_wipe(&out);
	assert_true(tu_all_zero(&out, sizeof(out)));
}

/* Append one raw field (u16 tag, u16 length, value) to a plaintext. */
static void put_field(struct mfa_buf *b, uint16_t tag, const void *v, size_t len)
{
	mfa_put_u16(b, tag);
	mfa_put_u16(b, (uint16_t)len);
	mfa_put_bytes(b, v, len);
}

/*
 * The card identifier (issue 17): two optional fields.  A record without
 * them -- every record enrolled before -- loads as LEGACY, and a LEGACY
 * record encodes exactly as before; bad combinations are corrupt.
 */
static void test_record_card_id(void **state)
{
	static const struct {
		uint8_t profile, kind;
		size_t idlen;
		int rc;
		/* clang-format off */
	} cases[] = {
		{ MFA_CARD_PIV, MFA_CARD_ID_CHUID, 45, 0 },
		{ MFA_CARD_JPKI, MFA_CARD_ID_CERT, 120, 0 },
		{ MFA_CARD_PIV, MFA_CARD_ID_SPKI, 0, 0 },
		{ MFA_CARD_JPKI, MFA_CARD_ID_CHUID, 45, MFA_ERR_CORRUPT },
		{ MFA_CARD_PIV, MFA_CARD_ID_CERT, 45, MFA_ERR_CORRUPT },
		{ MFA_CARD_JPKI, MFA_CARD_ID_SPKI, 0, MFA_ERR_CORRUPT },
		{ MFA_CARD_PIV, MFA_CARD_ID_CHUID, 0, MFA_ERR_CORRUPT },
		{ MFA_CARD_PIV, MFA_CARD_ID_SPKI, 10, MFA_ERR_CORRUPT },
		{ MFA_CARD_PIV, MFA_CARD_ID_LEGACY, 10, MFA_ERR_CORRUPT },
		{ MFA_CARD_PIV, 9, 10, MFA_ERR_CORRUPT },
		{ MFA_CARD_PIV, MFA_CARD_ID_CHUID, MFA_CARD_ID_MAX + 1, MFA_ERR_CORRUPT },
	};
	/* clang-format on */
	struct mfa_record rec, out, none_out;
	struct mfa_buf legacy, pt;
	uint8_t id[MFA_CARD_ID_MAX + 1];
	(void)state;

	tu_fill_pattern(id, sizeof(id), 0x5a);
	full_record(&rec);
	mfa_buf_init(&legacy);
	assert_int_equal(mfa_record_encode(&rec, &legacy), 0);
	/* an old record: no optional tag at all, and it loads as LEGACY */
	for (size_t i = 0; i + 4 <= legacy.len;
	     i += 4 + (size_t)(legacy.data[i + 2] << 8 | legacy.data[i + 3]))
		assert_int_equal(legacy.data[i] & 0x80, 0);
	assert_int_equal(mfa_record_decode(legacy.data, legacy.len, &out), 0);
	assert_int_equal(out.card.id_kind, MFA_CARD_ID_LEGACY);
	assert_int_equal(out.card.id_len, 0);
	assert_record_equal(&rec, &out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		mfa_buf_init(&pt);
		mfa_put_bytes(&pt, legacy.data, legacy.len);
		/* written by hand, as a newer (or hostile) writer would */
		rec.card.profile = cases[i].profile;
		put_field(&pt, 0x8028, &cases[i].kind, 1);
		if (cases[i].idlen > 0)
			put_field(&pt, 0x8029, id, cases[i].idlen);
		if (cases[i].profile != MFA_CARD_PIV) {
			/* full_record is PIV: patch the profile field's value */
			for (size_t j = 0; j + 4 < pt.len; j++)
				if (pt.data[j] == 0x00 && pt.data[j + 1] == 0x20 &&
				    pt.data[j + 2] == 0 && pt.data[j + 3] == 1) {
					pt.data[j + 4] = cases[i].profile;
					break;
				}
		}
		memset(&out, 0xee, sizeof(out));
		rc = mfa_record_decode(pt.data, pt.len, &out);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
		if (rc == 0) {
			struct mfa_buf again;

			assert_int_equal(out.card.profile, cases[i].profile);
			assert_int_equal(out.card.id_kind, cases[i].kind);
			assert_int_equal(out.card.id_len, cases[i].idlen);
			assert_memory_equal(out.card.id, id, cases[i].idlen);
			/* and survives its own encoding (fields then in table order) */
			mfa_buf_init(&again);
			assert_int_equal(mfa_record_encode(&out, &again), 0);
			assert_int_equal(again.len, pt.len);
			assert_int_equal(mfa_record_decode(again.data, again.len, &none_out), 0);
			assert_int_equal(none_out.card.id_kind, cases[i].kind);
			assert_int_equal(none_out.card.id_len, cases[i].idlen);
			assert_memory_equal(none_out.card.id, id, cases[i].idlen);
			mfa_buf_free(&again);
		} else {
			assert_true(tu_all_zero(&out, sizeof(out)));
		}
		mfa_buf_free(&pt);
	}
	/* the identifier without a card: corrupt */
	{
		struct mfa_record none;
		uint8_t kind = MFA_CARD_ID_CHUID;

		memset(&none, 0, sizeof(none));
		none.created_at = 1;
		mfa_buf_init(&pt);
		assert_int_equal(mfa_record_encode(&none, &pt), 0);
		put_field(&pt, 0x8028, &kind, 1);
		put_field(&pt, 0x8029, id, 45);
		assert_int_equal(mfa_record_decode(pt.data, pt.len, &out), MFA_ERR_CORRUPT);
		mfa_buf_free(&pt);
	}
	mfa_buf_free(&legacy);
	mfa_record_wipe(&rec);
	mfa_record_wipe(&out);
	mfa_record_wipe(&none_out);
}

/* Largest values of every variable field. */
static void test_record_round_trip_limits(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *file;
	size_t len;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	tu_fill_pattern(rec.totp.secret, MFA_SECRET_MAX, 0x01);
	rec.totp.secret_len = MFA_SECRET_MAX;
	rec.totp.digits = 6;
	rec.totp.alg = MFA_ALG_SHA1;
	rec.totp.period = 30;
	tu_fill_pattern(rec.card.spki, MFA_SPKI_MAX, 0x02);
	rec.card.spki_len = MFA_SPKI_MAX;
	rec.card.profile = MFA_CARD_JPKI;
	memset(rec.card.subject, 'S', sizeof(rec.card.subject) - 1);
	rec.card.subject[sizeof(rec.card.subject) - 1] = '\0';
	memset(rec.card.serial, 'F', sizeof(rec.card.serial) - 1);
	rec.card.serial[sizeof(rec.card.serial) - 1] = '\0';
	rec.created_at = UINT64_MAX;
	rec.recovery.iterations = UINT32_MAX;
	rec.card.not_after = UINT64_MAX;
	file = seal_record(&key, "alice", &rec, &len);
	assert_true(len <= MFA_RECORD_MAX);
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), 0);
	assert_record_equal(&rec, &out);
	free(file);

	/* Smallest allowed secret. */
	rec.totp.secret_len = 10;
	rec.card.spki_len = 1;
	file = seal_record(&key, "alice", &rec, &len);
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), 0);
	assert_record_equal(&rec, &out);
	free(file);
}

/* Each factor group on its own, and none. */
static void test_record_groups_alone(void **state)
{
	static const struct {
		const char *name;
		bool totp, card, recovery, enrolled;
		/* clang-format off */
	} cases[] = {
		{ "none", false, false, false, false },
		{ "totp", true, false, false, true },
		{ "card", false, true, false, true },
		{ "recovery", false, false, true, true },
		{ "totp+card", true, true, false, true },
		{ "card+recovery", false, true, true, true },
	};
	/* clang-format on */
	struct mfa_key key;

	(void)state;
	tu_random_key(&key);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mfa_record rec, out;
		uint8_t *file;
		size_t len;

		memset(&rec, 0, sizeof(rec));
		rec.created_at = 1700000000 + i;
		if (cases[i].totp)
			set_totp(&rec);
		if (cases[i].card)
			set_card(&rec);
		if (cases[i].recovery)
			set_recovery(&rec);
		file = seal_record(&key, "bob", &rec, &len);
		memset(&out, 0xee, sizeof(out));
		if (mfa_record_unseal(&key, "bob", file, len, &out) != 0)
			fail_msg("case %s does not load", cases[i].name);
		assert_record_equal(&rec, &out);
		assert_groups_absent_zero(&out);
		assert_int_equal(mfa_record_enrolled(&out), cases[i].enrolled);
		free(file);
	}
}

/*
 * The associated data is magic, version, key id and the user name (record.h):
 * decrypt the file by hand with exactly that, and find the encoder's bytes.
 */
static void test_record_file_layout(void **state)
{
	struct mfa_record rec;
	struct mfa_key key;
	struct mfa_buf pt;
	uint8_t aad[HEADER_LEN + 2 + 5], *file, *plain;
	size_t len;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	file = seal_record(&key, "carol", &rec, &len);
	mfa_buf_init(&pt);
	assert_int_equal(mfa_record_encode(&rec, &pt), 0);
	assert_int_equal(len, HEADER_LEN + pt.len + MFA_SEAL_OVERHEAD);
	memcpy(aad, file, HEADER_LEN);
	aad[HEADER_LEN] = 0;
	aad[HEADER_LEN + 1] = 5;
	memcpy(aad + HEADER_LEN + 2, "carol", 5);
	plain = malloc(pt.len);
	assert_non_null(plain);
	assert_int_equal(tu_evp_open(key.bytes, aad, sizeof(aad), file + HEADER_LEN,
	                     len - HEADER_LEN, plain),
	    0);
	assert_memory_equal(plain, pt.data, pt.len);
	/* The user name is bound: the same bytes with "carom" do not open. */
	aad[sizeof(aad) - 1] = 'm';
	assert_int_equal(tu_evp_open(key.bytes, aad, sizeof(aad), file + HEADER_LEN,
	                     len - HEADER_LEN, plain),
	    -1);
	free(plain);
	free(file);
	mfa_buf_free(&pt);
}

/* What flipping a byte of the file at offset i must give. */
static int flip_expect(size_t i)
{
	if (i < 4)
		return MFA_ERR_CORRUPT;
	if (i == 4)
		return MFA_ERR_VERSION;
	if (i < HEADER_LEN)
		return MFA_ERR_KEYID;
	return MFA_ERR_CORRUPT;
}

/* Every byte of a sealed record file matters; nothing is left in rec. */
static void test_record_every_byte_flip(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *file;
	size_t len;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	file = seal_record(&key, "alice", &rec, &len);
	for (size_t i = 0; i < len; i++) {
		int rc;
		file[i] ^= 0xff;
		memset(&out, 0xee, sizeof(out));
		rc = mfa_record_unseal(&key, "alice", file, len, &out);
		if (rc != flip_expect(i))
			fail_msg("byte %zu of %zu flipped: got %d (%s), want %d", i, len, rc,
			    mfa_strerror(rc), flip_expect(i));
		assert_false(out.totp.present);
		assert_true(tu_all_zero(out.totp.secret, sizeof(out.totp.secret)));
		assert_false(mfa_record_enrolled(&out));
		file[i] ^= 0xff;
	}
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), 0);
	free(file);
}

/* Single bit flips over a small record, and the two version bytes that exist. */
static void test_record_every_bit_flip(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *file;
	size_t len;

	(void)state;
	tu_random_key(&key);
	memset(&rec, 0, sizeof(rec));
	rec.created_at = 42;
	set_totp(&rec);
	file = seal_record(&key, "alice", &rec, &len);
	for (size_t i = 0; i < len * 8; i++) {
		int rc;
		file[i / 8] ^= (uint8_t)(1u << (i % 8));
		rc = mfa_record_unseal(&key, "alice", file, len, &out);
		if (rc != flip_expect(i / 8))
			fail_msg("bit %zu flipped: got %d, want %d", i, rc, flip_expect(i / 8));
		file[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	file[4] = 0;
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), MFA_ERR_VERSION);
	file[4] = MFA_RECORD_VERSION + 1;
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), MFA_ERR_VERSION);
	free(file);
}

/* A record copied onto another user's name does not load. */
static void test_record_other_user(void **state)
{
	static const char *const others[] = {
		"bob",
		"alic",
		"alice ",
		"Alice",
		"alicealice",
		"x",
		"\xe7\x94\xb0",
	};
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *file;
	size_t len;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	file = seal_record(&key, "alice", &rec, &len);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(mfa_record_unseal(&key, others[i], file, len, &out),
		    MFA_ERR_CORRUPT);
		assert_false(out.totp.present);
		assert_true(tu_all_zero(out.totp.secret, sizeof(out.totp.secret)));
	}
	free(file);
}

static void test_record_other_key(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key, other;
	uint8_t *file;
	size_t len;

	(void)state;
	tu_random_key(&key);
	tu_random_key(&other);
	full_record(&rec);
	file = seal_record(&other, "alice", &rec, &len);
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), MFA_ERR_KEYID);
	assert_false(out.totp.present);
	/* Claiming our key id does not help: the tag still fails. */
	memcpy(file + 5, key.id, MFA_KEYID_LEN);
	assert_int_equal(mfa_record_unseal(&key, "alice", file, len, &out), MFA_ERR_CORRUPT);
	assert_false(out.totp.present);
	free(file);
}

/* Every truncation, and extensions, fail without crashing. */
static void test_record_truncated_and_extended(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *file, *copy;
	size_t len;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	file = seal_record(&key, "alice", &rec, &len);
	for (size_t n = 0; n < len; n++) {
		int rc;
		copy = malloc(n > 0 ? n : 1);
		assert_non_null(copy);
		memcpy(copy, file, n);
		rc = mfa_record_unseal(&key, "alice", copy, n, &out);
		if (rc == 0)
			fail_msg("a file cut to %zu of %zu bytes loaded", n, len);
		assert_true(rc == MFA_ERR_CORRUPT);
		assert_false(out.totp.present);
		free(copy);
	}
	/* One byte more. */
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, file, len);
	copy[len] = 0;
	assert_int_equal(mfa_record_unseal(&key, "alice", copy, len + 1, &out), MFA_ERR_CORRUPT);
	free(copy);
	/* Larger than any record we read: refused before any work. */
	copy = calloc(1, MFA_RECORD_MAX + 1);
	assert_non_null(copy);
	memcpy(copy, file, HEADER_LEN);
	assert_int_equal(mfa_record_unseal(&key, "alice", copy, MFA_RECORD_MAX + 1, &out),
	    MFA_ERR_CORRUPT);
	free(copy);
	free(file);
}

/* Sealing twice gives different files that both load. */
static void test_record_fresh_nonce(void **state)
{
	struct mfa_record rec, out;
	struct mfa_key key;
	uint8_t *a, *b;
	size_t alen, blen;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	a = seal_record(&key, "alice", &rec, &alen);
	b = seal_record(&key, "alice", &rec, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, HEADER_LEN);
	assert_memory_not_equal(a + HEADER_LEN, b + HEADER_LEN, MFA_NONCE_LEN);
	assert_memory_not_equal(a + HEADER_LEN + MFA_NONCE_LEN, b + HEADER_LEN + MFA_NONCE_LEN,
	    alen - HEADER_LEN - MFA_NONCE_LEN);
	assert_int_equal(mfa_record_unseal(&key, "alice", a, alen, &out), 0);
	assert_int_equal(mfa_record_unseal(&key, "alice", b, blen, &out), 0);
	free(a);
	free(b);
}

/* --- record: plaintext decoder, hand-written inputs ---------------------------- */

/* Fields as hex: tag (2) length (2) value. */
#define CREATED "0001 0008 0000000001020304 "
#define T_SECRET "0010 0014 3132333435363738393031323334353637383930 "
#define T_DIGITS "0011 0001 06 "
#define T_ALG "0012 0001 01 "
#define T_PERIOD "0013 0002 001e "
#define T_AT "0014 0008 0000000065000000 "
#define TOTP T_SECRET T_DIGITS T_ALG T_PERIOD T_AT
#define C_PROFILE "0020 0001 01 "
#define C_SPKI "0021 0004 30020500 "
#define C_FPR \
	"0022 0020 000102030405060708090a0b0c0d0e0f" \
	"101112131415161718191a1b1c1d1e1f "
#define C_SUBJECT "0023 0007 434e3d616c6963 "
#define C_SERIAL "0024 0004 30413142 "
#define C_NB "0025 0008 0000000060000000 "
#define C_NA "0026 0008 0000000070000000 "
#define C_AT "0027 0008 0000000065000001 "
#define CARD C_PROFILE C_SPKI C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT
#define R_ID "0030 0008 1122334455667788 "
#define R_SALT "0031 0010 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf "
#define R_HASH \
	"0032 0020 b0b1b2b3b4b5b6b7b8b9babbbcbdbebf" \
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecf "
#define R_ITER "0033 0004 00030d40 "
#define R_ISSUED "0034 0008 0000000065000002 "
#define R_EXPIRES "0035 0008 0000000065000003 "
#define RECOVERY R_ID R_SALT R_HASH R_ITER R_ISSUED R_EXPIRES

/* A TOTP group with the given digits/alg/period bytes. */
#define TOTP_WITH(d, a, p) T_SECRET "0011 0001 " d " 0012 0001 " a " 0013 0002 " p " " T_AT

static const struct {
	const char *name;
	const char *hex;
	int rc;
} decode_cases[] = {
	/* well-formed */
	{ "created only", CREATED, 0 },
	{ "totp", CREATED TOTP, 0 },
	{ "card", CREATED CARD, 0 },
	{ "recovery", CREATED RECOVERY, 0 },
	{ "all", CREATED TOTP CARD RECOVERY, 0 },
	{ "any field order", T_AT RECOVERY T_DIGITS CARD T_SECRET CREATED T_PERIOD T_ALG, 0 },
	{ "unknown optional 0x8000", CREATED "8000 0000 " TOTP, 0 },
	{ "unknown optional 0x8001", CREATED TOTP "8001 0003 010203 ", 0 },
	{ "unknown optional 0xffff", "ffff 0002 abcd " CREATED TOTP, 0 },
	{ "optional twin of digits", CREATED TOTP "8011 0001 07 ", 0 },
	{ "digits 8 sha256 60s", CREATED TOTP_WITH("08", "02", "003c"), 0 },
	{ "sha512", CREATED TOTP_WITH("06", "03", "001e"), 0 },
	{ "jpki", CREATED "0020 0001 02 " C_SPKI C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT, 0 },
	{ "empty subject and serial",
	    CREATED C_PROFILE C_SPKI C_FPR "0023 0000 0024 0000 " C_NB C_NA C_AT, 0 },
	{ "utf-8 subject",
	    CREATED C_PROFILE C_SPKI C_FPR "0023 0006 e794b0e4b8ad " C_SERIAL C_NB C_NA C_AT, 0 },
	/* duplicates */
	{ "created twice", CREATED CREATED, MFA_ERR_CORRUPT },
	{ "digits twice", CREATED TOTP T_DIGITS, MFA_ERR_CORRUPT },
	{ "secret twice", CREATED T_SECRET TOTP, MFA_ERR_CORRUPT },
	{ "subject twice", CREATED CARD C_SUBJECT, MFA_ERR_CORRUPT },
	{ "salt twice", CREATED RECOVERY R_SALT, MFA_ERR_CORRUPT },
	/* unknown mandatory tags */
	{ "tag 0x0000", CREATED "0000 0000 ", MFA_ERR_CORRUPT },
	{ "tag 0x0002", CREATED "0002 0001 00 ", MFA_ERR_CORRUPT },
	{ "tag 0x0015", CREATED TOTP "0015 0008 0000000000000000 ", MFA_ERR_CORRUPT },
	{ "tag 0x0040", CREATED "0040 0000 ", MFA_ERR_CORRUPT },
	{ "tag 0x7fff", CREATED "7fff 0002 0000 ", MFA_ERR_CORRUPT },
	/* partial groups */
	{ "totp secret only", CREATED T_SECRET, MFA_ERR_CORRUPT },
	{ "totp without digits", CREATED T_SECRET T_ALG T_PERIOD T_AT, MFA_ERR_CORRUPT },
	{ "totp without alg", CREATED T_SECRET T_DIGITS T_PERIOD T_AT, MFA_ERR_CORRUPT },
	{ "totp without period", CREATED T_SECRET T_DIGITS T_ALG T_AT, MFA_ERR_CORRUPT },
	{ "totp without enrolled_at", CREATED T_SECRET T_DIGITS T_ALG T_PERIOD, MFA_ERR_CORRUPT },
	{ "totp without secret", CREATED T_DIGITS T_ALG T_PERIOD T_AT, MFA_ERR_CORRUPT },
	{ "digits alone", CREATED T_DIGITS, MFA_ERR_CORRUPT },
	{ "card without spki", CREATED C_PROFILE C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "card without fingerprint", CREATED C_PROFILE C_SPKI C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "card without profile", CREATED C_SPKI C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "card without not_after", CREATED C_PROFILE C_SPKI C_FPR C_SUBJECT C_SERIAL C_NB C_AT,
	    MFA_ERR_CORRUPT },
	{ "recovery without salt", CREATED R_ID R_HASH R_ITER R_ISSUED R_EXPIRES, MFA_ERR_CORRUPT },
	{ "recovery without expiry", CREATED R_ID R_SALT R_HASH R_ITER R_ISSUED, MFA_ERR_CORRUPT },
	{ "recovery hash only", CREATED R_HASH, MFA_ERR_CORRUPT },
	/* values out of range */
	{ "digits 0", CREATED TOTP_WITH("00", "01", "001e"), MFA_ERR_CORRUPT },
	{ "digits 5", CREATED TOTP_WITH("05", "01", "001e"), MFA_ERR_CORRUPT },
	{ "digits 7", CREATED TOTP_WITH("07", "01", "001e"), MFA_ERR_CORRUPT },
	{ "digits 9", CREATED TOTP_WITH("09", "01", "001e"), MFA_ERR_CORRUPT },
	{ "digits 255", CREATED TOTP_WITH("ff", "01", "001e"), MFA_ERR_CORRUPT },
	{ "alg 0", CREATED TOTP_WITH("06", "00", "001e"), MFA_ERR_CORRUPT },
	{ "alg 4", CREATED TOTP_WITH("06", "04", "001e"), MFA_ERR_CORRUPT },
	{ "alg 255", CREATED TOTP_WITH("06", "ff", "001e"), MFA_ERR_CORRUPT },
	{ "period 0", CREATED TOTP_WITH("06", "01", "0000"), MFA_ERR_CORRUPT },
	{ "period 29", CREATED TOTP_WITH("06", "01", "001d"), MFA_ERR_CORRUPT },
	{ "period 31", CREATED TOTP_WITH("06", "01", "001f"), MFA_ERR_CORRUPT },
	{ "period 61", CREATED TOTP_WITH("06", "01", "003d"), MFA_ERR_CORRUPT },
	{ "period 30+256", CREATED TOTP_WITH("06", "01", "011e"), MFA_ERR_CORRUPT },
	{ "period 65535", CREATED TOTP_WITH("06", "01", "ffff"), MFA_ERR_CORRUPT },
	{ "profile 0", CREATED "0020 0001 00 " C_SPKI C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "profile 3", CREATED "0020 0001 03 " C_SPKI C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "iterations 0", CREATED R_ID R_SALT R_HASH "0033 0004 00000000 " R_ISSUED R_EXPIRES,
	    MFA_ERR_CORRUPT },
	{ "secret 0 bytes", CREATED "0010 0000 " T_DIGITS T_ALG T_PERIOD T_AT, MFA_ERR_CORRUPT },
	/* wrong sizes of fixed-size fields */
	{ "created 7 bytes", "0001 0007 00000000010203 ", MFA_ERR_CORRUPT },
	{ "created 9 bytes", "0001 0009 000000000102030405 ", MFA_ERR_CORRUPT },
	{ "created 0 bytes", "0001 0000 ", MFA_ERR_CORRUPT },
	{ "digits 2 bytes", CREATED T_SECRET "0011 0002 0006 " T_ALG T_PERIOD T_AT,
	    MFA_ERR_CORRUPT },
	{ "period 1 byte", CREATED T_SECRET T_DIGITS T_ALG "0013 0001 1e " T_AT, MFA_ERR_CORRUPT },
	{ "iterations 8 bytes",
	    CREATED R_ID R_SALT R_HASH "0033 0008 0000000000030d40 " R_ISSUED R_EXPIRES,
	    MFA_ERR_CORRUPT },
	{ "fingerprint 31 bytes",
	    CREATED C_PROFILE C_SPKI
	    "0022 001f 000102030405060708090a0b0c0d0e"
	    "0f101112131415161718191a1b1c1d1e " C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "fingerprint 33 bytes",
	    CREATED C_PROFILE C_SPKI
	    "0022 0021 000102030405060708090a0b0c0d0e"
	    "0f101112131415161718191a1b1c1d1e1f20 " C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "salt 15 bytes",
	    CREATED R_ID
	    "0031 000f a0a1a2a3a4a5a6a7a8a9aaabacadae " R_HASH R_ITER R_ISSUED R_EXPIRES,
	    MFA_ERR_CORRUPT },
	{ "spki 0 bytes", CREATED C_PROFILE "0021 0000 " C_FPR C_SUBJECT C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	/* control characters in strings */
	{ "subject with LF",
	    CREATED C_PROFILE C_SPKI C_FPR "0023 0003 410a42 " C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "subject with NUL",
	    CREATED C_PROFILE C_SPKI C_FPR "0023 0003 410042 " C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "subject with ESC",
	    CREATED C_PROFILE C_SPKI C_FPR "0023 0003 1b5b41 " C_SERIAL C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "serial with DEL",
	    CREATED C_PROFILE C_SPKI C_FPR C_SUBJECT "0024 0002 417f " C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "serial with TAB",
	    CREATED C_PROFILE C_SPKI C_FPR C_SUBJECT "0024 0002 0941 " C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	{ "serial with 0x01",
	    CREATED C_PROFILE C_SPKI C_FPR C_SUBJECT "0024 0001 01 " C_NB C_NA C_AT,
	    MFA_ERR_CORRUPT },
	/* truncated fields and absurd lengths */
	{ "one byte", "00", MFA_ERR_CORRUPT },
	{ "tag only", "0001", MFA_ERR_CORRUPT },
	{ "tag and half a length", "0001 00", MFA_ERR_CORRUPT },
	{ "short value", "0001 0008 00000000", MFA_ERR_CORRUPT },
	{ "trailing tag", CREATED "00", MFA_ERR_CORRUPT },
	{ "length 0xffff", CREATED "0010 ffff 3132333435363738393031323334353637383930",
	    MFA_ERR_CORRUPT },
	{ "optional length 0xffff", CREATED "8000 ffff 00", MFA_ERR_CORRUPT },
	{ "optional past the end", CREATED "8000 0003 0102", MFA_ERR_CORRUPT },
	{ "subject length past the end", CREATED C_PROFILE C_SPKI C_FPR "0023 00ff 41424344",
	    MFA_ERR_CORRUPT },
};

/*
 * Decode one hand-written plaintext; 0 if the result is as expected, else
 * print why and return 1 (so a table reports all its failures at once).
 */
static int check_decode(const char *name, const char *hex, int want)
{
	uint8_t buf[1024], *exact;
	size_t n = tu_unhex(hex, buf, sizeof(buf));
	struct mfa_record rec;
	int rc, bad = 0;

	/* Exactly n bytes on the heap: an over-read is an ASan report. */
	exact = malloc(n > 0 ? n : 1);
	assert_non_null(exact);
	memcpy(exact, buf, n);
	memset(&rec, 0xee, sizeof(rec));
	rc = mfa_record_decode(exact, n, &rec);
	free(exact);
	if (rc != want) {
		print_error("case \"%s\": got %d (%s), want %d (%s)\n", name, rc, mfa_strerror(rc),
		    want, mfa_strerror(want));
		bad = 1;
	} else if (rc != 0 && !tu_all_zero(&rec, sizeof(rec))) {
		/* A refused plaintext leaves nothing behind, secrets least of all. */
		print_error("case \"%s\": refused but the record was not wiped\n", name);
		bad = 1;
	}
	if (rc == 0)
		assert_groups_absent_zero(&rec);
	return bad;
}

static void test_decode_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++)
		bad += check_decode(decode_cases[i].name, decode_cases[i].hex, decode_cases[i].rc);
	assert_int_equal(bad, 0);
}

/* record.h documents secret_len as 10..64: a shorter TOTP seed is not a record we wrote. */
static void test_decode_secret_length_range(void **state)
{
	static const struct {
		const char *name;
		const char *hex;
		int rc;
	} cases[] = {
		{ "secret 1 byte", CREATED "0010 0001 41 " T_DIGITS T_ALG T_PERIOD T_AT,
		    MFA_ERR_CORRUPT },
		{ "secret 9 bytes",
		    CREATED "0010 0009 414243444546474849 " T_DIGITS T_ALG T_PERIOD T_AT,
		    MFA_ERR_CORRUPT },
		{ "secret 10 bytes",
		    CREATED "0010 000a 41424344454647484950 " T_DIGITS T_ALG T_PERIOD T_AT, 0 },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += check_decode(cases[i].name, cases[i].hex, cases[i].rc);
	assert_int_equal(bad, 0);
}

/* The values a hand-written plaintext decodes to (not via the encoder). */
static void test_decode_values(void **state)
{
	uint8_t buf[1024];
	size_t n = tu_unhex(CREATED TOTP CARD RECOVERY "8123 0002 0000", buf, sizeof(buf));
	struct mfa_record rec;
	/* clang-format off */
	static const uint8_t fpr[32] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	};
	/* clang-format on */
	/* clang-format off */
	static const uint8_t salt[16] = {
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	};
	/* clang-format on */

	(void)state;
	assert_int_equal(mfa_record_decode(buf, n, &rec), 0);
	assert_true(rec.created_at == 0x01020304);
	assert_true(rec.totp.present);
	assert_int_equal(rec.totp.secret_len, 20);
	assert_memory_equal(rec.totp.secret, "12345678901234567890", 20);
	assert_int_equal(rec.totp.digits, 6);
	assert_int_equal(rec.totp.alg, MFA_ALG_SHA1);
	assert_int_equal(rec.totp.period, 30);
	assert_true(rec.totp.enrolled_at == 0x65000000);
	assert_true(rec.card.present);
	assert_int_equal(rec.card.profile, MFA_CARD_JPKI);
	assert_int_equal(rec.card.spki_len, 4);
	assert_memory_equal(rec.card.spki, "\x30\x02\x05\x00", 4);
	assert_memory_equal(rec.card.fingerprint, fpr, 32);
	assert_string_equal(rec.card.subject, "CN=alic");
	assert_string_equal(rec.card.serial, "0A1B");
	assert_true(rec.card.not_before == 0x60000000);
	assert_true(rec.card.not_after == 0x70000000);
	assert_true(rec.card.enrolled_at == 0x65000001);
	assert_true(rec.recovery.present);
	assert_true(rec.recovery.id == 0x1122334455667788ULL);
	assert_memory_equal(rec.recovery.salt, salt, 16);
	assert_int_equal(rec.recovery.hash[0], 0xb0);
	assert_int_equal(rec.recovery.hash[31], 0xcf);
	assert_int_equal(rec.recovery.iterations, 200000);
	assert_true(rec.recovery.issued_at == 0x65000002);
	assert_true(rec.recovery.expires_at == 0x65000003);
}

/*
 * The encoder writes the documented format (u16 tag, u16 length, big-endian
 * value), byte for byte; a change here breaks every enrolled record.
 */
static void test_encode_golden(void **state)
{
	static const char want_hex[] = CREATED TOTP;
	uint8_t want[256];
	size_t n = tu_unhex(want_hex, want, sizeof(want));
	struct mfa_record rec;
	struct mfa_buf out;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.created_at = 0x01020304;
	rec.totp.present = true;
	memcpy(rec.totp.secret, "12345678901234567890", 20);
	rec.totp.secret_len = 20;
	rec.totp.digits = 6;
	rec.totp.alg = MFA_ALG_SHA1;
	rec.totp.period = 30;
	rec.totp.enrolled_at = 0x65000000;
	mfa_buf_init(&out);
	assert_int_equal(mfa_record_encode(&rec, &out), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, want, n);
	mfa_buf_free(&out);
}

/* Variable-length fields at and just past their capacity. */
static void test_decode_length_limits(void **state)
{
	static const struct {
		const char *name;
		uint16_t tag;
		size_t len;
		uint8_t fill;
		int rc;
		/* clang-format off */
	} cases[] = {
		{ "secret 64", 0x0010, MFA_SECRET_MAX, 0x41, 0 },
		{ "secret 65", 0x0010, MFA_SECRET_MAX + 1, 0x41, MFA_ERR_CORRUPT },
		{ "spki 1024", 0x0021, MFA_SPKI_MAX, 0x30, 0 },
		{ "spki 1025", 0x0021, MFA_SPKI_MAX + 1, 0x30, MFA_ERR_CORRUPT },
		{ "subject 255", 0x0023, 255, 'S', 0 },
		{ "subject 256", 0x0023, 256, 'S', MFA_ERR_CORRUPT },
		{ "serial 79", 0x0024, 79, 'F', 0 },
		{ "serial 80", 0x0024, 80, 'F', MFA_ERR_CORRUPT },
		{ "optional 4000", 0x8abc, 4000, 0x00, 0 },
	};
	/* clang-format on */
	/* Every group complete; the case's field replaces its normal one. */
	/* clang-format off */
	static const char *const base[] = {
		CREATED, T_SECRET, T_DIGITS, T_ALG, T_PERIOD, T_AT, C_PROFILE, C_SPKI, C_FPR,
		C_SUBJECT, C_SERIAL, C_NB, C_NA, C_AT,
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *buf = malloc(8192), *exact;
		size_t n = 0;
		struct mfa_record rec;
		int rc;

		assert_non_null(buf);
		for (size_t f = 0; f < sizeof(base) / sizeof(base[0]); f++) {
			uint8_t tmp[256];
			size_t m = tu_unhex(base[f], tmp, sizeof(tmp));
			if (((tmp[0] << 8) | tmp[1]) == cases[i].tag)
				continue;
			memcpy(buf + n, tmp, m);
			n += m;
		}
		buf[n++] = (uint8_t)(cases[i].tag >> 8);
		buf[n++] = (uint8_t)cases[i].tag;
		buf[n++] = (uint8_t)(cases[i].len >> 8);
		buf[n++] = (uint8_t)cases[i].len;
		memset(buf + n, cases[i].fill, cases[i].len);
		n += cases[i].len;
		exact = malloc(n);
		assert_non_null(exact);
		memcpy(exact, buf, n);
		rc = mfa_record_decode(exact, n, &rec);
		if (rc != cases[i].rc)
			fail_msg("case %s: got %d, want %d", cases[i].name, rc, cases[i].rc);
		if (rc == 0 && cases[i].tag == 0x0010) {
			assert_int_equal(rec.totp.secret_len, cases[i].len);
			assert_int_equal(rec.totp.secret[cases[i].len - 1], cases[i].fill);
		}
		if (rc == 0 && cases[i].tag == 0x0021)
			assert_int_equal(rec.card.spki_len, cases[i].len);
		if (rc == 0 && cases[i].tag == 0x0023)
			assert_int_equal(strlen(rec.card.subject), cases[i].len);
		if (rc == 0 && cases[i].tag == 0x0024)
			assert_int_equal(strlen(rec.card.serial), cases[i].len);
		free(exact);
		free(buf);
	}
}

/* Every truncation of a valid plaintext is refused (a field is cut or a group is missing). */
static void test_decode_every_truncation(void **state)
{
	uint8_t buf[1024], *exact;
	uint8_t scratch[1024];
	size_t n = tu_unhex(CREATED TOTP CARD RECOVERY, buf, sizeof(buf));
	/* Cuts between groups leave a valid record with fewer factors. */
	const size_t whole[] = {
		tu_unhex(CREATED, scratch, sizeof(scratch)),
		tu_unhex(CREATED TOTP, scratch, sizeof(scratch)),
		tu_unhex(CREATED TOTP CARD, scratch, sizeof(scratch)),
	};
	struct mfa_record rec;

	(void)state;
	for (size_t cut = 1; cut < n; cut++) {
		bool valid = cut == whole[0] || cut == whole[1] || cut == whole[2];
		int rc;

		exact = malloc(cut);
		assert_non_null(exact);
		memcpy(exact, buf, cut);
		rc = mfa_record_decode(exact, cut, &rec);
		if (rc != (valid ? 0 : MFA_ERR_CORRUPT))
			fail_msg("plaintext cut to %zu of %zu bytes: got %d", cut, n, rc);
		if (valid)
			assert_int_equal(rec.card.present, cut == whole[2]);
		free(exact);
	}
}

/* The encoder refuses what it cannot represent instead of writing garbage. */
static void test_encode_refuses_unterminated(void **state)
{
	struct mfa_record rec;
	struct mfa_key key;
	struct mfa_buf out;

	(void)state;
	tu_random_key(&key);
	full_record(&rec);
	memset(rec.card.subject, 'S', sizeof(rec.card.subject));
	mfa_buf_init(&out);
	assert_int_not_equal(mfa_record_encode(&rec, &out), 0);
	mfa_buf_free(&out);
	mfa_buf_init(&out);
	assert_int_not_equal(mfa_record_seal(&key, "alice", &rec, &out), 0);
	mfa_buf_free(&out);

	full_record(&rec);
	rec.totp.secret_len = MFA_SECRET_MAX + 1;
	mfa_buf_init(&out);
	assert_int_not_equal(mfa_record_encode(&rec, &out), 0);
	mfa_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trip_full),
		cmocka_unit_test(test_record_round_trip_limits),
		cmocka_unit_test(test_record_card_id),
		cmocka_unit_test(test_record_groups_alone),
		cmocka_unit_test(test_record_file_layout),
		cmocka_unit_test(test_record_every_byte_flip),
		cmocka_unit_test(test_record_every_bit_flip),
		cmocka_unit_test(test_record_other_user),
		cmocka_unit_test(test_record_other_key),
		cmocka_unit_test(test_record_truncated_and_extended),
		cmocka_unit_test(test_record_fresh_nonce),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_secret_length_range),
		cmocka_unit_test(test_decode_values),
		cmocka_unit_test(test_encode_golden),
		cmocka_unit_test(test_decode_length_limits),
		cmocka_unit_test(test_decode_every_truncation),
		cmocka_unit_test(test_encode_refuses_unterminated),
	};

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
