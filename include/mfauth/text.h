/*
 * Untrusted text shown to an operator (certificate subjects, where a failed
 * login came from): one rule, one owner, so that nothing a card, a client or
 * a remote host supplied can drive root's terminal.
 */
#ifndef MFAUTH_TEXT_H
#define MFAUTH_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copy src into out (cap bytes, always NUL-terminated, cut if longer) with
 * every byte outside printable ASCII (0x20..0x7e) replaced by '?': control
 * bytes (ESC, BEL, CSI 0x9b), DEL, and every byte of non-ASCII or invalid
 * UTF-8.  out may be src (in place).  Returns out.
 */
char *mfa_text_printable(char *out, size_t cap, const char *src);

/*
 * Length of the UTF-8 sequence at p (avail bytes readable): 1..4 for a
 * well-formed, shortest-form sequence of a code point that is neither a
 * surrogate, past U+10FFFF nor a C1 control (U+0080..U+009F); 0 otherwise.
 * p[0] < 0x80 is 1 (ASCII, control bytes included: callers check those).
 */
size_t mfa_utf8_seq_len(const unsigned char *p, size_t avail);

#endif
