/*
 * The module's side of the setuid helper (mfauth-verify(8)), for hosts that
 * run PAM as the clerk rather than root: screen lockers (xscreensaver,
 * i3lock, swaylock, kscreenlocker).  The store is root-only (DESIGN
 * invariant 5), so a module whose effective uid is not 0 never reads it
 * itself: it runs the helper and does the helper's conversation.
 *
 * What the module does to its host, and does not:
 * - one socketpair (two directions; a socket rather than two pipes so that
 *   writing to a helper that died fails with EPIPE instead of raising
 *   SIGPIPE in the host: send(MSG_NOSIGNAL));
 * - fork, and in the child only async-signal-safe calls: the socket onto
 *   fds 0 and 1, /dev/null onto 2, every other descriptor closed, execve
 *   with an empty environment;
 * - waitpid() on that one pid, through EINTR.  SIGCHLD is not touched
 *   (pam_unix sets it to the default for the duration; we change nothing of
 *   the host's).  A host that ignores SIGCHLD (children reaped by the
 *   kernel) or reaps every child in its own handler leaves no status to
 *   read: the helper's "end" line then carries the verdict; where a status
 *   can be read, the two must agree.  No end line is a failure.
 * Nothing is left open, no child is left unreaped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/helper_proto.h"
#include "mfauth/record.h"
#include "module.h"

/* Why the helper cannot run here; NULL when it can. */
static const char *helper_unusable(const struct login *l, const char **detail)
{
	struct stat st;
	struct statvfs vfs;

	*detail = "";
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) {
		*detail = "no_new_privs is set: setuid programs cannot gain privileges";
		return "unprivileged_no_new_privs";
	}
	if (stat(l->cfg.helper, &st) != 0) {
		*detail = "helper missing";
		return "unprivileged_no_helper";
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || !(st.st_mode & S_ISUID) ||
	    !(st.st_mode & S_IXOTH)) {
		*detail = "helper not setuid root";
		return "unprivileged_no_helper";
	}
	if (statvfs(l->cfg.helper, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
		*detail = "helper on a nosuid file system";
		return "unprivileged_no_helper";
	}
	return NULL;
}

/* Audit and tell the clerk why this screen cannot check a second factor. */
static void refuse_unusable(const struct login *l, const char *reason, const char *detail)
{
	audit_line(l, "auth", "fail", reason, "detail", detail, "path", l->cfg.helper, NULL);
	if (strcmp(reason, "unprivileged_no_new_privs") == 0)
		pam_error(l->pamh, "%s",
		    clerk_gettext(l,
		        "This screen cannot check the second factor: it runs "
		        "with no_new_privs, which stops the mfauth helper. Contact your administrator."));
	else
		pam_error(l->pamh, "%s",
		    clerk_gettext(l,
		        "This screen cannot check the second factor: the mfauth "
		        "helper is not installed. Contact your administrator."));
}

