/*
 * mfauth check: read-only self-inspection (doc/DESIGN.md §3).
 *
 * Looks at the config file, the key files (and, over the directory, whether
 * this machine holds the key the fleet is sealed under), the store directory
 * and every file in it (each record must decrypt and name a factor, each
 * state must load), the clock, and the PAM stacks.  One line per result,
 * "SEVERITY: SUBJECT: MESSAGE", with an "ok" line for every check that
 * passed so an auditor sees what was looked at, then a summary; --json prints
 * the same results as an array of {check, severity, subject, message}.
 * Exit 1 when anything is an error or critical; warnings alone exit 0.
 *
 * Nothing is written: the store is opened with mfa_store_open() and read with
 * mfa_store_load() and mfa_store_read_state() (a shared lock, no update).
 * Here: checks 1 and 3 and the command; the results are check_report.c's,
 * check 2 (the key files, and the keys the store is under) check_keys.c,
 * check 4 (the files in the store) is check_store.c, check 5 (the clock)
 * check_clock.c, check 6 (the PAM stacks) check_pam.c, check 7 (sshd's
 * settings, when the sshd stack runs the module) check_sshd.c, check 8 (the
 * setuid helper, for PAM callers that are not root) check_helper.c, check 9
 * (the language of the clerk's text) check_lang.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "mfauth/err.h"

#define DEFAULT_PAM_DIR "/etc/pam.d"
#define SSHD_PATH "/usr/sbin/sshd"
#define SSHD_MATCH_MAX 16
#define CHECK_USAGE \
	N_("usage: mfauth check [--pam-dir DIR] [--sshd-config FILE] [--sshd-match SPEC]... " \
	   "[--json]")

/* ---- (1) config ----------------------------------------------------------- */

/*
 * Load the config ourselves (main does not, for check): an unsafe or broken
 * file is a finding here, not a reason to stop.  Returns true when c->cfg
 * holds a configuration the module would use.
 */
static bool check_config(struct cli *c, struct report *r)
{
	struct mfa_config_error cerr = { "" };
	struct mfa_path_error perr = { "" };
	const char *path = c->config_path ? c->config_path : mfa_config_default_path();
	int fd;

	mfa_config_defaults(&c->cfg);
	fd = mfa_open_trusted(path, O_RDONLY, false, &perr);
	if (fd == MFA_ERR_NOENT && c->config_path == NULL) {
		check_report(r, SEV_OK, "config", path, "%s",
		    _("not present: the built-in defaults are in use"));
		return true;
	}
	if (fd < 0) {
		check_report(r, fd == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "config", path,
		    _("%s (the module refuses it, so every login fails)"),
		    check_after_subject(perr.msg, path));
		return false;
	}
	close(fd);
	if (mfa_config_load_file(&c->cfg, path, c->config_path == NULL, &cerr) != 0) {
		check_report(r, SEV_ERROR, "config", path,
		    _("%s (the module refuses it, so every login "
		      "fails)"),
		    check_after_subject(cerr.msg, path));
		return false;
	}
	check_report(r, SEV_OK, "config", path, "%s",
	    _("root-owned, not writable by others, parses"));
	if (c->cfg.nullok)
		check_report(r, SEV_WARNING, "config", path, "%s",
		    _("nullok = yes: users with no "
		      "enrollment at all log in without a second factor"));
	if (c->cfg.card_remote)
		check_report(r, SEV_WARNING, "config", path, "%s",
		    _("card_remote = yes: an ssh login can use the card in this machine's "
		      "reader, for someone who is not at it"));
	return true;
}

/* lstat(path), reporting an error when it fails: a missing file is one init creates. */
static bool lstat_reported(struct report *r, const char *check, const char *path, struct stat *st)
{
	if (lstat(path, st) == 0)
		return true;
	if (errno == ENOENT)
		check_report(r, SEV_ERROR, check, path, "%s",
		    _("missing (mfauth init creates it)"));
	else
		check_report(r, SEV_ERROR, check, path, _("cannot stat: %s"), strerror(errno));
	return false;
}

/* ---- (3) store directory ---------------------------------------------------- */

/* Returns true when the directory is on a trusted path (the store may open). */
static bool check_store_dir(struct cli *c, struct report *r)
{
	const char *path = c->cfg.store_dir;
	struct mfa_path_error perr = { "" };
	enum sev worst = SEV_OK;
	mode_t mode;
	struct stat st;
	int fd;

	if (!lstat_reported(r, "store", path, &st))
		return false;
	mode = st.st_mode & 07777;
	if (S_ISLNK(st.st_mode)) {
		check_report(r, SEV_CRITICAL, "store", path, "%s", _("is a symbolic link"));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		check_report(r, SEV_CRITICAL, "store", path, "%s", _("not a directory"));
		return false;
	}
	if (st.st_uid != 0) {
		check_report(r, SEV_CRITICAL, "store", path, _("owned by uid %u, not root"),
		    (unsigned)st.st_uid);
		worst = SEV_CRITICAL;
	}
	if ((mode & 0022) != 0) {
		check_report(r, SEV_CRITICAL, "store", path,
		    _("writable by group or others (mode %04o): "
		      "anyone can plant, swap or remove files"),
		    (unsigned)mode);
		worst = SEV_CRITICAL;
	} else if ((mode & 0055) != 0) {
		check_report(r, SEV_WARNING, "store", path,
		    _("mode %04o: others can list the enrolled "
		      "users; 0700 wanted"),
		    (unsigned)mode);
		worst = SEV_WARNING;
	}
	fd = mfa_open_trusted(path, O_RDONLY, true, &perr);
	if (fd < 0) {
		if (worst < SEV_ERROR)
			check_report(r, fd == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "store",
			    path, "%s", check_after_subject(perr.msg, path));
		return false;
	}
	close(fd);
	if (worst == SEV_OK)
		check_report(r, SEV_OK, "store", path,
		    _("root-owned, mode %04o, on a trusted path"), (unsigned)mode);
	return true;
}

