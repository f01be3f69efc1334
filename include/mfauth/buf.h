/*
 * Bounded byte readers and growable writers for every untrusted or on-disk
 * encoding (store records, state slots, APDU responses).
 *
 * A reader never reads past its end: each getter fails without consuming
 * anything when the input is short, and leaves the output untouched.
 * A writer records the first failure and ignores later writes, so a caller can
 * write many fields and check mfa_buf_error() once.
 */
#ifndef MFAUTH_BUF_H
#define MFAUTH_BUF_H

#include <stddef.h>
#include <stdint.h>

struct mfa_reader {
	const uint8_t *p;
	size_t len;
};

static inline struct mfa_reader mfa_reader_init(const void *p, size_t len)
{
	struct mfa_reader r = { (const uint8_t *)p, len };
	return r;
}

/* Big-endian getters: 0, or MFA_ERR_CORRUPT when fewer bytes remain. */
int mfa_get_u8(struct mfa_reader *r, uint8_t *v);
int mfa_get_u16(struct mfa_reader *r, uint16_t *v);
int mfa_get_u32(struct mfa_reader *r, uint32_t *v);
int mfa_get_u64(struct mfa_reader *r, uint64_t *v);
/* Copy n bytes out. */
int mfa_get_bytes(struct mfa_reader *r, void *out, size_t n);
/* Point *out at the next n bytes (no copy) and consume them. */
int mfa_get_view(struct mfa_reader *r, size_t n, const uint8_t **out);

/*
 * A growable byte buffer.  Its free function wipes the contents, so it may
 * hold secrets (record plaintexts).
 */
struct mfa_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* first error, 0 if none */
};

void mfa_buf_init(struct mfa_buf *b);
/* Wipe and free the contents; the buffer may be reused after init. */
void mfa_buf_free(struct mfa_buf *b);
void mfa_put_u8(struct mfa_buf *b, uint8_t v);
void mfa_put_u16(struct mfa_buf *b, uint16_t v);
void mfa_put_u32(struct mfa_buf *b, uint32_t v);
void mfa_put_u64(struct mfa_buf *b, uint64_t v);
void mfa_put_bytes(struct mfa_buf *b, const void *p, size_t n);
/*
 * Append n zero bytes and return a pointer to them (to be filled in place),
 * or NULL after an error.  The pointer is valid until the next put.
 */
uint8_t *mfa_put_zeros(struct mfa_buf *b, size_t n);
/* 0, or the first error seen by a put (MFA_ERR_NOMEM / MFA_ERR_RANGE). */
int mfa_buf_error(const struct mfa_buf *b);

/* Wipe n bytes in a way the compiler cannot elide. */
void mfa_wipe(void *p, size_t n);

#endif
