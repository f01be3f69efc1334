/*
 * wait_card: the event waits and the process keeper of the PC/SC test rig (tests/card/rig.sh).
 *
 *   wait_card ready   [-t MS] [-p PID] PREFIX
 *       Wait until pcscd answers, then print the readers whose names start with PREFIX, one per
 *       line (none: exit 4). -p: give up as soon as PID (pcscd or its keeper) exits.
 *   wait_card present [-t MS] [-p PID] READER
 *   wait_card absent  [-t MS] [-p PID] READER
 *       Wait with SCardGetStatusChange until a responsive card is in / no card is in READER.
 *       -p: give up as soon as PID (the virtual card process) exits.
 *   wait_card gone    [-t MS] PID...
 *       Wait until every PID has exited (they need not be our children).
 *   wait_card keep    [-o OWNER] [-f PIDFILE] -- CMD [ARG...]
 *       Run CMD as a child that gets SIGTERM when we die (PR_SET_PDEATHSIG, what
 *       `setpriv --pdeathsig TERM` does, but without the fork-to-prctl race), write its PID to
 *       PIDFILE, and stop it (TERM, KILL after 3 s) when OWNER exits or we get TERM/INT/HUP.
 *       Exits with the child's status (128+signal if it was killed).
 *
 * Exit status: 0 done, 1 timeout, 2 usage or PC/SC error, 3 the -p/-o process is gone,
 * 4 (ready) pcscd is up but no reader matches (vpcd could not bind its port).
 * Waits are events (SCardGetStatusChange, pidfd poll, signalfd); the only polling is the 2 ms
 * retry of SCardEstablishContext while pcscd has not yet created its socket.
 *
 * Build: cc -O2 -Wall -Wextra -o wait_card wait_card.c $(pkg-config --cflags --libs libpcsclite)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <winscard.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

enum { EXIT_TIMEOUT = 1, EXIT_USAGE = 2, EXIT_GONE = 3, EXIT_NOREADER = 4 };

static const char *prog = "wait_card";

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse a decimal number in [lo, hi]; -1 on any junk. */
static long long parse_num(const char *s, long long lo, long long hi)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

/* A pollable handle on a process that may not be our child; -1 if it does not exist. */
static int pid_handle(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* 1 if the process behind the pidfd has exited (a zombie counts), else 0. */
static int pid_exited(int pidfd, int wait_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0) {
		if (wait_ms > 0)
			poll(NULL, 0, wait_ms);
		return 0;
	}
	return poll(&p, 1, wait_ms) > 0;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: %s ready   [-t MS] [-p PID] READER_PREFIX\n"
	    "       %s present [-t MS] [-p PID] READER\n"
	    "       %s absent  [-t MS] [-p PID] READER\n"
	    "       %s gone    [-t MS] PID...\n"
	    "       %s keep    [-o OWNER_PID] [-f PIDFILE] -- CMD [ARG...]\n",
	    prog, prog, prog, prog, prog);
}

struct opts {
	long long timeout_ms;
	pid_t pid;           /* -p: watched process, 0 = none */
	pid_t owner;         /* -o */
	const char *pidfile; /* -f */
};

