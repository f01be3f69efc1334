/*
 * mfauth enroll card USER [--reader NAME] [--profile jpki|piv] [--ca FILE|--no-ca]
 *
 * Reads the card's authentication certificate (JPKI user authentication,
 * PIV 9A), shows who it names and until when, checks it (parses, key fits
 * the profile, within validity, optionally chains to --ca), then asks for
 * the PIN and makes one test signature through the same code a login uses
 * before anything is saved: a wrong card or a broken reader is caught here.
 * The record keeps the public key, fingerprint, subject, serial and dates,
 * and the card's identifier that logins compare before asking for the PIN
 * (JPKI: certificate serial and issuer; PIV: the CHUID, else the key).
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mfauth/card_auth.h"
#include "mfauth/card_cert.h"
#include "mfauth/err.h"
#include "mfauth/card_pcsc.h"

/*
 * Without the chain check anything that answers like a My Number card can
 * be enrolled (a home-made emulator: issue 12 finding 6), and the JPKI CA
 * certificate is public, so leaving it out has to be said (--no-ca).
 */
#define JPKI_NEEDS_CA \
	N_("a My Number card (JPKI) is enrolled with --ca FILE, the JPKI " \
	   "user-authentication CA certificate that J-LIS publishes on its JPKI portal, or " \
	   "with --no-ca to skip that check on purpose")

/* Wait this long for a card at enrollment when the config says not to wait. */
#define ENROLL_CARD_WAIT 10

struct card_req {
	struct mfa_config cfg; /* card_profiles limits which card types are tried */
	const char *user;
	const char *reader;
	const char *ca;
	bool no_ca;      /* --no-ca: a JPKI card without the chain check, on purpose */
	uint8_t profile; /* 0: try JPKI, then PIV */
};

static int parse_args(struct cli *c, int argc, char **argv, struct card_req *req)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "profile", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "no-ca", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int opt;

	memset(req, 0, sizeof(*req));
	req->cfg = c->cfg;
	req->reader = c->cfg.card_reader;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r') {
			req->reader = optarg;
		} else if (opt == 'c') {
			req->ca = optarg;
		} else if (opt == 'n') {
			req->no_ca = true;
		} else if (opt == 'p' && strcmp(optarg, "jpki") == 0) {
			req->profile = MFA_CARD_JPKI;
		} else if (opt == 'p' && strcmp(optarg, "piv") == 0) {
			req->profile = MFA_CARD_PIV;
		} else {
			if (opt == 'p')
				cli_error(_("--profile: '%s' is not jpki or piv"), optarg);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || (req->ca != NULL && req->no_ca))
		return EXIT_USAGE;
	if (req->profile == MFA_CARD_JPKI && req->ca == NULL && !req->no_ca) {
		cli_error("%s", _(JPKI_NEEDS_CA));
		return EXIT_USAGE;
	}
	req->user = argv[optind];
	return cli_check_user(req->user);
}

/* The PIN from the terminal with echo off, or a line of stdin when scripted. */
static int ask_pin(void *ctx, uint8_t profile, int tries_left, char **pin)
{
	struct termios old, quiet;
	char line[64];
	bool tty = isatty(STDIN_FILENO) != 0;
	ssize_t n;

	(void)ctx;
	*pin = NULL;
	fprintf(stderr,
	    ngettext("%s%s (%d try left): ", "%s%s (%d tries left): ",
	        tries_left < 0 ? 0UL : (unsigned long)tries_left),
	    profile == MFA_CARD_JPKI ? _("My Number card PIN (4-digit user authentication PIN)") :
	                               _("Card PIN"),
	    tty ? "" : _(" [from stdin]"), tries_left);
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = cli_read_line(STDIN_FILENO, line, sizeof(line));
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0 || (*pin = strdup(line)) == NULL) {
		mfa_wipe(line, sizeof(line));
		return n < 0 ? MFA_ERR_INVAL : MFA_ERR_NOMEM;
	}
	mfa_wipe(line, sizeof(line));
	return 0;
}

static int reset_card(void *ctx)
{
	return mfa_pcsc_reset(ctx);
}

