/*
 * mfauth enroll totp USER [--digits 6|8] [--algorithm sha1|sha256|sha512]
 *     [--period 30|60] [--secret-stdin] [--no-confirm] [--qr ansi|utf8|none]
 *     [--issuer NAME]
 *
 * A new random seed (or a base32 seed from stdin, for a hardware token), shown
 * as an otpauth:// URI and a QR code, confirmed with a code from the device,
 * and only then saved: an enrollment the clerk's device cannot reproduce
 * would lock the clerk out at the next login.  Re-enrolling replaces the TOTP
 * factor alone; the card and a pending recovery code stay.
 *
 * The seed travels only through stdin, memory (wiped on every path) and the
 * URI/QR on stdout: never argv, messages or the audit line (doc/DESIGN.md invariant 7).
 * The save itself (enroll_save.c) is shared with the imports.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "enroll_save.h"
#include "qr.h"
#include "seed_input.h"
#include "mfauth/codetext.h"
#include "mfauth/err.h"
#include "mfauth/totp.h"

#define ENROLL_USAGE \
	N_("usage: mfauth enroll totp USER [--digits 6|8] " \
	   "[--algorithm sha1|sha256|sha512] [--period 30|60] [--secret-stdin] [--no-confirm] " \
	   "[--qr ansi|utf8|none] [--issuer NAME]")

#define SEED_LINE_MAX 1024 /* one base32 line on stdin, newline excluded */
#define CODE_LINE_MAX 64
#define CONFIRM_TRIES 3
#define CONFIRM_WINDOW 1 /* steps either side while the clerk types */
#define ISSUER_MAX 64
#define B32_MAX (8 * ((MFA_SECRET_MAX + 4) / 5) + 1)
/* Label and issuer percent-encoded (3 bytes per byte at worst), seed, parameters. */
#define URI_MAX (3 * MFA_USER_MAX + 6 * ISSUER_MAX + B32_MAX + 128)

struct enroll_req {
	const char *user;
	const char *issuer;
	uint8_t digits;
	uint8_t alg;
	uint16_t period;
	bool secret_stdin;
	bool confirm;
	enum qr_style qr;
};

/* The seed length authenticator apps expect for each HMAC: the hash size. */
static size_t seed_len_for(uint8_t alg)
{
	return alg == MFA_ALG_SHA512 ? 64 : alg == MFA_ALG_SHA256 ? 32 : 20;
}

/*
 * The seed: random, or one base32 line from stdin.  A typed seed is echoed:
 * hiding it would gain nothing, as the URI printed next carries it anyway.
 */
static int obtain_seed(const struct enroll_req *req, struct mfa_totp_factor *f, const char **reason)
{
	char line[SEED_LINE_MAX + 1];
	const char *why = NULL;
	ssize_t n;
	int rc = MFA_ERR_INVAL;

	if (!req->secret_stdin) {
		f->secret_len = seed_len_for(req->alg);
		if (RAND_priv_bytes(f->secret, (int)f->secret_len) == 1)
			return 0;
		cli_error("%s", _("enroll totp: the random generator failed; nothing saved"));
		*reason = "crypto";
		return MFA_ERR_CRYPTO;
	}
	if (isatty(STDIN_FILENO)) {
		fputs(_("Base32 seed of the token: "), stderr);
		fflush(stderr);
	}
	n = cli_read_line(STDIN_FILENO, line, sizeof(line));
	if (n == LINE_EOF || n == 0)
		why = _("no seed on standard input");
	else if (n == LINE_LONG)
		why = _("seed line longer than 1024 bytes");
	else if (n == LINE_ERR)
		why = _("cannot read standard input");
	else
		rc = seed_decode(line, f, &why);
	mfa_wipe(line, sizeof(line));
	if (rc != 0) {
		cli_error(_("enroll totp: %s: %s; nothing saved"), req->user, why);
		*reason = "bad_seed";
	}
	return rc;
}

/* Append s, percent-encoding all but RFC 3986 unreserved characters. */
static bool uri_put(char *out, size_t outlen, size_t *pos, const char *s, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = !encode || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
		if (*pos + (plain ? 1 : 3) >= outlen)
			return false;
		if (plain) {
			out[(*pos)++] = (char)*p;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[*p >> 4];
			out[(*pos)++] = hex[*p & 15];
		}
	}
	out[*pos] = '\0';
	return true;
}

