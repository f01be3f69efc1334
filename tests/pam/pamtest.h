/*
 * A harness for driving the built pam_mfauth.so through the real Linux-PAM
 * stack: a sandbox (config, key, store, PAM service directory), a scripted
 * conversation, an injected clock and code generation by the independent
 * `oathtool` binary.
 */
#ifndef MFAUTH_PAMTEST_H
#define MFAUTH_PAMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <security/pam_appl.h>

#include "mfauth/conf.h"

/* The clock the module sees: the test binary exports time() (see pamtest.c). */
extern time_t pt_fake_now;

struct pt_conv {
	const char *reply;       /* answer to every echo-off prompt */
	const char *first_reply; /* if set, the answer to the first prompt instead */
	bool null_reply;         /* answer with resp == NULL */
	bool conv_error;         /* the conversation itself fails */
	int prompts;             /* echo-off prompts seen */
	char last_prompt[128];
	char messages[1024]; /* info and error messages, "\n"-separated */
};

struct pt_sandbox {
	char dir[64];
	char conf[128];          /* mfauth.conf path */
	char pamd[128];          /* service directory */
	char module[512];        /* absolute path of the built module */
	char password_stub[512]; /* tests/pam/password_stub.so (pam_unix's stand-in) */
	/* The fleet store (pamtest_ldap.h), with MFAUTH_TEST_STORE=ldap only. */
	char ldap_base[256]; /* the sandbox's entry under the rig's base */
	char extra[512];     /* pt_setup()'s extra lines, kept for rewrites of the config */
};

/*
 * Create a sandbox with `extra` appended to mfauth.conf (may be NULL).  Its
 * store is a files store in the sandbox, or, with MFAUTH_TEST_STORE=ldap in
 * the environment, the fleet store on the rig's slapd (pamtest_ldap.h).
 */
void pt_setup(struct pt_sandbox *sb, const char *extra);
void pt_teardown(struct pt_sandbox *sb);

/*
 * The configuration the tests seed the sandbox's store with, through
 * store.h (files: the store directory and key; ldap: staff credentials).
 */
void pt_store_config(const struct pt_sandbox *sb, struct mfa_config *cfg);

/*
 * Write service `name` with the given stack lines; "@MFA" expands to "module
 * conf=CONF", "@PW" to the password stub's path (give it password=WORD).
 */
void pt_service(const struct pt_sandbox *sb, const char *name, const char *lines);

/* Enroll user with a base32 seed and parameters, through the core store API. */
void pt_enroll(const struct pt_sandbox *sb, const char *user, const char *seed_b32, const char *alg,
    int digits, int period);

/* The code for time t, computed by oathtool (never by the code under test). */
void pt_code(const char *seed_b32, const char *alg, int digits, int period, time_t t, char out[16]);

/* Run pam_authenticate for user on service; returns the PAM code. */
int pt_auth(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv);
/*
 * Call the module's pam_sm_authenticate directly (dlopen), with arguments
 * "conf=CONF" and optionally one more; returns the module's own code.
 */
int pt_direct_auth(const struct pt_sandbox *sb, const char *user, struct pt_conv *conv,
    const char *extra_arg);
/* Same for pam_acct_mgmt. */
int pt_acct(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv);

/* The user's failure count and lock, read through the core API. */
uint32_t pt_failures(const struct pt_sandbox *sb, const char *user);

#endif
