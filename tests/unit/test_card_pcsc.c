/*
 * Unit tests for lib/card_pcsc.c: the pcsc-lite error map, and sessions
 * over a fake pcsc-lite: the executable's SCard* functions take the place
 * of libpcsclite's (readers, cards, failures on demand), to check that
 * every path out of a session resets the card and releases what it took
 * (invariant 8).  With the fake off, they pass through to libpcsclite
 * (test_pcsc_no_service: the no_pcscd path).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <winscard.h>

#include "mfauth/card_apdu.h"
#include "mfauth/card_pcsc.h"
#include "mfauth/err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void test_pcsc_error_map(void **state)
{
	static const struct {
		long rv;
		int err;
		/* clang-format off */
	} cases[] = {
		{ 0, 0 },
		{ 0x8010001DL, MFA_ERR_NOSERVICE },
		{ 0x8010001EL, MFA_ERR_NOSERVICE },
		{ 0x8010002EL, MFA_ERR_NOREADER },
		{ 0x80100009L, MFA_ERR_NOREADER },
		{ 0x80100017L, MFA_ERR_NOREADER },
		{ 0x8010000CL, MFA_ERR_NOCARD },
		{ 0x80100069L, MFA_ERR_NOCARD },
		{ 0x80100016L, MFA_ERR_NOCARD },
		{ 0x8010000AL, MFA_ERR_NOCARD },
		{ 0x80100067L, MFA_ERR_NOCARD },
		{ 0x80100008L, MFA_ERR_CARD },
		{ 0x80100066L, MFA_ERR_CARD },
		{ 0x80100068L, MFA_ERR_CARD },
		{ 0x80100006L, MFA_ERR_NOMEM },
		{ 0x8010000BL, MFA_ERR_PCSC },  /* sharing violation */
		{ 0x80100001L, MFA_ERR_PCSC },
		{ 0x12345678L, MFA_ERR_PCSC },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(mfa_pcsc_error(cases[i].rv), cases[i].err);
}

/* --- a fake pcsc-lite ------------------------------------------------------ */

/*
 * The executable's SCard* definitions take the place of libpcsclite's for
 * lib/card_pcsc.c.  Each call appends a token to pc.log, so a test states the
 * whole conversation as one string.
 */
static struct {
	bool active; /* else forward to libpcsclite */
	LONG establish_rv, list_rv, connect_rv, begin_rv, transmit_rv, end_rv;
	bool begin_reset_once; /* first Begin says "reset by someone else" */
	struct {
		const char *name;
		bool card;
	} readers[4];
	size_t nreaders;
	int insert_on_wait;         /* reader whose card arrives during a wait, -1 none */
	DWORD wait_timeout;         /* the last blocking wait's timeout */
	int contexts, handles, txs; /* currently open */
	DWORD share, protos;
	char log[1024];
} pc;

static void pc_reset(void)
{
	memset(&pc, 0, sizeof(pc));
	pc.active = true;
	pc.insert_on_wait = -1;
}

static void pc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void pc_log(const char *fmt, ...)
{
	size_t n = strlen(pc.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pc.log + n, sizeof(pc.log) - n, fmt, ap);
	va_end(ap);
}

static const char *disp_name(DWORD d)
{
	return d == SCARD_RESET_CARD ? "reset" : d == SCARD_LEAVE_CARD ? "leave" : "other";
}

typedef LONG (*establish_fn)(DWORD, LPCVOID, LPCVOID, LPSCARDCONTEXT);

LONG SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx)
{
	if (!pc.active) {
		establish_fn real = (establish_fn)(uintptr_t)dlsym(RTLD_NEXT,
		    "SCardEstablishContext");
		assert_non_null(real);
		return real(scope, r1, r2, ctx);
	}
	pc_log("E%s ", scope == SCARD_SCOPE_SYSTEM ? "" : "(not system)");
	if (pc.establish_rv != SCARD_S_SUCCESS)
		return pc.establish_rv;
	pc.contexts++;
	*ctx = 0x1111;
	return SCARD_S_SUCCESS;
}