/*
 * otpauth://totp/ISSUER:USER?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * (the Key Uri Format authenticator apps read).  b32 and uri hold the seed.
 */
static int build_uri(const struct enroll_req *req, const struct mfa_totp_factor *f, char *b32,
    size_t b32len, char *uri, size_t urilen)
{
	const char *alg = f->alg == MFA_ALG_SHA512 ? "SHA512" :
	    f->alg == MFA_ALG_SHA256               ? "SHA256" :
	                                             "SHA1";
	char tail[80];
	size_t pos = 0;
	bool ok;

	if (mfa_base32_encode(f->secret, f->secret_len, b32, b32len) != 0)
		return MFA_ERR_RANGE;
	snprintf(tail, sizeof(tail), "&algorithm=%s&digits=%u&period=%u", alg, (unsigned)f->digits,
	    (unsigned)f->period);
	ok = uri_put(uri, urilen, &pos, "otpauth://totp/", false) &&
	    uri_put(uri, urilen, &pos, req->issuer, true) &&
	    uri_put(uri, urilen, &pos, ":", false) && uri_put(uri, urilen, &pos, req->user, true) &&
	    uri_put(uri, urilen, &pos, "?secret=", false) &&
	    uri_put(uri, urilen, &pos, b32, false) &&
	    uri_put(uri, urilen, &pos, "&issuer=", false) &&
	    uri_put(uri, urilen, &pos, req->issuer, true) &&
	    uri_put(uri, urilen, &pos, tail, false);
	return ok ? 0 : MFA_ERR_RANGE;
}

/* The URI on a line of its own (scripts grep for it), then the QR code. */
static int show_enrollment(const struct enroll_req *req, const struct mfa_totp_factor *f, char *b32,
    size_t b32len, char *uri, size_t urilen)
{
	if (build_uri(req, f, b32, b32len, uri, urilen) != 0) {
		cli_error(_("enroll totp: %s: the otpauth URI does not fit; nothing saved"),
		    req->user);
		return MFA_ERR_RANGE;
	}
	fprintf(stderr, "%s",
	    _("Add this account to the authenticator app (scan the QR code, "
	      "or enter the URI):\n"));
	fflush(stderr);
	printf("%s\n", uri);
	fflush(stdout);
	if (qr_print(stdout, uri, req->qr) != 0)
		cli_warn(_("cannot draw the QR code (%s); use the URI above"), strerror(errno));
	fflush(stdout);
	return 0;
}

/*
 * Ask for a code from the device, up to CONFIRM_TRIES times.  Returns 0 with
 * the accepted step, or an error with *reason set (nothing may be saved).
 */
static int confirm_code(const struct mfa_totp_factor *f, uint64_t *step, const char **reason)
{
	char line[CODE_LINE_MAX];
	int rc = MFA_ERR_BADCODE;

	for (int i = 1; i <= CONFIRM_TRIES; i++) {
		ssize_t n;

		fprintf(stderr,
		    _("Enter the code shown by the device to confirm (attempt %d of %d): "), i,
		    CONFIRM_TRIES);
		fflush(stderr);
		n = cli_read_line(STDIN_FILENO, line, sizeof(line));
		if (n == LINE_EOF || n == LINE_ERR) {
			fputc('\n', stderr);
			cli_error("%s",
			    _("enroll totp: no confirmation code (end of input); nothing saved"));
			*reason = "no_code";
			return MFA_ERR_IO;
		}
		if (n >= 0)
			mfa_code_strip_blanks(
			    line); /* apps show "123 456": as at the login prompt */
		rc = n < 0 ?
		    MFA_ERR_INVAL :
		    mfa_totp_verify(f, line, (uint64_t)time(NULL), CONFIRM_WINDOW, 0, step);
		mfa_wipe(line, sizeof(line));
		if (rc == 0)
			return 0;
		if (rc == MFA_ERR_INVAL)
			cli_error(_("that is not a %u-digit code"), (unsigned)f->digits);
		else if (rc == MFA_ERR_BADCODE)
			cli_error("%s", _("that code does not match"));
		else
			break;
	}
	if (rc == MFA_ERR_BADCODE || rc == MFA_ERR_INVAL) {
		cli_error(
		    _("enroll totp: no matching code after %d attempts; nothing saved. Check "
		      "that the device's clock is right and that the code is from the account "
		      "just added"),
		    CONFIRM_TRIES);
		*reason = "bad_code";
	} else {
		cli_error(_("enroll totp: cannot check the code: %s; nothing saved"),
		    cli_strerror(rc));
		*reason = mfa_errtoken(rc);
	}
	return rc;
}

