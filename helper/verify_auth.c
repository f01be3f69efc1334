/*
 * The helper's decisions: the same store, replay, lockout and audit rules
 * as the module's own path (lib/auth.c, lib/card_auth.c), with one
 * difference that the helper's situation demands: every attempt is counted
 * on disk BEFORE the code or PIN is checked (mfa_auth_reserve) and settled
 * after, so a helper that dies mid-check (killed before it raised its uids,
 * the OOM killer, a power cut) has still spent the try.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mfauth/auth.h"
#include "mfauth/buf.h"
#include "mfauth/card_auth.h"
#include "mfauth/err.h"
#include "mfauth/card_session.h"
#include "mfauth/record.h"
#include "mfauth/recovery.h"
#include "mfauth/store.h"
#include "verify.h"

int verify_ask(const struct verify *v, const struct mfa_hp_request *req, char *buf, size_t size)
{
	char line[MFA_HP_LINE_MAX + 1];
	int rc;

	buf[0] = '\0';
	if ((rc = mfa_hp_format_request(req, line, sizeof(line))) != 0 ||
	    (rc = mfa_hp_write_all(v->out, line, strlen(line))) != 0)
		return rc;
	rc = mfa_hp_read_answer(v->in, buf, size);
	if (rc < 0)
		return rc;
	return rc == 0 ? MFA_ERR_INVAL : 0;
}

/* The verdict of a code (mfa_auth_code's results), audited as the module does. */
static void report_code(const struct verify *v, int rc, const struct mfa_auth_result *res)
{
	struct mfa_attempt_audit how = mfa_attempt_audit_code(rc);

	if (!mfa_auth_code_judged(rc)) {
		verify_store_failed(v, rc, NULL);
		return;
	}
	verify_audit_attempt(v, rc, res, &how);
	if (rc == MFA_ERR_REPLAY && strcmp(v->factor, "totp") == 0)
		verify_msg(v, MFA_HP_MSG_REPLAY, 0);
	if (rc == MFA_ERR_LOCKED || (rc != 0 && res->locked_now))
		verify_msg(v, MFA_HP_MSG_LOCKED, 0);
}

/* The code prompt; rec NULL for a user with nothing a code can be checked against. */
static int code_login(struct verify *v, struct mfa_store *store, const struct mfa_record *rec)
{
	struct mfa_hp_request ask = { .kind = MFA_HP_CODE };
	struct mfa_auth_result res;
	char code[MFA_HP_ANSWER_MAX + 1];
	int rc;

	memset(&res, 0, sizeof(res));
	v->factor = "totp";
	if ((rc = verify_ask(v, &ask, code, sizeof(code))) != 0) {
		verify_audit(v, "auth", "fail", "no_code", NULL);
		goto out;
	}
	/* The audit names what was typed: a recovery code's shape is never a TOTP code. */
	if (mfa_recovery_looks_like(code))
		v->factor = "recovery";
	if (rec == NULL) {
		if (mfa_auth_decoy(store, &v->cfg, code, (uint64_t)time(NULL)) != 0)
			verify_audit(v, "store_error", "fail", "io", "detail",
			    mfa_store_decoy_where(store), NULL);
		verify_audit(v, "auth", "fail", "not_enrolled", NULL);
		rc = MFA_ERR_NOENT;
		goto out;
	}
	/* Counted before it is checked: dying from here on spends the try. */
	rc = mfa_auth_reserve(store, &v->cfg, v->user, mfa_clock_now, &v->src, &res);
	if (rc == 0)
		rc = mfa_auth_code_reserved(store, &v->cfg, v->user, rec, code, mfa_clock_now,
		    &v->src, &res);
	report_code(v, rc, &res);
out:
	mfa_wipe(code, sizeof(code));
	return rc;
}

/* The card path ---------------------------------------------------------- */

struct pin_ctx {
	struct verify *v;
	struct mfa_store *store;
	struct mfa_auth_result *res;
	bool reserved;
};

