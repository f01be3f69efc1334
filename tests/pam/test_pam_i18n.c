/*
 * The module's messages in the host application's language, through the
 * real Linux-PAM stack: in ja_JP.UTF-8 the clerk reads Japanese, in C
 * English.  The Japanese catalog comes from the build tree
 * (tests/locale/ja/LC_MESSAGES/mfauth.mo, made by `make check` from
 * po/ja.po); this process binds the text domain there, as a host may, and
 * the module must keep that binding.  The module must also leave the host's
 * locale and default text domain alone.  Over ssh (service sshd) the
 * messages, not the prompts, are English.  The `lang` option picks the
 * language whatever the host's locale (lang=ja in C, lang=en in
 * ja_JP.UTF-8) and leaves that locale, the process's and the thread's, as
 * it was.
 */
#include "config.h"

#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pamtest.h"
#include "testutil.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define DOMAIN "mfauth"

#define JA_PROMPT "確認コード: "
#define JA_LOCKED_AUTH \
	"認証の失敗が続いたため、このアカウントはロックされています。" \
	"情報セキュリティ担当者に連絡してください。"
#define JA_LOCKED_ACCT \
	"このアカウントはロックされています。情報セキュリティ担当者に連絡してください。"
#define JA_REPLAY "このコードは既に使用されました。次のコードが表示されるまで待ってください。"
#define JA_PASSWORD "確認コードを求めたところにパスワードが送られました。"
#define EN_PROMPT "Verification code: "
#define EN_LOCKED_AUTH \
	"This account is locked after too many failed attempts. Contact your " \
	"security staff."
#define EN_LOCKED_ACCT "This account is locked. Contact your security staff."
#define EN_REPLAY "This code was already used. Wait for the next code."

static char catalogs[512];

static int setup(void **state)
{
	struct pt_sandbox *sb = calloc(1, sizeof(*sb));
	pt_fake_now = 1800000000;
	pt_setup(sb, "deny = 3\nunlock_time = 600\n");
	pt_service(sb, "mfa", "auth required @MFA\naccount required @MFA\n");
	pt_enroll(sb, "alice", SEED, "sha1", 6, 30);
	*state = sb;
	return 0;
}

static int teardown(void **state)
{
	pt_teardown(*state);
	free(*state);
	setlocale(LC_ALL, "C");
	return 0;
}

static void use_locale(const char *name)
{
	if (setlocale(LC_ALL, name) == NULL)
		fail_msg("locale %s is not available (scripts/setup generates ja_JP.UTF-8)", name);
}

static int auth(struct pt_sandbox *sb, const char *code, struct pt_conv *c)
{
	memset(c, 0, sizeof(*c));
	c->reply = code;
	return pt_auth(sb, "mfa", "alice", c);
}

/* A right code, three wrong ones, then the lock, as the clerk sees them. */
static void run_login_story(struct pt_sandbox *sb, const char *prompt, const char *locked_auth,
    const char *locked_acct)
{
	struct pt_conv c;
	char code[16];

	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(auth(sb, code, &c), PAM_SUCCESS);
	assert_int_equal(c.prompts, 1);
	assert_string_equal(c.last_prompt, prompt);
	assert_string_equal(c.messages, "");
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth(sb, "000000", &c), PAM_AUTH_ERR);
	pt_fake_now += 30;
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(auth(sb, code, &c), PAM_AUTH_ERR);
	assert_string_equal(c.last_prompt, prompt);
	if (strstr(c.messages, locked_auth) == NULL)
		fail_msg("locked message: want \"%s\", got \"%s\"", locked_auth, c.messages);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "mfa", "alice", &c), PAM_PERM_DENIED);
	if (strstr(c.messages, locked_acct) == NULL)
		fail_msg("account message: want \"%s\", got \"%s\"", locked_acct, c.messages);
}

static void test_japanese(void **state)
{
	use_locale("ja_JP.UTF-8");
	run_login_story(*state, JA_PROMPT, JA_LOCKED_AUTH, JA_LOCKED_ACCT);
	/* The host's state is the host's: locale, default domain, our binding. */
	assert_string_equal(setlocale(LC_ALL, NULL), "ja_JP.UTF-8");
	assert_string_equal(textdomain(NULL), "messages");
	assert_string_equal(bindtextdomain(DOMAIN, NULL), catalogs);
}

static void test_english_in_c(void **state)
{
	use_locale("C");
	run_login_story(*state, EN_PROMPT, EN_LOCKED_AUTH, EN_LOCKED_ACCT);
}

