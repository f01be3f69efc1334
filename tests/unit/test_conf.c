/*
 * Unit tests for lib/conf.c: defaults, good and bad values for every key,
 * the text parser, the trust checks on the config file, and module arguments
 * overriding the file.  Must run as root: the trust checks demand root-owned
 * files, and some cases chown files to another user.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "mfauth/conf.h"
#include "mfauth/err.h"

#ifndef MFA_SYSCONFDIR
#define MFA_SYSCONFDIR "/etc"
#endif
#ifndef MFA_LOCALSTATEDIR
#define MFA_LOCALSTATEDIR "/var"
#endif
#ifndef MFA_LDAP_MODULE_PATH
#error "MFA_LDAP_MODULE_PATH comes from Makefile.am"
#endif

#define NOBODY 65534

/* --- a field view of struct mfa_config, independent of the parser's own table --- */

enum ftype { F_UINT, F_U64, F_BOOL, F_STR };

struct field {
	const char *key;
	enum ftype type;
	size_t off;
};

#define FLD(k, t) \
	{ \
#k, t, offsetof(struct mfa_config, k) \
	}

static const struct field fields[] = {
	FLD(store_dir, F_STR),
	FLD(key_file, F_STR),
	FLD(factors, F_UINT),
	FLD(window, F_UINT),
	FLD(deny, F_UINT),
	FLD(unlock_time, F_U64),
	FLD(fail_interval, F_U64),
	FLD(deny_total, F_UINT),
	FLD(nullok, F_BOOL),
	FLD(debug, F_BOOL),
	FLD(card_wait, F_UINT),
	FLD(card_remote, F_BOOL),
	FLD(card_reader, F_STR),
	FLD(card_min_tries, F_UINT),
	FLD(card_profiles, F_UINT),
	FLD(store, F_UINT),
	FLD(lang, F_UINT),
	FLD(ldap_uri, F_STR),
	FLD(ldap_base, F_STR),
	FLD(ldap_bind_dn, F_STR),
	FLD(ldap_bind_pw_file, F_STR),
	FLD(ldap_ca_file, F_STR),
	FLD(ldap_starttls, F_BOOL),
	FLD(ldap_timeout, F_UINT),
	FLD(ldap_module, F_STR),
};

static const struct field *field_of(const char *key)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	fail_msg("test table names unknown field %s", key);
	return NULL;
}

static uint64_t get_num(const struct mfa_config *cfg, const struct field *f)
{
	const char *p = (const char *)cfg + f->off;

	switch (f->type) {
	case F_UINT:
		return *(const unsigned *)p;
	case F_U64:
		return *(const uint64_t *)p;
	case F_BOOL:
		return *(const bool *)p ? 1 : 0;
	case F_STR:
		break;
	}
	fail_msg("%s is not a number field", f->key);
	return 0;
}

/* Put a value different from the expected one, so a no-op set cannot pass. */
static void put_sentinel(struct mfa_config *cfg, const struct field *f, uint64_t want)
{
	char *p = (char *)cfg + f->off;

	switch (f->type) {
	case F_UINT:
		*(unsigned *)p = (unsigned)want + 1;
		break;
	case F_U64:
		*(uint64_t *)p = want + 1;
		break;
	case F_BOOL:
		*(bool *)p = want == 0;
		break;
	case F_STR:
		strcpy(p, "/sentinel");
		break;
	}
}

