/*
 * pcsc-lite transport (card_pcsc.h).  A struct mfa_pcsc owns a context, at most
 * one card handle and at most one transaction; the have_* flags say which,
 * and mfa_pcsc_close() undoes exactly those, in reverse order, on every
 * path.  The reader list is heap memory freed before each function returns.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card.h"
#include "mfauth/err.h"
#include "mfauth/card_pcsc.h"

#define PCSC_READERS_MAX 16  /* matching readers watched at once */
#define PCSC_LIST_MAX 65536  /* bytes of reader names we accept */
#define PCSC_WAIT_ROUNDS 256 /* wake-ups per open: a flapping pcscd cannot spin us */
#define PCSC_PROTOCOLS (SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0)
#define PCSC_PNP "\\\\?PnP?\\Notification"

struct mfa_pcsc {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	bool have_ctx;
	bool have_card;
	bool in_tx;
	char reader[MAX_READERNAME + 1];
};

int mfa_pcsc_error(long rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return 0;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return MFA_ERR_NOSERVICE;
	case SCARD_E_NO_READERS_AVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
		return MFA_ERR_NOREADER;
	/* A pulled card shows as 16, then 69, then 0C (doc/DESIGN.md §5, PC/SC). */
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NOT_TRANSACTED:
	case SCARD_W_UNPOWERED_CARD:
	case SCARD_E_TIMEOUT:
		return MFA_ERR_NOCARD;
	case SCARD_E_INSUFFICIENT_BUFFER: /* a response longer than any APDU allows */
	case SCARD_W_UNRESPONSIVE_CARD:
	case SCARD_W_RESET_CARD: /* someone else reset it: our state is gone */
		return MFA_ERR_CARD;
	case SCARD_E_NO_MEMORY:
		return MFA_ERR_NOMEM;
	default:
		return MFA_ERR_PCSC;
	}
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC), 0 when past. */
static DWORD ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (DWORD)ms : 0;
}

/*
 * The reader names as a multi-string (malloc'd, double-NUL terminated), or
 * NULL with 0 when there is no reader at all.
 */
static int list_readers(SCARDCONTEXT ctx, char **list)
{
	DWORD n = 0;
	LONG rv;

	*list = NULL;
	/* Readers may come and go between the two calls: try a few times. */
	for (int attempt = 0; attempt < 4; attempt++) {
		rv = SCardListReaders(ctx, NULL, NULL, &n);
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			return 0;
		if (rv != SCARD_S_SUCCESS)
			return mfa_pcsc_error(rv);
		if (n < 2 || n > PCSC_LIST_MAX)
			return MFA_ERR_PCSC;
		if ((*list = calloc(1, (size_t)n + 2)) == NULL)
			return MFA_ERR_NOMEM;
		rv = SCardListReaders(ctx, NULL, *list, &n);
		if (rv == SCARD_S_SUCCESS)
			return 0; /* calloc's extra NULs terminate it whatever n says */
		free(*list);
		*list = NULL;
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			return 0;
		if (rv != SCARD_E_INSUFFICIENT_BUFFER)
			return mfa_pcsc_error(rv);
	}
	return MFA_ERR_PCSC;
}

/* Fill states with the readers matching substr, then the PnP pseudo-reader. */
static DWORD watch_list(const char *list, const char *substr, SCARD_READERSTATE *states,
    DWORD *nmatch)
{
	DWORD n = 0;

	memset(states, 0, sizeof(*states) * (PCSC_READERS_MAX + 1));
	for (const char *r = list; r != NULL && *r != '\0' && n < PCSC_READERS_MAX;
	     r += strlen(r) + 1) {
		if (substr == NULL || *substr == '\0' || strstr(r, substr) != NULL)
			states[n++].szReader = r;
	}
	*nmatch = n;
	states[n].szReader = PCSC_PNP;
	states[n].dwCurrentState = SCARD_STATE_UNAWARE;
	return n + 1;
}

/* The first watched reader holding a responsive card, copied into p->reader. */
static bool pick_reader(struct mfa_pcsc *p, const SCARD_READERSTATE *states, DWORD nmatch)
{
	for (DWORD i = 0; i < nmatch; i++) {
		DWORD st = states[i].dwEventState;

		if ((st & SCARD_STATE_PRESENT) && !(st & SCARD_STATE_MUTE) &&
		    strlen(states[i].szReader) < sizeof(p->reader)) {
			memcpy(p->reader, states[i].szReader, strlen(states[i].szReader) + 1);
			return true;
		}
	}
	return false;
}

/*
 * One round: list, look, and if nothing is there wait for any change until
 * the deadline.  1 = found (p->reader set), 0 = something changed (look
 * again), or a negative error, including the timeout's NOREADER/NOCARD.
 */
