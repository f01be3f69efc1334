/*
 * `mfauth report` on a terminal includes the current `mfauth check`
 * (issue 15): run as a child of this very binary (/proc/self/exe), so the
 * report shows exactly what `mfauth check` says, in the same words, and
 * check's code stays check's.  Its standard output is kept (bounded); its
 * standard error goes where ours goes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "report_check.h"

#define CHECK_OUT_MAX (1u << 20)

extern char **environ;

int report_check_run(const char *config_path, bool json, struct report_check *out)
{
	char *argv[6];
	int argc = 0, fds[2], st = 0, rc = MFA_ERR_IO;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	size_t cap = 4096;

	memset(out, 0, sizeof(*out));
	argv[argc++] = (char *)"mfauth";
	if (config_path != NULL) {
		argv[argc++] = (char *)"-c";
		argv[argc++] = (char *)config_path;
	}
	argv[argc++] = (char *)"check";
	if (json)
		argv[argc++] = (char *)"--json";
	argv[argc] = NULL;
	if ((out->text = malloc(cap)) == NULL)
		return MFA_ERR_NOMEM;
	if (pipe2(fds, O_CLOEXEC) != 0)
		goto fail;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		rc = MFA_ERR_IO;
		goto fail;
	}
	for (;;) {
		ssize_t n;
		if (out->len + 1 == cap && cap < CHECK_OUT_MAX) {
			char *t = realloc(out->text, cap * 2);
			if (t == NULL)
				break;
			out->text = t;
			cap *= 2;
		}
		if (out->len + 1 == cap) {
			/* More than a check ever says: keep what fits, drain the rest. */
			char sink[4096];
			if (read(fds[0], sink, sizeof(sink)) <= 0)
				break;
			out->cut = true;
			continue;
		}
		n = read(fds[0], out->text + out->len, cap - 1 - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	out->text[out->len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	out->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	out->ran = true;
	return 0;
fail:
	free(out->text);
	out->text = NULL;
	return rc;
}

void report_check_free(struct report_check *c)
{
	free(c->text);
	memset(c, 0, sizeof(*c));
}
