/*
 * Shared by the module's files: what one call knows about the login it
 * serves, and what each file offers the others.  Not a public header.
 *
 * Each declaration names its file; calls go one way only (doc/DESIGN.md §4,
 * checked by tests/doc/test-file-graph.sh): pam_mfauth.c calls card_login.c,
 * code_login.c and helper_client.c; those four call answer.c and report.c,
 * which call no other file of the module.
 */
#ifndef MFAUTH_MODULE_H
#define MFAUTH_MODULE_H

#include <stdbool.h>
#include <security/pam_modules.h>

#include "mfauth/audit_login.h"
#include "mfauth/auth.h"
#include "mfauth/conf.h"
#include "mfauth/lockout.h"
#include "mfauth/record.h"
#include "mfauth/store.h"

/*
 * Messages to the clerk, in the module's own text domain and the language
 * the `lang` key picks (report.c, clerk_gettext()): the host application's
 * locale by default, or Japanese or English whatever that locale is.  The
 * module never calls setlocale() or textdomain(): that state belongs to the
 * host.  N_() marks a string for the catalog where it is defined; translate
 * it with clerk_gettext() or clerk_ngettext() where it is shown.
 */
#define MFA_TEXTDOMAIN "mfauth"
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
	/*
	 * NULL for a login at this machine, else the signal that says it is
	 * remote (mfa_login_remote(), remote.h): the card is then not offered
	 * unless card_remote = yes.
	 */
	const char *remote;
};

/* report.c: the module's audit lines, debug lines and messages to the clerk. */
/*
 * msgid (a prompt's text) in the clerk's language, lang (conf.h): with
 * MFA_LANG_JA the Japanese catalog through a thread-local locale, switched
 * for the lookup only (the host's locale, thread's and process's, is as it
 * was when this returns); with MFA_LANG_EN msgid itself; with MFA_LANG_AUTO
 * the host's locale.  When ja_JP.UTF-8 is not installed, the host's locale
 * (login_lang_check() says so).  The text is gettext's, never freed.
 */
const char *clerk_gettext(const struct login *l, const char *msgid) __attribute__((format_arg(2)));
/* clerk_gettext() for a text with a count: plural is msgid's plural form in English. */
const char *clerk_ngettext(const struct login *l, const char *msgid, const char *plural,
    unsigned long n) __attribute__((format_arg(2))) __attribute__((format_arg(3)));
/* A warning line (syslog) when lang = ja and ja_JP.UTF-8 is not installed here. */
void login_lang_check(const struct login *l);
/* A store error: the audit line (detail may be NULL) and, for a directory outage, the clerk's message. */
void store_failed(const struct login *l, int rc, const char *detail);
/* What the clerk reads when no directory server answers (store = ldap). */
void say_directory_unreachable(const struct login *l);

/* One audit line for this login (audit_login.h); extra key, value pairs follow, then NULL. */
void audit_line(const struct login *l, const char *event, const char *result, const char *reason,
    ...) __attribute__((sentinel));
/* A debug line naming what and err's message, when the `debug` option is on. */
void debug_line(const struct login *l, const char *what, int err);
/*
 * An attempt the core judged (mfa_audit_login_attempt), for a code and a
 * card alike, and what the clerk is told of it: a replayed TOTP code, and
 * the lock (a locked user's attempt, or the failure that set the lock).
 */
void report_attempt(struct login *l, int rc, const struct mfa_auth_result *res,
    const struct mfa_attempt_audit *how);
/* The password at the code prompt: audited and explained, never counted. */
void report_password_as_code(const struct login *l);
/* The password at the card's PIN prompt (never sent to the card): audited and explained. */
void report_password_as_pin(const struct login *l);
/*
 * Messages to the clerk, each written once and shown by the module's own
 * paths and for the setuid helper (helper_client.c) alike.
 */
void say_locked(const struct login *l);         /* locked after too many failures */
void say_account_locked(const struct login *l); /* the account step: locked */
void say_replay(const struct login *l);         /* a TOTP code used before */
void say_no_card(const struct login *l);        /* no card: the code prompt follows */
/* A remote login with card_remote = no: the card is not used (the code prompt follows). */
void say_card_remote(const struct login *l);
/* The same for a clerk with nothing but the card: refused, and why. */
void say_card_remote_refused(const struct login *l);
/* Before the PIN prompt: the card locks after tries_left more wrong PINs. */
void say_pin_tries_left(const struct login *l, int tries_left);
/* A failed card attempt: what went wrong and what to do (nothing for 0 or no card). */
void say_card_error(const struct login *l, int rc, uint8_t profile, int tries_left,
    uint64_t not_after);

/* answer.c: what a prompt got back. */
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

/*
 * The code second factor (code_login.c): a TOTP code or a recovery code at
 * one prompt.  rec is NULL for a user with nothing to check a code against
 * (unknown, not enrolled, or no factor the prompt may accept): the prompt is
 * the same, and the refusal costs what a wrong code costs (the decoy; store
 * is NULL only for a name the store cannot hold).  Returns 0 only for an
 * accepted code.
 */
int code_login(struct login *l, struct mfa_store *store, const struct mfa_record *rec);

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
