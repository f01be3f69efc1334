/*
 * The LDAP client layer of the fleet store (doc/DESIGN.md, "Directory backend"):
 * one connection to the directory, and the five operations the store backend
 * needs on the entries cn=USER,<base> of object class mfauthUser
 * (share/ldap/mfauth.schema): read, compare-and-swap one attribute, add,
 * delete, list.  It knows nothing of records, states or keys: values are
 * opaque bytes (the store seals them before they get here).
 *
 * Connection: the URIs are tried in order; the first that connects, (for
 * ldap://) completes StartTLS, and accepts the simple bind is kept.  Each
 * server gets `timeout` seconds in all for TCP connect, TLS and bind, and
 * every later operation gets `timeout` seconds.  Every option is set on the
 * handle (never ldap_set_option(NULL, ...): that is process-wide state of the
 * host process): protocol 3, no referral chasing, no alias dereferencing,
 * the CA file as the only trust anchor, certificate and name checks
 * demanded, TLS 1.2 at least, a fresh TLS context per handle.
 *
 * What libldap reads by itself, once per process, at its first use (any
 * ldap_* call; libldap's init.c): /etc/ldap/ldap.conf, then -- only when the
 * real and effective uid are equal -- $LDAPCONF, $LDAPRC, ~/ldaprc,
 * ~/.ldaprc, ./ldaprc and the LDAP* environment variables (LDAPURI,
 * LDAPTLS_REQCERT, LDAPTLS_CACERT, ...); LDAPNOINIT in the environment
 * turns all of it off.  Those become the process's defaults, copied into
 * every new handle.  For us:
 *  - the setuid helper (real uid != effective uid) reads /etc/ldap/ldap.conf
 *    only, a root-owned file: no user-controlled input;
 *  - the PAM module inside a root process reads the host's environment and
 *    root's ~/.ldaprc and ./ldaprc in its working directory; the host (and any
 *    other library in it, e.g. an NSS module using libldap) may also have set
 *    process-wide options already.  We cannot setenv("LDAPNOINIT") -- that
 *    changes the host -- so instead every option that matters for security
 *    or for failing closed is set on our handle, overriding the defaults:
 *    TLS_REQCERT, TLS_REQSAN, the CA (file set, directory cleared), client
 *    certificate cleared, TLS_PROTOCOL_MIN, the network and operation
 *    timeouts, referrals, dereferencing; a new TLS context is built from the
 *    handle's options alone.  The test tests/ldap/test_ldap_conn checks that a
 *    hostile ldap.conf (TLS_REQCERT never) does not make a wrong CA pass.
 *    Inherited and harmless to us: SASL defaults (we bind simple), BASE and
 *    URI (we always pass our own).  Inherited and NOT overridden: the TLS
 *    cipher suite (TLS_CIPHER_SUITE), the key-exchange groups (TLS_ECNAME)
 *    and TLS_CRLCHECK: a root-owned ldap.conf or a root host's environment
 *    can narrow or widen them.  They are left to the host's TLS policy
 *    because a suite string is specific to the TLS library libldap was built
 *    with (GnuTLS priority strings on Debian); the protocol minimum (TLS 1.2)
 *    and certificate checking are ours and cannot be weakened that way.
 * Fail closed: any error of any step is an error of the call; there is no
 * fallback to a weaker setting, to another identity, or to local data.
 *
 * Not thread-safe per object (one object per thread or per login); libldap
 * itself is thread-safe.  After fork(), a child must not use the parent's
 * object (open its own).
 */
#ifndef MFAUTH_STORE_LDAP_CONN_H
#define MFAUTH_STORE_LDAP_CONN_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many URIs in ldap_uri. */
#define MFA_LDAP_MAX_URIS 8
/* Longest value accepted from the directory (a sealed record is far smaller). */
#define MFA_LDAP_VALUE_MAX (256 * 1024)

struct mfa_ldap_settings {
	const char *uris;             /* whitespace-separated ldaps://, ldap:// or ldapi:// URIs */
	const char *base;             /* DN under which the user entries live */
	const char *bind_dn;          /* the terminal's or staff's own DN; required */
	const unsigned char *bind_pw; /* password bytes (not NUL-terminated) */
	size_t bind_pw_len;
	const char *ca_file;  /* PEM CA file; required when a URI uses TLS */
	bool starttls;        /* ldap:// URIs: true = StartTLS, required to succeed;
	                           false = plain text (only when configured so) */
	unsigned int timeout; /* seconds, 1..300: per server (connect+TLS+bind)
	                           and per operation */
};

/* Which attribute of an entry. */
enum mfa_ldap_attr {
	MFA_LDAP_RECORD, /* mfauthRecord */
	MFA_LDAP_STATE,  /* mfauthState */
};

/* An entry's two values as read; either may be absent (has_* false). */
struct mfa_ldap_entry {
	unsigned char *record;
	size_t record_len;
	bool has_record;
	unsigned char *state;
	size_t state_len;
	bool has_state;
};

struct mfa_ldap;

/*
 * Connect and bind (see above).  On success *out owns the connection; the
 * settings (and the password) are not kept.  Errors:
 *   MFA_ERR_CONFIG            settings unusable (no URI, bad scheme, ldap:// ...)
 *   MFA_ERR_DIR_AUTH          a server refused the bind DN and password
 *                             (the next URI is not tried: same credentials)
 *   MFA_ERR_DIR_TLS           no server answered, and at least one failed at
 *                             TLS (certificate, CA, name, StartTLS refused)
 *   MFA_ERR_DIR_UNREACHABLE   no server answered within its timeout
 *   MFA_ERR_NOMEM
 */
int mfa_ldap_open(const struct mfa_ldap_settings *s, struct mfa_ldap **out);

