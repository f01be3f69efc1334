/*
 * What the module reports, on its three channels: audit lines (the fields
 * are audit_login.c's, shared with the setuid helper), debug lines, and the
 * messages to the clerk, each written once here and shown by the module's
 * own paths and for the helper (helper_client.c) alike.  This file calls
 * no other file of the module.
 */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#endif

#include "mfauth/audit.h"
#include "mfauth/err.h"
#include "module.h"

/* A count for dngettext(): the card's tries left, never negative. */
static unsigned long count(int n)
{
	return n < 0 ? 0 : (unsigned long)n;
}

/* The locale whose catalog lang = ja reads. */
#define LANG_JA_LOCALE "ja_JP.UTF-8"

/*
 * The locale for lang = ja's lookups, or (locale_t)0 when it is not
 * installed.  LC_CTYPE comes with LC_MESSAGES: gettext converts a
 * translation to the codeset of the current LC_CTYPE, which in the C locale
 * (sshd's) is ASCII and would turn every Japanese character into '?'.
 */
static locale_t ja_locale(void)
{
	return newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, LANG_JA_LOCALE, (locale_t)0);
}

/*
 * The one lookup: dngettext when counted, else dgettext.  With lang = ja
 * the lookup runs under a locale of this thread's own (uselocale), the
 * thread's previous one restored right after and the new one freed: the
 * host's locale is never changed, and a host calling the module again and
 * again allocates nothing that stays.  The text stays valid: gettext keeps
 * each catalog it loaded, and its conversions, for the life of the process.
 */
static const char *lookup(const struct login *l, const char *msgid, const char *plural,
    unsigned long n, bool counted)
{
#ifdef ENABLE_NLS
	locale_t ja, prev;
	const char *text;

	if (l->cfg.lang == MFA_LANG_EN)
		return counted && n != 1 ? plural : msgid;
	if (l->cfg.lang != MFA_LANG_JA || (ja = ja_locale()) == (locale_t)0)
		return counted ? dngettext(MFA_TEXTDOMAIN, msgid, plural, n) :
		                 dgettext(MFA_TEXTDOMAIN, msgid);
	prev = uselocale(ja);
	text = counted ? dngettext(MFA_TEXTDOMAIN, msgid, plural, n) :
	                 dgettext(MFA_TEXTDOMAIN, msgid);
	uselocale(prev);
	freelocale(ja);
	return text;
#else
	(void)l;
	return counted && n != 1 ? plural : msgid;
#endif
}

const char *clerk_gettext(const struct login *l, const char *msgid)
{
	return lookup(l, msgid, msgid, 1, false);
}

const char *clerk_ngettext(const struct login *l, const char *msgid, const char *plural,
    unsigned long n)
{
	return lookup(l, msgid, plural, n, true);
}

/*
 * Once per call of the module: lang = ja on a machine without the locale
 * shows the host's language (English under sshd).  Staff learn why from
 * syslog (and `mfauth check`); the clerk is not told, in a language the
 * clerk may not read, of a setting the clerk cannot change.
 */
void login_lang_check(const struct login *l)
{
#ifdef ENABLE_NLS
	locale_t ja;

	if (l->cfg.lang != MFA_LANG_JA)
		return;
	if ((ja = ja_locale()) != (locale_t)0) {
		freelocale(ja);
		return;
	}
	mfa_syslog(MFA_LOG_WARNING, MFA_AUDIT_LOGIN_IDENT,
	    "warning: lang = ja, but the locale " LANG_JA_LOCALE " is not installed: the "
	    "clerk's text follows the host's locale");
#else
	(void)l;
#endif
}

/*
 * Whether the clerk reads this login's text through an ssh client: the
 * service is sshd, or the tty is "ssh", which OpenSSH's sshd sets (on Linux)
 * whatever service name it was built with.
 */
static bool over_ssh(const struct login *l)
{
	const void *service = NULL, *tty = NULL;

	if (pam_get_item(l->pamh, PAM_SERVICE, &service) == PAM_SUCCESS && service != NULL &&
	    strcmp(service, "sshd") == 0)
		return true;
	return pam_get_item(l->pamh, PAM_TTY, &tty) == PAM_SUCCESS && tty != NULL &&
	    strcmp(tty, "ssh") == 0;
}

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

/*
 * The text of a message (not a prompt) to the clerk: msgid's translation,
 * or msgid itself -- plain ASCII, checked by tests/doc/test-msgid-ascii.sh --
 * when the translation holds a byte outside ASCII and the clerk reads it
 * through ssh.  OpenSSH's client up to 10.2 prints a message sent with a
 * refusal with every such byte as an octal escape, under any locale
 * (doc/DESIGN.md, "Language of the clerk's text"); English is read
 * everywhere.  Prompts stay translated: ssh shows a prompt as sent in a
 * UTF-8 locale.  xgettext knows these two as keywords (po/Makevars).
 */
