/*
 * The current `mfauth check` inside a report (report_check.c).
 */
#ifndef MFAUTH_REPORT_CHECK_H
#define MFAUTH_REPORT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct report_check {
	bool ran;   /* false: not run (a report of --input files only) */
	int status; /* check's exit status (0 no error, 1 an error or critical), -1 killed */
	char *text; /* its standard output: a JSON array with --json, else its lines */
	size_t len;
	bool cut; /* longer than 1 MiB: the rest was dropped */
};

/*
 * Run this binary as `mfauth [-c config_path] check [--json]` and keep its
 * standard output in *out (free with report_check_free).  0, or
 * MFA_ERR_NOMEM / MFA_ERR_IO when it could not be run.
 */
int report_check_run(const char *config_path, bool json, struct report_check *out);
void report_check_free(struct report_check *c);

#endif
