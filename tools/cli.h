/*
 * The mfauth admin tool: shared declarations.  main.c parses the global
 * options and dispatches; each command lives in its own cmd_*.c file.
 */
#ifndef MFAUTH_CLI_H
#define MFAUTH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mfauth/conf.h"
#include "mfauth/record.h"
#include "mfauth/state.h"
#include "mfauth/store.h"

/*
 * Messages are translated (text domain "mfauth", set up in main.c): _() where
 * a message is printed, N_() to mark one defined elsewhere, ngettext() for
 * counts.  Machine-read output stays untranslated: JSON, audit lines, the
 * otpauth URI, the recovery code, `list`'s table and `check`'s severity
 * words.
 */
#define MFA_TEXTDOMAIN "mfauth"
#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) (s)
#define ngettext(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) s
/* A core error's text in the user's language (the core's table is in po/ too). */
#define cli_strerror(err) _(mfa_strerror(err))

/* Exit status (doc/DESIGN.md §3). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct cli {
	struct mfa_config cfg;
	const char *config_path; /* -c FILE, or NULL for the default */
	char operator_desc[160]; /* "uid=0 sudo_user=bob loginuid=1000" */
};

/* "mfauth: " + message on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open the store, printing which file failed and why.  EXIT_OK or EXIT_FAIL. */
int cli_open_store(struct cli *c, struct mfa_store **store);

/* Check a user name argument, printing why it is refused. */
int cli_check_user(const char *user);

/*
 * The store's name for a typed user name (issue 12 finding 2): the account
 * name NSS returns (pw_name), saying so when it differs ("TANAKA" is
 * tanaka).  A name NSS does not know is kept as given (with a warning when
 * enrolling: directory users may appear later).  out holds cap bytes
 * (MFA_USER_MAX + 1).  EXIT_OK; EXIT_USAGE for a name the store refuses;
 * EXIT_FAIL when the lookup itself failed (message printed).
 */
int cli_account(const char *typed, char *out, size_t cap, bool enrolling);

/*
 * Audit an administrative action: event, user, result, reason, plus who did
 * it.  Extra key/value pairs may follow (NULL-terminated list).
 */
void cli_audit(const struct cli *c, const char *event, const char *user, const char *result,
    const char *reason, ...);

/* Times as "YYYY-MM-DD HH:MM:SS UTC" ("-" for 0). */
void cli_format_time(uint64_t t, char *out, size_t outlen);

/* Write s as a JSON string literal (quotes and escapes included). */
void cli_json_string(FILE *f, const char *s);

/*
 * Read one line from fd a byte at a time (no stdio buffer keeps a copy of a
 * secret, and nothing past the newline is consumed).  Returns the length,
 * newline and trailing CR removed, or LINE_EOF, LINE_LONG (did not fit in
 * outmax - 1 bytes; the rest of the line is discarded) or LINE_ERR.
 */
#define LINE_EOF (-1)
#define LINE_LONG (-2)
#define LINE_ERR (-3)
ssize_t cli_read_line(int fd, char *out, size_t outmax);

/* Parse a duration "90", "90s", "15m", "24h", "7d" into seconds. */
int cli_parse_duration(const char *s, uint64_t *secs);

/*
 * The arguments of the staff commands (unlock, recovery):
 * "USER [--reason TEXT] [--ttl D]", --ttl only when ttl is not NULL (1s up to
 * MFA_RECOVERY_TTL_MAX).  *user points to the account name NSS returns (a
 * static buffer: the tool runs one command), *reason to "" or the text.
 * EXIT_OK, EXIT_USAGE (the caller prints its usage line) or EXIT_FAIL (the
 * user lookup failed and said why).
 */
int cli_staff_args(int argc, char **argv, const char **user, const char **reason, uint64_t *ttl);

/* Commands: argv[0] is the command name. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_revoke(struct cli *c, int argc, char **argv);
int cmd_unlock(struct cli *c, int argc, char **argv);
int cmd_rekey(struct cli *c, int argc, char **argv);
int cmd_enroll(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_recovery(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_migrate(struct cli *c, int argc, char **argv);

/*
 * Subcommands, reached through cmd_enroll (cmd_enroll.c) and cmd_import
 * (cmd_import.c), which pass their argv shifted by one: argv[0] is "totp",
 * "card", "csv" or "pskc".
 */
int cmd_enroll_totp(struct cli *c, int argc, char **argv);
int cmd_enroll_card(struct cli *c, int argc, char **argv);
/* Also the usage line of a bare `mfauth import`. */
#define IMPORT_CSV_USAGE \
	N_("usage: mfauth import csv [--digits 6|8] " \
	   "[--algorithm sha1|sha256|sha512] [--period 30|60] < FILE")
int cmd_import_csv(struct cli *c, int argc, char **argv);
/*
 * Returns EXIT_OK when every key package was imported and the map had no bad
 * line, EXIT_FAIL when anything failed (each failure reported on stderr, the
 * others still imported), EXIT_USAGE for bad arguments.
 */
int cmd_import_pskc(struct cli *c, int argc, char **argv);

#endif
