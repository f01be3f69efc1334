/*
 * mfauth-verify: pam_mfauth's helper for callers that are not root (screen
 * lockers run PAM as the clerk, who cannot read the root-only store).
 * Installed setuid root; see mfauth-verify(8).
 *
 * This file makes the process safe to run on behalf of an unprivileged
 * caller before anything is decided, in this order:
 *   1. all uids and gids become 0 (the caller can no longer signal us),
 *      supplementary groups dropped;
 *   2. signal mask and dispositions of our own (the caller chose the ones we
 *      inherited), a session of our own (no terminal signals);
 *   3. resource limits of our own (the caller's `ulimit -f 0` would kill a
 *      root process at its first state write), or a refusal where they
 *      cannot be raised; no core dumps, umask 077;
 *   4. an empty environment with a fixed PATH, every descriptor above 2 closed;
 *   5. called as the helper: fds 0 and 1 are pipes (never a terminal), the
 *      magic first argument, the exact argument count;
 *   6. the account: the real uid's own passwd entry, never a name we are
 *      told (root only may name another user, as with unix_chkpwd);
 *   7. the compiled-in configuration only (root only may name another).
 * The caller keeps the power to kill us until step 1 ends and to close the
 * pipes at any time; the attempt counting (verify_auth.c) is built so that
 * neither buys a guess.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mfauth/err.h"
#include "mfauth/remote.h"
#include "verify.h"

#define SAFE_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
/*
 * Wall-clock bound of one run: a caller that never answers must not hold a
 * card transaction (the PIN is asked inside it) for ever.  SIGALRM then ends
 * the helper, which the attempt counting makes safe (verify_auth.c).
 */
#define RUN_SECONDS 300
/* argv: magic, step, user, service, tty, rhost, place [, conf=PATH for root] */
#define ARGS_MIN 8
#define ARGS_MAX 9

/*
 * One limit: the wanted value, or as close as the hard limit allows where
 * it cannot be raised (a root without CAP_SYS_RESOURCE in its bounding
 * set).  False when the result is below need (RLIM_INFINITY counts as
 * above everything).
 */
