/*
 * The card path of the module: find the card, guard its PIN counter, ask
 * for the PIN through the conversation, let the core prove possession, and
 * count the outcome under the user's lock.  Messages tell the clerk what to
 * do next; audit lines say what happened.
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
#include "mfauth/card_pcsc.h"
#include "module.h"

struct pin_ctx {
	struct login *l;
	struct mfa_pcsc *session;
	bool password;          /* the PIN prompt got the password: nothing was sent */
};

/* A count for dngettext(): the card's tries left, never negative. */
static unsigned long count(int n)
{
	return n < 0 ? 0 : (unsigned long)n;
}

static int ask_pin(void *arg, uint8_t profile, int tries_left, char **pin)
{
	struct pin_ctx *c = arg;
	const char *prompt = profile == MFA_CARD_JPKI ?
	    _("My Number card PIN (4-digit user authentication PIN): ") : _("Card PIN: ");

	*pin = NULL;
	if (tries_left > 0 && tries_left <= 2)
		pam_info(c->l->pamh, dngettext(MFA_TEXTDOMAIN,
		    "Warning: %d PIN try left before the card locks.",
		    "Warning: %d PIN tries left before the card locks.", count(tries_left)),
		    tries_left);
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

static int reset_card(void *arg)
{
	struct pin_ctx *c = arg;
	return mfa_pcsc_reset(c->session);
}

void say_card_error(const struct login *l, int rc, uint8_t profile, int tries_left,
    uint64_t not_after)
{
	char date[32];
	time_t t = (time_t)not_after;
	struct tm tm;

	if (rc == 0)
		return;
	switch (rc) {
	case MFA_ERR_PIN_TRIES:
		pam_error(l->pamh, dngettext(MFA_TEXTDOMAIN,
		    "Only %d PIN try is left on this card. To protect the card, the PIN is not "
		    "tried here. Use your authenticator code or a recovery code, or contact "
		    "security staff.",
		    "Only %d PIN tries are left on this card. To protect the card, the PIN is not "
		    "tried here. Use your authenticator code or a recovery code, or contact "
		    "security staff.", count(tries_left)), tries_left);
		break;
	case MFA_ERR_PIN_BLOCKED:
		pam_error(l->pamh, "%s", profile == MFA_CARD_JPKI ?
		    _("The card's PIN is blocked. A My Number card PIN is reset at the municipal "
		    "office. Use your authenticator code or a recovery code meanwhile.") :
		    _("The card's PIN is blocked. Contact security staff."));
		break;
	case MFA_ERR_BADPIN:
		pam_error(l->pamh, dngettext(MFA_TEXTDOMAIN, "Wrong PIN. %d try left.",
		    "Wrong PIN. %d tries left.", count(tries_left)), tries_left);
		break;
	case MFA_ERR_PIN_FORMAT:
		pam_error(l->pamh, "%s", profile == MFA_CARD_JPKI ?
		    _("The PIN is 4 digits.") : _("The PIN is 6 to 8 digits."));
		break;
	case MFA_ERR_EXPIRED:
		if (gmtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
			snprintf(date, sizeof(date), "?");
		pam_error(l->pamh, _("The certificate enrolled for this card expired on %s. Ask "
		    "security staff to enroll the renewed card."), date);
		break;
	case MFA_ERR_WRONG_CARD:        /* found before any PIN prompt */
	case MFA_ERR_BADSIG:
	case MFA_ERR_NOAPP:
		pam_error(l->pamh, "%s", _("This is not the card enrolled for this account."));
		break;
	case MFA_ERR_TRIES_UNKNOWN:
		pam_error(l->pamh, "%s", _("The card did not say how many PIN tries are left, so "
		    "the PIN is not tried. Use your authenticator code or a recovery code, or "
		    "contact security staff."));
		break;
	case MFA_ERR_NOCARD:
	case MFA_ERR_NOREADER:
	case MFA_ERR_NOSERVICE:
		break;
	default:
		pam_error(l->pamh, "%s", _("The card could not be used. Try again, or contact "
		    "security staff."));
		break;
	}
}

/*
 * Enrollments made before card identifiers: the card was told apart by its
 * certificate's public key (more APDUs); say so, so staff can re-enroll.
 */
static const char *card_check(const struct mfa_card_factor *f)
{
	return f->id_kind == MFA_CARD_ID_LEGACY ? mfa_card_id_token(f->id_kind) : NULL;
}

static void audit_card(struct login *l, int rc, const struct mfa_card_outcome *out,
    const struct mfa_auth_result *res, const struct mfa_card_factor *f)
{
	char failures[16], tries[16];
	const char *check = card_check(f);

	if (rc == 0) {
		audit_line(l, "auth", "success", "", check ? "card_check" : NULL, check, NULL);
		return;
	}
	if (rc == MFA_ERR_LOCKED) {
		report_locked(l, res);
		return;
	}
	snprintf(failures, sizeof(failures), "%u", res->failures);
	snprintf(tries, sizeof(tries), "%d", out->tries_left);
	audit_line(l, "auth", "fail", mfa_errtoken(rc), "failures", failures, "tries_left", tries,
	    check ? "card_check" : NULL, check, NULL);
	report_lock(l, res);
}

int card_login(struct login *l, struct mfa_store *store, const struct mfa_record *rec,
    bool *fallback)
{
	struct mfa_pcsc *session = NULL;
	struct mfa_card_outcome out = { -1, 0 };
	struct mfa_auth_result res;
	struct pin_ctx pc = { l, NULL, false };
	struct mfa_card_hooks hooks = { ask_pin, reset_card, &pc };
	struct mfa_card_io io;
	uint64_t now = (uint64_t)time(NULL);
	bool locked = true;
	int rc, card_rc;

	memset(&res, 0, sizeof(res));
	*fallback = false;
	l->factor = "card";
	/* A locked user's card is not touched: no PIN try is spent on a refusal. */
	if ((rc = mfa_auth_locked(store, &l->cfg, l->user, now, &locked)) != 0 || locked) {
		if (rc == 0)
			rc = MFA_ERR_LOCKED;
		audit_card(l, rc, &out, &res, &rec->card);
		return rc;
	}
	card_rc = mfa_pcsc_open(&session, l->cfg.card_reader, l->cfg.card_wait);
	if (card_rc == 0) {
		pc.session = session;
		mfa_pcsc_io(session, &io);
		card_rc = mfa_card_login(&rec->card, &io, &hooks, l->cfg.card_min_tries, now, &out);
	}
	/* Always: end the transaction with a reset so no verified PIN lingers. */
	mfa_pcsc_close(session);
	if (pc.password) {
		audit_line(l, "auth", "fail", "password_as_code", NULL);
		pam_error(l->pamh, "%s", _("The password was given where the card PIN was asked. "
		    "If you log in with ssh, keyboard-interactive authentication must be enabled. "
		    "Contact your administrator."));
		return MFA_ERR_INVAL;
	}
	say_card_error(l, card_rc, rec->card.profile, out.tries_left, rec->card.not_after);
	if (mfa_card_error_falls_back(card_rc)) {
		*fallback = true;
		audit_line(l, "auth", "skip", mfa_errtoken(card_rc), NULL);
		if (card_rc == MFA_ERR_NOCARD || card_rc == MFA_ERR_NOREADER)
			pam_info(l->pamh, "%s", _("No card found: enter a code instead."));
		return card_rc;
	}
	rc = mfa_auth_card_result(store, &l->cfg, l->user, card_rc, mfa_clock_now, &l->src, &res);
	audit_card(l, rc, &out, &res, &rec->card);
	return rc;
}
