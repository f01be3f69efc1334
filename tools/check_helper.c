/*
 * mfauth check, part 8: the setuid helper (mfauth-verify(8)).  PAM callers
 * that are not root (screen lockers, su or sudo run by a clerk) cannot read
 * the store; the module hands them to the helper, and refuses them when the
 * file at the config's `helper` cannot work (pam_module/helper_client.c,
 * helper_unusable()).  Here the same conditions are looked at ahead of time,
 * plus what the module cannot see at login: a directory on the way that
 * others can write (anyone could swap the program root runs).
 *
 * Severities: a missing helper is a warning (a site may remove it on
 * purpose when every PAM caller is root; callers that are not root are then
 * refused, fail closed); a helper that is there but cannot work (not root's,
 * not setuid, not executable by others, on a nosuid mount) is an error, the
 * install is broken; one that others can replace is critical.  The path is
 * the config's, the one the module runs: no other path is trusted here.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "check.h"
#include "mfauth/err.h"
#include "mfauth/safefile.h"

/* The file's own owner, type and mode; returns the worst severity reported. */
static enum sev helper_modes(struct report *r, const char *path, const struct stat *st)
{
	mode_t mode = st->st_mode & 07777;
	enum sev worst = SEV_OK;

	if (!S_ISREG(st->st_mode)) {
		check_report(r, SEV_ERROR, "helper", path, "%s",
		    _("not a regular file: PAM callers that are not root (screen lockers, su or "
		      "sudo run by a clerk) are refused"));
		return SEV_ERROR;
	}
	if ((mode & 0022) != 0) {
		check_report(r, SEV_CRITICAL, "helper", path,
		    _("writable by group or others (mode %04o): anyone can replace the program "
		      "the module runs as root; chmod 4755"),
		    (unsigned)mode);
		worst = SEV_CRITICAL;
	}
	if (st->st_uid != 0) {
		check_report(r, SEV_ERROR, "helper", path,
		    _("owned by uid %u, not root: the module refuses it, so PAM callers that are "
		      "not root are refused; chown root"),
		    (unsigned)st->st_uid);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	if ((mode & S_ISUID) == 0 || (mode & S_IXOTH) == 0) {
		check_report(r, SEV_ERROR, "helper", path,
		    _("mode %04o is not setuid and executable by others: the module refuses it, "
		      "so PAM callers that are not root are refused; chmod 4755"),
		    (unsigned)mode);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	return worst;
}

/* The helper (check.h). */
void check_helper(struct report *r, const char *path)
{
	struct mfa_path_error perr = { "" };
	char real[PATH_MAX], name[NAME_MAX + 1];
	struct statvfs vfs;
	struct stat st;
	enum sev worst;
	int dirfd;

	/* stat() and execve() follow a symbolic link: judge what they reach. */
	if (realpath(path, real) == NULL || stat(real, &st) != 0) {
		if (errno == ENOENT)
			check_report(r, SEV_WARNING, "helper", path, "%s",
			    _("missing: PAM callers that are not root (screen lockers, su or sudo "
			      "run by a clerk) are refused; reinstall mfauth-verify setuid root"));
		else
			check_report(r, SEV_ERROR, "helper", path, _("cannot stat: %s"),
			    strerror(errno));
		return;
	}
	worst = helper_modes(r, path, &st);
	dirfd = mfa_open_trusted_parent(real, name, &perr);
	if (dirfd >= 0) {
		close(dirfd);
	} else {
		check_report(r, dirfd == MFA_ERR_UNSAFE ? SEV_CRITICAL : SEV_ERROR, "helper", path,
		    _("%s: anyone who can write there can swap the program the module runs as "
		      "root"),
		    perr.msg);
		if (worst < SEV_ERROR)
			worst = SEV_ERROR;
	}
	if (statvfs(real, &vfs) != 0) {
		check_report(r, SEV_ERROR, "helper", path, _("cannot statvfs: %s"),
		    strerror(errno));
		return;
	}
	if ((vfs.f_flag & ST_NOSUID) != 0) {
		check_report(r, SEV_ERROR, "helper", path, "%s",
		    _("on a file system mounted nosuid: the setuid bit has no effect and the "
		      "module refuses it, so PAM callers that are not root are refused; install "
		      "it on a file system without nosuid"));
		return;
	}
	if (worst == SEV_OK)
		check_report(r, SEV_OK, "helper", path,
		    _("root-owned, setuid, mode %04o, not on a "
		      "nosuid file system"),
		    (unsigned)(st.st_mode & 07777));
}
