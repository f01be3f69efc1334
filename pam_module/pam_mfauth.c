/*
 * pam_mfauth: the second factor after the password module.
 *
 * Entry points and glue only: options, the user and the account NSS gives
 * for it, the store, the factor choice (card first where one is enrolled and
 * allowed, else or after it the code prompt), and the one function that turns
 * core errors into PAM codes.  The factors are card_login.c and
 * code_login.c, the helper's client helper_client.c; what is reported is
 * report.c's.  The module lives
 * in other people's processes (login, sshd, gdm, su): no exit(), no signal
 * handlers, no openlog(), nothing left open or allocated when it returns.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#endif

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "mfauth/account.h"
#include "mfauth/auth.h"
#include "mfauth/conf.h"
#include "mfauth/err.h"
#include "mfauth/remote.h"
#include "mfauth/store.h"
#include "module.h"

/* Delay on failure, in microseconds; the application may ask for longer. */
#define FAIL_DELAY_US 2000000

/* The one place core results become PAM codes: only a verified factor succeeds. */
static int pam_code(int err)
{
	return err == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

/*
 * Point the text domain at our catalogs, unless something already bound it
 * to another directory (a test harness, or a host that ships the catalogs
 * elsewhere): that binding is left alone.  An unbound domain reports the
 * same directory as one we know nobody binds, gettext's built-in default.
 */
static void bind_catalogs(void)
{
#ifdef ENABLE_NLS
	const char *cur = bindtextdomain(MFA_TEXTDOMAIN, NULL);
	const char *dflt = bindtextdomain(MFA_TEXTDOMAIN ".unbound", NULL);

	if (cur == NULL || dflt == NULL || strcmp(cur, dflt) == 0)
		bindtextdomain(MFA_TEXTDOMAIN, LOCALEDIR);
#endif
}

static const char *item_str(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == NULL)
		return "";
	return v;
}

/*
 * Key the login by the account NSS returns for the typed name, so that
 * "TANAKA" and "tanaka@DOMAIN" share tanaka's enrollment and lock.  A name
 * NSS does not know stays as typed and is marked unknown; a lookup that
 * fails otherwise fails the login (logged).  A name the store cannot hold
 * is left to the callers' mfa_name_check, as before.
 */
static int find_account(struct login *l)
{
	char err[16];
	int rc, sys_errno = 0;

	l->typed = l->user;
	rc = mfa_account_name(l->typed, l->account, sizeof(l->account), &sys_errno);
	if (rc == 0)
		l->user = l->account;
	else if (rc == MFA_ERR_NOENT)
		l->unknown = true;
	else if (rc != MFA_ERR_BADNAME || mfa_name_check(l->typed) == 0) {
		snprintf(err, sizeof(err), "%d", sys_errno);
		audit_line(l, "auth", "fail", mfa_errtoken(rc), "errno", err, NULL);
		return rc;
	}
	return 0;
}

/* remote.h's lookups: the PAM environment, and the host process's (read only). */
static const char *pam_env(void *ctx, const char *name)
{
	return pam_getenv(ctx, name);
}

static const char *proc_env(void *ctx, const char *name)
{
	(void)ctx;
	/*
	 * getenv, not secure_getenv: su and sudo are setuid, where
	 * secure_getenv sees nothing, and a variable here can only take the
	 * card away from the caller's own login (remote.h).
	 */
	return getenv(name);
}

/* Where the clerk is (remote.h): the one decision, from what PAM and the host say. */
static const char *login_remote(const struct login *l)
{
	struct mfa_login_place p = { l->src.service, l->src.tty, l->src.rhost, pam_env, l->pamh,
		proc_env, NULL };

	return mfa_login_remote(&p);
}

/* Options, user and source; an error here is logged and fails the login. */
static int login_begin(struct login *l, pam_handle_t *pamh, int argc, const char **argv)
{
	struct mfa_config_error cerr;
	int rc;

	memset(l, 0, sizeof(*l));
	l->pamh = pamh;
	l->src.service = item_str(pamh, PAM_SERVICE);
	l->src.tty = item_str(pamh, PAM_TTY);
	l->src.rhost = item_str(pamh, PAM_RHOST);
	l->remote = login_remote(l);
	rc = mfa_config_from_args(&l->cfg, argc, argv, &cerr);
	if (rc != 0) {
		audit_line(l, "store_error", "fail", "config", "detail", cerr.msg, NULL);
		return rc;
	}
	login_lang_check(l);
	if (pam_get_user(pamh, &l->user, NULL) != PAM_SUCCESS || l->user == NULL) {
		l->user = NULL;
		audit_line(l, "auth", "fail", "no_user", NULL);
		return MFA_ERR_INVAL;
	}
	return find_account(l);
}

static int open_store(struct login *l, struct mfa_store **store)
{
	struct mfa_path_error perr = { "" };
	int rc = mfa_store_open(&l->cfg, store, &perr);
	if (rc != 0) {
		*store = NULL;
		store_failed(l, rc, perr.msg);
	}
	return rc;
}