LONG SCardReleaseContext(SCARDCONTEXT ctx)
{
	assert_true(pc.active);
	assert_int_equal(ctx, 0x1111);
	pc_log("R");
	pc.contexts--;
	return SCARD_S_SUCCESS;
}

LONG SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR buf, LPDWORD len)
{
	char all[256];
	size_t n = 0;

	(void)ctx;
	(void)groups;
	if (pc.list_rv != SCARD_S_SUCCESS)
		return pc.list_rv;
	if (pc.nreaders == 0)
		return SCARD_E_NO_READERS_AVAILABLE;
	for (size_t i = 0; i < pc.nreaders; i++) {
		memcpy(all + n, pc.readers[i].name, strlen(pc.readers[i].name) + 1);
		n += strlen(pc.readers[i].name) + 1;
	}
	all[n++] = '\0';
	if (buf != NULL) {
		if (*len < n)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(buf, all, n);
	}
	*len = (DWORD)n;
	return SCARD_S_SUCCESS;
}

LONG SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *st, DWORD n)
{
	(void)ctx;
	if (timeout != 0) {
		pc_log("W ");
		pc.wait_timeout = timeout;
		if (pc.insert_on_wait < 0)
			return SCARD_E_TIMEOUT;
		pc.readers[pc.insert_on_wait].card = true;
		pc.insert_on_wait = -1;
	}
	for (DWORD i = 0; i < n; i++) {
		bool found = false;

		if (strcmp(st[i].szReader, "\\\\?PnP?\\Notification") == 0) {
			st[i].dwEventState = (DWORD)pc.nreaders << 16;
			continue;
		}
		for (size_t r = 0; r < pc.nreaders; r++) {
			if (strcmp(st[i].szReader, pc.readers[r].name) != 0)
				continue;
			found = true;
			st[i].dwEventState = SCARD_STATE_CHANGED |
			    (pc.readers[r].card ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY);
		}
		if (!found)
			return SCARD_E_UNKNOWN_READER;
	}
	return SCARD_S_SUCCESS;
}

