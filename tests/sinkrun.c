/*
 * sinkrun: run a command with a private /dev/log and keep what it logs.
 *
 *   sinkrun LOGFILE COMMAND [ARGS...]
 *
 * Enters a private mount namespace (tests/syslog_sink.h), binds a datagram
 * socket at /dev/log, runs COMMAND, and appends every syslog line it (or any
 * child) sends to LOGFILE, one per line, as they arrive.  Exits with the
 * command's status.  Used by scripts/demo to show the audit trail without a
 * syslog daemon and without touching the host's /dev.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syslog_sink.h"

static void save_one(int fd, FILE *out, int timeout_ms)
{
	char buf[4096];
	ssize_t n = sink_recv(fd, buf, sizeof(buf), timeout_ms);
	if (n > 0) {
		fprintf(out, "%s\n", buf);
		fflush(out);
	}
}

int main(int argc, char **argv)
{
	FILE *out;
	pid_t pid;
	int fd, status = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: sinkrun LOGFILE COMMAND [ARGS...]\n");
		return 2;
	}
	if ((out = fopen(argv[1], "ae")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	if (sink_enter_namespace() != 0 || (fd = sink_open()) < 0) {
		fprintf(stderr, "sinkrun: %s\n", sink_error());
		return 2;
	}
	if ((pid = fork()) < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		close(fd);
		fclose(out);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 50) > 0)
			save_one(fd, out, 0);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	/* Whatever is still queued was sent before the command ended. */
	for (int i = 0; i < 1000; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 0) <= 0)
			break;
		save_one(fd, out, 0);
	}
	sink_close(fd);
	fclose(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
