/*
 * stall_login: a card login whose PIN prompt is answered late, after other
 * failures were counted (security review, finding 1).
 *
 *   stall_login CONFDIR CARD_SERVICE CODE_SERVICE USER PIN FAILS BEFORE AFTER
 *
 * Runs pam_authenticate for USER on CARD_SERVICE.  When the module asks for
 * the PIN, the conversation moves the clock BEFORE seconds forward, runs
 * FAILS logins of USER with a wrong code on CODE_SERVICE (a service that does
 * not use the card), moves the clock AFTER seconds further, and only then
 * answers PIN.  Finally it runs
 * pam_acct_mgmt for USER on CARD_SERVICE at that later time.  Prints one
 * line per step ("auth: RESULT", "code N: RESULT", "account: RESULT").
 *
 * The clock: this binary exports time() (linked with
 * -Wl,--export-dynamic-symbol=time), so the module reads real time plus the
 * offset set here.  The module must read the clock when it decides, after
 * the PIN: a time read before the prompt made the late failure reset the
 * count (the window reopened) or set a lock that was already over.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <security/pam_appl.h>

static time_t offset;

time_t time(time_t *t)
{
	struct timespec ts;
	time_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + offset;
	if (t != NULL)
		*t = now;
	return now;
}

struct stall {
	const char *confdir, *code_service, *user, *pin;
	int fails;
	long before, after;
	bool done;
};

static void no_delay(int status, unsigned int usec, void *appdata)
{
	(void)status;
	(void)usec;
	(void)appdata;
}

static int answer(const char *reply, int n, const struct pam_message **msg,
    struct pam_response **resp)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(reply);
	*resp = r;
	return PAM_SUCCESS;
}

static int wrong_code(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)data;
	return answer("000000", n, msg, resp);
}

static int run(const char *confdir, const char *service, const char *user, struct pam_conv *conv,
    bool account)
{
	pam_handle_t *pamh = NULL;
	int rc = pam_start_confdir(service, user, conv, confdir, &pamh);

	if (rc != PAM_SUCCESS)
		return rc;
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	rc = account ? pam_acct_mgmt(pamh, 0) : pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	return rc;
}

/* The other failures happen while this login waits at its PIN prompt. */
static int late_pin(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct stall *s = data;

	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF || s->done)
			continue;
		s->done = true;
		offset += s->before;
		for (int k = 0; k < s->fails; k++) {
			struct pam_conv c = { wrong_code, NULL };
			int rc = run(s->confdir, s->code_service, s->user, &c, false);
			printf("code %d: %s\n", k + 1, pam_strerror(NULL, rc));
		}
		offset += s->after;
	}
	return answer(s->pin, n, msg, resp);
}

int main(int argc, char **argv)
{
	struct stall s;
	struct pam_conv conv = { late_pin, &s };
	int rc;

	if (argc != 9) {
		fprintf(stderr,
		    "usage: stall_login CONFDIR CARD_SERVICE CODE_SERVICE USER PIN "
		    "FAILS BEFORE AFTER\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	s.confdir = argv[1];
	s.code_service = argv[3];
	s.user = argv[4];
	s.pin = argv[5];
	s.fails = atoi(argv[6]);
	s.before = atol(argv[7]);
	s.after = atol(argv[8]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = run(s.confdir, argv[2], s.user, &conv, false);
	printf("auth: %s\n", pam_strerror(NULL, rc));
	if (!s.done)
		printf("no PIN prompt\n");
	rc = run(s.confdir, argv[2], s.user, &(struct pam_conv){ wrong_code, NULL }, true);
	printf("account: %s\n", pam_strerror(NULL, rc));
	return 0;
}
