/*
 * The remote decision (remote.h).  Why each signal:
 *
 * - PAM_RHOST: the application says the user is on another host; sshd,
 *   telnetd, rlogind and xrdp's sesman set it.  localhost counts too: an ssh
 *   to 127.0.0.1 can be the tunnel end of a connection from anywhere.
 * - PAM_TTY "ssh" or "ssh...": OpenSSH's sshd sets "ssh" during
 *   authentication on Linux whatever its service name (a second sshd under
 *   another name, or one built with SSHD_PAM_SERVICE changed).
 * - PAM_SERVICE "sshd": the service name every distribution gives it, for an
 *   sshd that set neither of the above.
 * - SSH_CONNECTION, SSH_CLIENT, SSH_TTY in the PAM environment (sshd puts
 *   SSH_CONNECTION there for the modules) or the process's (su and sudo run
 *   inside an ssh session inherit them from the shell): a login started from
 *   an ssh session is made by whoever holds that session, who need not be at
 *   the reader.
 *
 * Limits: the environment is the caller's.  A clerk logged in over ssh can
 * unset these variables before `su other-clerk`; that su then looks local,
 * and the other clerk's card (in the terminal's reader) is offered.  That is
 * accepted, not solved: the person doing it already holds a session as
 * someone (their own, audited), and still needs the other clerk's password,
 * PIN and card in the reader; the signals above are what a login shows of
 * itself, and nothing a process can read proves where its user sits.  Hosts
 * that must close it run no su/sudo to card users from remote sessions
 * (pam_mfauth(8) NOTES).  Every signal only makes a login remote, so forging
 * one costs the forger the card and gains nothing.
 */
#include "config.h"

#include <string.h>

#include "mfauth/remote.h"

/* The variables OpenSSH's sshd sets in every session (SSH_TTY only with a pty). */
static const char *const ssh_vars[] = { "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY" };

static const char *const tokens[] = { "rhost", "tty", "service", "ssh_env" };

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static bool env_has_ssh(mfa_env_fn fn, void *ctx)
{
	if (fn == NULL)
		return false;
	for (size_t i = 0; i < sizeof(ssh_vars) / sizeof(ssh_vars[0]); i++)
		if (fn(ctx, ssh_vars[i]) != NULL)
			return true;
	return false;
}

const char *mfa_login_remote(const struct mfa_login_place *p)
{
	if (set(p->rhost))
		return tokens[0];
	if (p->tty != NULL && strncmp(p->tty, "ssh", 3) == 0)
		return tokens[1];
	if (p->service != NULL && strcmp(p->service, "sshd") == 0)
		return tokens[2];
	if (env_has_ssh(p->pam_env, p->pam_ctx) || env_has_ssh(p->proc_env, p->proc_ctx))
		return tokens[3];
	return NULL;
}

bool mfa_remote_token_valid(const char *token)
{
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (strcmp(token, tokens[i]) == 0)
			return true;
	return false;
}
