/* Error strings for the core's MFA_ERR_* codes. */
#include "config.h"

#include <stddef.h>

#include "mfauth/err.h"

struct err_entry {
	int code;
	const char *text;
	const char *token;
};

static const struct err_entry err_table[] = {
	{ MFA_OK, "success", "ok" },
	{ MFA_ERR_NOMEM, "out of memory", "nomem" },
	{ MFA_ERR_INVAL, "invalid input", "invalid" },
	{ MFA_ERR_IO, "input/output error", "io" },
	{ MFA_ERR_UNSAFE, "unsafe ownership, mode or file type", "unsafe" },
	{ MFA_ERR_NOENT, "not enrolled", "not_enrolled" },
	{ MFA_ERR_CORRUPT, "corrupt or tampered data", "corrupt" },
	{ MFA_ERR_CRYPTO, "cryptographic operation failed", "crypto" },
	{ MFA_ERR_KEY, "store key missing or malformed", "key" },
	{ MFA_ERR_BADNAME, "user name not acceptable", "bad_name" },
	{ MFA_ERR_CONFIG, "configuration error", "config" },
	{ MFA_ERR_EXISTS, "already exists", "exists" },
	{ MFA_ERR_BADCODE, "wrong code", "bad_code" },
	{ MFA_ERR_REPLAY, "code already used", "replay" },
	{ MFA_ERR_LOCKED, "user is locked", "locked" },
	{ MFA_ERR_VERSION, "unsupported format version", "version" },
	{ MFA_ERR_KEYID, "sealed under a different key", "key_id" },
	{ MFA_ERR_NOSTATE, "state file missing", "no_state" },
	{ MFA_ERR_RANGE, "value out of range", "range" },
	{ MFA_ERR_EXPIRED, "expired", "expired" },
};

static const struct err_entry *err_find(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == err)
			return &err_table[i];
	return NULL;
}

const char *mfa_strerror(int err)
{
	const struct err_entry *e = err_find(err);
	return e ? e->text : "unknown error";
}

const char *mfa_errtoken(int err)
{
	const struct err_entry *e = err_find(err);
	return e ? e->token : "unknown";
}