static int parse_issuer(const char *s)
{
	size_t len = strlen(s);

	/* ':' separates issuer from account in the label; apps split on it. */
	if (len == 0 || len > ISSUER_MAX || strchr(s, ':') != NULL)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	return 0;
}

static int parse_one_opt(int opt, const char *arg, struct enroll_req *req)
{
	switch (opt) {
	case 'd':
		if (seed_parse_digits(arg, &req->digits) == 0)
			return 0;
		cli_error("%s", _("enroll totp: --digits must be 6 or 8"));
		break;
	case 'a':
		if (mfa_alg_parse(arg, &req->alg) == 0)
			return 0;
		cli_error("%s", _("enroll totp: --algorithm must be sha1, sha256 or sha512"));
		break;
	case 'p':
		if (seed_parse_period(arg, &req->period) == 0)
			return 0;
		cli_error("%s", _("enroll totp: --period must be 30 or 60"));
		break;
	case 'q':
		if (qr_style_parse(arg, &req->qr) == 0)
			return 0;
		cli_error("%s", _("enroll totp: --qr must be ansi, utf8 or none"));
		break;
	case 'i':
		req->issuer = arg;
		if (parse_issuer(arg) == 0)
			return 0;
		cli_error(_("enroll totp: --issuer must be 1 to %d bytes, without ':' or control "
		            "characters"),
		    ISSUER_MAX);
		break;
	case 's':
		req->secret_stdin = true;
		return 0;
	case 'n':
		req->confirm = false;
		return 0;
	default:
		break;
	}
	return -1;
}

/* argv[0] is "totp".  Options may come before or after USER. */
static int parse_totp_opts(int argc, char **argv, struct enroll_req *req)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "digits", required_argument, NULL, 'd' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "period", required_argument, NULL, 'p' },
		{ "secret-stdin", no_argument, NULL, 's' },
		{ "no-confirm", no_argument, NULL, 'n' },
		{ "qr", required_argument, NULL, 'q' },
		{ "issuer", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	static char argv0[] = "mfauth enroll totp";
	char **args;
	int opt, status = EXIT_USAGE;

	memset(req, 0, sizeof(*req));
	req->issuer = "mfauth";
	req->digits = 6;
	req->alg = MFA_ALG_SHA1;
	req->period = 30;
	req->confirm = true;
	req->qr = qr_style_default(stdout);
	/* A copy, so that getopt's own messages start with the command's name. */
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL) {
		cli_error("%s", _("enroll totp: out of memory"));
		return EXIT_FAIL;
	}
	args[0] = argv0;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	optind = 0; /* full reset: getopt already ran on another argv */
	while ((opt = getopt_long(argc, args, "", opts, NULL)) != -1)
		if (parse_one_opt(opt, optarg, req) != 0)
			goto out;
	if (argc - optind != 1)
		goto out;
	req->user = args[optind];
	status = EXIT_OK;
out:
	if (status != EXIT_OK)
		cli_error("%s", _(ENROLL_USAGE));
	free(args);
	return status;
}

/*
 * Refuse early, before the clerk scans anything, when the user's record
 * exists but cannot be read: replacing it could drop a card enrollment.
 */
static int probe_record(struct mfa_store *store, const struct enroll_req *req, const char **reason)
{
	struct mfa_record rec;
	int rc = mfa_store_load(store, req->user, &rec);
	bool had_totp = rc == 0 && rec.totp.present;

	mfa_record_wipe(&rec);
	if (rc == MFA_ERR_NOENT)
		return 0;
	if (rc != 0) {
		cli_error(_("enroll totp: %s: the existing record cannot be read (%s); not "
		            "replacing it (see `mfauth check`)"),
		    req->user, cli_strerror(rc));
		*reason = mfa_errtoken(rc);
		return rc;
	}
	if (had_totp)
		cli_warn(req->confirm ?
		        _("%s already has a TOTP factor: it is replaced once the new one is "
		          "confirmed") :
		        _("%s already has a TOTP factor: it is replaced once the new one is saved"),
		    req->user);
	return 0;
}

