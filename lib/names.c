/*
 * User names to file names.  A name can never leave the store directory or
 * collide with another: names are checked, then encoded injectively.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mfauth/err.h"
#include "mfauth/store.h"

/* Length of the UTF-8 sequence at p (well-formed, shortest form), or 0. */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 control characters (U+0080..U+009F). */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return n;
}

int mfa_name_check(const char *user)
{
	const unsigned char *p = (const unsigned char *)user;
	size_t len;

	if (user == NULL)
		return MFA_ERR_BADNAME;
	len = strnlen(user, MFA_USER_MAX + 1);
	if (len == 0 || len > MFA_USER_MAX)
		return MFA_ERR_BADNAME;
	if (strcmp(user, ".") == 0 || strcmp(user, "..") == 0)
		return MFA_ERR_BADNAME;
	for (size_t i = 0; i < len;) {
		size_t n;
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/')
			return MFA_ERR_BADNAME;
		if ((n = utf8_seq_len(p + i, len - i)) == 0)
			return MFA_ERR_BADNAME;
		i += n;
	}
	return 0;
}

static bool plain_byte(unsigned char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c == '_' || c == '-' || c == '@')
		return true;
	return c == '.' && !first;
}

int mfa_name_encode(const char *user, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)user;
	size_t o = 0;

	if (mfa_name_check(user) != 0)
		return MFA_ERR_BADNAME;
	for (size_t i = 0; p[i] != '\0'; i++) {
		if (plain_byte(p[i], i == 0)) {
			if (o + 1 >= outlen)
				return MFA_ERR_RANGE;
			out[o++] = (char)p[i];
		} else {
			if (o + 3 >= outlen)
				return MFA_ERR_RANGE;
			out[o++] = '%';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 0xf];
		}
	}
	if (o >= outlen)
		return MFA_ERR_RANGE;
	out[o] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;      /* lower case is never produced, so never accepted */
}

int mfa_name_decode(const char *stem, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)stem;
	size_t o = 0;

	if (outlen == 0)
		return MFA_ERR_BADNAME;
	for (size_t i = 0; p[i] != '\0'; i++) {
		unsigned char c;
		if (o + 1 >= outlen)
			return MFA_ERR_BADNAME;
		if (p[i] == '%') {
			int hi = hexval((char)p[i + 1]), lo = hi < 0 ? -1 : hexval((char)p[i + 2]);
			if (hi < 0 || lo < 0)
				return MFA_ERR_BADNAME;
			c = (unsigned char)(hi << 4 | lo);
			/* Only bytes encode would have escaped: one spelling per name. */
			if (c == 0 || plain_byte(c, i == 0))
				return MFA_ERR_BADNAME;
			i += 2;
		} else if (plain_byte(p[i], i == 0)) {
			c = p[i];
		} else {
			return MFA_ERR_BADNAME;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return mfa_name_check(out);
}