/* Unbind and free; NULL is fine.  Leaves no descriptor behind. */
void mfa_ldap_close(struct mfa_ldap *c);

/* The URI this connection uses (owned by c). */
const char *mfa_ldap_uri(const struct mfa_ldap *c);

/*
 * Read USER's entry.  MFA_ERR_NOENT if there is none (or the ACL hides it);
 * MFA_ERR_DIR_DENIED for an entry that shows neither value (every entry of
 * ours holds a state: the ACL hides the values); MFA_ERR_DIR for an entry or
 * a value libldap names but cannot return (never taken for "absent");
 * MFA_ERR_CORRUPT for two values of one attribute or a value over
 * MFA_LDAP_VALUE_MAX.  e is filled on success; free with mfa_ldap_entry_free.
 */
int mfa_ldap_read(struct mfa_ldap *c, const char *user, struct mfa_ldap_entry *e);

/* Wipe and free the values; e is left empty. */
void mfa_ldap_entry_free(struct mfa_ldap_entry *e);

/*
 * Compare-and-swap one attribute of USER's entry in ONE modify: delete the
 * exact old value and add the new one.  old NULL: add only (the attribute
 * must be absent); new NULL: delete only.  Errors:
 *   MFA_ERR_DIR_CONFLICT   the old value is no longer there (or, old NULL,
 *                          a value is): someone else changed it; nothing changed
 *   MFA_ERR_NOENT          no such entry
 *   MFA_ERR_DIR_DENIED     the ACL forbids this identity to change it
 *   MFA_ERR_DIR_UNREACHABLE, MFA_ERR_DIR  (after UNREACHABLE, and after a
 *                          client-side DIR failure, the connection refuses every call)
 */
int mfa_ldap_swap(struct mfa_ldap *c, const char *user, enum mfa_ldap_attr attr,
    const unsigned char *old, size_t old_len, const unsigned char *new_value, size_t new_len);

/*
 * Add USER's entry with the values given (either may be NULL: attribute
 * left out).  MFA_ERR_EXISTS if it exists; MFA_ERR_DIR_DENIED.
 */
int mfa_ldap_add(struct mfa_ldap *c, const char *user, const unsigned char *record,
    size_t record_len, const unsigned char *state, size_t state_len);

/* Delete USER's entry.  MFA_ERR_NOENT if there is none; MFA_ERR_DIR_DENIED. */
int mfa_ldap_delete(struct mfa_ldap *c, const char *user);

/*
 * Call fn(user, arg) for every mfauthUser entry directly under the base (the
 * user name taken from the entry's RDN), in pages of 256 (RFC 2696 paged
 * results), in the server's order.  fn returning non-zero stops the listing
 * and becomes the result.  An entry whose RDN is not a cn, or holds a NUL,
 * is MFA_ERR_CORRUPT.  At most `max` entries (0: no bound) before MFA_ERR_RANGE;
 * the server's size limit for this identity (slapd: 500 by default, over all
 * pages together; the sample ACL lifts it for the staff group) is also
 * MFA_ERR_RANGE.  On an error fn may already have seen some entries.  An
 * entry a page holds that libldap does not hand over is MFA_ERR_DIR, never a
 * shorter list.  A listing that stops before its last page (fn, max, an
 * error) releases the server's paged search (RFC 2696: the last cookie with
 * a page size of 0) before it returns.
 */
int mfa_ldap_list(struct mfa_ldap *c, int (*fn)(const char *user, void *arg), void *arg,
    size_t max);

/*
 * mfa_ldap_list(), with which of the two attributes each entry holds:
 * present[MFA_LDAP_RECORD], present[MFA_LDAP_STATE] (their names only, no
 * values: one paged search for the whole listing, however many entries).
 */
int mfa_ldap_list_present(struct mfa_ldap *c,
    int (*fn)(const char *user, const bool present[2], void *arg), void *arg, size_t max);

/*
 * Escape a user name as an RDN value (RFC 4514 section 2.4): the characters
 * " + , ; < > \ = with a backslash; a leading '#' or space, a trailing
 * space and every byte below 0x20 or 0x7f as \XX.  Other bytes (UTF-8) stay.
 * len bytes of val; MFA_ERR_BADNAME when empty or containing a NUL,
 * MFA_ERR_RANGE when out (outlen bytes, NUL-terminated) is too small --
 * 3 * len + 1 always suffices.
 */
int mfa_ldap_rdn_escape(const char *val, size_t len, char *out, size_t outlen);

/*
 * Compare-and-swap of up to MFA_LDAP_CAS_MAX attributes of USER's entry in
 * ONE modify, all or nothing (the store's change of a record with its
 * state): each as in mfa_ldap_swap(), the same errors; on any error
 * nothing changed.  Each attribute at most once.
 */
#define MFA_LDAP_CAS_MAX 2
struct mfa_ldap_cas {
	enum mfa_ldap_attr attr;
	const unsigned char *old; /* NULL: add only (the attribute must be absent) */
	size_t old_len;
	const unsigned char *new_value; /* NULL: delete only */
	size_t new_len;
};
int mfa_ldap_swap_many(struct mfa_ldap *c, const char *user, const struct mfa_ldap_cas *cas,
    size_t n);

/*
 * The certificate the server presented (DER, a malloc'd copy in *der, *len
 * bytes; the caller frees it), for `mfauth check` to show its expiry.
 * MFA_ERR_NOENT when the connection is not TLS (ldapi://, or ldap:// with
 * starttls off); MFA_ERR_DIR when libldap does not say.
 */
int mfa_ldap_peer_cert(struct mfa_ldap *c, unsigned char **der, size_t *len);

#endif