static void audit_enroll(const struct cli *c, const struct enroll_req *req, bool ok,
    const char *reason)
{
	char digits[8], period[8];

	snprintf(digits, sizeof(digits), "%u", (unsigned)req->digits);
	snprintf(period, sizeof(period), "%u", (unsigned)req->period);
	cli_audit(c, "enroll", req->user, ok ? "success" : "fail", reason, "factor", "totp",
	    "algorithm", mfa_alg_name(req->alg), "digits", digits, "period", period, "confirmed",
	    req->confirm ? "yes" : "no", "source", req->secret_stdin ? "stdin" : "random", NULL);
}

/*
 * After a failed save: is the new seed in place anyway?  (The rename can
 * succeed and the directory sync after it fail.)  The message must say so;
 * the confirmation code is already spent (the state is written first).
 */
static bool seed_in_place(struct mfa_store *store, const char *user,
    const struct mfa_totp_factor *f)
{
	struct mfa_record rec;
	bool same = mfa_store_load(store, user, &rec) == 0 && rec.totp.present &&
	    rec.totp.secret_len == f->secret_len &&
	    CRYPTO_memcmp(rec.totp.secret, f->secret, f->secret_len) == 0;

	mfa_record_wipe(&rec);
	return same;
}

/*
 * Save, marking the confirming code used in the same locked step: the
 * watermark is on disk before the record appears, so no login between the
 * two can use the confirmation code (security review, finding 7).
 */
static int save_enrollment(struct mfa_store *store, const struct enroll_req *req,
    const struct mfa_totp_factor *f, uint64_t step, const char **reason)
{
	int rc = enroll_save_totp(store, req->user, f, (uint64_t)time(NULL),
	    req->confirm ? step : 0);

	if (rc != 0 && seed_in_place(store, req->user, f)) {
		cli_error(
		    _("enroll totp: %s: the new seed was saved, but it could not be made "
		      "durable (%s): check with 'mfauth show' after a restart and enroll again if "
		      "it is gone"),
		    req->user, cli_strerror(rc));
		*reason = "not_durable";
		return rc;
	}
	if (rc != 0) {
		cli_error(_("enroll totp: %s: cannot save: %s; nothing saved"), req->user,
		    cli_strerror(rc));
		*reason = mfa_errtoken(rc);
	}
	return rc;
}

int cmd_enroll_totp(struct cli *c, int argc, char **argv)
{
	struct enroll_req req;
	struct mfa_store *store = NULL;
	struct mfa_totp_factor f;
	char b32[B32_MAX], uri[URI_MAX], account[MFA_USER_MAX + 1];
	const char *reason = "";
	uint64_t step = 0;
	int rc;

	if ((rc = parse_totp_opts(argc, argv, &req)) != EXIT_OK)
		return rc;
	if ((rc = cli_account(req.user, account, sizeof(account), true)) != EXIT_OK)
		return rc;
	req.user = account;
	memset(&f, 0, sizeof(f));
	memset(b32, 0, sizeof(b32));
	memset(uri, 0, sizeof(uri));
	f.digits = req.digits;
	f.alg = req.alg;
	f.period = req.period;
	rc = MFA_ERR_IO;
	if (cli_open_store(c, &store) != EXIT_OK) {
		reason = "store_error";
		goto out;
	}
	if ((rc = probe_record(store, &req, &reason)) != 0 ||
	    (rc = obtain_seed(&req, &f, &reason)) != 0)
		goto out;
	if ((rc = show_enrollment(&req, &f, b32, sizeof(b32), uri, sizeof(uri))) != 0) {
		reason = "uri_too_long";
		goto out;
	}
	mfa_wipe(b32, sizeof(b32));
	mfa_wipe(uri, sizeof(uri));
	if (req.confirm && (rc = confirm_code(&f, &step, &reason)) != 0)
		goto out;
	if ((rc = save_enrollment(store, &req, &f, step, &reason)) != 0)
		goto out;
	printf(_("enrolled totp for %s (%s, %u digits, %u s, %s)\n"), req.user, mfa_alg_name(f.alg),
	    (unsigned)f.digits, (unsigned)f.period,
	    req.confirm ? _("confirmed") : _("not confirmed"));
out:
	audit_enroll(c, &req, rc == 0, reason);
	mfa_wipe(&f, sizeof(f));
	mfa_wipe(b32, sizeof(b32));
	mfa_wipe(uri, sizeof(uri));
	mfa_store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
