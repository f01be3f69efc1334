/*
 * Unit tests for lib/card_apdu.c: building short APDUs (Lc, Le, chaining),
 * splitting responses, the status-word table and the bounded BER-TLV
 * reader and writer.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/card_apdu.h"
#include "mfauth/err.h"
#include "cardtest.h"
#include "testutil.h"

/* --- card_apdu.c --------------------------------------------------------------- */

static void test_apdu_build(void **state)
{
	static const uint8_t d255[255] = { 0 };
	struct mfa_apdu a;
	uint8_t want[MFA_APDU_MAX];
	static const struct {
		uint8_t cla, ins, p1, p2;
		const char *data;
		size_t le;
		const char *expect;
	} cases[] = {
		{ 0x00, 0x20, 0x00, 0x80, "", 0, "00 20 00 80" },               /* case 1 */
		{ 0x00, 0xB0, 0x00, 0x00, "", 4, "00 B0 00 00 04" },            /* case 2 */
		{ 0x00, 0xB0, 0x01, 0x04, "", 256, "00 B0 01 04 00" },          /* Le 256 = 00 */
		{ 0x00, 0xA4, 0x02, 0x0C, "00 18", 0, "00 A4 02 0C 02 00 18" }, /* case 3 */
		{ 0x00, 0xCB, 0x3F, 0xFF, "5C 03 5F C1 05", 256,
		    "00 CB 3F FF 05 5C 03 5F C1 05 00" }, /* case 4 */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t data[16];
		size_t dlen = tu_unhex(cases[i].data, data, sizeof(data));
		size_t n = tu_unhex(cases[i].expect, want, sizeof(want));
		assert_int_equal(mfa_apdu_build(&a, cases[i].cla, cases[i].ins, cases[i].p1,
		                     cases[i].p2, data, dlen, cases[i].le),
		    0);
		assert_int_equal(a.len, n);
		assert_memory_equal(a.bytes, want, n);
	}
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, d255, 255, 256), 0);
	assert_int_equal(a.len, 4 + 1 + 255 + 1);
	assert_int_equal(a.bytes[4], 0xFF);
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, d255, 256, 0), MFA_ERR_RANGE);
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, NULL, 0, 257), MFA_ERR_RANGE);
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, NULL, 5, 0), MFA_ERR_RANGE);
}

static void test_apdu_set_le(void **state)
{
	static const uint8_t d255[255] = { 0 };
	struct mfa_apdu a;
	(void)state;

	assert_int_equal(mfa_apdu_build(&a, 0, 0xB0, 0, 0, NULL, 0, 4), 0);
	assert_int_equal(mfa_apdu_set_le(&a, 0x12), 0);
	assert_int_equal(a.len, 5);
	assert_int_equal(a.bytes[4], 0x12);
	assert_int_equal(mfa_apdu_set_le(&a, 256), 0);
	assert_int_equal(a.bytes[4], 0x00);
	assert_int_equal(mfa_apdu_set_le(&a, 0), MFA_ERR_RANGE);
	assert_int_equal(mfa_apdu_set_le(&a, 257), MFA_ERR_RANGE);
	/* a command without Le gets one appended */
	assert_int_equal(mfa_apdu_build(&a, 0, 0xA4, 2, 0x0C, (const uint8_t *)"\x00\x0A", 2, 0),
	    0);
	assert_int_equal(mfa_apdu_set_le(&a, 8), 0);
	assert_int_equal(a.len, 8);
	assert_int_equal(a.bytes[7], 8);
	/* a full command without Le has no room for one */
	assert_int_equal(mfa_apdu_build(&a, 0, 1, 2, 3, d255, 255, 0), 0);
	a.len = MFA_APDU_MAX;
	assert_int_equal(mfa_apdu_set_le(&a, 8), MFA_ERR_RANGE);
}

static void test_apdu_chain(void **state)
{
	uint8_t data[600];
	struct mfa_apdu a;
	(void)state;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(mfa_apdu_chain_count(0), 1);
	assert_int_equal(mfa_apdu_chain_count(255), 1);
	assert_int_equal(mfa_apdu_chain_count(256), 2);
	assert_int_equal(mfa_apdu_chain_count(266), 2);
	assert_int_equal(mfa_apdu_chain_count(600), 3);
	/* 266 bytes: 255 with CLA 10 and no Le, then 11 with CLA 00 and Le */
	assert_int_equal(mfa_apdu_build_chained(&a, 0, 0x00, 0x87, 0x07, 0x9A, data, 266, 256), 0);
	assert_int_equal(a.len, 5 + 255);
	assert_int_equal(a.bytes[0], 0x10);
	assert_int_equal(a.bytes[4], 0xFF);
	assert_memory_equal(a.bytes + 5, data, 255);
	assert_int_equal(mfa_apdu_build_chained(&a, 1, 0x00, 0x87, 0x07, 0x9A, data, 266, 256), 0);
	assert_int_equal(a.len, 5 + 11 + 1);
	assert_int_equal(a.bytes[0], 0x00);
	assert_int_equal(a.bytes[4], 11);
	assert_memory_equal(a.bytes + 5, data + 255, 11);
	assert_int_equal(a.bytes[16], 0x00);
	assert_int_equal(mfa_apdu_build_chained(&a, 2, 0x00, 0x87, 0x07, 0x9A, data, 266, 256),
	    MFA_ERR_RANGE);
	/* short data: one plain command */
	assert_int_equal(mfa_apdu_build_chained(&a, 0, 0x00, 0x87, 0x11, 0x9A, data, 38, 256), 0);
	assert_int_equal(a.bytes[0], 0x00);
	assert_int_equal(a.len, 5 + 38 + 1);
}

