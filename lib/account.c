/* Typed names to account names through NSS (see mfauth/account.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfauth/account.h"
#include "mfauth/err.h"
#include "mfauth/store_names.h"

/* What sysconf suggests, within [1 KiB, MFA_NSS_BUF_MAX]. */
static size_t first_buf_size(void)
{
	long s = sysconf(_SC_GETPW_R_SIZE_MAX);

	if (s < 1024)
		return 1024;
	if ((unsigned long)s > MFA_NSS_BUF_MAX)
		return MFA_NSS_BUF_MAX;
	return (size_t)s;
}

/*
 * getpwnam_r, growing the buffer on ERANGE up to MFA_NSS_BUF_MAX.  0 with
 * *found set or clear, or the lookup's error number.  On success *pw points
 * into *bufp, which the caller frees.
 */
static int lookup(const char *typed, struct passwd *pw, char **bufp, bool *found)
{
	size_t size = first_buf_size();
	struct passwd *res = NULL;
	int e;

	*bufp = NULL;
	*found = false;
	for (;;) {
		char *buf = realloc(*bufp, size);
		if (buf == NULL)
			return ENOMEM;
		*bufp = buf;
		res = NULL;
		e = getpwnam_r(typed, pw, buf, size, &res);
		if (e != ERANGE)
			break;
		if (size >= MFA_NSS_BUF_MAX)
			return ERANGE;
		size = size * 2 > MFA_NSS_BUF_MAX ? MFA_NSS_BUF_MAX : size * 2;
	}
	/* glibc says "not found" with 0 and no result; ENOENT is the other spelling. */
	if (e == 0 || e == ENOENT) {
		*found = e == 0 && res != NULL;
		return 0;
	}
	return e;
}

int mfa_account_name(const char *typed, char *out, size_t cap, int *sys_errno)
{
	struct passwd pw;
	char *buf = NULL;
	bool found;
	int e, rc;

	*sys_errno = 0;
	if (out == NULL || cap == 0)
		return MFA_ERR_INVAL;
	out[0] = '\0';
	if (mfa_name_check(typed) != 0)
		return MFA_ERR_BADNAME;
	e = lookup(typed, &pw, &buf, &found);
	if (e == ENOMEM) {
		rc = MFA_ERR_NOMEM;
	} else if (e != 0) {
		*sys_errno = e;
		rc = MFA_ERR_NSS;
	} else if (!found) {
		rc = MFA_ERR_NOENT;
	} else if (pw.pw_name == NULL || mfa_name_check(pw.pw_name) != 0 ||
	    strlen(pw.pw_name) >= cap) {
		rc = MFA_ERR_BADNAME;
	} else {
		memcpy(out, pw.pw_name, strlen(pw.pw_name) + 1);
		rc = 0;
	}
	free(buf);
	return rc;
}
