/*
 * The account a typed name stands for, through NSS (issue 12 finding 2).
 *
 * Contract: the module keys the store by the account name NSS returns for
 * the typed name (pw_name), so aliases and case variants that SSSD maps to
 * one account share its enrollment and lock; a name NSS does not know is an
 * unknown user at login (the decoy path).  The tool may enroll a name NSS
 * does not know yet, with a warning; it is keyed as given and must be the
 * name NSS will return.
 *
 * Re-entrant (getpwnam_r with a heap buffer, never getpwnam): the module
 * calls this inside other people's processes.
 */
#ifndef MFAUTH_ACCOUNT_H
#define MFAUTH_ACCOUNT_H

#include <stddef.h>

/* The lookup buffer starts at the system's suggestion and doubles up to this. */
#define MFA_NSS_BUF_MAX (1024 * 1024)

/*
 * Look typed up with getpwnam_r and copy the account's pw_name into out
 * (cap bytes).  0: found; MFA_ERR_NOENT: NSS does not know the name;
 * MFA_ERR_NSS: the lookup failed (a source down, ERANGE past
 * MFA_NSS_BUF_MAX, an error other than "not found"), *sys_errno says which;
 * MFA_ERR_BADNAME: typed or the returned pw_name is not a name the store
 * takes (mfa_name_check), or pw_name does not fit in cap; MFA_ERR_NOMEM.
 * out is "" on any failure.
 */
int mfa_account_name(const char *typed, char *out, size_t cap, int *sys_errno);

#endif
