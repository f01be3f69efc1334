/*
 * Helpers for the hardening tests (long-lived host, disk full, return-code
 * matrix, timing), on top of pamtest.h.
 *
 * A long-lived host (a display manager, sshd) keeps the module loaded and
 * calls it again and again; hu_module_open() does the same: one dlopen()
 * for many calls, so leaks and descriptors add up where a test can see them,
 * and a call can be timed without the cost of loading the module.
 */
#ifndef MFAUTH_HARDUTIL_H
#define MFAUTH_HARDUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <security/pam_appl.h>

#include "pamtest.h"
#include "mfauth/store.h"

typedef int (*hu_sm_fn)(pam_handle_t *, int, int, const char **);

struct hu_module {
	void *handle;
	hu_sm_fn authenticate;
	hu_sm_fn acct_mgmt;
};

/* dlopen the sandbox's module (fails the test on error); write service "direct". */
void hu_module_open(struct hu_module *m, const struct pt_sandbox *sb);
void hu_module_close(struct hu_module *m);

/*
 * Call pam_sm_authenticate (or pam_sm_acct_mgmt when account is true) with
 * the arguments "conf=CONF" followed by the blank-separated words of args
 * (may be NULL), through a fresh PAM handle whose failure delay is disabled.
 * Returns the module's own code; *ns (if not NULL) gets the wall time of the
 * module call alone (CLOCK_MONOTONIC).
 */
int hu_call(const struct hu_module *m, const struct pt_sandbox *sb, const char *user,
    struct pt_conv *conv, const char *args, bool account, int64_t *ns);

/* Same as pt_auth(), with a conversation of our own (the harness's is static). */
int hu_stack_auth(const struct pt_sandbox *sb, const char *service, const char *user,
    struct pt_conv *conv);

/*
 * The open descriptors of this process, one "N -> target" line each, into
 * out (truncated to len); returns how many there are, or -1.
 */
int hu_fd_list(char *out, size_t len);

/*
 * When the conversation last showed a prompt, and when hu_call() last
 * entered the module (hu_now_ns() clock); hu_prompt_ns is 0 without a prompt.
 */
extern int64_t hu_prompt_ns, hu_call_start_ns;
/* Called (when set) by hu_call()'s conversation as a prompt is shown. */
extern void (*hu_on_prompt)(void);

/*
 * n consecutive TOTP codes (SHA-1, 6 digits, 30 s) from time t on, made by
 * one oathtool run; codes[i] is the code for t + 30 * i.
 */
void hu_codes(const char *seed_b32, time_t t, size_t n, char (*codes)[16]);

/* Open the sandbox's store through the core (fails the test on error). */
struct mfa_store *hu_store_open(const struct pt_sandbox *sb);

/* Enroll user with a card factor only (a made-up key: no card will match). */
void hu_enroll_card_only(const struct pt_sandbox *sb, const char *user);

/* Lock user until staff unlock, through the core, as too many failures would. */
void hu_lock_forever(const struct pt_sandbox *sb, const char *user);

/* Monotonic nanoseconds. */
int64_t hu_now_ns(void);

/* True when the binary was built with AddressSanitizer. */
bool hu_asan_build(void);

#endif