LONG SCardConnect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD protos, LPSCARDHANDLE h,
    LPDWORD proto)
{
	(void)ctx;
	pc_log("C(%s) ", reader);
	pc.share = share;
	pc.protos = protos;
	if (pc.connect_rv != SCARD_S_SUCCESS)
		return pc.connect_rv;
	pc.handles++;
	*h = 0x2222;
	*proto = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

LONG SCardReconnect(SCARDHANDLE h, DWORD share, DWORD protos, DWORD init, LPDWORD proto)
{
	(void)share;
	(void)protos;
	assert_int_equal(h, 0x2222);
	pc_log("Re(%s) ", disp_name(init));
	*proto = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

LONG SCardBeginTransaction(SCARDHANDLE h)
{
	assert_int_equal(h, 0x2222);
	pc_log("B ");
	if (pc.begin_reset_once) {
		pc.begin_reset_once = false;
		return SCARD_W_RESET_CARD;
	}
	if (pc.begin_rv != SCARD_S_SUCCESS)
		return pc.begin_rv;
	pc.txs++;
	return SCARD_S_SUCCESS;
}

LONG SCardEndTransaction(SCARDHANDLE h, DWORD disp)
{
	assert_int_equal(h, 0x2222);
	pc_log("X(%s) ", disp_name(disp));
	pc.txs--;
	return pc.end_rv;
}

LONG SCardDisconnect(SCARDHANDLE h, DWORD disp)
{
	assert_int_equal(h, 0x2222);
	pc_log("D(%s) ", disp_name(disp));
	pc.handles--;
	return SCARD_S_SUCCESS;
}

LONG SCardTransmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE send, DWORD sendlen,
    SCARD_IO_REQUEST *rpci, LPBYTE recv, LPDWORD recvlen)
{
	(void)rpci;
	assert_int_equal(h, 0x2222);
	assert_true(sendlen >= 4);
	assert_int_equal(pci->dwProtocol, SCARD_PROTOCOL_T1);
	pc_log("T%02X ", send[1]);
	if (pc.transmit_rv != SCARD_S_SUCCESS)
		return pc.transmit_rv;
	if (*recvlen < 2)
		return SCARD_E_INSUFFICIENT_BUFFER;
	recv[0] = 0x90;
	recv[1] = 0x00;
	*recvlen = 2;
	return SCARD_S_SUCCESS;
}

static void pc_add_reader(const char *name, bool card)
{
	pc.readers[pc.nreaders].name = name;
	pc.readers[pc.nreaders].card = card;
	pc.nreaders++;
}

/* Nothing is left open, whatever happened. */
static void assert_pc_released(void)
{
	assert_int_equal(pc.contexts, 0);
	assert_int_equal(pc.handles, 0);
	assert_int_equal(pc.txs, 0);
}

static void test_pcsc_session(void **state)
{
	struct mfa_pcsc *p = NULL;
	struct mfa_card_io io;
	struct mfa_card card;
	(void)state;

	pc_reset();
	pc_add_reader("Virtual PCD 00 00", false);
	pc_add_reader("Sony FeliCa Port 00 00", true);
	assert_int_equal(mfa_pcsc_open(&p, "", 0), 0);
	assert_string_equal(mfa_pcsc_reader(p), "Sony FeliCa Port 00 00");
	assert_int_equal(pc.share, SCARD_SHARE_SHARED);
	assert_int_equal(pc.protos, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1);
	mfa_pcsc_io(p, &io);
	/* the card layer talks through it */
	assert_int_equal(mfa_card_open(&card, &io, MFA_CARD_JPKI), 0);
	assert_int_equal(mfa_pcsc_reset(p), 0);
	mfa_pcsc_close(p);
	/* one reset at the end: the Disconnect leaves the card as the End left it */
	assert_string_equal(pc.log,
	    "E C(Sony FeliCa Port 00 00) B TA4 Re(reset) X(reset) "
	    "D(leave) R");
	assert_pc_released();

	/* a reader-name substring picks among readers with cards */
	pc_reset();
	pc_add_reader("Virtual PCD 00 00", true);
	pc_add_reader("Virtual PCD 00 01", true);
	assert_int_equal(mfa_pcsc_open(&p, "00 01", 0), 0);
	assert_string_equal(mfa_pcsc_reader(p), "Virtual PCD 00 01");
	mfa_pcsc_close(p);
	assert_pc_released();
	/* many sessions in one process: nothing accumulates */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(mfa_pcsc_open(&p, NULL, 0), 0);
		mfa_pcsc_close(p);
	}
	assert_pc_released();
	pc.active = false;
}

static void test_pcsc_failures(void **state)
{
	static const struct {
		const char *setup; /* what goes wrong */
		int rc;
		const char *log; /* the whole conversation */
		                 /* clang-format off */
	} cases[] = {
		{ "no pcscd", MFA_ERR_NOSERVICE, "E " },
		{ "no readers", MFA_ERR_NOREADER, "E R" },
		{ "no matching reader", MFA_ERR_NOREADER, "E R" },
		{ "no card", MFA_ERR_NOCARD, "E R" },
		{ "card gone at connect", MFA_ERR_NOCARD, "E C(Reader A) R" },
		{ "begin fails", MFA_ERR_NOCARD, "E C(Reader A) B D(reset) R" },
		{ "reset by another", 0, "E C(Reader A) B Re(leave) B X(reset) D(leave) R" },
		{ "pcscd stopped", MFA_ERR_NOSERVICE, "E R" },
		/* the End's reset failed: the Disconnect resets instead */
		{ "end fails", 0, "E C(Reader A) B X(reset) D(reset) R" },
	};
	/* clang-format on */
	(void)state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct mfa_pcsc *p = (struct mfa_pcsc *)&cases;
		const char *substr = "";
		int rc;

		pc_reset();
		if (i != 1)
			pc_add_reader("Reader A", i != 3);
		if (i == 0)
			pc.establish_rv = SCARD_E_NO_SERVICE;
		if (i == 2)
			substr = "FeliCa";
		if (i == 4)
			pc.connect_rv = SCARD_E_NO_SMARTCARD;
		if (i == 5)
			pc.begin_rv = SCARD_E_NOT_TRANSACTED;
		if (i == 6)
			pc.begin_reset_once = true;
		if (i == 7)
			pc.list_rv = SCARD_E_SERVICE_STOPPED;
		if (i == 8)
			pc.end_rv = SCARD_W_REMOVED_CARD;
		rc = mfa_pcsc_open(&p, substr, 0);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, expected %d", cases[i].setup, rc, cases[i].rc);
		if (rc == 0)
			mfa_pcsc_close(p);
		else
			assert_null(p);
		if (strcmp(pc.log, cases[i].log) != 0)
			fail_msg("%s: '%s', expected '%s'", cases[i].setup, pc.log, cases[i].log);
		assert_pc_released();
	}
	pc.active = false;
}