/*
 * A remote login (l->remote) and card_remote = no: the card is not used,
 * no PIN asked, nothing sent to it; the clerk is told why.  *fallback is
 * set when the code prompt may follow (a TOTP seed or recovery codes to
 * check); else the refusal.  Nothing is counted either way: no factor was tried, and
 * counting would let anyone who holds the password lock the clerk out of
 * the terminal from elsewhere (doc/DESIGN.md, "The card only at the terminal").
 */
static int card_kept_local(struct login *l, const struct mfa_record *rec, bool *fallback)
{
	struct mfa_record view;

	*fallback = mfa_auth_code_view(&l->cfg, rec, &view);
	mfa_record_wipe(&view);
	l->factor = "card";
	if (*fallback) {
		audit_line(l, "auth", "skip", "card_remote", "remote", l->remote, NULL);
		say_card_remote(l);
		return MFA_ERR_NOCARD;
	}
	audit_line(l, "auth", "fail", "card_remote", "remote", l->remote, NULL);
	say_card_remote_refused(l);
	return MFA_ERR_NOCARD;
}

/*
 * Prompt, then decide.  Unknown and unenrolled users see the same prompt.
 * *ignore is set only for nullok and a user with no enrollment at all.
 */
static int authenticate(struct login *l, bool *ignore)
{
	struct mfa_store *store = NULL;
	struct mfa_record rec, view;
	bool enrolled = false, fallback = true;
	int rc = MFA_ERR_NOENT;

	memset(&rec, 0, sizeof(rec));
	memset(&view, 0, sizeof(view));
	if (mfa_name_check(l->user) == 0) {
		if ((rc = open_store(l, &store)) != 0)
			goto out;
		/* A name NSS does not know is nobody's: the decoy, even with nullok. */
		rc = l->unknown ? MFA_ERR_NOENT : mfa_store_load(store, l->user, &rec);
		if (rc == MFA_ERR_NOENT && l->cfg.nullok && !l->unknown) {
			audit_line(l, "auth", "ignore", "not_enrolled", NULL);
			*ignore = true;
			goto out;
		}
		if (rc != 0 && rc != MFA_ERR_NOENT) {
			store_failed(l, rc, NULL);
			goto out;
		}
		enrolled = rc == 0;
		/* Reach the prompt as late as an enrolled user does, whose record was read and opened. */
		if (!enrolled)
			mfa_store_load_decoy(store);
	}
	if (enrolled && mfa_auth_card_offered(&l->cfg, &rec)) {
		if (l->remote != NULL && !l->cfg.card_remote)
			rc = card_kept_local(l, &rec, &fallback);
		else
			rc = card_login(l, store, &rec, &fallback);
		if (!fallback)
			goto out;
	}
	enrolled = enrolled && mfa_auth_code_view(&l->cfg, &rec, &view);
	rc = code_login(l, store, enrolled ? &view : NULL);
out:
	mfa_record_wipe(&rec);
	mfa_record_wipe(&view);
	mfa_store_close(store);
	return rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct login l;
	bool ignore = false;
	int ret = PAM_AUTH_ERR;
	int rc;

	(void)flags;
	bind_catalogs();
	pam_fail_delay(pamh, FAIL_DELAY_US);
	if (login_begin(&l, pamh, argc, argv) != 0)
		return ret;
	/* Not root (a screen locker): the root-only store is the helper's to read. */
	if (geteuid() != 0)
		return helper_authenticate(&l);
	rc = authenticate(&l, &ignore);
	if (ignore && l.cfg.nullok)
		ret = PAM_IGNORE;
	else
		ret = pam_code(rc);
	return ret;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* Deny a locked user, so logins that skip auth (SSH keys) respect the lock. */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct mfa_store *store = NULL;
	struct login l;
	int ret = PAM_AUTH_ERR;
	int rc;

	(void)flags;
	bind_catalogs();
	if (login_begin(&l, pamh, argc, argv) != 0 || mfa_name_check(l.user) != 0)
		return PAM_AUTH_ERR;
	/* No account behind the name: nothing to let in (fail closed). */
	if (l.unknown) {
		audit_line(&l, "account", "fail", "unknown_user", NULL);
		return PAM_USER_UNKNOWN;
	}
	if (geteuid() != 0)
		return helper_account(&l);
	if (open_store(&l, &store) != 0)
		return PAM_AUTH_ERR;
	rc = mfa_auth_account(store, &l.cfg, l.user, (uint64_t)time(NULL));
	if (rc == MFA_ERR_NOENT) {
		/* Nothing enrolled means no lock to enforce; auth decides the rest. */
		ret = l.cfg.nullok ? PAM_IGNORE : PAM_SUCCESS;
	} else if (rc == MFA_ERR_LOCKED) {
		audit_line(&l, "account", "locked", "locked", NULL);
		say_account_locked(&l);
		ret = PAM_PERM_DENIED;
	} else if (rc != 0) {
		store_failed(&l, rc, NULL);
	} else {
		ret = PAM_SUCCESS;
	}
	mfa_store_close(store);
	return ret;
}
