/*
 * Unit tests for lib/state.c: the two sealed state slots (doc/DESIGN.md invariants
 * 4 and 6).  A slot is "MFAS" | version | key id | seq | nonce | ct | tag,
 * zero padded to MFA_STATE_SLOT_LEN; mfa_state_pick() must return the newest
 * slot that authenticates, so that a torn or lost write of one slot leaves
 * the other one in charge.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/rand.h>

#include "testutil.h"
#include "mfauth/err.h"
#include "mfauth/seal.h"
#include "mfauth/state.h"

#define SLOT MFA_STATE_SLOT_LEN
#define SLOT_HEADER_LEN (4 + 1 + MFA_KEYID_LEN + 8)

/* A state with every field distinct; v varies the values. */
static void make_state(struct mfa_state *st, uint64_t seq, uint8_t v)
{
	memset(st, 0, sizeof(*st));
	st->seq = seq;
	st->last_step = 0x0102030405060700ULL | v;
	st->failures = 0xa1b2c300u | v;
	st->first_failure = 0x1112131415161700ULL | v;
	st->last_failure = 0x2122232425262700ULL | v;
	st->locked_until = 0x3132333435363700ULL | v;
	st->last_success = 0x4142434445464700ULL | v;
	st->recovery_used = 0x5152535455565700ULL | v;
	st->failures_total = 0x61626300u | v;
	snprintf(st->fail_service, sizeof(st->fail_service), "gdm-password-%u", v);
	snprintf(st->fail_tty, sizeof(st->fail_tty), "/dev/pts/%u", v);
	snprintf(st->fail_rhost, sizeof(st->fail_rhost), "host-%u.example.lg.jp", v);
}

static void assert_state_equal(const struct mfa_state *a, const struct mfa_state *b)
{
	assert_true(a->seq == b->seq);
	assert_true(a->last_step == b->last_step);
	assert_int_equal(a->failures, b->failures);
	assert_true(a->first_failure == b->first_failure);
	assert_true(a->last_failure == b->last_failure);
	assert_true(a->locked_until == b->locked_until);
	assert_true(a->last_success == b->last_success);
	assert_true(a->recovery_used == b->recovery_used);
	assert_int_equal(a->failures_total, b->failures_total);
	assert_string_equal(a->fail_service, b->fail_service);
	assert_string_equal(a->fail_tty, b->fail_tty);
	assert_string_equal(a->fail_rhost, b->fail_rhost);
}

static void seal(const struct mfa_key *key, const char *user, const struct mfa_state *st,
    uint8_t slot[SLOT])
{
	memset(slot, 0xcc, SLOT);
	assert_int_equal(mfa_state_seal_slot(key, user, st, slot), 0);
}

/* --- one slot --------------------------------------------------------------- */

static void test_slot_round_trip(void **state)
{
	struct mfa_state in, out;
	struct mfa_key key;
	uint8_t slot[SLOT];

	(void)state;
	tu_random_key(&key);

	/* Every field distinctive, strings at their longest. */
	make_state(&in, 0x0807060504030201ULL, 0x5a);
	memset(in.fail_service, 's', sizeof(in.fail_service) - 1);
	memset(in.fail_tty, 't', sizeof(in.fail_tty) - 1);
	memset(in.fail_rhost, 'r', sizeof(in.fail_rhost) - 1);
	in.fail_rhost[0] = '[';
	in.fail_rhost[sizeof(in.fail_rhost) - 2] = ']';
	seal(&key, "alice", &in, slot);
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_state_equal(&in, &out);

	/* The header: magic, version, key id, seq big-endian. */
	assert_memory_equal(slot, MFA_STATE_MAGIC, 4);
	assert_int_equal(slot[4], MFA_STATE_VERSION);
	assert_memory_equal(slot + 5, key.id, MFA_KEYID_LEN);
	assert_memory_equal(slot + 13, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);

	/* Extreme values and empty strings. */
	memset(&in, 0, sizeof(in));
	in.seq = UINT64_MAX;
	in.locked_until = MFA_LOCK_FOREVER;
	in.failures = UINT32_MAX;
	seal(&key, "alice", &in, slot);
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_state_equal(&in, &out);

	/* All zeros is a valid state too (seq 0, nothing happened yet). */
	memset(&in, 0, sizeof(in));
	seal(&key, "alice", &in, slot);
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_true(tu_all_zero(&out, sizeof(out)));

	/* Sealing twice gives different bytes (fresh nonce), both valid. */
	{
		uint8_t again[SLOT];
		make_state(&in, 3, 1);
		seal(&key, "alice", &in, slot);
		seal(&key, "alice", &in, again);
		assert_memory_equal(slot, again, SLOT_HEADER_LEN);
		assert_memory_not_equal(slot + SLOT_HEADER_LEN, again + SLOT_HEADER_LEN,
		    MFA_NONCE_LEN);
		assert_int_equal(mfa_state_unseal_slot(&key, "alice", again, &out), 0);
		assert_state_equal(&in, &out);
	}
}