static void test_pcsc_wait_and_transmit(void **state)
{
	struct mfa_pcsc *p = NULL;
	struct mfa_card_io io;
	uint8_t resp[MFA_RESP_MAX];
	size_t rlen = sizeof(resp);
	static const uint8_t query[] = { 0x00, 0x20, 0x00, 0x80 };
	(void)state;

	/* the card arrives while we wait: one blocking wait, within card_wait */
	pc_reset();
	pc_add_reader("Reader A", false);
	pc.insert_on_wait = 0;
	assert_int_equal(mfa_pcsc_open(&p, "", 5), 0);
	assert_true(pc.wait_timeout > 0 && pc.wait_timeout <= 5000);
	assert_string_equal(pc.log, "E W C(Reader A) B ");
	/* a card pulled mid-session reads as "card gone" (doc/testing.md, the rig's error codes) */
	mfa_pcsc_io(p, &io);
	pc.transmit_rv = SCARD_E_NOT_TRANSACTED;
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), MFA_ERR_NOCARD);
	pc.transmit_rv = SCARD_W_REMOVED_CARD;
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), MFA_ERR_NOCARD);
	pc.transmit_rv = SCARD_S_SUCCESS;
	rlen = 1;
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), MFA_ERR_INVAL);
	rlen = sizeof(resp);
	assert_int_equal(io.transmit(io.ctx, query, 3, resp, &rlen), MFA_ERR_INVAL);
	assert_int_equal(io.transmit(io.ctx, query, sizeof(query), resp, &rlen), 0);
	assert_int_equal(rlen, 2);
	mfa_pcsc_close(p);
	assert_pc_released();

	/* nothing arrives: NOCARD after the wait, everything released */
	pc_reset();
	pc_add_reader("Reader A", false);
	p = NULL;
	assert_int_equal(mfa_pcsc_open(&p, "", 2), MFA_ERR_NOCARD);
	assert_null(p);
	assert_true(pc.wait_timeout > 0 && pc.wait_timeout <= 2000);
	assert_string_equal(pc.log, "E W R");
	assert_pc_released();
	/* card_wait = 0 looks once and never blocks */
	pc_reset();
	pc_add_reader("Reader A", false);
	assert_int_equal(mfa_pcsc_open(&p, "", 0), MFA_ERR_NOCARD);
	assert_string_equal(pc.log, "E R");
	pc.active = false;
}

static void test_pcsc_no_service(void **state)
{
	struct mfa_pcsc *p = (struct mfa_pcsc *)&p;
	(void)state;

	/* The real libpcsclite, at a socket nobody listens on: "no service". */
	pc.active = false;
	assert_int_equal(setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/mfauth-test/pcscd.comm", 1),
	    0);
	for (int i = 0; i < 3; i++) { /* repeatable: nothing leaks between calls */
		assert_int_equal(mfa_pcsc_open(&p, "", 0), MFA_ERR_NOSERVICE);
		assert_null(p);
	}
	assert_int_equal(mfa_pcsc_open(NULL, "", 0), MFA_ERR_INVAL);
	mfa_pcsc_close(NULL);
	assert_string_equal(mfa_pcsc_reader(NULL), "");
	assert_int_equal(mfa_pcsc_reset(NULL), MFA_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcsc_error_map),
		cmocka_unit_test(test_pcsc_session),
		cmocka_unit_test(test_pcsc_failures),
		cmocka_unit_test(test_pcsc_wait_and_transmit),
		cmocka_unit_test(test_pcsc_no_service),
	};

	return cmocka_run_group_tests_name("card_pcsc", tests, NULL, NULL);
}
