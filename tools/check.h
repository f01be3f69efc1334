/*
 * mfauth check: what the command's parts share.  check_report.c holds the
 * results; cmd_check.c the config and store-directory checks and the
 * command; check_keys.c the key files and what the store is sealed under;
 * check_store.c reads every file in the store; check_clock.c
 * judges the clock; check_pam.c reads the PAM stacks; check_sshd.c asks
 * sshd; check_helper.c looks at the setuid helper; check_lang.c at the
 * language of the clerk's text.  Each part only reports
 * (nothing is written), and only through check_report.c: the parts do not
 * call each other, except check_store.c handing each user's state to
 * check_clock_user and each entry's key ids to check_keys_count.
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

/* ---- check_report.c ---- */

/* One result: "SEVERITY: SUBJECT: MESSAGE", or one JSON object with --json. */
void check_report(struct report *r, enum sev sev, const char *check, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Before the first result: opens the JSON array with --json. */
void check_report_begin(struct report *r);

/*
 * After the last result: closes the JSON array, or prints the summary line.
 * Returns the command's exit status: EXIT_FAIL when any result is an error
 * or critical, else EXIT_OK.
 */
int check_report_end(const struct report *r);

/* msg without a leading "SUBJECT: " (library messages start with the path). */
const char *check_after_subject(const char *msg, const char *subject);

/* ---- check_keys.c ---- */

/* key_file and the two beside it (store_keys.h): the staged .next, a running rotation's .new. */
enum check_key_file { CHECK_KEY_CURRENT, CHECK_KEY_STAGED, CHECK_KEY_NEXT, CHECK_KEY_FILES };

/* More key ids than a rotation uses (old, new) are counted together. */
#define CHECK_KEYIDS_MAX 4
struct check_key_count {
	uint8_t id[MFA_KEYID_LEN];
	size_t entries;
};

/* What check learns of the keys: this machine's files, and what the store is sealed under. */
struct check_keys {
	bool loaded[CHECK_KEY_FILES]; /* the file loads: id[] is its key id (never the key) */
	uint8_t id[CHECK_KEY_FILES][MFA_KEYID_LEN];
	bool store_key_seen; /* store_key: the key id the decoy entry claims */
	uint8_t store_key[MFA_KEYID_LEN];
	struct check_key_count under[CHECK_KEYIDS_MAX]; /* entries per key id */
	size_t nunder;
	size_t other_entries; /* entries under ids past CHECK_KEYIDS_MAX */
};

/*
 * key_file, key_file.next and key_file.new: owner, mode, links, size, and
 * each one's key id (k starts afresh).  Returns true when key_file loads.
 */
bool check_keys_files(const struct cli *c, struct report *r, struct check_keys *k);

/* One entry of the store, by the key ids its state and record claim (NULL: unknown). */
void check_keys_count(struct check_keys *k, const uint8_t *state_id, const uint8_t *record_id);

/* The key id the store's own values (the directory's decoy) claim. */
void check_keys_store_key(struct check_keys *k, const uint8_t *id);

/*
 * After the store scan, over the directory: the key the decoy entry is under
 * against this machine's keys (an error when this machine does not hold it;
 * a warning to retire when it is the staged key), the entries under the old
 * and the new key during a rotation, and an error for entries under a key
 * this machine does not hold.  Nothing for the files backend.
 */
void check_keys_store(const struct cli *c, struct report *r, const struct check_keys *k);

/* ---- check_clock.c ---- */

/* A critical result when the clock is before this program's build date, else ok. */
void check_clock_build(struct report *r, uint64_t now);

/*
 * False (and a critical result) when the clock is behind what the user's state
 * has seen: every code would be refused as a replay until it catches up.
 */
bool check_clock_user(struct report *r, const char *user, const struct mfa_state *st,
    uint16_t period, unsigned window, uint64_t now);

/* What the store scan learned about the clock. */
struct clock_seen {
	bool checked;  /* states were read */
	size_t users;  /* states that loaded */
	size_t behind; /* users the clock is behind */
};

/*
 * Whom sshd's settings are asked for besides the global ones: the enrolled
 * users (collected by check_store_files), each also under every --sshd-match
 * connection spec ("addr=IP,host=NAME").
 */
#define CHECK_SSHD_MATCH_LEN 512 /* the longest --sshd-match spec */
struct check_sshd_who {
	char **users; /* owned: check_sshd_who_free() */
	size_t nusers, cap;
	const char *const *match; /* argv strings, not owned */
	size_t nmatch;
};

/* Appends a copy of user; false when out of memory. */
bool check_sshd_who_add(struct check_sshd_who *who, const char *user);
void check_sshd_who_free(struct check_sshd_who *who);

/* ---- check_store.c, check_pam.c, check_sshd.c ---- */

/*
 * Every file in the store; each enrolled user is added to who.  With the
 * store open (store != NULL: trusted directory, key loaded) records are
 * decrypted and states read; otherwise only names and modes are checked.
 * Each entry's key ids, and the decoy's, go to keys (check_keys_count).
 */
void check_store_files(struct cli *c, struct report *r, struct mfa_store *store, uint64_t now,
    struct clock_seen *clock, struct check_sshd_who *who, struct check_keys *keys);

/*
 * Every PAM service file in dir: is pam_mfauth.so in a stack, and placed so it
 * counts.  *sshd_auth is set when the sshd service runs the module in auth.
 */
void check_pam(struct report *r, const char *dir, bool *sshd_auth);

/*
 * sshd (check_sshd.c): with the module in the sshd stack, do sshd's settings
 * (`sshd -T [-f config]`, config NULL for sshd's own default) let the code
 * prompt reach the clerk, globally and for each user of who (`-C user=NAME`,
 * Match blocks applied)?  Nothing is reported but an info line when the
 * binary sshd is not installed or cannot print its settings.
 */
void check_sshd(struct report *r, const char *sshd, const char *config,
    const struct check_sshd_who *who);

/*
 * The setuid helper at path (check_helper.c, the config's `helper`): there,
 * root's, setuid, executable by others, not writable by others, on a trusted
 * path and not on a nosuid mount; otherwise PAM callers that are not root are
 * refused (a missing helper is a warning, the rest errors or critical).
 */
void check_helper(struct report *r, const char *path);

/*
 * The config's lang (check_lang.c, MFA_LANG_*): an ok line, or a warning when
 * lang = ja and the locale ja_JP.UTF-8 the module reads it through is not
 * installed (the clerks then read the host's language).
 */
void check_lang(struct report *r, unsigned lang);

#endif
