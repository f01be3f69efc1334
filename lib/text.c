/* Untrusted text made safe to print (see mfauth/text.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "mfauth/text.h"

char *mfa_text_printable(char *out, size_t cap, const char *src)
{
	size_t i;

	if (out == NULL || cap == 0)
		return out;
	if (src == NULL)
		src = "";
	for (i = 0; i + 1 < cap && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];
		out[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

size_t mfa_utf8_seq_len(const unsigned char *p, size_t avail)
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