/*
 * A slot written before failures_total existed (version 1 as first
 * released: the bytes below were sealed by that code, key bytes i * 7 + 1,
 * user "alice") still loads, with failures_total 0 and every other field
 * as written.  State files on disk must survive the upgrade.
 */
/* clang-format off */
static const uint8_t old_slot[] = {
	0x4d, 0x46, 0x41, 0x53, 0x01, 0x7a, 0x53, 0xeb, 0x67, 0xc4, 0x50, 0xbc,
	0xcd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0xd4, 0x44, 0xee,
	0xe2, 0x59, 0x1d, 0x12, 0x15, 0x86, 0x25, 0x0c, 0xe7, 0x64, 0xc8, 0xbe,
	0xe3, 0x03, 0xa1, 0x9f, 0xac, 0xbe, 0x7e, 0xd4, 0x3e, 0xf6, 0x91, 0xa1,
	0x65, 0x88, 0xe3, 0x2d, 0x59, 0x76, 0x5b, 0x6c, 0x8b, 0x14, 0xcf, 0xfe,
	0x06, 0x47, 0xe3, 0x3e, 0xeb, 0x73, 0xa1, 0x24, 0x0d, 0xdd, 0x9b, 0x80,
	0x32, 0x89, 0x21, 0x3c, 0x4b, 0xb7, 0x5e, 0x8c, 0x09, 0xe4, 0x98, 0xf3,
	0x99, 0xc7, 0x2e, 0x99, 0x27, 0x9b, 0x18, 0x10, 0xcd, 0xda, 0xf1, 0x6d,
	0xd0, 0xce, 0xf4, 0xbf, 0xed, 0x89, 0x04, 0x39, 0x8d, 0xa3, 0x9a, 0xeb,
	0x7d, 0xd1, 0x98, 0x4a, 0x84, 0xf2, 0x23, 0x74, 0xf9, 0xee, 0x3a, 0xee,
	0x49, 0x28, 0x10, 0xd8, 0x45, 0xf5, 0x80, 0x9f, 0xc3, 0xd8, 0xee, 0xd1,
	0x30, 0xa1, 0x72, 0xfd, 0xcd, 0x5a, 0x6b, 0xa2, 0xc2, 0x84, 0x60, 0x82,
	0x67, 0x47, 0xd1, 0xab, 0xa9, 0xed, 0x24, 0x20, 0x68, 0x52, 0x72, 0x01,
	0x4b, 0x01, 0xad, 0xdf, 0x01, 0xc8, 0x77, 0x2d, 0x82, 0xfa, 0x17, 0xd1,
	0x2a, 0x35, 0x5c, 0x7a, 0xaa, 0x16, 0xd0, 0xce, 0xc1, 0x56, 0x79, 0xf8,
	0xa0, 0x8f, 0x5d, 0xb6, 0x0e, 0x56, 0x47, 0xd0, 0xbe, 0xa9, 0xf2, 0x8f,
	0x94, 0x28, 0x1d, 0x95, 0xe4, 0x01, 0xf6, 0xbd, 0x4f, 0x01, 0x8f, 0x89,
	0x82, 0xaf, 0xd3, 0x2d, 0x3b, 0x67, 0x18, 0xc3, 0x99, 0x9e, 0x69, 0xcd,
	0x52, 0x25, 0xbf, 0xbe, 0x39, 0x51, 0x5f, 0x35, 0x33, 0x4f, 0x3e, 0x06,
	0xcb, 0x8d, 0x0c, 0x5c, 0x65, 0x6c, 0xf1, 0x1a, 0x3d, 0xfb, 0xbd, 0x99,
	0x42, 0x03, 0x84, 0x1b, 0xd8, 0xc7, 0xae, 0x79, 0xa9, 0x3c, 0x59, 0xd6,
	0xd3, 0x11, 0x61, 0x42, 0x8c, 0x32, 0x3b, 0x3f, 0xc0, 0x0d, 0x58, 0xaf,
	0x13, 0xe9, 0xf3, 0x4a, 0x91, 0x01, 0x40, 0x28, 0x8f, 0x6f, 0xe1, 0xfd,
	0xd3, 0x0d, 0x69, 0xdc, 0xb7, 0x9e, 0x76, 0x17, 0x6a, 0xf1, 0x14, 0xcc,
	0xaa, 0x37, 0x05, 0x2b, 0xb2, 0xb7, 0x68, 0x59, 0xe6, 0x23, 0x3b, 0x7c,
	0x95, 0xc4, 0x56, 0x65, 0x8f,
};
/* clang-format on */

