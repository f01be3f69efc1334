/* The PAM test harness (see pamtest.h). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pamtest.h"
#include "pamtest_ldap.h"
#include "testutil.h"
#include "mfauth/err.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"

time_t pt_fake_now = 1800000000;

/*
 * The injected clock.  The test binary is linked with
 * -Wl,--export-dynamic-symbol=time, so the module's call to time() binds
 * here instead of libc: deterministic time travel without sleeping.
 */
time_t time(time_t *t)
{
	if (t != NULL)
		*t = pt_fake_now;
	return pt_fake_now;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	tu_write_file(path, text, strlen(text), mode);
}

void pt_store_config(const struct pt_sandbox *sb, struct mfa_config *cfg)
{
	if (ptl_enabled()) {
		ptl_staff_config(sb, cfg);
		return;
	}
	mfa_config_defaults(cfg);
	snprintf(cfg->store_dir, sizeof(cfg->store_dir), "%s/store", sb->dir);
	snprintf(cfg->key_file, sizeof(cfg->key_file), "%s/store.key", sb->dir);
}

void pt_setup(struct pt_sandbox *sb, const char *extra)
{
	struct mfa_config cfg;
	struct mfa_path_error perr;
	char text[2048], *dir;
	const char *build = getenv("MFAUTH_BUILDDIR");
	int rc;

	memset(sb, 0, sizeof(*sb));
	dir = tu_mkdtemp();
	snprintf(sb->dir, sizeof(sb->dir), "%s", dir);
	free(dir);
	snprintf(sb->conf, sizeof(sb->conf), "%s/mfauth.conf", sb->dir);
	snprintf(sb->pamd, sizeof(sb->pamd), "%s/pam.d", sb->dir);
	snprintf(sb->module, sizeof(sb->module), "%s/pam_module/.libs/pam_mfauth.so",
	    build ? build : ".");
	if (access(sb->module, R_OK) != 0)
		fail_msg("module not built: %s (set MFAUTH_BUILDDIR)", sb->module);
	snprintf(sb->password_stub, sizeof(sb->password_stub),
	    "%s/tests/pam/.libs/password_stub.so", build ? build : ".");
	if (mkdir(sb->pamd, 0755) != 0)
		fail_msg("mkdir %s", sb->pamd);
	/* libpam logs a complaint without a fallback service; like Debian's, it denies. */
	snprintf(text, sizeof(text), "%s/other", sb->pamd);
	write_text(text, "auth required pam_deny.so\naccount required pam_deny.so\n", 0644);
	if (ptl_enabled()) {
		ptl_setup(sb, extra);
		return;
	}
	snprintf(sb->extra, sizeof(sb->extra), "%s", extra ? extra : "");
	snprintf(text, sizeof(text), "store_dir = %s/store\nkey_file = %s/store.key\n%s", sb->dir,
	    sb->dir, sb->extra);
	write_text(sb->conf, text, 0600);

	pt_store_config(sb, &cfg);
	if ((rc = mfa_store_init(&cfg, &perr)) != 0)
		fail_msg("init: %s", perr.msg);
}

void pt_teardown(struct pt_sandbox *sb)
{
	tu_rmrf(sb->dir);
}

