/*
 * Where the person logging in is: at this machine, or elsewhere (ssh).  The
 * card sits in the reader of the machine that runs the login; a login from
 * elsewhere would have that card sign for someone who is not at the reader
 * (doc/DESIGN.md, "The card only at the terminal").  One function decides,
 * for the module and the setuid helper alike.
 */
#ifndef MFAUTH_REMOTE_H
#define MFAUTH_REMOTE_H

#include <stdbool.h>

/* An environment lookup: the variable's value, or NULL when it is not set. */
typedef const char *(*mfa_env_fn)(void *ctx, const char *name);

/* What a login knows of where it comes from.  Strings may be NULL (= ""). */
struct mfa_login_place {
	const char *service; /* PAM_SERVICE */
	const char *tty;     /* PAM_TTY */
	const char *rhost;   /* PAM_RHOST */
	mfa_env_fn pam_env;  /* the PAM environment (pam_getenv), or NULL */
	void *pam_ctx;
	mfa_env_fn proc_env; /* the process environment (getenv), or NULL */
	void *proc_ctx;
};

/*
 * Is this login remote?  NULL when nothing says so (local), else a token
 * naming the first signal found, for audit lines: "rhost" (PAM_RHOST set,
 * not empty), "tty" (PAM_TTY "ssh..."), "service" (PAM_SERVICE "sshd"),
 * "ssh_env" (SSH_CONNECTION, SSH_CLIENT or SSH_TTY in either environment).
 * Each signal only ever makes a login remote: a caller who forges one
 * loses the card for its own login and gains nothing.
 */
const char *mfa_login_remote(const struct mfa_login_place *p);

/* True for a token mfa_login_remote() returns (the helper's argument check). */
bool mfa_remote_token_valid(const char *token);

#endif
