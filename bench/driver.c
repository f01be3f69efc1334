/*
 * driver: time pam_authenticate over a list of (user, code) pairs.
 *
 *   driver --confdir DIR --service NAME --pairs FILE
 *          [--mode inproc|exec] [--repeat N] [--expect success|fail|any]
 *          [--label TEXT] [--floor-file PATH]
 *
 * FILE holds one login per line, "USER CODE" (blank lines and lines starting
 * with '#' are skipped).  Every login is a full PAM transaction on the stack
 * that DIR/NAME describes (pam_start_confdir, pam_authenticate, pam_end), with
 * a scripted conversation that answers every prompt with CODE.
 *
 * Two shapes, because PAM applications come in both:
 *   inproc  all logins in this one long-lived process (a display manager, sshd)
 *   exec    one fresh process per login (login, su): the time runs from spawn
 *           to exit, so exec, the dynamic loader and the modules' libraries
 *           (OpenSSL for pam_mfauth) are part of every login.
 *
 * --floor-file adds what any module that keeps a replay watermark must at
 * least do per login: open PATH, overwrite 512 bytes in place, fdatasync,
 * close.  Run it over a pam_permit.so stack to measure the floor.
 *
 * The PAM_FAIL_DELAY item is set to a function that does nothing, so the
 * deliberate delay modules request on failure (2 s in pam_mfauth) is not
 * what gets measured.
 *
 * Output, one line on stdout, for scripts:
 *   bench label=L mode=M logins=N expect=E ok=N unexpected=N median_us=X
 *   p90_us=X p95_us=X mean_us=X min_us=X max_us=X maxrss_kb=N
 * ok counts logins whose result matched --expect (success = PAM_SUCCESS,
 * fail = anything else).  maxrss_kb is this process's peak RSS (inproc) or
 * the largest login process's (exec).  The first unexpected result is also
 * described on stderr.
 *
 * Exit status: 0 every login as expected, 1 some were not, 2 usage or setup
 * error.
 *
 * Build: cc -O2 -o driver driver.c -lpam (it needs nothing from mfauth).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

extern char **environ;

#define FIELD_MAX 256   /* longest user name or code we read */
#define FLOOR_WRITE 512 /* bytes the floor rewrites per login */
#define REPEAT_MAX 1000000UL

/* Exit codes of a login process in exec mode. */
#define ONE_SUCCESS 0
#define ONE_REFUSED 1
#define ONE_SETUP 3

enum expect { EXPECT_ANY, EXPECT_SUCCESS, EXPECT_FAIL };

struct options {
	const char *confdir;
	const char *service;
	const char *pairs;
	const char *label;
	const char *floor_file;
	bool exec_mode;
	bool one; /* internal: be the login process of exec mode */
	unsigned long repeat;
	enum expect expect;
};

struct pair {
	char *user;
	char *code;
};

struct pairs {
	struct pair *v;
	size_t n;
};

struct tally {
	double *us; /* per-login time, microseconds */
	size_t n;
	size_t ok;
	size_t unexpected;
};

static void usage(void)
{
	fprintf(stderr,
	    "usage: driver --confdir DIR --service NAME --pairs FILE\n"
	    "              [--mode inproc|exec] [--repeat N] [--expect success|fail|any]\n"
	    "              [--label TEXT] [--floor-file PATH]\n");
}

/* The one conversation: every prompt gets the code, messages are dropped. */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *code = data;
	struct pam_response *r;

	if (n <= 0 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if ((r[i].resp = strdup(code)) == NULL) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Replaces the deliberate failure delay: we measure work, not sleep. */
static void no_delay(int status, unsigned int usec, void *appdata)
{
	(void)status;
	(void)usec;
	(void)appdata;
}

/* The floor's durable write; false when it could not be done. */
static bool floor_write(const char *path)
{
	static const char block[FLOOR_WRITE];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = pwrite(fd, block, sizeof(block), 0) == (ssize_t)sizeof(block) && fdatasync(fd) == 0;
	return close(fd) == 0 && ok;
}

/*
 * One PAM transaction.  Returns the PAM result, or -1 when PAM could not even
 * start (a setup error, never counted as a refused login).
 */
static int login_once(const struct options *o, const char *user, const char *code)
{
	struct pam_conv conv = { converse, (void *)(uintptr_t)code };
	pam_handle_t *pamh = NULL;
	int rc;

	if (pam_start_confdir(o->service, user, &conv, o->confdir, &pamh) != PAM_SUCCESS)
		return -1;
	rc = pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)(uintptr_t)no_delay);
	if (rc == PAM_SUCCESS)
		rc = pam_set_item(pamh, PAM_TTY, "bench");
	if (rc == PAM_SUCCESS)
		rc = pam_set_item(pamh, PAM_RHOST, "");
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	if (o->floor_file != NULL && !floor_write(o->floor_file)) {
		fprintf(stderr, "driver: %s: floor write: %s\n", o->floor_file, strerror(errno));
		return -1;
	}
	return rc;
}

