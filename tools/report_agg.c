/*
 * `mfauth report`: the figures of one period (report_agg.h).
 *
 * What counts (doc/DESIGN.md §3 "mfauth report"): a login failure is an
 * `auth` line with result fail, replay or locked; a success an `auth`
 * success; lockouts are `lock` lines; unknown-user attempts are `account`
 * fail reason=unknown_user and `auth` fail reason no_user or not_enrolled
 * (the module tells an unknown name from an unenrolled one only at the
 * account step, on purpose).  Staff actions are the tool's lines.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mfauth/err.h"
#include "mfauth/record.h"
#include "mfauth/state.h"
#include "report_agg.h"

static const char *const kind_tokens[REPORT_NKINDS] = {
	[REPORT_F_OUTSIDE_HOURS] = "outside_hours",
	[REPORT_F_LOCKOUT] = "lockout",
	[REPORT_F_REPEATED_FAILURES] = "repeated_failures",
	[REPORT_F_RECOVERY_UNUSED] = "recovery_unused",
	[REPORT_F_RECOVERY_LATE] = "recovery_late",
	[REPORT_F_DORMANT] = "dormant",
	[REPORT_F_TRAIL_GAP] = "trail_gap",
	[REPORT_F_TRAIL_STOPS] = "trail_stops",
	[REPORT_F_CLOCK_BACK] = "clock_back",
	[REPORT_F_UNKNOWN_USER] = "unknown_user",
	[REPORT_F_STORE_ERROR] = "store_error",
};

static const char *const factor_tokens[REPORT_NFACTORS] = { "totp", "recovery", "card" };

const char *report_kind_token(enum report_finding_kind k)
{
	return (unsigned)k < REPORT_NKINDS ? kind_tokens[k] : "";
}

const char *report_factor_token(enum report_factor f)
{
	return (unsigned)f < REPORT_NFACTORS ? factor_tokens[f] : "";
}

static void copy_str(char *dst, size_t cap, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

static bool streq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

int report_init(struct report_trail *r, const struct report_opts *opt)
{
	memset(r, 0, sizeof(*r));
	if (opt->until <= opt->since)
		return MFA_ERR_INVAL;
	r->opt = *opt;
	r->ndays = (size_t)((opt->until - opt->since + 86399) / 86400);
	if (r->ndays > REPORT_DAYS_MAX)
		return MFA_ERR_RANGE;
	r->index_cap = 1024;
	r->index = calloc(r->index_cap, sizeof(*r->index));
	r->terms = calloc(REPORT_TERMS_MAX, sizeof(*r->terms));
	r->malformed = calloc(REPORT_MALFORMED_LIST_MAX, sizeof(*r->malformed));
	r->day_success = calloc(r->ndays, sizeof(uint32_t));
	r->day_failure = calloc(r->ndays, sizeof(uint32_t));
	r->day_lockouts = calloc(r->ndays, sizeof(uint32_t));
	if (r->index == NULL || r->terms == NULL || r->malformed == NULL ||
	    r->day_success == NULL || r->day_failure == NULL || r->day_lockouts == NULL) {
		report_free(r);
		return MFA_ERR_NOMEM;
	}
	return 0;
}

void report_free(struct report_trail *r)
{
	for (size_t i = 0; r->terms != NULL && i < r->nterms; i++)
		free(r->terms[i].days);
	free(r->terms);
	free(r->users);
	free(r->index);
	free(r->staff);
	free(r->findings);
	free(r->malformed);
	free(r->day_success);
	free(r->day_failure);
	free(r->day_lockouts);
	memset(r, 0, sizeof(*r));
}

void report_agg_new_file(struct report_trail *r)
{
	r->file_gen++;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool index_grow(struct report_trail *r)
{
	size_t cap = r->index_cap * 2;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (idx == NULL)
		return false;
	for (size_t i = 0; i < r->nusers; i++) {
		size_t j = name_hash(r->users[i].name) & (cap - 1);
		while (idx[j] != 0)
			j = (j + 1) & (cap - 1);
		idx[j] = (uint32_t)(i + 1);
	}
	free(r->index);
	r->index = idx;
	r->index_cap = cap;
	return true;
}

/*
 * The user's aggregate, made on first sight when create is true; NULL when
 * absent or (counted) when the table is full.
 */
static struct report_user *user_get(struct report_trail *r, const char *name, bool create)
{
	size_t j;
	struct report_user *u;

