/*
 * Configuration: one key=value parser for the config file and the PAM module
 * arguments (doc/DESIGN.md §3).  The file is root-owned, but the parser is still
 * written for arbitrary bytes: it is fuzzed, and a config mistake must turn
 * into a clear error naming file and line, never into a crash or a silently
 * weaker setting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfauth/conf.h"
#include "mfauth/err.h"
#include "mfauth/safefile.h"
#include "mfauth/text.h"

#ifndef MFA_SYSCONFDIR
#define MFA_SYSCONFDIR "/etc"
#endif
#ifndef MFA_LOCALSTATEDIR
#define MFA_LOCALSTATEDIR "/var"
#endif

/* A real config is a few hundred bytes; refuse to slurp anything big. */
#define CONFIG_FILE_MAX (64 * 1024)

/* Longest stretch of a bad value quoted back in a message, and its buffer. */
#define SHOW_MAX 48
#define SHOW_BUF (4 * SHOW_MAX + 4)

/* Module argument keys never come near this; a longer one is unknown anyway. */
#define ARG_KEY_MAX 64

enum key_kind {
	KIND_PATH, /* absolute path into a char array */
	KIND_TEXT, /* printable ASCII into a char array */
	KIND_NUM,  /* unsigned or uint64_t, chosen by the field size */
	KIND_BOOL,
	KIND_LIST,   /* comma list of names, OR'ed into an unsigned mask */
	KIND_CHOICE, /* exactly one of the names, its bit into an unsigned */
	KIND_URIS,   /* blank-separated LDAP URIs into a char array ("" = unset) */
	KIND_DN,     /* a distinguished name (UTF-8) into a char array ("" = unset) */
};

struct list_item {
	const char *name;
	unsigned bit;
};

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off;
	size_t size;
	uint64_t min, max;             /* KIND_NUM */
	const struct list_item *items; /* KIND_LIST, KIND_CHOICE: NULL-terminated */
	const char *hint;              /* KIND_LIST, KIND_CHOICE: the names, for messages */
};

/* clang-format off */
static const struct list_item factor_items[] = {
	{ "totp", MFA_FACTOR_TOTP },
	{ "card", MFA_FACTOR_CARD },
	{ NULL, 0 },
};
/* clang-format on */

/* clang-format off */
static const struct list_item profile_items[] = {
	{ "jpki", MFA_PROFILE_JPKI },
	{ "piv", MFA_PROFILE_PIV },
	{ NULL, 0 },
};
/* clang-format on */

/* clang-format off */
static const struct list_item store_items[] = {
	{ "files", MFA_BACKEND_FILES },
	{ "ldap", MFA_BACKEND_LDAP },
	{ NULL, 0 },
};
/* clang-format on */

/* clang-format off */
static const struct list_item lang_items[] = {
	{ "auto", MFA_LANG_AUTO },
	{ "ja", MFA_LANG_JA },
	{ "en", MFA_LANG_EN },
	{ NULL, 0 },
};
/* clang-format on */

/* The URI schemes the directory client speaks (ldapi:// is a local socket). */
static const char *const ldap_schemes[] = { "ldaps://", "ldap://", "ldapi://" };
/* More would only lengthen an outage: each server gets ldap_timeout seconds. */
#define LDAP_URIS_MAX 8

#ifndef MFA_LDAP_MODULE_PATH
#define MFA_LDAP_MODULE_PATH "/usr/local/lib/mfauth/mfauth_store_ldap.so"
#endif

#ifndef MFA_HELPER_PATH
#define MFA_HELPER_PATH "/usr/local/libexec/mfauth/mfauth-verify"
#endif

#define FIELD(m) offsetof(struct mfa_config, m), sizeof(((struct mfa_config *)NULL)->m)

