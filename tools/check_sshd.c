/*
 * mfauth check, part 7: sshd.  With UsePAM yes, sshd's password
 * authentication runs the sshd PAM stack through a conversation that answers
 * every prompt with the password (OpenSSH's sshpam_passwd_conv), so
 * pam_mfauth.so's code prompt gets the password and the clerk never sees it;
 * only keyboard-interactive authentication shows the prompt.  The effective
 * settings come from `sshd -T` (the binary is run, never the config parsed
 * here: Include, Match and defaults are sshd's to resolve).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "mfauth/err.h"
#include "mfauth/safefile.h"

#define SSHD_DEFAULT_CONFIG "/etc/ssh/sshd_config"
#define SSHD_OUTPUT_MAX (256 * 1024)

struct sshd_settings {
	bool usepam, password, kbdint, kbdint_seen, challenge;
	char methods[1024]; /* AuthenticationMethods, "any" by default */
};

/*
 * Run `sshd -T [-f config]` with a clean environment and collect what it
 * prints (stdout and stderr together).  Returns 0 with *out (caller frees)
 * and *status, or an error.
 */
static int sshd_run(const char *sshd, const char *config, char **out, size_t *len, int *status)
{
	static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", lc_env[] = "LC_ALL=C";
	char *const envp[] = { path_env, lc_env, NULL };
	const char *argv[] = { sshd, "-T", config ? "-f" : NULL, config, NULL };
	int p[2], rc;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return MFA_ERR_IO;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return MFA_ERR_IO;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(127);
		execve(sshd, (char *const *)argv, envp);
		_exit(127);
	}
	close(p[1]);
	rc = mfa_read_fd_all(p[0], SSHD_OUTPUT_MAX, out, len);
	close(p[0]);
	if (rc != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return MFA_ERR_IO;
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* "key value" lines of sshd -T into s. */
static void sshd_parse(char *text, struct sshd_settings *s)
{
	char *save = NULL;

	memset(s, 0, sizeof(*s));
	snprintf(s->methods, sizeof(s->methods), "any");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, ' ');
		bool yes;

		if (val == NULL)
			continue;
		*val++ = '\0';
		yes = strcasecmp(val, "yes") == 0;
		if (strcasecmp(line, "usepam") == 0)
			s->usepam = yes;
		else if (strcasecmp(line, "passwordauthentication") == 0)
			s->password = yes;
		else if (strcasecmp(line, "kbdinteractiveauthentication") == 0) {
			s->kbdint = yes;
			s->kbdint_seen = true;
		} else if (strcasecmp(line, "challengeresponseauthentication") == 0)
			s->challenge = yes; /* the older name (OpenSSH before 8.7) */
		else if (strcasecmp(line, "authenticationmethods") == 0)
			snprintf(s->methods, sizeof(s->methods), "%s", val);
	}
	if (!s->kbdint_seen)
		s->kbdint = s->challenge;
}

/*
 * An AuthenticationMethods list that logs in through "password" without
 * "keyboard-interactive" ("password", "publickey,password"): the stack runs
 * with the password conversation only.  "any" is judged by the other two
 * settings.
 */
static bool methods_password_only(const char *methods)
{
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", methods);
	for (char *list = strtok_r(buf, " ", &save); list; list = strtok_r(NULL, " ", &save)) {
		bool pw = false, kbd = false;
		char *save2 = NULL;
		for (char *m = strtok_r(list, ",", &save2); m; m = strtok_r(NULL, ",", &save2)) {
			pw = pw || strcmp(m, "password") == 0;
			kbd = kbd || strncmp(m, "keyboard-interactive", 20) == 0;
		}
		if (pw && !kbd)
			return true;
	}
	return false;
}

/* The findings for settings s of the sshd whose stack holds the module. */
static void sshd_judge(struct report *r, const char *subject, const struct sshd_settings *s)
{
	if (!s->usepam) {
		check_report(r, SEV_ERROR, "sshd", subject, "%s",
		    _("UsePAM no: sshd checks passwords "
		      "itself and never runs the sshd PAM stack, so ssh logins skip pam_mfauth.so; set "
		      "UsePAM yes and KbdInteractiveAuthentication yes"));
		return;
	}
	if (s->password && !s->kbdint) {
		check_report(r, SEV_WARNING, "sshd", subject, "%s",
		    _("KbdInteractiveAuthentication no "
		      "with PasswordAuthentication yes and UsePAM yes: sshd answers pam_mfauth.so's "
		      "code prompt with the password, so clerks cannot log in with a code; set "
		      "KbdInteractiveAuthentication yes and PasswordAuthentication no, or "
		      "AuthenticationMethods publickey,keyboard-interactive"));
		return;
	}
	if (s->password && methods_password_only(s->methods)) {
		check_report(r, SEV_WARNING, "sshd", subject,
		    _("AuthenticationMethods %.200s allows "
		      "password without keyboard-interactive: sshd answers pam_mfauth.so's code prompt "
		      "with the password; use AuthenticationMethods publickey,keyboard-interactive"),
		    s->methods);
		return;
	}
	check_report(r, SEV_OK, "sshd", subject, "%s",
	    _("UsePAM yes, the code prompt reaches the clerk "
	      "through keyboard-interactive authentication"));
}

void check_sshd(struct report *r, const char *sshd, const char *config)
{
	const char *subject = config ? config : SSHD_DEFAULT_CONFIG;
	struct sshd_settings s;
	char *out = NULL;
	size_t len = 0;
	int status = 0, rc;

	if (access(sshd, X_OK) != 0) {
		check_report(r, SEV_INFO, "sshd", sshd, "%s", _("not installed: sshd not checked"));
		return;
	}
	if ((rc = sshd_run(sshd, config, &out, &len, &status)) != 0) {
		check_report(r, SEV_INFO, "sshd", subject,
		    _("cannot run %s -T: %s; sshd not checked"), sshd, cli_strerror(rc));
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		out[strcspn(out, "\r\n")] = '\0';
		check_report(r, SEV_INFO, "sshd", subject,
		    _("%s -T failed (%.200s); sshd not checked"), sshd, out);
		free(out);
		return;
	}
	sshd_parse(out, &s);
	free(out);
	sshd_judge(r, subject, &s);
}
