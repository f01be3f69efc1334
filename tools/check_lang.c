/*
 * mfauth check, part 9: the language of the clerk's text (the config's
 * `lang`).  With lang = ja the module reads the Japanese catalog through a
 * thread-local ja_JP.UTF-8 locale (pam_module/report.c); on a machine where
 * that locale is not installed it falls back to the host's locale, which
 * under sshd is C: the clerks read English, and only syslog says why.  Here
 * staff learn it ahead of time.  A warning, not an error: the clerk can
 * still log in, in English.  The locale is looked up as the module looks it
 * up (newlocale), so the answer is the module's.
 */
#include "config.h"

#include <locale.h>

#include "check.h"
#include "mfauth/conf.h"

/* The locale the module's lang = ja reads (pam_module/report.c, LANG_JA_LOCALE). */
#define JA_LOCALE "ja_JP.UTF-8"

void check_lang(struct report *r, unsigned lang)
{
	locale_t ja;

	if (lang == MFA_LANG_EN) {
		check_report(r, SEV_OK, "lang", "lang", "%s",
		    _("en: the clerk's text is English whatever the host's locale"));
		return;
	}
	if (lang != MFA_LANG_JA) {
		check_report(r, SEV_OK, "lang", "lang", "%s",
		    _("auto: the clerk's text follows the host's locale (English under sshd)"));
		return;
	}
	ja = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, JA_LOCALE, (locale_t)0);
	if (ja == (locale_t)0) {
		check_report(r, SEV_WARNING, "lang", "lang",
		    _("ja, but the locale %s is not installed: clerks read the host's language "
		      "(English under sshd). Generate it (locale-gen, or localedef -i ja_JP -f "
		      "UTF-8 ja_JP.UTF-8)"),
		    JA_LOCALE);
		return;
	}
	freelocale(ja);
	check_report(r, SEV_OK, "lang", "lang", _("ja: the locale %s is installed"), JA_LOCALE);
}