static void show_certificate(const struct mfa_cert_info *info, uint8_t profile)
{
	char from[40], until[40];

	cli_format_time(info->not_before, from, sizeof(from));
	cli_format_time(info->not_after, until, sizeof(until));
	printf(_("card:        %s, %s key\n"),
	    profile == MFA_CARD_JPKI ? _("My Number card (JPKI user authentication)") :
	                               _("PIV (key 9A)"),
	    info->key_desc);
	printf(_("subject:     %s\n"), info->subject);
	printf(_("serial:      %s\n"), info->serial);
	printf(_("valid:       %s .. %s\n"), from, until);
	printf("%s", _("fingerprint: "));
	for (size_t i = 0; i < sizeof(info->fingerprint); i++)
		printf("%02X%s", info->fingerprint[i],
		    i + 1 < sizeof(info->fingerprint) ? ":" : "\n");
	/* Before the PIN prompt (on stderr), even when stdout is a pipe. */
	fflush(stdout);
}

/* What logins compare before they ask for the PIN (a guard, not a proof). */
static void show_card_check(uint8_t id_kind)
{
	const char *what = id_kind == MFA_CARD_ID_CERT ? _("certificate serial number and issuer") :
	    id_kind == MFA_CARD_ID_CHUID               ? _("CHUID (FASC-N and card GUID)") :
	                                                 _("public key of the certificate");

	printf(_("checked before the PIN: %s\n"), what);
	fflush(stdout);
}

/*
 * Select the profile (or find which one the card has), read its certificate
 * and its identifier (into idf's id fields only).
 */
static int read_card(struct mfa_pcsc *session, struct card_req *req, uint8_t *der, size_t cap,
    size_t *len, struct mfa_card_factor *idf)
{
	static const uint8_t order[] = { MFA_CARD_JPKI, MFA_CARD_PIV };
	struct mfa_card card;
	struct mfa_card_io io;
	int rc = MFA_ERR_NOAPP;

	mfa_pcsc_io(session, &io);
	for (size_t i = 0; i < sizeof(order); i++) {
		if ((req->profile != 0 && req->profile != order[i]) ||
		    !mfa_config_profile_allowed(&req->cfg, order[i]))
			continue;
		if ((rc = mfa_card_open(&card, &io, order[i])) == MFA_ERR_NOAPP)
			continue;
		if (rc == 0 && (rc = mfa_card_read_certificate(&card, der, cap, len)) == 0 &&
		    (rc = mfa_card_enroll_id(&card, der, *len, idf)) == 0)
			req->profile = order[i];
		return rc;
	}
	return rc;
}

/* Parse and check what the card presented; fills the factor to record. */
static int check_certificate(const struct card_req *req, const uint8_t *der, size_t len,
    uint64_t now, struct mfa_card_factor *f)
{
	struct mfa_cert_info info;
	int rc;

	if ((rc = mfa_cert_parse(der, len, &info)) != 0) {
		cli_error(_("the card's certificate cannot be parsed (%s)"), cli_strerror(rc));
		return rc;
	}
	show_certificate(&info, req->profile);
	if ((rc = mfa_cert_check_profile(&info, req->profile)) != 0)
		cli_error(_("the card's key (%s) is not allowed for this card type"),
		    info.key_desc);
	else if ((rc = mfa_cert_check_time(&info, now)) != 0)
		cli_error("%s", _("the certificate is not valid now (expired or not yet valid)"));
	else if (req->profile == MFA_CARD_JPKI && req->ca == NULL && !req->no_ca) {
		cli_error("%s", _(JPKI_NEEDS_CA));
		rc = MFA_ERR_UNTRUSTED;
	} else if (req->ca != NULL && (rc = mfa_cert_check_chain(der, len, req->ca, now)) != 0)
		cli_error(_("the certificate does not chain to %s (%s)"), req->ca,
		    cli_strerror(rc));
	else
		rc = mfa_cert_to_factor(&info, req->profile, now, f);
	return rc;
}

/* Open a session, read and check the certificate, and prove the card with the PIN. */
static int enroll_from_card(struct cli *c, struct card_req *req, uint64_t now,
    struct mfa_card_factor *f)
{
	struct mfa_pcsc *session = NULL;
	struct mfa_card_outcome out;
	struct mfa_card_hooks hooks = { ask_pin, reset_card, NULL };
	struct mfa_card_io io;
	uint8_t *der = malloc(MFA_CERT_MAX);
	struct mfa_card_factor *idf = calloc(1, sizeof(*idf));
	size_t len = 0;
	unsigned wait = c->cfg.card_wait ? c->cfg.card_wait : ENROLL_CARD_WAIT;
	int rc;