static const char *clerk_text(const struct login *l, const char *msgid)
    __attribute__((format_arg(2)));
static const char *clerk_text(const struct login *l, const char *msgid)
{
	const char *text = clerk_gettext(l, msgid);

	return is_ascii(text) || !over_ssh(l) ? text : msgid;
}

/* clerk_text() for a message with a count (dngettext). */
static const char *clerk_ntext(const struct login *l, const char *msgid, const char *plural,
    unsigned long n) __attribute__((format_arg(2))) __attribute__((format_arg(3)));
static const char *clerk_ntext(const struct login *l, const char *msgid, const char *plural,
    unsigned long n)
{
	const char *text = clerk_ngettext(l, msgid, plural, n);

	if (is_ascii(text) || !over_ssh(l))
		return text;
	return n == 1 ? msgid : plural;
}

/* Who the audit lines of this login speak of. */
static struct mfa_login_audit who(const struct login *l)
{
	struct mfa_login_audit w = { l->user, l->typed, l->factor, &l->src, NULL, NULL };
	return w;
}

void audit_line(const struct login *l, const char *event, const char *result, const char *reason,
    ...)
{
	struct mfa_login_audit w = who(l);
	va_list ap;

	va_start(ap, reason);
	mfa_audit_login_v(&w, event, result, reason, ap);
	va_end(ap);
}

void debug_line(const struct login *l, const char *what, int err)
{
	char line[256];
	if (!l->cfg.debug)
		return;
	snprintf(line, sizeof(line), "debug: %s: %s", what, mfa_strerror(err));
	mfa_syslog(MFA_LOG_DEBUG, MFA_AUDIT_LOGIN_IDENT, line);
}

/* The clerk learns of the lock on the attempt that set it, not only on the next one. */
void report_attempt(struct login *l, int rc, const struct mfa_auth_result *res,
    const struct mfa_attempt_audit *how)
{
	struct mfa_login_audit w = who(l);

	mfa_audit_login_attempt(&w, rc, res, how);
	if (rc == MFA_ERR_REPLAY && strcmp(l->factor, "totp") == 0)
		say_replay(l);
	if (rc == MFA_ERR_LOCKED || (rc != 0 && res->locked_now))
		say_locked(l);
}

/*
 * The password given at the code prompt: a client set up wrong (sshd without
 * keyboard-interactive), not a guess, so nothing is counted; one ssh run used
 * to lock the clerk.  The audit and the clerk both say why.
 */
void report_password_as_code(const struct login *l)
{
	audit_line(l, "auth", "fail", "password_as_code", NULL);
	pam_error(l->pamh, "%s",
	    clerk_text(l,
	        "The password was given where the verification code was "
	        "asked. If you log in with ssh, keyboard-interactive authentication must be "
	        "enabled. Contact your administrator."));
}

/* The same at the card's PIN prompt: nothing was sent to the card, nothing counted. */
void report_password_as_pin(const struct login *l)
{
	audit_line(l, "auth", "fail", "password_as_code", NULL);
	pam_error(l->pamh, "%s",
	    clerk_text(l,
	        "The password was given where the card PIN was asked. "
	        "If you log in with ssh, keyboard-interactive authentication must be enabled. "
	        "Contact your administrator."));
}

void say_locked(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    clerk_text(l,
	        "This account is locked after too many failed attempts. "
	        "Contact your security staff."));
}

void say_account_locked(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    clerk_text(l, "This account is locked. Contact your security staff."));
}

void say_replay(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    clerk_text(l, "This code was already used. Wait for the next code."));
}

void say_no_card(const struct login *l)
{
	pam_info(l->pamh, "%s", clerk_text(l, "No card found: enter a code instead."));
}

/*
 * The card is where the clerk sits (doc/DESIGN.md, "The card only at the
 * terminal"): one line before the code prompt, or the refusal's reason.
 */
void say_card_remote(const struct login *l)
{
	pam_info(l->pamh, "%s",
	    clerk_text(l,
	        "The card can be used only at the terminal. Enter your authenticator code."));
}

void say_card_remote_refused(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    clerk_text(l,
	        "The card can be used only at the terminal, and this account has no "
	        "authenticator code. Log in at the terminal, or contact security staff."));
}