static void assert_unchanged(const struct mfa_config *a, const struct mfa_config *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		fail_msg("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		fail_msg("malloc");
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* --- defaults --- */

static void test_defaults(void **state)
{
	struct mfa_config cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	mfa_config_defaults(&cfg);
	assert_string_equal(cfg.store_dir, MFA_LOCALSTATEDIR "/lib/mfauth");
	assert_string_equal(cfg.key_file, MFA_SYSCONFDIR "/mfauth/store.key");
	assert_int_equal(cfg.factors, MFA_FACTOR_TOTP);
	assert_int_equal(cfg.window, 1);
	assert_int_equal(cfg.deny, 5);
	assert_int_equal(cfg.unlock_time, 900);
	assert_int_equal(cfg.fail_interval, 900);
	assert_int_equal(cfg.deny_total, 20);
	assert_false(cfg.nullok);
	assert_false(cfg.debug);
	assert_int_equal(cfg.card_wait, 0);
	assert_false(cfg.card_remote);
	assert_string_equal(cfg.card_reader, "");
	assert_int_equal(cfg.card_min_tries, 2);
	assert_int_equal(cfg.card_profiles, MFA_PROFILE_JPKI | MFA_PROFILE_PIV);
	assert_int_equal(cfg.store, MFA_BACKEND_FILES);
	assert_int_equal(cfg.lang, MFA_LANG_AUTO);
	assert_string_equal(cfg.ldap_uri, "");
	assert_string_equal(cfg.ldap_base, "");
	assert_string_equal(cfg.ldap_bind_dn, "");
	assert_string_equal(cfg.ldap_bind_pw_file, MFA_SYSCONFDIR "/mfauth/ldap.secret");
	assert_string_equal(cfg.ldap_ca_file, MFA_SYSCONFDIR "/mfauth/ldap-ca.pem");
	assert_true(cfg.ldap_starttls);
	assert_int_equal(cfg.ldap_timeout, 3);
	assert_string_equal(cfg.ldap_module, MFA_LDAP_MODULE_PATH);
	assert_string_equal(mfa_config_default_path(), MFA_SYSCONFDIR "/mfauth/mfauth.conf");
}

/* --- mfa_config_set: good values --- */

struct good_case {
	const char *key;
	const char *value; /* NULL: bare module argument */
	uint64_t num;      /* number, mask or bool */
	const char *str;   /* for string fields */
};

static const struct good_case good_cases[] = {
	{ "store_dir", "/srv/mfauth", 0, "/srv/mfauth" },
	{ "store_dir", "/", 0, "/" },
	{ "key_file", "/etc/mfauth/other.key", 0, "/etc/mfauth/other.key" },
	{ "factors", "totp", MFA_FACTOR_TOTP, NULL },
	{ "factors", "card", MFA_FACTOR_CARD, NULL },
	{ "factors", "totp,card", MFA_FACTOR_TOTP | MFA_FACTOR_CARD, NULL },
	{ "factors", "card,totp", MFA_FACTOR_TOTP | MFA_FACTOR_CARD, NULL },
	{ "factors", "totp, card", MFA_FACTOR_TOTP | MFA_FACTOR_CARD, NULL },
	{ "window", "0", 0, NULL },
	{ "window", "5", 5, NULL },
	{ "window", "10", 10, NULL },
	{ "window", "007", 7, NULL },
	{ "deny", "0", 0, NULL },
	{ "deny", "1", 1, NULL },
	{ "deny", "1000", 1000, NULL },
	{ "unlock_time", "0", 0, NULL },
	{ "unlock_time", "31536000", 31536000, NULL },
	{ "fail_interval", "1", 1, NULL },
	{ "fail_interval", "31536000", 31536000, NULL },
	{ "deny_total", "0", 0, NULL },
	{ "deny_total", "100000", 100000, NULL },
	{ "nullok", NULL, 1, NULL },
	{ "nullok", "yes", 1, NULL },
	{ "nullok", "true", 1, NULL },
	{ "nullok", "1", 1, NULL },
	{ "nullok", "on", 1, NULL },
	{ "nullok", "no", 0, NULL },
	{ "nullok", "false", 0, NULL },
	{ "nullok", "0", 0, NULL },
	{ "nullok", "off", 0, NULL },
	{ "debug", NULL, 1, NULL },
	{ "debug", "yes", 1, NULL },
	{ "debug", "true", 1, NULL },
	{ "debug", "1", 1, NULL },
	{ "debug", "on", 1, NULL },
	{ "debug", "no", 0, NULL },
	{ "debug", "false", 0, NULL },
	{ "debug", "0", 0, NULL },
	{ "debug", "off", 0, NULL },
	{ "card_wait", "0", 0, NULL },
	{ "card_wait", "300", 300, NULL },
	{ "card_remote", NULL, 1, NULL },
	{ "card_remote", "yes", 1, NULL },
	{ "card_remote", "no", 0, NULL },
	{ "card_reader", "", 0, "" },
	{ "card_reader", "SCM Microsystems Inc. SCR 3310 [CCID Interface] (53311543208041) 00 00",
	    0, "SCM Microsystems Inc. SCR 3310 [CCID Interface] (53311543208041) 00 00" },
	{ "card_reader", "a # b", 0, "a # b" },
	{ "card_min_tries", "1", 1, NULL },
	{ "card_min_tries", "15", 15, NULL },
	{ "card_profiles", "jpki", MFA_PROFILE_JPKI, NULL },
	{ "card_profiles", "piv", MFA_PROFILE_PIV, NULL },
	{ "card_profiles", "jpki,piv", MFA_PROFILE_JPKI | MFA_PROFILE_PIV, NULL },
	{ "card_profiles", "piv,jpki", MFA_PROFILE_JPKI | MFA_PROFILE_PIV, NULL },
	{ "store", "files", MFA_BACKEND_FILES, NULL },
	{ "store", "ldap", MFA_BACKEND_LDAP, NULL },
	{ "lang", "auto", MFA_LANG_AUTO, NULL },
	{ "lang", "ja", MFA_LANG_JA, NULL },
	{ "lang", "en", MFA_LANG_EN, NULL },
	{ "ldap_uri", "", 0, "" },
	{ "ldap_uri", "ldaps://dir1.example.lg.jp ldaps://dir2.example.lg.jp", 0,
	    "ldaps://dir1.example.lg.jp ldaps://dir2.example.lg.jp" },
	{ "ldap_uri", "ldap://127.0.0.1:389/", 0, "ldap://127.0.0.1:389/" },
	{ "ldap_uri", "ldaps://[::1]:636", 0, "ldaps://[::1]:636" },
	{ "ldap_uri", "ldapi://%2Frun%2Fslapd%2Fldapi", 0, "ldapi://%2Frun%2Fslapd%2Fldapi" },
	/* A module argument in brackets may hold tabs and several blanks. */
	{ "ldap_uri", "ldaps://a\t ldaps://b", 0, "ldaps://a\t ldaps://b" },
	{ "ldap_uri",
	    "ldaps://1 ldaps://2 ldaps://3 ldaps://4 ldaps://5 ldaps://6 ldaps://7 "
	    "ldaps://8",
	    0,
	    "ldaps://1 ldaps://2 ldaps://3 ldaps://4 ldaps://5 ldaps://6 "
	    "ldaps://7 ldaps://8" },
	{ "ldap_base", "", 0, "" },
	{ "ldap_base", "ou=mfauth,dc=example,dc=lg,dc=jp", 0, "ou=mfauth,dc=example,dc=lg,dc=jp" },
	{ "ldap_base", "ou=\xe8\xaa\x8d\xe8\xa8\xbc,dc=example,dc=jp", 0,
	    "ou=\xe8\xaa\x8d\xe8\xa8\xbc,dc=example,dc=jp" },
	{ "ldap_base", "ou=a\\,b,dc=example", 0, "ou=a\\,b,dc=example" },
	{ "ldap_bind_dn", "cn=terminal-042,ou=terminals,dc=example,dc=lg,dc=jp", 0,
	    "cn=terminal-042,ou=terminals,dc=example,dc=lg,dc=jp" },
	{ "ldap_bind_dn", "", 0, "" },
	{ "ldap_bind_pw_file", "/etc/mfauth/terminal.secret", 0, "/etc/mfauth/terminal.secret" },
	{ "ldap_ca_file", "/etc/ssl/certs/org-ca.pem", 0, "/etc/ssl/certs/org-ca.pem" },
	{ "ldap_starttls", "no", 0, NULL },
	{ "ldap_starttls", "yes", 1, NULL },
	{ "ldap_starttls", NULL, 1, NULL },
	{ "ldap_module", "/usr/lib/x86_64-linux-gnu/mfauth/mfauth_store_ldap.so", 0,
	    "/usr/lib/x86_64-linux-gnu/mfauth/mfauth_store_ldap.so" },
};

static void check_good(const char *key, const char *value, uint64_t num, const char *str)
{
	const struct field *f = field_of(key);
	struct mfa_config cfg;
	struct mfa_config_error err;
	int rc;

	mfa_config_defaults(&cfg);
	put_sentinel(&cfg, f, num);
	err.msg[0] = '\0';
	rc = mfa_config_set(&cfg, key, value, &err);
	if (rc != 0)
		fail_msg("%s=%s: rc %d: %s", key, value ? value : "(bare)", rc, err.msg);
	if (f->type == F_STR)
		assert_string_equal((const char *)&cfg + f->off, str);
	else if (get_num(&cfg, f) != num)
		fail_msg("%s=%s: got %llu, want %llu", key, value ? value : "(bare)",
		    (unsigned long long)get_num(&cfg, f), (unsigned long long)num);
}

static void test_set_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++)
		check_good(good_cases[i].key, good_cases[i].value, good_cases[i].num,
		    good_cases[i].str);
}

/* The longest strings that still fit their buffers. */
static void test_set_good_lengths(void **state)
{
	char *path = repeat('p', PATH_MAX - 1);
	char *reader = repeat('r', sizeof(((struct mfa_config *)NULL)->card_reader) - 1);

	(void)state;
	path[0] = '/';
	check_good("store_dir", path, 0, path);
	check_good("key_file", path, 0, path);
	check_good("card_reader", reader, 0, reader);
	free(path);
	free(reader);
	path = repeat('p', sizeof(((struct mfa_config *)NULL)->ldap_module) - 1);
	path[0] = '/';
	check_good("ldap_bind_pw_file", path, 0, path);
	check_good("ldap_ca_file", path, 0, path);
	check_good("ldap_module", path, 0, path);
	free(path);
	path = repeat('b', sizeof(((struct mfa_config *)NULL)->ldap_base) - 1);
	memcpy(path, "ou=", 3);
	check_good("ldap_base", path, 0, path);
	check_good("ldap_bind_dn", path, 0, path);
	free(path);
	path = repeat('u', sizeof(((struct mfa_config *)NULL)->ldap_uri) - 1);
	memcpy(path, "ldaps://", 8);
	check_good("ldap_uri", path, 0, path);
	free(path);
}

