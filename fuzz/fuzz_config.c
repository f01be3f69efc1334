/*
 * libFuzzer target for the config parser (lib/conf.c).  The input is fed
 * twice: whole, as config file text, and split on NUL bytes into strings
 * handled like module arguments ("key=value" or a bare "key").  After every
 * call the struct must still hold only values the parser may accept, so a
 * range or list check that lets something through aborts here instead of
 * weakening a login policy.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfauth/conf.h"
#include "mfauth/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NUL-terminated inside its buffer, and no control bytes. */
static void check_text(const char *s, size_t size)
{
	const char *end = memchr(s, '\0', size);

	if (end == NULL)
		abort();
	/* Messages go to syslog: raw control bytes there could forge lines. */
	for (const char *p = s; p < end; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			abort();
}

static void check_config(const struct mfa_config *cfg, const struct mfa_config_error *err)
{
	check_text(err->msg, sizeof(err->msg));
	check_text(cfg->store_dir, sizeof(cfg->store_dir));
	check_text(cfg->key_file, sizeof(cfg->key_file));
	check_text(cfg->card_reader, sizeof(cfg->card_reader));
	if (cfg->store_dir[0] != '/' || cfg->key_file[0] != '/')
		abort();
	if (cfg->factors == 0 || (cfg->factors & ~(MFA_FACTOR_TOTP | MFA_FACTOR_CARD)) != 0)
		abort();
	if (cfg->card_profiles == 0 ||
	    (cfg->card_profiles & ~(MFA_PROFILE_JPKI | MFA_PROFILE_PIV)) != 0)
		abort();
	if (cfg->window > 10 || cfg->deny > 1000 || cfg->unlock_time > 31536000 ||
	    cfg->fail_interval < 1 || cfg->fail_interval > 31536000 || cfg->card_wait > 300 ||
	    cfg->card_min_tries < 1 || cfg->card_min_tries > 15)
		abort();
	/* Read the bools so UBSan (-fsanitize=bool) sees any value other than 0/1. */
	if ((cfg->nullok ? 1 : 0) + (cfg->debug ? 1 : 0) > 2)
		abort();
}

/* Each NUL-separated piece as a module argument: split at the first '='. */
static void fuzz_args(char *buf, size_t size)
{
	struct mfa_config cfg;
	struct mfa_config_error err;
	size_t pos = 0;

	mfa_config_defaults(&cfg);
	err.msg[0] = '\0';
	while (pos <= size) {
		char *arg = buf + pos;
		size_t n = strlen(arg); /* buf[size] is a NUL */
		char *eq = memchr(arg, '=', n);

		if (eq != NULL)
			*eq = '\0';
		(void)mfa_config_set(&cfg, arg, eq != NULL ? eq + 1 : NULL, &err);
		check_config(&cfg, &err);
		pos += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mfa_config cfg, before;
	struct mfa_config_error err;
	char *text = NULL, *args = NULL;
	int rc;

	/* An exact-size copy without a terminator: reading past size is a bug ASan sees. */
	text = malloc(size > 0 ? size : 1);
	args = malloc(size + 1);
	if (text == NULL || args == NULL)
		goto out;
	if (size > 0)
		memcpy(text, data, size);
	mfa_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	err.msg[0] = '\0';
	rc = mfa_config_parse_text(&cfg, text, size, "fuzz.conf", &err);
	check_config(&cfg, &err);
	/* A rejected file changes nothing. */
	if (rc != 0 && memcmp(&cfg, &before, sizeof(cfg)) != 0)
		abort();
	if (rc != 0 && rc != MFA_ERR_CONFIG)
		abort();

	if (size > 0)
		memcpy(args, data, size);
	args[size] = '\0';
	fuzz_args(args, size);
out:
	free(text);
	free(args);
	return 0;
}
