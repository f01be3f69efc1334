/*
 * The remote decision (lib/remote.c): each signal alone makes a login
 * remote and names itself; none is local; an empty or unrelated value is
 * no signal; the first signal in the documented order wins.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/remote.h"

/* A fake environment: NULL-terminated "NAME=VALUE" strings. */
static const char *fake_env(void *ctx, const char *name)
{
	const char *const *env = ctx;
	size_t n = strlen(name);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

struct place_case {
	const char *what;
	const char *service, *tty, *rhost;
	const char *pam_env[3];
	const char *proc_env[3];
	const char *want; /* NULL: local */
};

static const struct place_case cases[] = {
	{ "a console login", "login", "tty1", "", { NULL }, { NULL }, NULL },
	{ "su on a pty", "su", "/dev/pts/3", NULL, { NULL }, { "HOME=/root", NULL }, NULL },
	{ "a screen locker", "xscreensaver", ":0", "", { NULL }, { "DISPLAY=:0", NULL }, NULL },
	{ "nothing at all", NULL, NULL, NULL, { NULL }, { NULL }, NULL },
	{ "PAM_RHOST set", "login", "pts/1", "192.0.2.7", { NULL }, { NULL }, "rhost" },
	{ "PAM_RHOST localhost", "myapp", "pts/1", "127.0.0.1", { NULL }, { NULL }, "rhost" },
	{ "PAM_TTY ssh", "sshd-clerks", "ssh", "", { NULL }, { NULL }, "tty" },
	{ "PAM_TTY ssh-prefixed", "other", "ssh:notty", NULL, { NULL }, { NULL }, "tty" },
	{ "PAM_TTY sshfoo is not /dev/ssh", "su", "/dev/ssh", NULL, { NULL }, { NULL }, NULL },
	{ "service sshd", "sshd", "", "", { NULL }, { NULL }, "service" },
	{ "service sshd-like is not sshd", "sshdx", "pts/1", "", { NULL }, { NULL }, NULL },
	{ "SSH_CONNECTION in the PAM env", "su", "pts/1", "",
	    { "SSH_CONNECTION=192.0.2.7 50000 192.0.2.1 22", NULL }, { NULL }, "ssh_env" },
	{ "SSH_CLIENT in the process env", "su", "pts/1", "", { NULL },
	    { "SSH_CLIENT=192.0.2.7 50000 22", NULL }, "ssh_env" },
	{ "SSH_TTY in the process env", "sudo", "/dev/pts/2", "", { NULL },
	    { "SSH_TTY=/dev/pts/2", NULL }, "ssh_env" },
	{ "SSH_CONNECTION empty still set", "su", "pts/1", "", { NULL },
	    { "SSH_CONNECTION=", NULL }, "ssh_env" },
	{ "SSH_AUTH_SOCK is no signal", "su", "pts/1", "", { "SSH_AUTH_SOCK=/tmp/a", NULL },
	    { "SSH_AGENT_PID=12", NULL }, NULL },
	{ "rhost wins over the rest", "sshd", "ssh", "192.0.2.7", { NULL },
	    { "SSH_TTY=/dev/pts/2", NULL }, "rhost" },
};

static void test_each_signal(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct place_case *c = &cases[i];
		struct mfa_login_place p = { c->service, c->tty, c->rhost, fake_env,
			(void *)c->pam_env, fake_env, (void *)c->proc_env };
		const char *got = mfa_login_remote(&p);

		if ((got == NULL) != (c->want == NULL) ||
		    (got != NULL && strcmp(got, c->want) != 0))
			fail_msg("%s: got %s, want %s", c->what, got ? got : "local",
			    c->want ? c->want : "local");
		if (got != NULL)
			assert_true(mfa_remote_token_valid(got));
	}
}

/* No environment lookups (NULL functions): only the items decide. */
static void test_no_env(void **state)
{
	struct mfa_login_place p = { "su", "pts/1", "", NULL, NULL, NULL, NULL };

	(void)state;
	assert_null(mfa_login_remote(&p));
	p.rhost = "host.example";
	assert_string_equal(mfa_login_remote(&p), "rhost");
}

static void test_tokens(void **state)
{
	(void)state;
	assert_true(mfa_remote_token_valid("ssh_env"));
	assert_false(mfa_remote_token_valid("local"));
	assert_false(mfa_remote_token_valid(""));
	assert_false(mfa_remote_token_valid("rhost "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_signal),
		cmocka_unit_test(test_no_env),
		cmocka_unit_test(test_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
