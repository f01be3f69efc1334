/*
 * The systemd journal as a source of `mfauth report` (report_input.h).
 *
 * journald records who sent each entry in fields the sender cannot set
 * (_UID, from the socket's credentials).  Our lines come from root: the
 * module runs as root in login and sshd, and the setuid helper sets every
 * uid to 0 before it logs; the tool needs root.  So an entry with our
 * SYSLOG_IDENTIFIER but another _UID (a clerk's `logger -t pam_mfauth`)
 * is counted and listed as untrusted, never as an event.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "mfauth/err.h"
#include "report_input.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>

/* The value of field key ("KEY") of the current entry into out, or false. */
static bool get_field(sd_journal *j, const char *key, char *out, size_t cap, bool *too_long)
{
	const void *data;
	size_t len, klen = strlen(key);

	*too_long = false;
	if (sd_journal_get_data(j, key, &data, &len) < 0 || len < klen + 1)
		return false;
	len -= klen + 1;
	if (len >= cap) {
		*too_long = true;
		return false;
	}
	memcpy(out, (const char *)data + klen + 1, len);
	out[len] = '\0';
	return true;
}

static void one_entry(struct report_trail *r, sd_journal *j, struct report_line *pl,
    const char *source, uint64_t n)
{
	char msg[REPORT_LINE_MAX + 1], uid[32], ident[REPORT_IDENT_MAX + 1];
	const char *why = "";
	uint64_t usec = 0;
	bool long_msg = false, skip;
	int rc;

	if (!get_field(j, "SYSLOG_IDENTIFIER", ident, sizeof(ident), &skip)) {
		report_agg_other(r);
		return;
	}
	if (strcmp(ident, "pam_mfauth") != 0 && strcmp(ident, "mfauth") != 0) {
		report_agg_other(r);
		return;
	}
	/* _UID is journald's, from the sender's credentials: only root's entries count. */
	if (!get_field(j, "_UID", uid, sizeof(uid), &skip) || strcmp(uid, "0") != 0) {
		report_agg_malformed(r, source, n, "untrusted");
		return;
	}
	if (sd_journal_get_realtime_usec(j, &usec) < 0) {
		report_agg_malformed(r, source, n, "bad_timestamp");
		return;
	}
	if (!get_field(j, "MESSAGE", msg, sizeof(msg), &long_msg)) {
		report_agg_malformed(r, source, n, long_msg ? "too_long" : "no_message");
		return;
	}
	rc = report_parse_fields(msg, strlen(msg), pl, &why);
	if (rc != REPORT_PARSE_OURS || strlen(msg) != strnlen(msg, sizeof(msg))) {
		report_agg_malformed(r, source, n, why[0] != '\0' ? why : "bad_message");
		return;
	}
	pl->time = (int64_t)(usec / 1000000);
	pl->origin = strcmp(ident, "mfauth") == 0 ? REPORT_TOOL : REPORT_MODULE;
	if (!get_field(j, "_HOSTNAME", pl->host, sizeof(pl->host), &skip) || pl->host[0] == '\0')
		strcpy(pl->host, "-");
	report_agg_line(r, pl);
}

int report_input_journal(struct report_trail *r, const char *path, int *sys_errno)
{
	static struct report_line pl;
	const char *paths[2] = { path, NULL };
	sd_journal *j = NULL;
	uint64_t n = 0;
	int rc;

	*sys_errno = 0;
	rc = path != NULL ? sd_journal_open_files(&j, paths, 0) :
	                    sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (rc < 0) {
		*sys_errno = -rc;
		return -rc == ENOENT ? MFA_ERR_NOENT : MFA_ERR_IO;
	}
	/* Both idents; the rest of the journal is not read at all. */
	if (sd_journal_add_match(j, "SYSLOG_IDENTIFIER=pam_mfauth", 0) < 0 ||
	    sd_journal_add_disjunction(j) < 0 ||
	    sd_journal_add_match(j, "SYSLOG_IDENTIFIER=mfauth", 0) < 0 ||
	    sd_journal_seek_realtime_usec(j, (uint64_t)r->opt.since * 1000000) < 0) {
		sd_journal_close(j);
		*sys_errno = EIO;
		return MFA_ERR_IO;
	}
	report_agg_new_file(r);
	while ((rc = sd_journal_next(j)) > 0)
		one_entry(r, j, &pl, path != NULL ? path : "journal", ++n);
	sd_journal_close(j);
	if (rc < 0) {
		*sys_errno = -rc;
		report_agg_malformed(r, path != NULL ? path : "journal", n + 1, "read_error");
		return MFA_ERR_IO;
	}
	return 0;
}

#else

int report_input_journal(struct report_trail *r, const char *path, int *sys_errno)
{
	(void)r;
	(void)path;
	*sys_errno = ENOSYS;
	return MFA_ERR_INVAL;
}

#endif
