/*
 * Unit tests for lib/buf.c: the bounded reader every on-disk and card parser
 * goes through, and the growable writer that may hold secrets.
 *
 * Reader contract (buf.h): a getter on short input fails with MFA_ERR_CORRUPT,
 * consumes nothing and leaves its output untouched.  Writer contract: the
 * first error sticks and later puts are ignored; freeing wipes the contents.
 *
 * The wipe checks interpose OPENSSL_cleanse() (what mfa_wipe() uses, as the
 * style guide asks) to record which ranges were wiped: reading freed memory
 * back would be undefined and caught by ASan.
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
#include <openssl/crypto.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"

/* --- a recording OPENSSL_cleanse ----------------------------------------- */

#define WIPE_LOG_MAX 64

static struct {
	const void *p;
	size_t n;
} wipe_log[WIPE_LOG_MAX];
static size_t wipe_count;

/*
 * Replaces libcrypto's symbol for this program (the executable's definition
 * wins).  It still wipes, so libcrypto's own callers lose nothing.
 */
void OPENSSL_cleanse(void *ptr, size_t len)
{
	if (ptr != NULL && len > 0) {
		memset(ptr, 0, len);
		__asm__ __volatile__("" : : "r"(ptr) : "memory");
	}
	if (wipe_count < WIPE_LOG_MAX) {
		wipe_log[wipe_count].p = ptr;
		wipe_log[wipe_count].n = len;
	}
	wipe_count++;
}

/* True if some recorded wipe covered [p, p + n). */
static int wiped(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	for (size_t i = 0; i < wipe_count && i < WIPE_LOG_MAX; i++) {
		uintptr_t w = (uintptr_t)wipe_log[i].p;
		if (w <= a && a + n <= w + wipe_log[i].n)
			return 1;
	}
	return 0;
}

/* --- reader --------------------------------------------------------------- */

/*
 * Each getter behind one signature: out points at a sentinel-filled area of
 * at least 16 bytes; `need` is how many input bytes a success consumes.
 */
struct getter {
	const char *name;
	size_t need;
	int (*get)(struct mfa_reader *r, void *out);
	size_t outlen;
};

static int g_u8(struct mfa_reader *r, void *out)
{
	return mfa_get_u8(r, out);
}
static int g_u16(struct mfa_reader *r, void *out)
{
	return mfa_get_u16(r, out);
}
static int g_u32(struct mfa_reader *r, void *out)
{
	return mfa_get_u32(r, out);
}
static int g_u64(struct mfa_reader *r, void *out)
{
	return mfa_get_u64(r, out);
}
static int g_bytes1(struct mfa_reader *r, void *out)
{
	return mfa_get_bytes(r, out, 1);
}
static int g_bytes5(struct mfa_reader *r, void *out)
{
	return mfa_get_bytes(r, out, 5);
}
static int g_bytes16(struct mfa_reader *r, void *out)
{
	return mfa_get_bytes(r, out, 16);
}
static int g_view3(struct mfa_reader *r, void *out)
{
	return mfa_get_view(r, 3, (const uint8_t **)out);
}
static int g_view9(struct mfa_reader *r, void *out)
{
	return mfa_get_view(r, 9, (const uint8_t **)out);
}

/* clang-format off */
static const struct getter getters[] = {
	{ "u8", 1, g_u8, sizeof(uint8_t) },
	{ "u16", 2, g_u16, sizeof(uint16_t) },
	{ "u32", 4, g_u32, sizeof(uint32_t) },
	{ "u64", 8, g_u64, sizeof(uint64_t) },
	{ "bytes(1)", 1, g_bytes1, 1 },
	{ "bytes(5)", 5, g_bytes5, 5 },
	{ "bytes(16)", 16, g_bytes16, 16 },
	{ "view(3)", 3, g_view3, sizeof(const uint8_t *) },
	{ "view(9)", 9, g_view9, sizeof(const uint8_t *) },
};
/* clang-format on */
#define NGETTERS (sizeof(getters) / sizeof(getters[0]))

#define SENTINEL 0xA5

/* Output storage aligned for any getter's type. */
union outbuf {
	uint64_t u64;
	const uint8_t *ptr;
	uint8_t bytes[32];
};

