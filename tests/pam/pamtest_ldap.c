/* The directory half of the PAM test harness (see pamtest_ldap.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pamtest_ldap.h"
#include "testutil.h"
#include "mfauth/err.h"
#include "mfauth/store.h"

bool ptl_enabled(void)
{
	const char *s = getenv("MFAUTH_TEST_STORE");

	return s != NULL && strcmp(s, "ldap") == 0;
}

time_t ptl_wall_clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		fail_msg("clock_gettime");
	return ts.tv_sec;
}

const char *ptl_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("%s is not set: run through tests/ldap/'s wrapper (slapd-rig.sh's env)",
		    name);
	return v;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	tu_write_file(path, text, strlen(text), mode);
}

static void sb_path(const struct pt_sandbox *sb, char *out, size_t len, const char *name)
{
	if ((size_t)snprintf(out, len, "%s/%s", sb->dir, name) >= len)
		fail_msg("path too long: %s/%s", sb->dir, name);
}

/*
 * Run an OpenLDAP tool (a command line of our own, no user input in it)
 * with input on its standard input and its output into out (NULL: into
 * DIR/admin.log with its errors, which are shown when it fails).
 */
static void run_tool(const struct pt_sandbox *sb, const char *cmd, const char *input,
    const char *out)
{
	char line[4096], log[256];
	FILE *p;
	int st;

	sb_path(sb, log, sizeof(log), "admin.log");
	if ((size_t)snprintf(line, sizeof(line), "%s >'%s' 2>>'%s'", cmd, out ? out : log, log) >=
	    sizeof(line))
		fail_msg("command too long: %s", cmd);
	if ((p = popen(line, "w")) == NULL)
		fail_msg("popen: %s", strerror(errno));
	if (input != NULL)
		fputs(input, p);
	st = pclose(p);
	if (st != 0) {
		size_t n = 0;
		uint8_t *text = tu_read_file(log, &n);
		fail_msg("%s: exit %d:\n%.*s", cmd, WIFEXITED(st) ? WEXITSTATUS(st) : -1, (int)n,
		    (const char *)text);
	}
}

/* ldapmodify as the root DN over ldapi:// (the password from DIR/admin.secret). */
static void admin_modify(const struct pt_sandbox *sb, const char *ldif)
{
	char cmd[2048], pw[256];

	sb_path(sb, pw, sizeof(pw), "admin.secret");
	if ((size_t)snprintf(cmd, sizeof(cmd), "ldapmodify -x -H '%s' -D '%s' -y '%s'",
	        ptl_env("LDAP_RIG_URI_LDAPI"), ptl_env("LDAP_RIG_ROOTDN"), pw) >= sizeof(cmd))
		fail_msg("command too long");
	run_tool(sb, cmd, ldif, NULL);
}

static void write_conf(const struct pt_sandbox *sb, const char *path, const char *uri,
    const char *dn, const char *pw_file, const char *ca, const char *module, const char *extra)
{
	char text[4096];

	if ((size_t)snprintf(text, sizeof(text),
	        "store = ldap\nkey_file = %s/store.key\nldap_uri = %s\nldap_base = %s\n"
	        "ldap_bind_dn = %s\nldap_bind_pw_file = %s\nldap_ca_file = %s\n"
	        "ldap_timeout = 3\nldap_module = %s\n%s",
	        sb->dir, uri, sb->ldap_base, dn, pw_file, ca, module, extra ? extra : "") >=
	    sizeof(text))
		fail_msg("config too long");
	write_text(path, text, 0600);
}

static void default_module(char *out, size_t len)
{
	const char *build = getenv("MFAUTH_BUILDDIR");

	snprintf(out, len, "%s/lib/.libs/mfauth_store_ldap.so", build ? build : ".");
	if (access(out, R_OK) != 0)
		fail_msg("backend module not built: %s (set MFAUTH_BUILDDIR)", out);
}

void ptl_terminal_conf(const struct pt_sandbox *sb, const struct ptl_terminal *t)
{
	static const struct ptl_terminal none;
	char secret[256], module[512];

	if (t == NULL)
		t = &none;
	default_module(module, sizeof(module));
	sb_path(sb, secret, sizeof(secret), "terminal.secret");
	write_text(secret, t->password ? t->password : ptl_env("LDAP_RIG_TERM_PW"), 0600);
	write_conf(sb, sb->conf, t->uri ? t->uri : ptl_env("LDAP_RIG_URI_LDAPS"),
	    t->bind_dn ? t->bind_dn : ptl_env("LDAP_RIG_TERM_DN_1"), secret,
	    t->ca_file ? t->ca_file : ptl_env("LDAP_RIG_CA"), t->module ? t->module : module,
	    sb->extra);
}

void ptl_staff_config(const struct pt_sandbox *sb, struct mfa_config *cfg)
{
	struct mfa_config_error err;
	char path[256];

	sb_path(sb, path, sizeof(path), "staff.conf");
	mfa_config_defaults(cfg);
	if (mfa_config_load_file(cfg, path, false, &err) != 0 || mfa_config_check(cfg, &err) != 0)
		fail_msg("staff config: %s", err.msg);
}

