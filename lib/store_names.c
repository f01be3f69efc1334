/*
 * User names to file names.  A name can never leave the store directory or
 * collide with another: names are checked, then encoded injectively.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mfauth/err.h"
#include "mfauth/store_names.h"
#include "mfauth/text.h"

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
		if ((n = mfa_utf8_seq_len(p + i, len - i)) == 0)
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
	return -1; /* lower case is never produced, so never accepted */
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