/* Parse -t/-p/-o/-f; returns the index of the first operand or -1. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	o->timeout_ms = 10000;
	o->pid = 0;
	o->owner = 0;
	o->pidfile = NULL;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		long long v;

		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] != '-' || a[1] == '\0')
			return i;
		if (i + 1 >= argc)
			return -1;
		if (strcmp(a, "-t") == 0) {
			if ((o->timeout_ms = parse_num(argv[++i], 0, 3600000)) < 0)
				return -1;
		} else if (strcmp(a, "-p") == 0 || strcmp(a, "-o") == 0) {
			if ((v = parse_num(argv[++i], 1, 0x7fffffff)) < 0)
				return -1;
			if (a[1] == 'p')
				o->pid = (pid_t)v;
			else
				o->owner = (pid_t)v;
		} else if (strcmp(a, "-f") == 0) {
			o->pidfile = argv[++i];
		} else {
			return -1;
		}
	}
	return i;
}

static int remaining(long long deadline)
{
	long long r = deadline - now_ms();

	return r < 0 ? 0 : (int)r;
}

/* ready: connect to pcscd (retrying while its socket is absent) and list matching readers. */
static int cmd_ready(const struct opts *o, const char *prefix)
{
	long long deadline = now_ms() + o->timeout_ms;
	int pidfd = o->pid ? pid_handle(o->pid) : -1;
	SCARDCONTEXT ctx = 0;
	int ret = EXIT_TIMEOUT;
	LONG rv;

	if (o->pid && pidfd < 0) {
		fprintf(stderr, "%s: process %d is gone\n", prog, (int)o->pid);
		return EXIT_GONE;
	}
	for (;;) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv == SCARD_S_SUCCESS)
			break;
		if (rv != SCARD_E_NO_SERVICE) {
			fprintf(stderr, "%s: SCardEstablishContext: %s (0x%08lX)\n", prog,
			    pcsc_stringify_error(rv), (unsigned long)rv);
			ret = EXIT_USAGE;
			goto out;
		}
		if (pid_exited(pidfd, 2)) {
			fprintf(stderr, "%s: pcscd (pid %d) exited\n", prog, (int)o->pid);
			ret = EXIT_GONE;
			goto out;
		}
		if (remaining(deadline) == 0) {
			fprintf(stderr, "%s: pcscd did not answer in %lld ms\n", prog,
			    o->timeout_ms);
			goto out;
		}
	}
	/*
	 * pcscd creates its socket only after starting the readers of reader.conf, so the first
	 * listing is final: a missing reader means its driver failed (vpcd port taken).
	 */
	{
		char buf[4096];
		DWORD len = sizeof(buf);

		rv = SCardListReaders(ctx, NULL, buf, &len);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_NO_READERS_AVAILABLE) {
			fprintf(stderr, "%s: SCardListReaders: %s\n", prog,
			    pcsc_stringify_error(rv));
			ret = EXIT_USAGE;
			goto out;
		}
		ret = EXIT_NOREADER;
		for (const char *r = buf; rv == SCARD_S_SUCCESS && r < buf + len && *r != '\0';
		     r += strlen(r) + 1) {
			if (strncmp(r, prefix, strlen(prefix)) == 0) {
				printf("%s\n", r);
				ret = 0;
			}
		}
		if (ret == EXIT_NOREADER)
			fprintf(stderr, "%s: pcscd is up but has no reader named %s*\n", prog,
			    prefix);
	}
out:
	if (ctx != 0)
		SCardReleaseContext(ctx);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

/* present/absent: follow READER's state with SCardGetStatusChange until it is what we want. */
static int cmd_card(const struct opts *o, const char *reader, int want_present)
{
	long long deadline = now_ms() + o->timeout_ms;
	int pidfd = o->pid ? pid_handle(o->pid) : -1;
	SCARDCONTEXT ctx = 0;
	SCARD_READERSTATE rs = { .szReader = reader, .dwCurrentState = SCARD_STATE_UNAWARE };
	int ret = EXIT_USAGE;
	LONG rv;

	if (o->pid && pidfd < 0) {
		fprintf(stderr, "%s: process %d is gone\n", prog, (int)o->pid);
		return EXIT_GONE;
	}
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "%s: SCardEstablishContext: %s (0x%08lX)\n", prog,
		    pcsc_stringify_error(rv), (unsigned long)rv);
		ctx = 0;
		goto out;
	}
	for (;;) {
		/* with a watched process, wake up every 50 ms to notice that it died */
		int slice = remaining(deadline);

		if (pidfd >= 0 && slice > 50)
			slice = 50;
		rv = SCardGetStatusChange(ctx, (DWORD)slice, &rs, 1);
		if (rv == SCARD_S_SUCCESS) {
			DWORD st = rs.dwEventState;

			if (st & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE)) {
				fprintf(stderr, "%s: no reader named \"%s\"\n", prog, reader);
				goto out;
			}
			if (want_present && (st & SCARD_STATE_PRESENT) &&
			    !(st & SCARD_STATE_MUTE)) {
				ret = 0;
				goto out;
			}
			if (!want_present && (st & SCARD_STATE_EMPTY)) {
				ret = 0;
				goto out;
			}
			rs.dwCurrentState = st & ~(DWORD)SCARD_STATE_CHANGED;
		} else if (rv != SCARD_E_TIMEOUT) {
			fprintf(stderr, "%s: SCardGetStatusChange: %s (0x%08lX)\n", prog,
			    pcsc_stringify_error(rv), (unsigned long)rv);
			goto out;
		}
		if (want_present && pid_exited(pidfd, 0)) {
			fprintf(stderr, "%s: card process %d exited\n", prog, (int)o->pid);
			ret = EXIT_GONE;
			goto out;
		}
		if (remaining(deadline) == 0) {
			fprintf(stderr, "%s: reader \"%s\" still %s after %lld ms\n", prog, reader,
			    want_present ? "empty" : "holds a card", o->timeout_ms);
			ret = EXIT_TIMEOUT;
			goto out;
		}
	}
