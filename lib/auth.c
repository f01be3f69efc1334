/*
 * The code decision under the user's lock: re-read, decide, write, then
 * answer (doc/DESIGN.md invariants 1-3, 6).
 *
 * Every decide_* below is an mfa_store_update() callback and keeps its
 * retry contract (store.h): a backend may call it again on a re-read state,
 * so it decides from st and the ctx's inputs only, and sets every output
 * (verdict, *res) afresh on each call; only the last call's counts.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "mfauth/auth.h"
#include "mfauth/buf.h"
#include "mfauth/card_auth.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"
#include "mfauth/totp.h"

uint64_t mfa_clock_now(void)
{
	time_t t = time(NULL);
	return t < 0 ? 0 : (uint64_t)t;
}

struct code_ctx {
	const struct mfa_config *cfg;
	const struct mfa_record *rec;
	const char *code;
	mfa_clock_fn clock;
	uint64_t now; /* read under the lock */
	const struct mfa_source *src;
	struct mfa_auth_result *res;
	int verdict;
	bool reserved; /* mfa_auth_reserve() already counted this attempt */
};

/*
 * Settle a reservation (mfa_auth_reserve): the attempt it counted is
 * about to be counted for what it was, or cleared by a success.
 */
static void unreserve(struct mfa_state *st)
{
	if (st->failures > 0)
		st->failures--;
	if (st->failures_total > 0)
		st->failures_total--;
}

/* Which kind of code was typed decides which check runs. */
static int check_code(struct code_ctx *c, const struct mfa_state *st, uint64_t *step)
{
	const struct mfa_record *rec = c->rec;

	if (rec->totp.present && mfa_totp_check_format(&rec->totp, c->code) == 0)
		return mfa_totp_verify(&rec->totp, c->code, c->now, c->cfg->window, st->last_step,
		    step);
	if (rec->recovery.present && mfa_recovery_looks_like(c->code)) {
		int rc = mfa_recovery_check(&rec->recovery, c->code, c->now, st->recovery_used);
		c->res->used_recovery = rc == 0;
		return rc;
	}
	return rec->totp.present ? MFA_ERR_INVAL : MFA_ERR_BADCODE;
}

static int decide_code(struct mfa_state *st, void *arg)
{
	struct code_ctx *c = arg;
	uint64_t step = 0;
	int rc;

	memset(c->res, 0, sizeof(*c->res)); /* nothing from an earlier call survives */
	c->verdict = MFA_ERR_BADCODE;
	c->now = c->clock();
	if (mfa_lockout_active(c->cfg, st, c->now)) {
		/* A locked user's attempt consumes nothing and changes nothing. */
		c->verdict = MFA_ERR_LOCKED;
		c->res->failures = st->failures;
		c->res->locked_until = st->locked_until;
		return 0;
	}
	rc = check_code(c, st, &step);
	if (rc == 0) {
		if (c->res->used_recovery)
			st->recovery_used = c->rec->recovery.id;
		else
			st->last_step = step;
		mfa_lockout_success(st, c->now);
		c->res->step = step;
	} else {
		if (rc != MFA_ERR_INVAL && rc != MFA_ERR_REPLAY && rc != MFA_ERR_EXPIRED)
			rc = MFA_ERR_BADCODE;
		if (c->reserved)
			unreserve(st);
		c->res->lock_reason = mfa_lockout_fail(c->cfg, st, c->now, c->src);
		c->res->locked_now = c->res->lock_reason != MFA_LOCK_NONE;
	}
	c->verdict = rc;
	c->res->failures = st->failures;
	c->res->locked_until = st->locked_until;
	return 1;
}

static int auth_code(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    const struct mfa_record *rec, const char *code, mfa_clock_fn clock,
    const struct mfa_source *src, struct mfa_auth_result *res, bool reserved)
{
	struct code_ctx c = { cfg, rec, code, clock, 0, src, res, MFA_ERR_BADCODE, reserved };
	int rc;

	memset(res, 0, sizeof(*res));
	rc = mfa_store_update(store, user, decide_code, &c);
	if (rc != 0)
		return rc;
	/* Success only once the new watermark is on disk (the update returned 0). */
	return c.verdict;
}

