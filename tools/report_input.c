/*
 * Syslog text files for `mfauth report` (report_input.h).  zlib's gzread
 * reads plain files as they are, so auth.log, auth.log.1 and
 * auth.log.2.gz go through one path.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mfauth/err.h"
#include "report_input.h"

/* Room for the longest line we accept, its newline and the NUL. */
#define READ_BUF (REPORT_LINE_MAX + 2)

static void one_line(struct report_trail *r, struct report_line *pl, const char *path,
    uint64_t lineno, const char *line, size_t len, int64_t ref)
{
	const char *why = "";
	int rc = report_parse_syslog(line, len, ref, pl, &why);

	if (rc == REPORT_PARSE_OURS)
		report_agg_line(r, pl);
	else if (rc == REPORT_PARSE_OTHER)
		report_agg_other(r);
	else
		report_agg_malformed(r, path, lineno, why);
}

int report_input_file(struct report_trail *r, const char *path, int *sys_errno)
{
	static struct report_line pl; /* 8 KiB: not on the stack */
	char buf[READ_BUF];
	struct stat st;
	uint64_t lineno = 0;
	gzFile gz = NULL;
	int fd, rc = MFA_ERR_IO;

	*sys_errno = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*sys_errno = errno;
		return errno == ENOENT ? MFA_ERR_NOENT : MFA_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*sys_errno = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return MFA_ERR_IO;
	}
	gz = gzdopen(fd, "rb");
	if (gz == NULL) {
		*sys_errno = ENOMEM;
		close(fd);
		return MFA_ERR_IO;
	}
	gzbuffer(gz, 128 * 1024);
	report_agg_new_file(r);
	for (;;) {
		size_t len;
		bool whole;

		if (gzgets(gz, buf, sizeof(buf)) == NULL)
			break;
		lineno++;
		len = strlen(buf);
		whole = len > 0 && buf[len - 1] == '\n';
		if (whole)
			len--;
		if (!whole && len == sizeof(buf) - 1) {
			/* Longer than any line of ours: skip to its end, count it once. */
			int c;
			while ((c = gzgetc(gz)) != -1 && c != '\n')
				;
			report_agg_malformed(r, path, lineno, "too_long");
			continue;
		}
		/* Not whole and not the end: a NUL byte inside the line stopped strlen. */
		if (!whole && !gzeof(gz)) {
			report_agg_malformed(r, path, lineno, "nul_byte");
			continue;
		}
		one_line(r, &pl, path, lineno, buf, len, (int64_t)st.st_mtime);
	}
	{
		int zerr = Z_OK;
		gzerror(gz, &zerr);
		rc = 0;
		/* A gzip file cut short (Z_BUF_ERROR): its lines count, the cut is listed. */
		if (zerr == Z_BUF_ERROR) {
			report_agg_malformed(r, path, lineno + 1, "truncated_gzip");
		} else if (zerr != Z_OK) {
			*sys_errno = EIO;
			report_agg_malformed(r, path, lineno + 1, "read_error");
			rc = MFA_ERR_IO;
		}
	}
	gzclose(gz);
	return rc;
}