out:
	if (ctx != 0)
		SCardReleaseContext(ctx);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

/* gone: wait until every listed PID has exited. */
static int cmd_gone(const struct opts *o, int n, char **pids)
{
	long long deadline = now_ms() + o->timeout_ms;
	struct pollfd p[64];
	int count = 0, left, ret = EXIT_TIMEOUT;

	if (n > 64) {
		usage();
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		long long v = parse_num(pids[i], 1, 0x7fffffff);
		int fd;

		if (v < 0) {
			usage();
			goto out;
		}
		fd = pid_handle((pid_t)v);
		if (fd < 0)
			continue; /* already gone */
		p[count].fd = fd;
		p[count].events = POLLIN;
		count++;
	}
	left = count;
	while (left > 0) {
		int r = poll(p, (nfds_t)count, remaining(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		for (int i = 0; i < count; i++) {
			if (p[i].fd >= 0 && (p[i].revents & POLLIN)) {
				close(p[i].fd);
				p[i].fd = -1; /* poll ignores negative fds */
				left--;
			}
		}
	}
	ret = 0;
out:
	for (int i = 0; i < count; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return ret;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%d\n", (int)pid);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Send TERM, give the child 3 s to exit, then KILL; reap it. */
static int stop_child(pid_t child, int sfd)
{
	long long deadline = now_ms() + 3000;
	int st = 0;

	kill(child, SIGTERM);
	for (;;) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		if (waitpid(child, &st, WNOHANG) == child)
			return status_code(st);
		if (remaining(deadline) == 0)
			break;
		if (poll(&p, 1, remaining(deadline)) > 0 && read(sfd, &si, sizeof(si)) < 0 &&
		    errno != EAGAIN)
			break;
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	return status_code(st);
}

/* keep: run CMD tied to our lifetime and to OWNER's (see the header). */
static int cmd_keep(const struct opts *o, char **cmd)
{
	sigset_t mask, old;
	int sfd, ownerfd = -1, st = 0;
	pid_t self = getpid(), child;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &old) != 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		perror("wait_card: signalfd");
		return EXIT_USAGE;
	}
	if (o->owner) {
		ownerfd = pid_handle(o->owner);
		if (ownerfd < 0) {
			fprintf(stderr, "%s: owner process %d is gone\n", prog, (int)o->owner);
			return EXIT_GONE;
		}
	}
	child = fork();
	if (child < 0) {
		perror("wait_card: fork");
		return EXIT_USAGE;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != self)
			_exit(EXIT_GONE); /* the keeper died before we could tie ourselves to it */
		execvp(cmd[0], cmd);
		fprintf(stderr, "%s: exec %s: %s\n", prog, cmd[0], strerror(errno));
		_exit(127);
	}
	if (o->pidfile && write_pidfile(o->pidfile, child) != 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, o->pidfile, strerror(errno));
		return stop_child(child, sfd), EXIT_USAGE;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
			{ .fd = ownerfd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(p, ownerfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return stop_child(child, sfd);
		}
		if (p[1].revents & POLLIN) /* the owner (test) is gone: so are we */
			return stop_child(child, sfd);
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD)
				return stop_child(child, sfd);
		}
		if (waitpid(child, &st, WNOHANG) == child)
			return status_code(st);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	int i;

	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	i = parse_opts(argc, argv, &o);
	if (i < 0) {
		usage();
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "ready") == 0 && i == argc - 1)
		return cmd_ready(&o, argv[i]);
	if (strcmp(argv[1], "present") == 0 && i == argc - 1)
		return cmd_card(&o, argv[i], 1);
	if (strcmp(argv[1], "absent") == 0 && i == argc - 1)
		return cmd_card(&o, argv[i], 0);
	if (strcmp(argv[1], "gone") == 0 && i < argc)
		return cmd_gone(&o, argc - i, argv + i);
	if (strcmp(argv[1], "keep") == 0 && i < argc)
		return cmd_keep(&o, argv + i);
	usage();
	return EXIT_USAGE;
}