static void test_apdu_split(void **state)
{
	static const uint8_t r[] = { 0xAA, 0xBB, 0x90, 0x00 };
	const uint8_t *d = NULL;
	size_t dl = 99;
	uint16_t sw = 0;
	(void)state;

	assert_int_equal(mfa_apdu_split(r, 0, &d, &dl, &sw), MFA_ERR_CORRUPT);
	assert_int_equal(mfa_apdu_split(r, 1, &d, &dl, &sw), MFA_ERR_CORRUPT);
	assert_int_equal(mfa_apdu_split(NULL, 4, &d, &dl, &sw), MFA_ERR_CORRUPT);
	assert_int_equal(dl, 99);
	assert_int_equal(mfa_apdu_split(r + 2, 2, &d, &dl, &sw), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(mfa_apdu_split(r, 4, &d, &dl, &sw), 0);
	assert_int_equal(dl, 2);
	assert_ptr_equal(d, r);
	assert_int_equal(sw, 0x9000);
}

static void test_sw_table(void **state)
{
	static const struct {
		uint16_t sw;
		enum mfa_sw kind;
		unsigned arg;
		int err;
		/* clang-format off */
	} cases[] = {
		{ 0x9000, MFA_SW_OK, 0, 0 },
		{ 0x63C3, MFA_SW_TRIES, 3, MFA_ERR_BADPIN },
		{ 0x63C1, MFA_SW_TRIES, 1, MFA_ERR_BADPIN },
		{ 0x63CF, MFA_SW_TRIES, 15, MFA_ERR_BADPIN },
		{ 0x63C0, MFA_SW_TRIES, 0, MFA_ERR_PIN_BLOCKED },
		{ 0x6983, MFA_SW_BLOCKED, 0, MFA_ERR_PIN_BLOCKED },
		{ 0x6982, MFA_SW_SECURITY, 0, MFA_ERR_PIN_REQUIRED },
		{ 0x6108, MFA_SW_MORE, 8, MFA_ERR_CARD },
		{ 0x6100, MFA_SW_MORE, 0, MFA_ERR_CARD },
		{ 0x6C12, MFA_SW_WRONG_LE, 0x12, MFA_ERR_CARD },
		{ 0x6A82, MFA_SW_NOT_FOUND, 0, MFA_ERR_NOAPP },
		{ 0x6700, MFA_SW_WRONG_LENGTH, 0, MFA_ERR_CARD },
		/* 63 0X: the profile decides (card.c); as an error it is never a count */
		{ 0x6300, MFA_SW_TRIES_630X, 0, MFA_ERR_CARD },
		{ 0x6302, MFA_SW_TRIES_630X, 2, MFA_ERR_CARD },
		{ 0x630F, MFA_SW_TRIES_630X, 15, MFA_ERR_CARD },
		{ 0x6381, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x63D3, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6984, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6A80, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6A81, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6D00, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x6F00, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x9001, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0x0000, MFA_SW_OTHER, 0, MFA_ERR_CARD },
		{ 0xFFFF, MFA_SW_OTHER, 0, MFA_ERR_CARD },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned arg = 12345;
		assert_int_equal(mfa_sw_classify(cases[i].sw, &arg), cases[i].kind);
		assert_int_equal(arg, cases[i].arg);
		assert_int_equal(mfa_sw_classify(cases[i].sw, NULL), cases[i].kind);
		assert_int_equal(mfa_sw_to_err(cases[i].sw), cases[i].err);
	}
}

static void test_tlv_get(void **state)
{
	static const struct {
		const char *hex;
		int rc;
		uint32_t tag;
		size_t vlen;
		size_t left;
		/* clang-format off */
	} cases[] = {
		{ "70 03 01 02 03", 0, 0x70, 3, 0 },
		{ "70 00 FE 00", 0, 0x70, 0, 2 },
		{ "71 01 01 FE", 0, 0x71, 1, 1 },
		{ "5F C1 05 01 AA", 0, 0x5FC105, 1, 0 },          /* 3-byte tag */
		{ "5F 2F 01 AA", 0, 0x5F2F, 1, 0 },              /* 2-byte tag */
		{ "7C 81 02 AA BB", 0, 0x7C, 2, 0 },            /* 81 form */
		{ "53 82 00 02 AA BB CC", 0, 0x53, 2, 1 },      /* 82 form */
		{ "", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "70", MFA_ERR_CORRUPT, 0, 0, 0 },             /* no length */
		{ "5F", MFA_ERR_CORRUPT, 0, 0, 0 },             /* tag cut */
		{ "5F C1", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "5F FF FF 01 00", MFA_ERR_CORRUPT, 0, 0, 0 }, /* 4-byte tag */
		{ "70 05 01 02", MFA_ERR_CORRUPT, 0, 0, 0 },    /* value runs past */
		{ "70 81", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "70 81 05 01", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "70 82 01", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "30 82 FF FF 01 02 03", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "30 80 01 02 00 00", MFA_ERR_CORRUPT, 0, 0, 0 },       /* indefinite */
		{ "30 83 00 00 01 AA", MFA_ERR_CORRUPT, 0, 0, 0 },       /* 83 form */
		{ "30 84 00 00 00 01 AA", MFA_ERR_CORRUPT, 0, 0, 0 },
		{ "30 FF 00", MFA_ERR_CORRUPT, 0, 0, 0 },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t buf[64];
		size_t n = tu_unhex(cases[i].hex, buf, sizeof(buf));
		struct mfa_reader r = mfa_reader_init(buf, n);
		uint32_t tag = 0xDEAD;
		const uint8_t *v = NULL;
		size_t vlen = 777;
		int rc = mfa_tlv_get(&r, &tag, &v, &vlen);

		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, expected %d", i, cases[i].hex, rc,
			    cases[i].rc);
		if (rc == 0) {
			assert_int_equal(tag, cases[i].tag);
			assert_int_equal(vlen, cases[i].vlen);
			assert_int_equal(r.len, cases[i].left);
			assert_true(v >= buf && v + vlen <= buf + n);
		} else {
			/* nothing consumed, nothing written */
			assert_int_equal(r.len, n);
			assert_ptr_equal(r.p, buf);
			assert_int_equal(tag, 0xDEAD);
			assert_int_equal(vlen, 777);
		}
	}
}

