/*
 * RFC 6030 (PSKC) documents: the XML parser and the seed decryption behind
 * `mfauth import pskc`, apart from the command (cmd_import_pskc.c: files,
 * the serial-to-user map, the store, the reports) so that fuzz/fuzz_pskc.c
 * reaches every byte-handling path.  What is read, and why with libxml2
 * alone: the comment at the top of pskc_parse.c.
 *
 * Use: pskc_setup() once, before anything else touches libxml2 (it installs
 * an allocator that wipes what it frees); pskc_open() on the file's bytes;
 * pskc_each() hands every KeyPackage to a callback, which may ask for the
 * seed with pskc_key_secret(); pskc_close().
 */
#ifndef MFAUTH_PSKC_PARSE_H
#define MFAUTH_PSKC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mfauth/record.h"

#define PSKC_SERIAL_MAX 128
#define PSKC_KEY_ID_MAX 64
#define PSKC_PSK_MAX 32

/* Why pskc_open() refused a whole document. */
enum pskc_doc_err {
	PSKC_DOC_SETUP = 1, /* libxml2 could not start (memory, > INT_MAX bytes) */
	PSKC_DOC_XML,       /* not well-formed: line and msg say where */
	PSKC_DOC_DOCTYPE,   /* has a DOCTYPE (where XXE starts): refused */
	PSKC_DOC_ROOT,      /* the root is not a PSKC KeyContainer */
	PSKC_DOC_VERSION,   /* KeyContainer Version given and not "1.0" */
};

struct pskc_doc_error {
	enum pskc_doc_err code;
	int line;      /* PSKC_DOC_XML: libxml2's line, or 0 */
	char msg[160]; /* PSKC_DOC_XML: its message, printable, one line; or "" */
};

enum pskc_drift {
	PSKC_DRIFT_NONE, /* no TimeDrift (or not reached) */
	PSKC_DRIFT_BAD,  /* a TimeDrift that is not a PlainValue integer */
	PSKC_DRIFT_SET,  /* drift holds it (0 included) */
};

/*
 * One KeyPackage.  Everything but the seed is checked before the callback
 * sees it; the seed is decoded (and decrypted) only on request, so a caller
 * that refuses the key for reasons of its own never touches it.  pskc_each()
 * wipes the whole struct after the callback returns.
 */
struct pskc_key {
	size_t index;                     /* 1-based position in the document */
	char serial[PSKC_SERIAL_MAX + 1]; /* "" unless pskc_serial_ok() */
	char id[PSKC_KEY_ID_MAX + 1];     /* usable Key/@Id when there is no serial, else "" */
	const char *why;   /* NULL: f's digits, alg, period are good; else why refused */
	const char *token; /* audit reason of why (or of pskc_key_secret's refusal) */
	enum pskc_drift drift_state;
	long long drift;
	bool plain;               /* pskc_key_secret met a PlainValue */
	struct mfa_totp_factor f; /* defaults sha1, 30 s; the seed after pskc_key_secret */
	const void *node;         /* private: the KeyPackage */
};

struct pskc_doc;

/*
 * Install libxml2's wiping allocator, refuse every external entity, silence
 * its messages.  Process-wide and idempotent; must come before any other
 * libxml2 call.  0 or MFA_ERR_NOMEM.
 */
int pskc_setup(void);

/*
 * Parse len bytes of XML (no terminating NUL needed) and check it is a PSKC
 * 1.0 KeyContainer without a DOCTYPE.  psk (psk_len 0, 16 or 32 bytes; 0: no
 * key) is copied, and the container's MAC key decrypted under it once.
 * Returns 0 with *out (free with pskc_close), or MFA_ERR_* with err filled
 * in.  Calls pskc_setup() itself.
 */
int pskc_open(const uint8_t *xml, size_t len, const uint8_t *psk, size_t psk_len,
    struct pskc_doc **out, struct pskc_doc_error *err);

/*
 * Call each(ctx, d, k) for every KeyPackage in document order; returns how
 * many there were.  k is valid during the call only.
 */
size_t pskc_each(struct pskc_doc *d,
    void (*each)(void *ctx, struct pskc_doc *d, struct pskc_key *k), void *ctx);

/*
 * The seed of k (whose why is NULL) into k->f.secret/secret_len: a base64
 * PlainValue, or an EncryptedValue whose ValueMAC is checked (CRYPTO_memcmp)
 * before it is decrypted.  It is 10..64 bytes.  Returns NULL, or why it is
 * refused with k->token set and no seed left in k.
 */
const char *pskc_key_secret(const struct pskc_doc *d, struct pskc_key *k);

/* Wipe the key material and free the document.  NULL is fine. */
void pskc_close(struct pskc_doc *d);

/* A usable serial: 1..128 printable ASCII characters, no blank, no comma. */
bool pskc_serial_ok(const char *s);

/*
 * A pre-shared key file's text (modified in place): 32 or 64 hex digits,
 * blanks around them allowed, into key (PSKC_PSK_MAX bytes) and *len.
 * 0 or MFA_ERR_INVAL (key wiped).
 */
int pskc_psk_from_hex(char *text, uint8_t key[PSKC_PSK_MAX], size_t *len);

#endif
