/*
 * The directory half of the PAM test harness: with MFAUTH_TEST_STORE=ldap
 * in the environment, a sandbox's store is the fleet store (store = ldap,
 * lib/store_ldap.c) on the private slapd that tests/ldap/slapd-rig.sh runs,
 * and pamtest.c's functions (pt_setup, pt_enroll, pt_failures, hu_store_open
 * ...) work on it unchanged.  A wrapper (tests/ldap/test-pam-matrix-ldap.sh,
 * tests/ldap/valgrind-longlived-ldap.sh) starts the rig and exports its
 * DIR/env (LDAP_RIG_*) and MFAUTH_TEST_LDAP_CLOSED_URI (a URI where nothing
 * listens).
 *
 * Each sandbox gets an entry of its own under the rig's base,
 * ou=sb-PID-N,LDAP_RIG_BASE (within the shipped ACL's subtree), so one
 * slapd serves many fresh sandboxes; in its directory:
 *   mfauth.conf    the terminal: terminal-01's credentials over ldaps://
 *   staff.conf     staff-01's credentials, for seeding through store.h
 *   store.key      the fleet key, made with the decoy entry by
 *                  mfa_store_init() on staff.conf (`mfauth init`'s path)
 * The root DN (which bypasses the ACL, as a directory administrator could)
 * only makes the sandbox's base entry and, for the tests of tampered
 * values, reads and writes raw attribute values (ldapsearch/ldapmodify over
 * ldapi://).  Every helper fails the running cmocka test on error.
 */
#ifndef MFAUTH_PAMTEST_LDAP_H
#define MFAUTH_PAMTEST_LDAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pamtest.h"
#include "mfauth/conf.h"

/* The attributes of a user's entry (share/ldap/mfauth.schema). */
#define PTL_RECORD "mfauthRecord"
#define PTL_STATE "mfauthState"
/* The decoy entry's name (store_ldap.h's MFA_STORE_LDAP_DECOY). */
#define PTL_DECOY "/decoy"

/* True when MFAUTH_TEST_STORE=ldap. */
bool ptl_enabled(void);

/*
 * The wall clock (CLOCK_REALTIME), for the injected clock's start: GnuTLS
 * reads time() too (the test binary's, pamtest.c), and checks the rig's
 * certificates, valid from when the rig started for two days, against it.
 */
time_t ptl_wall_clock(void);

/* pt_setup()'s directory part: sb->dir exists; extra is appended to mfauth.conf. */
void ptl_setup(struct pt_sandbox *sb, const char *extra);

/* The staff configuration of sb, loaded from staff.conf as the tool would. */
void ptl_staff_config(const struct pt_sandbox *sb, struct mfa_config *cfg);

/*
 * Rewrite sb's mfauth.conf (the terminal's) with these changed; a NULL
 * field keeps the default (the rig's ldaps:// URI, terminal-01, its
 * password, the rig's CA, the built backend module).  The password goes
 * to DIR/terminal.secret (0600); sb's extra lines are kept.
 */
struct ptl_terminal {
	const char *uri;
	const char *bind_dn;
	const char *password;
	const char *ca_file;
	const char *module;
};
void ptl_terminal_conf(const struct pt_sandbox *sb, const struct ptl_terminal *t);

/* The rig's variables (fails the test when unset). */
const char *ptl_env(const char *name);

/*
 * Raw attribute values of cn=USER in sb's base, as the root DN reads and
 * writes them: get returns a malloc'd copy (*len its size; fails the test
 * when the value is absent), set replaces the value, drop deletes the
 * attribute; ptl_entry_drop deletes the whole entry.
 */
uint8_t *ptl_value_get(const struct pt_sandbox *sb, const char *user, const char *attr,
    size_t *len);
void ptl_value_set(const struct pt_sandbox *sb, const char *user, const char *attr,
    const void *value, size_t len);
void ptl_value_drop(const struct pt_sandbox *sb, const char *user, const char *attr);
void ptl_entry_drop(const struct pt_sandbox *sb, const char *user);

#endif
