/*
 * The return-code matrix: every way a login can fail, each in a fresh
 * sandbox, through the module alone and through the stacks people write.
 *
 * For each row: the module's own code (pam_sm_authenticate called directly)
 * is exactly PAM_AUTH_ERR, never PAM_SUCCESS or PAM_IGNORE, except for nullok
 * and a user with no enrollment at all (doc/DESIGN.md invariant 1); its audit line
 * names the reason, so a row cannot pass by failing for some other reason;
 * and under each stack below the exact libpam result is asserted, none of
 * them a success (pam_pkcs11 CVE-2025-24531 and pam-u2f CVE-2025-23013 let
 * a later module turn an error into success).
 *
 * pam_unix cannot run here (no such user, no password): pam_permit.so
 * stands for a password module that accepted the password.
 *
 * The same table runs on both stores.  Alone, on the files store in each
 * row's sandbox.  Under tests/ldap/test-pam-matrix-ldap.sh (which starts
 * one private slapd for the whole run and sets MFAUTH_TEST_STORE=ldap,
 * pamtest_ldap.h), on the fleet store: each row's sandbox is then a fresh
 * base entry and key on that slapd, seeded through store.h with staff
 * credentials, and the module logs in with a terminal's.  Rows marked for
 * one store only are what the other store has no counterpart of (file
 * modes, links and owners; the directory's reachability, credentials and
 * access control).  Tampering is done as an attacker with write access
 * would: on the files store's files, or as the directory's root DN.
 *
 * HU_SHOW_LOG=1 in the environment prints every row's audit lines.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hardutil.h"
#include "pamtest.h"
#include "pamtest_ldap.h"
#include "syslog_sink.h"
#include "testutil.h"
#include "mfauth/recovery.h"
#include "mfauth/store.h"

#define SEED "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define SEED_BOB "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

#define NSTACKS 6
/* clang-format off */
static const char *const stacks[NSTACKS] = {
	/* README, with pam_permit in pam_unix's place. */
	"auth [success=1 default=ignore] pam_permit.so nullok\n"
	"auth requisite pam_deny.so\n"
	"auth required @MFA @ARGS\n",
	/* pam_mfauth(8)'s common-auth: the same, primed with pam_permit. */
	"auth [success=1 default=ignore] pam_permit.so nullok\n"
	"auth requisite pam_deny.so\n"
	"auth required pam_permit.so\n"
	"auth required @MFA @ARGS\n",
	"auth required pam_permit.so\nauth required @MFA @ARGS\n",
	"auth requisite @MFA @ARGS\nauth required pam_permit.so\n",
	"auth sufficient @MFA @ARGS\nauth required pam_deny.so\n",
	/* Debian common-auth shape with the module as the jumping line. */
	"auth [success=1 default=ignore] @MFA @ARGS\nauth requisite pam_deny.so\n"
	"auth required pam_permit.so\n",
};
/* clang-format on */

/* What the login answers at the code prompt. */
enum reply {
	R_CODE,      /* the right code for now (fresh each attempt: the clock moves) */
	R_WRONG,     /* a well-formed wrong code */
	R_STALE,     /* the right code of four steps ago */
	R_SAVED,     /* what prepare() left in f->saved (a used code, a recovery code) */
	R_MALFORMED, /* not a code at all */
	R_NULL,      /* resp == NULL */
	R_EMPTY,     /* "" */
	R_CONV_ERR,  /* the conversation fails */
};

struct fixture {
	struct pt_sandbox sb;
	struct hu_module mod;
	int sink;
	bool live; /* a sandbox exists (teardown removes it) */
	char saved[32];
	char log[8192];
};

/* Which stores a row runs on. */
#define ON_FILES 1u
#define ON_LDAP 2u
#define ON_BOTH (ON_FILES | ON_LDAP)

