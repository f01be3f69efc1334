/*
 * Test shim, preloaded into the mfauth tool by tests/cli/test-i18n.sh: the
 * tool's bindtextdomain("mfauth", LOCALEDIR) is pointed at the catalogs of
 * the build tree ($MFAUTH_TEST_LOCALEDIR) instead of the installed ones, so
 * the test reads the translation of this build without installing it.
 * Every other call passes through unchanged.
 */
#include "config.h"

#include <dlfcn.h>
#include <libintl.h>
#include <stdlib.h>
#include <string.h>

char *bindtextdomain(const char *domain, const char *dir)
{
	typedef char *(*bind_fn)(const char *, const char *);
	static bind_fn real;
	const char *test_dir = getenv("MFAUTH_TEST_LOCALEDIR");

	if (real == NULL && (real = (bind_fn)dlsym(RTLD_NEXT, "bindtextdomain")) == NULL)
		abort();
	if (domain != NULL && dir != NULL && test_dir != NULL && strcmp(domain, "mfauth") == 0)
		dir = test_dir;
	return real(domain, dir);
}
