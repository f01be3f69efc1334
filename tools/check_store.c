/*
 * mfauth check, part 4: the store.  The backend inspects what it holds
 * (mfa_store_check: for the files backend, every file's name, type, owner,
 * mode and links, temp files) and hands over each user it holds; here each
 * record must decrypt and name a factor, each state load and the clock not
 * be behind it.  Read-only: records with mfa_store_load(), states with
 * mfa_store_read_state() (a shared lock, no update).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mfauth/err.h"

struct scan {
	struct cli *c;
	struct report *r;
	struct mfa_store *store; /* NULL: names and modes are checked, nothing decrypted */
	struct check_sshd_who *who;
	struct check_keys *keys;
	uint64_t now;
	size_t records, records_ok, states_ok, clock_problems;
};

/* The backend's severities are the report's, in the same order. */
static enum sev sev_of(enum mfa_store_sev s)
{
	switch (s) {
	case MFA_STORE_OK:
		return SEV_OK;
	case MFA_STORE_INFO:
		return SEV_INFO;
	case MFA_STORE_WARNING:
		return SEV_WARNING;
	case MFA_STORE_ERROR:
		return SEV_ERROR;
	case MFA_STORE_CRITICAL:
		break;
	}
	return SEV_CRITICAL;
}

static void on_finding(const struct mfa_store_finding *f, void *ctx)
{
	struct scan *s = ctx;
	check_report(s->r, sev_of(f->sev), f->what, f->subject, "%s", f->detail);
}

/* The state of a user whose record loaded: loads, and the clock is not behind it. */
static void check_state(struct scan *s, const struct mfa_store_item *it, uint16_t period)
{
	struct mfa_state st;
	int rc;

	if ((rc = mfa_store_read_state(s->store, it->user, &st)) != 0) {
		check_report(s->r, SEV_ERROR, "state", it->state_subject,
		    _("state of %s does not "
		      "load: %s"),
		    it->user, cli_strerror(rc));
		return;
	}
	s->states_ok++;
	if (!check_clock_user(s->r, it->user, &st, period, s->c->cfg.window, s->now))
		s->clock_problems++;
	mfa_wipe(&st, sizeof(st));
}

static void check_record(struct scan *s, const struct mfa_store_item *it)
{
	struct mfa_record rec;
	uint16_t period;
	int rc;

	s->records++;
	if (!check_sshd_who_add(s->who, it->user))
		check_report(s->r, SEV_INFO, "sshd", it->user, "%s", cli_strerror(MFA_ERR_NOMEM));
	if (s->store == NULL || !it->readable)
		return;
	if ((rc = mfa_store_load(s->store, it->user, &rec)) != 0) {
		check_report(s->r, SEV_ERROR, "record", it->subject,
		    _("record of %s does not "
		      "load: %s"),
		    it->user, cli_strerror(rc));
		return;
	}
	period = rec.totp.present ? rec.totp.period : 0;
	if (!mfa_record_enrolled(&rec)) {
		check_report(s->r, SEV_ERROR, "record", it->subject,
		    _("record of %s has no "
		      "factor enrolled"),
		    it->user);
	} else {
		s->records_ok++;
	}
	if (rec.card.present && rec.card.not_after != 0 && rec.card.not_after < s->now) {
		char t[40];
		cli_format_time(rec.card.not_after, t, sizeof(t));
		check_report(s->r, SEV_WARNING, "record", it->subject,
		    _("the card certificate "
		      "of %s expired on %s: enroll the renewed card"),
		    it->user, t);
	}
	mfa_record_wipe(&rec);
	if (it->has_state && it->state_readable)
		check_state(s, it, period);
}

/* A revoked user keeps the state for its replay watermark: fine, if it opens. */
static void check_orphan_state(struct scan *s, const struct mfa_store_item *it)
{
	if (s->store != NULL && it->state_readable) {
		struct mfa_state st;
		int rc = mfa_store_read_state(s->store, it->user, &st);
		mfa_wipe(&st, sizeof(st));
		if (rc != 0) {
			check_report(s->r, SEV_ERROR, "state", it->state_subject,
			    _("state of %s does not load: %s"), it->user, cli_strerror(rc));
			return;
		}
	}
	check_report(s->r, SEV_INFO, "state", it->state_subject,
	    _("state without a record: %s "
	      "is not enrolled (revoked, or an interrupted enrollment); kept for its replay "
	      "watermark"),
	    it->user);
}

static void on_store_key(const uint8_t *keyid, void *ctx)
{
	struct scan *s = ctx;
	check_keys_store_key(s->keys, keyid);
}

static void on_item(const struct mfa_store_item *it, void *ctx)
{
	struct scan *s = ctx;

	check_keys_count(s->keys, it->state_keyid, it->record_keyid);
	if (it->has_record)
		check_record(s, it);
	else
		check_orphan_state(s, it);
}

/* Everything in the store (check.h). */
void check_store_files(struct cli *c, struct report *r, struct mfa_store *store, uint64_t now,
    struct clock_seen *clock, struct check_sshd_who *who, struct check_keys *keys)
{
	static const struct mfa_store_inspector ins = { on_finding, on_item, on_store_key };
	struct scan s;
	const char *where = c->cfg.store == MFA_BACKEND_LDAP ? c->cfg.ldap_base : c->cfg.store_dir;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.r = r;
	s.store = store;
	s.who = who;
	s.keys = keys;
	s.now = now;
	if (mfa_store_check(&c->cfg, store, now, &ins, &s) != 0)
		return; /* check_store_dir has said why */
	if (store == NULL)
		check_report(r, SEV_INFO, "record", where, "%s",
		    _("records and states not decrypted: "
		      "the store cannot be opened (see above)"));
	else if (s.records == 0)
		check_report(r, SEV_OK, "record", where, "%s", _("no users enrolled"));
	else if (s.records_ok == s.records && s.states_ok == s.records)
		check_report(r, SEV_OK, "record", where,
		    _("%zu records decrypt and name a "
		      "factor, %zu states load"),
		    s.records_ok, s.states_ok);
	if (store != NULL) {
		clock->checked = true;
		clock->users = s.states_ok;
		clock->behind = s.clock_problems;
	}
}