/* The child, between fork and exec: async-signal-safe calls only. */
static void exec_child(int sock, const char *path, char *const argv[])
{
	static char *const envp[] = { NULL };
	int null = open("/dev/null", O_WRONLY);

	if (null < 0 || dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	if (close_range(3, ~0u, 0) != 0) {
		for (int fd = 3; fd < 1024; fd++)
			(void)close(fd);
	}
	execve(path, argv, envp);
	_exit(127);
}

/* Start the helper for step ("auth"/"account"); *sock is our end of the socket. */
static int spawn(const struct login *l, const char *step, pid_t *pid, int *sock)
{
	/* The module's own remote decision goes along; the helper adds its own (verify_main.c). */
	char *argv[] = { (char *)l->cfg.helper, (char *)MFA_HP_MAGIC, (char *)step, (char *)l->user,
		(char *)l->src.service, (char *)l->src.tty, (char *)l->src.rhost,
		(char *)(l->remote != NULL ? l->remote : MFA_HP_PLACE_LOCAL), NULL };
	int sv[2];

	*pid = -1;
	*sock = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return MFA_ERR_IO;
	*pid = fork();
	if (*pid == 0)
		exec_child(sv[1], l->cfg.helper, argv);
	close(sv[1]);
	if (*pid < 0) {
		close(sv[0]);
		return MFA_ERR_IO;
	}
	*sock = sv[0];
	return 0;
}

/* The helper's exit, through EINTR; -1 for no status (reaped by the host, or a signal). */
static int reap(pid_t pid, int *signo)
{
	int status = 0;
	pid_t r;

	*signo = 0;
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r != pid)
		return -1;
	if (WIFSIGNALED(status))
		*signo = WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Show a message the helper asked for, in the clerk's language: the same
 * words the module's own paths use (report.c owns them).
 */
static void show(const struct login *l, const struct mfa_hp_request *rq)
{
	uint8_t profile;
	int rc;

	switch (rq->msg) {
	case MFA_HP_MSG_LOCKED:
		say_locked(l);
		break;
	case MFA_HP_MSG_ACCOUNT_LOCKED:
		say_account_locked(l);
		break;
	case MFA_HP_MSG_NO_CARD:
		say_no_card(l);
		break;
	case MFA_HP_MSG_REPLAY:
		say_replay(l);
		break;
	case MFA_HP_MSG_DIRECTORY:
		say_directory_unreachable(l);
		break;
	case MFA_HP_MSG_CARD_REMOTE:
		say_card_remote(l);
		break;
	case MFA_HP_MSG_CARD_REMOTE_REFUSED:
		say_card_remote_refused(l);
		break;
	default:
		rc = mfa_hp_card_error(rq->msg, &profile);
		say_card_error(l, rc, profile, (int)(rq->arg > 99 ? 99 : rq->arg), rq->arg);
		break;
	}
}

/* Ask the clerk what the helper asks for; NULL answer on any conversation failure. */
static char *ask(const struct login *l, const struct mfa_hp_request *rq)
{
	const char *prompt = clerk_gettext(l, "Verification code: ");
	char *answer = NULL;

	if (rq->kind == MFA_HP_PIN) {
		prompt = rq->profile == MFA_CARD_JPKI ?
		    clerk_gettext(l, "My Number card PIN (4-digit user authentication PIN): ") :
		    clerk_gettext(l, "Card PIN: ");
		if (rq->tries > 0 && rq->tries <= 2)
			say_pin_tries_left(l, rq->tries);
	}
	/* A NULL or failed reply is "no answer" (pam-u2f CVE-2021-31924). */
	if (pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", prompt) != PAM_SUCCESS)
		goto none;
	/*
	 * A code is sorted as the module's own prompt sorts it: blanks dropped,
	 * and the password typed again never reaches the helper (nothing counts).
	 */
	if (rq->kind == MFA_HP_CODE) {
		switch (classify_answer(l, answer)) {
		case ANSWER_CODE:
			break;
		case ANSWER_PASSWORD:
			report_password_as_code(l);
			goto none;
		case ANSWER_NONE:
			goto none;
		}
	}
	return answer;
none:
	if (answer != NULL) {
		mfa_wipe(answer, strlen(answer));
		free(answer);
	}
	return NULL;
}

/*
 * Serve the helper's requests until it closes its end.  Returns 0, or
 * MFA_ERR_INVAL when it said something outside the protocol (the caller
 * then fails the login whatever the exit status).
 */
static int converse(const struct login *l, int sock, int *verdict)
{
	char line[MFA_HP_LINE_MAX + 1];
	struct mfa_hp_request rq;
	int rc;

	*verdict = -1;
	for (;;) {
		rc = mfa_hp_read_line(sock, line, sizeof(line));
		if (rc == MFA_ERR_IO)
			return 0; /* the helper is done */
		/* Nothing may follow the end line. */
		if (rc != 0 || *verdict >= 0 || mfa_hp_parse_request(line, strlen(line), &rq) != 0)
			return MFA_ERR_INVAL;
		if (rq.kind == MFA_HP_END) {
			*verdict = (int)rq.arg;
			continue;
		}
		if (rq.kind == MFA_HP_MSG) {
			show(l, &rq);
			continue;
		}
		char *answer = ask(l, &rq);
		rc = mfa_hp_send_answer(sock, answer);
		if (answer != NULL) {
			mfa_wipe(answer, strlen(answer));
			free(answer);
		}
		if (rc != 0)
			return 0; /* it went away: its exit status says why */
	}
}

/*
 * Run the helper for step and turn its end into a PAM code: exit statuses
 * as mfauth-verify(8) documents them, a signal or any other end fails.
 */
static int run_helper(struct login *l, const char *step, int ok_ret)
{
	const char *why, *detail;
	char status[16];
	pid_t pid;
	int sock, rc, code, verdict, signo = 0;

	if ((why = helper_unusable(l, &detail)) != NULL) {
		refuse_unusable(l, why, detail);
		return PAM_AUTH_ERR;
	}
	if (spawn(l, step, &pid, &sock) != 0) {
		audit_line(l, "auth", "fail", "helper_spawn", "path", l->cfg.helper, NULL);
		return PAM_AUTH_ERR;
	}
	rc = converse(l, sock, &verdict);
	close(sock); /* a helper still waiting for an answer reads EOF */
	code = reap(pid, &signo);
	/* No status to read (the host reaps its children): the end line decides. */
	if (code < 0 && signo == 0)
		code = verdict;
	if (rc != 0 || code < 0 || code != verdict || code == MFA_HP_EXIT_USAGE) {
		snprintf(status, sizeof(status), "%d", signo != 0 ? -signo : code);
		audit_line(l, "auth", "fail",
		    rc != 0        ? "helper_protocol" :
		        signo != 0 ? "helper_killed" :
		        code < 0   ? "helper_status" :
		                     "helper_failed",
		    "status", status, "path", l->cfg.helper, NULL);
		return PAM_AUTH_ERR;
	}
	switch (code) {
	case MFA_HP_EXIT_OK:
		return ok_ret;
	case MFA_HP_EXIT_IGNORE:
		/* Only where this module's own options also say nullok. */
		return l->cfg.nullok ? PAM_IGNORE : PAM_AUTH_ERR;
	case MFA_HP_EXIT_LOCKED:
		return PAM_PERM_DENIED;
	default:
		return PAM_AUTH_ERR;
	}
}

int helper_authenticate(struct login *l)
{
	int ret = run_helper(l, "auth", PAM_SUCCESS);
	/* The account step's "locked" is no answer to the auth step. */
	return ret == PAM_PERM_DENIED ? PAM_AUTH_ERR : ret;
}

int helper_account(struct login *l)
{
	return run_helper(l, "account", PAM_SUCCESS);
}
