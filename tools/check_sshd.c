/*
 * mfauth check, part 7: sshd.  With UsePAM yes, sshd's password
 * authentication runs the sshd PAM stack through a conversation that answers
 * every prompt with the password (OpenSSH's sshpam_passwd_conv), so
 * pam_mfauth.so's code prompt gets the password and the clerk never sees it;
 * only keyboard-interactive authentication shows the prompt.  The effective
 * settings come from `sshd -T` (the binary is run, never the config parsed
 * here: Include, Match and defaults are sshd's to resolve).
 *
 * `sshd -T` alone prints the settings outside every Match block; a Match
 * block can turn keyboard-interactive off, or password on, for exactly the
 * clerks (`Match Group clerks`).  So the settings are also asked for each
 * enrolled user, `sshd -T -C user=NAME` (sshd resolves the user's groups
 * itself: Match User and Match Group are applied as at login): the module's
 * prompt matters for the enrolled users, and for them every User or Group
 * block is covered, whatever its pattern.  Where a clerk connects from
 * (Match Address, Host, LocalAddress, LocalPort, RDomain) cannot be known
 * here: sshd -T skips a block whose criterion the -C spec does not name, so
 * those blocks are applied only for the connections the administrator names
 * with --sshd-match (each enrolled user with each), and an info line says so
 * when none is named.
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
#include "mfauth/store_names.h"

#define SSHD_DEFAULT_CONFIG "/etc/ssh/sshd_config"
#define SSHD_OUTPUT_MAX (256 * 1024)
#define SSHD_SPEC_MAX 1024   /* one -C argument: "user=" NAME "," SPEC */
#define SSHD_VERDICTS_MAX 32 /* distinct verdicts that differ from the global one */
#define SSHD_NAMES_SHOWN 5   /* users named per verdict; the rest are counted */

struct sshd_settings {
	bool usepam, password, kbdint, kbdint_seen, challenge;
	char methods[1024]; /* AuthenticationMethods, "any" by default */
};

/*
 * Run `sshd -T [-f config] [-C spec]` with a clean environment and collect what it
 * prints (stdout and stderr together).  Returns 0 with *out (caller frees)
 * and *status, or an error.
 */