	if (name == NULL || name[0] == '\0' || strlen(name) > MFA_USER_MAX || r->index == NULL)
		return NULL;
	for (j = name_hash(name) & (r->index_cap - 1); r->index[j] != 0;
	     j = (j + 1) & (r->index_cap - 1))
		if (strcmp(r->users[r->index[j] - 1].name, name) == 0)
			return &r->users[r->index[j] - 1];
	if (!create)
		return NULL;
	if (r->nusers >= REPORT_USERS_MAX) {
		r->users_dropped++;
		return NULL;
	}
	if (r->nusers == r->users_cap) {
		size_t cap = r->users_cap ? r->users_cap * 2 : 64;
		struct report_user *nu = realloc(r->users, cap * sizeof(*nu));
		if (nu == NULL) {
			r->users_dropped++;
			return NULL;
		}
		r->users = nu;
		r->users_cap = cap;
	}
	/* Keep the table at most half full. */
	if ((r->nusers + 1) * 2 > r->index_cap) {
		if (!index_grow(r)) {
			r->users_dropped++;
			return NULL;
		}
		for (j = name_hash(name) & (r->index_cap - 1); r->index[j] != 0;
		     j = (j + 1) & (r->index_cap - 1))
			;
	}
	u = &r->users[r->nusers];
	memset(u, 0, sizeof(*u));
	copy_str(u->name, sizeof(u->name), name);
	r->index[j] = (uint32_t)(++r->nusers);
	return u;
}

static int term_get(struct report_trail *r, const char *host)
{
	for (size_t i = 0; i < r->nterms; i++)
		if (strcmp(r->terms[i].name, host) == 0)
			return (int)i;
	if (r->nterms >= REPORT_TERMS_MAX) {
		r->terms_dropped++;
		return -1;
	}
	r->terms[r->nterms].days = calloc((r->ndays + 7) / 8, 1);
	if (r->terms[r->nterms].days == NULL) {
		r->terms_dropped++;
		return -1;
	}
	copy_str(r->terms[r->nterms].name, sizeof(r->terms[0].name), host);
	return (int)r->nterms++;
}

static struct report_finding *finding_add(struct report_trail *r, enum report_finding_kind kind,
    int64_t t, const char *user, int term)
{
	struct report_finding *f;

	if (r->nfindings >= REPORT_LIST_MAX) {
		r->findings_dropped++;
		return NULL;
	}
	if (r->nfindings == r->findings_cap) {
		size_t cap = r->findings_cap ? r->findings_cap * 2 : 64;
		struct report_finding *nf = realloc(r->findings, cap * sizeof(*nf));
		if (nf == NULL) {
			r->findings_dropped++;
			return NULL;
		}
		r->findings = nf;
		r->findings_cap = cap;
	}
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->time = t;
	f->term = term;
	copy_str(f->user, sizeof(f->user), user);
	return f;
}

static int factor_of(const char *s)
{
	for (int i = 0; i < REPORT_NFACTORS; i++)
		if (streq(s, factor_tokens[i]))
			return i;
	return -1;
}

static void user_term(struct report_user *u, int term)
{
	if (term < 0)
		return;
	for (size_t i = 0; i < u->nterms; i++)
		if (u->terms[i] == term)
			return;
	if (u->nterms < REPORT_USER_TERMS)
		u->terms[u->nterms++] = (uint16_t)term;
	else
		u->more_terms = true;
}

static void user_reason(struct report_user *u, const char *reason)
{
	if (reason == NULL || reason[0] == '\0')
		reason = "unknown";
	for (size_t i = 0; i < u->nreasons; i++)
		if (strcmp(u->reasons[i].name, reason) == 0) {
			u->reasons[i].n++;
			return;
		}
	if (u->nreasons < REPORT_REASONS_MAX && strlen(reason) < sizeof(u->reasons[0].name)) {
		copy_str(u->reasons[u->nreasons].name, sizeof(u->reasons[0].name), reason);
		u->reasons[u->nreasons++].n = 1;
	} else {
		u->reasons_other++;
	}
}

