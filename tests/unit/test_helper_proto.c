/*
 * The card errors and their messages in lib/helper_proto.c: the helper sends
 * mfa_hp_card_msg(rc, profile), the module words mfa_hp_card_error(msg) with
 * pam_module/report.c's say_card_error.  Both directions from one table: every
 * error the clerk is told of comes back as an error with the same wording
 * (same error, or one worded the same: a bad signature and a missing
 * application read "not the card enrolled"), and the profile survives
 * where the wording depends on it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mfauth/err.h"
#include "mfauth/helper_proto.h"
#include "mfauth/record.h"

static const struct {
	int rc;
	uint8_t profile;
	enum mfa_hp_msg msg;
	int back; /* the error the module words */
	uint8_t back_profile;
} cases[] = {
	{ 0, MFA_CARD_PIV, MFA_HP_MSG_NONE, 0, 0 },
	{ MFA_ERR_LOCKED, MFA_CARD_PIV, MFA_HP_MSG_NONE, 0, 0 },
	{ MFA_ERR_NOCARD, MFA_CARD_JPKI, MFA_HP_MSG_NONE, 0, 0 },
	{ MFA_ERR_NOREADER, MFA_CARD_PIV, MFA_HP_MSG_NONE, 0, 0 },
	{ MFA_ERR_NOSERVICE, MFA_CARD_PIV, MFA_HP_MSG_NONE, 0, 0 },
	{ MFA_ERR_PIN_TRIES, MFA_CARD_JPKI, MFA_HP_MSG_PIN_TRIES, MFA_ERR_PIN_TRIES, MFA_CARD_PIV },
	{ MFA_ERR_PIN_BLOCKED, MFA_CARD_JPKI, MFA_HP_MSG_PIN_BLOCKED_JPKI, MFA_ERR_PIN_BLOCKED,
	    MFA_CARD_JPKI },
	{ MFA_ERR_PIN_BLOCKED, MFA_CARD_PIV, MFA_HP_MSG_PIN_BLOCKED, MFA_ERR_PIN_BLOCKED,
	    MFA_CARD_PIV },
	{ MFA_ERR_BADPIN, MFA_CARD_PIV, MFA_HP_MSG_BAD_PIN, MFA_ERR_BADPIN, MFA_CARD_PIV },
	{ MFA_ERR_PIN_FORMAT, MFA_CARD_JPKI, MFA_HP_MSG_PIN_FORMAT_JPKI, MFA_ERR_PIN_FORMAT,
	    MFA_CARD_JPKI },
	{ MFA_ERR_PIN_FORMAT, MFA_CARD_PIV, MFA_HP_MSG_PIN_FORMAT, MFA_ERR_PIN_FORMAT,
	    MFA_CARD_PIV },
	{ MFA_ERR_EXPIRED, MFA_CARD_JPKI, MFA_HP_MSG_CERT_EXPIRED, MFA_ERR_EXPIRED, MFA_CARD_PIV },
	{ MFA_ERR_WRONG_CARD, MFA_CARD_PIV, MFA_HP_MSG_WRONG_CARD, MFA_ERR_WRONG_CARD,
	    MFA_CARD_PIV },
	{ MFA_ERR_BADSIG, MFA_CARD_PIV, MFA_HP_MSG_WRONG_CARD, MFA_ERR_WRONG_CARD, MFA_CARD_PIV },
	{ MFA_ERR_NOAPP, MFA_CARD_JPKI, MFA_HP_MSG_WRONG_CARD, MFA_ERR_WRONG_CARD, MFA_CARD_PIV },
	{ MFA_ERR_TRIES_UNKNOWN, MFA_CARD_PIV, MFA_HP_MSG_TRIES_UNKNOWN, MFA_ERR_TRIES_UNKNOWN,
	    MFA_CARD_PIV },
	/* Anything else: the general card message. */
	{ MFA_ERR_CARD, MFA_CARD_PIV, MFA_HP_MSG_CARD_ERROR, MFA_ERR_CARD, MFA_CARD_PIV },
	{ MFA_ERR_IO, MFA_CARD_JPKI, MFA_HP_MSG_CARD_ERROR, MFA_ERR_CARD, MFA_CARD_PIV },
};

static void test_card_msg_both_ways(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t profile = 0;
		enum mfa_hp_msg msg = mfa_hp_card_msg(cases[i].rc, cases[i].profile);

		print_message("case %zu: rc %d\n", i, cases[i].rc);
		assert_int_equal(msg, cases[i].msg);
		if (msg == MFA_HP_MSG_NONE)
			continue;
		assert_int_equal(mfa_hp_card_error(msg, &profile), cases[i].back);
		assert_int_equal(profile, cases[i].back_profile);
	}
}

/* Messages that are no card error read as the general card error, PIV wording. */
static void test_card_error_of_other_messages(void **state)
{
	static const enum mfa_hp_msg other[] = {
		MFA_HP_MSG_NONE,
		MFA_HP_MSG_LOCKED,
		MFA_HP_MSG_ACCOUNT_LOCKED,
		MFA_HP_MSG_NO_CARD,
		MFA_HP_MSG_REPLAY,
		(enum mfa_hp_msg)99,
	};
	(void)state;

	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		uint8_t profile = MFA_CARD_JPKI;

		assert_int_equal(mfa_hp_card_error(other[i], &profile), MFA_ERR_CARD);
		assert_int_equal(profile, MFA_CARD_PIV);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_card_msg_both_ways),
		cmocka_unit_test(test_card_error_of_other_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
