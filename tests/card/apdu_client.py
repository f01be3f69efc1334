#!/usr/bin/python3
"""A minimal PC/SC client on libpcsclite.so.1 via ctypes (no pyscard), for the rig's own tests.

Library:  ctx = Context(); card = ctx.connect(reader); data, sw = card.transmit(bytes)
CLI:      apdu_client.py [-r READER] [--leave|--reset|--unpower] [--repeat N] APDU_HEX...
	sends each APDU in one transaction and prints "DATA_HEX SW" per APDU; --repeat N
	sends the first APDU N more times and prints the mean round trip in microseconds.
The reader defaults to $MFAUTH_RIG_READER0; the pcscd socket is taken from PCSCLITE_CSOCK_NAME
by libpcsclite itself (source the rig's DIR/env first).
"""

import argparse
import ctypes
import os
import sys
import time

DWORD = ctypes.c_ulong        # pcsc-lite on Linux: DWORD is unsigned long, LONG is long
LONG = ctypes.c_long

SCARD_SCOPE_SYSTEM = 2
SCARD_SHARE_SHARED = 2
SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1 = 1, 2
SCARD_LEAVE_CARD, SCARD_RESET_CARD, SCARD_UNPOWER_CARD = 0, 1, 2
SCARD_STATE_UNAWARE, SCARD_STATE_CHANGED = 0, 2
SCARD_STATE_UNKNOWN, SCARD_STATE_EMPTY, SCARD_STATE_PRESENT = 0x4, 0x10, 0x20
SCARD_STATE_MUTE = 0x200
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_W_REMOVED_CARD = 0x80100069
CARD_GONE = (SCARD_E_NOT_TRANSACTED, SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD)


class ReaderState(ctypes.Structure):
	_fields_ = [("szReader", ctypes.c_char_p), ("pvUserData", ctypes.c_void_p),
		("dwCurrentState", DWORD), ("dwEventState", DWORD),
		("cbAtr", DWORD), ("rgbAtr", ctypes.c_ubyte * 33)]


class IoRequest(ctypes.Structure):
	_fields_ = [("dwProtocol", ctypes.c_ulong), ("cbPciLength", ctypes.c_ulong)]


_lib = ctypes.CDLL("libpcsclite.so.1")
_lib.pcsc_stringify_error.restype = ctypes.c_char_p
_lib.pcsc_stringify_error.argtypes = [LONG]
for _name, _args in {
		"SCardEstablishContext": [DWORD, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(LONG)],
		"SCardReleaseContext": [LONG],
		"SCardListReaders": [LONG, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(DWORD)],
		"SCardGetStatusChange": [LONG, DWORD, ctypes.POINTER(ReaderState), DWORD],
		"SCardConnect": [LONG, ctypes.c_char_p, DWORD, DWORD, ctypes.POINTER(LONG),
		ctypes.POINTER(DWORD)],
		"SCardReconnect": [LONG, DWORD, DWORD, DWORD, ctypes.POINTER(DWORD)],
		"SCardDisconnect": [LONG, DWORD],
		"SCardBeginTransaction": [LONG],
		"SCardEndTransaction": [LONG, DWORD],
		"SCardTransmit": [LONG, ctypes.POINTER(IoRequest), ctypes.c_char_p, DWORD,
		ctypes.POINTER(IoRequest), ctypes.c_char_p, ctypes.POINTER(DWORD)],
		}.items():
	getattr(_lib, _name).argtypes = _args
	getattr(_lib, _name).restype = LONG
_PCI = {SCARD_PROTOCOL_T0: IoRequest.in_dll(_lib, "g_rgSCardT0Pci"),
	SCARD_PROTOCOL_T1: IoRequest.in_dll(_lib, "g_rgSCardT1Pci")}


class PcscError(Exception):
	"""A PC/SC call failed; rv is the unsigned 32-bit SCARD_* code."""

	def __init__(self, func, rv):
		self.func, self.rv = func, rv & 0xFFFFFFFF
		super().__init__("%s: %s (0x%08X)" % (func, _lib.pcsc_stringify_error(rv).decode(),
			self.rv))


def _check(func, rv):
	if rv != 0:
		raise PcscError(func, rv)


