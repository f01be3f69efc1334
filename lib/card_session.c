/*
 * One card login in a session of its own (card_session.h): the transaction
 * around mfa_card_login() that the module and the helper both need, written
 * once, with the reset hook bound to the session it opened.
 */
#include "config.h"

#include "mfauth/card_pcsc.h"
#include "mfauth/card_session.h"

struct session_ctx {
	struct mfa_pcsc *session;
	int (*ask_pin)(void *arg, uint8_t profile, int tries_left, char **pin);
	void *arg;
};

static int ask_pin(void *ctx, uint8_t profile, int tries_left, char **pin)
{
	struct session_ctx *s = ctx;
	return s->ask_pin(s->arg, profile, tries_left, pin);
}

static int reset_card(void *ctx)
{
	struct session_ctx *s = ctx;
	return mfa_pcsc_reset(s->session);
}

int mfa_card_session_login(const struct mfa_config *cfg, const struct mfa_card_factor *f,
    int (*ask)(void *arg, uint8_t profile, int tries_left, char **pin), void *arg, uint64_t now,
    struct mfa_card_outcome *out)
{
	struct session_ctx s = { NULL, ask, arg };
	struct mfa_card_hooks hooks = { ask_pin, reset_card, &s };
	struct mfa_card_io io;
	int rc = mfa_pcsc_open(&s.session, cfg->card_reader, cfg->card_wait);

	if (rc == 0) {
		mfa_pcsc_io(s.session, &io);
		rc = mfa_card_login(f, &io, &hooks, cfg->card_min_tries, now, out);
	}
	/* Always: end the transaction with a reset so no verified PIN lingers. */
	mfa_pcsc_close(s.session);
	return rc;
}
