/*
 * `mfauth report`'s output formats, each in a file of its own
 * (report_json.c, report_text.c, report_csv.c), and what they share here
 * (report_out.c): times, the words of a finding.  All write what
 * report_finish() left in a struct report_trail, nothing else.
 */
#ifndef MFAUTH_REPORT_OUT_H
#define MFAUTH_REPORT_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "report_agg.h"

/* "2026-11-01T00:00:00+09:00" in local time (TZ); "" for 0. */
void report_time_iso(int64_t t, char *out, size_t cap);

/* "2026-11-01 09:30" in local time, for people; "-" for 0. */
void report_time_short(int64_t t, char *out, size_t cap);

/* A finding in one sentence: English (json, csv) or the user's language (text). */
void report_finding_detail(const struct report_trail *r, const struct report_finding *f,
    bool translate, char *out, size_t cap);

/* The terminal's name, or "" for -1 / 0xffff (none, or the table was full). */
const char *report_term_name(const struct report_trail *r, int term);

/* The successes and failures of a user, over all factors. */
uint64_t report_user_success(const struct report_user *u);
/* The summary's "users with logins": users with at least one success. */
size_t report_users_with_logins(const struct report_trail *r);

/* Each format: 0, or MFA_ERR_IO when the stream reports an error. */
int report_write_json(FILE *f, const struct report_trail *r);
int report_write_text(FILE *f, const struct report_trail *r);
int report_write_csv(FILE *f, const struct report_trail *r);
int report_write_html(FILE *f, const struct report_trail *r);

#endif