/* --- mfa_config_set: bad values --- */

struct bad_case {
	const char *key;
	const char *value;
	const char *want; /* substring of the message besides the key */
};

/* clang-format off */
static const struct bad_case bad_cases[] = {
	{ "nullok", "", "nullok" },
	{ "nullok", "maybe", "'maybe'" },
	{ "nullok", "YES", "'YES'" },
	{ "nullok", "2", "'2'" },
	{ "card_remote", "local", "'local'" },
	{ "nullok", "yes ", "'yes '" },
	{ "nullok", " yes", "' yes'" },
	{ "nullok", "y", "'y'" },
	{ "debug", "", "debug" },
	{ "debug", "enable", "'enable'" },
	{ "debug", "-1", "'-1'" },
	{ "store_dir", "", "not an absolute path" },
	{ "store_dir", "var/lib/mfauth", "not an absolute path" },
	{ "store_dir", "./store", "not an absolute path" },
	{ "store_dir", "/var/lib/mf\nauth", "control character" },
	{ "store_dir", NULL, "needs a value" },
	{ "key_file", "", "not an absolute path" },
	{ "key_file", "store.key", "not an absolute path" },
	{ "key_file", "/etc/\tkey", "control character" },
	{ "key_file", NULL, "needs a value" },
	{ "factors", "", "empty item" },
	{ "factors", " ", "empty item" },
	{ "factors", "foo", "unknown item 'foo'" },
	{ "factors", "TOTP", "unknown item 'TOTP'" },
	{ "factors", "totp,", "empty item" },
	{ "factors", ",totp", "empty item" },
	{ "factors", "totp,,card", "empty item" },
	{ "factors", "totp,totp", "'totp' listed twice" },
	{ "factors", "card,totp,card", "'card' listed twice" },
	{ "factors", "totp,password", "unknown item 'password'" },
	{ "factors", NULL, "needs a value" },
	{ "card_profiles", "", "empty item" },
	{ "card_profiles", "cac", "unknown item 'cac'" },
	{ "card_profiles", "jpki,jpki", "'jpki' listed twice" },
	{ "card_profiles", "jpki,", "empty item" },
	{ "card_profiles", "piv,,jpki", "empty item" },
	{ "card_profiles", NULL, "needs a value" },
	{ "card_reader",
	    "a\x01"
	    "b",
	    "non-printable" },
	{ "card_reader", "a\tb", "non-printable" },
	{ "card_reader", "a\x7f", "non-printable" },
	{ "card_reader", "caf\xc3\xa9", "non-printable" },
	{ "card_reader", NULL, "needs a value" },
	{ "window", "99", "window: '99' out of range 0..10" },
	{ "window", "1.5", "not a number" },
	{ "deny", "1e3", "not a number" },
	{ "store", "", "'' is not one of files, ldap" },
	{ "store", "LDAP", "'LDAP' is not one of" },
	{ "store", "files,ldap", "'files,ldap' is not one of" },
	{ "store", "ldap ", "'ldap ' is not one of" },
	{ "store", "sql", "'sql' is not one of" },
	{ "lang", "", "'' is not one of auto, ja, en" },
	{ "lang", "JA", "'JA' is not one of" },
	{ "lang", "ja_JP.UTF-8", "'ja_JP.UTF-8' is not one of" },
	{ "lang", "ja,en", "'ja,en' is not one of" },
	{ "store", NULL, "needs a value" },
	{ "ldap_uri", "dir1.example.lg.jp", "not an ldaps://, ldap:// or ldapi:// URI" },
	{ "ldap_uri", "ldaps://a http://b", "'http://b' is not an ldaps://" },
	{ "ldap_uri", "LDAPS://a", "'LDAPS://a' is not an" },
	{ "ldap_uri", "ldaps:/a", "'ldaps:/a' is not an" },
	{ "ldap_uri", "ldaps://a,ldaps://b", "has more than a host and port" },
	{ "ldap_uri", "ldap://a/dc=example,dc=jp", "has more than a host and port" },
	{ "ldap_uri", "ldap://a/??sub", "has more than a host and port" },
	{ "ldap_uri", "ldaps://a\nldaps://b", "control character" },
	{ "ldap_uri", "ldaps://a\x7f", "control character" },
	{ "ldap_uri", "ldaps://caf\xc3\xa9", "non-ASCII" },
	{ "ldap_uri",
	    "ldaps://1 ldaps://2 ldaps://3 ldaps://4 ldaps://5 ldaps://6 ldaps://7 "
	    "ldaps://8 ldaps://9",
	    "more than 8 URIs" },
	{ "ldap_uri", NULL, "needs a value" },
	{ "ldap_base", "mfauth", "not a DN" },
	{ "ldap_base", "ou=a\nb", "control character" },
	{ "ldap_base", "ou=a\tb", "control character" },
	{ "ldap_base", "ou=\xff", "not valid UTF-8" },
	{ "ldap_base", "ou=\xe8\xaa", "not valid UTF-8" },
	{ "ldap_base", NULL, "needs a value" },
	{ "ldap_bind_dn", "terminal-042", "not a DN" },
	{ "ldap_bind_dn", "cn=x\x1b[2J", "control character" },
	{ "ldap_bind_pw_file", "", "not an absolute path" },
	{ "ldap_bind_pw_file", "ldap.secret", "not an absolute path" },
	{ "ldap_bind_pw_file", NULL, "needs a value" },
	{ "ldap_ca_file", "ca.pem", "not an absolute path" },
	{ "ldap_ca_file", "/etc/\nca.pem", "control character" },
	{ "ldap_starttls", "maybe", "'maybe'" },
	{ "ldap_starttls", "", "ldap_starttls" },
	{ "ldap_module", "mfauth_store_ldap.so", "not an absolute path" },
	{ "ldap_module", "", "not an absolute path" },
};
/* clang-format on */

static void check_bad(const char *key, const char *value, const char *want)
{
	struct mfa_config cfg, before;
	struct mfa_config_error err;
	int rc;

	mfa_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	err.msg[0] = '\0';
	rc = mfa_config_set(&cfg, key, value, &err);
	if (rc != MFA_ERR_CONFIG)
		fail_msg("%s=%s: rc %d, want MFA_ERR_CONFIG", key, value ? value : "(bare)", rc);
	if (strstr(err.msg, key) == NULL)
		fail_msg("%s=%s: message '%s' does not name the key", key, value ? value : "(bare)",
		    err.msg);
	if (want != NULL && strstr(err.msg, want) == NULL)
		fail_msg("%s=%s: message '%s' lacks '%s'", key, value ? value : "(bare)", err.msg,
		    want);
	/* A rejected value must not leave half a setting behind. */
	assert_unchanged(&cfg, &before);
	/* Without an error struct the answer is the same. */
	assert_int_equal(mfa_config_set(&cfg, key, value, NULL), MFA_ERR_CONFIG);
}

static void test_set_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		check_bad(bad_cases[i].key, bad_cases[i].value, bad_cases[i].want);
}

struct num_key {
	const char *key;
	uint64_t min, max;
};

