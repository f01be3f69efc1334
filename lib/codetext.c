/*
 * Blanks in typed codes (see codetext.h).
 */
#include "config.h"

#include <string.h>
#include <openssl/crypto.h>

#include "mfauth/buf.h"
#include "mfauth/codetext.h"

bool mfa_code_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t mfa_code_strip_blanks(char *s)
{
	size_t r, w = 0, len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	for (r = 0; r < len; r++)
		if (!mfa_code_is_blank(s[r]))
			s[w++] = s[r];
	/* The tail held moved copies of the code's characters: wipe it. */
	if (w < len)
		mfa_wipe(s + w, len - w);
	s[w] = '\0';
	return w;
}

bool mfa_code_is_secret(const char *typed, const char *secret)
{
	size_t n;

	if (typed == NULL || secret == NULL || (n = strlen(typed)) == 0 || strlen(secret) != n)
		return false;
	return CRYPTO_memcmp(typed, secret, n) == 0;
}