/* name, kind, offset, size, min, max, list items, list hint */
/* clang-format off */
static const struct key_def key_defs[] = {
	{ "store_dir", KIND_PATH, FIELD(store_dir), 0, 0, NULL, NULL },
	{ "key_file", KIND_PATH, FIELD(key_file), 0, 0, NULL, NULL },
	{ "factors", KIND_LIST, FIELD(factors), 0, 0, factor_items, "totp, card" },
	{ "window", KIND_NUM, FIELD(window), 0, 10, NULL, NULL },
	{ "deny", KIND_NUM, FIELD(deny), 0, 1000, NULL, NULL },
	{ "unlock_time", KIND_NUM, FIELD(unlock_time), 0, 31536000, NULL, NULL },
	{ "fail_interval", KIND_NUM, FIELD(fail_interval), 1, 31536000, NULL, NULL },
	{ "deny_total", KIND_NUM, FIELD(deny_total), 0, 100000, NULL, NULL },
	{ "nullok", KIND_BOOL, FIELD(nullok), 0, 0, NULL, NULL },
	{ "debug", KIND_BOOL, FIELD(debug), 0, 0, NULL, NULL },
	{ "card_wait", KIND_NUM, FIELD(card_wait), 0, 300, NULL, NULL },
	{ "card_remote", KIND_BOOL, FIELD(card_remote), 0, 0, NULL, NULL },
	{ "card_reader", KIND_TEXT, FIELD(card_reader), 0, 0, NULL, NULL },
	{ "card_min_tries", KIND_NUM, FIELD(card_min_tries), 1, 15, NULL, NULL },
	{ "card_profiles", KIND_LIST, FIELD(card_profiles), 0, 0, profile_items, "jpki, piv" },
	{ "helper", KIND_PATH, FIELD(helper), 0, 0, NULL, NULL },
	{ "lang", KIND_CHOICE, FIELD(lang), 0, 0, lang_items, "auto, ja, en" },
	{ "store", KIND_CHOICE, FIELD(store), 0, 0, store_items, "files, ldap" },
	{ "ldap_uri", KIND_URIS, FIELD(ldap_uri), 0, 0, NULL, NULL },
	{ "ldap_base", KIND_DN, FIELD(ldap_base), 0, 0, NULL, NULL },
	{ "ldap_bind_dn", KIND_DN, FIELD(ldap_bind_dn), 0, 0, NULL, NULL },
	{ "ldap_bind_pw_file", KIND_PATH, FIELD(ldap_bind_pw_file), 0, 0, NULL, NULL },
	{ "ldap_ca_file", KIND_PATH, FIELD(ldap_ca_file), 0, 0, NULL, NULL },
	{ "ldap_starttls", KIND_BOOL, FIELD(ldap_starttls), 0, 0, NULL, NULL },
	{ "ldap_timeout", KIND_NUM, FIELD(ldap_timeout), 1, 300, NULL, NULL },
	{ "ldap_module", KIND_PATH, FIELD(ldap_module), 0, 0, NULL, NULL },
};
/* clang-format on */

static const char *const bool_true[] = { "yes", "true", "1", "on" };
static const char *const bool_false[] = { "no", "false", "0", "off" };

static int cfg_fail(struct mfa_config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int cfg_fail(struct mfa_config_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return MFA_ERR_CONFIG;
}

/*
 * Quote n bytes of untrusted text for a message: bounded, and control or
 * non-ASCII bytes escaped, so a bad value cannot forge extra syslog lines.
 */
static const char *show(char out[SHOW_BUF], const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == SHOW_MAX) {
			memcpy(out + o, "...", 4);
			return out;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const struct key_def *find_key(const char *key)
{
	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++)
		if (strcmp(key_defs[i].name, key) == 0)
			return &key_defs[i];
	return NULL;
}

/*
 * Only plain decimal digits: strtoull by itself skips blanks, takes a sign and
 * turns "-1" into ULLONG_MAX.  Returns 0, -1 (not a number) or -2 (overflow).
 */
static int parse_number(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *end != '\0')
		return -1;
	if (errno == ERANGE)
		return -2;
	*out = (uint64_t)v;
	return 0;
}

static int set_num(const struct key_def *def, void *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	uint64_t v = 0;
	int prc;

	if (value[0] == '\0')
		return cfg_fail(err, "%s: empty value", def->name);
	prc = parse_number(value, &v);
	if (prc == -1)
		return cfg_fail(err, "%s: '%s' is not a number", def->name,
		    show(shown, value, strlen(value)));
	if (prc != 0 || v < def->min || v > def->max)
		return cfg_fail(err, "%s: '%s' out of range %" PRIu64 "..%" PRIu64, def->name,
		    show(shown, value, strlen(value)), def->min, def->max);
	if (def->size == sizeof(uint64_t))
		*(uint64_t *)field = v;
	else
		*(unsigned *)field = (unsigned)v; /* max <= 1000 fits */
	return 0;
}

