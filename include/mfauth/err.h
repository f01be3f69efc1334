/*
 * Error codes of the mfauth core.
 *
 * Every core function returns 0 on success or one of these negative codes.
 * The PAM module maps them to PAM return codes in exactly one place; the CLI
 * prints mfa_strerror() next to the file or user it concerns.
 */
#ifndef MFAUTH_ERR_H
#define MFAUTH_ERR_H

enum mfa_err {
	MFA_OK = 0,
	MFA_ERR_NOMEM = -1,       /* allocation failed */
	MFA_ERR_INVAL = -2,       /* invalid argument or malformed input */
	MFA_ERR_IO = -3,          /* read/write/fsync/rename failed */
	MFA_ERR_UNSAFE = -4,      /* wrong owner, mode, file type, link count or symlink */
	MFA_ERR_NOENT = -5,       /* no such record (user not enrolled) */
	MFA_ERR_CORRUPT = -6,     /* record or state failed to decode or authenticate */
	MFA_ERR_CRYPTO = -7,      /* an OpenSSL or CSPRNG call failed */
	MFA_ERR_KEY = -8,         /* key file missing, unreadable or malformed */
	MFA_ERR_BADNAME = -9,     /* user name not acceptable to the store */
	MFA_ERR_CONFIG = -10,     /* bad configuration key or value */
	MFA_ERR_EXISTS = -11,     /* refusing to overwrite something that exists */
	MFA_ERR_BADCODE = -12,    /* wrong one-time code */
	MFA_ERR_REPLAY = -13,     /* code for an already used time step */
	MFA_ERR_LOCKED = -14,     /* user is locked out */
	MFA_ERR_VERSION = -15,    /* unsupported format version */
	MFA_ERR_KEYID = -16,      /* sealed under a key we do not hold */
	MFA_ERR_NOSTATE = -17,    /* record present but state file missing */
	MFA_ERR_RANGE = -18,      /* number out of range */
	MFA_ERR_EXPIRED = -19,    /* recovery code or certificate past its validity */
};

/* A short English description of an error code; never NULL. */
const char *mfa_strerror(int err);

/* A stable lower-case token for audit lines ("corrupt", "unsafe", ...). */
const char *mfa_errtoken(int err);

#endif