/* The PIN, then the reservation, then (in the core) VERIFY: in that order. */
static int ask_pin(void *arg, uint8_t profile, int tries_left, char **pin)
{
	struct pin_ctx *c = arg;
	struct mfa_hp_request ask = { .kind = MFA_HP_PIN,
		.profile = profile,
		.tries = tries_left < -1 || tries_left > 15 ? -1 : tries_left };
	char buf[MFA_HP_ANSWER_MAX + 1];
	int rc;

	*pin = NULL;
	if ((rc = verify_ask(c->v, &ask, buf, sizeof(buf))) != 0)
		goto out;
	rc = mfa_auth_reserve(c->store, &c->v->cfg, c->v->user, mfa_clock_now, &c->v->src, c->res);
	if (rc != 0)
		goto out;
	c->reserved = true;
	if ((*pin = strdup(buf)) == NULL)
		rc = MFA_ERR_NOMEM;
out:
	mfa_wipe(buf, sizeof(buf));
	return rc;
}

/* What the clerk is told after a card attempt (the module words it). */
static void explain(const struct verify *v, int rc, const struct mfa_card_outcome *out,
    const struct mfa_card_factor *f)
{
	unsigned long long tries = out->tries_left < 0 ? 0 : (unsigned long long)out->tries_left;
	enum mfa_hp_msg msg = mfa_hp_card_msg(rc, f->profile);

	if (msg == MFA_HP_MSG_CERT_EXPIRED)
		verify_msg(v, msg, (unsigned long long)f->not_after);
	else if (msg != MFA_HP_MSG_NONE)
		verify_msg(v, msg, mfa_hp_msg_has_arg(msg) ? tries : 0);
}

/*
 * The verdict of a card attempt, audited and told as the module does
 * (pam_module/report.c report_attempt): the card_check field, and the lock
 * told at once, also when this failure set it.
 */
static void report_card(const struct verify *v, int rc, const struct mfa_card_outcome *out,
    const struct mfa_auth_result *res, const struct mfa_card_factor *f)
{
	char tries[16];
	struct mfa_attempt_audit how = { NULL, NULL, tries, mfa_card_check_token(f) };

	snprintf(tries, sizeof(tries), "%d", out->tries_left);
	verify_audit_attempt(v, rc, res, &how);
	if (rc == MFA_ERR_LOCKED || (rc != 0 && res->locked_now))
		verify_msg(v, MFA_HP_MSG_LOCKED, 0);
}

/* The card transaction, done here (root always reaches pcscd). */
static int card_login(struct verify *v, struct mfa_store *store, const struct mfa_record *rec,
    bool *fallback)
{
	struct mfa_card_outcome out = { -1, 0 };
	struct mfa_auth_result res;
	struct pin_ctx pc = { v, store, &res, false };
	uint64_t now = (uint64_t)time(NULL);
	int rc, card_rc;

	memset(&res, 0, sizeof(res));
	*fallback = false;
	v->factor = "card";
	if ((rc = mfa_auth_unlocked(store, &v->cfg, v->user, now)) != 0) {
		report_card(v, rc, &out, &res, &rec->card);
		return rc;
	}
	card_rc = mfa_card_session_login(&v->cfg, &rec->card, ask_pin, &pc, now, &out);
	explain(v, card_rc, &out, &rec->card);
	if (card_rc == MFA_ERR_LOCKED) { /* the reservation found the user locked */
		report_card(v, card_rc, &out, &res, &rec->card);
		return card_rc;
	}
	if (mfa_card_error_falls_back(card_rc) && !pc.reserved) {
		*fallback = true;
		verify_audit(v, "auth", "skip", mfa_errtoken(card_rc), NULL);
		if (card_rc == MFA_ERR_NOCARD || card_rc == MFA_ERR_NOREADER)
			verify_msg(v, MFA_HP_MSG_NO_CARD, 0);
		return card_rc;
	}
	rc = pc.reserved ?
	    mfa_auth_card_reserved(store, &v->cfg, v->user, card_rc, mfa_clock_now, &v->src, &res) :
	    mfa_auth_card_result(store, &v->cfg, v->user, card_rc, mfa_clock_now, &v->src, &res);
	report_card(v, rc, &out, &res, &rec->card);
	return rc;
}

/*
 * The module's card_kept_local() (pam_module/pam_mfauth.c): a remote login
 * with card_remote = no (the helper's own config decides) does not touch
 * the card; the code prompt follows where there is a code to check, else a
 * refusal.  Nothing counted, nothing reserved: no factor was tried.
 */
