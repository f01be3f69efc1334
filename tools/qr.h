/*
 * Draw a QR code of a short text (an otpauth:// URI) in a terminal, so a
 * phone app can enroll by scanning the screen.  Uses libqrencode.
 */
#ifndef MFAUTH_QR_H
#define MFAUTH_QR_H

#include <stdio.h>

enum qr_style {
	QR_STYLE_NONE = 0, /* draw nothing */
	QR_STYLE_ANSI,     /* ANSI background colours, two spaces per module */
	QR_STYLE_UTF8,     /* half blocks, two module rows per text line */
};

/*
 * Parse "none", "ansi" or "utf8" into *style.  Returns 0, or -1 for any
 * other word.
 */
int qr_style_parse(const char *name, enum qr_style *style);

/*
 * The style to use when the user chose none: utf8 when f is a terminal and
 * the locale's character set is UTF-8, ansi on any other terminal, none when
 * f is not a terminal (a file or a pipe gets the URI alone).
 */
enum qr_style qr_style_default(FILE *f);

/*
 * Encode text (error correction level M, 8-bit mode) and draw it on f.
 * text may hold a secret: the module matrix is wiped before it is freed.
 * Returns 0, or -1 when the text cannot be encoded (errno from libqrencode:
 * ERANGE when too long, ENOMEM) or writing f failed.
 */
int qr_print(FILE *f, const char *text, enum qr_style style);

#endif
