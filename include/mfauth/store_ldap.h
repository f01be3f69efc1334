/*
 * The directory backend of the store (lib/store_ldap.c): the fleet store in
 * OpenLDAP, selected by `store = ldap` (store.c, backend_for()).  Only
 * lib/store.c and this backend's own tests include this header; every other
 * caller goes through store.h.
 *
 * Layout (share/ldap/mfauth.schema): one entry per user, cn=USER,<ldap_base>,
 * object class mfauthUser, holding
 *   mfauthRecord  the sealed record, byte for byte the files backend's NAME.rec
 *                 (record.h: the user name in the associated data, so a value
 *                 moved onto another user's entry does not open)
 *   mfauthState   ONE sealed state slot (state.h), with its sequence number;
 *                 kept when the user is revoked (the replay watermark)
 * and one decoy entry, cn=/decoy,<ldap_base> (a name no user can have), whose
 * state is sealed for "/decoy" and never holds anything of value.
 *
 * No locks: every write is one compare-and-swap modify (store_ldap_conn.h:
 * delete the exact old value, add the new one).  The state is swapped on
 * every write, and a record's change (or removal) goes in the same modify
 * (mfa_ldap_swap_many: both or neither): the state's old value is the point
 * where two writers are ordered, so a writer that lost re-reads and calls fn
 * again (the retry contract of store.h), at most MFA_STORE_LDAP_TRIES times,
 * then fails with MFA_ERR_DIR_CONFLICT.
 *
 * The key is the local key_file (store_keys.h), the same on every terminal
 * and staff machine.
 */
#ifndef MFAUTH_STORE_LDAP_H
#define MFAUTH_STORE_LDAP_H

#include "mfauth/store_backend.h"

/* Compare-and-swap attempts of one update before it gives up. */
#define MFA_STORE_LDAP_TRIES 16
/* The decoy entry's user name (cn=/decoy): '/' is refused in every user name. */
#define MFA_STORE_LDAP_DECOY "/decoy"
/* Longest password file accepted (bytes, a trailing newline included). */
#define MFA_STORE_LDAP_PW_MAX 1024

extern const struct mfa_store_ops mfa_store_ldap_ops;

#endif
