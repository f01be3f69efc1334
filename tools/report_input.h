/*
 * `mfauth report`'s sources: syslog text files (plain or gzip, told apart
 * by their bytes, not their names) and the systemd journal.  Each line or
 * entry ends in exactly one of report_agg_line, report_agg_other or
 * report_agg_malformed: nothing read is dropped uncounted.
 */
#ifndef MFAUTH_REPORT_INPUT_H
#define MFAUTH_REPORT_INPUT_H

#include "report_agg.h"

/*
 * Read one syslog file into r, line by line (never the whole file in
 * memory).  RFC 3164 stamps take their year from the file's mtime.
 * 0, or MFA_ERR_IO / MFA_ERR_NOENT (the file could not be opened or read:
 * *sys_errno says why; lines read before a read error are kept).
 */
int report_input_file(struct report_trail *r, const char *path, int *sys_errno);

/*
 * Read the journal into r: the system's (path NULL) or one journal file
 * (FILE.journal, e.g. made by systemd-journal-remote on a collector), from
 * the period's start on, entries of SYSLOG_IDENTIFIER pam_mfauth and mfauth
 * only.  An entry counts when journald says root sent it (_UID=0);
 * otherwise it is counted and listed as untrusted.  The host (_HOSTNAME)
 * is the terminal.  0, MFA_ERR_NOENT / MFA_ERR_IO (*sys_errno says why),
 * or MFA_ERR_INVAL with *sys_errno ENOSYS when built without libsystemd.
 */
int report_input_journal(struct report_trail *r, const char *path, int *sys_errno);

#endif
