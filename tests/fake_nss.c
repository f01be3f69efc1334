/*
 * A user database for the tests: getpwnam_r() as the module and the tool see
 * it, so that names like "alice" need no real account on the test machine
 * and aliases can be tested (issue 12 finding 2).  Linked into the PAM test
 * programs and pamcheck (exported with -Wl,--export-dynamic-symbol, so the
 * module's call binds here), and built as a preload shim for the tool.
 *
 * MFAUTH_TEST_NSS says what the database holds:
 *   unset or ""  the machine's own (the real getpwnam_r; pamcheck in the demo)
 *   "identity"   the accounts in /etc/passwd as the machine has them (root stays
 *                root for modules that look it up), every other name an
 *                account of that name
 *   a file       lines "typed:account[:bytes]": typed is an alias of account
 *                (list "tanaka:tanaka" too); a name not listed is not found;
 *                account "!EIO" makes the lookup fail with EIO; bytes is
 *                the buffer the entry needs (ERANGE below it, as glibc does).
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*getpwnam_r_fn)(const char *, struct passwd *, char *, size_t, struct passwd **);

/* Fill pw from account, its strings in buf. */
static int fill(const char *account, size_t need, struct passwd *pw, char *buf, size_t buflen,
    struct passwd **result)
{
	size_t len = strlen(account) + 1;

	if (need < len)
		need = len;
	if (buflen < need)
		return ERANGE;
	memcpy(buf, account, len);
	memset(pw, 0, sizeof(*pw));
	pw->pw_name = buf;
	pw->pw_passwd = (char *)"x";
	pw->pw_uid = 60000;
	pw->pw_gid = 60000;
	pw->pw_gecos = (char *)"";
	pw->pw_dir = (char *)"/nonexistent";
	pw->pw_shell = (char *)"/usr/sbin/nologin";
	*result = pw;
	return 0;
}

/* The entry for name in file db: 0 (found or not), or an error number. */
static int from_file(const char *db, const char *name, struct passwd *pw, char *buf, size_t buflen,
    struct passwd **result)
{
	FILE *f = fopen(db, "re");
	char line[1024];
	int rc = 0;

	if (f == NULL)
		return EIO;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *typed = line, *account, *bytes;

		line[strcspn(line, "\n")] = '\0';
		if ((account = strchr(typed, ':')) == NULL)
			continue;
		*account++ = '\0';
		if ((bytes = strchr(account, ':')) != NULL)
			*bytes++ = '\0';
		if (strcmp(typed, name) != 0)
			continue;
		if (strcmp(account, "!EIO") == 0)
			rc = EIO;
		else
			rc = fill(account, bytes ? strtoul(bytes, NULL, 10) : 0, pw, buf, buflen,
			    result);
		break;
	}
	fclose(f);
	return rc;
}

/*
 * Whether /etc/passwd names the account.  Read directly: asking the real
 * NSS for every made-up name would run the machine's other sources
 * (systemd, sss), whose caches would show as heap growth in the
 * long-lived test.
 */
static bool local_account(const char *name)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024];
	size_t len = strlen(name);
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, name, len) == 0 && line[len] == ':';
	fclose(f);
	return found;
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
    struct passwd **result)
{
	const char *db = getenv("MFAUTH_TEST_NSS");
	bool identity = db != NULL && strcmp(db, "identity") == 0;

	*result = NULL;
	if (db == NULL || db[0] == '\0' || (identity && local_account(name))) {
		getpwnam_r_fn real = (getpwnam_r_fn)dlsym(RTLD_NEXT, "getpwnam_r");
		return real != NULL ? real(name, pw, buf, buflen, result) : ENOSYS;
	}
	/* identity: the machine's local accounts as they are, any other name made up */
	if (identity)
		return name[0] != '\0' ? fill(name, 0, pw, buf, buflen, result) : 0;
	return from_file(db, name, pw, buf, buflen, result);
}