static void assert_untouched(const union outbuf *o, const char *name, size_t have)
{
	for (size_t i = 0; i < sizeof(o->bytes); i++) {
		if (o->bytes[i] != SENTINEL)
			print_error("%s with %zu bytes wrote output byte %zu\n", name, have, i);
		assert_int_equal(o->bytes[i], SENTINEL);
	}
}

/* Every shorter length, including zero, fails without consuming or writing. */
static void test_getters_short(void **state)
{
	(void)state;
	for (size_t g = 0; g < NGETTERS; g++) {
		const struct getter *gt = &getters[g];

		for (size_t have = 0; have < gt->need; have++) {
			/* Exactly `have` bytes on the heap, so an over-read trips ASan. */
			uint8_t *in = malloc(have > 0 ? have : 1);
			struct mfa_reader r;
			union outbuf o;

			assert_non_null(in);
			memset(in, 0x11, have > 0 ? have : 1);
			r = mfa_reader_init(in, have);
			memset(&o, SENTINEL, sizeof(o));
			assert_int_equal(gt->get(&r, &o), MFA_ERR_CORRUPT);
			assert_ptr_equal(r.p, in);
			assert_int_equal(r.len, have);
			assert_untouched(&o, gt->name, have);
			free(in);
		}
	}
}

/* An empty reader, also with a NULL pointer (what an empty APDU body gives). */
static void test_getters_empty(void **state)
{
	(void)state;
	for (size_t g = 0; g < NGETTERS; g++) {
		struct mfa_reader r = mfa_reader_init(NULL, 0);
		union outbuf o;

		memset(&o, SENTINEL, sizeof(o));
		assert_int_equal(getters[g].get(&r, &o), MFA_ERR_CORRUPT);
		assert_null(r.p);
		assert_int_equal(r.len, 0);
		assert_untouched(&o, getters[g].name, 0);
	}
}

/* Exactly enough input: success, everything consumed, nothing past outlen written. */
static void test_getters_exact(void **state)
{
	(void)state;
	for (size_t g = 0; g < NGETTERS; g++) {
		const struct getter *gt = &getters[g];
		uint8_t *in = malloc(gt->need);
		struct mfa_reader r;
		union outbuf o;

		assert_non_null(in);
		for (size_t i = 0; i < gt->need; i++)
			in[i] = (uint8_t)(0x40 + i);
		r = mfa_reader_init(in, gt->need);
		memset(&o, SENTINEL, sizeof(o));
		assert_int_equal(gt->get(&r, &o), 0);
		assert_ptr_equal(r.p, in + gt->need);
		assert_int_equal(r.len, 0);
		for (size_t i = gt->outlen; i < sizeof(o.bytes); i++)
			assert_int_equal(o.bytes[i], SENTINEL);
		/* And the next read of the now empty reader fails in place. */
		assert_int_equal(gt->get(&r, &o), MFA_ERR_CORRUPT);
		assert_ptr_equal(r.p, in + gt->need);
		assert_int_equal(r.len, 0);
		free(in);
	}
}

/* A short remainder in the middle of a buffer: the position stays put. */
static void test_getters_short_remainder(void **state)
{
	static const uint8_t in[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct mfa_reader r = mfa_reader_init(in, sizeof(in));
	uint64_t v64 = 0xDEADBEEFDEADBEEFULL;
	uint32_t v32 = 0;
	uint8_t bytes[8];

	(void)state;
	assert_int_equal(mfa_get_u32(&r, &v32), 0);
	assert_int_equal(v32, 0x01020304);
	assert_int_equal(mfa_get_u64(&r, &v64), MFA_ERR_CORRUPT);
	assert_true(v64 == 0xDEADBEEFDEADBEEFULL);
	assert_int_equal(mfa_get_u32(&r, &v32), MFA_ERR_CORRUPT);
	assert_int_equal(v32, 0x01020304);
	memset(bytes, SENTINEL, sizeof(bytes));
	assert_int_equal(mfa_get_bytes(&r, bytes, 4), MFA_ERR_CORRUPT);
	assert_int_equal(bytes[0], SENTINEL);
	assert_ptr_equal(r.p, in + 4);
	assert_int_equal(r.len, 3);
	/* What is left is still readable. */
	assert_int_equal(mfa_get_bytes(&r, bytes, 3), 0);
	assert_memory_equal(bytes, in + 4, 3);
	assert_int_equal(r.len, 0);
}

/* Absurd lengths (a hostile length prefix) fail without consuming. */
static void test_getters_absurd_length(void **state)
{
	static const uint8_t in[4] = { 9, 9, 9, 9 };
	static const size_t lens[] = { 5, 0x10000, SIZE_MAX / 2, SIZE_MAX - 3, SIZE_MAX };
	uint8_t out[4] = { SENTINEL, SENTINEL, SENTINEL, SENTINEL };

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct mfa_reader r = mfa_reader_init(in, sizeof(in));
		const uint8_t *v = (const uint8_t *)out;

		assert_int_equal(mfa_get_view(&r, lens[i], &v), MFA_ERR_CORRUPT);
		assert_ptr_equal(v, out);
		assert_int_equal(mfa_get_bytes(&r, out, lens[i]), MFA_ERR_CORRUPT);
		assert_int_equal(out[0], SENTINEL);
		assert_ptr_equal(r.p, in);
		assert_int_equal(r.len, sizeof(in));
	}
}