static void test_slot_written_before_failures_total(void **state)
{
	struct mfa_state out;
	struct mfa_key key;
	uint8_t slot[SLOT];

	(void)state;
	for (int i = 0; i < MFA_KEY_LEN; i++)
		key.bytes[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(mfa_key_derive_id(&key), 0);
	memset(slot, 0, sizeof(slot));
	memcpy(slot, old_slot, sizeof(old_slot));
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_true(out.seq == 42);
	assert_true(out.last_step == 60000000);
	assert_int_equal(out.failures, 3);
	assert_true(out.first_failure == 1800000000);
	assert_true(out.last_failure == 1800000100);
	assert_true(out.locked_until == 0);
	assert_true(out.last_success == 1799990000);
	assert_true(out.recovery_used == 0x1122334455667788ULL);
	assert_string_equal(out.fail_service, "sshd");
	assert_string_equal(out.fail_tty, "ssh");
	assert_string_equal(out.fail_rhost, "192.0.2.7");
	assert_int_equal(out.failures_total, 0);
	/* Written back, the new field takes bytes the old layout left zero: same size. */
	out.failures_total = 7;
	assert_int_equal(mfa_state_seal_slot(&key, "alice", &out, slot), 0);
	for (size_t i = sizeof(old_slot); i < SLOT; i++)
		assert_int_equal(slot[i], 0);
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_int_equal(out.failures_total, 7);
}

/* A string that fills its whole array comes back NUL-terminated, never longer. */
static void test_slot_unterminated_strings(void **state)
{
	struct mfa_state in, out;
	struct mfa_key key;
	uint8_t slot[SLOT];

	(void)state;
	tu_random_key(&key);
	make_state(&in, 1, 2);
	memset(in.fail_service, 'S', sizeof(in.fail_service));
	memset(in.fail_tty, 'T', sizeof(in.fail_tty));
	memset(in.fail_rhost, 'R', sizeof(in.fail_rhost));
	seal(&key, "alice", &in, slot);
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_int_equal(strnlen(out.fail_service, sizeof(out.fail_service)),
	    sizeof(out.fail_service) - 1);
	assert_int_equal(strnlen(out.fail_tty, sizeof(out.fail_tty)), sizeof(out.fail_tty) - 1);
	assert_int_equal(strnlen(out.fail_rhost, sizeof(out.fail_rhost)),
	    sizeof(out.fail_rhost) - 1);
}

/* A slot copied onto another user's name does not open. */
static void test_slot_other_user(void **state)
{
	static const char *const others[] = { "bob", "alic", "alice ", "ALICE", "alicea" };
	struct mfa_state in, out;
	struct mfa_key key;
	uint8_t slot[SLOT];

	(void)state;
	tu_random_key(&key);
	make_state(&in, 9, 9);
	seal(&key, "alice", &in, slot);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(mfa_state_unseal_slot(&key, others[i], slot, &out),
		    MFA_ERR_CORRUPT);
		assert_true(tu_all_zero(&out, sizeof(out)));
	}
}