struct row {
	unsigned on; /* ON_* */
	const char *name;
	const char *user;
	void (*prepare)(struct fixture *f);
	enum reply reply;
	const char *args;   /* extra module arguments, or NULL */
	int direct;         /* pam_sm_authenticate's own code */
	const char *logged; /* in the direct call's audit lines */
	int stack[NSTACKS]; /* pam_authenticate under stacks[i] */
};

#define ALL_AUTH_ERR \
	{ \
		PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR \
	}

static void path_of(struct fixture *f, char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", f->sb.dir, name);
}

static void must(int ok, const char *what)
{
	if (!ok)
		fail_msg("prepare: %s", what);
}

/* --- the ways a sandbox can be broken -------------------------------------- */

static void lock_alice(struct fixture *f)
{
	hu_lock_forever(&f->sb, "alice");
}

static void use_code_once(struct fixture *f)
{
	struct pt_conv c;

	pt_code(SEED, "sha1", 6, 30, pt_fake_now, f->saved);
	c = (struct pt_conv){ .reply = f->saved };
	must(hu_call(&f->mod, &f->sb, "alice", &c, NULL, false, NULL) == PAM_SUCCESS,
	    "first use of the code");
}

static void issue_recovery(struct fixture *f, uint64_t ttl)
{
	struct mfa_store *store = hu_store_open(&f->sb);
	struct mfa_record rec;
	char code[MFA_RECOVERY_TEXT_LEN];

	must(mfa_store_load(store, "alice", &rec) == 0, "load alice");
	must(mfa_recovery_issue(&rec.recovery, (uint64_t)pt_fake_now, ttl, code) == 0, "issue");
	must(mfa_store_save(store, "alice", &rec) == 0, "save alice");
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	snprintf(f->saved, sizeof(f->saved), "%s", code);
}

static void recovery_expired(struct fixture *f)
{
	issue_recovery(f, 600);
	pt_fake_now += 601;
}

static void recovery_used(struct fixture *f)
{
	struct pt_conv c;

	issue_recovery(f, 3600);
	c = (struct pt_conv){ .reply = f->saved };
	must(hu_call(&f->mod, &f->sb, "alice", &c, NULL, false, NULL) == PAM_SUCCESS,
	    "first use of the recovery code");
}

static void revoke_alice(struct fixture *f)
{
	struct mfa_store *store = hu_store_open(&f->sb);

	must(mfa_store_remove(store, "alice") == 0, "revoke alice");
	mfa_store_close(store);
}

/*
 * A user's record or state as the store holds it: files, store/USER.rec or
 * .state; the directory, the entry's mfauthRecord or mfauthState as the
 * root DN reads and writes it.
 */
enum value { V_RECORD, V_STATE };

static void value_path(struct fixture *f, const char *user, enum value v, char *out, size_t len)
{
	snprintf(out, len, "%s/store/%s.%s", f->sb.dir, user, v == V_RECORD ? "rec" : "state");
}

static const char *value_attr(enum value v)
{
	return v == V_RECORD ? PTL_RECORD : PTL_STATE;
}

static uint8_t *value_get(struct fixture *f, const char *user, enum value v, size_t *len)
{
	char path[256];

	if (ptl_enabled())
		return ptl_value_get(&f->sb, user, value_attr(v), len);
	value_path(f, user, v, path, sizeof(path));
	return tu_read_file(path, len);
}

static void value_put(struct fixture *f, const char *user, enum value v, const void *p, size_t n)
{
	char path[256];

	if (ptl_enabled()) {
		ptl_value_set(&f->sb, user, value_attr(v), p, n);
		return;
	}
	value_path(f, user, v, path, sizeof(path));
	tu_write_file(path, p, n, 0600);
}

static void value_drop(struct fixture *f, const char *user, enum value v)
{
	char path[256];

	if (ptl_enabled()) {
		ptl_value_drop(&f->sb, user, value_attr(v));
		return;
	}
	value_path(f, user, v, path, sizeof(path));
	must(unlink(path) == 0, "unlink");
}

static void record_garbage(struct fixture *f)
{
	value_put(f, "alice", V_RECORD, "garbage", 7);
}