static int wait_round(struct mfa_pcsc *p, const char *substr, const struct timespec *deadline)
{
	SCARD_READERSTATE states[PCSC_READERS_MAX + 1];
	char *list = NULL;
	DWORD nmatch, nstates;
	LONG rv;
	int rc;

	if ((rc = list_readers(p->ctx, &list)) != 0)
		goto out;
	nstates = watch_list(list, substr, states, &nmatch);
	/* Timeout 0 with every state UNAWARE: just report the present states. */
	rv = SCardGetStatusChange(p->ctx, 0, states, nstates);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		rc = rv == SCARD_E_UNKNOWN_READER ? 0 : mfa_pcsc_error(rv);
		goto out;
	}
	rc = 1;
	if (pick_reader(p, states, nmatch))
		goto out;
	for (DWORD i = 0; i < nstates; i++)
		states[i].dwCurrentState = states[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	rc = nmatch == 0 ? MFA_ERR_NOREADER : MFA_ERR_NOCARD;
	if (ms_left(deadline) == 0)
		goto out;
	rv = SCardGetStatusChange(p->ctx, ms_left(deadline), states, nstates);
	if (rv == SCARD_S_SUCCESS || rv == SCARD_E_UNKNOWN_READER)
		rc = 0;
	else if (rv != SCARD_E_TIMEOUT)
		rc = mfa_pcsc_error(rv);
out:
	free(list);
	return rc;
}

static int find_reader(struct mfa_pcsc *p, const char *substr, unsigned wait_seconds)
{
	struct timespec deadline;
	int rc = MFA_ERR_NOCARD;

	if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
		return MFA_ERR_PCSC;
	deadline.tv_sec += wait_seconds > MFA_PCSC_WAIT_MAX ? MFA_PCSC_WAIT_MAX : wait_seconds;
	for (int round = 0; round < PCSC_WAIT_ROUNDS; round++) {
		rc = wait_round(p, substr, &deadline);
		if (rc != 0)
			return rc > 0 ? 0 : rc;
		rc = MFA_ERR_NOCARD;
	}
	return rc;
}

/* Connect and take the transaction; a card reset by someone else is reconnected once. */
static int connect_card(struct mfa_pcsc *p)
{
	LONG rv;

	rv = SCardConnect(p->ctx, p->reader, SCARD_SHARE_SHARED, PCSC_PROTOCOLS, &p->card,
	    &p->proto);
	if (rv != SCARD_S_SUCCESS)
		return mfa_pcsc_error(rv);
	p->have_card = true;
	rv = SCardBeginTransaction(p->card);
	if (rv == SCARD_W_RESET_CARD) {
		rv = SCardReconnect(p->card, SCARD_SHARE_SHARED, PCSC_PROTOCOLS, SCARD_LEAVE_CARD,
		    &p->proto);
		if (rv == SCARD_S_SUCCESS)
			rv = SCardBeginTransaction(p->card);
	}
	if (rv != SCARD_S_SUCCESS)
		return mfa_pcsc_error(rv);
	p->in_tx = true;
	return 0;
}

int mfa_pcsc_open(struct mfa_pcsc **out, const char *reader_substr, unsigned wait_seconds)
{
	struct mfa_pcsc *p = NULL;
	LONG rv;
	int rc = MFA_ERR_NOMEM;

	if (out == NULL)
		return MFA_ERR_INVAL;
	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (rv != SCARD_S_SUCCESS) {
		rc = mfa_pcsc_error(rv);
		goto out;
	}
	p->have_ctx = true;
	if ((rc = find_reader(p, reader_substr, wait_seconds)) != 0 || (rc = connect_card(p)) != 0)
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	mfa_pcsc_close(p);
	return rc;
}

static int pcsc_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *resplen)
{
	struct mfa_pcsc *p = ctx;
	const SCARD_IO_REQUEST *pci;
	DWORD rlen;
	LONG rv;

	if (p == NULL || !p->have_card || apdu == NULL || resp == NULL || resplen == NULL ||
	    len < 4 || len > MFA_APDU_MAX || *resplen < 2 || *resplen > MAX_BUFFER_SIZE_EXTENDED)
		return MFA_ERR_INVAL;
	rlen = (DWORD)*resplen;
	pci = p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	rv = SCardTransmit(p->card, pci, apdu, (DWORD)len, NULL, resp, &rlen);
	if (rv != SCARD_S_SUCCESS)
		return mfa_pcsc_error(rv);
	if (rlen > *resplen)
		return MFA_ERR_CARD;
	*resplen = rlen;
	return 0;
}

void mfa_pcsc_io(struct mfa_pcsc *p, struct mfa_card_io *io)
{
	io->transmit = pcsc_transmit;
	io->ctx = p;
}

const char *mfa_pcsc_reader(const struct mfa_pcsc *p)
{
	return p != NULL ? p->reader : "";
}

int mfa_pcsc_reset(struct mfa_pcsc *p)
{
	LONG rv;

	if (p == NULL || !p->have_card)
		return MFA_ERR_INVAL;
	rv = SCardReconnect(p->card, SCARD_SHARE_SHARED, PCSC_PROTOCOLS, SCARD_RESET_CARD,
	    &p->proto);
	return mfa_pcsc_error(rv);
}

void mfa_pcsc_close(struct mfa_pcsc *p)
{
	DWORD disposition = SCARD_RESET_CARD;

	if (p == NULL)
		return;
	/*
	 * Reset before giving up the transaction: between an End with
	 * LEAVE and the Disconnect, another application waiting for the card
	 * would find our PIN still verified.  That reset is the session's one
	 * (invariant 8): the Disconnect then leaves the card as it is, and a
	 * second warm reset would only cost time.
	 */
	if (p->in_tx && SCardEndTransaction(p->card, SCARD_RESET_CARD) == SCARD_S_SUCCESS)
		disposition = SCARD_LEAVE_CARD;
	/* The reset on paths that never got the transaction, or whose End failed. */
	if (p->have_card)
		(void)SCardDisconnect(p->card, disposition);
	if (p->have_ctx)
		(void)SCardReleaseContext(p->ctx);
	free(p);
}