static void test_slot_other_key(void **state)
{
	struct mfa_state in, out;
	struct mfa_key key, other;
	uint8_t slot[SLOT];

	(void)state;
	tu_random_key(&key);
	tu_random_key(&other);
	make_state(&in, 9, 9);
	seal(&other, "alice", &in, slot);
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), MFA_ERR_KEYID);
	assert_true(tu_all_zero(&out, sizeof(out)));
	/* Claiming our key id does not get it past the tag. */
	memcpy(slot + 5, key.id, MFA_KEYID_LEN);
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), MFA_ERR_CORRUPT);
	/* Other versions are refused as such. */
	seal(&key, "alice", &in, slot);
	slot[4] = 0;
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), MFA_ERR_VERSION);
	slot[4] = MFA_STATE_VERSION + 1;
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), MFA_ERR_VERSION);
}

/* The key id a slot claims, as `mfauth check` reads it without a key: the sealing key's, or none. */
static void test_slot_keyid(void **state)
{
	struct mfa_state in;
	struct mfa_key key, other;
	uint8_t slot[SLOT];
	const uint8_t *id;

	(void)state;
	tu_random_key(&key);
	tu_random_key(&other);
	make_state(&in, 3, 3);
	seal(&key, "alice", &in, slot);
	assert_non_null(id = mfa_state_slot_keyid(slot));
	assert_memory_equal(id, key.id, MFA_KEYID_LEN);
	seal(&other, "alice", &in, slot);
	assert_non_null(id = mfa_state_slot_keyid(slot));
	assert_memory_equal(id, other.id, MFA_KEYID_LEN);
	/* Not a state slot (an empty or foreign value): no id. */
	memset(slot, 0, SLOT);
	assert_null(mfa_state_slot_keyid(slot));
	memcpy(slot, "MFAR", 4);
	assert_null(mfa_state_slot_keyid(slot));
}

static int flip_expect(size_t i)
{
	if (i < 4)
		return MFA_ERR_CORRUPT;
	if (i == 4)
		return MFA_ERR_VERSION;
	if (i < 13)
		return MFA_ERR_KEYID;
	return MFA_ERR_CORRUPT;
}

/*
 * Flipping any byte of a slot, the zero padding included, makes it invalid.
 * All offsets are tried before failing, so the report shows every one.
 */
static void test_slot_every_byte_flip(void **state)
{
	struct mfa_state in, out;
	struct mfa_key key;
	uint8_t slot[SLOT];
	size_t accepted = 0, first = SIZE_MAX, last = 0, wrong = 0;

	(void)state;
	tu_random_key(&key);
	make_state(&in, 77, 3);
	seal(&key, "alice", &in, slot);
	for (size_t i = 0; i < SLOT; i++) {
		int rc;
		slot[i] ^= 0xff;
		memset(&out, 0xee, sizeof(out));
		rc = mfa_state_unseal_slot(&key, "alice", slot, &out);
		if (rc == 0) {
			accepted++;
			if (first == SIZE_MAX)
				first = i;
			last = i;
		} else if (rc != flip_expect(i)) {
			print_error("byte %zu flipped: got %d, want %d\n", i, rc, flip_expect(i));
			wrong++;
		} else if (!tu_all_zero(&out, sizeof(out))) {
			print_error("byte %zu flipped: refused but state not cleared\n", i);
			wrong++;
		}
		slot[i] ^= 0xff;
	}
	if (accepted > 0)
		print_error("%zu flipped bytes still accepted, offsets %zu..%zu of %d\n", accepted,
		    first, last, SLOT);
	assert_int_equal(mfa_state_unseal_slot(&key, "alice", slot, &out), 0);
	assert_int_equal(wrong, 0);
	assert_int_equal(accepted, 0);
}

/* --- picking a slot ------------------------------------------------------------ */

enum slot_kind { K_VALID, K_ZERO, K_GARBAGE, K_OTHER_USER, K_OTHER_KEY };

