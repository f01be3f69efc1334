/*
 * mfauth check: what the command's parts share.  cmd_check.c holds the
 * results, the config, key, store-directory and clock checks and the command;
 * check_store.c reads every file in the store; check_pam.c reads the PAM
 * stacks.  Each part only reports: nothing is written.
 */
#ifndef MFAUTH_CHECK_H
#define MFAUTH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

enum sev { SEV_OK, SEV_INFO, SEV_WARNING, SEV_ERROR, SEV_CRITICAL };

/* The results so far: printed as they come, counted for the summary. */
struct report {
	bool json;
	size_t total;
	size_t count[SEV_CRITICAL + 1];
};

/* One result: "SEVERITY: SUBJECT: MESSAGE", or one JSON object with --json. */
void report(struct report *r, enum sev sev, const char *check, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* msg without a leading "SUBJECT: " (library messages start with the path). */
const char *after_subject(const char *msg, const char *subject);

/*
 * False (and a critical result) when the clock is behind what the user's state
 * has seen: every code would be refused as a replay until it catches up.
 */
bool check_clock_user(struct report *r, const char *user, const struct mfa_state *st,
    uint16_t period, unsigned window, uint64_t now);

/* What the store scan learned about the clock. */
struct clock_seen {
	bool checked;     /* states were read */
	size_t users;     /* states that loaded */
	size_t behind;    /* users the clock is behind */
};

/*
 * Every file in the store.  With the store open (store != NULL: trusted
 * directory, key loaded) records are decrypted and states read; otherwise only
 * names and modes are checked.
 */
void check_store_files(struct cli *c, struct report *r, struct mfa_store *store, uint64_t now,
    struct clock_seen *clock);

/*
 * Every PAM service file in dir: is pam_mfauth.so in a stack, and placed so it
 * counts.  *sshd_auth is set when the sshd service runs the module in auth.
 */
void check_pam(struct report *r, const char *dir, bool *sshd_auth);

/*
 * sshd (check_sshd.c): with the module in the sshd stack, do sshd's settings
 * (`sshd -T [-f config]`, config NULL for sshd's own default) let the code
 * prompt reach the clerk?  Nothing is reported but an info line when the
 * binary sshd is not installed or cannot print its settings.
 */
void check_sshd(struct report *r, const char *sshd, const char *config);

#endif