/* The user's row for one day (failures and lockouts), made on first need. */
static void user_failday(const struct report_trail *r, struct report_user *u, size_t day, int term,
    int64_t t, bool lock)
{
	size_t i;

	for (i = 0; i < u->nfaildays; i++)
		if (u->faildays[i].day == day)
			break;
	if (i == u->nfaildays) {
		/* Days beyond the cap are not counted (DESIGN.md §8): 64 covers any month. */
		if (u->nfaildays == REPORT_FAILDAYS_MAX)
			return;
		memset(&u->faildays[i], 0, sizeof(u->faildays[i]));
		u->faildays[i].day = (uint16_t)day;
		u->faildays[i].term = (uint16_t)(term < 0 ? 0xffff : term);
		u->faildays[i].first = t;
		u->nfaildays++;
	}
	/* The day's first failure names the terminal, whatever order the files came in. */
	if (t < u->faildays[i].first ||
	    (t == u->faildays[i].first && term >= 0 &&
	        (u->faildays[i].term == 0xffff ||
	            strcmp(r->terms[term].name, r->terms[u->faildays[i].term].name) < 0))) {
		u->faildays[i].first = t;
		u->faildays[i].term = (uint16_t)(term < 0 ? 0xffff : term);
	}
	if (lock)
		u->faildays[i].lockouts++;
	else
		u->faildays[i].failures++;
}

static bool office_hours(const struct report_trail *r, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int minute;

	if (localtime_r(&tt, &tm) == NULL)
		return false;
	if (tm.tm_wday == 0 || tm.tm_wday == 6)
		return false;
	minute = tm.tm_hour * 60 + tm.tm_min;
	return minute >= r->opt.hours_from && minute < r->opt.hours_to;
}

static void term_line(struct report_trail *r, int term, int64_t t, size_t day)
{
	struct report_term *tm;

	if (term < 0)
		return;
	tm = &r->terms[term];
	if (tm->lines == 0 || t < tm->first)
		tm->first = t;
	if (tm->lines == 0 || t > tm->last)
		tm->last = t;
	tm->lines++;
	tm->days[day / 8] |= (uint8_t)(1u << (day % 8));
	/* Within one file the lines are in write order: a step back is the clock's. */
	if (tm->file_gen == r->file_gen && t + REPORT_CLOCK_BACK < tm->file_last) {
		struct report_finding *f = finding_add(r, REPORT_F_CLOCK_BACK, t, "", term);
		if (f != NULL) {
			f->value = tm->file_last - t;
			f->value2 = tm->file_last;
		}
	}
	tm->file_gen = r->file_gen;
	tm->file_last = t;
}

static void module_line(struct report_trail *r, const struct report_line *l, struct report_user *u,
    int term, size_t day)
{
	const char *event = report_field(l, "event"), *result = report_field(l, "result");
	const char *reason = report_field(l, "reason");
	int f = factor_of(report_field(l, "factor"));

	if (streq(event, "auth") && streq(result, "success")) {
		if (f < 0)
			f = REPORT_TOTP;
		r->sum.success[f]++;
		r->day_success[day]++;
		if (u != NULL) {
			u->success[f]++;
			if (l->time > u->last_success)
				u->last_success = l->time;
			user_term(u, term);
		}
		if (!office_hours(r, l->time))
			finding_add(r, REPORT_F_OUTSIDE_HOURS, l->time, u ? u->name : "", term);
	} else if (streq(event, "auth") &&
	    (streq(result, "fail") || streq(result, "replay") || streq(result, "locked"))) {
		const char *why = streq(result, "fail") ? reason : result;
		bool unknown = streq(reason, "no_user") || streq(reason, "not_enrolled");
		if (f >= 0)
			r->sum.failure[f]++;
		r->sum.failure_total++;
		r->day_failure[day]++;
		if (unknown)
			r->sum.unknown_attempts++;
		if (u != NULL) {
			if (f >= 0)
				u->failure[f]++;
			u->failure_total++;
			user_reason(u, why);
			user_term(u, term);
			if (!streq(result, "locked"))
				user_failday(r, u, day, term, l->time, false);
			if (unknown) {
				if (u->unknown_attempts == 0 || l->time < u->first_unknown)
					u->first_unknown = l->time;
				u->unknown_attempts++;
			}
		}
	} else if (streq(event, "lock")) {
		struct report_finding *fd;
		r->sum.lockouts++;
		r->day_lockouts[day]++;
		if (u != NULL) {
			u->lockouts++;
			user_failday(r, u, day, term, l->time, true);
		}
		fd = finding_add(r, REPORT_F_LOCKOUT, l->time, u ? u->name : "", term);
		if (fd != NULL)
			fd->value = streq(report_field(l, "locked_until"), "staff") ?
			    -1 :
			    strtoll(report_field(l, "locked_until") ?
			            report_field(l, "locked_until") :
			            "0",
			        NULL, 10);
	} else if (streq(event, "account") && streq(reason, "unknown_user")) {
		r->sum.unknown_attempts++;
		if (u != NULL) {
			if (u->unknown_attempts == 0 || l->time < u->first_unknown)
				u->first_unknown = l->time;
			u->unknown_attempts++;
		}
	} else if (streq(event, "recovery_used")) {
		r->sum.recovery_used++;
		if (u != NULL) {
			u->recovery_used++;
			if (u->nused < REPORT_RECOVERY_SLOTS)
				u->used[u->nused++] = l->time;
		}
	} else if (streq(event, "store_error")) {
		r->sum.store_errors++;
		finding_add(r, REPORT_F_STORE_ERROR, l->time, u ? u->name : "", term);
	}
}

