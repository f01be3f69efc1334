/*
 * ldap_floor: the least a fleet-mode login can cost on the wire, with libldap
 * alone (no mfauth).  Each round does what pam_mfauth's directory backend does
 * for one login (lib/store_ldap_conn.c): a new handle on URI with its own TLS
 * client context (CA file, certificate demanded), connect + TLS handshake,
 * simple bind, a base search of ENTRY for its two values, one modify that
 * swaps ENTRY's state value for another of the same size (delete the exact
 * old value, add the new one), unbind.
 *
 *   ldap_floor --uri URI --ca FILE --bind-dn DN --pw-file FILE --entry DN
 *              [--rounds N] [--label TEXT]
 *
 * The entry must exist and hold an mfauthState value, and the bind DN may
 * write it (a terminal account under the shipped ACL).  Its state is
 * replaced by the same bytes with the last one flipped, alternately, so it
 * is no longer valid for mfauth: give it an entry nobody logs in with.
 *
 * Output, one line on stdout, for scripts (times in microseconds):
 *   ldap_floor label=L rounds=N median_us=X p95_us=X
 *   connect_bind_median_us=X ops_median_us=X
 * connect_bind is ldap_initialize up to the bind's answer; ops is the search
 * and the modify after it.
 *
 * Exit status: 0 every round worked, 1 one failed (said on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lber.h>
#include <ldap.h>

#define ROUNDS_MAX 1000000UL
#define PW_MAX 256

struct options {
	const char *uri;
	const char *ca;
	const char *bind_dn;
	const char *pw_file;
	const char *entry;
	const char *label;
	unsigned long rounds;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The value at fraction q of the sorted array (nearest rank). */
static double rank(double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	return v[k > 0 ? k - 1 : 0];
}

static int parse(int argc, char **argv, struct options *o)
{
	char *end;
	int i;

	memset(o, 0, sizeof(*o));
	o->label = "floor";
	o->rounds = 200;
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--uri") == 0)
			o->uri = v;
		else if (strcmp(k, "--ca") == 0)
			o->ca = v;
		else if (strcmp(k, "--bind-dn") == 0)
			o->bind_dn = v;
		else if (strcmp(k, "--pw-file") == 0)
			o->pw_file = v;
		else if (strcmp(k, "--entry") == 0)
			o->entry = v;
		else if (strcmp(k, "--label") == 0)
			o->label = v;
		else if (strcmp(k, "--rounds") == 0) {
			errno = 0;
			o->rounds = strtoul(v, &end, 10);
			if (errno != 0 || *end != '\0' || o->rounds == 0 || o->rounds > ROUNDS_MAX)
				return -1;
		} else
			return -1;
	}
	if (i != argc || !o->uri || !o->ca || !o->bind_dn || !o->pw_file || !o->entry)
		return -1;
	return 0;
}

static int read_pw(const char *path, char *pw, size_t size, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(pw, 1, size - 1, f);
	fclose(f);
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		n--;
	pw[n] = '\0';
	*len = n;
	return n > 0 ? 0 : -1;
}

/* A handle set up as the module sets its own: LDAPv3, no referrals, a fresh TLS client context
 * trusting CA alone and demanding the server's certificate. */
static LDAP *open_handle(const struct options *o)
{
	const int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, new_ctx = 0;
	LDAP *ld = NULL;

	if (ldap_initialize(&ld, o->uri) != LDAP_SUCCESS || ld == NULL)
		return NULL;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, o->ca) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &new_ctx) != LDAP_OPT_SUCCESS) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* The entry's state value (a copy in *state) after a search for both of mfauth's values. */
