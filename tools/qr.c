/*
 * QR codes on a terminal for `mfauth enroll totp`.
 *
 * Colour convention.  A QR code is dark modules on a light background, and
 * many phone scanners (authenticator apps among them) read only that way
 * round.  A terminal gives us two colours we do not choose: the background,
 * and the foreground that glyphs are drawn in.
 *  - utf8: a glyph (half or full block) stands for a DARK module and a
 *    blank for a light one, quiet zone included.  This is the "inverted"
 *    drawing compared with `qrencode -t UTF8` (which draws light modules
 *    assuming light text on a dark screen): the offices this tool is for run
 *    terminals with dark text on a light background, where ours comes out
 *    the right way round.  On a dark-background terminal it shows as a
 *    negative, which most camera apps still read; if one does not, use
 *    --qr ansi, which does not depend on the terminal's colours.
 *  - ansi: every module and the quiet zone get an explicit background colour
 *    (black \033[40m for dark, white \033[47m for light), so the code is
 *    correct on any terminal that understands ANSI colours.
 * Both use a quiet zone of 2 modules: the specification's 4 makes the code
 * too tall for an 80x24 console, and scanners cope with 2 on a screen.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <qrencode.h>

#include "mfauth/buf.h"
#include "qr.h"

#define QR_MARGIN 2

#define ANSI_DARK "\033[40m"
#define ANSI_LIGHT "\033[47m"
#define ANSI_RESET "\033[0m"

/* Half blocks: which of a text cell's two module rows are dark. */
#define GLYPH_UPPER "\xe2\x96\x80" /* U+2580 top dark */
#define GLYPH_LOWER "\xe2\x96\x84" /* U+2584 bottom dark */
#define GLYPH_FULL "\xe2\x96\x88"  /* U+2588 both dark */

int qr_style_parse(const char *name, enum qr_style *style)
{
	if (strcmp(name, "none") == 0)
		*style = QR_STYLE_NONE;
	else if (strcmp(name, "ansi") == 0)
		*style = QR_STYLE_ANSI;
	else if (strcmp(name, "utf8") == 0)
		*style = QR_STYLE_UTF8;
	else
		return -1;
	return 0;
}

/*
 * The locale that decides the character set: the first of LC_ALL, LC_CTYPE,
 * LANG that is set and not empty (POSIX precedence).
 */
static bool locale_is_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v == NULL || *v == '\0')
			continue;
		return strcasestr(v, "utf-8") != NULL || strcasestr(v, "utf8") != NULL;
	}
	return false;
}

enum qr_style qr_style_default(FILE *f)
{
	if (!isatty(fileno(f)))
		return QR_STYLE_NONE;
	return locale_is_utf8() ? QR_STYLE_UTF8 : QR_STYLE_ANSI;
}

/* Module (x, y) of the drawing, quiet zone included: true if dark. */
static bool dark(const QRcode *q, int x, int y)
{
	x -= QR_MARGIN;
	y -= QR_MARGIN;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return (q->data[(size_t)y * (size_t)q->width + (size_t)x] & 1) != 0;
}

static void draw_utf8(FILE *f, const QRcode *q)
{
	int size = q->width + 2 * QR_MARGIN;

	/* Two module rows per line; an odd last row pairs with a light one. */
	for (int y = 0; y < size; y += 2) {
		for (int x = 0; x < size; x++) {
			bool top = dark(q, x, y), bottom = y + 1 < size && dark(q, x, y + 1);
			fputs(top && bottom ? GLYPH_FULL :
			        top         ? GLYPH_UPPER :
			        bottom      ? GLYPH_LOWER :
			                      " ",
			    f);
		}
		fputc('\n', f);
	}
}

static void draw_ansi(FILE *f, const QRcode *q)
{
	int size = q->width + 2 * QR_MARGIN;

	for (int y = 0; y < size; y++) {
		for (int x = 0; x < size; x++)
			fputs(dark(q, x, y) ? ANSI_DARK "  " : ANSI_LIGHT "  ", f);
		/* Reset before the newline so the colour does not fill the rest of the line. */
		fputs(ANSI_RESET "\n", f);
	}
}

int qr_print(FILE *f, const char *text, enum qr_style style)
{
	QRcode *q;

	if (style == QR_STYLE_NONE)
		return 0;
	/* Version 0: the smallest that fits; case-sensitive 8-bit data, level M. */
	q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL)
		return -1;
	if (style == QR_STYLE_UTF8)
		draw_utf8(f, q);
	else
		draw_ansi(f, q);
	/*
	 * The matrix encodes the seed.  libqrencode's own intermediate copies
	 * are freed without wiping; that we cannot reach.
	 */
	mfa_wipe(q->data, (size_t)q->width * (size_t)q->width);
	QRcode_free(q);
	if (fflush(f) != 0 || ferror(f)) {
		errno = EIO;
		return -1;
	}
	return 0;
}