void say_card_error(const struct login *l, int rc, uint8_t profile, int tries_left,
    uint64_t not_after)
{
	char date[32];
	time_t t = (time_t)not_after;
	struct tm tm;

	if (rc == 0)
		return;
	switch (rc) {
	case MFA_ERR_PIN_TRIES:
		pam_error(l->pamh,
		    clerk_ntext(l,
		        "Only %d PIN try is left on this card. To protect the card, the PIN is not "
		        "tried here. Use your authenticator code or a recovery code, or contact "
		        "security staff.",
		        "Only %d PIN tries are left on this card. To protect the card, the PIN is not "
		        "tried here. Use your authenticator code or a recovery code, or contact "
		        "security staff.",
		        count(tries_left)),
		    tries_left);
		break;
	case MFA_ERR_PIN_BLOCKED:
		pam_error(l->pamh, "%s",
		    profile == MFA_CARD_JPKI ?
		        clerk_text(l,
		            "The card's PIN is blocked. A My Number card PIN is reset at the municipal "
		            "office. Use your authenticator code or a recovery code meanwhile.") :
		        clerk_text(l, "The card's PIN is blocked. Contact security staff."));
		break;
	case MFA_ERR_BADPIN:
		/*
		 * This wrong PIN used the card's last try.  One wording for every
		 * profile: the helper's bad_pin message carries no profile.
		 */
		if (tries_left == 0) {
			pam_error(l->pamh, "%s",
			    clerk_text(l,
			        "Wrong PIN. The card's PIN is now blocked: have it reset (a My Number "
			        "card's at the municipal office, other cards by security staff) and use "
			        "your authenticator code or a recovery code meanwhile."));
			break;
		}
		pam_error(l->pamh,
		    clerk_ntext(l, "Wrong PIN. %d try left.", "Wrong PIN. %d tries left.",
		        count(tries_left)),
		    tries_left);
		break;
	case MFA_ERR_PIN_FORMAT:
		pam_error(l->pamh, "%s",
		    profile == MFA_CARD_JPKI ? clerk_text(l, "The PIN is 4 digits.") :
		                               clerk_text(l, "The PIN is 6 to 8 digits."));
		break;
	case MFA_ERR_EXPIRED:
		if (gmtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
			snprintf(date, sizeof(date), "?");
		pam_error(l->pamh,
		    clerk_text(l,
		        "The certificate enrolled for this card expired on %s. Ask "
		        "security staff to enroll the renewed card."),
		    date);
		break;
	case MFA_ERR_WRONG_CARD: /* found before any PIN prompt */
	case MFA_ERR_BADSIG:
	case MFA_ERR_NOAPP:
		pam_error(l->pamh, "%s",
		    clerk_text(l, "This is not the card enrolled for this account."));
		break;
	case MFA_ERR_TRIES_UNKNOWN:
		pam_error(l->pamh, "%s",
		    clerk_text(l,
		        "The card did not say how many PIN tries are left, so "
		        "the PIN is not tried. Use your authenticator code or a recovery code, or "
		        "contact security staff."));
		break;
	case MFA_ERR_NOCARD:
	case MFA_ERR_NOREADER:
	case MFA_ERR_NOSERVICE:
		break;
	default:
		pam_error(l->pamh, "%s",
		    clerk_text(l,
		        "The card could not be used. Try again, or contact "
		        "security staff."));
		break;
	}
}

void say_pin_tries_left(const struct login *l, int tries_left)
{
	pam_info(l->pamh,
	    clerk_ntext(l, "Warning: %d PIN try left before the card locks.",
	        "Warning: %d PIN tries left before the card locks.", count(tries_left)),
	    tries_left);
}

/*
 * A store error: audited; the clerk is told only of what the clerk can
 * report and staff can fix from the outside, a directory (store = ldap)
 * that cannot be reached.  Every other store error is the same refusal as
 * a wrong code to the clerk (the audit line says which).
 */
void store_failed(const struct login *l, int rc, const char *detail)
{
	/* A missed step of a fleet's key rotation shows as this: say so where staff look. */
	if (rc == MFA_ERR_KEYID && detail == NULL)
		detail = "sealed under a key this machine does not hold (another machine's "
		         "key, or a key rotation's staged key_file.next not copied here)";
	audit_line(l, "store_error", "fail", mfa_errtoken(rc), detail != NULL ? "detail" : NULL,
	    detail, NULL);
	if (rc == MFA_ERR_DIR_UNREACHABLE)
		say_directory_unreachable(l);
}

void say_directory_unreachable(const struct login *l)
{
	pam_error(l->pamh, "%s",
	    clerk_text(l,
	        "The authentication directory cannot be reached. "
	        "Contact security staff."));
}