static int card_kept_local(struct verify *v, const struct mfa_record *rec, bool *fallback)
{
	struct mfa_record view;

	*fallback = mfa_auth_code_view(&v->cfg, rec, &view);
	mfa_record_wipe(&view);
	v->factor = "card";
	if (*fallback) {
		verify_audit(v, "auth", "skip", "card_remote", "remote", v->remote, NULL);
		verify_msg(v, MFA_HP_MSG_CARD_REMOTE, 0);
		return MFA_ERR_NOCARD;
	}
	verify_audit(v, "auth", "fail", "card_remote", "remote", v->remote, NULL);
	verify_msg(v, MFA_HP_MSG_CARD_REMOTE_REFUSED, 0);
	return MFA_ERR_NOCARD;
}

/* The auth step: the module's authenticate(), through the protocol. */
int verify_authenticate(struct verify *v)
{
	struct mfa_path_error perr = { "" };
	struct mfa_store *store = NULL;
	struct mfa_record rec, view;
	bool enrolled, fallback = true;
	int rc, status = MFA_HP_EXIT_FAIL;

	memset(&rec, 0, sizeof(rec));
	memset(&view, 0, sizeof(view));
	if (mfa_name_check(v->user) != 0) {
		verify_audit(v, "auth", "fail", "bad_name", NULL);
		return MFA_HP_EXIT_FAIL;
	}
	if ((rc = mfa_store_open(&v->cfg, &store, &perr)) != 0) {
		verify_store_failed(v, rc, perr.msg);
		return MFA_HP_EXIT_STORE;
	}
	rc = mfa_store_load(store, v->user, &rec);
	if (rc == MFA_ERR_NOENT && v->cfg.nullok) {
		verify_audit(v, "auth", "ignore", "not_enrolled", NULL);
		status = MFA_HP_EXIT_IGNORE;
		goto out;
	}
	if (rc != 0 && rc != MFA_ERR_NOENT) {
		verify_store_failed(v, rc, NULL);
		status = MFA_HP_EXIT_STORE;
		goto out;
	}
	enrolled = rc == 0;
	if (enrolled && mfa_auth_card_offered(&v->cfg, &rec)) {
		if (v->remote != NULL && !v->cfg.card_remote)
			rc = card_kept_local(v, &rec, &fallback);
		else
			rc = card_login(v, store, &rec, &fallback);
		if (!fallback)
			goto done;
	}
	enrolled = enrolled && mfa_auth_code_view(&v->cfg, &rec, &view);
	rc = code_login(v, store, enrolled ? &view : NULL);
done:
	status = rc == 0 ? MFA_HP_EXIT_OK : MFA_HP_EXIT_FAIL;
out:
	mfa_record_wipe(&rec);
	mfa_record_wipe(&view);
	mfa_store_close(store);
	return status;
}

/* The account step: is the user locked? */
int verify_account(struct verify *v)
{
	struct mfa_path_error perr = { "" };
	struct mfa_store *store = NULL;
	int rc, status = MFA_HP_EXIT_STORE;

	if (mfa_name_check(v->user) != 0)
		return MFA_HP_EXIT_FAIL;
	if ((rc = mfa_store_open(&v->cfg, &store, &perr)) != 0) {
		verify_store_failed(v, rc, perr.msg);
		return MFA_HP_EXIT_STORE;
	}
	rc = mfa_auth_account(store, &v->cfg, v->user, (uint64_t)time(NULL));
	if (rc == MFA_ERR_NOENT) {
		status = v->cfg.nullok ? MFA_HP_EXIT_IGNORE : MFA_HP_EXIT_OK;
	} else if (rc == MFA_ERR_LOCKED) {
		verify_audit(v, "account", "locked", "locked", NULL);
		verify_msg(v, MFA_HP_MSG_ACCOUNT_LOCKED, 0);
		status = MFA_HP_EXIT_LOCKED;
	} else if (rc != 0) {
		verify_store_failed(v, rc, NULL);
	} else {
		status = MFA_HP_EXIT_OK;
	}
	mfa_store_close(store);
	return status;
}