/* Flip one bit of the record's last byte (the AEAD tag). */
static void record_tampered(struct fixture *f)
{
	size_t len;
	uint8_t *b = value_get(f, "alice", V_RECORD, &len);

	b[len - 1] ^= 0x01;
	value_put(f, "alice", V_RECORD, b, len);
	free(b);
}

static void record_truncated(struct fixture *f)
{
	size_t len;
	uint8_t *b = value_get(f, "alice", V_RECORD, &len);

	value_put(f, "alice", V_RECORD, b, len / 2);
	free(b);
}

/* A valid record, sealed for another name: the associated data does not match. */
static void record_swapped(struct fixture *f)
{
	size_t len;
	uint8_t *b = value_get(f, "bob", V_RECORD, &len);

	value_put(f, "alice", V_RECORD, b, len);
	free(b);
}

static void record_symlink(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store/alice.rec");
	must(unlink(path) == 0 && symlink("bob.rec", path) == 0, "symlink");
}

static void record_hardlink(struct fixture *f)
{
	char path[256], other[256];

	path_of(f, path, sizeof(path), "store/alice.rec");
	path_of(f, other, sizeof(other), "store/alice.rec.link");
	must(link(path, other) == 0, "link");
}

static void record_not_root(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store/alice.rec");
	must(chown(path, 65534, 65534) == 0, "chown record");
}

static void record_writable(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store/alice.rec");
	must(chmod(path, 0666) == 0, "chmod record");
}

static void record_missing(struct fixture *f)
{
	value_drop(f, "alice", V_RECORD);
}

/* The state's bytes, each replaced by 0xa5 (its length kept). */
static void state_garbage(struct fixture *f)
{
	size_t len;
	uint8_t *b = value_get(f, "alice", V_STATE, &len);

	memset(b, 0xa5, len);
	value_put(f, "alice", V_STATE, b, len);
	free(b);
}

/* bob's state (a valid one, for another name) over alice's. */
static void state_swapped(struct fixture *f)
{
	size_t len;
	uint8_t *b = value_get(f, "bob", V_STATE, &len);

	value_put(f, "alice", V_STATE, b, len);
	free(b);
}

static void state_missing(struct fixture *f)
{
	value_drop(f, "alice", V_STATE);
}

static void key_missing(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store.key");
	must(unlink(path) == 0, "unlink key");
}

static void key_0644(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store.key");
	must(chmod(path, 0644) == 0, "chmod key");
}

/* A well-formed key file, but not the key the records were sealed under. */
static void key_other(struct fixture *f)
{
	char path[256];
	size_t len;
	uint8_t *b;

	path_of(f, path, sizeof(path), "store.key");
	b = tu_read_file(path, &len);
	b[0] ^= 0x01;
	tu_write_file(path, b, len, 0600);
	free(b);
}

static void store_0777(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store");
	must(chmod(path, 0777) == 0, "chmod store");
}

static void store_not_root(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "store");
	must(chown(path, 65534, 65534) == 0, "chown store");
}

static void store_missing(struct fixture *f)
{
	char path[256], moved[256];

	path_of(f, path, sizeof(path), "store");
	path_of(f, moved, sizeof(moved), "store.gone");
	must(rename(path, moved) == 0, "rename store");
}

static void store_symlink(struct fixture *f)
{
	char path[256], moved[256];

	path_of(f, path, sizeof(path), "store");
	path_of(f, moved, sizeof(moved), "store.real");
	must(rename(path, moved) == 0 && symlink("store.real", path) == 0, "symlink store");
}

static void conf_0666(struct fixture *f)
{
	must(chmod(f->sb.conf, 0666) == 0, "chmod conf");
}

static void conf_nobody(struct fixture *f)
{
	must(chown(f->sb.conf, 65534, 65534) == 0, "chown conf");
}

static void conf_missing(struct fixture *f)
{
	must(unlink(f->sb.conf) == 0, "unlink conf");
}