/* "sudo_user" when sudo said who, else the login uid, else the uid. */
static void operator_of(const struct report_line *l, char *out, size_t cap)
{
	const char *sudo = report_field(l, "op_sudo_user");
	const char *luid = report_field(l, "op_loginuid");
	const char *uid = report_field(l, "op_uid");

	if (sudo != NULL && sudo[0] != '\0')
		copy_str(out, cap, sudo);
	else if (luid != NULL && luid[0] != '\0' && strcmp(luid, "4294967295") != 0)
		snprintf(out, cap, "loginuid=%s", luid);
	else if (uid != NULL)
		snprintf(out, cap, "uid=%s", uid);
	else
		copy_str(out, cap, "");
}

static void tool_line(struct report_trail *r, const struct report_line *l, struct report_user *u,
    int term)
{
	static const char *const staff_events[] = { "init", "enroll", "revoke", "unlock",
		"recovery_issued", "rekey" };
	const char *event = report_field(l, "event"), *result = report_field(l, "result");
	const char *note = report_field(l, "note");
	bool ok = streq(result, "success");
	struct report_staff *s;
	size_t i;

	if (streq(event, "store_error")) {
		r->sum.store_errors++;
		finding_add(r, REPORT_F_STORE_ERROR, l->time, u ? u->name : "", term);
		return;
	}
	for (i = 0; i < sizeof(staff_events) / sizeof(staff_events[0]); i++)
		if (streq(event, staff_events[i]))
			break;
	if (i == sizeof(staff_events) / sizeof(staff_events[0]))
		return;
	if (ok && streq(event, "enroll"))
		r->sum.enrollments++;
	else if (ok && streq(event, "revoke"))
		r->sum.revocations++;
	else if (ok && streq(event, "unlock"))
		r->sum.staff_unlocks++;
	else if (ok && streq(event, "recovery_issued")) {
		r->sum.recovery_issued++;
		if (u != NULL) {
			u->recovery_issued++;
			if (u->nissued < REPORT_RECOVERY_SLOTS)
				u->issued[u->nissued++] = l->time;
		}
	}
	if (r->nstaff >= REPORT_LIST_MAX) {
		r->staff_dropped++;
		return;
	}
	if (r->nstaff == r->staff_cap) {
		size_t cap = r->staff_cap ? r->staff_cap * 2 : 64;
		struct report_staff *ns = realloc(r->staff, cap * sizeof(*ns));
		if (ns == NULL) {
			r->staff_dropped++;
			return;
		}
		r->staff = ns;
		r->staff_cap = cap;
	}
	s = &r->staff[r->nstaff++];
	memset(s, 0, sizeof(*s));
	s->time = l->time;
	copy_str(s->event, sizeof(s->event), event);
	copy_str(s->result, sizeof(s->result), result);
	copy_str(s->user, sizeof(s->user), report_field(l, "user"));
	copy_str(s->factor, sizeof(s->factor), report_field(l, "factor"));
	copy_str(s->reason, sizeof(s->reason),
	    note != NULL && note[0] != '\0' ? note : report_field(l, "reason"));
	operator_of(l, s->operator, sizeof(s->operator));
	s->term = (uint16_t)(term < 0 ? 0xffff : term);
}

void report_agg_line(struct report_trail *r, const struct report_line *l)
{
	struct report_user *u;
	size_t day;
	int term;

	r->lines.read++;
	if (l->time < r->opt.since || l->time >= r->opt.until) {
		r->lines.outside_period++;
		return;
	}
	r->lines.used++;
	day = (size_t)((l->time - r->opt.since) / 86400);
	term = term_get(r, l->host[0] != '\0' ? l->host : "-");
	term_line(r, term, l->time, day);
	u = user_get(r, report_field(l, "user"), true);
	if (l->origin == REPORT_MODULE)
		module_line(r, l, u, term, day);
	else
		tool_line(r, l, u, term);
}