static int set_bool(const struct key_def *def, bool *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];

	/* A bare module argument ("nullok") switches the option on. */
	if (value == NULL) {
		*field = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(bool_true) / sizeof(bool_true[0]); i++) {
		if (strcmp(value, bool_true[i]) == 0) {
			*field = true;
			return 0;
		}
		if (strcmp(value, bool_false[i]) == 0) {
			*field = false;
			return 0;
		}
	}
	return cfg_fail(err, "%s: '%s' is not yes/no/true/false/1/0/on/off", def->name,
	    show(shown, value, strlen(value)));
}

static int set_path(const struct key_def *def, char *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	size_t len = strlen(value);

	/* Relative paths would depend on the host program's working directory. */
	if (value[0] != '/')
		return cfg_fail(err, "%s: '%s' is not an absolute path", def->name,
		    show(shown, value, len));
	if (len >= def->size)
		return cfg_fail(err, "%s: path longer than %zu bytes", def->name, def->size - 1);
	/* A newline in a path would end up in audit lines; nobody needs one. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return cfg_fail(err, "%s: '%s' contains a control character", def->name,
			    show(shown, value, len));
	memcpy(field, value, len + 1);
	return 0;
}

static int set_text(const struct key_def *def, char *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	size_t len = strlen(value);

	if (len >= def->size)
		return cfg_fail(err, "%s: longer than %zu bytes", def->name, def->size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] >= 0x7f)
			return cfg_fail(err, "%s: '%s' contains a non-printable character",
			    def->name, show(shown, value, len));
	memcpy(field, value, len + 1);
	return 0;
}

/* "a,b": each name once, blanks around names allowed, no empty items. */
static int set_list(const struct key_def *def, unsigned *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	const char *p = value;
	unsigned mask = 0;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *item = p;
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		const struct list_item *it;

		while (n > 0 && is_blank(*item)) {
			item++;
			n--;
		}
		while (n > 0 && is_blank(item[n - 1]))
			n--;
		if (n == 0)
			return cfg_fail(err, "%s: empty item in '%s' (expected %s)", def->name,
			    show(shown, value, strlen(value)), def->hint);
		for (it = def->items; it->name != NULL; it++)
			if (strlen(it->name) == n && memcmp(it->name, item, n) == 0)
				break;
		if (it->name == NULL)
			return cfg_fail(err, "%s: unknown item '%s' (expected %s)", def->name,
			    show(shown, item, n), def->hint);
		if ((mask & it->bit) != 0)
			return cfg_fail(err, "%s: '%s' listed twice", def->name, it->name);
		mask |= it->bit;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*field = mask;
	return 0;
}

/* One of the names, once: "files", not "files,ldap". */
static int set_choice(const struct key_def *def, unsigned *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];

	for (const struct list_item *it = def->items; it->name != NULL; it++) {
		if (strcmp(it->name, value) == 0) {
			*field = it->bit;
			return 0;
		}
	}
	return cfg_fail(err, "%s: '%s' is not one of %s", def->name,
	    show(shown, value, strlen(value)), def->hint);
}

/* The length of uri's scheme ("ldaps://"), 0 when it is none the client speaks. */
static size_t ldap_scheme_len(const char *uri, size_t n)
{
	for (size_t i = 0; i < sizeof(ldap_schemes) / sizeof(ldap_schemes[0]); i++) {
		size_t sl = strlen(ldap_schemes[i]);
		if (n >= sl && strncmp(uri, ldap_schemes[i], sl) == 0)
			return sl;
	}
	return 0;
}

/*
 * After the scheme only a host and port (ldapi: a %-encoded socket path),
 * and at most a trailing '/': a DN, filter or extension in the URI would be
 * ignored, and a ',' would make libldap read two URIs where we see one.
 */
static bool is_host_port(const char *p, size_t n)
{
	if (n > 0 && p[n - 1] == '/')
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        strchr(".-_:[]%", c) != NULL))
			return false;
	}
	return true;
}

/*
 * "ldaps://a ldaps://b": printable ASCII (a URI escapes everything else),
 * each a scheme the client speaks, at most LDAP_URIS_MAX.  Empty = unset
 * (mfa_config_check() demands it with store = ldap).
 */
