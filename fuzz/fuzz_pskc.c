/*
 * libFuzzer target for the PSKC document parser (tools/pskc_parse.c), the
 * bytes of a vendor's `import pskc` file.  Each input is parsed three times:
 * without a pre-shared key (the "give --key-file" path), and with the fixed
 * test keys below, 16 bytes (aes128-cbc) and 32 bytes (aes256-cbc), so the
 * encrypted seeds in fuzz/corpus/pskc (made with tests/cli/gen_pskc.py --psk
 * and these keys) pass their MAC check and the fuzzer mutates real
 * ciphertext, MAC keys and padding.  Every key package's seed is asked for.
 *
 * Properties checked (abort on violation): a document error comes with a
 * known code and a printable one-line message; a key package the parser
 * accepts has a usable serial, 6 or 8 digits, a 30 or 60 second period and
 * a known hash; a seed it hands out is 10..64 bytes, and a refused seed
 * leaves nothing behind; every refusal has a reason and an audit token.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pskc_parse.h"
#include "mfauth/record.h"
#include "mfauth/totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* tests/cli/gen_pskc.py --psk 000102...0f (or ...1f for the 32-byte key). */
/* clang-format off */
static const uint8_t test_psk[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
	0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f,
};
/* clang-format on */

static void check_refused_seed(const struct pskc_key *k)
{
	if (k->token == NULL || k->f.secret_len != 0)
		abort();
	for (size_t i = 0; i < sizeof(k->f.secret); i++)
		if (k->f.secret[i] != 0)
			abort(); /* a partial seed left behind */
}

static void check_key(void *ctx, struct pskc_doc *d, struct pskc_key *k)
{
	size_t *count = ctx;
	const char *why;

	if (k->index != ++*count)
		abort();
	if (k->why != NULL) {
		if (k->token == NULL)
			abort();
		return;
	}
	if (!pskc_serial_ok(k->serial) || (k->f.digits != 6 && k->f.digits != 8) ||
	    (k->f.period != 30 && k->f.period != 60) || mfa_alg_name(k->f.alg) == NULL)
		abort();
	why = pskc_key_secret(d, k);
	if (why != NULL)
		check_refused_seed(k);
	else if (k->f.secret_len < 10 || k->f.secret_len > MFA_SECRET_MAX)
		abort();
}

static void check_doc_error(const struct pskc_doc_error *e)
{
	if (e->code < PSKC_DOC_SETUP || e->code > PSKC_DOC_VERSION)
		abort();
	if (memchr(e->msg, '\0', sizeof(e->msg)) == NULL)
		abort();
	for (const char *p = e->msg; *p != '\0'; p++)
		if (*p < ' ' || *p > '~')
			abort();
}

static void run(const uint8_t *data, size_t size, size_t psk_len)
{
	struct pskc_doc *d = NULL;
	struct pskc_doc_error e;
	size_t count = 0;

	if (pskc_open(data, size, test_psk, psk_len, &d, &e) != 0) {
		check_doc_error(&e);
		return;
	}
	if (pskc_each(d, check_key, &count) != count)
		abort();
	pskc_close(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pskc_setup() != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, 0);
	run(data, size, 16);
	run(data, size, 32);
	return 0;
}