	if (der == NULL || idf == NULL) {
		free(der);
		free(idf);
		return MFA_ERR_NOMEM;
	}
	if (req->reader[0])
		fprintf(stderr, _("Waiting up to %u s for a card in a reader matching %s...\n"),
		    wait, req->reader);
	else
		fprintf(stderr, _("Waiting up to %u s for a card...\n"), wait);
	if ((rc = mfa_pcsc_open(&session, req->reader, wait)) != 0) {
		cli_error(_("no card: %s"), cli_strerror(rc));
		goto out;
	}
	hooks.ctx = session;
	if ((rc = read_card(session, req, der, MFA_CERT_MAX, &len, idf)) != 0) {
		cli_error(_("cannot read the card's certificate or identifier: %s"),
		    cli_strerror(rc));
		goto out;
	}
	if ((rc = check_certificate(req, der, len, now, f)) != 0)
		goto out;
	f->id_kind = idf->id_kind;
	memcpy(f->id, idf->id, idf->id_len);
	f->id_len = idf->id_len;
	show_card_check(f->id_kind);
	/* The same path as a login: tries guard, PIN, host challenge, signature check. */
	mfa_pcsc_io(session, &io);
	rc = mfa_card_login(f, &io, &hooks, c->cfg.card_min_tries, now, &out);
	if (rc == MFA_ERR_BADPIN)
		cli_error(ngettext("wrong PIN (%d try left); nothing saved",
		              "wrong PIN (%d tries left); nothing saved",
		              out.tries_left < 0 ? 0UL : (unsigned long)out.tries_left),
		    out.tries_left);
	else if (rc == MFA_ERR_PIN_TRIES)
		cli_error(ngettext("only %d PIN try left: not trying the PIN (reset the PIN first)",
		              "only %d PIN tries left: not trying the PIN (reset the PIN first)",
		              out.tries_left < 0 ? 0UL : (unsigned long)out.tries_left),
		    out.tries_left);
	else if (rc != 0)
		cli_error(_("test signature failed: %s; nothing saved"), cli_strerror(rc));
out:
	mfa_pcsc_close(session);
	free(der);
	free(idf);
	return rc;
}

struct card_change {
	const struct mfa_card_factor *f;
	uint64_t now;
};

/* Under the user's lock: replace only the card factor.  Retry-safe: changes only rec. */
static int change_card(struct mfa_record *rec, bool exists, struct mfa_state *st, void *ctx)
{
	const struct card_change *c = ctx;

	(void)st;
	if (!exists)
		rec->created_at = c->now;
	rec->card = *c->f;
	return MFA_CHANGE_RECORD;
}

int cmd_enroll_card(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	struct mfa_record rec;
	struct mfa_card_factor f;
	struct card_req req;
	char account[MFA_USER_MAX + 1];
	uint64_t now = (uint64_t)time(NULL);
	int rc;

	if ((rc = parse_args(c, argc, argv, &req)) != EXIT_OK) {
		cli_error("%s",
		    _("usage: mfauth enroll card USER [--reader NAME] [--profile jpki|piv] "
		      "[--ca FILE|--no-ca]"));
		return rc;
	}
	if ((rc = cli_account(req.user, account, sizeof(account), true)) != EXIT_OK)
		return rc;
	req.user = account;
	memset(&rec, 0, sizeof(rec));
	memset(&f, 0, sizeof(f));
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	/*
	 * Never replace a record we cannot read: it may hold other factors.
	 * (Asked before the card is read; the change itself re-reads the
	 * record under the user's lock, so a concurrent command loses nothing.)
	 */
	rc = mfa_store_load(store, req.user, &rec);
	mfa_record_wipe(&rec);
	if (rc != 0 && rc != MFA_ERR_NOENT) {
		cli_error(_("%s: existing record unreadable: %s"), req.user, cli_strerror(rc));
		goto out;
	}
	if ((rc = enroll_from_card(c, &req, now, &f)) != 0)
		goto out;
	if ((rc = mfa_store_change(store, req.user, true, change_card,
	         &(struct card_change){ &f, now })) != 0)
		cli_error(_("%s: cannot save: %s"), req.user, cli_strerror(rc));
out:
	if (rc == 0)
		printf(_("enrolled card for %s\n"), req.user);
	cli_audit(c, "enroll", req.user, rc == 0 ? "success" : "fail", rc ? mfa_errtoken(rc) : "",
	    "factor", "card", "profile",
	    req.profile == MFA_CARD_JPKI    ? "jpki" :
	        req.profile == MFA_CARD_PIV ? "piv" :
	                                      "",
	    "serial", rc == 0 ? f.serial : "", "card_check",
	    rc == 0 ? mfa_card_id_token(f.id_kind) : "", NULL);
	mfa_record_wipe(&rec);
	mfa_store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