static bool limit(int resource, rlim_t want, rlim_t need)
{
	struct rlimit rl = { want, want };

	if (setrlimit(resource, &rl) != 0) {
		if (getrlimit(resource, &rl) != 0)
			return false;
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY &&
		        (want == RLIM_INFINITY || rl.rlim_max < want) ?
		    rl.rlim_max :
		    want;
		if (setrlimit(resource, &rl) != 0)
			return false;
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need;
}

/*
 * Step 3.  The caller chose our limits.  A limit that would end us half-way
 * (a file-size limit below a state write, a CPU limit of a second) is raised
 * or, where it cannot be, the helper refuses to start -- before any state
 * is read.  SIGXFSZ is ignored besides: a write over the limit then fails
 * with EFBIG (a store error) instead of killing the helper.
 */
static bool set_limits(void)
{
	const struct rlimit none = { 0, 0 };

	return setrlimit(RLIMIT_CORE, &none) == 0 && limit(RLIMIT_FSIZE, RLIM_INFINITY, 1u << 20) &&
	    limit(RLIMIT_NOFILE, 64, 16) && limit(RLIMIT_CPU, 60, 10) &&
	    limit(RLIMIT_AS, RLIM_INFINITY, 256u << 20) &&
	    limit(RLIMIT_DATA, RLIM_INFINITY, 128u << 20) &&
	    limit(RLIMIT_STACK, 8u << 20, 1u << 20);
}

/* Steps 1, 2 and 4; false if the process cannot be made safe (not setuid root). */
static bool harden(void)
{
	static const int quiet[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGPIPE,
		SIGXFSZ };
	struct sigaction sa;
	sigset_t all;

	if (setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0 || setresuid(0, 0, 0) != 0)
		return false;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		(void)sigaction(quiet[i], &sa, NULL);
	(void)setsid();
	alarm(RUN_SECONDS);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
	if (clearenv() != 0 || setenv("PATH", SAFE_PATH, 1) != 0)
		return false;
	return close_range(3, ~0u, 0) == 0;
}

static bool is_channel(int fd)
{
	struct stat st;
	/* The module passes one end of a socketpair (helper_client.c says why). */
	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && !isatty(fd);
}

/* Step 6: the caller's own account.  Root may name any user. */
static int pick_user(struct verify *v, uid_t ruid, const char *asked, char *pwbuf, size_t pwlen)
{
	struct passwd pw, *res = NULL;

	if (ruid == 0) {
		v->user = asked;
		return 0;
	}
	if (getpwuid_r(ruid, &pw, pwbuf, pwlen, &res) != 0 || res == NULL) {
		verify_audit(v, "auth", "fail", "helper_unknown_uid", "requested", asked, NULL);
		return MFA_HP_EXIT_FAIL;
	}
	v->user = res->pw_name;
	if (strcmp(res->pw_name, asked) != 0) {
		verify_audit(v, "auth", "fail", "helper_user_mismatch", "requested", asked, NULL);
		return MFA_HP_EXIT_FAIL;
	}
	return 0;
}

/* Step 7: the compiled-in file; root may name another with conf=PATH. */
static int load_config(struct verify *v, uid_t ruid, int argc, char **argv)
{
	struct mfa_config_error cerr;
	const char *conf[1];
	int n = 0;

	if (argc == ARGS_MAX) {
		if (ruid != 0 || strncmp(argv[ARGS_MAX - 1], "conf=", 5) != 0) {
			verify_audit(v, "auth", "fail", "helper_usage", "detail", "conf= refused",
			    NULL);
			return MFA_HP_EXIT_USAGE;
		}
		conf[n++] = argv[ARGS_MAX - 1];
	}
	if (mfa_config_from_args(&v->cfg, n, conf, &cerr) != 0) {
		verify_audit(v, "store_error", "fail", "config", "detail", cerr.msg, NULL);
		return MFA_HP_EXIT_STORE;
	}
	return 0;
}

static const char *inherited_env(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/*
 * Where the clerk is (remote.h): remote when the caller says so (PLACE, the
 * module's own decision), or when anything the helper sees says so (the
 * service, tty and rhost it was given, the SSH_* variables it inherited:
 * env_remote, read before the environment was cleared).  The helper cannot
 * check a caller's "local": nothing it can read proves where a person sits.
 * It need not: a caller that is not root gets a verdict on its own account
 * only (pick_user), so a false "local" lets a process that already runs as
 * the clerk pass the clerk's own card check, which gives it nothing its uid
 * does not already have (it can end its own screen locker).  A signal can
 * only take the card away.  An unknown PLACE is a usage error.
 */
static int pick_place(struct verify *v, const char *rhost, const char *place,
    const char *env_remote)
{
	struct mfa_login_place p = { v->src.service, v->src.tty, rhost, NULL, NULL, NULL, NULL };
	const char *seen = mfa_login_remote(&p);

	if (strcmp(place, MFA_HP_PLACE_LOCAL) != 0 && !mfa_remote_token_valid(place)) {
		verify_audit(v, "auth", "fail", "helper_usage", "detail", "bad place", NULL);
		return MFA_HP_EXIT_USAGE;
	}
	v->remote = strcmp(place, MFA_HP_PLACE_LOCAL) != 0 ? place :
	    seen != NULL                                   ? seen :
	                                                     env_remote;
	return 0;
}

/* The verdict, said on the channel as well as in the exit status (helper_proto.h). */
static int finish(const struct verify *v, int status)
{
	struct mfa_hp_request rq = { .kind = MFA_HP_END, .arg = (uint64_t)status };
	char line[MFA_HP_LINE_MAX + 1];

	if (mfa_hp_format_request(&rq, line, sizeof(line)) == 0)
		(void)mfa_hp_write_all(v->out, line, strlen(line));
	return status;
}

int main(int argc, char **argv)
{
	static char pwbuf[4096];
	struct mfa_login_place env_only = { NULL, NULL, NULL, NULL, NULL, inherited_env, NULL };
	struct verify v;
	uid_t ruid = getuid();
	/* Before harden() clears the environment (a static token: it outlives it). */
	const char *env_remote = mfa_login_remote(&env_only);
	int rc;

	memset(&v, 0, sizeof(v));
	v.in = 0;
	v.out = 1;
	v.src.service = argc >= ARGS_MIN ? argv[4] : "";
	v.src.tty = argc >= ARGS_MIN ? argv[5] : "";
	snprintf(v.caller_uid, sizeof(v.caller_uid), "%u", (unsigned)ruid);
	if (!harden()) {
		verify_audit(&v, "auth", "fail", "helper_not_setuid", NULL);
		return MFA_HP_EXIT_USAGE;
	}
	if (!set_limits()) {
		verify_audit(&v, "auth", "fail", "helper_limits", NULL);
		return MFA_HP_EXIT_USAGE;
	}
	/* Step 5: a person at a terminal, or a caller that does not speak the protocol. */
	if (argc < ARGS_MIN || argc > ARGS_MAX || strcmp(argv[1], MFA_HP_MAGIC) != 0 ||
	    !is_channel(0) || !is_channel(1)) {
		verify_audit(&v, "auth", "fail", "helper_usage", NULL);
		sleep(2);
		return MFA_HP_EXIT_USAGE;
	}
	if ((rc = pick_user(&v, ruid, argv[3], pwbuf, sizeof(pwbuf))) != 0 ||
	    (rc = pick_place(&v, argv[6], argv[7], env_remote)) != 0 ||
	    (rc = load_config(&v, ruid, argc, argv)) != 0)
		return finish(&v, rc);
	if (strcmp(argv[2], "auth") == 0)
		return finish(&v, verify_authenticate(&v));
	if (strcmp(argv[2], "account") == 0)
		return finish(&v, verify_account(&v));
	verify_audit(&v, "auth", "fail", "helper_usage", NULL);
	return finish(&v, MFA_HP_EXIT_USAGE);
}
