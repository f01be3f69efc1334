/*
 * sink: run a command with a private /dev/log that is drained as fast as
 * lines arrive, for benchmarks.
 *
 *   sink [--log FILE] [--summary FILE] COMMAND [ARGS...]
 *
 * Why not tests/sinkrun: a benchmark logs tens of thousands of lines, and the
 * datagram queue of /dev/log holds only net.unix.max_dgram_qlen (10) of them.
 * When it is full, pam_mfauth drops its line (it sends non-blocking), but
 * glibc's syslog(), which pam_oath and pam_google_authenticator use, blocks
 * the login until the reader catches up, so a slow reader would be measured
 * as a slow module.  Here the parent does nothing but drain the socket into a
 * buffered file (or nowhere), and counts lines by sender.
 *
 * The namespace and the socket come from tests/syslog_sink.c (a private mount
 * namespace with an overlay over /dev: the host's /dev/log is never touched).
 *
 * On exit the summary, one line, goes to --summary FILE (or stderr):
 *   sink lines=N pam_mfauth=N pam_oath=N pam_google_authenticator=N mfauth(tool)=N other=N
 * Exit status: the command's, or 2 when the sink could not be set up.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syslog_sink.h"

#define RCVBUF_BYTES (8 * 1024 * 1024)

struct counts {
	unsigned long lines, mfauth, tool, oath, gauth, other;
};

/* Attribute one line to its sender by the tag glibc or mfa_syslog put in it. */
static void count_line(struct counts *c, const char *line)
{
	c->lines++;
	if (strstr(line, "pam_mfauth") != NULL)
		c->mfauth++;
	else if (strstr(line, " mfauth[") != NULL)
		c->tool++;
	else if (strstr(line, "pam_google_authenticator") != NULL)
		c->gauth++;
	else if (strstr(line, "pam_oath") != NULL)
		c->oath++;
	else
		c->other++;
}

/* Read every datagram queued now; false on a socket error. */
static bool drain(int fd, FILE *log, struct counts *c)
{
	char buf[8192];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		if (n == 0)
			continue;
		buf[n] = '\0';
		count_line(c, buf);
		if (log != NULL)
			fprintf(log, "%s\n", buf);
	}
}

int main(int argc, char **argv)
{
	const char *log_path = NULL, *summary_path = NULL;
	struct counts c = { 0, 0, 0, 0, 0, 0 };
	FILE *log = NULL, *summary;
	int i = 1, fd, status = 0, rcvbuf = RCVBUF_BYTES;
	bool waited = false;
	pid_t pid;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--log") == 0)
			log_path = argv[i + 1];
		else if (strcmp(argv[i], "--summary") == 0)
			summary_path = argv[i + 1];
		else
			break;
	}
	if (i >= argc || strncmp(argv[i], "--", 2) == 0) {
		fprintf(stderr, "usage: sink [--log FILE] [--summary FILE] COMMAND [ARGS...]\n");
		return 2;
	}
	if (log_path != NULL && (log = fopen(log_path, "we")) == NULL) {
		perror(log_path);
		return 2;
	}
	if (sink_enter_namespace() != 0 || (fd = sink_open()) < 0) {
		fprintf(stderr, "sink: %s\n", sink_error());
		return 2;
	}
	/* Bytes are not the limit (the queue length is), but do not make them one. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if ((pid = fork()) < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		close(fd);
		execvp(argv[i], argv + i);
		perror(argv[i]);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, 100);

		if (r > 0 && !drain(fd, log, &c)) {
			perror("sink: recv");
			break;
		}
		if (r <= 0 && waitpid(pid, &status, WNOHANG) == pid) {
			waited = true;
			break;
		}
	}
	/* Whatever is still queued was sent before the command ended. */
	drain(fd, log, &c);
	sink_close(fd);
	while (!waited && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	if (log != NULL)
		fclose(log);
	summary = summary_path != NULL ? fopen(summary_path, "we") : stderr;
	if (summary == NULL)
		summary = stderr;
	fprintf(summary,
	    "sink lines=%lu pam_mfauth=%lu pam_oath=%lu pam_google_authenticator=%lu "
	    "mfauth(tool)=%lu other=%lu\n",
	    c.lines, c.mfauth, c.oath, c.gauth, c.tool, c.other);
	if (summary != stderr)
		fclose(summary);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