/* The sandbox's config with a line whose value is out of range appended. */
static void conf_bad_line(struct fixture *f)
{
	size_t len;
	uint8_t *text = tu_read_file(f->sb.conf, &len);
	uint8_t *more = realloc(text, len + 16);

	must(more != NULL, "realloc");
	memcpy(more + len, "deny = lots\n", 12);
	tu_write_file(f->sb.conf, more, len + 12, 0600);
	free(more);
}

static void card_only_frank(struct fixture *f)
{
	hu_enroll_card_only(&f->sb, "frank");
}

/* --- the directory's own ways to fail (the terminal's view of it) --------------- */

/* Nothing listens where the terminal looks: a stopped server. */
static void dir_stopped(struct fixture *f)
{
	struct ptl_terminal t = { .uri = ptl_env("MFAUTH_TEST_LDAP_CLOSED_URI") };

	ptl_terminal_conf(&f->sb, &t);
}

static void dir_wrong_password(struct fixture *f)
{
	struct ptl_terminal t = { .password = "not-the-terminal-password" };

	ptl_terminal_conf(&f->sb, &t);
}

/* An account in no group: the shipped ACL shows it no entry at all (none readable). */
static void dir_hidden(struct fixture *f)
{
	struct ptl_terminal t = { .bind_dn = ptl_env("LDAP_RIG_OTHER_DN"),
		.password = ptl_env("LDAP_RIG_OTHER_PW") };

	ptl_terminal_conf(&f->sb, &t);
}

static void dir_wrong_ca(struct fixture *f)
{
	struct ptl_terminal t = { .ca_file = ptl_env("LDAP_RIG_OTHER_CA") };

	ptl_terminal_conf(&f->sb, &t);
}

static void dir_no_module(struct fixture *f)
{
	struct ptl_terminal t = { .module = "/nonexistent/mfauth_store_ldap.so" };

	ptl_terminal_conf(&f->sb, &t);
}

static void dir_secret_0644(struct fixture *f)
{
	char path[256];

	path_of(f, path, sizeof(path), "terminal.secret");
	must(chmod(path, 0644) == 0, "chmod secret");
}

/* `mfauth init` never run (or the decoy deleted): an unknown user cannot be told from a hidden one. */
static void dir_no_decoy(struct fixture *f)
{
	ptl_entry_drop(&f->sb, PTL_DECOY);
}

/* alice's entry left with neither value: what an ACL hiding the values shows. */
static void dir_bare_entry(struct fixture *f)
{
	value_drop(f, "alice", V_RECORD);
	value_drop(f, "alice", V_STATE);
}

/* --- the table --------------------------------------------------------------- */

#define FAILS_ON(on_, name_, user_, prep_, reply_, args_, logged_) \
	{ \
		on_, name_, user_, prep_, reply_, args_, PAM_AUTH_ERR, logged_, ALL_AUTH_ERR \
	}
#define FAILS(...) FAILS_ON(ON_BOTH, __VA_ARGS__)
#define FILES_FAILS(...) FAILS_ON(ON_FILES, __VA_ARGS__)
#define LDAP_FAILS(...) FAILS_ON(ON_LDAP, __VA_ARGS__)