static const struct {
	const char *name;
	enum slot_kind kind[2];
	uint64_t seq[2];
	int rc;
	int pick;
} pick_cases[] = {
	{ "only slot 0", { K_VALID, K_ZERO }, { 5, 0 }, 0, 0 },
	{ "only slot 1", { K_ZERO, K_VALID }, { 0, 5 }, 0, 1 },
	{ "slot 0 newer", { K_VALID, K_VALID }, { 6, 5 }, 0, 0 },
	{ "slot 1 newer", { K_VALID, K_VALID }, { 5, 6 }, 0, 1 },
	{ "seq 0 and 1", { K_VALID, K_VALID }, { 1, 0 }, 0, 0 },
	{ "large seqs", { K_VALID, K_VALID }, { 0xfffffffffffffffeULL, UINT64_MAX }, 0, 1 },
	{ "high bit of seq", { K_VALID, K_VALID }, { 0x8000000000000000ULL, 0x7fffffffffffffffULL },
	    0, 0 },
	{ "garbage then valid", { K_GARBAGE, K_VALID }, { 0, 3 }, 0, 1 },
	{ "valid then garbage", { K_VALID, K_GARBAGE }, { 3, 0 }, 0, 0 },
	{ "newer slot of another user", { K_VALID, K_OTHER_USER }, { 3, 4 }, 0, 0 },
	{ "newer slot of another key", { K_OTHER_KEY, K_VALID }, { 4, 3 }, 0, 1 },
	{ "neither: zeros", { K_ZERO, K_ZERO }, { 0, 0 }, MFA_ERR_CORRUPT, -1 },
	{ "neither: garbage", { K_GARBAGE, K_GARBAGE }, { 0, 0 }, MFA_ERR_CORRUPT, -1 },
	{ "neither: other user", { K_OTHER_USER, K_OTHER_USER }, { 1, 2 }, MFA_ERR_CORRUPT, -1 },
	{ "neither: other key first", { K_OTHER_KEY, K_ZERO }, { 1, 0 }, MFA_ERR_KEYID, -1 },
};

static void build_slot(enum slot_kind kind, uint64_t seq, uint8_t v, const struct mfa_key *key,
    const struct mfa_key *other, uint8_t slot[SLOT], struct mfa_state *st)
{
	make_state(st, seq, v);
	switch (kind) {
	case K_VALID:
		seal(key, "alice", st, slot);
		break;
	case K_ZERO:
		memset(slot, 0, SLOT);
		break;
	case K_GARBAGE:
		assert_int_equal(RAND_bytes(slot, SLOT), 1);
		break;
	case K_OTHER_USER:
		seal(key, "mallory", st, slot);
		break;
	case K_OTHER_KEY:
		seal(other, "alice", st, slot);
		break;
	}
}

static void test_pick_table(void **state)
{
	struct mfa_key key, other;

	(void)state;
	tu_random_key(&key);
	tu_random_key(&other);
	for (size_t i = 0; i < sizeof(pick_cases) / sizeof(pick_cases[0]); i++) {
		uint8_t file[MFA_STATE_FILE_LEN];
		struct mfa_state want[2], out;
		int slot = 42, rc;

		for (int s = 0; s < 2; s++)
			build_slot(pick_cases[i].kind[s], pick_cases[i].seq[s], (uint8_t)(10 + s),
			    &key, &other, file + s * SLOT, &want[s]);
		memset(&out, 0xee, sizeof(out));
		rc = mfa_state_pick(&key, "alice", file, &out, &slot);
		if (rc != pick_cases[i].rc)
			fail_msg("case \"%s\": got %d (%s), want %d", pick_cases[i].name, rc,
			    mfa_strerror(rc), pick_cases[i].rc);
		if (rc != 0)
			continue;
		if (slot != pick_cases[i].pick)
			fail_msg("case \"%s\": picked slot %d, want %d", pick_cases[i].name, slot,
			    pick_cases[i].pick);
		assert_state_equal(&want[slot], &out);
	}
}

/*
 * A torn write: slot 1 held seq 6 and is being rewritten with seq 8 while
 * slot 0 holds seq 7.  Whatever prefix of the new bytes reached the disk,
 * the result is seq 8 (whole write) or seq 7, exactly as sealed.
 */
static void test_pick_torn_write_every_point(void **state)
{
	uint8_t file[MFA_STATE_FILE_LEN], newslot[SLOT], oldslot[SLOT];
	struct mfa_state s6, s7, s8, out;
	struct mfa_key key;
	size_t got8 = 0;

	(void)state;
	tu_random_key(&key);
	make_state(&s6, 6, 6);
	make_state(&s7, 7, 7);
	make_state(&s8, 8, 8);
	seal(&key, "alice", &s7, file);
	seal(&key, "alice", &s6, oldslot);
	seal(&key, "alice", &s8, newslot);
	for (size_t cut = 0; cut <= SLOT; cut++) {
		int slot = -1;
		memcpy(file + SLOT, newslot, cut);
		memcpy(file + SLOT + cut, oldslot + cut, SLOT - cut);
		assert_int_equal(mfa_state_pick(&key, "alice", file, &out, &slot), 0);
		if (out.seq == 8) {
			assert_int_equal(slot, 1);
			assert_state_equal(&s8, &out);
			got8++;
		} else {
			if (out.seq != 7)
				fail_msg("cut at %zu: seq %llu picked", cut,
				    (unsigned long long)out.seq);
			assert_int_equal(slot, 0);
			assert_state_equal(&s7, &out);
		}
	}
	/* The complete write is picked. */
	assert_true(got8 >= 1);
}