static int sshd_run(const char *sshd, const char *config, const char *spec, char **out, size_t *len,
    int *status)
{
	static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", lc_env[] = "LC_ALL=C";
	char *const envp[] = { path_env, lc_env, NULL };
	const char *argv[7];
	size_t n = 0;
	int p[2], rc;

	argv[n++] = sshd;
	argv[n++] = "-T";
	if (config) {
		argv[n++] = "-f";
		argv[n++] = config;
	}
	if (spec) {
		argv[n++] = "-C";
		argv[n++] = spec;
	}
	argv[n] = NULL;
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

/*
 * The verdict on settings s of the sshd whose stack holds the module: its
 * severity, and the message in msg.
 */
static enum sev sshd_verdict(const struct sshd_settings *s, char *msg, size_t size)
{
	if (!s->usepam) {
		snprintf(msg, size, "%s",
		    _("UsePAM no: sshd checks passwords "
		      "itself and never runs the sshd PAM stack, so ssh logins skip pam_mfauth.so; set "
		      "UsePAM yes and KbdInteractiveAuthentication yes"));
		return SEV_ERROR;
	}
	if (s->password && !s->kbdint) {
		snprintf(msg, size, "%s",
		    _("KbdInteractiveAuthentication no "
		      "with PasswordAuthentication yes and UsePAM yes: sshd answers pam_mfauth.so's "
		      "code prompt with the password, so clerks cannot log in with a code; set "
		      "KbdInteractiveAuthentication yes and PasswordAuthentication no, or "
		      "AuthenticationMethods publickey,keyboard-interactive"));
		return SEV_WARNING;
	}
	if (s->password && methods_password_only(s->methods)) {
		snprintf(msg, size,
		    _("AuthenticationMethods %.200s allows "
		      "password without keyboard-interactive: sshd answers pam_mfauth.so's code prompt "
		      "with the password; use AuthenticationMethods publickey,keyboard-interactive"),
		    s->methods);
		return SEV_WARNING;
	}
	snprintf(msg, size, "%s",
	    _("UsePAM yes, the code prompt reaches the clerk "
	      "through keyboard-interactive authentication"));
	return SEV_OK;
}

/*
 * Ask sshd for its settings under spec (NULL: outside every Match block).
 * Returns the verdict and its message, or SEV_INFO with why sshd could not
 * tell.
 */
static enum sev sshd_ask(const char *sshd, const char *config, const char *spec, char *msg,
    size_t size)
{
	struct sshd_settings s;
	char *out = NULL;
	size_t len = 0;
	int status = 0, rc;

	if ((rc = sshd_run(sshd, config, spec, &out, &len, &status)) != 0) {
		snprintf(msg, size, _("cannot run %s -T: %s; sshd not checked"), sshd,
		    cli_strerror(rc));
		return SEV_INFO;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		out[strcspn(out, "\r\n")] = '\0';
		snprintf(msg, size, _("%s -T failed (%.200s); sshd not checked"), sshd, out);
		free(out);
		return SEV_INFO;
	}
	sshd_parse(out, &s);
	free(out);
	return sshd_verdict(&s, msg, size);
}

_Static_assert(SSHD_SPEC_MAX > sizeof("user=,") + MFA_USER_MAX + CHECK_SSHD_MATCH_LEN,
    "a -C spec always fits");

/* One verdict that differs from the global one, and the users it holds for. */
struct verdict {
	enum sev sev;
	const char *match; /* the --sshd-match spec, NULL for none */
	char msg[1024];
	char names[256]; /* the first SSHD_NAMES_SHOWN users, comma-separated */
	size_t users;
};

/* Add user to the verdict (sev, msg) under match; false when the table is full. */
static bool verdict_add(struct verdict *v, size_t *n, enum sev sev, const char *match,
    const char *msg, const char *user)
{
	struct verdict *e = NULL;

	for (size_t i = 0; i < *n && e == NULL; i++)
		if (v[i].sev == sev && v[i].match == match && strcmp(v[i].msg, msg) == 0)
			e = &v[i];
	if (e == NULL) {
		if (*n == SSHD_VERDICTS_MAX)
			return false;
		e = &v[(*n)++];
		memset(e, 0, sizeof(*e));
		e->sev = sev;
		e->match = match;
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	}
	if (e->users < SSHD_NAMES_SHOWN) {
		size_t used = strlen(e->names);
		snprintf(e->names + used, sizeof(e->names) - used, "%s%s", used ? ", " : "", user);
	}
	e->users++;
	return true;
}

static void verdict_report(struct report *r, const char *subject, const struct verdict *v)
{
	char who[320];

	if (v->users > SSHD_NAMES_SHOWN)
		snprintf(who, sizeof(who), _("%s and %zu more"), v->names,
		    v->users - SSHD_NAMES_SHOWN);
	else
		snprintf(who, sizeof(who), "%s", v->names);
	if (v->match)
		check_report(r, v->sev, "sshd", subject,
		    _("for %s connecting with %s (a Match block): %s"), who, v->match, v->msg);
	else
		check_report(r, v->sev, "sshd", subject, _("for %s (a Match block): %s"), who,
		    v->msg);
}

/*
 * The settings of each enrolled user (and each with every match spec) that
 * differ from the global ones: one line per distinct verdict, naming users.
 */
static void sshd_users(struct report *r, const char *sshd, const char *config, const char *subject,
    enum sev global, const char *global_msg, const struct check_sshd_who *who)
{
	struct verdict *v = calloc(SSHD_VERDICTS_MAX, sizeof(*v));
	char spec[SSHD_SPEC_MAX], msg[1024];
	size_t n = 0, asked = 0, skipped = 0;

	if (v == NULL) {
		check_report(r, SEV_INFO, "sshd", subject, "%s", cli_strerror(MFA_ERR_NOMEM));
		return;
	}
	for (size_t u = 0; u < who->nusers; u++) {
		/* A comma or '=' would end the -C spec's user value early: never ask for a
		 * user name that sshd would read as another criterion. */
		if (strpbrk(who->users[u], ",= ") != NULL) {
			skipped++;
			continue;
		}
		for (size_t m = 0; m <= who->nmatch; m++) {
			const char *match = m == 0 ? NULL : who->match[m - 1];
			enum sev sev;

			snprintf(spec, sizeof(spec), "user=%s%s%s", who->users[u], match ? "," : "",
			    match ? match : "");
			asked++;
			sev = sshd_ask(sshd, config, spec, msg, sizeof(msg));
			if (sev == global && strcmp(msg, global_msg) == 0)
				continue; /* said by the global line */
			if (!verdict_add(v, &n, sev, match, msg, who->users[u])) {
				struct verdict one = { sev, match, "", "", 1 };
				snprintf(one.msg, sizeof(one.msg), "%s", msg);
				snprintf(one.names, sizeof(one.names), "%s", who->users[u]);
				verdict_report(r, subject, &one); /* table full: on its own line */
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		verdict_report(r, subject, &v[i]);
	free(v);
	if (skipped)
		check_report(r, SEV_INFO, "sshd", subject,
		    _("%zu enrolled users not asked for: the name cannot be given to sshd -C"),
		    skipped);
	if (n == 0 && asked > 0)
		check_report(r, SEV_OK, "sshd", subject,
		    _("no Match block changes this for the %zu enrolled users (sshd -T -C user=NAME: "
		      "Match User and Match Group applied)"),
		    who->nusers - skipped);
	if (who->nmatch == 0 && who->nusers > 0)
		check_report(r, SEV_INFO, "sshd", subject, "%s",
		    _("Match blocks on Address, Host, LocalAddress, LocalPort or RDomain were not "
		      "applied: name the connections clerks make with --sshd-match "
		      "addr=IP,host=NAME"));
}

bool check_sshd_who_add(struct check_sshd_who *who, const char *user)
{
	char *copy;

	if (who->nusers == who->cap) {
		size_t cap = who->cap ? 2 * who->cap : 16;
		char **grown = reallocarray(who->users, cap, sizeof(*grown));
		if (grown == NULL)
			return false;
		who->users = grown;
		who->cap = cap;
	}
	if ((copy = strdup(user)) == NULL)
		return false;
	who->users[who->nusers++] = copy;
	return true;
}

void check_sshd_who_free(struct check_sshd_who *who)
{
	for (size_t i = 0; i < who->nusers; i++)
		free(who->users[i]);
	free(who->users);
	who->users = NULL;
	who->nusers = who->cap = 0;
}

void check_sshd(struct report *r, const char *sshd, const char *config,
    const struct check_sshd_who *who)
{
	const char *subject = config ? config : SSHD_DEFAULT_CONFIG;
	char msg[1024];
	enum sev global;

	if (access(sshd, X_OK) != 0) {
		check_report(r, SEV_INFO, "sshd", sshd, "%s", _("not installed: sshd not checked"));
		return;
	}
	global = sshd_ask(sshd, config, NULL, msg, sizeof(msg));
	check_report(r, global, "sshd", subject, "%s", msg);
	if (global == SEV_INFO)
		return; /* sshd cannot print its settings: no per-user answer either */
	if (who->nusers == 0)
		check_report(r, SEV_INFO, "sshd", subject, "%s",
		    _("no enrolled user known: Match blocks not applied"));
	else
		sshd_users(r, sshd, config, subject, global, msg, who);
}