static const struct row rows[] = {
	/* The control: the same sandbox and stacks do let the right code in. */
	{ ON_BOTH, "right code (control)", "alice", NULL, R_CODE, NULL, PAM_SUCCESS,
	    "result=success user=alice",
	    { PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS } },
	/*
	 * Nothing enrolled and nullok: the one PAM_IGNORE.  What each stack makes
	 * of it.  Under the README's lines no module leaves a success behind (a
	 * jump does not count as one), so libpam denies: nullok only lets users
	 * through where a pam_permit line primes the stack, as in pam_mfauth(8).
	 */
	{ ON_BOTH, "nullok, unenrolled", "nobody-here", NULL, R_CODE, "nullok", PAM_IGNORE,
	    "result=ignore user=nobody-here",
	    { PAM_PERM_DENIED, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS, PAM_AUTH_ERR,
	        PAM_AUTH_ERR } },
	{ ON_BOTH, "nullok, record gone, state left", "alice", record_missing, R_CODE, "nullok",
	    PAM_IGNORE, "result=ignore user=alice",
	    { PAM_PERM_DENIED, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS, PAM_AUTH_ERR,
	        PAM_AUTH_ERR } },

	/* Codes. */
	FAILS("wrong code", "alice", NULL, R_WRONG, NULL,
	    "result=fail user=alice factor=totp "
	    "reason=bad_code"),
	FAILS("replayed code", "alice", use_code_once, R_SAVED, NULL,
	    "result=replay user=alice "
	    "factor=totp reason=replay"),
	FAILS("stale code (4 steps old)", "alice", NULL, R_STALE, NULL, "reason=bad_code"),
	FAILS("malformed code", "alice", NULL, R_MALFORMED, NULL, "reason=malformed_code"),
	FAILS("expired recovery code", "alice", recovery_expired, R_SAVED, NULL, "reason=expired"),
	FAILS("used recovery code", "alice", recovery_used, R_SAVED, NULL, "reason=replay"),
	FAILS("locked, right code", "alice", lock_alice, R_CODE, NULL, "result=locked user=alice"),
	FAILS("locked, nullok", "alice", lock_alice, R_CODE, "nullok", "result=locked user=alice"),

	/* Who. */
	FAILS("unenrolled (a system user)", "root", NULL, R_CODE, NULL,
	    "user=root factor=totp reason=not_enrolled"),
	FAILS("unknown user", "ghost", NULL, R_CODE, NULL,
	    "user=ghost factor=totp "
	    "reason=not_enrolled"),
	FAILS("path in the user name", "../store/alice", NULL, R_CODE, "nullok",
	    "reason=not_enrolled"),
	FAILS("overlong user name",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL, R_CODE, "nullok", "reason=not_enrolled"),
	FAILS("control character in the name", "alice\nresult=success", NULL, R_CODE, "nullok",
	    "user=\"alice\\x0aresult=success\" factor=totp reason=not_enrolled"),
	FAILS("revoked user", "alice", revoke_alice, R_CODE, NULL, "reason=not_enrolled"),
	FAILS("record gone, state left", "alice", record_missing, R_CODE, NULL,
	    "reason=not_enrolled"),

	/* The record. */
	FAILS("corrupt record", "alice", record_garbage, R_CODE, NULL,
	    "event=store_error result=fail user=alice factor=totp reason=corrupt"),
	FAILS("corrupt record, nullok", "alice", record_garbage, R_CODE, "nullok",
	    "event=store_error result=fail user=alice factor=totp reason=corrupt"),
	FAILS("tampered record", "alice", record_tampered, R_CODE, NULL, "reason=corrupt"),
	FAILS("truncated record", "alice", record_truncated, R_CODE, NULL, "reason=corrupt"),
	FAILS("bob's record over alice's", "alice", record_swapped, R_CODE, "nullok",
	    "reason=corrupt"),
	FILES_FAILS("record is a symlink", "alice", record_symlink, R_CODE, "nullok",
	    "reason=unsafe"),
	FILES_FAILS("record has two links", "alice", record_hardlink, R_CODE, "nullok",
	    "reason=unsafe"),
	FILES_FAILS("record not owned by root", "alice", record_not_root, R_CODE, "nullok",
	    "reason=unsafe"),
	FILES_FAILS("record writable by others", "alice", record_writable, R_CODE, "nullok",
	    "reason=unsafe"),

	/* The state. */
	FAILS("corrupt state", "alice", state_garbage, R_CODE, NULL,
	    "event=store_error result=fail user=alice factor=totp reason=corrupt"),
	FAILS("bob's state over alice's", "alice", state_swapped, R_CODE, NULL, "reason=corrupt"),
	FAILS("state missing", "alice", state_missing, R_CODE, "nullok", "reason=no_state"),

	/* The key and the store. */
	/* (Its reason token reads not_enrolled, from the file's ENOENT; the detail is right.) */
	FAILS("missing key", "alice", key_missing, R_CODE, NULL, "factor=totp reason=key "),
	FAILS("missing key, nullok, unknown user", "ghost", key_missing, R_CODE, "nullok",
	    "store.key:\\x20does\\x20not\\x20exist"),
	FAILS("key mode 0644", "alice", key_0644, R_CODE, "nullok",
	    "reason=unsafe service=hu-direct tty=tty7 rhost= detail="),
	FAILS("another key", "alice", key_other, R_CODE, "nullok",
	    "event=store_error result=fail user=alice factor=totp reason=key_id"),
	FILES_FAILS("store dir 0777", "alice", store_0777, R_CODE, "nullok",
	    "event=store_error result=fail user=alice factor=totp reason=unsafe"),
	FILES_FAILS("store dir 0777, unknown user", "ghost", store_0777, R_CODE, "nullok",
	    "event=store_error result=fail user=ghost factor=totp reason=unsafe"),
	FILES_FAILS("store dir not owned by root", "alice", store_not_root, R_CODE, "nullok",
	    "reason=unsafe"),

	FILES_FAILS("store dir missing, nullok, unknown user", "ghost", store_missing, R_CODE,
	    "nullok", "event=store_error result=fail user=ghost"),
	FILES_FAILS("store dir is a symlink, nullok", "ghost", store_symlink, R_CODE, "nullok",
	    "reason=unsafe"),

	/* The configuration. */
	FAILS("config mode 0666", "alice", conf_0666, R_CODE, "nullok",
	    "event=store_error result=fail user= factor=totp reason=config"),
	FAILS("config owned by 65534", "alice", conf_nobody, R_CODE, "nullok", "reason=config"),
	FAILS("config missing", "ghost", conf_missing, R_CODE, "nullok", "reason=config"),
	FAILS("config with a bad value", "ghost", conf_bad_line, R_CODE, "nullok", "reason=config"),
	FAILS("unknown option", "ghost", NULL, R_CODE, "nullok bogus=1", "reason=config"),
	FAILS("bad option value", "alice", NULL, R_CODE, "window=99", "reason=config"),
	FAILS("option without its value", "alice", NULL, R_CODE, "deny=", "reason=config"),
	FAILS("conf given twice", "ghost", NULL, R_CODE, "nullok conf=/etc/mfauth/x.conf",
	    "reason=config"),

	/* The conversation. */
	FAILS("conversation error", "alice", NULL, R_CONV_ERR, NULL, "reason=no_code"),
	FAILS("NULL reply", "alice", NULL, R_NULL, NULL, "reason=no_code"),
	FAILS("empty reply", "alice", NULL, R_EMPTY, NULL, "reason=no_code"),
	FAILS("conversation error, unknown user, nullok off", "ghost", NULL, R_CONV_ERR, NULL,
	    "reason=no_code"),

	/* The directory (the fleet store only): fail closed, never "not enrolled". */
	LDAP_FAILS("directory stopped", "alice", dir_stopped, R_CODE, NULL,
	    "event=store_error result=fail user=alice factor=totp reason=directory_unreachable"),
	LDAP_FAILS("directory stopped, nullok, unknown user", "ghost", dir_stopped, R_CODE,
	    "nullok",
	    "event=store_error result=fail user=ghost factor=totp reason=directory_unreachable"),
	LDAP_FAILS("wrong bind password", "alice", dir_wrong_password, R_CODE, NULL,
	    "event=store_error result=fail user=alice factor=totp reason=directory_auth"),
	LDAP_FAILS("wrong bind password, nullok, unknown user", "ghost", dir_wrong_password, R_CODE,
	    "nullok", "event=store_error result=fail user=ghost factor=totp reason=directory_auth"),
	LDAP_FAILS("the ACL hides every entry, nullok", "alice", dir_hidden, R_CODE, "nullok",
	    "event=store_error result=fail user=alice factor=totp reason=directory_denied"),
	LDAP_FAILS("the ACL hides every entry, nullok, unknown user", "ghost", dir_hidden, R_CODE,
	    "nullok",
	    "event=store_error result=fail user=ghost factor=totp reason=directory_denied"),
	LDAP_FAILS("no decoy entry, nullok, unknown user", "ghost", dir_no_decoy, R_CODE, "nullok",
	    "event=store_error result=fail user=ghost factor=totp reason=directory_denied"),
	LDAP_FAILS("entry with neither value, nullok", "alice", dir_bare_entry, R_CODE, "nullok",
	    "event=store_error result=fail user=alice factor=totp reason=directory_denied"),
	LDAP_FAILS("server certificate from another CA", "alice", dir_wrong_ca, R_CODE, "nullok",
	    "event=store_error result=fail user=alice factor=totp reason=directory_tls"),
	LDAP_FAILS("bind password file readable by others", "alice", dir_secret_0644, R_CODE,
	    "nullok", "event=store_error result=fail user=alice factor=totp reason=unsafe"),
	LDAP_FAILS("backend module missing", "ghost", dir_no_module, R_CODE, "nullok",
	    "event=store_error result=fail user=ghost factor=totp reason=config"),

	/* The card: no pcscd here (PCSCLITE_CSOCK_NAME points nowhere). */
	FAILS("card-only user, factors=card, no pcscd", "frank", card_only_frank, R_CODE,
	    "factors=card", "reason=not_enrolled"),
	FAILS("card-only user, factors=totp,card, no pcscd", "frank", card_only_frank, R_CODE,
	    "factors=totp,card", "reason=not_enrolled"),
	FAILS("card-only user, nullok, no pcscd", "frank", card_only_frank, R_CODE,
	    "factors=card nullok", "reason=not_enrolled"),
	FAILS("card-only user, card not allowed", "frank", card_only_frank, R_CODE, "nullok",
	    "reason=not_enrolled"),
	FAILS("TOTP user, factors=card, right code", "alice", NULL, R_CODE, "factors=card",
	    "reason=not_enrolled"),
};