/* clang-format off */
static const struct num_key num_keys[] = {
	{ "window", 0, 10 },
	{ "deny", 0, 1000 },
	{ "unlock_time", 0, 31536000 },
	{ "fail_interval", 1, 31536000 },
	{ "deny_total", 0, 100000 },
	{ "card_wait", 0, 300 },
	{ "card_min_tries", 1, 15 },
	{ "ldap_timeout", 1, 300 },
};
/* clang-format on */

/* Strings no number key may accept, whatever its range. */
/* clang-format off */
static const struct bad_case num_garbage[] = {
	{ NULL, "", "empty value" },
	{ NULL, "-1", "not a number" },
	{ NULL, "-0", "not a number" },
	{ NULL, "+1", "not a number" },
	{ NULL, " 1", "not a number" },
	{ NULL, "\t1", "not a number" },
	{ NULL, "1 ", "not a number" },
	{ NULL, "1x", "not a number" },
	{ NULL, "0x1", "not a number" },
	{ NULL, "x", "not a number" },
	{ NULL, "99999999999999999999", "out of range" },
	{ NULL, "18446744073709551616", "out of range" },
	{ NULL, "18446744073709551615", "out of range" },
	{ NULL, "4294967297", "out of range" },
	{ NULL, NULL, "needs a value" },
};
/* clang-format on */

static void test_set_bad_numbers(void **state)
{
	char buf[32];

	(void)state;
	for (size_t k = 0; k < sizeof(num_keys) / sizeof(num_keys[0]); k++) {
		const struct num_key *nk = &num_keys[k];

		for (size_t i = 0; i < sizeof(num_garbage) / sizeof(num_garbage[0]); i++)
			check_bad(nk->key, num_garbage[i].value, num_garbage[i].want);
		if (nk->min > 0) {
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)nk->min - 1);
			check_bad(nk->key, buf, "out of range");
		}
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)nk->max + 1);
		check_bad(nk->key, buf, "out of range");
		/* Both ends of the range are accepted. */
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)nk->min);
		check_good(nk->key, buf, nk->min, NULL);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)nk->max);
		check_good(nk->key, buf, nk->max, NULL);
	}
}

static void test_set_bad_lengths(void **state)
{
	char *path = repeat('p', PATH_MAX);
	char *reader = repeat('r', sizeof(((struct mfa_config *)NULL)->card_reader));

	(void)state;
	path[0] = '/';
	check_bad("store_dir", path, "longer than");
	check_bad("key_file", path, "longer than");
	check_bad("card_reader", reader, "longer than");
	free(path);
	free(reader);
	path = repeat('p', sizeof(((struct mfa_config *)NULL)->ldap_module));
	path[0] = '/';
	check_bad("ldap_bind_pw_file", path, "longer than 1023 bytes");
	check_bad("ldap_ca_file", path, "longer than 1023 bytes");
	check_bad("ldap_module", path, "longer than 1023 bytes");
	free(path);
	path = repeat('b', sizeof(((struct mfa_config *)NULL)->ldap_base));
	memcpy(path, "ou=", 3);
	check_bad("ldap_base", path, "longer than");
	check_bad("ldap_bind_dn", path, "longer than");
	free(path);
	path = repeat('u', sizeof(((struct mfa_config *)NULL)->ldap_uri));
	memcpy(path, "ldaps://", 8);
	check_bad("ldap_uri", path, "longer than");
	free(path);
}

/* --- mfa_config_check: what store = ldap needs --- */

static void test_check_ldap(void **state)
{
	struct mfa_config cfg;
	struct mfa_config_error err;

	(void)state;
	mfa_config_defaults(&cfg);
	assert_int_equal(mfa_config_check(&cfg, &err), 0);
	/* The files backend never looks at the ldap keys. */
	cfg.ldap_base[0] = '\0';
	assert_int_equal(mfa_config_check(&cfg, &err), 0);
	cfg.store = MFA_BACKEND_LDAP;
	err.msg[0] = '\0';
	assert_int_equal(mfa_config_check(&cfg, &err), MFA_ERR_CONFIG);
	assert_string_equal(err.msg, "store = ldap: ldap_uri is not set");
	strcpy(cfg.ldap_uri, "ldaps://dir1.example.lg.jp");
	assert_int_equal(mfa_config_check(&cfg, &err), MFA_ERR_CONFIG);
	assert_string_equal(err.msg, "store = ldap: ldap_base is not set");
	strcpy(cfg.ldap_base, "ou=mfauth,dc=example,dc=lg,dc=jp");
	assert_int_equal(mfa_config_check(&cfg, &err), MFA_ERR_CONFIG);
	assert_string_equal(err.msg, "store = ldap: ldap_bind_dn is not set");
	strcpy(cfg.ldap_bind_dn, "cn=terminal-042,ou=terminals,dc=example,dc=lg,dc=jp");
	assert_int_equal(mfa_config_check(&cfg, &err), 0);
	/* Each alone missing is named, whatever else is set. */
	cfg.ldap_base[0] = '\0';
	assert_int_equal(mfa_config_check(&cfg, NULL), MFA_ERR_CONFIG);
	assert_int_equal(mfa_config_check(&cfg, &err), MFA_ERR_CONFIG);
	assert_string_equal(err.msg, "store = ldap: ldap_base is not set");
	assert_int_equal(mfa_config_check(NULL, &err), MFA_ERR_CONFIG);
}

static void test_set_unknown_key(void **state)
{
	static const char *const keys[] = { "windw", "Window", "window ", "", "conf", "store-dir",
		"factor" };
	struct mfa_config cfg, before;
	struct mfa_config_error err;
	char want[64];

	(void)state;
	mfa_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(mfa_config_set(&cfg, keys[i], "1", &err), MFA_ERR_CONFIG);
		snprintf(want, sizeof(want), "unknown key '%s'", keys[i]);
		if (strstr(err.msg, want) == NULL)
			fail_msg("key '%s': message '%s'", keys[i], err.msg);
		assert_unchanged(&cfg, &before);
	}
	/* A key full of control bytes is quoted harmlessly, not copied raw. */
	assert_int_equal(mfa_config_set(&cfg, "a\nb\x1b", "1", &err), MFA_ERR_CONFIG);
	assert_null(strchr(err.msg, '\n'));
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "a\\x0ab\\x1b"));
	assert_int_equal(mfa_config_set(&cfg, NULL, "1", &err), MFA_ERR_CONFIG);
	assert_int_equal(mfa_config_set(NULL, "window", "1", &err), MFA_ERR_CONFIG);
}

/* --- mfa_config_parse_text --- */

static const char full_text[] =
    "# mfauth test config\r\n"
    "\r\n"
    "  store_dir = /srv/mfauth/store  \r\n"
    "key_file=/srv/mfauth/store.key\n"
    "\t factors\t=\ttotp,card\t\n"
    "window = 3\n"
    "deny = 0\n"
    "unlock_time = 0\n"
    "fail_interval = 60\n"
    "deny_total = 7\n"
    "nullok = yes\n"
    "debug = on\n"
    "card_wait = 30\n"
    "card_reader = SCM Microsystems # reader 1\n"
    "card_min_tries = 3\n"
    "card_profiles = piv\n"
    "   # indented comment\n"
    "\n"
    "window = 4";

