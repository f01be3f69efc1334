/*
 * The real card transport: pcsc-lite (doc/DESIGN.md §5 "PC/SC" and
 * invariant 8; the measured facts behind it: doc/testing.md, "Cards").
 *
 * One struct mfa_pcsc is one session: a PC/SC context, one shared
 * connection to one card and one transaction held from open to close, so a
 * verified PIN stays valid for the signature and no other application can
 * slip APDUs in between.  mfa_pcsc_close() always resets the card once
 * (ending the transaction with SCARD_RESET_CARD, or, when there was none or
 * ending it failed, disconnecting with SCARD_RESET_CARD), disconnects and
 * releases the context, whatever happened before; no PIN state outlives the
 * session.
 *
 * No globals, no signals, no sleeping: waiting is SCardGetStatusChange with
 * a deadline.  Safe to use repeatedly from a long-lived process (one
 * session per thread at a time, as pcsc-lite contexts are per thread).
 * This header does not need pcsc-lite's headers.
 */
#ifndef MFAUTH_CARD_PCSC_H
#define MFAUTH_CARD_PCSC_H

#include "mfauth/card.h"

#define MFA_PCSC_WAIT_MAX 3600 /* seconds; longer waits are clamped */

struct mfa_pcsc;

/*
 * Open a session: establish a context (SCARD_SCOPE_SYSTEM), pick the first
 * reader whose name contains reader_substr (any reader when NULL or "")
 * that holds a card, waiting up to wait_seconds for one (0 = look once),
 * connect shared with T=1 or T=0 and begin a transaction.  On 0, *out owns
 * all of it; release it with mfa_pcsc_close().  Errors:
 * MFA_ERR_NOSERVICE (no pcscd), MFA_ERR_NOREADER (no matching reader),
 * MFA_ERR_NOCARD (no card in time, or it went away), MFA_ERR_NOMEM,
 * MFA_ERR_PCSC (anything else).  Nothing is left open on failure.
 */
int mfa_pcsc_open(struct mfa_pcsc **out, const char *reader_substr, unsigned wait_seconds);

/* Fill io with the session's transmit function (card.h contract). */
void mfa_pcsc_io(struct mfa_pcsc *p, struct mfa_card_io *io);

/* The name of the reader in use (owned by p, valid until close). */
const char *mfa_pcsc_reader(const struct mfa_pcsc *p);

/*
 * Reset the card inside the session (keeping the transaction), e.g. when a
 * tries query says another application left the PIN verified.  The card's
 * applications must be selected again afterwards (mfa_card_open).
 */
int mfa_pcsc_reset(struct mfa_pcsc *p);

/* End the session (see above) and free p.  NULL is a no-op. */
void mfa_pcsc_close(struct mfa_pcsc *p);

/*
 * Map a PC/SC return value to an MFA error: 0x8010001D/1E -> NOSERVICE;
 * 0x8010002E, 0x80100009, 0x80100017 -> NOREADER; 0x8010000C, 0x80100069,
 * 0x80100016, 0x80100067, 0x8010000A -> NOCARD (card gone / none in time);
 * 0x80100008, 0x80100066, 0x80100068 -> CARD; 0x80100006 -> NOMEM;
 * anything else non-zero -> PCSC.
 */
int mfa_pcsc_error(long rv);

#endif