int mfa_auth_code(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    const struct mfa_record *rec, const char *code, mfa_clock_fn clock,
    const struct mfa_source *src, struct mfa_auth_result *res)
{
	return auth_code(store, cfg, user, rec, code, clock, src, res, false);
}

int mfa_auth_code_reserved(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    const struct mfa_record *rec, const char *code, mfa_clock_fn clock,
    const struct mfa_source *src, struct mfa_auth_result *res)
{
	return auth_code(store, cfg, user, rec, code, clock, src, res, true);
}

struct reserve_ctx {
	const struct mfa_config *cfg;
	mfa_clock_fn clock;
	uint64_t now; /* read under the lock */
	const struct mfa_source *src;
	struct mfa_auth_result *res;
	int verdict;
};

/* Attempts counted beyond a limit can only be reservations never settled. */
static bool past_a_limit(const struct mfa_config *cfg, const struct mfa_state *st)
{
	return (cfg->deny != 0 && st->failures > cfg->deny) ||
	    (cfg->deny_total != 0 && st->failures_total > cfg->deny_total);
}

/*
 * Count the attempt without locking yet (a correct code on the deny-th try
 * still succeeds).  Failures already past a limit without a lock can only be
 * attempts whose check never finished (the helper died): they lock now.
 */
static int decide_reserve(struct mfa_state *st, void *arg)
{
	struct reserve_ctx *c = arg;
	struct mfa_config nolock = *c->cfg;
	struct mfa_state next = *st;
	enum mfa_lock_reason why;

	memset(c->res, 0, sizeof(*c->res)); /* nothing from an earlier call survives */
	c->now = c->clock();
	c->res->failures = st->failures;
	c->res->locked_until = st->locked_until;
	if (mfa_lockout_active(c->cfg, st, c->now)) {
		c->verdict = MFA_ERR_LOCKED;
		return 0;
	}
	nolock.deny = 0;
	nolock.deny_total = 0;
	(void)mfa_lockout_fail(&nolock, &next, c->now, c->src);
	if (past_a_limit(c->cfg, &next)) {
		why = mfa_lockout_fail(c->cfg, st, c->now, c->src);
		c->res->lock_reason = why;
		c->res->locked_now = why != MFA_LOCK_NONE;
		c->verdict = MFA_ERR_LOCKED;
	} else {
		*st = next;
		c->verdict = 0;
	}
	c->res->failures = st->failures;
	c->res->locked_until = st->locked_until;
	mfa_wipe(&next, sizeof(next));
	return 1;
}

int mfa_auth_reserve(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res)
{
	struct reserve_ctx c = { cfg, clock, 0, src, res, MFA_ERR_LOCKED };
	int rc;

	memset(res, 0, sizeof(*res));
	rc = mfa_store_update(store, user, decide_reserve, &c);
	return rc != 0 ? rc : c.verdict;
}

/*
 * A wrong code for someone who is not enrolled costs what it costs an
 * enrolled user: the same lock, read, code check and synced write, spent on
 * the store's decoy.  The seed is all zeros and its result is thrown away;
 * the work is modelled on the common enrollment (SHA-1, six digits, 30 s).
 */
struct decoy_ctx {
	const struct mfa_config *cfg;
	const char *code;
	uint64_t now;
};

/* Retry-safe: touches st only. */
static int decide_decoy(struct mfa_state *st, void *arg)
{
	const struct decoy_ctx *c = arg;
	struct mfa_totp_factor f;
	uint64_t step = 0;

	memset(&f, 0, sizeof(f));
	f.present = true;
	f.secret_len = 20;
	f.digits = 6;
	f.alg = MFA_ALG_SHA1;
	f.period = 30;
	(void)mfa_lockout_active(c->cfg, st, c->now);
	(void)mfa_totp_verify(&f, c->code, c->now, c->cfg->window, st->last_step, &step);
	st->last_failure = c->now;
	return 1;
}

int mfa_auth_decoy(struct mfa_store *store, const struct mfa_config *cfg, const char *code,
    uint64_t now)
{
	struct decoy_ctx c = { cfg, code, now };

	return mfa_store_update_decoy(store, decide_decoy, &c);
}

