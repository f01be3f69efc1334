/*
 * What the helper reports: its audit lines (the fields are lib/audit_login.c's,
 * the module's own, plus who ran the helper) and the messages it asks the
 * module to show (the module words them).  Calls no other file of the helper.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "mfauth/err.h"
#include "verify.h"

/* Who the audit lines of this run speak of; no rhost: a local screen. */
static struct mfa_login_audit who(const struct verify *v)
{
	struct mfa_login_audit w = { v->user, NULL, v->factor, &v->src, "mfauth-verify",
		v->caller_uid };
	return w;
}

void verify_audit(const struct verify *v, const char *event, const char *result, const char *reason,
    ...)
{
	struct mfa_login_audit w = who(v);
	va_list ap;

	va_start(ap, reason);
	mfa_audit_login_v(&w, event, result, reason, ap);
	va_end(ap);
}

void verify_audit_attempt(const struct verify *v, int rc, const struct mfa_auth_result *res,
    const struct mfa_attempt_audit *how)
{
	struct mfa_login_audit w = who(v);

	mfa_audit_login_attempt(&w, rc, res, how);
}

void verify_msg(const struct verify *v, enum mfa_hp_msg msg, unsigned long long arg)
{
	struct mfa_hp_request rq = { .kind = MFA_HP_MSG, .msg = msg, .arg = arg };
	char line[MFA_HP_LINE_MAX + 1];

	if (mfa_hp_format_request(&rq, line, sizeof(line)) == 0)
		(void)mfa_hp_write_all(v->out, line, strlen(line));
}

/*
 * A store error: audited, and the module told to show the clerk the one
 * store error that is the clerk's to report (the directory is unreachable),
 * as the module's own path does (pam_module/report.c, store_failed).
 */
void verify_store_failed(const struct verify *v, int rc, const char *detail)
{
	verify_audit(v, "store_error", "fail", mfa_errtoken(rc), detail != NULL ? "detail" : NULL,
	    detail, NULL);
	if (rc == MFA_ERR_DIR_UNREACHABLE)
		verify_msg(v, MFA_HP_MSG_DIRECTORY, 0);
}