static int search_state(LDAP *ld, const char *entry, struct berval **state)
{
	char rec[] = "mfauthRecord", st[] = "mfauthState";
	char *attrs[] = { rec, st, NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **vals = NULL;
	int rc, ret = -1;

	rc = ldap_search_ext_s(ld, entry, LDAP_SCOPE_BASE, "(objectClass=mfauthUser)", attrs, 0,
	    NULL, NULL, NULL, 1, &res);
	if (rc != LDAP_SUCCESS) {
		fprintf(stderr, "ldap_floor: search: %s\n", ldap_err2string(rc));
		goto out;
	}
	e = ldap_first_entry(ld, res);
	if (e == NULL || (vals = ldap_get_values_len(ld, e, st)) == NULL || vals[0] == NULL) {
		fprintf(stderr, "ldap_floor: %s has no mfauthState value\n", entry);
		goto out;
	}
	*state = ber_dupbv(NULL, vals[0]);
	if (*state == NULL)
		goto out;
	ret = 0;
out:
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	return ret;
}

/* Swap OLD for the same bytes with the last one flipped: a value of the same size. */
static int swap_state(LDAP *ld, const char *entry, struct berval *old)
{
	char st[] = "mfauthState";
	struct berval *newv = ber_dupbv(NULL, old);
	struct berval *del_vals[] = { old, NULL }, *add_vals[2] = { newv, NULL };
	LDAPMod del = { .mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
		.mod_type = st,
		.mod_bvalues = del_vals };
	LDAPMod add = { .mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES,
		.mod_type = st,
		.mod_bvalues = add_vals };
	LDAPMod *mods[] = { &del, &add, NULL };
	int rc;

	if (newv == NULL || newv->bv_len == 0) {
		ber_bvfree(newv);
		return -1;
	}
	newv->bv_val[newv->bv_len - 1] ^= 1;
	rc = ldap_modify_ext_s(ld, entry, mods, NULL, NULL);
	ber_bvfree(newv);
	if (rc != LDAP_SUCCESS) {
		fprintf(stderr, "ldap_floor: modify: %s\n", ldap_err2string(rc));
		return -1;
	}
	return 0;
}

static int one_round(const struct options *o, struct berval *cred, double *bind_us,
    double *total_us)
{
	LDAP *ld;
	struct berval *state = NULL;
	double t0 = now_us(), t1;
	int rc, ret = -1;

	ld = open_handle(o);
	if (ld == NULL) {
		fprintf(stderr, "ldap_floor: cannot set up a handle for %s\n", o->uri);
		return -1;
	}
	rc = ldap_sasl_bind_s(ld, o->bind_dn, LDAP_SASL_SIMPLE, cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		fprintf(stderr, "ldap_floor: bind: %s\n", ldap_err2string(rc));
		goto out;
	}
	t1 = now_us();
	if (search_state(ld, o->entry, &state) != 0 || swap_state(ld, o->entry, state) != 0)
		goto out;
	ldap_unbind_ext_s(ld, NULL, NULL);
	ld = NULL;
	*bind_us = t1 - t0;
	*total_us = now_us() - t0;
	ret = 0;
out:
	ber_bvfree(state);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	char pw[PW_MAX];
	size_t pw_len = 0, i;
	struct berval cred;
	double *total = NULL, *bind = NULL, *ops = NULL;
	int ret = 1;

	if (parse(argc, argv, &o) != 0) {
		fprintf(stderr,
		    "usage: ldap_floor --uri URI --ca FILE --bind-dn DN --pw-file FILE "
		    "--entry DN [--rounds N] [--label TEXT]\n");
		return 2;
	}
	if (read_pw(o.pw_file, pw, sizeof(pw), &pw_len) != 0) {
		fprintf(stderr, "ldap_floor: cannot read a password from %s\n", o.pw_file);
		return 2;
	}
	cred.bv_val = pw;
	cred.bv_len = pw_len;
	total = calloc(o.rounds, sizeof(*total));
	bind = calloc(o.rounds, sizeof(*bind));
	ops = calloc(o.rounds, sizeof(*ops));
	if (total == NULL || bind == NULL || ops == NULL)
		goto out;
	for (i = 0; i < o.rounds; i++) {
		if (one_round(&o, &cred, &bind[i], &total[i]) != 0)
			goto out;
		ops[i] = total[i] - bind[i];
	}
	qsort(total, o.rounds, sizeof(*total), cmp_double);
	qsort(bind, o.rounds, sizeof(*bind), cmp_double);
	qsort(ops, o.rounds, sizeof(*ops), cmp_double);
	printf("ldap_floor label=%s rounds=%lu median_us=%.1f p95_us=%.1f "
	       "connect_bind_median_us=%.1f ops_median_us=%.1f\n",
	    o.label, o.rounds, rank(total, o.rounds, 0.5), rank(total, o.rounds, 0.95),
	    rank(bind, o.rounds, 0.5), rank(ops, o.rounds, 0.5));
	ret = 0;
out:
	explicit_bzero(pw, sizeof(pw));
	free(total);
	free(bind);
	free(ops);
	return ret;
}