static void test_parse_full(void **state)
{
	struct mfa_config cfg;
	struct mfa_config_error err;
	int rc;

	(void)state;
	mfa_config_defaults(&cfg);
	err.msg[0] = '\0';
	rc = mfa_config_parse_text(&cfg, full_text, strlen(full_text), "test.conf", &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err.msg);
	assert_string_equal(cfg.store_dir, "/srv/mfauth/store");
	assert_string_equal(cfg.key_file, "/srv/mfauth/store.key");
	assert_int_equal(cfg.factors, MFA_FACTOR_TOTP | MFA_FACTOR_CARD);
	assert_int_equal(cfg.window, 4); /* the last line wins */
	assert_int_equal(cfg.deny, 0);
	assert_int_equal(cfg.unlock_time, 0);
	assert_int_equal(cfg.fail_interval, 60);
	assert_int_equal(cfg.deny_total, 7);
	assert_true(cfg.nullok);
	assert_true(cfg.debug);
	assert_int_equal(cfg.card_wait, 30);
	/* Only whole-line comments: a '#' in a value belongs to the value. */
	assert_string_equal(cfg.card_reader, "SCM Microsystems # reader 1");
	assert_int_equal(cfg.card_min_tries, 3);
	assert_int_equal(cfg.card_profiles, MFA_PROFILE_PIV);
}

static void test_parse_empty_and_comments(void **state)
{
	static const char *const texts[] = { "", "\n", "\r\n", "# only a comment", "#\n#\n",
		"  \t \n\t# x = y\n", "\n\n\n" };
	struct mfa_config cfg, before;
	struct mfa_config_error err;

	(void)state;
	mfa_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(mfa_config_parse_text(&cfg, texts[i], strlen(texts[i]), "t", &err),
		    0);
		assert_unchanged(&cfg, &before);
	}
	assert_int_equal(mfa_config_parse_text(&cfg, NULL, 0, "t", &err), 0);
	assert_unchanged(&cfg, &before);
	assert_int_equal(mfa_config_parse_text(&cfg, NULL, 5, "t", &err), MFA_ERR_CONFIG);
}

/* The parser must honour len and never read the bytes after it. */
static void test_parse_respects_len(void **state)
{
	static const char text[] = "window=2XXXX\nwindw=9";
	struct mfa_config cfg;
	struct mfa_config_error err;

	(void)state;
	mfa_config_defaults(&cfg);
	assert_int_equal(mfa_config_parse_text(&cfg, text, 8, "t", &err), 0);
	assert_int_equal(cfg.window, 2);
}

struct text_bad {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *want1;
	const char *want2;
};

static const struct text_bad text_bad_cases[] = {
	{ "window 2\n", 0, "test.conf:1: ", "key = value" },
	{ "window=1\n\n# c\nwindw = 3\n", 0, "test.conf:4: unknown key 'windw'", NULL },
	{ "# a\n\nwindow = 99\n", 0, "test.conf:3: window: '99' out of range 0..10", NULL },
	{ "= 3\n", 0, "test.conf:1: ", "missing key" },
	{ "  =\n", 0, "test.conf:1: ", "missing key" },
	{ "window=2\nwin\0dow=3\n", 19, "test.conf:2: ", "NUL" },
	{ "window=2\0", 9, "test.conf:1: ", "NUL" },
	{ "\0", 1, "test.conf:1: ", "NUL" },
	{ "# x\r\n\r\nwindow = x\r\n", 0, "test.conf:3: window: 'x' is not a number", NULL },
	{ "nullok\n", 0, "test.conf:1: ", "key = value" },
	{ "window = 1 # one\n", 0, "test.conf:1: window: '1 # one' is not a number", NULL },
	{ "window=2\rdeny=3\n", 0, "test.conf:1: ", "window" },
	{ "\xff\xfe=1\n", 0, "test.conf:1: unknown key '\\xff\\xfe'", NULL },
	{ "deny=\n", 0, "test.conf:1: deny: empty value", NULL },
	{ "deny = -1\n", 0, "test.conf:1: deny: '-1' is not a number", NULL },
	{ "store_dir = relative\n", 0, "test.conf:1: store_dir", "absolute" },
	{ "factors = totp,totp\n", 0, "test.conf:1: factors", "twice" },
	{ "window=1\nwindow=2\nwindow=3\nwindow=4\nwindow=5\nwindow=6\nwindw=7\n", 0,
	    "test.conf:7: unknown key 'windw'", NULL },
};

static void test_parse_errors(void **state)
{
	struct mfa_config cfg, before;
	struct mfa_config_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(text_bad_cases) / sizeof(text_bad_cases[0]); i++) {
		const struct text_bad *c = &text_bad_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->text);
		/* An exact-size copy, so ASan catches any read past len. */
		char *copy = malloc(len);
		int rc;

		assert_non_null(copy);
		memcpy(copy, c->text, len);
		mfa_config_defaults(&cfg);
		memcpy(&before, &cfg, sizeof(cfg));
		err.msg[0] = '\0';
		rc = mfa_config_parse_text(&cfg, copy, len, "test.conf", &err);
		free(copy);
		if (rc != MFA_ERR_CONFIG)
			fail_msg("case %zu: rc %d, want MFA_ERR_CONFIG", i, rc);
		if (strstr(err.msg, c->want1) == NULL ||
		    (c->want2 != NULL && strstr(err.msg, c->want2) == NULL))
			fail_msg("case %zu: message '%s' lacks '%s'/'%s'", i, err.msg, c->want1,
			    c->want2 ? c->want2 : "");
		/* Stops at the first error and changes nothing. */
		assert_unchanged(&cfg, &before);
		assert_int_equal(mfa_config_parse_text(&cfg, c->text, len, "t", NULL),
		    MFA_ERR_CONFIG);
	}
}

/* A good line, then one line of n bytes, then a good line again; CRLF optional. */
static int parse_long_line(size_t n, const char *eol, struct mfa_config_error *err)
{
	struct mfa_config cfg;
	char *body = repeat('x', n);
	size_t total = n + 64;
	char *text = malloc(total);
	int rc;

	assert_non_null(text);
	body[0] = '#';
	snprintf(text, total, "window=2%s%s%swindow=3%s", eol, body, eol, eol);
	mfa_config_defaults(&cfg);
	err->msg[0] = '\0';
	rc = mfa_config_parse_text(&cfg, text, strlen(text), "test.conf", err);
	if (rc == 0)
		assert_int_equal(cfg.window, 3);
	free(body);
	free(text);
	return rc;
}

static void test_parse_line_length(void **state)
{
	struct mfa_config_error err;
	char want[64];

	(void)state;
	assert_int_equal(parse_long_line(MFA_CONFIG_LINE_MAX, "\n", &err), 0);
	assert_int_equal(parse_long_line(MFA_CONFIG_LINE_MAX, "\r\n", &err), 0);
	assert_int_equal(parse_long_line(MFA_CONFIG_LINE_MAX + 1, "\n", &err), MFA_ERR_CONFIG);
	snprintf(want, sizeof(want), "test.conf:2: line longer than %d", MFA_CONFIG_LINE_MAX);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(parse_long_line(MFA_CONFIG_LINE_MAX + 1, "\r\n", &err), MFA_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "test.conf:2: "));
	assert_int_equal(parse_long_line(100000, "\n", &err), MFA_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "test.conf:2: "));
}

