/*
 * Security staff's commands: unlock a clerk, issue a one-time recovery code.
 * Both are audited with who ran them and why.
 */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mfauth/err.h"
#include "mfauth/lockout.h"
#include "mfauth/recovery.h"

/* Parse "USER [--reason TEXT] [--ttl D]"; ttl may be NULL when not accepted. */
static int parse_staff_args(int argc, char **argv, const char **user, const char **reason,
    uint64_t *ttl)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*reason = "";
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r') {
			*reason = optarg;
		} else if (opt == 't' && ttl != NULL) {
			if (cli_parse_duration(optarg, ttl) != 0 || *ttl == 0 ||
			    *ttl > MFA_RECOVERY_TTL_MAX) {
				cli_error(_("--ttl: '%s' is not a duration from 1s to 7d "
				    "(e.g. 90m, 24h, 7d)"), optarg);
				return EXIT_USAGE;
			}
		} else {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return EXIT_USAGE;
	/* The account NSS returns keys the store (a tool runs one command: static is fine). */
	static char account[MFA_USER_MAX + 1];
	*user = account;
	return cli_account(argv[optind], account, sizeof(account), false);
}

/* Retry-safe (store.h): *was_locked is set afresh on every call. */
static int clear_lock(struct mfa_state *st, void *ctx)
{
	bool *was_locked = ctx;
	*was_locked = st->locked_until != 0 || st->failures != 0;
	mfa_lockout_clear(st);
	return 1;
}

int cmd_unlock(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	const char *user, *reason;
	bool was_locked = false;
	int rc;

	if ((rc = parse_staff_args(argc, argv, &user, &reason, NULL)) != EXIT_OK) {
		if (rc == EXIT_USAGE)   /* else the user lookup failed, and said why */
			cli_error("%s", _("usage: mfauth unlock USER [--reason TEXT]"));
		return rc;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	rc = mfa_store_update(store, user, clear_lock, &was_locked);
	mfa_store_close(store);
	if (rc != 0) {
		cli_error(_("%s: cannot unlock: %s"), user,
		    rc == MFA_ERR_NOSTATE ? _("not enrolled") : cli_strerror(rc));
		cli_audit(c, "unlock", user, "fail", mfa_errtoken(rc), "note", reason, NULL);
		return EXIT_FAIL;
	}
	printf("%s: %s\n", user, was_locked ? _("unlocked, failures cleared") :
	    _("was not locked; failures cleared"));
	cli_audit(c, "unlock", user, "success", "", "note", reason, NULL);
	return EXIT_OK;
}

struct recovery_change {
	uint64_t now, ttl;
	char *code;                   /* MFA_RECOVERY_TEXT_LEN */
	uint64_t expires_at;
};

/*
 * Under the user's lock: a new code replaces the old one, only one is ever
 * valid.  Retry-safe (store.h): a retry issues a fresh code over c->code and
 * c->expires_at, so what is shown is the code of the record written.
 */
static int issue_code(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	struct recovery_change *c = ctx;
	int rc;

	(void)st;
	if (!exists)
		return MFA_ERR_NOENT;
	if ((rc = mfa_recovery_issue(&rec->recovery, c->now, c->ttl, c->code)) != 0)
		return rc;
	c->expires_at = rec->recovery.expires_at;
	return MFA_CHANGE_RECORD;
}

int cmd_recovery(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	const char *user, *reason;
	char code[MFA_RECOVERY_TEXT_LEN] = "", until[40], ttl_text[24];
	struct recovery_change rc_ctx = { (uint64_t)time(NULL), MFA_RECOVERY_TTL_DEFAULT, code, 0 };
	int rc, status = EXIT_FAIL;

	if ((rc = parse_staff_args(argc, argv, &user, &reason, &rc_ctx.ttl)) != EXIT_OK) {
		if (rc == EXIT_USAGE)   /* else the user lookup failed, and said why */
			cli_error("%s",
			    _("usage: mfauth recovery USER [--ttl DURATION] [--reason TEXT]"));
		return rc;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	if ((rc = mfa_store_change(store, user, false, issue_code, &rc_ctx)) != 0) {
		if (rc == MFA_ERR_NOENT)
			cli_error("%s: %s", user,
			    _("not enrolled: enroll a factor instead of issuing a recovery code"));
		else
			cli_error(_("%s: cannot issue a recovery code: %s"), user, cli_strerror(rc));
		cli_audit(c, "recovery_issued", user, "fail", mfa_errtoken(rc), "note", reason, NULL);
		goto out;
	}
	cli_format_time(rc_ctx.expires_at, until, sizeof(until));
	snprintf(ttl_text, sizeof(ttl_text), "%llu", (unsigned long long)rc_ctx.ttl);
	cli_audit(c, "recovery_issued", user, "success", "", "ttl", ttl_text, "note", reason, NULL);
	printf(_("One-time recovery code for %s, valid once until %s.\n"
	    "Give it to the clerk in person; it replaces any earlier code.\n"), user, until);
	printf("%s\n", code);
	status = EXIT_OK;
out:
	mfa_wipe(code, sizeof(code));
	mfa_store_close(store);
	return status;
}
