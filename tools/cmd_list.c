/*
 * mfauth list / show: enrolled users, their factors and lock state.
 * Never prints a secret; --json for scripts (fields as in doc/DESIGN.md §3).
 */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mfauth/card_auth.h"
#include "mfauth/err.h"
#include "mfauth/lockout.h"
#include "mfauth/text.h"
#include "mfauth/totp.h"

struct user_view {
	const char *user;
	struct mfa_record rec;
	struct mfa_state st;
	int state_rc;
	bool locked;
};

static int load_view(struct cli *c, struct mfa_store *store, const char *user, struct user_view *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	v->user = user;
	if ((rc = mfa_store_load(store, user, &v->rec)) != 0)
		return rc;
	/* Seeds are not needed to describe a user: drop them at once. */
	mfa_wipe(v->rec.totp.secret, sizeof(v->rec.totp.secret));
	mfa_wipe(v->rec.recovery.hash, sizeof(v->rec.recovery.hash));
	v->state_rc = mfa_store_read_state(store, user, &v->st);
	v->locked = v->state_rc == 0 && mfa_lockout_active(&c->cfg, &v->st, (uint64_t)time(NULL));
	return 0;
}

static void print_json(const struct user_view *v, FILE *f)
{
	bool first = true;

	fputs("{\"user\":", f);
	cli_json_string(f, v->user);
	fputs(",\"factors\":[", f);
	if (v->rec.totp.present) {
		fputs("\"totp\"", f);
		first = false;
	}
	if (v->rec.card.present)
		fputs(first ? "\"card\"" : ",\"card\"", f);
	fputs("]", f);
	if (v->state_rc != 0) {
		fputs(",\"state_error\":", f);
		cli_json_string(f, mfa_strerror(v->state_rc));
	}
	fprintf(f, ",\"failures\":%u,\"failures_total\":%u,\"locked\":%s,\"locked_until\":",
	    v->st.failures, v->st.failures_total, v->locked ? "true" : "false");
	if (v->locked && v->st.locked_until != MFA_LOCK_FOREVER)
		fprintf(f, "%llu", (unsigned long long)v->st.locked_until);
	else
		fputs("null", f);
	fprintf(f, ",\"locked_until_staff\":%s",
	    v->locked && v->st.locked_until == MFA_LOCK_FOREVER ? "true" : "false");
	fprintf(f, ",\"last_failure\":%llu,\"last_success\":%llu",
	    (unsigned long long)v->st.last_failure, (unsigned long long)v->st.last_success);
	fputs(",\"last_failure_service\":", f);
	cli_json_string(f, v->st.fail_service);
	fputs(",\"last_failure_tty\":", f);
	cli_json_string(f, v->st.fail_tty);
	fputs(",\"last_failure_rhost\":", f);
	cli_json_string(f, v->st.fail_rhost);
	if (v->rec.totp.present)
		fprintf(f,
		    ",\"totp\":{\"algorithm\":\"%s\",\"digits\":%u,\"period\":%u,"
		    "\"enrolled_at\":%llu}",
		    mfa_alg_name(v->rec.totp.alg), v->rec.totp.digits, v->rec.totp.period,
		    (unsigned long long)v->rec.totp.enrolled_at);
	if (v->rec.card.present) {
		fprintf(f, ",\"card\":{\"profile\":\"%s\",\"subject\":",
		    v->rec.card.profile == MFA_CARD_JPKI ? "jpki" : "piv");
		cli_json_string(f, v->rec.card.subject);
		fputs(",\"serial\":", f);
		cli_json_string(f, v->rec.card.serial);
		fprintf(f, ",\"card_check\":\"%s\"", mfa_card_id_token(v->rec.card.id_kind));
		fprintf(f, ",\"not_after\":%llu,\"enrolled_at\":%llu}",
		    (unsigned long long)v->rec.card.not_after,
		    (unsigned long long)v->rec.card.enrolled_at);
	}
	fputs("}", f);
}

/*
 * Where the last failure came from.  PAM_SERVICE, PAM_TTY and PAM_RHOST are
 * whatever the application (or a remote client) set: shown as certificate
 * subjects are, printable ASCII only, so no escape sequence reaches the
 * operator's terminal (issue 12 finding 5).
 */
static void print_failure_source(const struct mfa_state *st, const char *when)
{
	char service[sizeof(st->fail_service)], tty[sizeof(st->fail_tty)];
	char rhost[sizeof(st->fail_rhost)];

	mfa_text_printable(service, sizeof(service), st->fail_service);
	mfa_text_printable(tty, sizeof(tty), st->fail_tty);
	mfa_text_printable(rhost, sizeof(rhost), st->fail_rhost);
	printf(_(" (last %s, service=%s tty=%s rhost=%s)"), when, service, tty, rhost);
}