/* A later bad line leaves the earlier good lines unapplied too. */
static void test_parse_atomic(void **state)
{
	static const char text[] = "window=2\ndeny=7\nbogus\n";
	struct mfa_config cfg, before;
	struct mfa_config_error err;

	(void)state;
	mfa_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	assert_int_equal(mfa_config_parse_text(&cfg, text, strlen(text), "t", &err),
	    MFA_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "t:3: "));
	assert_unchanged(&cfg, &before);
}

/* --- files: fixture with a private root-owned directory --- */

struct fixture {
	char *dir;
	char *good; /* dir/good.conf, "window = 2", 0644 */
};

static const char good_text[] = "# test\nwindow = 2\n";

static int setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->dir = tu_mkdtemp();
	fx->good = tu_path(fx->dir, "good.conf");
	tu_write_file(fx->good, good_text, strlen(good_text), 0644);
	*state = fx;
	return 0;
}

static int teardown_dir(void **state)
{
	struct fixture *fx = *state;

	tu_rmrf(fx->dir);
	free(fx->dir);
	free(fx->good);
	free(fx);
	return 0;
}

static void test_load_good(void **state)
{
	static const mode_t modes[] = { 0644, 0640, 0600, 0400, 0444 };
	struct fixture *fx = *state;
	struct mfa_config cfg;
	struct mfa_config_error err;
	char *path = tu_path(fx->dir, "modes.conf");

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		tu_write_file(path, good_text, strlen(good_text), modes[i]);
		mfa_config_defaults(&cfg);
		err.msg[0] = '\0';
		if (mfa_config_load_file(&cfg, path, false, &err) != 0)
			fail_msg("mode %o: %s", (unsigned)modes[i], err.msg);
		assert_int_equal(cfg.window, 2);
	}
	free(path);
}

static void test_load_missing(void **state)
{
	struct fixture *fx = *state;
	struct mfa_config cfg, before;
	struct mfa_config_error err;
	char *missing = tu_path(fx->dir, "missing.conf");
	char *nodir = tu_path(fx->dir, "nodir/mfauth.conf");
	int fds = count_fds();

	mfa_config_defaults(&cfg);
	cfg.window = 7; /* not a default: "unchanged" must mean untouched */
	memcpy(&before, &cfg, sizeof(cfg));
	assert_int_equal(mfa_config_load_file(&cfg, missing, true, &err), 0);
	assert_unchanged(&cfg, &before);
	assert_int_equal(mfa_config_load_file(&cfg, nodir, true, &err), 0);
	assert_unchanged(&cfg, &before);

	err.msg[0] = '\0';
	assert_int_equal(mfa_config_load_file(&cfg, missing, false, &err), MFA_ERR_CONFIG);
	assert_non_null(strstr(err.msg, missing));
	assert_unchanged(&cfg, &before);
	assert_int_equal(mfa_config_load_file(&cfg, nodir, false, &err), MFA_ERR_CONFIG);
	assert_non_null(strstr(err.msg, nodir));
	assert_int_equal(count_fds(), fds);
	free(missing);
	free(nodir);
}

/* Each returns the path of an object the loader must refuse. */
typedef char *(*make_unsafe_fn)(struct fixture *fx);

static char *make_mode(struct fixture *fx, const char *name, mode_t mode)
{
	char *p = tu_path(fx->dir, name);

	tu_write_file(p, good_text, strlen(good_text), mode);
	return p;
}

static char *make_group_writable(struct fixture *fx)
{
	return make_mode(fx, "gw.conf", 0664);
}

static char *make_other_writable(struct fixture *fx)
{
	return make_mode(fx, "ow.conf", 0646);
}

static char *make_world_writable(struct fixture *fx)
{
	return make_mode(fx, "ww.conf", 0666);
}

static char *make_not_root(struct fixture *fx)
{
	char *p = make_mode(fx, "nobody.conf", 0644);

	if (chown(p, NOBODY, NOBODY) != 0)
		fail_msg("chown %s: %s", p, strerror(errno));
	return p;
}

static char *make_symlink(struct fixture *fx)
{
	char *p = tu_path(fx->dir, "link.conf");

	if (symlink(fx->good, p) != 0)
		fail_msg("symlink %s: %s", p, strerror(errno));
	return p;
}

static char *make_hardlink(struct fixture *fx)
{
	char *target = make_mode(fx, "hl-target.conf", 0644);
	char *p = tu_path(fx->dir, "hardlink.conf");

	if (link(target, p) != 0)
		fail_msg("link %s: %s", p, strerror(errno));
	free(target);
	return p;
}

static char *make_directory(struct fixture *fx)
{
	char *p = tu_path(fx->dir, "dir.conf");

	if (mkdir(p, 0755) != 0)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	return p;
}

static char *make_fifo(struct fixture *fx)
{
	char *p = tu_path(fx->dir, "fifo.conf");

	if (mkfifo(p, 0644) != 0)
		fail_msg("mkfifo %s: %s", p, strerror(errno));
	return p;
}

static char *make_in_subdir(struct fixture *fx, const char *sub, mode_t mode, uid_t owner)
{
	char *d = tu_path(fx->dir, sub);
	char *p = tu_path(d, "mfauth.conf");

	if (mkdir(d, 0755) != 0 || chmod(d, mode) != 0)
		fail_msg("mkdir %s: %s", d, strerror(errno));
	tu_write_file(p, good_text, strlen(good_text), 0644);
	if (chown(d, owner, owner) != 0)
		fail_msg("chown %s: %s", d, strerror(errno));
	free(d);
	return p;
}

static char *make_parent_group_writable(struct fixture *fx)
{
	return make_in_subdir(fx, "gwdir", 0775, 0);
}

static char *make_parent_not_root(struct fixture *fx)
{
	return make_in_subdir(fx, "nobodydir", 0755, NOBODY);
}

static char *make_symlinked_parent(struct fixture *fx)
{
	char *d = tu_path(fx->dir, "linkdir");

	if (symlink(fx->dir, d) != 0)
		fail_msg("symlink %s: %s", d, strerror(errno));
	free(d);
	return tu_path(fx->dir, "linkdir/good.conf");
}

static char *make_relative(struct fixture *fx)
{
	(void)fx;
	return strdup("good.conf");
}

static char *make_too_large(struct fixture *fx)
{
	char *p = tu_path(fx->dir, "large.conf");
	size_t n = 64 * 1024 + 1;
	char *text = repeat('#', n);

	text[n - 1] = '\n';
	tu_write_file(p, text, n, 0644);
	free(text);
	return p;
}

struct unsafe_case {
	const char *what;
	make_unsafe_fn make;
};

/* clang-format off */
static const struct unsafe_case unsafe_cases[] = {
	{ "group-writable file", make_group_writable },
	{ "other-writable file", make_other_writable },
	{ "world-writable file", make_world_writable },
	{ "file owned by uid 65534", make_not_root },
	{ "symlink to a good file", make_symlink },
	{ "hard link (2 links)", make_hardlink },
	{ "directory", make_directory },
	{ "FIFO", make_fifo },
	{ "group-writable parent directory", make_parent_group_writable },
	{ "parent directory owned by uid 65534", make_parent_not_root },
	{ "symlinked parent directory", make_symlinked_parent },
	{ "relative path", make_relative },
	{ "file over 64 KiB", make_too_large },
};
/* clang-format on */