/*
 * Issue 16's messages in Japanese: a replayed code, the lock on the attempt
 * that sets it, and the password given at the code prompt.
 */
static void test_japanese_prompt_messages(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	use_locale("ja_JP.UTF-8");
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(auth(sb, code, &c), PAM_SUCCESS);
	assert_int_equal(auth(sb, code, &c), PAM_AUTH_ERR);
	if (strstr(c.messages, JA_REPLAY) == NULL)
		fail_msg("replay message: want \"%s\", got \"%s\"", JA_REPLAY, c.messages);
	assert_int_equal(auth(sb, "000000", &c), PAM_AUTH_ERR);
	assert_null(strstr(c.messages, JA_LOCKED_AUTH));
	assert_int_equal(auth(sb, "000000", &c), PAM_AUTH_ERR); /* the third failure */
	if (strstr(c.messages, JA_LOCKED_AUTH) == NULL)
		fail_msg("lock message on the locking attempt: got \"%s\"", c.messages);
	pt_service(sb, "pw", "auth requisite @PW password=pw12345678\nauth required @MFA\n");
	memset(&c, 0, sizeof(c));
	c.reply = "pw12345678";
	assert_int_equal(pt_auth(sb, "pw", "bob", &c), PAM_AUTH_ERR);
	if (strstr(c.messages, JA_PASSWORD) == NULL)
		fail_msg("password message: want \"%s\", got \"%s\"", JA_PASSWORD, c.messages);
}

/* Run service as alice with one answer, the conversation's record in c. */
static int auth_on(struct pt_sandbox *sb, const char *service, const char *code, struct pt_conv *c)
{
	memset(c, 0, sizeof(*c));
	c->reply = code;
	return pt_auth(sb, service, "alice", c);
}

/* c's messages hold want and not unwanted. */
static void assert_told(const struct pt_conv *c, const char *want, const char *unwanted)
{
	if (strstr(c->messages, want) == NULL || strstr(c->messages, unwanted) != NULL)
		fail_msg("want \"%s\" and not \"%s\", got \"%s\"", want, unwanted, c->messages);
}

/*
 * Over ssh (service sshd) a message whose translation is not ASCII is sent
 * in English: OpenSSH's client up to 10.2 prints such a message's bytes as
 * octal escapes (doc/DESIGN.md, "Language of the clerk's text").  The
 * prompt stays Japanese: ssh shows a prompt as sent in a UTF-8 locale.
 * Another service in the same locale keeps the Japanese messages.
 */
static void test_japanese_over_ssh(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	use_locale("ja_JP.UTF-8");
	pt_service(sb, "sshd", "auth required @MFA\naccount required @MFA\n");
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(auth_on(sb, "sshd", code, &c), PAM_SUCCESS);
	assert_string_equal(c.last_prompt, JA_PROMPT);
	assert_int_equal(auth_on(sb, "sshd", code, &c), PAM_AUTH_ERR);
	assert_string_equal(c.last_prompt, JA_PROMPT);
	assert_told(&c, EN_REPLAY, JA_REPLAY);
	assert_int_equal(auth_on(sb, "mfa", code, &c), PAM_AUTH_ERR);
	assert_told(&c, JA_REPLAY, EN_REPLAY);
	assert_int_equal(auth_on(sb, "sshd", "000000", &c), PAM_AUTH_ERR); /* the third failure */
	assert_told(&c, EN_LOCKED_AUTH, JA_LOCKED_AUTH);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "sshd", "alice", &c), PAM_PERM_DENIED);
	assert_told(&c, EN_LOCKED_ACCT, JA_LOCKED_ACCT);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pt_acct(sb, "mfa", "alice", &c), PAM_PERM_DENIED);
	assert_told(&c, JA_LOCKED_ACCT, EN_LOCKED_ACCT);
}

