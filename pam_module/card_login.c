/*
 * The card path of the module: find the card, guard its PIN counter, ask
 * for the PIN through the conversation, let the core prove possession, and
 * count the outcome under the user's lock.  Messages tell the clerk what to
 * do next; audit lines say what happened (both are report.c's).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "mfauth/card_auth.h"
#include "mfauth/err.h"
#include "mfauth/card_session.h"
#include "module.h"

struct pin_ctx {
	struct login *l;
	bool password; /* the PIN prompt got the password: nothing was sent */
};

static int ask_pin(void *arg, uint8_t profile, int tries_left, char **pin)
{
	struct pin_ctx *c = arg;
	const char *prompt = profile == MFA_CARD_JPKI ?
	    clerk_gettext(c->l, "My Number card PIN (4-digit user authentication PIN): ") :
	    clerk_gettext(c->l, "Card PIN: ");

	*pin = NULL;
	if (tries_left > 0 && tries_left <= 2)
		say_pin_tries_left(c->l, tries_left);
	/* A NULL reply is a failure (pam-u2f CVE-2021-31924). */
	if (pam_prompt(c->l->pamh, PAM_PROMPT_ECHO_OFF, pin, "%s", prompt) != PAM_SUCCESS ||
	    *pin == NULL)
		return MFA_ERR_INVAL;
	/*
	 * sshd's password mode answers the PIN prompt with the password too: a
	 * password of the PIN's shape would spend one of the card's tries.
	 * Never sent to the card, never counted (the core frees the reply).
	 */
	if (is_password(c->l, *pin)) {
		c->password = true;
		return MFA_ERR_INVAL;
	}
	return 0;
}

/* The core's verdict on a card attempt (report_attempt), with the card's tries left. */
static void audit_card(struct login *l, int rc, const struct mfa_card_outcome *out,
    const struct mfa_auth_result *res, const struct mfa_card_factor *f)
{
	char tries[16];
	struct mfa_attempt_audit how = { NULL, NULL, tries, mfa_card_check_token(f) };

	snprintf(tries, sizeof(tries), "%d", out->tries_left);
	report_attempt(l, rc, res, &how);
}

int card_login(struct login *l, struct mfa_store *store, const struct mfa_record *rec,
    bool *fallback)
{
	struct mfa_card_outcome out = { -1, 0 };
	struct mfa_auth_result res;
	struct pin_ctx pc = { l, false };
	uint64_t now = (uint64_t)time(NULL);
	int rc, card_rc;

	memset(&res, 0, sizeof(res));
	*fallback = false;
	l->factor = "card";
	/* A locked user's card is not touched: no PIN try is spent on a refusal. */
	if ((rc = mfa_auth_unlocked(store, &l->cfg, l->user, now)) != 0) {
		audit_card(l, rc, &out, &res, &rec->card);
		return rc;
	}
	/* The session ends with a reset, so no verified PIN lingers (card_session.h). */
	card_rc = mfa_card_session_login(&l->cfg, &rec->card, ask_pin, &pc, now, &out);
	if (pc.password) {
		report_password_as_pin(l);
		return MFA_ERR_INVAL;
	}
	say_card_error(l, card_rc, rec->card.profile, out.tries_left, rec->card.not_after);
	if (mfa_card_error_falls_back(card_rc)) {
		*fallback = true;
		audit_line(l, "auth", "skip", mfa_errtoken(card_rc), NULL);
		if (card_rc == MFA_ERR_NOCARD || card_rc == MFA_ERR_NOREADER)
			say_no_card(l);
		return card_rc;
	}
	rc = mfa_auth_card_result(store, &l->cfg, l->user, card_rc, mfa_clock_now, &l->src, &res);
	audit_card(l, rc, &out, &res, &rec->card);
	return rc;
}
