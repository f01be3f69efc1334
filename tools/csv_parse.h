/*
 * One line of `mfauth import csv` (cmd_import_csv.c reads the lines, saves and
 * reports; this is the part that judges a line's bytes, apart so that
 * fuzz/fuzz_csv.c reaches it):
 *     user,base32secret[,digits,algorithm,period]
 * No quoting; blanks around the optional fields are ignored, an empty one
 * keeps the default.
 */
#ifndef MFAUTH_CSV_PARSE_H
#define MFAUTH_CSV_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "mfauth/record.h"

#define CSV_LINE_MAX 4096 /* bytes, line ending excluded */
#define CSV_FIELDS_MAX 5

/*
 * s without the blanks (spaces, tabs) around it: trailing ones cut off in
 * place, the return value past the leading ones.  Also for the serial-to-user
 * map of `import pskc`, a CSV of its own.
 */
char *csv_trim_blanks(char *s);

/* A blank line or a '#' comment (leading blanks allowed): not a token. */
bool csv_skip_line(const char *line);

/*
 * Validate a whole line (NUL-terminated, line ending removed; len is its
 * length, so an embedded NUL is refused), split in place, into *user and f;
 * f holds the defaults on entry.  Returns NULL, or why the line is refused
 * with *token for the audit line.  *user (pointing into line) is set only
 * once the name has passed mfa_name_check, so a hostile name is never
 * printed.  The seed lands in f->secret (10..64 bytes) on success only; line
 * and f are the caller's to wipe.
 */
const char *csv_parse_line(char *line, size_t len, const char **user, struct mfa_totp_factor *f,
    const char **token);

#endif