static int set_uris(const struct key_def *def, char *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	size_t len = strlen(value), count = 0;
	const char *p = value;

	if (len >= def->size)
		return cfg_fail(err, "%s: longer than %zu bytes", def->name, def->size - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return cfg_fail(err, "%s: '%s' contains a control character", def->name,
			    show(shown, value, len));
		if (c > 0x7f)
			return cfg_fail(err,
			    "%s: '%s' contains a non-ASCII byte (percent-encode it)", def->name,
			    show(shown, value, len));
	}
	for (;;) {
		size_t n, sl;

		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		for (n = 0; p[n] != '\0' && !is_blank(p[n]); n++)
			;
		if ((sl = ldap_scheme_len(p, n)) == 0)
			return cfg_fail(err, "%s: '%s' is not an ldaps://, ldap:// or ldapi:// URI",
			    def->name, show(shown, p, n));
		if (!is_host_port(p + sl, n - sl))
			return cfg_fail(err,
			    "%s: '%s' has more than a host and port (no DN, "
			    "filter, extension or comma)",
			    def->name, show(shown, p, n));
		if (++count > LDAP_URIS_MAX)
			return cfg_fail(err, "%s: more than %d URIs", def->name, LDAP_URIS_MAX);
		p += n;
	}
	memcpy(field, value, len + 1);
	return 0;
}

/*
 * A DN as RFC 4514 writes it: UTF-8 without control characters; the
 * directory checks the rest.  Empty = unset.
 */
static int set_dn(const struct key_def *def, char *field, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	const unsigned char *u = (const unsigned char *)value;
	size_t len = strlen(value), n;

	if (len >= def->size)
		return cfg_fail(err, "%s: longer than %zu bytes", def->name, def->size - 1);
	for (size_t i = 0; i < len; i += n) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return cfg_fail(err, "%s: '%s' contains a control character", def->name,
			    show(shown, value, len));
		if ((n = mfa_utf8_seq_len(u + i, len - i)) == 0)
			return cfg_fail(err, "%s: '%s' is not valid UTF-8", def->name,
			    show(shown, value, len));
	}
	if (len > 0 && strchr(value, '=') == NULL)
		return cfg_fail(err, "%s: '%s' is not a DN (attribute=value,...)", def->name,
		    show(shown, value, len));
	memcpy(field, value, len + 1);
	return 0;
}

void mfa_config_defaults(struct mfa_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->store_dir, sizeof(cfg->store_dir), "%s", MFA_LOCALSTATEDIR "/lib/mfauth");
	snprintf(cfg->key_file, sizeof(cfg->key_file), "%s", MFA_SYSCONFDIR "/mfauth/store.key");
	cfg->factors = MFA_FACTOR_TOTP;
	cfg->window = 1;
	cfg->deny = 5;
	cfg->unlock_time = 900;
	cfg->fail_interval = 900;
	cfg->deny_total = 20;
	cfg->nullok = false;
	cfg->debug = false;
	cfg->card_wait = 0;
	cfg->card_remote = false;
	cfg->card_reader[0] = '\0';
	cfg->card_min_tries = 2;
	cfg->card_profiles = MFA_PROFILE_JPKI | MFA_PROFILE_PIV;
	snprintf(cfg->helper, sizeof(cfg->helper), "%s", MFA_HELPER_PATH);
	cfg->lang = MFA_LANG_AUTO;
	cfg->store = MFA_BACKEND_FILES;
	snprintf(cfg->ldap_bind_pw_file, sizeof(cfg->ldap_bind_pw_file), "%s",
	    MFA_SYSCONFDIR "/mfauth/ldap.secret");
	snprintf(cfg->ldap_ca_file, sizeof(cfg->ldap_ca_file), "%s",
	    MFA_SYSCONFDIR "/mfauth/ldap-ca.pem");
	cfg->ldap_starttls = true;
	cfg->ldap_timeout = 3;
	snprintf(cfg->ldap_module, sizeof(cfg->ldap_module), "%s", MFA_LDAP_MODULE_PATH);
}

const char *mfa_config_default_path(void)
{
	return MFA_SYSCONFDIR "/mfauth/mfauth.conf";
}

int mfa_config_set(struct mfa_config *cfg, const char *key, const char *value,
    struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	const struct key_def *def;
	char *field;

	if (cfg == NULL || key == NULL)
		return cfg_fail(err, "no key given");
	def = find_key(key);
	if (def == NULL)
		return cfg_fail(err, "unknown key '%s'", show(shown, key, strlen(key)));
	field = (char *)cfg + def->off;
	if (def->kind == KIND_BOOL)
		return set_bool(def, (bool *)field, value, err);
	/* Only booleans make sense as bare module arguments. */
	if (value == NULL)
		return cfg_fail(err, "%s: needs a value (%s=...)", def->name, def->name);
	switch (def->kind) {
	case KIND_PATH:
		return set_path(def, field, value, err);
	case KIND_TEXT:
		return set_text(def, field, value, err);
	case KIND_NUM:
		return set_num(def, field, value, err);
	case KIND_LIST:
		return set_list(def, (unsigned *)field, value, err);
	case KIND_CHOICE:
		return set_choice(def, (unsigned *)field, value, err);
	case KIND_URIS:
		return set_uris(def, field, value, err);
	case KIND_DN:
		return set_dn(def, field, value, err);
	case KIND_BOOL:
		break;
	}
	return cfg_fail(err, "%s: internal error: unhandled key kind", def->name);
}