struct card_ctx {
	const struct mfa_config *cfg;
	int card_rc;
	mfa_clock_fn clock;
	uint64_t now; /* read under the lock, after the card work */
	const struct mfa_source *src;
	struct mfa_auth_result *res;
	int verdict;
	bool reserved;
};

static int decide_card(struct mfa_state *st, void *arg)
{
	struct card_ctx *c = arg;
	int write = 1;

	memset(c->res, 0, sizeof(*c->res)); /* nothing from an earlier call survives */
	c->now = c->clock();
	if (mfa_lockout_active(c->cfg, st, c->now)) {
		c->verdict = MFA_ERR_LOCKED;
		write = 0;
	} else if (c->card_rc == 0) {
		mfa_lockout_success(st, c->now);
		c->verdict = 0;
	} else if (mfa_card_error_counts(c->card_rc)) {
		if (c->reserved)
			unreserve(st);
		c->res->lock_reason = mfa_lockout_fail(c->cfg, st, c->now, c->src);
		c->res->locked_now = c->res->lock_reason != MFA_LOCK_NONE;
		c->verdict = c->card_rc;
	} else {
		/* Not an attempt after all (nothing sent): a reservation is returned. */
		c->verdict = c->card_rc;
		write = c->reserved;
		if (c->reserved)
			unreserve(st);
	}
	c->res->failures = st->failures;
	c->res->locked_until = st->locked_until;
	return write;
}

static int card_result(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    int card_rc, mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res,
    bool reserved)
{
	struct card_ctx c = { cfg, card_rc, clock, 0, src, res, MFA_ERR_CARD, reserved };
	int rc;

	memset(res, 0, sizeof(*res));
	rc = mfa_store_update(store, user, decide_card, &c);
	return rc != 0 ? rc : c.verdict;
}

int mfa_auth_card_result(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    int card_rc, mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res)
{
	return card_result(store, cfg, user, card_rc, clock, src, res, false);
}

int mfa_auth_card_reserved(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    int card_rc, mfa_clock_fn clock, const struct mfa_source *src, struct mfa_auth_result *res)
{
	return card_result(store, cfg, user, card_rc, clock, src, res, true);
}

int mfa_auth_unlocked(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    uint64_t now)
{
	struct mfa_state st;
	int rc = mfa_store_read_state(store, user, &st);

	if (rc != 0)
		return rc;
	return mfa_lockout_active(cfg, &st, now) ? MFA_ERR_LOCKED : 0;
}

int mfa_auth_account(struct mfa_store *store, const struct mfa_config *cfg, const char *user,
    uint64_t now)
{
	struct mfa_record rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	rc = mfa_store_load(store, user, &rec);
	mfa_record_wipe(&rec);
	if (rc != 0)
		return rc;
	/*
	 * MFA_ERR_NOENT means "nothing enrolled, no lock to enforce" to the
	 * callers: only the record may say so.  A record without a readable
	 * state is a store error, whatever code the backend gave (fail closed).
	 */
	rc = mfa_auth_unlocked(store, cfg, user, now);
	return rc == MFA_ERR_NOENT ? MFA_ERR_NOSTATE : rc;
}

bool mfa_auth_code_judged(int rc)
{
	return rc == 0 || rc == MFA_ERR_BADCODE || rc == MFA_ERR_REPLAY || rc == MFA_ERR_INVAL ||
	    rc == MFA_ERR_EXPIRED || rc == MFA_ERR_LOCKED;
}

bool mfa_auth_card_offered(const struct mfa_config *cfg, const struct mfa_record *rec)
{
	return rec->card.present && (cfg->factors & MFA_FACTOR_CARD) &&
	    mfa_config_profile_allowed(cfg, rec->card.profile);
}

bool mfa_auth_code_view(const struct mfa_config *cfg, const struct mfa_record *rec,
    struct mfa_record *view)
{
	*view = *rec;
	if (!(cfg->factors & MFA_FACTOR_TOTP))
		mfa_wipe(&view->totp, sizeof(view->totp));
	return view->totp.present || view->recovery.present;
}
