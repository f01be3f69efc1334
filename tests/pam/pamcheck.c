/*
 * pamcheck: a minimal PAM application for the demo and manual checks.
 *
 *   pamcheck [--confdir DIR] [--account] [--no-fail-delay] [--tty TTY] [--rhost HOST]
 *            SERVICE USER
 *
 * Runs pam_authenticate (and pam_acct_mgmt with --account) for USER on
 * SERVICE, whose stack is read from DIR (pam_start_confdir) instead of
 * /etc/pam.d.  Prompts are printed on stderr and answered from stdin, one
 * line each, so a script can pipe a code in.  Exit 0 on PAM_SUCCESS, 1 on any
 * other result, 2 on usage errors; the result is printed by name.
 * --no-fail-delay replaces the modules' failure delay (for scripted tests).
 * --check-host: after pam_end, exit 3 if the modules left a descriptor open,
 * a child (zombie or running), or changed the SIGCHLD or SIGPIPE disposition
 * (what a long-lived host, a screen locker, would notice).
 * --ignore-sigchld: run the modules with SIGCHLD ignored (children reaped by
 * the kernel), as some hosts do.
 * --tty and --rhost set PAM_TTY (default "pts/demo") and PAM_RHOST.
 * --catalogs DIR: take the locale from the environment (setlocale(LC_ALL, ""),
 * as login(1) does) and find the mfauth catalogs in DIR (the build's, before
 * `make install`), so a test sees what a Japanese clerk reads.
 */
#include "config.h"

#include <locale.h>
#ifdef ENABLE_NLS
#include <libintl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <security/pam_appl.h>

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	char line[512];

	(void)data;
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			fprintf(stderr, "%s", msg[i]->msg);
			if (fgets(line, sizeof(line), stdin) == NULL)
				line[0] = '\0';
			line[strcspn(line, "\r\n")] = '\0';
			fprintf(stderr, "\n");
			r[i].resp = strdup(line);
			break;
		case PAM_ERROR_MSG:
			fprintf(stderr, "[error] %s\n", msg[i]->msg);
			break;
		default:
			fprintf(stderr, "[info] %s\n", msg[i]->msg);
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Open descriptors of this process (the directory's own excluded). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

struct host_state {
	int fds;
	struct sigaction chld, pipe;
};

static void host_state(struct host_state *h)
{
	h->fds = count_fds();
	sigaction(SIGCHLD, NULL, &h->chld);
	sigaction(SIGPIPE, NULL, &h->pipe);
}

/* 0 when the modules left the host as they found it; prints what differs. */
static int host_unchanged(const struct host_state *before)
{
	struct host_state after;
	int bad = 0;

	host_state(&after);
	if (after.fds != before->fds) {
		fprintf(stderr, "pamcheck: %d descriptors before, %d after\n", before->fds,
		    after.fds);
		bad = 1;
	}
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD) {
		fprintf(stderr, "pamcheck: a child (or zombie) was left behind\n");
		bad = 1;
	}
	if (after.chld.sa_handler != before->chld.sa_handler ||
	    after.pipe.sa_handler != before->pipe.sa_handler) {
		fprintf(stderr, "pamcheck: SIGCHLD or SIGPIPE disposition changed\n");
		bad = 1;
	}
	return bad;
}

static void no_delay(int status, unsigned int usec, void *appdata)
{
	(void)status;
	(void)usec;
	(void)appdata;
}

int main(int argc, char **argv)
{
	const char *confdir = NULL, *tty = "pts/demo", *rhost = NULL, *catalogs = NULL;
	struct pam_conv conv = { converse, NULL };
	pam_handle_t *pamh = NULL;
	struct host_state before;
	int account = 0, nodelay = 0, check_host = 0, i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--confdir") == 0 && i + 1 < argc)
			confdir = argv[++i];
		else if (strcmp(argv[i], "--account") == 0)
			account = 1;
		else if (strcmp(argv[i], "--no-fail-delay") == 0)
			nodelay = 1;
		else if (strcmp(argv[i], "--check-host") == 0)
			check_host = 1;
		else if (strcmp(argv[i], "--ignore-sigchld") == 0)
			signal(SIGCHLD, SIG_IGN);
		else if (strcmp(argv[i], "--tty") == 0 && i + 1 < argc)
			tty = argv[++i];
		else if (strcmp(argv[i], "--rhost") == 0 && i + 1 < argc)
			rhost = argv[++i];
		else if (strcmp(argv[i], "--catalogs") == 0 && i + 1 < argc)
			catalogs = argv[++i];
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr,
		    "usage: pamcheck [--confdir DIR] [--account] [--no-fail-delay] "
		    "[--check-host] [--ignore-sigchld] [--tty TTY] [--rhost HOST] [--catalogs DIR] "
		    "SERVICE USER\n");
		return 2;
	}
	if (catalogs != NULL) {
		setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
		bindtextdomain("mfauth", catalogs);
#endif
	}
	host_state(&before);
	rc = pam_start_confdir(argv[i], argv[i + 1], &conv, confdir, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start: %d\n", rc);
		return 1;
	}
	pam_set_item(pamh, PAM_TTY, tty);
	if (rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, rhost);
	if (nodelay)
		pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	rc = pam_authenticate(pamh, 0);
	printf("pam_authenticate: %s\n", pam_strerror(pamh, rc));
	if (rc == PAM_SUCCESS && account) {
		rc = pam_acct_mgmt(pamh, 0);
		printf("pam_acct_mgmt: %s\n", pam_strerror(pamh, rc));
	}
	pam_end(pamh, rc);
	if (check_host && host_unchanged(&before) != 0)
		return 3;
	return rc == PAM_SUCCESS ? 0 : 1;
}
