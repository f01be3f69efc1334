/*
 * Configuration: one key=value parser for the config file and the PAM module
 * arguments (arguments override the file).  Keys and defaults: doc/DESIGN.md §3.
 */
#ifndef MFAUTH_CONF_H
#define MFAUTH_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#define MFA_FACTOR_TOTP 0x1u
#define MFA_FACTOR_CARD 0x2u

#define MFA_PROFILE_JPKI 0x1u
#define MFA_PROFILE_PIV 0x2u

/* Longest line the config parser accepts, newline excluded. */
#define MFA_CONFIG_LINE_MAX 1024

/* store = : where records and states live (store.c, backend_for()). */
#define MFA_BACKEND_FILES 0x1u /* store_dir on this machine (store_files.h) */
#define MFA_BACKEND_LDAP 0x2u  /* the fleet's directory server (store_ldap.h) */

/* lang = : the language of the clerk's text (pam_module/report.c, clerk_gettext()). */
#define MFA_LANG_AUTO 0x1u /* the host's locale (LC_MESSAGES), as the host set it */
#define MFA_LANG_JA 0x2u   /* Japanese (ja_JP.UTF-8's catalog), whatever the host's locale */
#define MFA_LANG_EN 0x4u   /* English (the msgids), whatever the host's locale */

struct mfa_config {
	char store_dir[PATH_MAX];
	char key_file[PATH_MAX];
	unsigned factors;        /* MFA_FACTOR_* */
	unsigned window;         /* TOTP steps accepted either side, 0..10 */
	unsigned deny;           /* failures before lock, 0 = never lock, 1..1000 */
	uint64_t unlock_time;    /* seconds a lock lasts; 0 = until staff unlock */
	uint64_t fail_interval;  /* seconds failures are counted over */
	unsigned deny_total;     /* failures since the last success that lock until staff
	                            * unlock, 0 = off, 1..100000 */
	bool nullok;             /* PAM_IGNORE for users with no enrollment */
	bool debug;              /* debug lines to syslog (never secrets) */
	unsigned card_wait;      /* seconds to wait for a card, 0..300 */
	bool card_remote;        /* offer the card to remote logins (remote.h); default no */
	char card_reader[128];   /* reader-name substring, "" = any */
	unsigned card_min_tries; /* refuse VERIFY with fewer tries left, 1..15 */
	unsigned card_profiles;  /* MFA_PROFILE_* */
	char helper[PATH_MAX];   /* setuid helper run when the module is not root */
	unsigned lang;           /* MFA_LANG_* */
	/* The fleet store (store = ldap); ignored by the files backend. */
	unsigned store;                     /* MFA_BACKEND_* */
	char ldap_uri[MFA_CONFIG_LINE_MAX]; /* blank-separated ldaps://, ldap://, ldapi:// URIs,
	                            * tried in order; "" = unset */
	char ldap_base[512];                /* DN of the user entries' parent; "" = unset */
	char ldap_bind_dn[512];             /* this machine's (or staff's) own DN; "" = unset */
	/*
	 * The fleet's paths are at most a config line long, not PATH_MAX: the
	 * struct lives on the stacks of other programs' threads (and is copied
	 * there by lib/auth.c).
	 */
	char ldap_bind_pw_file[MFA_CONFIG_LINE_MAX]; /* its password: root-only, trusted path */
	char ldap_ca_file[MFA_CONFIG_LINE_MAX];      /* PEM CA of the servers' certificates */
	bool ldap_starttls;    /* ldap:// URIs: StartTLS, required (no = plain text) */
	unsigned ldap_timeout; /* seconds per server (connect, TLS, bind) and per
	                            * operation, 1..300 */
	char ldap_module[MFA_CONFIG_LINE_MAX]; /* the directory backend's module (store = ldap) */
};

/* Error detail: which file, which line, what is wrong. */
struct mfa_config_error {
	char msg[PATH_MAX + 256];
};

/* Fill in the compiled-in defaults (paths from configure). */
void mfa_config_defaults(struct mfa_config *cfg);

/*
 * Set one key.  Returns 0, or MFA_ERR_CONFIG with err->msg naming the key and
 * the problem (unknown key, bad or out-of-range value).
 * Boolean keys accept "yes/no/true/false/1/0"; a NULL value means "yes"
 * (module arguments "nullok", "debug").
 */
int mfa_config_set(struct mfa_config *cfg, const char *key, const char *value,
    struct mfa_config_error *err);

/*
 * Parse config text (for the file, and for the fuzzer).  name is used in
 * messages.  Comments start with '#', blank lines are ignored, lines are
 * "key = value" with optional blanks.  Stops at the first error.
 */
int mfa_config_parse_text(struct mfa_config *cfg, const char *text, size_t len, const char *name,
    struct mfa_config_error *err);

/*
 * Load a config file after checking it is safe (root-owned, not writable by
 * group or other, no symlink anywhere on the path, regular file).  If
 * missing_ok and the file does not exist, returns 0 leaving cfg unchanged.
 */
int mfa_config_load_file(struct mfa_config *cfg, const char *path, bool missing_ok,
    struct mfa_config_error *err);

/*
 * Build the module's configuration: defaults, then the file named by a
 * "conf=PATH" argument (or the default file, which may be absent), then the
 * other arguments in order.
 */
int mfa_config_from_args(struct mfa_config *cfg, int argc, const char **argv,
    struct mfa_config_error *err);

/*
 * The rules between keys, checked once every key is set: with store = ldap,
 * ldap_uri, ldap_base and ldap_bind_dn must be set (the message names the
 * missing key).  mfa_config_from_args() checks them itself; callers of
 * mfa_config_load_file() (the tool) call this after it.  Returns 0 or
 * MFA_ERR_CONFIG with err->msg.
 */
int mfa_config_check(const struct mfa_config *cfg, struct mfa_config_error *err);

/* Does card_profiles allow this card type (enum mfa_card_profile)? */
bool mfa_config_profile_allowed(const struct mfa_config *cfg, unsigned card_profile);

/* The default config file path (from configure's sysconfdir). */
const char *mfa_config_default_path(void);

#endif
