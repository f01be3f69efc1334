/*
 * Unit tests for mfa_store_change(): a record and its state changed in one
 * step under the user's lock (security review, findings 7 and 8a).
 *
 * Finding 7: the enrollment's confirming step must be the replay watermark
 * before the record is visible.  renameat() is interposed (this binary
 * defines it, and the store's objects are linked into it), so the test looks
 * at the state file on disk at the very moment the record is renamed into
 * place.
 *
 * Finding 8a: two staff commands at once (here: processes changing
 * different parts of one user's record) must both leave their change.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mfauth/err.h"
#include "mfauth/record.h"
#include "mfauth/state.h"
#include "mfauth/store.h"
#include "mfauth/store_files.h"
#include "testutil.h"

struct fx {
	struct tu_sandbox sb;
	struct mfa_store *store;
};

/* What the interposed renameat saw when a record file was renamed into place. */
static struct {
	bool armed;
	const struct fx *f;
	const char *user;
	int renames;
	int state_rc;
	uint64_t last_step;
} at_rename;

/* The newest state on disk, read without the lock (the writer holds it). */
static int state_on_disk(const struct fx *f, const char *user, struct mfa_state *st)
{
	char *dir = tu_path(f->sb.dir, "store"), name[300], *path;
	uint8_t *file;
	size_t len = 0;
	int slot = 0, rc;

	snprintf(name, sizeof(name), "%s.state", user);
	path = tu_path(dir, name);
	file = tu_read_file(path, &len);
	rc = len == MFA_STATE_FILE_LEN ?
	    mfa_state_pick_ring(mfa_store_files_keyring(f->store), user, file, st, &slot, NULL) :
	    MFA_ERR_CORRUPT;
	free(file);
	free(path);
	free(dir);
	return rc;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	int (*real)(int, const char *, int, const char *) = (int (*)(int, const char *, int,
	    const char *))dlsym(RTLD_NEXT, "renameat");
	int rc = real(olddirfd, oldpath, newdirfd, newpath);
	size_t n = strlen(newpath);

	if (rc == 0 && at_rename.armed && n > 4 && strcmp(newpath + n - 4, ".rec") == 0) {
		struct mfa_state st;
		at_rename.renames++;
		at_rename.state_rc = state_on_disk(at_rename.f, at_rename.user, &st);
		at_rename.last_step = st.last_step;
	}
	return rc;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct mfa_path_error perr;

	assert_non_null(f);
	tu_sandbox_setup(&f->sb);
	if (mfa_store_open(&f->sb.cfg, &f->store, &perr) != 0)
		fail_msg("open: %s", perr.msg);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	mfa_store_close(f->store);
	tu_sandbox_teardown(&f->sb);
	free(f);
	return 0;
}

struct enroll {
	uint64_t step;
	uint8_t seed;
};

/* What `enroll totp` does: a new TOTP factor and its confirming step, together. */
static int cb_enroll(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	const struct enroll *e = ctx;

	if (!exists)
		rec->created_at = 1;
	rec->totp.present = true;
	memset(rec->totp.secret, e->seed, 20);
	rec->totp.secret_len = 20;
	rec->totp.digits = 6;
	rec->totp.alg = MFA_ALG_SHA1;
	rec->totp.period = 30;
	if (e->step <= st->last_step)
		return MFA_CHANGE_RECORD;
	st->last_step = e->step;
	return MFA_CHANGE_RECORD | MFA_CHANGE_STATE;
}

static void test_watermark_on_disk_before_record(void **state)
{
	struct fx *f = *state;
	struct enroll e = { 60000001, 0x11 };
	struct mfa_record rec;

	memset(&at_rename, 0, sizeof(at_rename));
	at_rename.f = f;
	at_rename.user = "alice";
	at_rename.armed = true;
	/* A new user, then a re-enrollment of an existing one. */
	assert_int_equal(mfa_store_change(f->store, "alice", true, cb_enroll, &e), 0);
	assert_int_equal(at_rename.renames, 1);
	assert_int_equal(at_rename.state_rc, 0);
	assert_true(at_rename.last_step == 60000001);
	e = (struct enroll){ 60000100, 0x22 };
	assert_int_equal(mfa_store_change(f->store, "alice", true, cb_enroll, &e), 0);
	at_rename.armed = false;
	assert_int_equal(at_rename.renames, 2);
	assert_int_equal(at_rename.state_rc, 0);
	assert_true(at_rename.last_step == 60000100);
	assert_int_equal(mfa_store_load(f->store, "alice", &rec), 0);
	assert_int_equal(rec.totp.secret[0], 0x22);
	mfa_record_wipe(&rec);
}

