/*
 * The line parser of `mfauth import csv` (csv_parse.h): split at commas,
 * the name checked by the store's rule, the optional digits, algorithm and
 * period, the base32 seed last (so a line with bad parameters never has its
 * seed decoded).  Reasons name the rule broken, never a part of the seed.
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "csv_parse.h"
#include "seed_input.h"
#include "mfauth/err.h"
#include "mfauth/store.h"
#include "mfauth/totp.h"

char *csv_trim_blanks(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Split line in place at commas; returns the number of fields, or -1 for too many. */
static int split_fields(char *line, char *fields[CSV_FIELDS_MAX])
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *comma = strchr(p, ',');
		if (n == CSV_FIELDS_MAX)
			return -1;
		fields[n++] = p;
		if (comma == NULL)
			return n;
		*comma = '\0';
		p = comma + 1;
	}
}

/*
 * Optional fields 3..5 (digits, algorithm, period) over the defaults in f.
 * Returns NULL or why the line is refused.
 */
static const char *parse_params(char **fields, int nfields, struct mfa_totp_factor *f)
{
	const char *v;

	if (nfields > 2 && *(v = csv_trim_blanks(fields[2])) != '\0' &&
	    seed_parse_digits(v, &f->digits) != 0)
		return _("digits must be 6 or 8");
	if (nfields > 3 && *(v = csv_trim_blanks(fields[3])) != '\0' &&
	    mfa_alg_parse(v, &f->alg) != 0)
		return _("algorithm must be sha1, sha256 or sha512");
	if (nfields > 4 && *(v = csv_trim_blanks(fields[4])) != '\0' &&
	    seed_parse_period(v, &f->period) != 0)
		return _("period must be 30 or 60");
	return NULL;
}

const char *csv_parse_line(char *line, size_t len, const char **user, struct mfa_totp_factor *f,
    const char **token)
{
	char *fields[CSV_FIELDS_MAX];
	const char *why = NULL;
	int nfields;

	*token = "bad_line";
	if (strlen(line) != len)
		return _("contains a NUL byte");
	nfields = split_fields(line, fields);
	if (nfields < 0)
		return _("more than 5 fields");
	if (nfields < 2)
		return _("expected user,base32secret[,digits,algorithm,period]");
	*token = "bad_name";
	if (mfa_name_check(fields[0]) != 0)
		return _("user name not acceptable");
	*user = fields[0];
	*token = "bad_params";
	if ((why = parse_params(fields, nfields, f)) != NULL)
		return why;
	*token = "bad_seed";
	if (seed_decode(fields[1], f, &why) != 0)
		return why;
	return NULL;
}

bool csv_skip_line(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '\0' || *line == '#';
}
