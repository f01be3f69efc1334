/*
 * A private /dev/log for tests: capture exactly what the code under test sends
 * to syslog, with no syslog daemon and without touching the host's /dev.
 *
 * How: sink_enter_namespace() moves the calling process into a mount
 * namespace of its own and lays an overlay over /dev there.  Every device
 * node and submount (/dev/null, /dev/pts, /dev/shm, ...) stays as it was, but
 * /dev/log becomes a name in a writable tmpfs layer that only this process
 * and its children see, and that disappears with them.  sink_open() then
 * binds a socket at /dev/log, writable by everyone as a syslog daemon's is.
 *
 * Why an overlay and not something simpler:
 *  - /dev is usually devtmpfs, one instance for the whole kernel: creating
 *    /dev/log there, even from a private mount namespace, creates it on the
 *    host (and would steal or break a real syslog daemon's socket).
 *  - bind-mounting a socket over /dev/log needs /dev/log to exist, and on a
 *    container without a syslog daemon (a fresh Debian 12 one, this build
 *    machine) it does not.
 *  - a tmpfs over /dev hides /dev/null, /dev/urandom and /dev/pts.
 * The overlay handles /dev/log being absent, a socket, or a symlink (such as
 * systemd's to /run/systemd/journal/dev-log) the same way.
 *
 * Needs: root with CAP_SYS_ADMIN in the initial user namespace (a privileged
 * container is fine; Docker's default profile is not) and overlayfs in the
 * kernel.  A failure is reported, never turned into a skip.
 *
 * Limits: a datagram receiver queues at most net.unix.max_dgram_qlen
 * (default 10) unread lines; after that senders get EAGAIN and mfa_syslog()
 * drops the line by design.  Read (or sink_drain()) between calls that log.
 *
 * Everything here returns -1 on failure with a reason in sink_error().
 */
#ifndef MFAUTH_TESTS_SYSLOG_SINK_H
#define MFAUTH_TESTS_SYSLOG_SINK_H

#include <stddef.h>
#include <sys/types.h>

#define SINK_PATH "/dev/log"

/*
 * Enter the private namespace.  Call once at the start of main(), before any
 * thread exists (unshare() moves only the calling thread).  Calling it again
 * is a no-op returning 0.  Afterwards /dev/log does not exist.
 */
int sink_enter_namespace(void);

/*
 * Replace whatever is at /dev/log with a bound datagram socket (the kind
 * journald and rsyslog offer).  Returns the fd; close it with sink_close().
 */
int sink_open(void);

/*
 * The same with a listening stream socket (the kind syslog-ng can offer),
 * with the given listen() backlog.  Returns the listening fd.
 */
int sink_open_stream(int backlog);

/*
 * Wait up to timeout_ms for one message and copy it into buf as a string.
 * For a datagram fd that is one datagram; for a listening stream fd, one
 * connection is accepted and read to its end.  Returns the message length,
 * 0 when nothing came in time, -1 on error or when the message does not fit
 * in len - 1 bytes.  Empty datagrams are skipped.
 */
ssize_t sink_recv(int fd, char *buf, size_t len, int timeout_ms);

/* Discard every datagram already queued; returns how many. */
int sink_drain(int fd);

/* Close fd (if >= 0) and remove /dev/log, so nothing listens there. */
int sink_close(int fd);

/* Why the last call failed; never NULL. */
const char *sink_error(void);

#endif