void ptl_setup(struct pt_sandbox *sb, const char *extra)
{
	static unsigned serial;
	struct mfa_config cfg;
	struct mfa_path_error perr;
	char path[256], secret[256], module[512], ldif[1024], ou[64];
	int rc;

	snprintf(sb->extra, sizeof(sb->extra), "%s", extra ? extra : "");
	snprintf(ou, sizeof(ou), "sb-%ld-%u", (long)getpid(), serial++);
	snprintf(sb->ldap_base, sizeof(sb->ldap_base), "ou=%s,%s", ou, ptl_env("LDAP_RIG_BASE"));
	sb_path(sb, path, sizeof(path), "admin.secret");
	write_text(path, ptl_env("LDAP_RIG_ROOTPW"), 0600);
	snprintf(ldif, sizeof(ldif),
	    "dn: %s\nchangetype: add\nobjectClass: organizationalUnit\nou: %s\n", sb->ldap_base,
	    ou);
	admin_modify(sb, ldif);

	default_module(module, sizeof(module));
	sb_path(sb, secret, sizeof(secret), "staff.secret");
	write_text(secret, ptl_env("LDAP_RIG_STAFF_PW"), 0600);
	sb_path(sb, path, sizeof(path), "staff.conf");
	write_conf(sb, path, ptl_env("LDAP_RIG_URI_LDAPS"), ptl_env("LDAP_RIG_STAFF_DN"), secret,
	    ptl_env("LDAP_RIG_CA"), module, NULL);
	ptl_terminal_conf(sb, NULL);
	/* `mfauth init` with staff credentials: the key and the decoy entry. */
	ptl_staff_config(sb, &cfg);
	if ((rc = mfa_store_init(&cfg, &perr)) != 0)
		fail_msg("init over the directory: %s (%s)", perr.msg, mfa_errtoken(rc));
}

uint8_t *ptl_value_get(const struct pt_sandbox *sb, const char *user, const char *attr, size_t *len)
{
	char cmd[2048], pw[256], dir[256], out[256], line[1024], want[128];
	char *file = NULL;
	uint8_t *value;
	FILE *f;

	sb_path(sb, pw, sizeof(pw), "admin.secret");
	sb_path(sb, dir, sizeof(dir), "values");
	sb_path(sb, out, sizeof(out), "values.ldif");
	tu_rmrf(dir);
	if (mkdir(dir, 0700) != 0)
		fail_msg("mkdir %s: %s", dir, strerror(errno));
	/* -t -T: each value into a file of dir, the LDIF naming it by a file:// URL. */
	if ((size_t)snprintf(cmd, sizeof(cmd),
	        "ldapsearch -x -LLL -o ldif-wrap=no -t -T '%s' -H '%s' -D '%s' -y '%s' -b 'cn=%s,%s' -s base %s",
	        dir, ptl_env("LDAP_RIG_URI_LDAPI"), ptl_env("LDAP_RIG_ROOTDN"), pw, user,
	        sb->ldap_base, attr) >= sizeof(cmd))
		fail_msg("command too long");
	run_tool(sb, cmd, NULL, out);
	snprintf(want, sizeof(want), "%s:< file://", attr);
	if ((f = fopen(out, "r")) == NULL)
		fail_msg("open %s", out);
	while (file == NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, want, strlen(want)) == 0)
			file = strdup(line + strlen(want));
	}
	fclose(f);
	if (file == NULL)
		fail_msg("cn=%s,%s has no %s", user, sb->ldap_base, attr);
	value = tu_read_file(file, len);
	free(file);
	return value;
}

void ptl_value_set(const struct pt_sandbox *sb, const char *user, const char *attr,
    const void *value, size_t len)
{
	char path[256], ldif[1024];

	sb_path(sb, path, sizeof(path), "value.bin");
	tu_write_file(path, value, len, 0600);
	if ((size_t)snprintf(ldif, sizeof(ldif),
	        "dn: cn=%s,%s\nchangetype: modify\nreplace: %s\n%s:< file://%s\n", user,
	        sb->ldap_base, attr, attr, path) >= sizeof(ldif))
		fail_msg("LDIF too long");
	admin_modify(sb, ldif);
}

void ptl_value_drop(const struct pt_sandbox *sb, const char *user, const char *attr)
{
	char ldif[1024];

	snprintf(ldif, sizeof(ldif), "dn: cn=%s,%s\nchangetype: modify\ndelete: %s\n", user,
	    sb->ldap_base, attr);
	admin_modify(sb, ldif);
}

void ptl_entry_drop(const struct pt_sandbox *sb, const char *user)
{
	char ldif[1024];

	snprintf(ldif, sizeof(ldif), "dn: cn=%s,%s\nchangetype: delete\n", user, sb->ldap_base);
	admin_modify(sb, ldif);
}
