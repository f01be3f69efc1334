/*
 * Linux audit records (see audit.h), through libaudit when built with it.
 * One netlink socket per record, closed at once: nothing stays open in the
 * host process.
 */
#include "config.h"

#include "mfauth/audit.h"

#ifdef HAVE_LIBAUDIT
#include <libaudit.h>
#include <unistd.h>

static void kaudit(int type, const char *op, const char *user, const char *rhost, const char *tty,
    int success)
{
	int fd = audit_open();

	/* No audit in this kernel or container: syslog carries the trail alone. */
	if (fd < 0)
		return;
	audit_log_acct_message(fd, type, NULL, op, user ? user : "?", (unsigned int)-1,
	    rhost && *rhost ? rhost : NULL, NULL, tty && *tty ? tty : NULL, success ? 1 : 0);
	audit_close(fd);
}

void mfa_kaudit_auth(const char *user, const char *rhost, const char *tty, int success)
{
	kaudit(AUDIT_USER_AUTH, "PAM:mfauth-second-factor", user, rhost, tty, success);
}

void mfa_kaudit_mgmt(const char *op, const char *user, int success)
{
	kaudit(AUDIT_USER_MGMT, op, user, NULL, NULL, success);
}

#else

void mfa_kaudit_auth(const char *user, const char *rhost, const char *tty, int success)
{
	(void)user;
	(void)rhost;
	(void)tty;
	(void)success;
}

void mfa_kaudit_mgmt(const char *op, const char *user, int success)
{
	(void)op;
	(void)user;
	(void)success;
}

#endif