static void test_load_unsafe(void **state)
{
	struct fixture *fx = *state;
	struct mfa_config cfg, before;
	struct mfa_config_error err;

	for (size_t i = 0; i < sizeof(unsafe_cases) / sizeof(unsafe_cases[0]); i++) {
		char *path = unsafe_cases[i].make(fx);
		int fds = count_fds();
		int rc;

		mfa_config_defaults(&cfg);
		memcpy(&before, &cfg, sizeof(cfg));
		err.msg[0] = '\0';
		/* A FIFO must not block; if it does, SIGALRM kills the test run. */
		alarm(10);
		rc = mfa_config_load_file(&cfg, path, false, &err);
		alarm(0);
		if (rc != MFA_ERR_CONFIG)
			fail_msg("%s: rc %d, want MFA_ERR_CONFIG", unsafe_cases[i].what, rc);
		if (strstr(err.msg, path) == NULL)
			fail_msg("%s: message '%s' does not name %s", unsafe_cases[i].what, err.msg,
			    path);
		assert_unchanged(&cfg, &before);
		/* missing_ok forgives absence, never unsafety. */
		assert_int_equal(mfa_config_load_file(&cfg, path, true, NULL), MFA_ERR_CONFIG);
		assert_unchanged(&cfg, &before);
		assert_int_equal(count_fds(), fds);
		free(path);
	}
}

