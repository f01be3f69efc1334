/*
 * libFuzzer target for `mfauth report`'s line parser (tools/report_parse.c):
 * the bytes of a syslog file, which anyone able to write to a log collector
 * may have shaped.
 *
 * Input: cut into lines at LF, as tools/report_input.c does; each line is
 * parsed from a heap buffer of exactly its size (an over-read is caught) as
 * a syslog line, and again as a bare journal MESSAGE.
 *
 * Properties checked (abort on violation): the result is one of the three
 * values; a malformed line has a reason; a line of ours has 3 to
 * REPORT_FIELDS_MAX fields starting event, result, user, keys made of
 * [a-z0-9_] only, and a host without blanks or control bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct report_line line;

static void check(int rc, const char *why, int with_host)
{
	if (rc == REPORT_PARSE_MALFORMED) {
		if (why == NULL || why[0] == '\0')
			abort();
		return;
	}
	if (rc == REPORT_PARSE_OTHER)
		return;
	if (rc != REPORT_PARSE_OURS || line.nfields < 3 || line.nfields > REPORT_FIELDS_MAX ||
	    strcmp(line.f[0].key, "event") != 0 || strcmp(line.f[2].key, "user") != 0)
		abort();
	for (size_t i = 0; i < line.nfields; i++)
		if (line.f[i].key[0] == '\0' ||
		    strspn(line.f[i].key, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
		        strlen(line.f[i].key))
			abort();
	if (with_host) {
		if (line.host[0] == '\0')
			abort();
		for (const char *h = line.host; *h != '\0'; h++)
			if ((unsigned char)*h <= 0x20 || (unsigned char)*h >= 0x7f)
				abort();
	}
}

static void parse_one(const uint8_t *p, size_t len)
{
	const char *why = NULL;
	char *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL)
		return;
	memcpy(copy, p, len);
	/* Separate statements: why is set by the call, so read it after. */
	rc = report_parse_syslog(copy, len, 1796543718, &line, &why);
	check(rc, why, 1);
	why = NULL;
	rc = report_parse_fields(copy, len, &line, &why);
	check(rc, why, 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		parse_one(p, len);
		p += len + (nl != NULL);
	}
	return 0;
}