static void print_text(const struct user_view *v)
{
	char t1[40], t2[40];

	printf(_("user:          %s\n"), v->user);
	printf(_("factors:       %s%s%s\n"), v->rec.totp.present ? "totp" : "",
	    v->rec.totp.present && v->rec.card.present ? "," : "",
	    v->rec.card.present ? "card" : "");
	if (v->rec.totp.present) {
		cli_format_time(v->rec.totp.enrolled_at, t1, sizeof(t1));
		printf(_("totp:          %s, %u digits, %u s, enrolled %s\n"),
		    mfa_alg_name(v->rec.totp.alg), v->rec.totp.digits, v->rec.totp.period, t1);
	}
	if (v->rec.card.present) {
		cli_format_time(v->rec.card.not_after, t1, sizeof(t1));
		cli_format_time(v->rec.card.enrolled_at, t2, sizeof(t2));
		printf(_("card:          %s, %s, serial %s\n"),
		    v->rec.card.profile == MFA_CARD_JPKI ? _("My Number card (JPKI)") : "PIV",
		    v->rec.card.subject, v->rec.card.serial);
		printf(_("               valid until %s%s, enrolled %s\n"), t1,
		    v->rec.card.not_after < (uint64_t)time(NULL) ? _(" (EXPIRED: re-enroll)") : "",
		    t2);
	}
	if (v->state_rc != 0) {
		printf(_("state:         UNREADABLE (%s)\n"), cli_strerror(v->state_rc));
		return;
	}
	cli_format_time(v->st.last_failure, t1, sizeof(t1));
	printf(_("failures:      %u"), v->st.failures);
	if (v->st.failures > 0)
		print_failure_source(&v->st, t1);
	putchar('\n');
	printf(_("all failures:  %u since the last success\n"), v->st.failures_total);
	cli_format_time(v->st.locked_until, t2, sizeof(t2));
	if (!v->locked)
		printf("%s", _("locked:        no\n"));
	else if (v->st.locked_until == MFA_LOCK_FOREVER)
		printf("%s", _("locked:        yes, until security staff unlock\n"));
	else
		printf(_("locked:        yes, until %s\n"), t2);
	cli_format_time(v->st.last_success, t1, sizeof(t1));
	printf(_("last success:  %s\n"), t1);
}

static int parse_json_flag(int argc, char **argv, bool *json, int *first_arg)
{
	/* clang-format off */
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int opt;

	*json = false;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'j')
			return EXIT_USAGE;
		*json = true;
	}
	*first_arg = optind;
	return EXIT_OK;
}

int cmd_show(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	struct user_view v;
	char user[MFA_USER_MAX + 1];
	bool json;
	int first, rc;

	if (parse_json_flag(argc, argv, &json, &first) != EXIT_OK || argc - first != 1) {
		cli_error("%s", _("usage: mfauth show USER [--json]"));
		return EXIT_USAGE;
	}
	if ((rc = cli_account(argv[first], user, sizeof(user), false)) != EXIT_OK)
		return rc;
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	rc = load_view(c, store, user, &v);
	mfa_store_close(store);
	if (rc != 0) {
		cli_error("%s: %s", user, cli_strerror(rc));
		return EXIT_FAIL;
	}
	if (json) {
		print_json(&v, stdout);
		putchar('\n');
	} else {
		print_text(&v);
	}
	mfa_record_wipe(&v.rec);
	return v.state_rc == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	struct mfa_store *store = NULL;
	char **names = NULL;
	size_t n = 0, skipped = 0;
	bool json;
	int first, rc, status = EXIT_OK;

	if (parse_json_flag(argc, argv, &json, &first) != EXIT_OK || argc != first) {
		cli_error("%s", _("usage: mfauth list [--json]"));
		return EXIT_USAGE;
	}
	if (cli_open_store(c, &store) != EXIT_OK)
		return EXIT_FAIL;
	if ((rc = mfa_store_list(store, &names, &n, &skipped)) != 0) {
		cli_error(_("%s: cannot list: %s"), c->cfg.store_dir, cli_strerror(rc));
		mfa_store_close(store);
		return EXIT_FAIL;
	}
	if (json)
		putchar('[');
	else if (n > 0)
		printf("%-24s %-10s %-8s %s\n", "USER", "FACTORS", "FAILURES", "LOCKED");
	for (size_t i = 0; i < n; i++) {
		struct user_view v;
		if ((rc = load_view(c, store, names[i], &v)) != 0) {
			cli_error("%s: %s", names[i], cli_strerror(rc));
			status = EXIT_FAIL;
			continue;
		}
		if (json) {
			if (i > 0)
				putchar(',');
			print_json(&v, stdout);
		} else {
			printf("%-24s %-10s %-8u %s\n", names[i],
			    v.rec.totp.present && v.rec.card.present ? "totp,card" :
			        v.rec.totp.present                   ? "totp" :
			                                               "card",
			    v.st.failures,
			    v.state_rc != 0 ? "STATE-ERROR" :
			        v.locked    ? "yes" :
			                      "no");
		}
		if (v.state_rc != 0)
			status = EXIT_FAIL;
		mfa_record_wipe(&v.rec);
	}
	if (json)
		puts("]");
	if (skipped > 0)
		cli_warn(ngettext("%zu file in %s does not name a user",
		             "%zu files in %s do not name a user", skipped),
		    skipped, c->cfg.store_dir);
	mfa_store_list_free(names, n);
	mfa_store_close(store);
	return status;
}
