/*
 * User names as every store keys them: the check (what a user name may be)
 * and the injective encoding into a file-name stem that the files backend
 * uses.  A store format (lib/store_names.c): foundation only, so that the
 * account lookup (lib/account.c) and the store both build on it.
 */
#ifndef MFAUTH_STORE_NAMES_H
#define MFAUTH_STORE_NAMES_H

#include <stddef.h>

/* Longest user name accepted, in bytes. */
#define MFA_USER_MAX 256
/* Longest encoded name (3 bytes per input byte at worst, plus NUL). */
#define MFA_NAME_ENC_MAX (3 * MFA_USER_MAX + 1)

/*
 * Check a user name: 1..MFA_USER_MAX bytes, valid UTF-8, no control
 * characters, no '/', not "." or "..".  Returns 0 or MFA_ERR_BADNAME.
 * The store also refuses (MFA_ERR_BADNAME) a name whose encoded file name
 * would pass NAME_MAX: ASCII names up to 249 bytes always fit, names with
 * escaped bytes (non-ASCII, blanks) take three characters per byte.
 */
int mfa_name_check(const char *user);

/*
 * Encode a checked user name into a file-name stem: bytes in [A-Za-z0-9_-@]
 * and '.' (not leading) stand for themselves, every other byte becomes %XX.
 * Injective, never starts with '.', never contains '/'.
 */
int mfa_name_encode(const char *user, char *out, size_t outlen);
/* The inverse; MFA_ERR_BADNAME for a stem that encode would not produce. */
int mfa_name_decode(const char *stem, char *out, size_t outlen);

#endif