static bool parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return false;
	*out = v;
	return true;
}

/* 0, or 2 after printing why the arguments are wrong. */
static int parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->repeat = 1;
	o->label = "-";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--one") == 0) {
			o->one = true;
			continue;
		}
		if (v == NULL)
			goto bad;
		i++;
		if (strcmp(a, "--confdir") == 0)
			o->confdir = v;
		else if (strcmp(a, "--service") == 0)
			o->service = v;
		else if (strcmp(a, "--pairs") == 0)
			o->pairs = v;
		else if (strcmp(a, "--label") == 0)
			o->label = v;
		else if (strcmp(a, "--floor-file") == 0)
			o->floor_file = v;
		else if (strcmp(a, "--mode") == 0 && strcmp(v, "inproc") == 0)
			o->exec_mode = false;
		else if (strcmp(a, "--mode") == 0 && strcmp(v, "exec") == 0)
			o->exec_mode = true;
		else if (strcmp(a, "--expect") == 0 && strcmp(v, "success") == 0)
			o->expect = EXPECT_SUCCESS;
		else if (strcmp(a, "--expect") == 0 && strcmp(v, "fail") == 0)
			o->expect = EXPECT_FAIL;
		else if (strcmp(a, "--expect") == 0 && strcmp(v, "any") == 0)
			o->expect = EXPECT_ANY;
		else if (strcmp(a, "--repeat") == 0 && parse_count(v, REPEAT_MAX, &o->repeat))
			continue;
		else
			goto bad;
	}
	if (o->confdir == NULL || o->service == NULL || (o->pairs == NULL && !o->one))
		goto bad;
	return 0;
bad:
	usage();
	return 2;
}

/* Split "USER CODE" in place; false for a malformed line. */
static bool split_pair(char *line, char **user, char **code)
{
	char *save = NULL;

	*user = strtok_r(line, " \t\r\n", &save);
	*code = strtok_r(NULL, " \t\r\n", &save);
	return *user != NULL && *code != NULL && strtok_r(NULL, " \t\r\n", &save) == NULL &&
	    strlen(*user) < FIELD_MAX && strlen(*code) < FIELD_MAX;
}

static void pairs_free(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].user);
		free(p->v[i].code);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* Read the pairs file; 0 or 2 (message printed). */
