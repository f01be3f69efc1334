/*
 * One card login in a PC/SC session of its own, as the PAM module and the
 * setuid helper both run it: open the reader the configuration names
 * (card_reader, card_wait), run mfa_card_login() with the configured
 * card_min_tries, and end the session with a reset whatever happened, so no
 * verified PIN outlives the login (card_pcsc.h).  The caller supplies only
 * the PIN prompt; the session and its reset hook are this file's.
 */
#ifndef MFAUTH_CARD_SESSION_H
#define MFAUTH_CARD_SESSION_H

#include <stdint.h>

#include "mfauth/card_auth.h"
#include "mfauth/conf.h"

/*
 * ask_pin is mfa_card_hooks.ask_pin's contract, called with arg.  Returns
 * what mfa_card_login() returns, or mfa_pcsc_open()'s error when no
 * session could be opened (MFA_ERR_NOSERVICE, MFA_ERR_NOREADER,
 * MFA_ERR_NOCARD, ...); out is filled as mfa_card_login() fills it.
 */
int mfa_card_session_login(const struct mfa_config *cfg, const struct mfa_card_factor *f,
    int (*ask_pin)(void *arg, uint8_t profile, int tries_left, char **pin), void *arg, uint64_t now,
    struct mfa_card_outcome *out);

#endif
