/*
 * A login's audit lines (audit_login.h), one writer for the PAM module and
 * the setuid helper: an audit reader sees the same fields in the same order
 * whichever of the two decided, and the helper's lines add only who ran it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mfauth/audit_login.h"
#include "mfauth/err.h"

/* The fixed fields of the longest line (typed and the helper's two), then the extras. */
#define FIXED_MAX 11

void mfa_audit_login_fields(const struct mfa_login_audit *who, const char *event,
    const char *result, const char *reason, const struct mfa_audit_field *extra, size_t n_extra)
{
	/* clang-format off */
	struct mfa_audit_field f[FIXED_MAX + MFA_AUDIT_LOGIN_EXTRA] = {
		{ "event", event },
		{ "result", result },
		{ "user", who->user ? who->user : "" },
	};
	/* clang-format on */
	const char *rhost = who->src->rhost ? who->src->rhost : "";
	bool success = strcmp(result, "success") == 0;
	size_t n = 3;

	/* The name as typed, when it is not the account's (user=tanaka typed=TANAKA). */
	if (who->typed != NULL && who->user != NULL && strcmp(who->typed, who->user) != 0)
		f[n++] = (struct mfa_audit_field){ "typed", who->typed };
	f[n++] = (struct mfa_audit_field){ "factor", who->factor ? who->factor : "totp" };
	f[n++] = (struct mfa_audit_field){ "reason", reason };
	f[n++] = (struct mfa_audit_field){ "service", who->src->service };
	f[n++] = (struct mfa_audit_field){ "tty", who->src->tty };
	f[n++] = (struct mfa_audit_field){ "rhost", rhost };
	if (who->helper != NULL) {
		f[n++] = (struct mfa_audit_field){ "helper", who->helper };
		f[n++] = (struct mfa_audit_field){ "caller_uid", who->caller_uid };
	}
	for (size_t i = 0; i < n_extra && i < MFA_AUDIT_LOGIN_EXTRA; i++)
		f[n++] = extra[i];
	mfa_audit(success ? MFA_LOG_INFO : MFA_LOG_NOTICE, MFA_AUDIT_LOGIN_IDENT, f, n);
	/* The kernel's audit trail gets every second-factor decision too. */
	if (strcmp(event, "auth") == 0 && strcmp(result, "ignore") != 0 &&
	    strcmp(result, "skip") != 0)
		mfa_kaudit_auth(who->user, rhost, who->src->tty, success);
}

void mfa_audit_login_v(const struct mfa_login_audit *who, const char *event, const char *result,
    const char *reason, va_list ap)
{
	struct mfa_audit_field extra[MFA_AUDIT_LOGIN_EXTRA];
	size_t n = 0;

	while (n < MFA_AUDIT_LOGIN_EXTRA) {
		const char *key = va_arg(ap, const char *);
		if (key == NULL)
			break;
		extra[n].key = key;
		extra[n++].value = va_arg(ap, const char *);
	}
	mfa_audit_login_fields(who, event, result, reason, extra, n);
}

void mfa_audit_login(const struct mfa_login_audit *who, const char *event, const char *result,
    const char *reason, ...)
{
	va_list ap;

	va_start(ap, reason);
	mfa_audit_login_v(who, event, result, reason, ap);
	va_end(ap);
}

void mfa_audit_login_lock(const struct mfa_login_audit *who, const struct mfa_auth_result *res)
{
	char until[24];

	if (!res->locked_now)
		return;
	if (res->locked_until == MFA_LOCK_FOREVER)
		snprintf(until, sizeof(until), "staff");
	else
		snprintf(until, sizeof(until), "%llu", (unsigned long long)res->locked_until);
	mfa_audit_login(who, "lock", "locked",
	    res->lock_reason == MFA_LOCK_TOTAL ? "too_many_failures_total" : "too_many_failures",
	    "locked_until", until, NULL);
}

struct mfa_attempt_audit mfa_attempt_audit_code(int rc)
{
	struct mfa_attempt_audit how = { rc == MFA_ERR_REPLAY ? "replay" : "fail",
		rc == MFA_ERR_INVAL ? "malformed_code" : NULL, NULL, NULL };
	return how;
}

void mfa_audit_login_attempt(const struct mfa_login_audit *who, int rc,
    const struct mfa_auth_result *res, const struct mfa_attempt_audit *how)
{
	struct mfa_audit_field extra[MFA_AUDIT_LOGIN_EXTRA];
	char failures[16];
	size_t n = 0;

	snprintf(failures, sizeof(failures), "%u", (unsigned)res->failures);
	if (rc == 0) {
		if (res->used_recovery)
			mfa_audit_login(who, "recovery_used", "success", "", NULL);
		if (how->card_check != NULL)
			extra[n++] = (struct mfa_audit_field){ "card_check", how->card_check };
		mfa_audit_login_fields(who, "auth", "success", "", extra, n);
		return;
	}
	if (rc == MFA_ERR_LOCKED) {
		mfa_audit_login_lock(who, res);
		mfa_audit_login(who, "auth", "locked", "locked", "failures", failures, NULL);
		return;
	}
	extra[n++] = (struct mfa_audit_field){ "failures", failures };
	if (how->tries_left != NULL)
		extra[n++] = (struct mfa_audit_field){ "tries_left", how->tries_left };
	if (how->card_check != NULL)
		extra[n++] = (struct mfa_audit_field){ "card_check", how->card_check };
	mfa_audit_login_fields(who, "auth", how->fail_result ? how->fail_result : "fail",
	    how->fail_reason ? how->fail_reason : mfa_errtoken(rc), extra, n);
	mfa_audit_login_lock(who, res);
}