/* --- running a row ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	if ((f->sink = sink_open()) < 0)
		fail_msg("sink: %s", sink_error());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->live) {
		hu_module_close(&f->mod);
		pt_teardown(&f->sb);
	}
	sink_close(f->sink);
	free(f);
	return 0;
}

static void fresh_sandbox(struct fixture *f)
{
	/*
	 * The directory's TLS checks the rig's certificates (valid from its
	 * start, for two days) against this clock too: start at the next step.
	 */
	pt_fake_now = ptl_enabled() ? (ptl_wall_clock() / 30 + 1) * 30 : 1800000000;
	memset(f->saved, 0, sizeof(f->saved));
	pt_setup(&f->sb, "deny = 50\nunlock_time = 600\nfail_interval = 900\n");
	pt_enroll(&f->sb, "alice", SEED, "sha1", 6, 30);
	pt_enroll(&f->sb, "bob", SEED_BOB, "sha1", 6, 30);
	hu_module_open(&f->mod, &f->sb);
	f->live = true;
}

static void free_sandbox(struct fixture *f)
{
	hu_module_close(&f->mod);
	pt_teardown(&f->sb);
	f->live = false;
}

/* The conversation for one attempt; code is storage for R_CODE and friends. */
static struct pt_conv conv_for(struct fixture *f, const struct row *r, char code[16])
{
	struct pt_conv c;

