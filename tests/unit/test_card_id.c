/*
 * Unit tests for lib/card_id.c: the identifier bytes a login compares
 * before the PIN, from a certificate's head (JPKI) or a CHUID (PIV).
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

#include "mfauth/card.h"
#include "mfauth/err.h"
#include "cardtest.h"
#include "testutil.h"

static void test_id_from_cert(void **state)
{
	uint8_t id[MFA_CARD_ID_MAX], id2[MFA_CARD_ID_MAX];
	size_t n = 0, n2 = 0;
	(void)state;

	/* the whole certificate and its head give the same bytes */
	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, cert_rsa_a_len, id, sizeof(id), &n), 0);
	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, MFA_CARD_HEAD_MAX, id2, sizeof(id2),
	                     &n2),
	    0);
	assert_int_equal(n, n2);
	assert_memory_equal(id, id2, n);
	/* it starts with the serial's TLV: 02 08 01 23 45 67 89 AB CD EF */
	assert_true(n > 10);
	assert_memory_equal(id, "\x02\x08\x01\x23\x45\x67\x89\xAB\xCD\xEF", 10);
	/* and goes on with the issuer (a SEQUENCE) */
	assert_int_equal(id[10], 0x30);
	/* another certificate of the same issuer: another identifier */
	{
		size_t len = 0;
		uint8_t *other = make_cert(rsa_b, "Test Clerk", rsa_a, "Test Clerk",
		    "0123456789ABCDF0", &len);
		assert_int_equal(mfa_card_id_from_cert(other, len, id2, sizeof(id2), &n2), 0);
		assert_false(n == n2 && memcmp(id, id2, n) == 0);
		OPENSSL_free(other);
	}
	/* every cut before the issuer's header is refused; none reads past the cut */
	for (size_t cut = 0; cut < 40; cut++) {
		uint8_t *head = malloc(cut ? cut : 1);
		int rc;

		assert_non_null(head);
		memcpy(head, cert_rsa_a, cut);
		rc = mfa_card_id_from_cert(head, cut, id2, sizeof(id2), &n2);
		if (rc != 0 && rc != MFA_ERR_CARD)
			fail_msg("cut %zu: rc %d", cut, rc);
		free(head);
	}
	/* too small an output buffer */
	assert_int_equal(mfa_card_id_from_cert(cert_rsa_a, cert_rsa_a_len, id2, 5, &n2),
	    MFA_ERR_RANGE);
	/* hostile heads */
	{
		/* clang-format off */
		static const char *const bad[] = {
			"31 82 01 00 30 82 00 F0 02 01 01",             /* not a SEQUENCE */
			"30 82 01 00 31 82 00 F0 02 01 01",
			"30 82 01 00 30 82 00 F0 A0 03 02 01",          /* version cut */
			"30 82 01 00 30 82 00 F0 04 01 01 30 00 30 00",  /* serial not INTEGER */
			"30 82 01 00 30 82 00 F0 02 00 30 00 30 00",     /* empty serial */
			"30 82 01 00 30 82 00 F0 02 7F 01",              /* serial past the head */
			"30 82 01 00 30 82 00 F0 02 01 01 30 05 06",     /* algorithm cut */
			"30 82 01 00 30 82 00 F0 02 01 01 30 00 31 00",  /* issuer not a SEQUENCE */
			"30 84 00 00 01 00",                             /* length form 84 */
			"30 80",                                         /* indefinite */
		};
		/* clang-format on */
		for (size_t i = 0; i < NELEM(bad); i++) {
			uint8_t b[64];
			size_t len = tu_unhex(bad[i], b, sizeof(b));
			if (mfa_card_id_from_cert(b, len, id2, sizeof(id2), &n2) != MFA_ERR_CARD)
				fail_msg("bad head %zu accepted", i);
		}
	}
	/* an issuer running past the head is kept as far as the head goes */
	{
		uint8_t b[64];
		size_t len = tu_unhex("30 82 01 00 30 82 00 F0 02 01 07 30 00 30 81 C8 31 0B 30 09",
		    b, sizeof(b));
		assert_int_equal(mfa_card_id_from_cert(b, len, id2, sizeof(id2), &n2), 0);
		assert_int_equal(n2, 3 + 3 + 4);
		assert_memory_equal(id2, "\x02\x01\x07\x30\x81\xC8\x31\x0B\x30\x09", 10);
	}
	assert_int_equal(mfa_card_id_from_cert(NULL, 10, id2, sizeof(id2), &n2), MFA_ERR_INVAL);
}