static int cb_none(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	(void)rec;
	(void)st;
	*(bool *)ctx = exists;
	return 0;
}

static int cb_fail(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	(void)rec;
	(void)exists;
	(void)st;
	(void)ctx;
	return MFA_ERR_INVAL;
}

/* Without create nothing appears for an unknown user; errors and 0 write nothing. */
static void test_change_contract(void **state)
{
	struct fx *f = *state;
	struct enroll e = { 5, 0x33 };
	struct mfa_record rec;
	struct mfa_state st;
	bool exists = true;
	char *p;

	assert_int_equal(mfa_store_change(f->store, "ghost", false, cb_none, &exists),
	    MFA_ERR_NOENT);
	p = tu_path(f->sb.cfg.store_dir, "ghost.state");
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	assert_int_equal(mfa_store_change(f->store, "bob", true, cb_none, &exists), 0);
	assert_false(exists);
	assert_int_equal(mfa_store_load(f->store, "bob", &rec), MFA_ERR_NOENT);
	assert_int_equal(mfa_store_change(f->store, "bob", true, cb_enroll, &e), 0);
	assert_int_equal(mfa_store_change(f->store, "bob", false, cb_none, &exists), 0);
	assert_true(exists);
	assert_int_equal(mfa_store_change(f->store, "bob", false, cb_fail, NULL), MFA_ERR_INVAL);
	assert_int_equal(mfa_store_read_state(f->store, "bob", &st), 0);
	assert_true(st.last_step == 5);
	/* A record that does not open is never handed to fn. */
	p = tu_path(f->sb.cfg.store_dir, "bob.rec");
	tu_write_file(p, "MFAR garbage", 12, 0600);
	free(p);
	exists = false;
	assert_int_equal(mfa_store_change(f->store, "bob", true, cb_none, &exists),
	    MFA_ERR_CORRUPT);
	assert_false(exists);
}

#define ROUNDS 200

/* Two staff commands at once: one sets the card's serial, one the TOTP seed. */
static int cb_card(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	(void)st;
	if (!exists)
		return MFA_ERR_NOENT;
	rec->card.present = true;
	rec->card.profile = MFA_CARD_PIV;
	rec->card.spki_len = 1;
	snprintf(rec->card.serial, sizeof(rec->card.serial), "%d", *(int *)ctx);
	return MFA_CHANGE_RECORD;
}

static int cb_seed(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	(void)st;
	if (!exists)
		return MFA_ERR_NOENT;
	rec->totp.secret[0] = (uint8_t) * (int *)ctx;
	return MFA_CHANGE_RECORD;
}

static void test_concurrent_changes_both_kept(void **state)
{
	struct fx *f = *state;
	struct enroll e = { 1, 0 };
	struct mfa_record rec;
	int lost = 0;

	assert_int_equal(mfa_store_change(f->store, "carol", true, cb_enroll, &e), 0);
	for (int i = 1; i <= ROUNDS; i++) {
		pid_t pid[2];
		int go[2], status;
		char b = 0;

		assert_int_equal(pipe(go), 0);
		for (int k = 0; k < 2; k++) {
			pid[k] = fork();
			assert_true(pid[k] >= 0);
			if (pid[k] == 0) {
				close(go[1]);
				if (read(go[0], &b, 1) < 0)
					_exit(3);
				_exit(mfa_store_change(f->store, "carol", false,
				          k == 0 ? cb_card : cb_seed, &i) == 0 ?
				        0 :
				        1);
			}
		}
		close(go[0]);
		close(go[1]); /* both start at once */
		for (int k = 0; k < 2; k++) {
			assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		assert_int_equal(mfa_store_load(f->store, "carol", &rec), 0);
		if (atoi(rec.card.serial) != i || rec.totp.secret[0] != (uint8_t)i)
			lost++;
		mfa_record_wipe(&rec);
	}
	if (lost != 0)
		fail_msg("%d of %d rounds lost one of two concurrent changes", lost, ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watermark_on_disk_before_record, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_change_contract, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_changes_both_kept, fx_setup,
		    fx_teardown),
	};
	tu_require_root();
	return cmocka_run_group_tests_name("store_change", tests, NULL, NULL);
}