/* One line without its terminator.  Blank and comment lines are accepted. */
static int parse_line(struct mfa_config *cfg, char *line, struct mfa_config_error *err)
{
	char shown[SHOW_BUF];
	char *key = line, *eq, *value, *end;

	while (is_blank(*key))
		key++;
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL)
		return cfg_fail(err, "expected 'key = value', got '%s'",
		    show(shown, key, strlen(key)));
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (*key == '\0')
		return cfg_fail(err, "missing key before '='");
	value = eq + 1;
	while (is_blank(*value))
		value++;
	end = value + strlen(value);
	while (end > value && is_blank(end[-1]))
		end--;
	*end = '\0';
	return mfa_config_set(cfg, key, value, err);
}

static int line_fail(struct mfa_config_error *err, const char *name, size_t lineno,
    const char *detail)
{
	return cfg_fail(err, "%s:%zu: %s", name, lineno, detail);
}

int mfa_config_parse_text(struct mfa_config *cfg, const char *text, size_t len, const char *name,
    struct mfa_config_error *err)
{
	struct mfa_config *work = NULL;
	struct mfa_config_error detail;
	char line[MFA_CONFIG_LINE_MAX + 1];
	size_t pos = 0, lineno = 0;
	int rc = MFA_ERR_CONFIG;

	if (name == NULL)
		name = "(config)";
	if (cfg == NULL || (text == NULL && len > 0)) {
		rc = cfg_fail(err, "%s: no configuration given", name);
		goto out;
	}
	/*
	 * Parse into a copy so a file with an error changes nothing.  On the
	 * heap: the module runs on other programs' threads, whose stacks may be
	 * small, and the struct holds two PATH_MAX buffers.
	 */
	work = malloc(sizeof(*work));
	if (work == NULL) {
		cfg_fail(err, "%s: out of memory", name);
		rc = MFA_ERR_NOMEM;
		goto out;
	}
	memcpy(work, cfg, sizeof(*work));
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;

		pos += n + (nl != NULL ? 1 : 0);
		lineno++;
		/* C strings below would silently cut the line at a NUL. */
		if (memchr(start, '\0', n) != NULL) {
			rc = line_fail(err, name, lineno, "NUL byte in line");
			goto out;
		}
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n > MFA_CONFIG_LINE_MAX) {
			char what[64];
			snprintf(what, sizeof(what), "line longer than %d bytes",
			    MFA_CONFIG_LINE_MAX);
			rc = line_fail(err, name, lineno, what);
			goto out;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		if (parse_line(work, line, &detail) != 0) {
			rc = line_fail(err, name, lineno, detail.msg);
			goto out;
		}
	}
	memcpy(cfg, work, sizeof(*cfg));
	rc = 0;
out:
	free(work);
	return rc;
}

/* safefile messages usually start with the path already; do not say it twice. */
static int open_fail(struct mfa_config_error *err, const char *path,
    const struct mfa_path_error *perr)
{
	if (strncmp(perr->msg, path, strlen(path)) == 0)
		return cfg_fail(err, "%s", perr->msg);
	return cfg_fail(err, "%s: %s", path, perr->msg);
}

int mfa_config_load_file(struct mfa_config *cfg, const char *path, bool missing_ok,
    struct mfa_config_error *err)
{
	struct mfa_path_error perr;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, rc = MFA_ERR_CONFIG;