static void test_tlv_find_put(void **state)
{
	uint8_t buf[64];
	size_t n = tu_unhex("82 00 81 02 AA BB", buf, sizeof(buf));
	const uint8_t *v;
	size_t vlen;
	struct mfa_buf b;
	static const size_t lens[] = { 0, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0xFFFF };
	static const uint32_t tags[] = { 0x7C, 0x5F2F, 0x5FC105 };
	(void)state;

	assert_int_equal(mfa_tlv_find(buf, n, 0x81, &v, &vlen), 0);
	assert_int_equal(vlen, 2);
	assert_int_equal(v[0], 0xAA);
	assert_int_equal(mfa_tlv_find(buf, n, 0x82, &v, &vlen), 0);
	assert_int_equal(vlen, 0);
	assert_int_equal(mfa_tlv_find(buf, n, 0x83, &v, &vlen), MFA_ERR_NOENT);
	assert_int_equal(mfa_tlv_find(buf, n - 1, 0x81, &v, &vlen), MFA_ERR_CORRUPT);
	/* headers written by put_header read back with get */
	for (size_t t = 0; t < NELEM(tags); t++) {
		for (size_t i = 0; i < NELEM(lens); i++) {
			struct mfa_reader r;
			uint32_t tag;

			mfa_buf_init(&b);
			mfa_tlv_put_header(&b, tags[t], lens[i]);
			assert_non_null(mfa_put_zeros(&b, lens[i]));
			assert_int_equal(mfa_buf_error(&b), 0);
			r = mfa_reader_init(b.data, b.len);
			assert_int_equal(mfa_tlv_get(&r, &tag, &v, &vlen), 0);
			assert_int_equal(tag, tags[t]);
			assert_int_equal(vlen, lens[i]);
			assert_int_equal(r.len, 0);
			mfa_buf_free(&b);
		}
	}
	mfa_buf_init(&b);
	mfa_tlv_put_header(&b, 0x70, 0x10000);
	assert_int_equal(mfa_buf_error(&b), MFA_ERR_RANGE);
	mfa_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apdu_build),
		cmocka_unit_test(test_apdu_set_le),
		cmocka_unit_test(test_apdu_chain),
		cmocka_unit_test(test_apdu_split),
		cmocka_unit_test(test_sw_table),
		cmocka_unit_test(test_tlv_get),
		cmocka_unit_test(test_tlv_find_put),
	};

	return cmocka_run_group_tests_name("card_apdu", tests, NULL, NULL);
}