void report_agg_other(struct report_trail *r)
{
	r->lines.read++;
	r->lines.other++;
}

void report_agg_malformed(struct report_trail *r, const char *source, uint64_t lineno,
    const char *why)
{
	struct report_malformed *m;

	r->lines.read++;
	if (streq(why, "untrusted"))
		r->lines.untrusted++;
	else
		r->lines.malformed++;
	if (r->nmalformed >= REPORT_MALFORMED_LIST_MAX)
		return;
	m = &r->malformed[r->nmalformed++];
	copy_str(m->source, sizeof(m->source), source);
	m->lineno = lineno;
	copy_str(m->why, sizeof(m->why), why);
}

int report_agg_store(struct report_trail *r, struct mfa_store *store)
{
	char **names = NULL;
	size_t n = 0, skipped = 0;
	int64_t limit = r->opt.until - (int64_t)r->opt.dormant_days * 86400;
	int rc;

	rc = mfa_store_list(store, &names, &n, &skipped);
	if (rc != 0) {
		snprintf(r->store_note, sizeof(r->store_note), "%s", mfa_errtoken(rc));
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct mfa_record rec;
		struct mfa_state st;
		struct report_user *u;
		int64_t last = 0;

		memset(&st, 0, sizeof(st));
		if (mfa_store_load(store, names[i], &rec) != 0)
			continue;
		last = (int64_t)rec.created_at;
		if ((int64_t)rec.totp.enrolled_at > last)
			last = (int64_t)rec.totp.enrolled_at;
		if ((int64_t)rec.card.enrolled_at > last)
			last = (int64_t)rec.card.enrolled_at;
		mfa_record_wipe(&rec);
		if (mfa_store_read_state(store, names[i], &st) == 0 &&
		    (int64_t)st.last_success > last)
			last = (int64_t)st.last_success;
		/* The trail may know of a later success than the state (a restored store). */
		u = user_get(r, names[i], false);
		if (u != NULL && u->last_success > last)
			last = u->last_success;
		if (last < limit) {
			struct report_finding *f = finding_add(r, REPORT_F_DORMANT, last, names[i],
			    -1);
			if (f != NULL)
				f->value = (r->opt.until - last) / 86400;
		}
	}
	mfa_store_list_free(names, n);
	r->store_read = true;
	return 0;
}

static int cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Each issued code against the first use after it and before the next issue. */
static void recovery_findings(struct report_trail *r, struct report_user *u)
{
	qsort(u->issued, u->nissued, sizeof(int64_t), cmp_time);
	qsort(u->used, u->nused, sizeof(int64_t), cmp_time);
	for (size_t i = 0; i < u->nissued; i++) {
		int64_t next = i + 1 < u->nissued ? u->issued[i + 1] : INT64_MAX;
		struct report_finding *f;
		size_t j;

		for (j = 0; j < u->nused; j++)
			if (u->used[j] >= u->issued[i] && u->used[j] < next)
				break;
		if (j == u->nused) {
			f = finding_add(r, REPORT_F_RECOVERY_UNUSED, u->issued[i], u->name, -1);
		} else if (u->used[j] - u->issued[i] > REPORT_RECOVERY_LATE) {
			f = finding_add(r, REPORT_F_RECOVERY_LATE, u->issued[i], u->name, -1);
			if (f != NULL) {
				f->value = u->used[j] - u->issued[i];
				f->value2 = u->used[j];
			}
		}
	}
}

static bool day_set(const struct report_term *t, size_t d)
{
	return (t->days[d / 8] >> (d % 8)) & 1;
}

/* Runs of silent days: between two days with lines a gap, after the last one a stop. */
static void term_findings(struct report_trail *r, int term)
{
	const struct report_term *t = &r->terms[term];
	int64_t end = r->opt.now < r->opt.until ? r->opt.now : r->opt.until;
	size_t last_day, d, run_start = 0;
	bool seen = false;

	if (end <= r->opt.since)
		return;
	last_day = (size_t)((end - r->opt.since - 1) / 86400);
	if (last_day >= r->ndays)
		last_day = r->ndays - 1;
	for (d = 0; d <= last_day; d++) {
		if (!day_set(t, d))
			continue;
		if (seen && d - run_start > REPORT_GAP_DAYS) {
			struct report_finding *f = finding_add(r, REPORT_F_TRAIL_GAP,
			    r->opt.since + (int64_t)(run_start + 1) * 86400, "", term);
			if (f != NULL) {
				f->value = (int64_t)(d - run_start - 1);
				f->value2 = r->opt.since + (int64_t)d * 86400;
			}
		}
		seen = true;
		run_start = d;
	}
	if (seen && last_day - run_start >= REPORT_GAP_DAYS) {
		struct report_finding *f = finding_add(r, REPORT_F_TRAIL_STOPS, t->last, "", term);
		if (f != NULL)
			f->value = (int64_t)(last_day - run_start);
	}
}

