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
	{ MFA_ERR_NOSERVICE, "smartcard service (pcscd) not running", "no_pcscd" },
	{ MFA_ERR_NOREADER, "no smartcard reader", "no_reader" },
	{ MFA_ERR_NOCARD, "no smartcard in the reader, or card removed", "no_card" },
	{ MFA_ERR_CARD, "smartcard error or malformed card response", "card_error" },
	{ MFA_ERR_NOAPP, "card lacks the application of this profile", "no_app" },
	{ MFA_ERR_PIN_FORMAT, "PIN has the wrong length or characters for this card", "pin_format" },
	{ MFA_ERR_BADPIN, "wrong PIN", "bad_pin" },
	{ MFA_ERR_PIN_TRIES, "too few PIN tries left; PIN not tried", "pin_tries" },
	{ MFA_ERR_PIN_BLOCKED, "PIN blocked", "pin_blocked" },
	{ MFA_ERR_PIN_REQUIRED, "card refused: PIN not verified", "pin_required" },
	{ MFA_ERR_BADSIG, "card signature does not match the enrolled key", "bad_signature" },
	{ MFA_ERR_CERT, "certificate malformed or unusable", "bad_cert" },
	{ MFA_ERR_KEYTYPE, "card key type or size not allowed for this profile", "key_type" },
	{ MFA_ERR_UNTRUSTED, "certificate does not chain to the trusted CA", "untrusted_cert" },
	{ MFA_ERR_PCSC, "smartcard service (PC/SC) error", "pcsc" },
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