/* ---- the command --------------------------------------------------------------- */

/* Key, store directory, every store file and the per-user clock, given a usable config. */
static void check_store(struct cli *c, struct report *r, uint64_t now, struct clock_seen *clock,
    struct check_sshd_who *who)
{
	struct mfa_path_error perr = { "" };
	struct mfa_store *store = NULL;
	/* store = ldap: no store directory; the backend's check reaches the servers. */
	bool ldap = c->cfg.store == MFA_BACKEND_LDAP;
	struct check_keys keys;
	bool key_ok = check_keys_files(c, r, &keys), dir_ok = ldap || check_store_dir(c, r);
	int rc;

	if (key_ok && dir_ok && (rc = mfa_store_open(&c->cfg, &store, &perr)) != 0) {
		check_report(r, SEV_ERROR, "store", ldap ? c->cfg.ldap_base : c->cfg.store_dir,
		    _("cannot open the store: %s (%s)"), perr.msg[0] ? perr.msg : "?",
		    cli_strerror(rc));
		store = NULL;
	}
	check_store_files(c, r, store, now, clock, who, &keys);
	if (store != NULL)
		check_keys_store(c, r, &keys);
	mfa_store_close(store);
}

/*
 * A --sshd-match spec: KEY=VALUE pairs for sshd -C naming where a connection
 * comes from, never the user (check_sshd.c adds each enrolled user).  Only
 * the keys sshd's Match criteria besides User and Group read; values of
 * printable characters without blanks, commas or '='.
 */
static bool sshd_match_ok(const char *spec)
{
	static const char *const keys[] = { "addr=", "host=", "laddr=", "lport=", "rdomain=" };
	const char *p = spec;

	if (strlen(spec) > CHECK_SSHD_MATCH_LEN)
		return false;
	for (;;) {
		size_t k = 0, v;
		while (
		    k < sizeof(keys) / sizeof(keys[0]) && strncmp(p, keys[k], strlen(keys[k])) != 0)
			k++;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return false;
		p += strlen(keys[k]);
		v = strcspn(p, ",= \t\r\n");
		if (v == 0)
			return false;
		for (size_t i = 0; i < v; i++)
			if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
				return false;
		p += v;
		if (*p == '\0')
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

int cmd_check(struct cli *c, int argc, char **argv)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "pam-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "sshd-config", required_argument, NULL, 's' },
		{ "sshd-match", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	struct clock_seen clock = { false, 0, 0 };
	struct check_sshd_who who;
	const char *match[SSHD_MATCH_MAX];
	struct report r;
	const char *pam_dir = DEFAULT_PAM_DIR, *sshd_config = NULL;
	bool sshd_auth = false;
	uint64_t now;
	int opt;

	memset(&r, 0, sizeof(r));
	memset(&who, 0, sizeof(who));
	who.match = match;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pam_dir = optarg;
			break;
		case 'j':
			r.json = true;
			break;
		case 's':
			sshd_config = optarg;
			break;
		case 'm':
			if (!sshd_match_ok(optarg) || who.nmatch == SSHD_MATCH_MAX) {
				cli_error(_("--sshd-match %s: want at most %d of KEY=VALUE[,...] "
				            "with keys addr, host, laddr, lport, rdomain"),
				    optarg, SSHD_MATCH_MAX);
				return EXIT_USAGE;
			}
			match[who.nmatch++] = optarg;
			break;
		default:
			cli_error("%s", _(CHECK_USAGE));
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("%s", _(CHECK_USAGE));
		return EXIT_USAGE;
	}
	now = (uint64_t)time(NULL);
	check_report_begin(&r);
	if (check_config(c, &r)) {
		check_store(c, &r, now, &clock, &who);
		check_helper(&r, c->cfg.helper);
		check_lang(&r, c->cfg.lang);
	} else
		check_report(&r, SEV_INFO, "store", "store", "%s",
		    _("key, store and records not checked: no "
		      "usable configuration"));
	check_clock_build(&r, now);
	if (clock.checked && clock.behind == 0)
		check_report(&r, SEV_OK, "clock", "clock",
		    _("not behind the last login or accepted code of "
		      "any of %zu users"),
		    clock.users);
	check_pam(&r, pam_dir, &sshd_auth);
	if (sshd_auth)
		check_sshd(&r, SSHD_PATH, sshd_config, &who);
	check_sshd_who_free(&who);
	return check_report_end(&r);
}