	memset(&c, 0, sizeof(c));
	pt_code(SEED, "sha1", 6, 30, pt_fake_now, code);
	c.reply = code;
	switch (r->reply) {
	case R_CODE:
		break;
	case R_WRONG:
		code[5] = code[5] == '0' ? '1' : '0';
		break;
	case R_STALE:
		pt_code(SEED, "sha1", 6, 30, pt_fake_now - 120, code);
		break;
	case R_SAVED:
		c.reply = f->saved;
		break;
	case R_MALFORMED:
		c.reply = "12a456";
		break;
	case R_NULL:
		c.null_reply = true;
		break;
	case R_EMPTY:
		c.reply = "";
		break;
	case R_CONV_ERR:
		c.conv_error = true;
		break;
	}
	return c;
}

/* Everything logged since the last call, into f->log. */
static void collect(struct fixture *f)
{
	char line[2048];
	size_t len;

	f->log[0] = '\0';
	while (sink_recv(f->sink, line, sizeof(line), 30) > 0) {
		len = strlen(f->log);
		snprintf(f->log + len, sizeof(f->log) - len, "%s\n", line);
	}
}

/* The stack text with @ARGS replaced by the row's arguments. */
static void write_stack(struct fixture *f, const char *stack, const char *args)
{
	char text[1024];
	size_t o = 0;

	for (const char *p = stack; *p != '\0' && o < sizeof(text) - 1;) {
		if (strncmp(p, "@ARGS", 5) == 0) {
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", args ? args : "");
			p += 5;
		} else {
			text[o++] = *p++;
		}
	}
	text[o] = '\0';
	pt_service(&f->sb, "matrix", text);
}