static int cmp_finding(const void *a, const void *b)
{
	const struct report_finding *x = a, *y = b;

	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->term != y->term)
		return x->term - y->term;
	return strcmp(x->user, y->user);
}

static int cmp_staff(const void *a, const void *b)
{
	const struct report_staff *x = a, *y = b;

	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	if (strcmp(x->event, y->event) != 0)
		return strcmp(x->event, y->event);
	if (x->term != y->term)
		return (int)x->term - (int)y->term;
	return strcmp(x->user, y->user);
}

static int cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct report_user *)a)->name, ((const struct report_user *)b)->name);
}

static int cmp_term(const void *a, const void *b)
{
	return strcmp(((const struct report_term *)a)->name, ((const struct report_term *)b)->name);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static uint16_t remap(const uint16_t *map, uint16_t term)
{
	return term == 0xffff ? term : map[term];
}

/*
 * Terminals sorted by name, and every reference to one renumbered, so that
 * the report does not depend on the order of its input files.
 */
static void sort_terms(struct report_trail *r)
{
	static uint16_t map[REPORT_TERMS_MAX];

	for (size_t i = 0; i < r->nterms; i++)
		r->terms[i].file_gen = (unsigned)i; /* finished with: the old index */
	qsort(r->terms, r->nterms, sizeof(*r->terms), cmp_term);
	for (size_t i = 0; i < r->nterms; i++)
		map[r->terms[i].file_gen] = (uint16_t)i;
	for (size_t i = 0; i < r->nusers; i++) {
		struct report_user *u = &r->users[i];
		for (size_t j = 0; j < u->nterms; j++)
			u->terms[j] = remap(map, u->terms[j]);
		qsort(u->terms, u->nterms, sizeof(u->terms[0]), cmp_u16);
		for (size_t j = 0; j < u->nfaildays; j++)
			u->faildays[j].term = remap(map, u->faildays[j].term);
	}
	for (size_t i = 0; i < r->nstaff; i++)
		r->staff[i].term = remap(map, r->staff[i].term);
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].term >= 0)
			r->findings[i].term = map[r->findings[i].term];
}

static int cmp_count(const void *a, const void *b)
{
	return strcmp(((const struct report_count *)a)->name,
	    ((const struct report_count *)b)->name);
}

void report_finish(struct report_trail *r)
{
	sort_terms(r);
	for (size_t i = 0; i < r->nusers; i++)
		qsort(r->users[i].reasons, r->users[i].nreasons, sizeof(r->users[i].reasons[0]),
		    cmp_count);
	for (size_t i = 0; i < r->nusers; i++) {
		struct report_user *u = &r->users[i];
		recovery_findings(r, u);
		for (size_t d = 0; d < u->nfaildays; d++) {
			struct report_finding *f;
			if (u->faildays[d].failures < REPORT_REPEATED_FAILURES ||
			    u->faildays[d].lockouts > 0)
				continue;
			f = finding_add(r, REPORT_F_REPEATED_FAILURES, u->faildays[d].first,
			    u->name, u->faildays[d].term == 0xffff ? -1 : u->faildays[d].term);
			if (f != NULL)
				f->value = u->faildays[d].failures;
		}
		if (u->unknown_attempts > 0) {
			struct report_finding *f = finding_add(r, REPORT_F_UNKNOWN_USER,
			    u->first_unknown, u->name, -1);
			if (f != NULL)
				f->value = (int64_t)u->unknown_attempts;
		}
	}
	for (size_t i = 0; i < r->nterms; i++)
		term_findings(r, (int)i);
	/* An empty list has no array at all, and qsort must not see NULL. */
	if (r->nfindings > 0)
		qsort(r->findings, r->nfindings, sizeof(*r->findings), cmp_finding);
	if (r->nstaff > 0)
		qsort(r->staff, r->nstaff, sizeof(*r->staff), cmp_staff);
	/* The index points into users: sorting the array ends its use. */
	if (r->nusers > 0)
		qsort(r->users, r->nusers, sizeof(*r->users), cmp_user);
	free(r->index);
	r->index = NULL;
	r->index_cap = 0;
}
