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
	MFA_ERR_NSS = -20,        /* the user database (NSS) lookup failed */

	/* The smartcard layer (card_apdu.c, card.c, card_cert.c, card_pcsc.c). */
	MFA_ERR_NOSERVICE = -100, /* pcscd not running */
	MFA_ERR_NOREADER = -101,  /* no reader, or none matching card_reader */
	MFA_ERR_NOCARD = -102,    /* no card within card_wait, or card removed */
	MFA_ERR_CARD = -103,      /* bad status word or malformed card response */
	MFA_ERR_NOAPP = -104,     /* the card lacks this profile's application */
	MFA_ERR_PIN_FORMAT = -105, /* PIN refused before anything was sent */
	MFA_ERR_BADPIN = -106,    /* wrong PIN */
	MFA_ERR_PIN_TRIES = -107, /* too few tries left: PIN not tried (doc/DESIGN.md invariant 9) */
	MFA_ERR_PIN_BLOCKED = -108, /* PIN blocked on the card */
	MFA_ERR_PIN_REQUIRED = -109, /* card refused to sign: PIN not verified */
	MFA_ERR_BADSIG = -110,    /* signature does not match the enrolled key */
	MFA_ERR_CERT = -111,      /* certificate malformed or unusable */
	MFA_ERR_KEYTYPE = -112,   /* key type or size not allowed for the profile */
	MFA_ERR_UNTRUSTED = -113, /* certificate does not chain to the CA file */
	MFA_ERR_PCSC = -114,      /* any other PC/SC error */
	MFA_ERR_WRONG_CARD = -115, /* card identifier is not the enrolled card's: PIN not sent */
	MFA_ERR_TRIES_UNKNOWN = -116, /* card's answer to the tries query not understood: PIN not sent */

	/* The directory (fleet store) client layer (store_ldap_conn.c). */
	MFA_ERR_DIR_UNREACHABLE = -200, /* no directory server answered within the timeout */
	MFA_ERR_DIR_TLS = -201,   /* TLS with the directory failed: certificate, CA, name, StartTLS */
	MFA_ERR_DIR_AUTH = -202,  /* the directory refused our bind DN and password */
	MFA_ERR_DIR_CONFLICT = -203, /* compare-and-swap lost: the value changed meanwhile */
	MFA_ERR_DIR_DENIED = -204, /* the directory's access control refused the operation */
	MFA_ERR_DIR = -205,       /* any other directory error */
};

/* A short English description of an error code; never NULL. */
const char *mfa_strerror(int err);

/* A stable lower-case token for audit lines ("corrupt", "unsafe", ...). */
const char *mfa_errtoken(int err);

#endif
