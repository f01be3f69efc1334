/*
 * The card only at the terminal (doc/DESIGN.md): the built module through the
 * real Linux-PAM stack, a remote login (PAM_RHOST, PAM_TTY "ssh", service
 * sshd, SSH_CONNECTION in the PAM environment) with card_remote = no never
 * reaches the card: PCSCLITE_CSOCK_NAME points at a socket this test listens
 * on, and no PC/SC client may connect to it.  A card-only user is refused
 * with the reason and nothing counted; a user with card and TOTP gets the
 * notice and the code prompt; card_remote=yes and a local login do try the
 * card (the socket sees the connection).  Audit lines from a private
 * /dev/log; time injected.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "hardutil.h"
#include "pamtest.h"
#include "syslog_sink.h"
#include "mfauth/record.h"
#include "mfauth/store.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define MSG_NOTICE "The card can be used only at the terminal. Enter your authenticator code."
#define MSG_REFUSED "The card can be used only at the terminal, and this account has no"

struct fixture {
	struct pt_sandbox sb;
	int sink;
	char log[16384];
};

/*
 * The pcscd this process's PC/SC client would reach, one for the whole run:
 * libpcsclite reads PCSCLITE_CSOCK_NAME once per process.  A thread accepts
 * and closes each connection at once (the client then gives up), counting.
 */
static struct {
	char dir[64];
	char sock[128];
	int fd;
	pthread_t acceptor;
	atomic_int connections, taken;
	atomic_bool stop;
} pcscd = { .fd = -1 };

/* Where a login says it comes from, and what else its stack is given. */
struct place {
	const char *service;
	const char *tty;
	const char *rhost;
	const char *pam_env; /* "NAME=VALUE" put in the PAM environment, or NULL */
};

static void *accept_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&pcscd.stop)) {
		struct pollfd p = { pcscd.fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((c = accept(pcscd.fd, NULL, NULL)) >= 0) {
			close(c);
			atomic_fetch_add(&pcscd.connections, 1);
		}
	}
	return NULL;
}

static int pcscd_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(pcscd.dir, sizeof(pcscd.dir), "/tmp/mfauth-pam-remote.XXXXXX");
	if (mkdtemp(pcscd.dir) == NULL)
		return -1;
	snprintf(pcscd.sock, sizeof(pcscd.sock), "%s/pcscd.comm", pcscd.dir);
	if (strlen(pcscd.sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, pcscd.sock, strlen(pcscd.sock) + 1);
	pcscd.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pcscd.fd < 0 || bind(pcscd.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(pcscd.fd, 16) != 0 || setenv("PCSCLITE_CSOCK_NAME", pcscd.sock, 1) != 0)
		return -1;
	return pthread_create(&pcscd.acceptor, NULL, accept_loop, NULL) == 0 ? 0 : -1;
}

static void pcscd_stop(void)
{
	atomic_store(&pcscd.stop, true);
	pthread_join(pcscd.acceptor, NULL);
	close(pcscd.fd);
	unlink(pcscd.sock);
	rmdir(pcscd.dir);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mfa_store *store;
	struct mfa_record rec;

	pt_fake_now = 1800000000;
	pt_setup(&f->sb, "factors = totp,card\ndeny = 3\n");
	for (const char *svc = "login"; svc != NULL;
	     svc = strcmp(svc, "login") == 0 ? "sshd" : NULL)
		pt_service(&f->sb, svc, "auth required @MFA\naccount required @MFA\n");
	pt_service(&f->sb, "remote-yes", "auth required @MFA card_remote=yes\n");
	hu_enroll_card_only(&f->sb, "frank");
	/* alice: a TOTP seed and frank's kind of card. */
	pt_enroll(&f->sb, "alice", SEED, "sha1", 6, 30);
	store = hu_store_open(&f->sb);
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(mfa_store_load(store, "alice", &rec), 0);
	rec.card.present = true;
	rec.card.profile = MFA_CARD_JPKI;
	rec.card.spki_len = 32;
	memset(rec.card.spki, 0x30, rec.card.spki_len);
	snprintf(rec.card.serial, sizeof(rec.card.serial), "02");
	rec.card.not_before = (uint64_t)pt_fake_now - 86400;
	rec.card.not_after = (uint64_t)pt_fake_now + 86400 * 365;
	assert_int_equal(mfa_store_save(store, "alice", &rec), 0);
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	if ((f->sink = sink_open()) < 0)
		fail_msg("sink: %s", sink_error());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sink_close(f->sink);
	pt_teardown(&f->sb);
	free(f);
	return 0;
}

/* Connections the PC/SC client made to our socket since the last call. */
static int pcsc_connections(struct fixture *f)
{
	int now = atomic_load(&pcscd.connections);
	int n = now - atomic_load(&pcscd.taken);

	(void)f;
	atomic_store(&pcscd.taken, now);
	return n;
}