	perr.msg[0] = '\0';
	if (cfg == NULL || path == NULL) {
		rc = cfg_fail(err, "no config file given");
		goto out;
	}
	/* Also checks owner, mode, type and link count: a file others can change is no config. */
	fd = mfa_open_trusted(path, O_RDONLY, false, &perr);
	if (fd < 0) {
		rc = (fd == MFA_ERR_NOENT && missing_ok) ? 0 : open_fail(err, path, &perr);
		fd = -1;
		goto out;
	}
	rc = mfa_read_fd_all(fd, CONFIG_FILE_MAX, &text, &len);
	if (rc == MFA_ERR_RANGE) {
		rc = cfg_fail(err, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		goto out;
	}
	if (rc == MFA_ERR_NOMEM) {
		cfg_fail(err, "%s: out of memory", path);
		goto out;
	}
	if (rc != 0) {
		rc = cfg_fail(err, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	rc = mfa_config_parse_text(cfg, text, len, path, err);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

static int arg_fail(struct mfa_config_error *err, int i, const char *detail)
{
	return cfg_fail(err, "module argument %d: %s", i + 1, detail);
}

static bool is_conf_arg(const char *arg)
{
	return strncmp(arg, "conf", 4) == 0 && (arg[4] == '\0' || arg[4] == '=');
}

/* "key=value" or a bare "key" (value NULL, booleans only). */
static int apply_arg(struct mfa_config *cfg, const char *arg, int i, struct mfa_config_error *err)
{
	struct mfa_config_error detail;
	char key[ARG_KEY_MAX];
	char shown[SHOW_BUF];
	const char *eq = strchr(arg, '=');
	size_t klen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

	if (klen == 0) {
		snprintf(detail.msg, sizeof(detail.msg), "missing key in '%s'",
		    show(shown, arg, strlen(arg)));
		return arg_fail(err, i, detail.msg);
	}
	if (klen >= sizeof(key)) {
		snprintf(detail.msg, sizeof(detail.msg), "unknown key '%s'",
		    show(shown, arg, klen));
		return arg_fail(err, i, detail.msg);
	}
	memcpy(key, arg, klen);
	key[klen] = '\0';
	if (mfa_config_set(cfg, key, eq != NULL ? eq + 1 : NULL, &detail) != 0)
		return arg_fail(err, i, detail.msg);
	return 0;
}

int mfa_config_from_args(struct mfa_config *cfg, int argc, const char **argv,
    struct mfa_config_error *err)
{
	const char *conf = NULL;
	int i, rc;

	if (cfg == NULL || argc < 0 || (argc > 0 && argv == NULL))
		return cfg_fail(err, "module argument: bad argument list");
	mfa_config_defaults(cfg);
	/* Find the file first, whatever the order, so arguments always override it. */
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			return arg_fail(err, i, "missing (NULL)");
		if (!is_conf_arg(argv[i]))
			continue;
		/* Two files would leave the admin guessing which one wins. */
		if (conf != NULL)
			return arg_fail(err, i, "conf given more than once");
		if (argv[i][4] != '=' || argv[i][5] == '\0')
			return arg_fail(err, i, "conf needs a path (conf=/path/to/mfauth.conf)");
		conf = argv[i] + 5;
	}
	/* The default file may be absent; a file the admin named must exist. */
	if (conf != NULL)
		rc = mfa_config_load_file(cfg, conf, false, err);
	else
		rc = mfa_config_load_file(cfg, mfa_config_default_path(), true, err);
	if (rc != 0)
		return rc;
	for (i = 0; i < argc; i++) {
		if (is_conf_arg(argv[i]))
			continue;
		rc = apply_arg(cfg, argv[i], i, err);
		if (rc != 0)
			return rc;
	}
	return mfa_config_check(cfg, err);
}

/* The rules no single key can check: what store = ldap needs. */
int mfa_config_check(const struct mfa_config *cfg, struct mfa_config_error *err)
{
	static const struct {
		const char *key;
		size_t off;
		/* clang-format off */
	} needed[] = {
		{ "ldap_uri", offsetof(struct mfa_config, ldap_uri) },
		{ "ldap_base", offsetof(struct mfa_config, ldap_base) },
		{ "ldap_bind_dn", offsetof(struct mfa_config, ldap_bind_dn) },
	};
	/* clang-format on */

	if (cfg == NULL)
		return cfg_fail(err, "no configuration given");
	if (cfg->store != MFA_BACKEND_LDAP)
		return 0;
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (((const char *)cfg + needed[i].off)[0] == '\0')
			return cfg_fail(err, "store = ldap: %s is not set", needed[i].key);
	return 0;
}

bool mfa_config_profile_allowed(const struct mfa_config *cfg, unsigned card_profile)
{
	/* record.h's MFA_CARD_JPKI = 1, MFA_CARD_PIV = 2 map onto the option's bits. */
	unsigned bit = card_profile == 1 ? MFA_PROFILE_JPKI :
	    card_profile == 2            ? MFA_PROFILE_PIV :
	                                   0;
	return bit != 0 && (cfg->card_profiles & bit) != 0;
}