class Card:
	"""A connected card handle."""

	def __init__(self, handle, protocol):
		self.handle, self.protocol = handle, protocol

	def transmit(self, apdu):
		"""Send one APDU; return (response data, SW as int). Raises PcscError."""
		buf = ctypes.create_string_buffer(65538)
		n = DWORD(len(buf))
		_check("SCardTransmit", _lib.SCardTransmit(self.handle, ctypes.byref(_PCI[self.protocol]),
			bytes(apdu), len(apdu), None, buf,
			ctypes.byref(n)))
		raw = buf.raw[:n.value]
		if len(raw) < 2:
			raise ValueError("response shorter than a status word: %s" % raw.hex())
		return raw[:-2], (raw[-2] << 8) | raw[-1]

	def begin(self):
		_check("SCardBeginTransaction", _lib.SCardBeginTransaction(self.handle))

	def end(self, disposition=SCARD_LEAVE_CARD):
		_check("SCardEndTransaction", _lib.SCardEndTransaction(self.handle, disposition))

	def disconnect(self, disposition=SCARD_RESET_CARD):
		if self.handle is not None:
			rv = _lib.SCardDisconnect(self.handle, disposition)
			self.handle = None
			_check("SCardDisconnect", rv)


class Context:
	"""An SCardEstablishContext context."""

	def __init__(self):
		ctx = LONG()
		_check("SCardEstablishContext",
			_lib.SCardEstablishContext(SCARD_SCOPE_SYSTEM, None, None, ctypes.byref(ctx)))
		self.ctx = ctx.value

	def release(self):
		if self.ctx is not None:
			_lib.SCardReleaseContext(self.ctx)
			self.ctx = None

	def readers(self):
		n = DWORD(0)
		rv = _lib.SCardListReaders(self.ctx, None, None, ctypes.byref(n))
		if rv & 0xFFFFFFFF == 0x8010002E:          # SCARD_E_NO_READERS_AVAILABLE
			return []
		_check("SCardListReaders", rv)
		buf = ctypes.create_string_buffer(n.value)
		_check("SCardListReaders", _lib.SCardListReaders(self.ctx, None, buf, ctypes.byref(n)))
		return [r.decode() for r in buf.raw[:n.value].split(b"\0") if r]

	def wait(self, reader, present, timeout_ms):
		"""Block (SCardGetStatusChange) until a card is present/absent; return elapsed seconds."""
		t0 = time.monotonic()
		rs = ReaderState(szReader=reader.encode(), dwCurrentState=SCARD_STATE_UNAWARE)
		while True:
			left = max(0, int(timeout_ms - (time.monotonic() - t0) * 1000))
			rv = _lib.SCardGetStatusChange(self.ctx, left, ctypes.byref(rs), 1) & 0xFFFFFFFF
			if rv == SCARD_E_TIMEOUT:
				raise TimeoutError("%s: card still %s" % (reader, "absent" if present else "present"))
			_check("SCardGetStatusChange", rv)
			st = rs.dwEventState
			if st & SCARD_STATE_UNKNOWN:
				raise PcscError("SCardGetStatusChange(unknown reader)", 0x80100009)
			if present and st & SCARD_STATE_PRESENT and not st & SCARD_STATE_MUTE:
				return time.monotonic() - t0
			if not present and st & SCARD_STATE_EMPTY:
				return time.monotonic() - t0
			rs.dwCurrentState = st & ~SCARD_STATE_CHANGED

	def connect(self, reader, protocols=SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1):
		handle, proto = LONG(), DWORD()
		_check("SCardConnect", _lib.SCardConnect(self.ctx, reader.encode(), SCARD_SHARE_SHARED,
			protocols, ctypes.byref(handle),
			ctypes.byref(proto)))
		return Card(handle.value, proto.value)


def main(argv):
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("-r", "--reader", default=os.environ.get("MFAUTH_RIG_READER0"))
	disp = ap.add_mutually_exclusive_group()
	disp.add_argument("--leave", dest="disp", action="store_const", const=SCARD_LEAVE_CARD)
	disp.add_argument("--unpower", dest="disp", action="store_const", const=SCARD_UNPOWER_CARD)
	disp.add_argument("--reset", dest="disp", action="store_const", const=SCARD_RESET_CARD)
	ap.add_argument("--repeat", type=int, default=0)
	ap.add_argument("apdus", nargs="+")
	args = ap.parse_args(argv)
	if not args.reader:
		ap.error("no reader (-r or MFAUTH_RIG_READER0)")
	ctx = Context()
	card = ctx.connect(args.reader)
	try:
		card.begin()
		for hexapdu in args.apdus:
			data, sw = card.transmit(bytes.fromhex(hexapdu))
			print("%s %04X" % (data.hex().upper(), sw))
		if args.repeat:
			first = bytes.fromhex(args.apdus[0])
			t0 = time.perf_counter()
			for _ in range(args.repeat):
				card.transmit(first)
			print("rtt_us %.1f" % ((time.perf_counter() - t0) / args.repeat * 1e6))
		card.end()
	finally:
		card.disconnect(SCARD_RESET_CARD if args.disp is None else args.disp)
		ctx.release()
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main(sys.argv[1:]))
	except PcscError as e:
		print("apdu_client: %s" % e, file=sys.stderr)
		sys.exit(1)