/* Zero-length reads succeed anywhere, even on an empty reader, and consume nothing. */
static void test_getters_zero_length(void **state)
{
	static const uint8_t in[2] = { 7, 8 };
	struct mfa_reader r = mfa_reader_init(in, 0);
	const uint8_t *v = NULL;
	uint8_t out = SENTINEL;

	(void)state;
	assert_int_equal(mfa_get_bytes(&r, &out, 0), 0);
	assert_int_equal(out, SENTINEL);
	assert_int_equal(mfa_get_view(&r, 0, &v), 0);
	assert_ptr_equal(v, in);
	assert_ptr_equal(r.p, in);
	assert_int_equal(r.len, 0);
}

/* Big-endian order, top bits included. */
static void test_getters_big_endian(void **state)
{
	/* clang-format off */
	static const uint8_t in[] = {
		0x01,
		0x02, 0x03,
		0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0xff,
		0xfe, 0xdc,
		0x80, 0x00, 0x00, 0x01,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	/* clang-format on */
	struct mfa_reader r = mfa_reader_init(in, sizeof(in));
	const uint8_t *v;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	assert_int_equal(mfa_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(mfa_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(mfa_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(mfa_get_u64(&r, &u64), 0);
	assert_true(u64 == 0x08090a0b0c0d0e0fULL);
	assert_int_equal(mfa_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xff);
	assert_int_equal(mfa_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xfedc);
	assert_int_equal(mfa_get_u32(&r, &u32), 0);
	assert_true(u32 == 0x80000001u);
	assert_int_equal(mfa_get_u64(&r, &u64), 0);
	assert_true(u64 == 0xfffffffffffffffeULL);
	assert_int_equal(mfa_get_view(&r, 8, &v), 0);
	assert_ptr_equal(v, in + sizeof(in) - 8);
	assert_int_equal(r.len, 0);
}

/* --- writer --------------------------------------------------------------- */

static void test_put_big_endian(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
		0xab,
		0x12, 0x34,
		0xde, 0xad, 0xbe, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0xff, 0xff,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		'x', 'y', 'z',
	};
	/* clang-format on */
	struct mfa_buf b;

	(void)state;
	mfa_buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(mfa_buf_error(&b), 0);
	mfa_put_u8(&b, 0xab);
	mfa_put_u16(&b, 0x1234);
	mfa_put_u32(&b, 0xdeadbeefu);
	mfa_put_u64(&b, 0x0123456789abcdefULL);
	mfa_put_u16(&b, 0xffff);
	mfa_put_u64(&b, 1);
	mfa_put_bytes(&b, "xyz", 3);
	mfa_put_bytes(&b, NULL, 0);
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_true(b.cap >= b.len);
	assert_memory_equal(b.data, want, sizeof(want));
	mfa_buf_free(&b);
}

/* What a writer writes, a reader reads back. */
static void test_put_get_round_trip(void **state)
{
	static const uint64_t vals[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
		0x10000, 0x7fffffff, 0x80000000u, 0xffffffffu, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, UINT64_MAX };
	const size_t n = sizeof(vals) / sizeof(vals[0]);
	struct mfa_buf b;
	struct mfa_reader r;

	(void)state;
	mfa_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		mfa_put_u8(&b, (uint8_t)vals[i]);
		mfa_put_u16(&b, (uint16_t)vals[i]);
		mfa_put_u32(&b, (uint32_t)vals[i]);
		mfa_put_u64(&b, vals[i]);
	}
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_int_equal(b.len, n * 15);
	r = mfa_reader_init(b.data, b.len);
	for (size_t i = 0; i < n; i++) {
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;

		assert_int_equal(mfa_get_u8(&r, &u8), 0);
		assert_int_equal(u8, (uint8_t)vals[i]);
		assert_int_equal(mfa_get_u16(&r, &u16), 0);
		assert_int_equal(u16, (uint16_t)vals[i]);
		assert_int_equal(mfa_get_u32(&r, &u32), 0);
		assert_int_equal(u32, (uint32_t)vals[i]);
		assert_int_equal(mfa_get_u64(&r, &u64), 0);
		assert_true(u64 == vals[i]);
	}
	assert_int_equal(r.len, 0);
	mfa_buf_free(&b);
}

/* mfa_put_zeros appends zeros and hands back a pointer to fill them in place. */
static void test_put_zeros(void **state)
{
	struct mfa_buf b;
	uint8_t *z;

	(void)state;
	mfa_buf_init(&b);
	mfa_put_bytes(&b, "head", 4);
	z = mfa_put_zeros(&b, 600); /* forces growth past the first block */
	assert_non_null(z);
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_int_equal(b.len, 604);
	assert_ptr_equal(z, b.data + 4);
	for (size_t i = 0; i < 600; i++)
		assert_int_equal(z[i], 0);
	memset(z, 0x5a, 600);
	mfa_put_bytes(&b, "tail", 4);
	assert_int_equal(b.len, 608);
	assert_memory_equal(b.data, "head", 4);
	for (size_t i = 4; i < 604; i++)
		assert_int_equal(b.data[i], 0x5a);
	assert_memory_equal(b.data + 604, "tail", 4);
	mfa_buf_free(&b);
}

/* Zero-length zeros are not an error: NULL means "error" per buf.h. */
static void test_put_zeros_empty(void **state)
{
	struct mfa_buf b;
	uint8_t *z;

	(void)state;
	mfa_buf_init(&b);
	mfa_put_u8(&b, 1);
	z = mfa_put_zeros(&b, 0);
	assert_non_null(z);
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_int_equal(b.len, 1);
	mfa_buf_free(&b);

	/* The same on a buffer that has never been written. */
	mfa_buf_init(&b);
	z = mfa_put_zeros(&b, 0);
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_int_equal(b.len, 0);
	assert_non_null(z);
	mfa_buf_free(&b);
}

/* Growth keeps every byte, across many reallocations. */
static void test_put_growth(void **state)
{
	struct mfa_buf b;

	(void)state;
	mfa_buf_init(&b);
	for (uint32_t i = 0; i < 20000; i++)
		mfa_put_u32(&b, i * 2654435761u);
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_int_equal(b.len, 80000);
	for (uint32_t i = 0; i < 20000; i++) {
		uint32_t v = i * 2654435761u;
		const uint8_t *p = b.data + 4 * i;
		assert_int_equal(p[0], (uint8_t)(v >> 24));
		assert_int_equal(p[3], (uint8_t)v);
	}
	mfa_buf_free(&b);
}

/*
 * After an error every later put is ignored and the first error stays.
 * Sizes no allocator can satisfy force the error without fault injection;
 * the second case also checks that len + n cannot wrap around.
 */
static void test_error_sticky(void **state)
{
	static const size_t huge[] = { SIZE_MAX, SIZE_MAX - 5, SIZE_MAX / 2 + 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		struct mfa_buf b;
		uint8_t before[6];
		int err;

		mfa_buf_init(&b);
		mfa_put_bytes(&b, "abcdef", 6);
		assert_null(mfa_put_zeros(&b, huge[i]));
		err = mfa_buf_error(&b);
		assert_true(err == MFA_ERR_RANGE || err == MFA_ERR_NOMEM);
		assert_int_equal(b.len, 6);
		memcpy(before, b.data, 6);

		mfa_put_u8(&b, 1);
		mfa_put_u16(&b, 2);
		mfa_put_u32(&b, 3);
		mfa_put_u64(&b, 4);
		mfa_put_bytes(&b, "x", 1);
		assert_null(mfa_put_zeros(&b, 1));
		assert_null(mfa_put_zeros(&b, 0));
		assert_int_equal(b.len, 6);
		assert_memory_equal(b.data, before, 6);
		assert_int_equal(mfa_buf_error(&b), err);

		/* A put of a huge length must not read from p (it is 1 byte). */
		mfa_buf_free(&b);
		mfa_buf_init(&b);
		mfa_put_bytes(&b, "z", huge[i]);
		assert_int_not_equal(mfa_buf_error(&b), 0);
		assert_int_equal(b.len, 0);
		mfa_put_u8(&b, 9);
		assert_int_equal(b.len, 0);
		mfa_buf_free(&b);
	}
}

/* Free wipes the whole block (not only len bytes), frees it and resets. */
static void test_free_wipes_and_resets(void **state)
{
	struct mfa_buf b;
	const uint8_t *data;
	size_t cap;

	(void)state;
	mfa_buf_init(&b);
	mfa_put_bytes(&b, "secret seed material", 20);
	data = b.data;
	cap = b.cap;
	assert_non_null(data);
	wipe_count = 0;
	mfa_buf_free(&b);
	assert_true(wipe_count > 0);
	assert_true(wiped(data, cap));
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(mfa_buf_error(&b), 0);

	/* Freeing twice or freeing an empty buffer is harmless. */
	mfa_buf_free(&b);
	assert_null(b.data);

	/* Reusable after free, and free also clears a sticky error. */
	mfa_put_bytes(&b, "ab", 2);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "ab", 2);
	assert_null(mfa_put_zeros(&b, SIZE_MAX));
	assert_int_not_equal(mfa_buf_error(&b), 0);
	mfa_buf_free(&b);
	assert_int_equal(mfa_buf_error(&b), 0);
	mfa_put_u8(&b, 0x42);
	assert_int_equal(b.len, 1);
	assert_int_equal(b.data[0], 0x42);
	mfa_buf_free(&b);
}

/* Growing must not leave the old block's secret behind. */
static void test_growth_wipes_old_block(void **state)
{
	struct mfa_buf b;
	uint8_t big[4096];
	const uint8_t *old;
	size_t oldcap;

	(void)state;
	memset(big, 0x77, sizeof(big));
	mfa_buf_init(&b);
	mfa_put_bytes(&b, "secret", 6);
	old = b.data;
	oldcap = b.cap;
	wipe_count = 0;
	mfa_put_bytes(&b, big, sizeof(big));
	assert_int_equal(mfa_buf_error(&b), 0);
	assert_true(b.data != old);
	assert_true(wiped(old, oldcap));
	assert_memory_equal(b.data, "secret", 6);
	mfa_buf_free(&b);
}

static void test_wipe(void **state)
{
	uint8_t s[33];

	(void)state;
	memset(s, 0xcc, sizeof(s));
	mfa_wipe(s, sizeof(s) - 1);
	for (size_t i = 0; i < sizeof(s) - 1; i++)
		assert_int_equal(s[i], 0);
	assert_int_equal(s[sizeof(s) - 1], 0xcc);
	mfa_wipe(NULL, 0);
	mfa_wipe(NULL, 10);
	mfa_wipe(s, 0);
	assert_int_equal(s[sizeof(s) - 1], 0xcc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters_short),
		cmocka_unit_test(test_getters_empty),
		cmocka_unit_test(test_getters_exact),
		cmocka_unit_test(test_getters_short_remainder),
		cmocka_unit_test(test_getters_absurd_length),
		cmocka_unit_test(test_getters_zero_length),
		cmocka_unit_test(test_getters_big_endian),
		cmocka_unit_test(test_put_big_endian),
		cmocka_unit_test(test_put_get_round_trip),
		cmocka_unit_test(test_put_zeros),
		cmocka_unit_test(test_put_growth),
		cmocka_unit_test(test_error_sticky),
		cmocka_unit_test(test_free_wipes_and_resets),
		cmocka_unit_test(test_growth_wipes_old_block),
		cmocka_unit_test(test_wipe),
		/* Last: under UBSan its failure (memset on NULL) ends the run. */
		cmocka_unit_test(test_put_zeros_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