static void test_load_size_limit(void **state)
{
	struct fixture *fx = *state;
	struct mfa_config cfg;
	struct mfa_config_error err;
	char *path = tu_path(fx->dir, "exact.conf");
	size_t n = 64 * 1024;
	char *text = repeat('#', n);
	static const char tail[] = "\nwindow=9\n";

	/* Exactly 64 KiB of short comment lines, ending in a setting, is read whole. */
	for (size_t i = 99; i < n; i += 100)
		text[i] = '\n';
	memcpy(text + n - strlen(tail), tail, strlen(tail));
	tu_write_file(path, text, n, 0644);
	mfa_config_defaults(&cfg);
	err.msg[0] = '\0';
	if (mfa_config_load_file(&cfg, path, false, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.window, 9);
	free(text);
	free(path);
}

static void test_load_parse_error(void **state)
{
	static const char text[] = "window = 2\nwindw = 3\n";
	struct fixture *fx = *state;
	struct mfa_config cfg, before;
	struct mfa_config_error err;
	char *path = tu_path(fx->dir, "typo.conf");
	char want[PATH_MAX + 64];
	int fds = count_fds();

	tu_write_file(path, text, strlen(text), 0644);
	mfa_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	assert_int_equal(mfa_config_load_file(&cfg, path, false, &err), MFA_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:2: unknown key 'windw'", path);
	assert_string_equal(err.msg, want);
	assert_unchanged(&cfg, &before);
	assert_int_equal(count_fds(), fds);
	free(path);
}

/* --- module arguments --- */

#define MAX_ARGS 6

struct args_case {
	const char *args[MAX_ARGS]; /* "@good" etc. after "conf=" name fixture files */
	int rc;
	const char *want; /* message substring, or a key=value check if rc == 0 */
	const char *key;
	uint64_t num;
};

static const struct args_case args_cases[] = {
	{ { "conf=@good" }, 0, NULL, "window", 2 },
	{ { "conf=@good", "window=3" }, 0, NULL, "window", 3 },
	{ { "window=3", "conf=@good" }, 0, NULL, "window", 3 },
	{ { "conf=@good", "window=3", "window=4" }, 0, NULL, "window", 4 },
	{ { "conf=@good", "deny=9" }, 0, NULL, "window", 2 },
	{ { "conf=@good", "deny=9" }, 0, NULL, "deny", 9 },
	{ { "conf=@good", "nullok" }, 0, NULL, "nullok", 1 },
	{ { "conf=@good", "debug" }, 0, NULL, "debug", 1 },
	{ { "conf=@bools", "nullok=no" }, 0, NULL, "nullok", 0 },
	{ { "conf=@bools" }, 0, NULL, "nullok", 1 },
	{ { "conf=@good", "factors=totp,card" }, 0, NULL, "factors",
	    MFA_FACTOR_TOTP | MFA_FACTOR_CARD },
	{ { "conf=@good", "window" }, MFA_ERR_CONFIG, "module argument 2: window: needs a value",
	    NULL, 0 },
	{ { "conf=@good", "card_reader" }, MFA_ERR_CONFIG,
	    "module argument 2: card_reader: needs a value", NULL, 0 },
	{ { "conf=@good", "deny", "nullok" }, MFA_ERR_CONFIG,
	    "module argument 2: deny: needs a value", NULL, 0 },
	{ { "conf=@good", "bogus=1" }, MFA_ERR_CONFIG, "module argument 2: unknown key 'bogus'",
	    NULL, 0 },
	{ { "conf=@good", "nullok", "bogus" }, MFA_ERR_CONFIG,
	    "module argument 3: unknown key 'bogus'", NULL, 0 },
	{ { "conf=@good", "window=99" }, MFA_ERR_CONFIG,
	    "module argument 2: window: '99' out of range 0..10", NULL, 0 },
	{ { "conf=@good", "=3" }, MFA_ERR_CONFIG, "module argument 2: missing key", NULL, 0 },
	{ { "conf=@good", "" }, MFA_ERR_CONFIG, "module argument 2: missing key", NULL, 0 },
	{ { "conf=@good", "nullok=maybe" }, MFA_ERR_CONFIG, "module argument 2: nullok: 'maybe'",
	    NULL, 0 },
	{ { "conf=@good", "nullok=" }, MFA_ERR_CONFIG, "module argument 2: nullok: ''", NULL, 0 },
	{ { "conf=@good",
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1" },
	    MFA_ERR_CONFIG, "module argument 2: unknown key 'aaaa", NULL, 0 },
	{ { "conf=" }, MFA_ERR_CONFIG, "module argument 1: conf needs a path", NULL, 0 },
	{ { "window=3", "conf" }, MFA_ERR_CONFIG, "module argument 2: conf needs a path", NULL, 0 },
	{ { "conf=@good", "conf=@good" }, MFA_ERR_CONFIG,
	    "module argument 2: conf given more than once", NULL, 0 },
	{ { "conf=@missing" }, MFA_ERR_CONFIG, "/missing.conf: does not exist", NULL, 0 },
	{ { "conf=relative.conf" }, MFA_ERR_CONFIG, "relative.conf: not an absolute path", NULL,
	    0 },
	{ { "conf=@unsafe" }, MFA_ERR_CONFIG, "/unsafe.conf: writable by group or others", NULL,
	    0 },
	{ { "conf=@typo", "window=3" }, MFA_ERR_CONFIG, "/typo.conf:2: unknown key 'windw'", NULL,
	    0 },
	/* store = ldap is whole only with its keys, from the file or the arguments. */
	{ { "conf=@good", "store=ldap" }, MFA_ERR_CONFIG, "store = ldap: ldap_uri is not set", NULL,
	    0 },
	{ { "conf=@good", "store=ldap", "ldap_uri=ldaps://a" }, MFA_ERR_CONFIG,
	    "store = ldap: ldap_base is not set", NULL, 0 },
	{ { "conf=@good", "store=ldap", "ldap_uri=ldaps://a", "ldap_base=ou=m,dc=x" },
	    MFA_ERR_CONFIG, "store = ldap: ldap_bind_dn is not set", NULL, 0 },
	{ { "conf=@good", "store=ldap", "ldap_uri=ldaps://a", "ldap_base=ou=m,dc=x",
	      "ldap_bind_dn=cn=t,dc=x" },
	    0, NULL, "store", MFA_BACKEND_LDAP },
	{ { "conf=@ldap" }, MFA_ERR_CONFIG, "store = ldap: ldap_bind_dn is not set", NULL, 0 },
	{ { "conf=@ldap", "ldap_bind_dn=cn=t,dc=x" }, 0, NULL, "store", MFA_BACKEND_LDAP },
	{ { "conf=@ldap", "ldap_bind_dn=cn=t,dc=x", "ldap_timeout=10" }, 0, NULL, "ldap_timeout",
	    10 },
	{ { "conf=@ldap", "store=files" }, 0, NULL, "store", MFA_BACKEND_FILES },
};

static char *expand_arg(struct fixture *fx, const char *arg)
{
	size_t n = strlen(fx->dir) + strlen(arg) + 16;
	char *full;

	if (strncmp(arg, "conf=@", 6) != 0)
		return strdup(arg);
	full = malloc(n);
	if (full == NULL)
		fail_msg("malloc");
	snprintf(full, n, "conf=%s/%s.conf", fx->dir, arg + 6);
	return full;
}

static void write_arg_files(struct fixture *fx)
{
	static const char bools[] = "window = 2\nnullok = yes\n";
	static const char typo[] = "window = 2\nwindw = 3\n";
	static const char ldap[] = "store = ldap\nldap_uri = ldaps://d1 ldaps://d2\n"
	                           "ldap_base = ou=mfauth,dc=example\n";
	char *p;

	p = tu_path(fx->dir, "bools.conf");
	tu_write_file(p, bools, strlen(bools), 0644);
	free(p);
	p = tu_path(fx->dir, "typo.conf");
	tu_write_file(p, typo, strlen(typo), 0644);
	free(p);
	p = tu_path(fx->dir, "ldap.conf");
	tu_write_file(p, ldap, strlen(ldap), 0644);
	free(p);
	p = tu_path(fx->dir, "unsafe.conf");
	tu_write_file(p, good_text, strlen(good_text), 0666);
	free(p);
}

static void test_args(void **state)
{
	struct fixture *fx = *state;
	int fds;

	write_arg_files(fx);
	fds = count_fds();
	for (size_t i = 0; i < sizeof(args_cases) / sizeof(args_cases[0]); i++) {
		const struct args_case *c = &args_cases[i];
		char *argv[MAX_ARGS];
		struct mfa_config cfg;
		struct mfa_config_error err;
		int argc = 0, rc;

		while (argc < MAX_ARGS && c->args[argc] != NULL) {
			argv[argc] = expand_arg(fx, c->args[argc]);
			argc++;
		}
		memset(&cfg, 0x5a, sizeof(cfg));
		err.msg[0] = '\0';
		rc = mfa_config_from_args(&cfg, argc, (const char **)argv, &err);
		if (rc != c->rc)
			fail_msg("case %zu (%s): rc %d, want %d: %s", i, c->args[0], rc, c->rc,
			    err.msg);
		if (rc != 0 && strstr(err.msg, c->want) == NULL)
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, c->want);
		if (rc == 0 && get_num(&cfg, field_of(c->key)) != c->num)
			fail_msg("case %zu: %s = %llu, want %llu", i, c->key,
			    (unsigned long long)get_num(&cfg, field_of(c->key)),
			    (unsigned long long)c->num);
		for (int j = 0; j < argc; j++)
			free(argv[j]);
	}
	assert_int_equal(count_fds(), fds);
}

/* Arguments start from the defaults, not from whatever cfg held. */
static void test_args_start_from_defaults(void **state)
{
	struct fixture *fx = *state;
	struct mfa_config cfg, want;
	struct mfa_config_error err;
	char *conf = expand_arg(fx, "conf=@good");
	const char *argv[] = { conf };

	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(mfa_config_from_args(&cfg, 1, argv, &err), 0);
	mfa_config_defaults(&want);
	want.window = 2;
	assert_unchanged(&cfg, &want);
	free(conf);
}

/*
 * Without conf= the default file is used and may be absent.  The test cannot
 * write to sysconfdir, so it checks from_args agrees with loading the
 * default path directly (and, where the file is absent, that it is fine).
 */
static void test_args_default_path(void **state)
{
	const char *argv[] = { "window=3" };
	struct mfa_config cfg, ref;
	struct mfa_config_error err, rerr;
	struct stat st;
	bool absent = lstat(mfa_config_default_path(), &st) != 0 &&
	    (errno == ENOENT || errno == ENOTDIR);
	int rc, ref_rc;

	(void)state;
	rc = mfa_config_from_args(&cfg, 1, argv, &err);
	mfa_config_defaults(&ref);
	ref_rc = mfa_config_load_file(&ref, mfa_config_default_path(), true, &rerr);
	assert_int_equal(rc, ref_rc);
	if (absent)
		assert_int_equal(rc, 0);
	if (rc == 0) {
		ref.window = 3;
		assert_unchanged(&cfg, &ref);
	}
	/* No arguments at all is the same as the default file alone. */
	assert_int_equal(mfa_config_from_args(&cfg, 0, NULL, &err), ref_rc);
}

static void test_args_bad_list(void **state)
{
	const char *argv[] = { "nullok", NULL };
	struct mfa_config cfg;
	struct mfa_config_error err;

	(void)state;
	err.msg[0] = '\0';
	assert_int_equal(mfa_config_from_args(&cfg, 2, argv, &err), MFA_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "module argument 2"));
	assert_int_equal(mfa_config_from_args(&cfg, -1, argv, &err), MFA_ERR_CONFIG);
	assert_int_equal(mfa_config_from_args(&cfg, 1, NULL, &err), MFA_ERR_CONFIG);
	assert_int_equal(mfa_config_from_args(NULL, 0, NULL, &err), MFA_ERR_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_good),
		cmocka_unit_test(test_set_good_lengths),
		cmocka_unit_test(test_set_bad),
		cmocka_unit_test(test_set_bad_numbers),
		cmocka_unit_test(test_set_bad_lengths),
		cmocka_unit_test(test_set_unknown_key),
		cmocka_unit_test(test_check_ldap),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_empty_and_comments),
		cmocka_unit_test(test_parse_respects_len),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_line_length),
		cmocka_unit_test(test_parse_atomic),
		cmocka_unit_test_setup_teardown(test_load_good, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_missing, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_unsafe, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_size_limit, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_parse_error, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_args, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_args_start_from_defaults, setup_dir,
		    teardown_dir),
		cmocka_unit_test(test_args_default_path),
		cmocka_unit_test(test_args_bad_list),
	};

	tu_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
