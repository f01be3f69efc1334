/* Helpers for the hardening tests (see hardutil.h). */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hardutil.h"
#include "mfauth/lockout.h"
#include "mfauth/record.h"

#define DIRECT_SERVICE "hu-direct"
#define MAX_ARGS 16

int64_t hu_prompt_ns, hu_call_start_ns;
void (*hu_on_prompt)(void);

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pt_conv *c = data;
	struct pam_response *r;

	if (c->conv_error)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			c->prompts++;
			hu_prompt_ns = hu_now_ns();
			if (hu_on_prompt != NULL)
				hu_on_prompt();
			snprintf(c->last_prompt, sizeof(c->last_prompt), "%s", msg[i]->msg);
			r[i].resp = c->reply ? strdup(c->reply) : NULL;
		} else {
			size_t len = strlen(c->messages);
			snprintf(c->messages + len, sizeof(c->messages) - len, "%s\n", msg[i]->msg);
		}
	}
	if (c->null_reply) {
		for (int i = 0; i < n; i++)
			free(r[i].resp);
		free(r);
		*resp = NULL;
		return PAM_SUCCESS;
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

void hu_module_open(struct hu_module *m, const struct pt_sandbox *sb)
{
	memset(m, 0, sizeof(*m));
	m->handle = dlopen(sb->module, RTLD_NOW | RTLD_LOCAL);
	if (m->handle == NULL)
		fail_msg("dlopen %s: %s", sb->module, dlerror());
	m->authenticate = (hu_sm_fn)dlsym(m->handle, "pam_sm_authenticate");
	m->acct_mgmt = (hu_sm_fn)dlsym(m->handle, "pam_sm_acct_mgmt");
	if (m->authenticate == NULL || m->acct_mgmt == NULL)
		fail_msg("dlsym: %s", dlerror());
	/* libpam wants a service file; the module is called outside any stack. */
	pt_service(sb, DIRECT_SERVICE, "auth required pam_deny.so\n");
}

void hu_module_close(struct hu_module *m)
{
	if (m->handle != NULL)
		dlclose(m->handle);
	memset(m, 0, sizeof(*m));
}

int64_t hu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int hu_call(const struct hu_module *m, const struct pt_sandbox *sb, const char *user,
    struct pt_conv *conv, const char *args, bool account, int64_t *ns)
{
	struct pam_conv pc = { converse, conv };
	pam_handle_t *pamh = NULL;
	char conf_arg[160], words[512];
	const char *argv[MAX_ARGS];
	char *save = NULL;
	int argc = 0, rc;
	int64_t t0;

	snprintf(conf_arg, sizeof(conf_arg), "conf=%s", sb->conf);
	argv[argc++] = conf_arg;
	snprintf(words, sizeof(words), "%s", args ? args : "");
	for (char *w = strtok_r(words, " ", &save); w != NULL && argc < MAX_ARGS;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	if (pam_start_confdir(DIRECT_SERVICE, user, &pc, sb->pamd, &pamh) != PAM_SUCCESS)
		fail_msg("pam_start_confdir failed");
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	pam_set_item(pamh, PAM_TTY, "tty7");
	hu_prompt_ns = 0;
	t0 = hu_call_start_ns = hu_now_ns();
	rc = (account ? m->acct_mgmt : m->authenticate)(pamh, 0, argc, argv);
	if (ns != NULL)
		*ns = hu_now_ns() - t0;
	pam_end(pamh, rc);
	return rc;
}

int hu_stack_auth(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv)
{
	struct pam_conv pc = { converse, conv };
	pam_handle_t *pamh = NULL;
	int rc;

	if (pam_start_confdir(service, user, &pc, sb->pamd, &pamh) != PAM_SUCCESS)
		fail_msg("pam_start_confdir %s failed", service);
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	pam_set_item(pamh, PAM_TTY, "tty7");
	pam_set_item(pamh, PAM_RHOST, "");
	rc = pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	return rc;
}

int hu_fd_list(char *out, size_t len)
{
	struct dirent *de;
	size_t o = 0;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (d == NULL)
		return -1;
	if (len > 0)
		out[0] = '\0';
	while ((de = readdir(d)) != NULL) {
		char path[300], target[PATH_MAX];
		ssize_t t;

		if (de->d_name[0] == '.' || strtol(de->d_name, NULL, 10) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		if ((t = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[t] = '\0';
		n++;
		if (o < len)
			o += (size_t)snprintf(out + o, len - o, "%s -> %s\n", de->d_name, target);
	}
	closedir(d);
	return n;
}

void hu_codes(const char *seed_b32, time_t t, size_t n, char (*codes)[16])
{
	char cmd[512], line[64];
	size_t got = 0;
	FILE *p;

	if (n == 0)
		return;
	snprintf(cmd, sizeof(cmd), "oathtool --totp -b -d 6 -s 30 -N @%lld -w %zu %s", (long long)t,
	    n - 1, seed_b32);
	if ((p = popen(cmd, "r")) == NULL)
		fail_msg("oathtool failed (apt-get install oathtool)");
	while (got < n && fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) >= sizeof(codes[0]))
			fail_msg("oathtool: unexpected output");
		memcpy(codes[got++], line, strlen(line) + 1);
	}
	if (pclose(p) != 0 || got != n)
		fail_msg("oathtool gave %zu of %zu codes", got, n);
}

struct mfa_store *hu_store_open(const struct pt_sandbox *sb)
{
	struct mfa_config cfg;
	struct mfa_path_error perr;
	struct mfa_store *store = NULL;

	pt_store_config(sb, &cfg);
	if (mfa_store_open(&cfg, &store, &perr) != 0)
		fail_msg("store open: %s", perr.msg);
	return store;
}

void hu_enroll_card_only(const struct pt_sandbox *sb, const char *user)
{
	struct mfa_store *store = hu_store_open(sb);
	struct mfa_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.created_at = (uint64_t)pt_fake_now;
	rec.card.present = true;
	rec.card.profile = MFA_CARD_JPKI;
	rec.card.spki_len = 32;
	memset(rec.card.spki, 0x30, rec.card.spki_len);
	snprintf(rec.card.subject, sizeof(rec.card.subject), "CN=%s", user);
	snprintf(rec.card.serial, sizeof(rec.card.serial), "01");
	rec.card.not_before = (uint64_t)pt_fake_now - 86400;
	rec.card.not_after = (uint64_t)pt_fake_now + 86400 * 365 * 5;
	rec.card.enrolled_at = (uint64_t)pt_fake_now;
	assert_int_equal(mfa_store_save(store, user, &rec), 0);
	mfa_store_close(store);
}

static int lock_it(struct mfa_state *st, void *ctx)
{
	(void)ctx;
	st->failures = 5;
	st->locked_until = MFA_LOCK_FOREVER;
	return 1;
}

void hu_lock_forever(const struct pt_sandbox *sb, const char *user)
{
	struct mfa_store *store = hu_store_open(sb);

	assert_int_equal(mfa_store_update(store, user, lock_it, NULL), 0);
	mfa_store_close(store);
}

bool hu_asan_build(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}