static void test_id_from_chuid(void **state)
{
	uint8_t obj[2200], id[MFA_CARD_ID_MAX], id2[MFA_CARD_ID_MAX];
	size_t len, n = 0, n2 = 0;
	(void)state;

	len = chuid_object(0x11, false, 1024, obj, sizeof(obj));
	/* only the head is looked at: the signature may be cut anywhere */
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id, sizeof(id), &n), 0);
	assert_int_equal(n, MFA_CHUID_ID_LEN);
	assert_memory_equal(id, "\x30\x19\xD0\xD1", 4);
	assert_memory_equal(id + 27, "\x34\x10\x11\x11", 4);
	assert_int_equal(mfa_card_id_from_chuid(obj, 256, id2, sizeof(id2), &n2), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(id, id2, n);
	/* the optional EE and 32 before the GUID are skipped */
	len = chuid_object(0x11, true, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, sizeof(id2), &n2), 0);
	assert_memory_equal(id, id2, n);
	/* another GUID, another card */
	len = chuid_object(0x12, false, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, sizeof(id2), &n2), 0);
	assert_true(memcmp(id, id2, n) != 0);
	/* a GUID of zeros names no card */
	len = chuid_object(0x00, false, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, sizeof(id2), &n2), MFA_ERR_NOENT);
	/* every cut before the GUID is complete: refused, nothing read past it */
	len = chuid_object(0x11, true, 10, obj, sizeof(obj));
	for (size_t cut = 0; cut < 4 + 3 + 27 + 4 + 18; cut++) {
		uint8_t *head = malloc(cut ? cut : 1);

		assert_non_null(head);
		memcpy(head, obj, cut);
		if (mfa_card_id_from_chuid(head, cut, id2, sizeof(id2), &n2) != MFA_ERR_CARD)
			fail_msg("cut %zu accepted", cut);
		free(head);
	}
	assert_int_equal(mfa_card_id_from_chuid(obj, 4 + 3 + 27 + 4 + 18, id2, sizeof(id2), &n2),
	    0);
	/* hostile objects */
	{
		/* clang-format off */
		static const char *const bad[] = {
			"54 2D 30 19",                                   /* not 53 */
			"53 2D 34 10 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11", /* GUID first */
			"53 2D 30 18 00",                                /* FASC-N of 24 bytes, cut */
			"53 05 30 19 00 00 00",                          /* FASC-N past the object */
			"53 30 35 08 32 30 33 30 31 32 33 31",           /* expiry before the ids */
			"53 82 FF",                                      /* length cut */
		};
		/* clang-format on */
		for (size_t i = 0; i < NELEM(bad); i++) {
			uint8_t b[64];
			size_t blen = tu_unhex(bad[i], b, sizeof(b));
			if (mfa_card_id_from_chuid(b, blen, id2, sizeof(id2), &n2) != MFA_ERR_CARD)
				fail_msg("bad CHUID %zu accepted", i);
		}
	}
	len = chuid_object(0x11, false, 10, obj, sizeof(obj));
	assert_int_equal(mfa_card_id_from_chuid(obj, len, id2, 44, &n2), MFA_ERR_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_from_cert),
		cmocka_unit_test(test_id_from_chuid),
	};

	return cmocka_run_group_tests_name("card_id", tests, cardtest_keys_setup,
	    cardtest_keys_teardown);
}