static void collect(struct fixture *f)
{
	char line[4096];
	ssize_t n;

	f->log[0] = '\0';
	while ((n = sink_recv(f->sink, line, sizeof(line), 50)) > 0) {
		size_t len = strlen(f->log);
		snprintf(f->log + len, sizeof(f->log) - len, "%s\n", line);
	}
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pt_conv *c = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			c->prompts++;
			snprintf(c->last_prompt, sizeof(c->last_prompt), "%s", msg[i]->msg);
			r[i].resp = strdup(c->reply != NULL ? c->reply : "");
		} else {
			size_t len = strlen(c->messages);
			snprintf(c->messages + len, sizeof(c->messages) - len, "%s\n", msg[i]->msg);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void no_delay(int status, unsigned int usec, void *appdata)
{
	(void)status;
	(void)usec;
	(void)appdata;
}

/* pam_authenticate for user from place p, every prompt answered with reply. */
static int auth_from(struct fixture *f, const struct place *p, const char *user, const char *reply,
    struct pt_conv *c)
{
	struct pam_conv pc = { converse, c };
	pam_handle_t *pamh = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->reply = reply;
	if (pam_start_confdir(p->service, user, &pc, f->sb.pamd, &pamh) != PAM_SUCCESS)
		fail_msg("pam_start_confdir %s failed", p->service);
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	pam_set_item(pamh, PAM_TTY, p->tty);
	if (p->rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, p->rhost);
	if (p->pam_env != NULL)
		assert_int_equal(pam_putenv(pamh, p->pam_env), PAM_SUCCESS);
	rc = pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	collect(f);
	return rc;
}

static const struct place remote[] = {
	{ "login", "pts/1", "192.0.2.7", NULL },
	{ "login", "ssh", "", NULL },
	{ "sshd", "pts/1", "", NULL },
	{ "login", "pts/1", "", "SSH_CONNECTION=192.0.2.7 50000 192.0.2.1 22" },
};
static const char *const signal_of[] = { "remote=rhost", "remote=tty", "remote=service",
	"remote=ssh_env" };

/* A card-only user, remote: refused with the reason, no PC/SC connection, no prompt, not counted. */
static void test_card_only_remote_refused(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;

	assert_int_equal(pcsc_connections(f), 0);
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		assert_int_equal(auth_from(f, &remote[i], "frank", "1234", &c), PAM_AUTH_ERR);
		if (strstr(c.messages, MSG_REFUSED) == NULL)
			fail_msg("case %zu: messages: %s", i, c.messages);
		assert_int_equal(c.prompts, 0);
		assert_int_equal(pcsc_connections(f), 0);
		if (strstr(f->log, "result=fail user=frank factor=card reason=card_remote") ==
		        NULL ||
		    strstr(f->log, signal_of[i]) == NULL)
			fail_msg("case %zu: audit: %s", i, f->log);
		assert_int_equal(pt_failures(&f->sb, "frank"), 0);
	}
}

/* Card and TOTP, remote: the notice, the code prompt, the code logs in; no PC/SC connection. */
static void test_card_and_totp_remote_code(void **state)
{
	struct fixture *f = *state;
	struct pt_conv c;
	char code[16];

	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(auth_from(f, &remote[0], "alice", code, &c), PAM_SUCCESS);
	assert_non_null(strstr(c.messages, MSG_NOTICE));
	assert_int_equal(c.prompts, 1);
	assert_string_equal(c.last_prompt, "Verification code: ");
	assert_int_equal(pcsc_connections(f), 0);
	if (strstr(f->log, "result=skip user=alice factor=card reason=card_remote") == NULL ||
	    strstr(f->log, "result=success user=alice factor=totp") == NULL)
		fail_msg("audit: %s", f->log);
}

/* card_remote=yes, and a local login: the card path runs (the PC/SC client connects). */
static void test_card_tried_when_allowed_or_local(void **state)
{
	struct fixture *f = *state;
	const struct place yes = { "remote-yes", "pts/1", "192.0.2.7", NULL };
	const struct place local = { "login", "tty1", "", NULL };
	struct pt_conv c;

	(void)auth_from(f, &yes, "frank", "1234", &c);
	assert_true(pcsc_connections(f) > 0);
	assert_null(strstr(f->log, "reason=card_remote"));
	(void)auth_from(f, &local, "frank", "1234", &c);
	assert_true(pcsc_connections(f) > 0);
	assert_null(strstr(f->log, "reason=card_remote"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_card_only_remote_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_card_and_totp_remote_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_card_tried_when_allowed_or_local, setup,
		    teardown),
	};

	unsetenv("SSH_CONNECTION");
	unsetenv("SSH_CLIENT");
	unsetenv("SSH_TTY");
	int rc;

	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private /dev/log: %s\n", sink_error());
		return 1;
	}
	if (pcscd_start() != 0) {
		fprintf(stderr, "cannot listen as a stand-in pcscd\n");
		return 1;
	}
	rc = cmocka_run_group_tests_name("pam_remote", tests, NULL, NULL);
	pcscd_stop();
	return rc;
}