void pt_service(const struct pt_sandbox *sb, const char *name, const char *lines)
{
	char path[256], out[4096], mfa[768];
	size_t o = 0;

	snprintf(mfa, sizeof(mfa), "%s conf=%s", sb->module, sb->conf);
	for (const char *p = lines; *p && o < sizeof(out) - 1;) {
		if (strncmp(p, "@MFA", 4) == 0) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", mfa);
			p += 4;
		} else if (strncmp(p, "@PW", 3) == 0) {
			if (access(sb->password_stub, R_OK) != 0)
				fail_msg("not built: %s", sb->password_stub);
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", sb->password_stub);
			p += 3;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	snprintf(path, sizeof(path), "%s/%s", sb->pamd, name);
	write_text(path, out, 0644);
}

static void open_store(const struct pt_sandbox *sb, struct mfa_store **store)
{
	struct mfa_config cfg;
	struct mfa_path_error perr;

	pt_store_config(sb, &cfg);
	if (mfa_store_open(&cfg, store, &perr) != 0)
		fail_msg("store open: %s", perr.msg);
}

void pt_enroll(const struct pt_sandbox *sb, const char *user, const char *seed_b32, const char *alg,
    int digits, int period)
{
	struct mfa_store *store;
	struct mfa_record rec;

	memset(&rec, 0, sizeof(rec));
	open_store(sb, &store);
	rec.created_at = (uint64_t)pt_fake_now;
	rec.totp.present = true;
	if (mfa_base32_decode(seed_b32, rec.totp.secret, sizeof(rec.totp.secret),
	        &rec.totp.secret_len) != 0 ||
	    mfa_alg_parse(alg, &rec.totp.alg) != 0)
		fail_msg("bad test seed or algorithm");
	rec.totp.digits = (uint8_t)digits;
	rec.totp.period = (uint16_t)period;
	rec.totp.enrolled_at = (uint64_t)pt_fake_now;
	assert_int_equal(mfa_store_save(store, user, &rec), 0);
	mfa_store_close(store);
}

void pt_code(const char *seed_b32, const char *alg, int digits, int period, time_t t, char out[16])
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "oathtool --totp=%s -b -d %d -s %d -N @%lld %s", alg, digits,
	    period, (long long)t, seed_b32);
	if ((p = popen(cmd, "r")) == NULL || fgets(out, 16, p) == NULL)
		fail_msg("oathtool failed (apt-get install oathtool)");
	out[strcspn(out, "\n")] = '\0';
	if (pclose(p) != 0)
		fail_msg("oathtool exited non-zero");
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pt_conv *c = data;
	struct pam_response *r;

	if (c->conv_error)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			c->prompts++;
			snprintf(c->last_prompt, sizeof(c->last_prompt), "%s", msg[i]->msg);
			if (c->prompts == 1 && c->first_reply != NULL)
				r[i].resp = strdup(c->first_reply);
			else
				r[i].resp = c->reply ? strdup(c->reply) : NULL;
			break;
		default: {
			size_t len = strlen(c->messages);
			snprintf(c->messages + len, sizeof(c->messages) - len, "%s\n", msg[i]->msg);
			break;
		}
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

/* No deliberate failure delay in tests: the application may replace it. */
static void no_delay(int status, unsigned int usec, void *appdata)
{
	(void)status;
	(void)usec;
	(void)appdata;
}

static int run(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv, bool account)
{
	struct pam_conv pc = { converse, conv };
	pam_handle_t *pamh = NULL;
	int rc;

	rc = pam_start_confdir(service, user, &pc, sb->pamd, &pamh);
	if (rc != PAM_SUCCESS)
		fail_msg("pam_start_confdir: %d", rc);
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	pam_set_item(pamh, PAM_TTY, "tty7");
	pam_set_item(pamh, PAM_RHOST, "");
	rc = account ? pam_acct_mgmt(pamh, 0) : pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	return rc;
}

int pt_auth(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv)
{
	return run(sb, service, user, conv, false);
}

int pt_acct(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv)
{
	return run(sb, service, user, conv, true);
}

int pt_direct_auth(const struct pt_sandbox *sb, const char *user, struct pt_conv *conv,
    const char *extra_arg)
{
	typedef int (*sm_fn)(pam_handle_t *, int, int, const char **);
	struct pam_conv pc = { converse, conv };
	pam_handle_t *pamh = NULL;
	char conf_arg[160];
	const char *argv[2] = { conf_arg, extra_arg };
	void *h = dlopen(sb->module, RTLD_NOW | RTLD_LOCAL);
	sm_fn fn;
	int rc;

	if (h == NULL || (fn = (sm_fn)dlsym(h, "pam_sm_authenticate")) == NULL)
		fail_msg("dlopen %s: %s", sb->module, dlerror());
	snprintf(conf_arg, sizeof(conf_arg), "conf=%s", sb->conf);
	/* libpam wants a service file; the module is called without its stack. */
	pt_service(sb, "direct", "auth required pam_deny.so\n");
	assert_int_equal(pam_start_confdir("direct", user, &pc, sb->pamd, &pamh), PAM_SUCCESS);
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	rc = fn(pamh, 0, extra_arg ? 2 : 1, argv);
	pam_end(pamh, rc);
	dlclose(h);
	return rc;
}

uint32_t pt_failures(const struct pt_sandbox *sb, const char *user)
{
	struct mfa_store *store;
	struct mfa_state st;

	open_store(sb, &store);
	assert_int_equal(mfa_store_read_state(store, user, &st), 0);
	mfa_store_close(store);
	return st.failures;
}
