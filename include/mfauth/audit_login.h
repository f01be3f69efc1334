/*
 * The audit lines of one login, written the same by the PAM module and by the
 * setuid helper mfauth-verify (doc/DESIGN.md §3 "Audit lines"): which fields
 * every line carries and in what order, how an attempt's verdict is
 * audited, and the lock it set.  Each line goes to syslog through
 * mfa_audit() with the ident MFA_AUDIT_LOGIN_IDENT; an auth decision (not "ignore",
 * not "skip") also goes to the kernel's audit trail.  Never pass a secret.
 */
#ifndef MFAUTH_AUDIT_LOGIN_H
#define MFAUTH_AUDIT_LOGIN_H

#include <stdarg.h>
#include <stddef.h>

#include "mfauth/audit.h"
#include "mfauth/auth.h"
#include "mfauth/lockout.h"

/* The syslog ident of every line of a login, the module's and the helper's. */
#define MFA_AUDIT_LOGIN_IDENT "pam_mfauth"

/*
 * Who a line speaks of.  Borrowed strings, owned by the caller; NULL
 * prints as empty unless said otherwise.
 */
struct mfa_login_audit {
	const char *user;   /* the account (the store's key) */
	const char *typed;  /* the name as typed: a "typed" field only when it differs from user */
	const char *factor; /* "totp" (also for NULL), "recovery", "card" */
	const struct mfa_source *src; /* service, tty, rhost; never NULL */
	const char *helper;           /* the helper's name ("mfauth-verify"), NULL in the module */
	const char *caller_uid;       /* with helper: the real uid that ran it */
};

/*
 * One line: event, result, user, [typed], factor, reason, service, tty,
 * rhost, [helper, caller_uid], then the extra key/value pairs (at most
 * MFA_AUDIT_LOGIN_EXTRA pairs; more are dropped).  Info priority for
 * result "success", notice otherwise.
 */
#define MFA_AUDIT_LOGIN_EXTRA 4
void mfa_audit_login_fields(const struct mfa_login_audit *who, const char *event,
    const char *result, const char *reason, const struct mfa_audit_field *extra, size_t n);
/* The same with the extra pairs as arguments (key, value, ..., NULL). */
void mfa_audit_login(const struct mfa_login_audit *who, const char *event, const char *result,
    const char *reason, ...) __attribute__((sentinel));
void mfa_audit_login_v(const struct mfa_login_audit *who, const char *event, const char *result,
    const char *reason, va_list extra);

/*
 * The lock an attempt set: "event=lock result=locked" with the limit hit
 * and locked_until (a time, or "staff" for a lock only staff lift).
 * Nothing when res->locked_now is false.
 */
void mfa_audit_login_lock(const struct mfa_login_audit *who, const struct mfa_auth_result *res);

/* How a failed attempt is named; NULL fields take the defaults. */
struct mfa_attempt_audit {
	const char *fail_result; /* result of a failure's line; NULL: "fail" */
	const char *fail_reason; /* reason of a failure's line; NULL: mfa_errtoken(rc) */
	const char *tries_left;  /* a card's PIN tries, on a failure's line; NULL: none */
	const char
	    *card_check; /* how the card was told apart, on success and failure; NULL: none */
};

/*
 * How a code's failure is named, the same in the module and the helper:
 * result "replay" for MFA_ERR_REPLAY, reason "malformed_code" for
 * MFA_ERR_INVAL, the defaults otherwise.
 */
struct mfa_attempt_audit mfa_attempt_audit_code(int rc);

/*
 * The audit of one attempt the core judged (rc and res from mfa_auth_code*
 * or mfa_auth_card_*), the same for a code and a card:
 *   rc 0: a "recovery_used" line when res->used_recovery, then "auth success";
 *   MFA_ERR_LOCKED: the lock this attempt set (a reservation past a limit),
 *     then "auth locked locked failures=N";
 *   anything else: "auth <fail_result> <fail_reason> failures=N [tries_left]
 *     [card_check]", then the lock it set.
 * The clerk's messages are the caller's (the channels differ).
 */
void mfa_audit_login_attempt(const struct mfa_login_audit *who, int rc,
    const struct mfa_auth_result *res, const struct mfa_attempt_audit *how);

#endif