/* The host's locale after the module ran: the process's as set, and no thread locale. */
static void assert_host_locale(const char *global)
{
	assert_string_equal(setlocale(LC_ALL, NULL), global);
	assert_true(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
}

/*
 * lang=ja under sshd's C locale: the prompt and (outside ssh) the messages
 * are Japanese, and the host is still in C with no thread locale.  A
 * service with lang=auto in the same process still gives English.
 */
static void test_lang_ja_in_c(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;

	use_locale("C");
	pt_service(sb, "mfa", "auth required @MFA lang=ja\naccount required @MFA lang=ja\n");
	run_login_story(sb, JA_PROMPT, JA_LOCKED_AUTH, JA_LOCKED_ACCT);
	assert_host_locale("C");
	assert_string_equal(dgettext(DOMAIN, EN_PROMPT), EN_PROMPT);
	pt_service(sb, "auto", "auth required @MFA lang=auto\n");
	assert_int_equal(auth_on(sb, "auto", "000000", &c), PAM_AUTH_ERR);
	assert_string_equal(c.last_prompt, EN_PROMPT);
	assert_told(&c, EN_LOCKED_AUTH, JA_LOCKED_AUTH);
	assert_host_locale("C");
}

/* lang=en in a Japanese host: English throughout, the host still Japanese. */
static void test_lang_en_in_ja(void **state)
{
	struct pt_sandbox *sb = *state;

	use_locale("ja_JP.UTF-8");
	pt_service(sb, "mfa", "auth required @MFA lang=en\naccount required @MFA lang=en\n");
	run_login_story(sb, EN_PROMPT, EN_LOCKED_AUTH, EN_LOCKED_ACCT);
	assert_host_locale("ja_JP.UTF-8");
	assert_string_equal(dgettext(DOMAIN, EN_PROMPT), JA_PROMPT);
}

/*
 * A host thread with a locale of its own (uselocale): the module's switch
 * for lang=ja gives it back, the same object, and the host's lookups in it
 * are still its own language (English in C.UTF-8).
 */
static void test_lang_ja_keeps_thread_locale(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	locale_t mine = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);

	assert_non_null(mine);
	use_locale("C");
	pt_service(sb, "mfa", "auth required @MFA lang=ja\n");
	assert_true(uselocale(mine) == LC_GLOBAL_LOCALE);
	assert_int_equal(auth_on(sb, "mfa", "000000", &c), PAM_AUTH_ERR);
	assert_true(uselocale((locale_t)0) == mine);
	assert_string_equal(c.last_prompt, JA_PROMPT);
	assert_string_equal(dgettext(DOMAIN, EN_PROMPT), EN_PROMPT);
	uselocale(LC_GLOBAL_LOCALE);
	freelocale(mine);
	assert_host_locale("C");
}

/*
 * lang=ja over ssh (sshd runs PAM in C): the prompt is Japanese, a message
 * whose translation is not ASCII stays English (ssh would escape it).
 */
static void test_lang_ja_over_ssh(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char code[16];

	use_locale("C");
	pt_service(sb, "sshd", "auth required @MFA lang=ja\n");
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	assert_int_equal(auth_on(sb, "sshd", code, &c), PAM_SUCCESS);
	assert_string_equal(c.last_prompt, JA_PROMPT);
	assert_int_equal(auth_on(sb, "sshd", code, &c), PAM_AUTH_ERR);
	assert_string_equal(c.last_prompt, JA_PROMPT);
	assert_told(&c, EN_REPLAY, JA_REPLAY);
	assert_host_locale("C");
}

/*
 * lang=ja where ja_JP.UTF-8 is not installed (LOCPATH at an empty directory:
 * glibc then finds only its built-in locales): the host's language, English
 * in C, and the login goes on as before.
 */
static void test_lang_ja_without_locale(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;
	char empty[600];

	snprintf(empty, sizeof(empty), "%s/no-locales", sb->dir);
	assert_int_equal(mkdir(empty, 0755), 0);
	use_locale("C");
	pt_service(sb, "mfa", "auth required @MFA lang=ja\n");
	assert_int_equal(setenv("LOCPATH", empty, 1), 0);
	assert_int_equal(auth_on(sb, "mfa", "000000", &c), PAM_AUTH_ERR);
	assert_int_equal(unsetenv("LOCPATH"), 0);
	assert_int_equal(c.prompts, 1);
	assert_string_equal(c.last_prompt, EN_PROMPT);
	assert_host_locale("C");
	assert_int_equal(auth_on(sb, "mfa", "000000", &c), PAM_AUTH_ERR);
	assert_string_equal(c.last_prompt, JA_PROMPT);
}

/* Many calls in one thread of one process: the same text, the host unchanged each time. */
static void test_lang_ja_repeated(void **state)
{
	struct pt_sandbox *sb = *state;
	struct pt_conv c;

	use_locale("C");
	pt_service(sb, "mfa", "auth required @MFA lang=ja\n");
	for (int i = 0; i < 200; i++) {
		/* Locked after the third: a locked user is still asked, the same prompt. */
		assert_int_equal(auth_on(sb, "mfa", "000000", &c), PAM_AUTH_ERR);
		assert_string_equal(c.last_prompt, JA_PROMPT);
		assert_host_locale("C");
	}
}