static int pairs_load(const char *path, struct pairs *p)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *user, *code;
	size_t cap = 0, lineno = 0, alloc = 0;
	int rc = 2;

	p->v = NULL;
	p->n = 0;
	if (f == NULL) {
		fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0' || line[0] == '#')
			continue;
		if (!split_pair(line, &user, &code)) {
			fprintf(stderr, "driver: %s:%zu: want \"USER CODE\"\n", path, lineno);
			goto out;
		}
		if (p->n == alloc) {
			size_t nalloc = alloc ? 2 * alloc : 256;
			struct pair *nv = realloc(p->v, nalloc * sizeof(*nv));
			if (nv == NULL)
				goto nomem;
			p->v = nv;
			alloc = nalloc;
		}
		p->v[p->n].user = strdup(user);
		p->v[p->n].code = strdup(code);
		if (p->v[p->n].user == NULL || p->v[p->n].code == NULL) {
			free(p->v[p->n].user);
			free(p->v[p->n].code);
			goto nomem;
		}
		p->n++;
	}
	if (p->n == 0) {
		fprintf(stderr, "driver: %s: no pairs\n", path);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	fprintf(stderr, "driver: out of memory\n");
out:
	free(line);
	fclose(f);
	if (rc != 0)
		pairs_free(p);
	return rc;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/*
 * Exec mode: run "SELF --one ..." with "USER\nCODE\n" on its stdin (not in
 * argv, where other users could read it) and return its exit code, or -1.
 */
static int spawn_one(const char *self, const struct options *o, const struct pair *pr)
{
	char *argv[10];
	int argc = 0, fds[2], status = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	bool spawned;

	argv[argc++] = (char *)(uintptr_t)self;
	argv[argc++] = (char *)(uintptr_t) "--one";
	argv[argc++] = (char *)(uintptr_t) "--confdir";
	argv[argc++] = (char *)(uintptr_t)o->confdir;
	argv[argc++] = (char *)(uintptr_t) "--service";
	argv[argc++] = (char *)(uintptr_t)o->service;
	if (o->floor_file != NULL) {
		argv[argc++] = (char *)(uintptr_t) "--floor-file";
		argv[argc++] = (char *)(uintptr_t)o->floor_file;
	}
	argv[argc] = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	/* Two short lines fit in any pipe buffer: write first, then spawn. */
	if (dprintf(fds[1], "%s\n%s\n", pr->user, pr->code) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	spawned = posix_spawn(&pid, self, &fa, NULL, argv, environ) == 0;
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (!spawned)
		return -1;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Exec mode's login process: read user and code from stdin, log in once. */
static int run_one(const struct options *o)
{
	char user[FIELD_MAX + 2], code[FIELD_MAX + 2];
	int rc;

	if (fgets(user, sizeof(user), stdin) == NULL || fgets(code, sizeof(code), stdin) == NULL)
		return ONE_SETUP;
	user[strcspn(user, "\n")] = '\0';
	code[strcspn(code, "\n")] = '\0';
	rc = login_once(o, user, code);
	explicit_bzero(code, sizeof(code));
	if (rc < 0)
		return ONE_SETUP;
	return rc == PAM_SUCCESS ? ONE_SUCCESS : ONE_REFUSED;
}

static const char *expect_name(enum expect e)
{
	return e == EXPECT_SUCCESS ? "success" : e == EXPECT_FAIL ? "fail" : "any";
}

/* Count one result; false for a setup error that ends the run. */
static bool record(const struct options *o, struct tally *t, const struct pair *pr, int result,
    double us)
{
	bool success = result == PAM_SUCCESS;

	if (result < 0) {
		fprintf(stderr, "driver: user %s: could not run the login (setup error)\n",
		    pr->user);
		return false;
	}
	t->us[t->n++] = us;
	if (o->expect == EXPECT_ANY || success == (o->expect == EXPECT_SUCCESS)) {
		t->ok++;
		return true;
	}
	if (t->unexpected++ == 0)
		fprintf(stderr, "driver: %s: user %s: %s, expected %s\n", o->label, pr->user,
		    success ? "accepted" : "refused", expect_name(o->expect));
	return true;
}

/* All logins of the run; 0 or 2 on a setup error. */
static int run_all(const struct options *o, const struct pairs *p, struct tally *t)
{
	char self[PATH_MAX];
	ssize_t len = 0;

	if (o->exec_mode) {
		len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len <= 0) {
			fprintf(stderr, "driver: /proc/self/exe: %s\n", strerror(errno));
			return 2;
		}
		self[len] = '\0';
	}
	for (unsigned long r = 0; r < o->repeat; r++) {
		for (size_t i = 0; i < p->n; i++) {
			const struct pair *pr = &p->v[i];
			double t0 = now_us(), t1;
			int result;

			if (o->exec_mode) {
				int ex = spawn_one(self, o, pr);
				result = ex == ONE_SUCCESS ? PAM_SUCCESS :
				    ex == ONE_REFUSED      ? PAM_AUTH_ERR :
				                             -1;
			} else {
				result = login_once(o, pr->user, pr->code);
			}
			t1 = now_us();
			if (!record(o, t, pr, result, t1 - t0))
				return 2;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts t->us and prints the result line. */
static void report(const struct options *o, struct tally *t)
{
	struct rusage ru;
	double sum = 0, median, p90, p95;
	size_t n = t->n, k;

	qsort(t->us, n, sizeof(*t->us), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += t->us[i];
	median = n % 2 ? t->us[n / 2] : (t->us[n / 2 - 1] + t->us[n / 2]) / 2;
	k = (9 * n + 9) / 10; /* nearest rank: ceil(0.9 n) */
	p90 = t->us[k > 0 ? k - 1 : 0];
	k = (19 * n + 19) / 20; /* ceil(0.95 n) */
	p95 = t->us[k > 0 ? k - 1 : 0];
	memset(&ru, 0, sizeof(ru));
	getrusage(o->exec_mode ? RUSAGE_CHILDREN : RUSAGE_SELF, &ru);
	printf("bench label=%s mode=%s logins=%zu expect=%s ok=%zu unexpected=%zu "
	       "median_us=%.1f p90_us=%.1f p95_us=%.1f mean_us=%.1f min_us=%.1f max_us=%.1f "
	       "maxrss_kb=%ld\n",
	    o->label, o->exec_mode ? "exec" : "inproc", n, expect_name(o->expect), t->ok,
	    t->unexpected, median, p90, p95, sum / (double)n, t->us[0], t->us[n - 1], ru.ru_maxrss);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct options o;
	struct pairs p = { NULL, 0 };
	struct tally t = { NULL, 0, 0, 0 };
	int rc;

	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc;
	if (o.one)
		return run_one(&o);
	if ((rc = pairs_load(o.pairs, &p)) != 0)
		return rc;
	if (p.n > SIZE_MAX / sizeof(double) / o.repeat ||
	    (t.us = malloc(p.n * o.repeat * sizeof(double))) == NULL) {
		fprintf(stderr, "driver: out of memory\n");
		pairs_free(&p);
		return 2;
	}
	rc = run_all(&o, &p, &t);
	if (rc == 0) {
		report(&o, &t);
		rc = t.unexpected == 0 ? 0 : 1;
	}
	free(t.us);
	pairs_free(&p);
	return rc;
}
