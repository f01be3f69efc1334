/*
 * Saving a TOTP factor for `enroll totp`, `import csv` and `import pskc`
 * (enroll_save.h): one rule for all three, replace only the TOTP factor, so
 * a re-enrollment or an import never drops a card or a pending recovery code.
 */
#include "config.h"

#include "enroll_save.h"
#include "mfauth/buf.h"

struct totp_change {
	const struct mfa_totp_factor *f;
	uint64_t now;
	uint64_t step;
};

/*
 * Under the user's lock: replace only the TOTP factor; mark the confirming
 * step used.  Retry-safe (store.h): changes only rec and st.
 */
static int change_totp(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	const struct totp_change *c = ctx;
	int what = MFA_CHANGE_RECORD;

	if (!exists)
		rec->created_at = c->now;
	mfa_wipe(&rec->totp, sizeof(rec->totp));
	rec->totp = *c->f;
	rec->totp.present = true;
	rec->totp.enrolled_at = c->now;
	if (c->step > st->last_step) {
		st->last_step = c->step;
		what |= MFA_CHANGE_STATE;
	}
	return what;
}

int enroll_save_totp(struct mfa_store *store, const char *user, const struct mfa_totp_factor *f,
    uint64_t now, uint64_t used_step)
{
	struct totp_change c = { f, now, used_step };

	/* An unreadable record may hold a card: mfa_store_change never replaces it. */
	return mfa_store_change(store, user, true, change_totp, &c);
}