/* A thread of a host that runs logins concurrently gets lang=ja too, and no thread locale left. */
static void *ja_in_thread(void *arg)
{
	struct pt_sandbox *sb = arg;
	struct pt_conv c;
	bool ok;

	ok = auth_on(sb, "mfa", "000000", &c) == PAM_AUTH_ERR &&
	    strcmp(c.last_prompt, JA_PROMPT) == 0 && uselocale((locale_t)0) == LC_GLOBAL_LOCALE;
	return ok ? sb : NULL;
}

static void test_lang_ja_in_thread(void **state)
{
	struct pt_sandbox *sb = *state;
	pthread_t t;
	void *ret = NULL;

	use_locale("C");
	pt_service(sb, "mfa", "auth required @MFA lang=ja\n");
	assert_int_equal(pthread_create(&t, NULL, ja_in_thread, sb), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_ptr_equal(ret, sb);
	assert_host_locale("C");
}

/* The card prompts (the card rig runs in C): the wording the clerks know. */
static void test_card_wording(void **state)
{
	(void)state;
	use_locale("ja_JP.UTF-8");
	assert_string_equal(dgettext(DOMAIN,
	                        "My Number card PIN (4-digit user authentication PIN): "),
	    "マイナンバーカードの利用者証明用パスワード（4桁）: ");
	assert_string_equal(dgettext(DOMAIN, "Card PIN: "), "カードの暗証番号: ");
	assert_string_equal(dngettext(DOMAIN, "Wrong PIN. %d try left.",
	                        "Wrong PIN. %d tries left.", 2),
	    "暗証番号が違います。残り %d 回です。");
	use_locale("C");
	assert_string_equal(dgettext(DOMAIN, "Card PIN: "), "Card PIN: ");
}

/*
 * A host that did not bind the domain: the module binds it to the installed
 * catalogs (LOCALEDIR), and does not touch the host's default domain.  A
 * binding cannot be undone, so this runs in a fresh image of this program
 * (main's "--unbound SANDBOX"), which never binds the domain itself.
 */
static int unbound_child(const char *dir)
{
	struct pt_sandbox sb;
	struct pt_conv c = { .reply = "000000" };
	const char *build = getenv("MFAUTH_BUILDDIR");
	const char *dflt = bindtextdomain(DOMAIN ".never-bound", NULL), *now;

	memset(&sb, 0, sizeof(sb));
	snprintf(sb.dir, sizeof(sb.dir), "%s", dir);
	snprintf(sb.conf, sizeof(sb.conf), "%s/mfauth.conf", dir);
	snprintf(sb.pamd, sizeof(sb.pamd), "%s/pam.d", dir);
	snprintf(sb.module, sizeof(sb.module), "%s/pam_module/.libs/pam_mfauth.so",
	    build ? build : ".");
	if (strcmp(bindtextdomain(DOMAIN, NULL), dflt) != 0) {
		fprintf(stderr, "child: the domain is bound before the module ran\n");
		return 1;
	}
	if (pt_auth(&sb, "mfa", "alice", &c) != PAM_AUTH_ERR || c.prompts != 1) {
		fprintf(stderr, "child: the module did not run as expected\n");
		return 1;
	}
	if (strcmp((now = bindtextdomain(DOMAIN, NULL)), LOCALEDIR) != 0) {
		fprintf(stderr, "child: domain bound to %s, want %s\n", now, LOCALEDIR);
		return 1;
	}
	if (strcmp(textdomain(NULL), "messages") != 0) {
		fprintf(stderr, "child: the module changed the default text domain\n");
		return 1;
	}
	return 0;
}

static void test_module_binds_unbound_domain(void **state)
{
	struct pt_sandbox *sb = *state;
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "test_pam_i18n", "--unbound", sb->dir, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_japanese, setup, teardown),
		cmocka_unit_test_setup_teardown(test_english_in_c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_japanese_prompt_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_japanese_over_ssh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_ja_in_c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_en_in_ja, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_ja_keeps_thread_locale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_ja_over_ssh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_ja_without_locale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_ja_repeated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lang_ja_in_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_card_wording, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_binds_unbound_domain, setup, teardown),
	};
	const char *build = getenv("MFAUTH_BUILDDIR");

	tu_require_root();
	if (argc == 3 && strcmp(argv[1], "--unbound") == 0)
		return unbound_child(argv[2]);
	/* A LANGUAGE list would take precedence over the locale under test. */
	unsetenv("LANGUAGE");
	snprintf(catalogs, sizeof(catalogs), "%s/tests/locale", build ? build : ".");
	bindtextdomain(DOMAIN, catalogs);
	return cmocka_run_group_tests_name("pam_i18n", tests, NULL, NULL);
}
