/*
 * Audit lines: one syslog line (facility authpriv) per event, key=value
 * fields.  Values are quoted and escaped when needed so that a hostile user
 * name can never forge a field.  Never pass a secret.
 *
 * The line is sent to /dev/log on a socket of our own: the module never calls
 * openlog() and so never changes its host process's syslog settings.
 */
#ifndef MFAUTH_AUDIT_H
#define MFAUTH_AUDIT_H

#include <stddef.h>

struct mfa_audit_field {
	const char *key;
	const char *value; /* NULL prints as empty */
};

#define MFA_LOG_ERR 3
#define MFA_LOG_WARNING 4
#define MFA_LOG_NOTICE 5
#define MFA_LOG_INFO 6
#define MFA_LOG_DEBUG 7

/*
 * Format fields as "k=v k=v ..." into out.  Values made only of
 * [A-Za-z0-9._@:/+,=-] are written bare; others are double-quoted with '"',
 * '\\' and bytes outside printable ASCII as \xHH.  Truncates safely.
 */
size_t mfa_audit_format(char *out, size_t outlen, const struct mfa_audit_field *fields, size_t n);

/*
 * Send one line with the given priority and ident ("pam_mfauth"/"mfauth").
 * Best effort: returns 0 or MFA_ERR_IO when /dev/log cannot be reached.
 */
int mfa_syslog(int priority, const char *ident, const char *line);

/* Format and send: the usual call. */
int mfa_audit(int priority, const char *ident, const struct mfa_audit_field *fields, size_t n);

/*
 * Linux audit records beside the syslog line (built --with-libaudit):
 * USER_AUTH for a second-factor decision, USER_MGMT for an administrative
 * action.  Best effort and silent: where the kernel has no audit support (or
 * the build has no libaudit) nothing happens.  NULL strings are allowed.
 */
void mfa_kaudit_auth(const char *user, const char *rhost, const char *tty, int success);
void mfa_kaudit_mgmt(const char *op, const char *user, int success);

#endif
