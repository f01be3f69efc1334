/*
 * What a clerk types at a code prompt, before any check: authenticator apps
 * show "123 456", and people copy a code with a blank around it.  ASCII
 * blanks (space and tab) carry no meaning in a TOTP code or a recovery code,
 * so they are dropped before the format check; anything else stays, so input
 * that cannot be a code is still refused as malformed.
 */
#ifndef MFAUTH_CODETEXT_H
#define MFAUTH_CODETEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True for the blanks a code may carry: ' ' and '\t' (not newline, not NBSP). */
bool mfa_code_is_blank(char c);

/*
 * Drop every blank from the NUL-terminated string s, in place; returns the
 * new length.  The bytes freed at the end are zeroed, so no digit of a
 * secret lingers past the new terminator.  s may be NULL (returns 0).
 */
size_t mfa_code_strip_blanks(char *s);

/*
 * True when typed is exactly secret (no normalisation), compared in constant
 * time for strings of equal length.  For the password typed again at the
 * code prompt: both strings come from the same conversation partner, so
 * their lengths are no secret from the one who typed them.  NULL or empty
 * strings never match.
 */
bool mfa_code_is_secret(const char *typed, const char *secret);

#endif
