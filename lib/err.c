/* Error strings for the core's MFA_ERR_* codes. */
#include "config.h"

#include <stddef.h>

#include "mfauth/err.h"

/*
 * The texts are marked for the catalog (po/): the tool shows them translated
 * (cli_strerror); the core itself never translates, and tokens never are.
 */
#define N_(s) s

struct err_entry {
	int code;
	const char *text;
	const char *token;
};

static const struct err_entry err_table[] = {
	{ MFA_OK, N_("success"), "ok" },
	{ MFA_ERR_NOMEM, N_("out of memory"), "nomem" },
	{ MFA_ERR_INVAL, N_("invalid input"), "invalid" },
	{ MFA_ERR_IO, N_("input/output error"), "io" },
	{ MFA_ERR_UNSAFE, N_("unsafe ownership, mode or file type"), "unsafe" },
	{ MFA_ERR_NOENT, N_("not enrolled"), "not_enrolled" },
	{ MFA_ERR_CORRUPT, N_("corrupt or tampered data"), "corrupt" },
	{ MFA_ERR_CRYPTO, N_("cryptographic operation failed"), "crypto" },
	{ MFA_ERR_KEY, N_("store key missing or malformed"), "key" },
	{ MFA_ERR_BADNAME, N_("user name not acceptable"), "bad_name" },
	{ MFA_ERR_CONFIG, N_("configuration error"), "config" },
	{ MFA_ERR_EXISTS, N_("already exists"), "exists" },
	{ MFA_ERR_BADCODE, N_("wrong code"), "bad_code" },
	{ MFA_ERR_REPLAY, N_("code already used"), "replay" },
	{ MFA_ERR_LOCKED, N_("user is locked"), "locked" },
	{ MFA_ERR_VERSION, N_("unsupported format version"), "version" },
	{ MFA_ERR_KEYID, N_("sealed under a different key"), "key_id" },
	{ MFA_ERR_NOSTATE, N_("state file missing"), "no_state" },
	{ MFA_ERR_RANGE, N_("value out of range"), "range" },
	{ MFA_ERR_EXPIRED, N_("expired"), "expired" },
	{ MFA_ERR_NSS, N_("user database (NSS) lookup failed"), "nss_error" },
	{ MFA_ERR_NOSERVICE, N_("smartcard service (pcscd) not running"), "no_pcscd" },
	{ MFA_ERR_NOREADER, N_("no smartcard reader"), "no_reader" },
	{ MFA_ERR_NOCARD, N_("no smartcard in the reader, or card removed"), "no_card" },
	{ MFA_ERR_CARD, N_("smartcard error or malformed card response"), "card_error" },
	{ MFA_ERR_NOAPP, N_("card lacks the application of this profile"), "no_app" },
	{ MFA_ERR_PIN_FORMAT, N_("PIN has the wrong length or characters for this card"), "pin_format" },
	{ MFA_ERR_BADPIN, N_("wrong PIN"), "bad_pin" },
	{ MFA_ERR_PIN_TRIES, N_("too few PIN tries left; PIN not tried"), "pin_tries" },
	{ MFA_ERR_PIN_BLOCKED, N_("PIN blocked"), "pin_blocked" },
	{ MFA_ERR_PIN_REQUIRED, N_("card refused: PIN not verified"), "pin_required" },
	{ MFA_ERR_BADSIG, N_("card signature does not match the enrolled key"), "bad_signature" },
	{ MFA_ERR_CERT, N_("certificate malformed or unusable"), "bad_cert" },
	{ MFA_ERR_KEYTYPE, N_("card key type or size not allowed for this profile"), "key_type" },
	{ MFA_ERR_UNTRUSTED, N_("certificate does not chain to the trusted CA"), "untrusted_cert" },
	{ MFA_ERR_PCSC, N_("smartcard service (PC/SC) error"), "pcsc" },
	{ MFA_ERR_WRONG_CARD, N_("not the card enrolled for this account"), "wrong_card" },
	{ MFA_ERR_TRIES_UNKNOWN, N_("the card did not say how many PIN tries are left; PIN not tried"),
	    "tries_unknown" },
	{ MFA_ERR_DIR_UNREACHABLE, N_("the authentication directory cannot be reached"),
	    "directory_unreachable" },
	{ MFA_ERR_DIR_TLS, N_("secure connection to the authentication directory failed (certificate)"),
	    "directory_tls" },
	{ MFA_ERR_DIR_AUTH, N_("the authentication directory refused this machine's credentials"),
	    "directory_auth" },
	{ MFA_ERR_DIR_CONFLICT, N_("the directory entry was changed by another login meanwhile"),
	    "directory_conflict" },
	{ MFA_ERR_DIR_DENIED, N_("the authentication directory does not allow this change"),
	    "directory_denied" },
	{ MFA_ERR_DIR, N_("authentication directory error"), "directory_error" },
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
	return e ? e->text : N_("unknown error");
}

const char *mfa_errtoken(int err)
{
	const struct err_entry *e = err_find(err);
	return e ? e->token : "unknown";
}
