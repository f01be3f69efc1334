/* Bounded readers and growable, wiping writers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"

/* Records and APDUs are small; anything near this is a bug or an attack. */
#define MFA_BUF_LIMIT (1u << 20)

int mfa_get_view(struct mfa_reader *r, size_t n, const uint8_t **out)
{
	if (r->len < n)
		return MFA_ERR_CORRUPT;
	*out = r->p;
	r->p += n;
	r->len -= n;
	return 0;
}

int mfa_get_bytes(struct mfa_reader *r, void *out, size_t n)
{
	const uint8_t *v;
	int rc = mfa_get_view(r, n, &v);
	if (rc == 0 && n > 0)
		memcpy(out, v, n);
	return rc;
}

static int get_be(struct mfa_reader *r, size_t n, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;
	int rc = mfa_get_view(r, n, &p);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | p[i];
	*v = x;
	return 0;
}

int mfa_get_u8(struct mfa_reader *r, uint8_t *v)
{
	uint64_t x;
	int rc = get_be(r, 1, &x);
	if (rc == 0)
		*v = (uint8_t)x;
	return rc;
}

int mfa_get_u16(struct mfa_reader *r, uint16_t *v)
{
	uint64_t x;
	int rc = get_be(r, 2, &x);
	if (rc == 0)
		*v = (uint16_t)x;
	return rc;
}

int mfa_get_u32(struct mfa_reader *r, uint32_t *v)
{
	uint64_t x;
	int rc = get_be(r, 4, &x);
	if (rc == 0)
		*v = (uint32_t)x;
	return rc;
}

int mfa_get_u64(struct mfa_reader *r, uint64_t *v)
{
	return get_be(r, 8, v);
}

void mfa_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void mfa_buf_init(struct mfa_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void mfa_buf_free(struct mfa_buf *b)
{
	if (b->data != NULL) {
		mfa_wipe(b->data, b->cap);
		free(b->data);
	}
	mfa_buf_init(b);
}

/* Grow by copying into a new block so no secret is left behind by realloc. */
static int buf_reserve(struct mfa_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (b->err != 0)
		return b->err;
	if (extra > MFA_BUF_LIMIT - b->len) {
		b->err = MFA_ERR_RANGE;
		return b->err;
	}
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if ((p = malloc(cap)) == NULL) {
		b->err = MFA_ERR_NOMEM;
		return b->err;
	}
	if (b->len > 0)
		memcpy(p, b->data, b->len);
	if (b->data != NULL) {
		mfa_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void mfa_put_bytes(struct mfa_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) != 0 || n == 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

uint8_t *mfa_put_zeros(struct mfa_buf *b, size_t n)
{
	uint8_t *at;
	/* Reserve at least one byte so that even n == 0 yields a real pointer. */
	if (buf_reserve(b, n > 0 ? n : 1) != 0)
		return NULL;
	at = b->data + b->len;
	memset(at, 0, n);
	b->len += n;
	return at;
}

static void put_be(struct mfa_buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];
	for (size_t i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	mfa_put_bytes(b, tmp, n);
}

void mfa_put_u8(struct mfa_buf *b, uint8_t v)
{
	put_be(b, v, 1);
}
void mfa_put_u16(struct mfa_buf *b, uint16_t v)
{
	put_be(b, v, 2);
}
void mfa_put_u32(struct mfa_buf *b, uint32_t v)
{
	put_be(b, v, 4);
}
void mfa_put_u64(struct mfa_buf *b, uint64_t v)
{
	put_be(b, v, 8);
}

int mfa_buf_error(const struct mfa_buf *b)
{
	return b->err;
}
