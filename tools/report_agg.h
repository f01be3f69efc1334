/*
 * `mfauth report`: what the audit lines of one period add up to.
 *
 * Lines are fed one at a time (report_agg_line) and forgotten: the memory
 * is per user, per terminal, per day of the period and per staff action or
 * finding, each table capped (what does not fit is counted, and the count
 * is in the report), so a trail of any length takes bounded memory.  Files
 * may come in any order (rotated files newest first, one file per
 * terminal): every figure here is a count, a maximum, a per-day mark or a
 * list sorted at the end, never a "previous line".
 */
#ifndef MFAUTH_REPORT_AGG_H
#define MFAUTH_REPORT_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mfauth/store.h"
#include "report_check.h"
#include "report_parse.h"

#define REPORT_USERS_MAX 50000
#define REPORT_TERMS_MAX 4096
#define REPORT_LIST_MAX 100000 /* staff actions, findings */
#define REPORT_MALFORMED_LIST_MAX 1000
#define REPORT_DAYS_MAX 3700  /* ten years and a bit */
#define REPORT_REASONS_MAX 16 /* distinct failure reasons per user */
#define REPORT_USER_TERMS 16
#define REPORT_RECOVERY_SLOTS 8 /* issued/used times per user */
#define REPORT_FAILDAYS_MAX 64  /* days with failures per user */
/* A terminal silent this long (days) has a gap, or has stopped at the end. */
#define REPORT_GAP_DAYS 7
/* A recovery code used this long after its issue is a finding. */
#define REPORT_RECOVERY_LATE (12 * 3600)
/* This many failures of one user on one day without a lockout is a finding. */
#define REPORT_REPEATED_FAILURES 3
/* A terminal's clock stepping back by more than this within one file is a finding. */
#define REPORT_CLOCK_BACK 300

enum report_factor { REPORT_TOTP, REPORT_RECOVERY, REPORT_CARD, REPORT_NFACTORS };

struct report_count {
	char name[32];
	uint64_t n;
};

struct report_user {
	char name[MFA_USER_MAX + 1];
	uint64_t success[REPORT_NFACTORS];
	uint64_t failure[REPORT_NFACTORS];
	uint64_t failure_total; /* also failures with no factor (no_user, ...) */
	struct report_count reasons[REPORT_REASONS_MAX];
	size_t nreasons;
	uint64_t reasons_other; /* failures whose reason did not fit */
	uint64_t lockouts, recovery_used, recovery_issued, unknown_attempts;
	int64_t last_success; /* 0: none in the period */
	int64_t first_unknown;
	uint16_t terms[REPORT_USER_TERMS];
	size_t nterms;
	bool more_terms;
	int64_t issued[REPORT_RECOVERY_SLOTS], used[REPORT_RECOVERY_SLOTS];
	size_t nissued, nused;
	struct {
		uint16_t day;
		uint16_t term;
		uint32_t failures, lockouts;
		int64_t first;
	} faildays[REPORT_FAILDAYS_MAX];
	size_t nfaildays;
};

struct report_term {
	char name[REPORT_HOST_MAX];
	uint64_t lines;
	int64_t first, last; /* earliest and latest time in the period */
	int64_t file_last;   /* latest time in the current file */
	unsigned file_gen;
	uint8_t *days; /* one bit per day of the period */
};

struct report_staff {
	int64_t time;
	char event[24];
	char result[12];
	char user[MFA_USER_MAX + 1];
	char factor[16];
	char operator[80];
	char reason[128]; /* note= (the staff's reason), else reason= */
	uint16_t term;
};

enum report_finding_kind {
	REPORT_F_OUTSIDE_HOURS,
	REPORT_F_LOCKOUT,
	REPORT_F_REPEATED_FAILURES,
	REPORT_F_RECOVERY_UNUSED,
	REPORT_F_RECOVERY_LATE,
	REPORT_F_DORMANT,
	REPORT_F_TRAIL_GAP,
	REPORT_F_TRAIL_STOPS,
	REPORT_F_CLOCK_BACK,
	REPORT_F_UNKNOWN_USER,
	REPORT_F_STORE_ERROR,
	REPORT_NKINDS
};

struct report_finding {
	enum report_finding_kind kind;
	int64_t time;
	int64_t value;               /* kind's number: failures, seconds, days */
	int64_t value2;              /* a second time (a gap's end), or 0 */
	char user[MFA_USER_MAX + 1]; /* "" when the finding is about a terminal */
	int term;                    /* -1: none */
};

struct report_malformed {
	char source[128];
	uint64_t lineno;
	char why[24];
};

struct report_opts {
	int64_t since, until;     /* [since, until) */
	int hours_from, hours_to; /* office hours, minutes after local midnight */
	int dormant_days;
	int64_t now;
};

struct report_summary {
	uint64_t success[REPORT_NFACTORS], failure[REPORT_NFACTORS];
	uint64_t failure_total; /* also failures with no factor (no_user, ...) */
	uint64_t lockouts, staff_unlocks, recovery_issued, recovery_used;
	uint64_t enrollments, revocations, store_errors, unknown_attempts;
};

struct report_lines {
	uint64_t read, used, malformed, untrusted, other, outside_period;
};

/* Everything a report says about its period (not check.h's struct report: check's results). */
struct report_trail {
	struct report_opts opt;
	struct report_lines lines;
	struct report_summary sum;
	struct report_user *users;
	size_t nusers, users_cap;
	uint32_t *index; /* open addressing: user index + 1, 0 empty */
	size_t index_cap;
	uint64_t users_dropped;
	struct report_term *terms;
	size_t nterms;
	uint64_t terms_dropped;
	struct report_staff *staff;
	size_t nstaff, staff_cap;
	uint64_t staff_dropped;
	struct report_finding *findings;
	size_t nfindings, findings_cap;
	uint64_t findings_dropped;
	struct report_malformed *malformed;
	size_t nmalformed;
	size_t ndays;
	uint32_t *day_success, *day_failure, *day_lockouts;
	unsigned file_gen;
	struct report_check check; /* the current mfauth check (set and freed by the caller) */
	bool store_read;           /* dormant enrollments were checked */
	char store_note[160];      /* why not, when they were not */
};

/* 0, or MFA_ERR_NOMEM / MFA_ERR_INVAL (until <= since). */
int report_init(struct report_trail *r, const struct report_opts *opt);
void report_free(struct report_trail *r);

/* A new input begins: per-file bookkeeping (clock steps) starts over. */
void report_agg_new_file(struct report_trail *r);

/* One trusted audit line of ours (counted in lines.used or lines.outside_period). */
void report_agg_line(struct report_trail *r, const struct report_line *l);

/* A well-formed line of another program: counted as read, nothing more. */
void report_agg_other(struct report_trail *r);

/* A line that did not parse, or was not trusted: counted and listed. */
void report_agg_malformed(struct report_trail *r, const char *source, uint64_t lineno,
    const char *why);

/*
 * Dormant enrollments from the store (through store.h only): every enrolled
 * user whose last success (the store's, or the trail's if later) and
 * enrollment are both older than opt.dormant_days before the period's end.
 * Call before report_finish().  0, or an error with r->store_note saying why.
 */
int report_agg_store(struct report_trail *r, struct mfa_store *store);

/* After the last line: the findings that need every line (gaps, recovery, ...), sorted. */
void report_finish(struct report_trail *r);

/* The stable token of a finding kind ("outside_hours", ...), for json and csv. */
const char *report_kind_token(enum report_finding_kind k);
const char *report_factor_token(enum report_factor f);

#endif
