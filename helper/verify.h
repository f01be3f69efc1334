/*
 * mfauth-verify, the setuid-root helper of pam_mfauth for callers that are
 * not root (screen lockers): shared by its files.  Not a public header.
 * Calls go one way only: verify_main.c -> verify_auth.c -> verify_report.c
 * (and verify_main.c -> verify_report.c); doc/DESIGN.md §4.
 */
#ifndef MFAUTH_VERIFY_H
#define MFAUTH_VERIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "mfauth/audit_login.h"
#include "mfauth/conf.h"
#include "mfauth/helper_proto.h"
#include "mfauth/lockout.h"

/* One run of the helper: who asked, for whom, with which policy. */
struct verify {
	struct mfa_config cfg;
	const char *user;      /* the account checked: the caller's own (root: as told) */
	char caller_uid[16];   /* real uid at exec, for every audit line */
	const char *factor;    /* "totp", "recovery", "card" */
	struct mfa_source src; /* service and tty as the caller told them (informational) */
	int in;                /* answers from the module */
	int out;               /* requests to the module */
	/*
	 * NULL for a local login, else the remote signal (remote.h): the
	 * caller's PLACE, or what the helper itself sees (verify_main.c).
	 */
	const char *remote;
};

/*
 * verify_report.c: one audit line with the helper's fields (audit_login.h,
 * with helper=mfauth-verify and caller_uid); extra key, value pairs, then NULL.
 */
void verify_audit(const struct verify *v, const char *event, const char *result, const char *reason,
    ...) __attribute__((sentinel));
/* The audit of an attempt the core judged (mfa_audit_login_attempt), with the helper's fields. */
void verify_audit_attempt(const struct verify *v, int rc, const struct mfa_auth_result *res,
    const struct mfa_attempt_audit *how);
/* Ask the module to show a message (best effort: the verdict does not depend on it). */
void verify_msg(const struct verify *v, enum mfa_hp_msg msg, unsigned long long arg);
/* A store error: audited; a directory outage also told to the clerk (by the module). */
void verify_store_failed(const struct verify *v, int rc, const char *detail);

/*
 * Ask the module for a code or a PIN (req: "code" or "pin ..."); on 0 the
 * answer is in buf (size > MFA_HP_ANSWER_MAX), which the caller wipes.
 * MFA_ERR_INVAL for "no answer" or an empty one, MFA_ERR_IO when the module
 * went away.
 */
int verify_ask(const struct verify *v, const struct mfa_hp_request *req, char *buf, size_t size);

/* The auth and account steps (verify_auth.c); each returns an exit status (enum mfa_hp_exit). */
int verify_authenticate(struct verify *v);
int verify_account(struct verify *v);

#endif