static void run_row(struct fixture *f, const struct row *r)
{
	struct pt_conv c;
	char code[16];
	int rc;

	fresh_sandbox(f);
	if (r->prepare != NULL)
		r->prepare(f);
	sink_drain(f->sink);
	c = conv_for(f, r, code);
	rc = hu_call(&f->mod, &f->sb, r->user, &c, r->args, false, NULL);
	collect(f);
	if (rc != r->direct)
		fail_msg("%s: the module returned %d, want %d\n%s", r->name, rc, r->direct, f->log);
	if (getenv("HU_SHOW_LOG") != NULL)
		printf("# %s:\n%s", r->name, f->log);
	if (strstr(f->log, r->logged) == NULL)
		fail_msg("%s: no '%s' in the audit lines:\n%s", r->name, r->logged, f->log);
	if (rc == PAM_SUCCESS || rc == PAM_IGNORE)
		pt_fake_now += 30;
	for (int s = 0; s < NSTACKS; s++) {
		write_stack(f, stacks[s], r->args);
		c = conv_for(f, r, code);
		rc = hu_stack_auth(&f->sb, "matrix", r->user, &c);
		sink_drain(f->sink);
		if (rc != r->stack[s])
			fail_msg("%s: stack %d gave %d, want %d:\n%s", r->name, s, rc, r->stack[s],
			    stacks[s]);
		/* A fresh step for the next attempt (only the control row needs it). */
		pt_fake_now += 30;
	}
	free_sandbox(f);
}

static void test_matrix(void **state)
{
	struct fixture *f = *state;
	size_t n = sizeof(rows) / sizeof(rows[0]), ran = 0;
	unsigned store = ptl_enabled() ? ON_LDAP : ON_FILES;

	for (size_t i = 0; i < n; i++) {
		if ((rows[i].on & store) == 0)
			continue;
		/* Invariant 1 is also a property of the table itself. */
		if (rows[i].direct == PAM_IGNORE)
			assert_non_null(rows[i].args && strstr(rows[i].args, "nullok"));
		else if (rows[i].direct != PAM_SUCCESS)
			for (int s = 0; s < NSTACKS; s++)
				assert_int_not_equal(rows[i].stack[s], PAM_SUCCESS);
		run_row(f, &rows[i]);
		ran++;
	}
	printf("# %zu rows on the %s store, each through the module and %d stacks\n", ran,
	    store == ON_LDAP ? "directory (ldap)" : "files", NSTACKS);
	assert_true(ran > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
	};
	tu_require_root();
	if (sink_enter_namespace() != 0) {
		fprintf(stderr, "cannot make a private /dev/log: %s\n", sink_error());
		return 1;
	}
	/* No pcscd for this process: a card path finds no service. */
	if (setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/mfauth-test/pcscd.comm", 1) != 0)
		return 1;
	return cmocka_run_group_tests_name("pam_matrix", tests, NULL, NULL);
}