/* The second half of the newest slot overwritten with zeros or garbage. */
static void test_pick_torn_second_half(void **state)
{
	static const struct {
		const char *name;
		int newest;      /* which slot holds the newer state */
		int fill;        /* -1: random garbage */
		size_t from, to; /* overwritten range within the slot */
		                 /* clang-format off */
	} cases[] = {
		{ "slot 1, zeros", 1, 0x00, SLOT / 2, SLOT },
		{ "slot 1, garbage", 1, -1, SLOT / 2, SLOT },
		{ "slot 0, zeros", 0, 0x00, SLOT / 2, SLOT },
		{ "slot 0, garbage", 0, -1, SLOT / 2, SLOT },
		{ "slot 0, 0xff", 0, 0xff, SLOT / 2, SLOT },
		{ "slot 1, first half zeros", 1, 0x00, 0, SLOT / 2 },
		{ "slot 1, only the tag area", 1, 0x00, SLOT / 2, SLOT / 2 + 64 },
	};
	/* clang-format on */
	struct mfa_key key;

	(void)state;
	tu_random_key(&key);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t file[MFA_STATE_FILE_LEN];
		struct mfa_state older, newer, out;
		int n = cases[i].newest, o = 1 - n, slot = -1, rc;
		uint8_t *torn = file + n * SLOT + cases[i].from;
		size_t len = cases[i].to - cases[i].from;

		make_state(&older, 20, 20);
		make_state(&newer, 21, 21);
		seal(&key, "alice", &older, file + o * SLOT);
		seal(&key, "alice", &newer, file + n * SLOT);
		if (cases[i].fill < 0)
			assert_int_equal(RAND_bytes(torn, (int)len), 1);
		else
			memset(torn, cases[i].fill, len);
		rc = mfa_state_pick(&key, "alice", file, &out, &slot);
		if (rc != 0 || slot != o)
			fail_msg("case \"%s\": rc %d slot %d, want the other slot %d",
			    cases[i].name, rc, slot, o);
		assert_state_equal(&older, &out);
	}
}

/* A flipped byte anywhere in the newer slot hands control to the older one. */
static void test_pick_every_byte_flip(void **state)
{
	uint8_t file[MFA_STATE_FILE_LEN];
	struct mfa_state older, newer, out;
	struct mfa_key key;
	size_t wrong = 0, first = SIZE_MAX, last = 0;

	(void)state;
	tu_random_key(&key);
	make_state(&older, 100, 1);
	make_state(&newer, 101, 2);
	seal(&key, "alice", &older, file);
	seal(&key, "alice", &newer, file + SLOT);
	for (size_t i = 0; i < SLOT; i++) {
		int slot = -1;
		file[SLOT + i] ^= 0x55;
		assert_int_equal(mfa_state_pick(&key, "alice", file, &out, &slot), 0);
		if (slot != 0 || out.seq != 100) {
			if (first == SIZE_MAX)
				first = i;
			last = i;
			wrong++;
		}
		file[SLOT + i] ^= 0x55;
	}
	if (wrong > 0)
		print_error("%zu flipped bytes of the newer slot (offsets %zu..%zu) left it "
		            "in use\n",
		    wrong, first, last);
	assert_int_equal(wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_round_trip),
		cmocka_unit_test(test_slot_unterminated_strings),
		cmocka_unit_test(test_slot_written_before_failures_total),
		cmocka_unit_test(test_slot_other_user),
		cmocka_unit_test(test_slot_other_key),
		cmocka_unit_test(test_slot_keyid),
		cmocka_unit_test(test_slot_every_byte_flip),
		cmocka_unit_test(test_pick_table),
		cmocka_unit_test(test_pick_torn_write_every_point),
		cmocka_unit_test(test_pick_torn_second_half),
		cmocka_unit_test(test_pick_every_byte_flip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
