/*
 * The directory backend (lib/store_ldap.c, loaded as mfauth_store_ldap.so)
 * through store.h against the private slapd, with a second store handle (a
 * second terminal) writing in between: the retry contract of store.h as the
 * backend keeps it.  Run by tests/ldap/test-store-ldap.sh, which starts the
 * rig and writes CONF (store = ldap, staff credentials).
 *
 *   test_store_ldap CONF
 *
 * Prints "ok"/"FAIL" lines and "N passed, N failed"; exits 1 on any failure.
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfauth/conf.h"
#include "mfauth/err.h"
#include "mfauth/store.h"
#include "testutil.h"

/* store_ldap.h's MFA_STORE_LDAP_TRIES, the bound this test holds the backend to. */
#define TRIES 16

static int passed, failed;

static void check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf(cond ? "ok   - " : "FAIL - ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (cond)
		passed++;
	else
		failed++;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int bump(struct mfa_state *st, void *ctx)
{
	(void)ctx;
	st->failures++;
	return 1;
}

/* An update whose decision another terminal overtakes: `others` times, once per call. */
struct race {
	struct mfa_store *other;
	const char *user;
	int calls;
	int others; /* how many calls the other terminal writes before */
	uint32_t seen[TRIES + 2];
};

static int add_ten(struct mfa_state *st, void *ctx)
{
	struct race *r = ctx;

	if (r->calls < TRIES + 2)
		r->seen[r->calls] = st->failures;
	if (r->calls++ < r->others && mfa_store_update(r->other, r->user, bump, NULL) != 0)
		return MFA_ERR_IO;
	st->failures += 10;
	return 1;
}

static uint32_t failures_of(struct mfa_store *s, const char *user)
{
	struct mfa_state st;

	memset(&st, 0, sizeof(st));
	if (mfa_store_read_state(s, user, &st) != 0)
		return UINT32_MAX;
	return st.failures;
}

static void test_update_races(struct mfa_store *a, struct mfa_store *b, const char *user)
{
	struct race r = { b, user, 0, 1, { 0 } };
	uint32_t before = failures_of(a, user);
	int rc;

	rc = mfa_store_update(a, user, add_ten, &r);
	check(rc == 0, "one swap lost to another terminal: the update succeeds (rc %d)", rc);
	check(r.calls == 2, "... fn called again after the conflict (%d calls)", r.calls);
	check(r.seen[1] == before + 1, "... the second call sees the other terminal's write");
	check(failures_of(a, user) == before + 11, "... both writes are in the state (%u -> %u)",
	    before, failures_of(a, user));

	memset(&r, 0, sizeof(r));
	r.other = b;
	r.user = user;
	r.others = 1000;
	before = failures_of(a, user);
	rc = mfa_store_update(a, user, add_ten, &r);
	check(rc == MFA_ERR_DIR_CONFLICT, "every swap lost: MFA_ERR_DIR_CONFLICT (rc %d, %s)", rc,
	    mfa_errtoken(rc));
	check(r.calls == TRIES, "... after exactly %d tries (%d calls)", TRIES, r.calls);
	check(failures_of(a, user) == before + TRIES,
	    "... only the other terminal's %d writes are in the state", TRIES);
}

/* load keeps the entry it read for the update that follows: a change in between is seen. */
static void test_cached_read_is_checked(struct mfa_store *a, struct mfa_store *b, const char *user)
{
	struct race r = { b, user, 0, 0, { 0 } };
	struct mfa_record rec;
	uint32_t before = failures_of(a, user);
	int rc;

	memset(&rec, 0, sizeof(rec));
	check(mfa_store_load(a, user, &rec) == 0, "load (the entry kept for the next update)");
	mfa_record_wipe(&rec);
	check(mfa_store_update(b, user, bump, NULL) == 0, "another terminal writes in between");
	rc = mfa_store_update(a, user, add_ten, &r);
	check(rc == 0 && r.calls == 2,
	    "the update on the kept entry loses its swap and decides "
	    "again (rc %d, %d calls)",
	    rc, r.calls);
	check(r.seen[0] == before && r.seen[1] == before + 1,
	    "... first on what load read, then on the fresh state");
	check(failures_of(a, user) == before + 11, "... no update lost");
}

struct create_race {
	struct mfa_store *other;
	const char *user;
	int calls;
	bool exists[4];
};

static int enroll_racing(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	struct create_race *c = ctx;
	struct mfa_record other;

	(void)st;
	if (c->calls < 4)
		c->exists[c->calls] = exists;
	if (c->calls++ == 0) {
		tu_totp_record(&other);
		if (mfa_store_save(c->other, c->user, &other) != 0)
			return MFA_ERR_IO;
		mfa_record_wipe(&other);
	}
	tu_totp_record(rec);
	return MFA_CHANGE_STATE | MFA_CHANGE_RECORD;
}

static void test_create_race(struct mfa_store *a, struct mfa_store *b, const char *user)
{
	struct create_race c = { b, user, 0, { false } };
	struct mfa_record rec;
	int rc;

	rc = mfa_store_change(a, user, true, enroll_racing, &c);
	check(rc == 0, "two staff enroll a new user at once: the change succeeds (rc %d)", rc);
	check(c.calls == 2 && !c.exists[0] && c.exists[1],
	    "... its add lost, fn called again and sees the other's record (%d calls)", c.calls);
	memset(&rec, 0, sizeof(rec));
	check(mfa_store_load(b, user, &rec) == 0 && rec.totp.present, "... the record loads");
	mfa_record_wipe(&rec);
}

static int open_store(const struct mfa_config *cfg, struct mfa_store **s)
{
	struct mfa_path_error err = { "" };
	int rc = mfa_store_open(cfg, s, &err);

	if (rc != 0)
		printf("# open: %s (%s)\n", err.msg, mfa_errtoken(rc));
	return rc;
}

/* What a long-lived host sees: no descriptor left behind by 50 logins' worth of handles. */
static void test_no_fds_left(const struct mfa_config *cfg, const char *user)
{
	int before = count_fds(), rc = 0;

	for (int i = 0; i < 50 && rc == 0; i++) {
		struct mfa_store *s = NULL;
		struct mfa_record rec;

		memset(&rec, 0, sizeof(rec));
		if ((rc = open_store(cfg, &s)) == 0 && (rc = mfa_store_load(s, user, &rec)) == 0)
			rc = mfa_store_update(s, user, bump, NULL);
		mfa_record_wipe(&rec);
		mfa_store_close(s);
	}
	check(rc == 0, "50 opens, loads, updates, closes");
	check(count_fds() == before, "no descriptor left behind (%d before, %d after)", before,
	    count_fds());
}

int main(int argc, char **argv)
{
	struct mfa_config cfg;
	struct mfa_config_error cerr;
	struct mfa_store *a = NULL, *b = NULL;
	struct mfa_record rec;

	if (argc != 2) {
		fprintf(stderr, "usage: test_store_ldap CONF\n");
		return 2;
	}
	mfa_config_defaults(&cfg);
	if (mfa_config_load_file(&cfg, argv[1], false, &cerr) != 0 ||
	    mfa_config_check(&cfg, &cerr) != 0) {
		fprintf(stderr, "%s\n", cerr.msg);
		return 1;
	}
	check(open_store(&cfg, &a) == 0 && open_store(&cfg, &b) == 0,
	    "two store handles (two terminals) on the directory");
	if (a == NULL || b == NULL)
		goto out;
	tu_totp_record(&rec);
	check(mfa_store_save(a, "race-user", &rec) == 0, "enroll race-user");
	mfa_record_wipe(&rec);
	test_update_races(a, b, "race-user");
	test_cached_read_is_checked(a, b, "race-user");
	test_create_race(a, b, "new-user");
	test_no_fds_left(&cfg, "race-user");
out:
	mfa_store_close(a);
	mfa_store_close(b);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
