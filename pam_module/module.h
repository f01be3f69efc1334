/*
 * Shared by the module's files: what one call knows about the login it
 * serves, and the audit helpers.  Not a public header.
 */
#ifndef MFAUTH_MODULE_H
#define MFAUTH_MODULE_H

#include <stdbool.h>
#include <security/pam_modules.h>

#include "mfauth/auth.h"
#include "mfauth/conf.h"
#include "mfauth/lockout.h"
#include "mfauth/record.h"
#include "mfauth/store.h"

/*
 * Messages to the clerk, in the module's own text domain and the host
 * application's locale (the module never calls setlocale() or
 * textdomain(): that state belongs to the host).  N_() marks a string for
 * the catalog where it is defined; translate it with _() where it is shown.
 * Counts use dngettext(MFA_TEXTDOMAIN, ...).
 */
#define MFA_TEXTDOMAIN "mfauth"
#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) dgettext(MFA_TEXTDOMAIN, s)
#else
#define _(s) (s)
#define dngettext(domain, s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) s

struct login {
	pam_handle_t *pamh;
	struct mfa_config cfg;
	/*
	 * The account NSS returns for the typed name, which keys the store
	 * (issue 12 finding 2); the typed name itself when NSS does not know
	 * it (unknown is then set: the decoy path, never PAM_IGNORE).
	 */
	const char *user;
	const char *typed; /* PAM_USER as given, for audit lines */
	bool unknown;      /* NSS does not know the typed name */
	char account[MFA_USER_MAX + 1];
	const char *factor; /* for audit lines: "totp", "recovery", "card" */
	struct mfa_source src;
};

/* One audit line for this login; extra key, value pairs follow, then NULL. */
void audit_line(const struct login *l, const char *event, const char *result, const char *reason,
    ...) __attribute__((sentinel));
/*
 * After a failure that locked the user: the lock event, and the locked
 * message to the clerk on this very attempt (no-op otherwise).
 */
void report_lock(struct login *l, const struct mfa_auth_result *res);
/* A store error: the audit line (detail may be NULL) and, for a directory outage, the clerk's message. */
void store_failed(const struct login *l, int rc, const char *detail);
/* What the clerk reads when no directory server answers (store = ldap). */
void say_directory_unreachable(const struct login *l);
/* A locked user's attempt: audit line and the message to the clerk. */
void report_locked(struct login *l, const struct mfa_auth_result *res);

/* What the code prompt got back. */
enum answer {
	ANSWER_NONE,     /* no reply, a NULL or an empty one, or blanks only */
	ANSWER_PASSWORD, /* the password the stack already holds (PAM_AUTHTOK) */
	ANSWER_CODE,     /* something to check, blanks dropped */
};

/*
 * Sort a reply to the code prompt, in place: the password typed again (sshd's
 * password mode), nothing, or a code with its blanks dropped ("123 456").
 * Shared by the module's own prompt and the helper's (helper_client.c).
 */
enum answer classify_answer(const struct login *l, char *code);
/*
 * True when answer is exactly the password the stack already holds
 * (PAM_AUTHTOK): sshd's password mode answers every prompt with it.
 */
bool is_password(const struct login *l, const char *answer);
/* The password at the code prompt: audited and explained, never counted. */
void report_password_as_code(const struct login *l);

/*
 * Messages to the clerk, each written once and shown by the module's own
 * paths and for the setuid helper (helper_client.c) alike.
 */
void say_locked(const struct login *l); /* locked after too many failures */
void say_replay(const struct login *l); /* a TOTP code used before */
/* A failed card attempt: what went wrong and what to do (nothing for 0 or no card). */
void say_card_error(const struct login *l, int rc, uint8_t profile, int tries_left,
    uint64_t not_after);

/*
 * The card second factor (card_login.c).  Returns 0 only for a verified
 * card.  *fallback is set when no card attempt could be made (no card, no
 * reader, too few PIN tries, an expired enrollment) so that the code prompt
 * may follow; it is clear after any real attempt.
 */
int card_login(struct login *l, struct mfa_store *store, const struct mfa_record *rec,
    bool *fallback);

/*
 * The setuid helper's client (helper_client.c), used when the module runs
 * with an effective uid other than 0 (screen lockers).  Each returns a PAM
 * code: the helper's verdict, or PAM_AUTH_ERR when it cannot run here
 * (no_new_privs, missing or not setuid: audited and told to the clerk).
 */
int helper_authenticate(struct login *l);
int helper_account(struct login *l);

#endif
