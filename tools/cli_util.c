/* Helpers shared by the tool's commands: messages, store opening, audit. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mfauth/account.h"
#include "mfauth/audit.h"
#include "mfauth/err.h"
#include "mfauth/recovery.h"
#include "mfauth/text.h"

#define IDENT "mfauth"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("mfauth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "mfauth: %s", _("warning: "));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_open_store(struct cli *c, struct mfa_store **store)
{
	struct mfa_path_error perr = { "" };
	int rc = mfa_store_open(&c->cfg, store, &perr);
	if (rc != 0) {
		cli_error(_("cannot open the store: %s (%s)"),
		    perr.msg[0] ? perr.msg : c->cfg.store_dir, mfa_strerror(rc));
		cli_audit(c, "store_error", "", "fail", mfa_errtoken(rc), NULL);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_check_user(const char *user)
{
	if (mfa_name_check(user) != 0) {
		cli_error(_("user name not acceptable (empty, over %d bytes, '/', '.', '..', "
		            "control characters or invalid UTF-8)"),
		    MFA_USER_MAX);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cli_account(const char *typed, char *out, size_t cap, bool enrolling)
{
	int rc, sys_errno = 0;

	if (cli_check_user(typed) != EXIT_OK)
		return EXIT_USAGE;
	rc = mfa_account_name(typed, out, cap, &sys_errno);
	if (rc == 0) {
		if (strcmp(typed, out) != 0)
			cli_warn(_("'%s' is the account '%s' in the user database: using '%s'"),
			    typed, out, out);
		return EXIT_OK;
	}
	if (rc == MFA_ERR_NOENT && strlen(typed) < cap) {
		memcpy(out, typed, strlen(typed) + 1);
		if (enrolling)
			cli_warn(
			    _("'%s' is not known to this system's user database: enrolled as "
			      "given (fine for directory users that appear later, if it is the "
			      "name the directory will return)"),
			    typed);
		return EXIT_OK;
	}
	if (rc == MFA_ERR_NSS)
		cli_error(_("cannot look up '%s' in the user database: %s"), typed,
		    strerror(sys_errno));
	else if (rc == MFA_ERR_BADNAME || rc == MFA_ERR_NOENT)
		cli_error(_("'%s': the user database returned an account name the store cannot "
		            "take (%s)"),
		    typed, cli_strerror(MFA_ERR_BADNAME));
	else
		cli_error(_("cannot look up '%s' in the user database: %s"), typed,
		    cli_strerror(rc));
	return EXIT_FAIL;
}

void cli_audit(const struct cli *c, const char *event, const char *user, const char *result,
    const char *reason, ...)
{
	struct mfa_audit_field f[16];
	size_t n = 0;
	const char *sudo_user = getenv("SUDO_USER");
	char uid[16], loginuid[16] = "";
	FILE *lf;
	va_list ap;

	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	if ((lf = fopen("/proc/self/loginuid", "re")) != NULL) {
		if (fgets(loginuid, sizeof(loginuid), lf) == NULL)
			loginuid[0] = '\0';
		loginuid[strcspn(loginuid, "\n")] = '\0';
		fclose(lf);
	}
	(void)c;
	f[n++] = (struct mfa_audit_field){ "event", event };
	f[n++] = (struct mfa_audit_field){ "result", result };
	f[n++] = (struct mfa_audit_field){ "user", user };
	f[n++] = (struct mfa_audit_field){ "reason", reason ? reason : "" };
	va_start(ap, reason);
	for (;;) {
		const char *k = va_arg(ap, const char *), *v;
		if (k == NULL || n + 4 >= sizeof(f) / sizeof(f[0]))
			break;
		v = va_arg(ap, const char *);
		f[n++] = (struct mfa_audit_field){ k, v };
	}
	va_end(ap);
	f[n++] = (struct mfa_audit_field){ "op_uid", uid };
	f[n++] = (struct mfa_audit_field){ "op_sudo_user", sudo_user ? sudo_user : "" };
	f[n++] = (struct mfa_audit_field){ "op_loginuid", loginuid };
	mfa_audit(strcmp(result, "fail") == 0 ? MFA_LOG_WARNING : MFA_LOG_NOTICE, IDENT, f, n);
	{
		char op[64];
		snprintf(op, sizeof(op), "mfauth-%s", event);
		mfa_kaudit_mgmt(op, user, strcmp(result, "success") == 0);
	}
}

void cli_format_time(uint64_t t, char *out, size_t outlen)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t == 0 || t > (uint64_t)253402300799ULL || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/*
 * Control bytes and DEL as \u00XX; valid UTF-8 as is; a byte that does not
 * start valid UTF-8 (or starts a C1 control) as U+FFFD, so the output is
 * always valid JSON in UTF-8 whatever bytes a PAM item or card held.
 */
void cli_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;

	fputc('"', f);
	for (; *p; p += n, left -= n) {
		n = mfa_utf8_seq_len(p, left);
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (n == 0)
			fputs("\\ufffd", f);
		else
			fwrite(p, 1, n, f);
		if (n == 0)
			n = 1;
	}
	fputc('"', f);
}

int cli_parse_duration(const char *s, uint64_t *secs)
{
	char *end = NULL;
	unsigned long long v, mult = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return MFA_ERR_INVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return MFA_ERR_RANGE;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		return MFA_ERR_INVAL;
	if (v > UINT64_MAX / mult)
		return MFA_ERR_RANGE;
	*secs = v * mult;
	return 0;
}

/*
 * Read one line from fd a byte at a time: nothing past the newline is taken
 * (the confirmation code follows a seed on the same stdin) and no stdio
 * buffer keeps a copy of the seed.  Returns the length, newline and a
 * trailing CR removed, or LINE_EOF (end of input before any byte), LINE_LONG
 * (the line did not fit in outmax - 1 bytes; the rest of it is discarded) or
 * LINE_ERR.
 */
ssize_t cli_read_line(int fd, char *out, size_t outmax)
{
	size_t n = 0;
	bool any = false, overflow = false;
	char ch = 0;

	for (;;) {
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return LINE_ERR;
		if (r == 0 || ch == '\n') {
			any = any || r > 0;
			break;
		}
		any = true;
		if (n + 1 < outmax)
			out[n++] = ch;
		else
			overflow = true;
	}
	ch = 0;
	out[n] = '\0';
	if (overflow) {
		mfa_wipe(out, outmax);
		return LINE_LONG;
	}
	if (!any)
		return LINE_EOF;
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	return (ssize_t)n;
}

/* Parse "USER [--reason TEXT] [--ttl D]"; ttl may be NULL when not accepted. */
int cli_staff_args(int argc, char **argv, const char **user, const char **reason, uint64_t *ttl)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int opt;

	*reason = "";
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r') {
			*reason = optarg;
		} else if (opt == 't' && ttl != NULL) {
			if (cli_parse_duration(optarg, ttl) != 0 || *ttl == 0 ||
			    *ttl > MFA_RECOVERY_TTL_MAX) {
				cli_error(_("--ttl: '%s' is not a duration from 1s to 7d "
				            "(e.g. 90m, 24h, 7d)"),
				    optarg);
				return EXIT_USAGE;
			}
		} else {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return EXIT_USAGE;
	/* The account NSS returns keys the store (a tool runs one command: static is fine). */
	static char account[MFA_USER_MAX + 1];
	*user = account;
	return cli_account(argv[optind], account, sizeof(account), false);
}
