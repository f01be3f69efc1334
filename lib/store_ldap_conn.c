/* The LDAP client layer of the fleet store (include/mfauth/store_ldap_conn.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <lber.h>
#include <ldap.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/store_ldap_conn.h"

#define PAGE_SIZE 256
#define TIMEOUT_MAX 300

/*
 * Called by libldap right after the TCP (or ldapi) connect, before TLS
 * (LDAP_OPT_CONNECT_CB): records that the server was reached (so that a
 * later failure before the bind is TLS, not reachability) and slips a
 * deadline layer (below) into the socket's I/O stack.  libldap keeps a
 * pointer to the callback until the handle is freed (and calls lc_del then),
 * so the hooks live on the heap with the handle, never on a stack.
 */
struct conn_hooks {
	struct ldap_conncb cb;
	bool connected;
	bool timed_out;
	bool failed;     /* the deadline layer failed a read or write: refuse the handle */
	double deadline; /* CLOCK_MONOTONIC seconds: the current step's end */
};

struct mfa_ldap {
	LDAP *ld;
	struct conn_hooks *hooks; /* freed after ld */
	char *uri;
	char *base;
	unsigned int timeout;
	bool broken; /* the connection failed: every later call is refused */
};

static const char *const attr_names[] = {
	[MFA_LDAP_RECORD] = "mfauthRecord",
	[MFA_LDAP_STATE] = "mfauthState",
};

/* --- RDN escaping ------------------------------------------------------------------------- */

int mfa_ldap_rdn_escape(const char *val, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (val == NULL || len == 0 || memchr(val, '\0', len) != NULL)
		return MFA_ERR_BADNAME;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)val[i];
		bool edge_space = ch == ' ' && (i == 0 || i == len - 1);
		bool hexed = ch < 0x20 || ch == 0x7f || edge_space || (ch == '#' && i == 0);
		bool pair = !hexed && strchr("\"+,;<>\\=", ch) != NULL;
		size_t need = hexed ? 3 : pair ? 2 : 1;

		/* This character's bytes, plus the final NUL. */
		if (o > outlen || outlen - o < need + 1)
			return MFA_ERR_RANGE;
		if (hexed) {
			out[o++] = '\\';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0x0f];
		} else if (pair) {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return 0;
}

/* "cn=ESCAPED,BASE" in a new string, or NULL with *err set. */
static char *user_dn(const struct mfa_ldap *c, const char *user, int *err)
{
	size_t len = user ? strlen(user) : 0;
	size_t esc_len = 3 * len + 1;
	char *esc = NULL, *dn = NULL;
	int rc;

	*err = MFA_ERR_BADNAME;
	if (len == 0 || len > 1024)
		return NULL;
	*err = MFA_ERR_NOMEM;
	esc = malloc(esc_len);
	if (esc == NULL)
		return NULL;
	rc = mfa_ldap_rdn_escape(user, len, esc, esc_len);
	if (rc != 0) {
		*err = rc;
		goto out;
	}
	if (asprintf(&dn, "cn=%s,%s", esc, c->base) < 0)
		dn = NULL;
	else
		*err = 0;
out:
	free(esc);
	return dn;
}

/* The user's DN for an operation, or NULL with *err set (a broken connection: unreachable). */
static char *entry_dn(const struct mfa_ldap *c, const char *user, int *err)
{
	if (c->broken) {
		*err = MFA_ERR_DIR_UNREACHABLE;
		return NULL;
	}
	return user_dn(c, user, err);
}

/* --- errors ------------------------------------------------------------------------------- */

/* True for the result codes that mean "the server (or the way to it) is gone". */
static bool rc_unreachable(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_TIMELIMIT_EXCEEDED:
		return true;
	default:
		return false;
	}
}

/* An LDAP result code of an operation on an entry, as an MFA_ERR_* code. */
static int map_rc(struct mfa_ldap *c, int rc)
{
	/*
	 * The deadline layer failed under this operation: whatever libldap made
	 * of it, the connection is in a state nobody knows (a request may have
	 * reached the server and its answer not us).
	 */
	if (c->hooks != NULL && c->hooks->failed)
		c->broken = true;
	if (rc_unreachable(rc)) {
		c->broken = true;
		return MFA_ERR_DIR_UNREACHABLE;
	}
	switch (rc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_NO_SUCH_OBJECT:
		return MFA_ERR_NOENT;
	case LDAP_ALREADY_EXISTS:
		return MFA_ERR_EXISTS;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return MFA_ERR_DIR_DENIED;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
		return MFA_ERR_DIR_AUTH;
	case LDAP_NO_MEMORY:
		return MFA_ERR_NOMEM;
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return MFA_ERR_RANGE; /* the server's limits for this identity */
	default:
		/*
		 * A client-side failure (a negative code: decoding, encoding, a local
		 * error) leaves the handle in a state nobody knows: no further call.
		 */
		if (rc < 0)
			c->broken = true;
		return MFA_ERR_DIR;
	}
}

/* --- connecting --------------------------------------------------------------------------- */

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds left until deadline as a timeval, at least 1 ms (0 would mean "poll"). */
static struct timeval left(double deadline)
{
	double d = deadline - now_mono();
	struct timeval tv;

	if (d < 0.001)
		d = 0.001;
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* Set both timeouts of ld, and the deadline layer's, to what is left until deadline. */
static int set_timeouts(LDAP *ld, struct conn_hooks *h, double deadline)
{
	struct timeval tv = left(deadline);

	h->deadline = deadline;
	if (ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
		return -1;
	return 0;
}

/*
 * The deadline layer: every read and write of the connection first waits,
 * with poll(), at most until hooks->deadline; past it, it fails with
 * ETIMEDOUT.  Why: libldap 2.5.13 (Debian 12, GnuTLS) runs the ldaps://
 * handshake on a non-blocking socket and retries on EAGAIN without waiting,
 * ignoring LDAP_OPT_NETWORK_TIMEOUT: against a server that accepts and never
 * answers it spins at 100% CPU forever (measured with the rig's black hole).
 * SO_RCVTIMEO does not help (EAGAIN is what it already loops on).  A failure
 * other than EAGAIN from below makes GnuTLS, and so libldap, give up.
 * The layer sits between TLS (level 20) and the socket (level 10); it also
 * does the writes itself (deadline_write, below).
 */
#define DEADLINE_LAYER_LEVEL (LBER_SBIOD_LEVEL_TRANSPORT - 5)

/*
 * Wait until fd is ready for events, at most until h->deadline: 0 when
 * ready, else -1 with errno set (ETIMEDOUT past the deadline) and the layer
 * marked failed (h->failed: the handle is refused from then on, map_rc).
 */
static int wait_io(struct conn_hooks *h, ber_socket_t fd, short events)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		double rest = h->deadline - now_mono();
		int ms = rest <= 0 ? 0 : (int)(rest * 1000.0) + 1;
		int n;
		if (rest <= 0) {
			h->timed_out = true;
			h->failed = true;
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			h->failed = true;
			return -1;
		}
	}
}

/*
 * Whether the layer may do this read or write: -1 with errno set when not.
 * Once it failed, never again: TLS keeps a record whose write failed and
 * sends it with the next one -- measured: the unbind of mfa_ldap_close()
 * delivered a compare-and-swap modify whose own write had failed, and the
 * server applied it after the client had refused the login.
 */
static int usable(struct conn_hooks *h)
{
	if (!h->failed)
		return 0;
	errno = EIO;
	return -1;
}

/*
 * The layers' descriptor has no owner of its own: each of the two callers
 * asks liblber for it and, when it cannot get one, fails the read or write
 * here (no_fd).  Letting it go on to the layer below would be a read or a
 * write with no deadline at all -- an unbounded wait in the host process.
 */
static ber_slen_t no_fd(struct conn_hooks *h)
{
	h->failed = true;
	errno = EBADF;
	return -1;
}

static int deadline_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	sbiod->sbiod_pvt = arg;
	return 0;
}

static int deadline_remove(Sockbuf_IO_Desc *sbiod)
{
	(void)sbiod;
	return 0;
}

static int deadline_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

static ber_slen_t deadline_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	ber_socket_t fd = -1;

	if (usable(sbiod->sbiod_pvt) != 0)
		return -1;
	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0)
		return no_fd(sbiod->sbiod_pvt);
	if (wait_io(sbiod->sbiod_pvt, fd, POLLIN) != 0)
		return -1;
	return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
}

/*
 * Writes go to the socket with send(MSG_NOSIGNAL) instead of the socket
 * layer's write(): an unbind (or any request) sent into a connection the
 * server has reset would otherwise raise SIGPIPE, whose default action kills
 * the host process -- measured: slapd stopped under an open connection, then
 * mfa_ldap_close(), and the test process died of SIGPIPE.  A library inside
 * someone else's process must not change its signal dispositions, so the
 * signal is never raised instead.
 */
static ber_slen_t deadline_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	ber_socket_t fd = -1;

	if (usable(sbiod->sbiod_pvt) != 0)
		return -1;
	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0)
		return no_fd(sbiod->sbiod_pvt);
	if (wait_io(sbiod->sbiod_pvt, fd, POLLOUT) != 0)
		return -1;
	for (;;) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOTSOCK)
			return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
		return n;
	}
}

static int deadline_close(Sockbuf_IO_Desc *sbiod)
{
	(void)sbiod;
	return 0;
}

static Sockbuf_IO deadline_io = {
	.sbi_setup = deadline_setup,
	.sbi_remove = deadline_remove,
	.sbi_ctrl = deadline_ctrl,
	.sbi_read = deadline_read,
	.sbi_write = deadline_write,
	.sbi_close = deadline_close,
};

static int probe_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
    struct ldap_conncb *ctx)
{
	struct conn_hooks *h = ctx->lc_arg;

	(void)ld;
	(void)srv;
	(void)addr;
	h->connected = true;
	/* Without the layer, a silent ldaps:// server could hold us forever: refuse to go on. */
	return ber_sockbuf_add_io(sb, &deadline_io, DEADLINE_LAYER_LEVEL, h) == 0 ? 0 : -1;
}

static void probe_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

/* Everything per handle, overriding whatever the process-wide defaults say (see the header). */
static int set_handle_options(LDAP *ld, const struct mfa_ldap_settings *s, bool tls,
    struct conn_hooks *h, double deadline)
{
	const int version = LDAP_VERSION3;
	const int never = LDAP_DEREF_NEVER;
	const int demand = LDAP_OPT_X_TLS_DEMAND;
	const int tls_min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	const int new_client_ctx = 0;
	const unsigned int user_timeout_ms = s->timeout * 1000u;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_DEREF, &never) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &h->cb) != LDAP_OPT_SUCCESS ||
	    set_timeouts(ld, h, deadline) != 0)
		return -1;
	/* Bounds unacknowledged writes; not every kernel has it, so its failure is not fatal. */
	(void)ldap_set_option(ld, LDAP_OPT_TCP_USER_TIMEOUT, &user_timeout_ms);
	if (!tls)
		return 0;
	/* The order matters: NEWCTX builds the context from the options set before it. */
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, s->ca_file) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, NULL) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, NULL) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, NULL) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_SAN, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls_min) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &new_client_ctx) != LDAP_OPT_SUCCESS)
		return -1;
	return 0;
}

enum scheme { SCHEME_LDAP, SCHEME_LDAPS, SCHEME_LDAPI };

static int uri_scheme(const char *uri, enum scheme *out)
{
	LDAPURLDesc *lud = NULL;
	int rc = MFA_ERR_CONFIG;

	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS)
		return MFA_ERR_CONFIG;
	if (strcasecmp(lud->lud_scheme, "ldap") == 0)
		*out = SCHEME_LDAP;
	else if (strcasecmp(lud->lud_scheme, "ldaps") == 0)
		*out = SCHEME_LDAPS;
	else if (strcasecmp(lud->lud_scheme, "ldapi") == 0)
		*out = SCHEME_LDAPI;
	else
		goto out;
	rc = 0;
out:
	ldap_free_urldesc(lud);
	return rc;
}

/*
 * Why a connection attempt failed.  A failure after the TCP connect and
 * before the bind, on a TLS connection, within the timeout, is TLS (a
 * certificate the CA did not sign, a name mismatch, StartTLS refused); one
 * that used the whole timeout is unreachability, wherever it happened.
 */
static int classify_connect_failure(int rc, bool tls, const struct conn_hooks *p, double start,
    unsigned int timeout)
{
	if (rc == LDAP_NO_MEMORY)
		return MFA_ERR_NOMEM;
	if (p->timed_out || now_mono() - start >= (double)timeout - 0.05)
		return MFA_ERR_DIR_UNREACHABLE;
	if (tls && p->connected &&
	    (rc_unreachable(rc) || rc == LDAP_PROTOCOL_ERROR || rc == LDAP_OPERATIONS_ERROR ||
	        rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION))
		return MFA_ERR_DIR_TLS;
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
	    rc == LDAP_INVALID_DN_SYNTAX)
		return MFA_ERR_DIR_AUTH;
	if (rc == LDAP_CONFIDENTIALITY_REQUIRED || rc == LDAP_STRONG_AUTH_REQUIRED)
		return MFA_ERR_DIR_TLS;
	return MFA_ERR_DIR_UNREACHABLE;
}

/*
 * Connect, TLS, bind to one URI within s->timeout seconds.  On success *out
 * owns the handle and *hooks_out its hooks (free the hooks after the handle).
 */
static int connect_one(const struct mfa_ldap_settings *s, const char *uri, LDAP **out,
    struct conn_hooks **hooks_out)
{
	LDAP *ld = NULL;
	enum scheme scheme;
	bool tls;
	struct conn_hooks *hooks = NULL;
	struct berval cred;
	double start = now_mono(), deadline = start + (double)s->timeout;
	int rc, err = MFA_ERR_CONFIG;

	if (uri_scheme(uri, &scheme) != 0)
		return MFA_ERR_CONFIG;
	tls = scheme == SCHEME_LDAPS || (scheme == SCHEME_LDAP && s->starttls);
	hooks = calloc(1, sizeof(*hooks));
	if (hooks == NULL)
		return MFA_ERR_NOMEM;
	hooks->cb.lc_add = probe_add;
	hooks->cb.lc_del = probe_del;
	hooks->cb.lc_arg = hooks;
	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS || ld == NULL)
		goto out;
	err = MFA_ERR_NOMEM;
	if (set_handle_options(ld, s, tls, hooks, deadline) != 0)
		goto out;
	if (scheme == SCHEME_LDAP && s->starttls) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			/* Connected and refused, or the handshake failed: both are TLS. */
			err = classify_connect_failure(rc, true, hooks, start, s->timeout);
			goto out;
		}
	}
	err = MFA_ERR_NOMEM;
	if (set_timeouts(ld, hooks, deadline) != 0)
		goto out;
	cred.bv_val = (char *)s->bind_pw;
	cred.bv_len = s->bind_pw_len;
	rc = ldap_sasl_bind_s(ld, s->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		err = classify_connect_failure(rc, tls, hooks, start, s->timeout);
		goto out;
	}
	*out = ld;
	ld = NULL;
	*hooks_out = hooks;
	hooks = NULL;
	err = 0;
out:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	free(hooks);
	return err;
}

static int check_settings(const struct mfa_ldap_settings *s)
{
	LDAPDN dn = NULL;

	if (s == NULL || s->uris == NULL || s->base == NULL || s->bind_dn == NULL ||
	    s->bind_dn[0] == '\0' || s->base[0] == '\0' ||
	    (s->bind_pw == NULL && s->bind_pw_len != 0) || s->bind_pw_len == 0 || s->timeout < 1 ||
	    s->timeout > TIMEOUT_MAX)
		return MFA_ERR_CONFIG;
	/* The base is joined to every user RDN: it must be a well-formed DN. */
	if (ldap_str2dn(s->base, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return MFA_ERR_CONFIG;
	ldap_dnfree(dn);
	return 0;
}

/* Split s->uris; every URI's scheme checked and the CA file present where TLS needs it. */
static int split_uris(const struct mfa_ldap_settings *s, char *copy, char **uris, size_t *n)
{
	char *save = NULL;

	*n = 0;
	for (char *tok = strtok_r(copy, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		enum scheme scheme;
		if (*n == MFA_LDAP_MAX_URIS || uri_scheme(tok, &scheme) != 0)
			return MFA_ERR_CONFIG;
		if ((scheme == SCHEME_LDAPS || (scheme == SCHEME_LDAP && s->starttls)) &&
		    (s->ca_file == NULL || s->ca_file[0] == '\0'))
			return MFA_ERR_CONFIG;
		uris[(*n)++] = tok;
	}
	return *n == 0 ? MFA_ERR_CONFIG : 0;
}

int mfa_ldap_open(const struct mfa_ldap_settings *s, struct mfa_ldap **out)
{
	struct mfa_ldap *c = NULL;
	char *copy = NULL;
	char *uris[MFA_LDAP_MAX_URIS];
	size_t n = 0;
	int err, worst = MFA_ERR_DIR_UNREACHABLE;
	LDAP *ld = NULL;
	struct conn_hooks *hooks = NULL;

	*out = NULL;
	err = check_settings(s);
	if (err != 0)
		return err;
	err = MFA_ERR_NOMEM;
	copy = strdup(s->uris);
	c = calloc(1, sizeof(*c));
	if (copy == NULL || c == NULL)
		goto out;
	err = split_uris(s, copy, uris, &n);
	if (err != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int rc = connect_one(s, uris[i], &ld, &hooks);
		if (rc == 0) {
			c->ld = ld;
			ld = NULL;
			c->hooks = hooks;
			hooks = NULL;
			err = MFA_ERR_NOMEM;
			c->uri = strdup(uris[i]);
			c->base = strdup(s->base);
			if (c->uri == NULL || c->base == NULL)
				goto out;
			c->timeout = s->timeout;
			*out = c;
			c = NULL;
			err = 0;
			goto out;
		}
		/* Wrong credentials or a broken configuration fail the same way everywhere. */
		if (rc == MFA_ERR_DIR_AUTH || rc == MFA_ERR_CONFIG || rc == MFA_ERR_NOMEM) {
			err = rc;
			goto out;
		}
		if (rc == MFA_ERR_DIR_TLS)
			worst = rc;
	}
	err = worst;
out:
	mfa_ldap_close(c);
	free(copy);
	return err;
}

void mfa_ldap_close(struct mfa_ldap *c)
{
	if (c == NULL)
		return;
	if (c->ld != NULL) {
		/*
		 * A fresh deadline for the unbind and the TLS close: the last
		 * operation's may have passed long ago (the layer would refuse
		 * them at once); one second bounds a server that stopped reading.
		 */
		if (!c->broken)
			(void)set_timeouts(c->ld, c->hooks, now_mono() + 1.0);
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	}
	free(c->hooks);
	free(c->uri);
	free(c->base);
	free(c);
}

const char *mfa_ldap_uri(const struct mfa_ldap *c)
{
	return c->uri;
}

/* --- operations --------------------------------------------------------------------------- */

/*
 * Start an operation: `timeout` seconds from now, for libldap's wait and the
 * deadline layer alike.  Returns the timeval for the *_ext_s calls that take one.
 */
static struct timeval arm(struct mfa_ldap *c)
{
	double deadline = now_mono() + (double)c->timeout;

	if (set_timeouts(c->ld, c->hooks, deadline) != 0)
		c->broken = true; /* cannot bound the wait: do not start it */
	return left(deadline);
}

void mfa_ldap_entry_free(struct mfa_ldap_entry *e)
{
	if (e == NULL)
		return;
	if (e->record != NULL) {
		mfa_wipe(e->record, e->record_len);
		free(e->record);
	}
	if (e->state != NULL) {
		mfa_wipe(e->state, e->state_len);
		free(e->state);
	}
	memset(e, 0, sizeof(*e));
}

/*
 * Which of our two attributes the entry holds, from its attribute names.
 * ldap_get_values_len() answers NULL both for an attribute that is not there
 * and for one it failed to decode (or to allocate), so its NULL alone must
 * never be read as "absent": a record that failed to decode would make an
 * enrolled clerk look not enrolled (and a locked one pass the account step).
 * ldap_next_attribute()'s NULL is just as ambiguous (the end, or a failure):
 * the walk counts as complete only when it consumed the whole attribute list
 * (no bytes left), else MFA_ERR_DIR -- a state missed that way would read as
 * "no state", i.e. not locked.
 */
static int attrs_present(LDAP *ld, LDAPMessage *entry, bool present[2])
{
	BerElement *ber = NULL;
	ber_len_t rest = 1;
	char *a;

	present[0] = present[1] = false;
	for (a = ldap_first_attribute(ld, entry, &ber); a != NULL;
	     a = ldap_next_attribute(ld, entry, ber)) {
		for (int i = 0; i < 2; i++)
			if (strcasecmp(a, attr_names[i]) == 0)
				present[i] = true;
		ldap_memfree(a);
	}
	/* No ber: no attribute at all (or none decoded): the caller refuses that. */
	if (ber == NULL)
		return 0;
	if (ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &rest) != LBER_OPT_SUCCESS)
		rest = 1;
	ber_free(ber, 0);
	return rest == 0 ? 0 : MFA_ERR_DIR;
}

/* One attribute's single value, copied; absent only when the entry does not name it. */
static int take_value(LDAP *ld, LDAPMessage *entry, const char *attr, bool present,
    unsigned char **val, size_t *len, bool *has)
{
	struct berval **vals = NULL;
	int err = 0;

	*val = NULL;
	*len = 0;
	*has = false;
	if (!present)
		return 0;
	if ((vals = ldap_get_values_len(ld, entry, attr)) == NULL)
		return MFA_ERR_DIR; /* named by the entry, yet not read: never "absent" */
	err = MFA_ERR_CORRUPT;
	if (vals[0] == NULL || vals[1] != NULL || vals[0]->bv_len > MFA_LDAP_VALUE_MAX)
		goto out;
	err = MFA_ERR_NOMEM;
	*val = malloc(vals[0]->bv_len ? vals[0]->bv_len : 1);
	if (*val == NULL)
		goto out;
	memcpy(*val, vals[0]->bv_val, vals[0]->bv_len);
	*len = vals[0]->bv_len;
	*has = true;
	err = 0;
out:
	ldap_value_free_len(vals);
	return err;
}

int mfa_ldap_read(struct mfa_ldap *c, const char *user, struct mfa_ldap_entry *e)
{
	char *attrs[] = { (char *)attr_names[MFA_LDAP_RECORD], (char *)attr_names[MFA_LDAP_STATE],
		NULL };
	LDAPMessage *res = NULL, *entry;
	struct timeval tv;
	struct mfa_ldap_entry got = { 0 };
	bool present[2];
	char *dn = NULL;
	int err, rc, n;

	memset(e, 0, sizeof(*e));
	if ((dn = entry_dn(c, user, &err)) == NULL)
		return err;
	tv = arm(c);
	if (c->broken) {
		free(dn);
		return MFA_ERR_DIR_UNREACHABLE;
	}
	rc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE, "(objectClass=mfauthUser)", attrs, 0,
	    NULL, NULL, &tv, 2, &res);
	err = map_rc(c, rc);
	if (err != 0)
		goto out;
	entry = ldap_first_entry(c->ld, res);
	if (entry == NULL) {
		/* No entry, unless the result says it holds one that could not be read. */
		err = ldap_count_entries(c->ld, res) == 0 ? MFA_ERR_NOENT : MFA_ERR_DIR;
		goto out;
	}
	/*
	 * One entry, counted: ldap_next_entry()'s NULL would also be its
	 * failure's answer, and a failed count (-1) is not 1 either.
	 */
	n = ldap_count_entries(c->ld, res);
	err = n < 0 ? MFA_ERR_DIR : MFA_ERR_CORRUPT;
	if (n != 1)
		goto out;
	err = attrs_present(c->ld, entry, present);
	if (err != 0)
		goto out;
	/*
	 * Every entry of ours holds a state (a revoked user's keeps it); one that
	 * shows neither value is one this identity may not read: not "no record".
	 */
	err = MFA_ERR_DIR_DENIED;
	if (!present[0] && !present[1])
		goto out;
	err = take_value(c->ld, entry, attrs[0], present[0], &got.record, &got.record_len,
	    &got.has_record);
	if (err != 0)
		goto out;
	err = take_value(c->ld, entry, attrs[1], present[1], &got.state, &got.state_len,
	    &got.has_state);
	if (err != 0)
		goto out;
	*e = got;
	memset(&got, 0, sizeof(got));
	err = 0;
out:
	mfa_ldap_entry_free(&got);
	ldap_msgfree(res);
	free(dn);
	return err;
}

/*
 * One modify that deletes exact old values and adds new ones: all or
 * nothing.  An old value gone, or a value where none was expected, is
 * MFA_ERR_DIR_CONFLICT (someone else changed the entry first).  Frees dn.
 */
static int cas_modify(struct mfa_ldap *c, char *dn, LDAPMod **mods)
{
	int rc, err;

	(void)arm(c);
	rc = c->broken ? LDAP_TIMEOUT : ldap_modify_ext_s(c->ld, dn, mods, NULL, NULL);
	switch (rc) {
	case LDAP_NO_SUCH_ATTRIBUTE:    /* an old value is gone */
	case LDAP_TYPE_OR_VALUE_EXISTS: /* add only, and a value is there */
	case LDAP_CONSTRAINT_VIOLATION: /* ... a second value of a SINGLE-VALUE attribute */
		err = MFA_ERR_DIR_CONFLICT;
		break;
	default:
		err = map_rc(c, rc);
	}
	free(dn);
	return err;
}

int mfa_ldap_swap(struct mfa_ldap *c, const char *user, enum mfa_ldap_attr attr,
    const unsigned char *old, size_t old_len, const unsigned char *new_value, size_t new_len)
{
	struct berval old_bv = { .bv_len = old_len, .bv_val = (char *)old };
	struct berval new_bv = { .bv_len = new_len, .bv_val = (char *)new_value };
	struct berval *old_vals[] = { &old_bv, NULL };
	struct berval *new_vals[] = { &new_bv, NULL };
	LDAPMod del = { .mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
		.mod_type = (char *)attr_names[attr],
		.mod_bvalues = old_vals };
	LDAPMod add = { .mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES,
		.mod_type = (char *)attr_names[attr],
		.mod_bvalues = new_vals };
	LDAPMod *mods[3] = { NULL, NULL, NULL };
	size_t n = 0;
	char *dn = NULL;
	int err;

	if ((unsigned)attr > MFA_LDAP_STATE || (old == NULL && new_value == NULL))
		return MFA_ERR_INVAL;
	if ((dn = entry_dn(c, user, &err)) == NULL)
		return err;
	if (old != NULL)
		mods[n++] = &del;
	if (new_value != NULL)
		mods[n++] = &add;
	return cas_modify(c, dn, mods);
}

int mfa_ldap_add(struct mfa_ldap *c, const char *user, const unsigned char *record,
    size_t record_len, const unsigned char *state, size_t state_len)
{
	/* libldap's structures take char *: writable copies of the constant strings. */
	char oc_type[] = "objectClass", oc_value[] = "mfauthUser", cn_type[] = "cn";
	char *oc_vals[] = { oc_value, NULL };
	char *cn_vals[] = { (char *)user, NULL };
	struct berval rec_bv = { .bv_len = record_len, .bv_val = (char *)record };
	struct berval st_bv = { .bv_len = state_len, .bv_val = (char *)state };
	struct berval *rec_vals[] = { &rec_bv, NULL };
	struct berval *st_vals[] = { &st_bv, NULL };
	LDAPMod oc = { .mod_op = LDAP_MOD_ADD, .mod_type = oc_type, .mod_values = oc_vals };
	LDAPMod cn = { .mod_op = LDAP_MOD_ADD, .mod_type = cn_type, .mod_values = cn_vals };
	LDAPMod rec = { .mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES,
		.mod_type = (char *)attr_names[MFA_LDAP_RECORD],
		.mod_bvalues = rec_vals };
	LDAPMod st = { .mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES,
		.mod_type = (char *)attr_names[MFA_LDAP_STATE],
		.mod_bvalues = st_vals };
	LDAPMod *mods[5] = { &oc, &cn, NULL, NULL, NULL };
	size_t n = 2;
	char *dn = NULL;
	int err;

	if ((dn = entry_dn(c, user, &err)) == NULL)
		return err;
	if (record != NULL)
		mods[n++] = &rec;
	if (state != NULL)
		mods[n++] = &st;
	(void)arm(c);
	err = map_rc(c, c->broken ? LDAP_TIMEOUT : ldap_add_ext_s(c->ld, dn, mods, NULL, NULL));
	free(dn);
	return err;
}

int mfa_ldap_delete(struct mfa_ldap *c, const char *user)
{
	char *dn = NULL;
	int err;

	if ((dn = entry_dn(c, user, &err)) == NULL)
		return err;
	(void)arm(c);
	err = map_rc(c, c->broken ? LDAP_TIMEOUT : ldap_delete_ext_s(c->ld, dn, NULL, NULL));
	free(dn);
	return err;
}

/* The user name of an entry: its RDN's value, which must be one cn. */
static int entry_user(LDAP *ld, LDAPMessage *entry, char **user)
{
	char *dn = ldap_get_dn(ld, entry);
	LDAPDN parsed = NULL;
	LDAPAVA *ava;
	int err = MFA_ERR_CORRUPT;

	*user = NULL;
	if (dn == NULL)
		return MFA_ERR_CORRUPT;
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || parsed == NULL ||
	    parsed[0] == NULL || parsed[0][0] == NULL || parsed[0][1] != NULL)
		goto out;
	ava = parsed[0][0];
	if (ava->la_attr.bv_len != 2 || strncasecmp(ava->la_attr.bv_val, "cn", 2) != 0 ||
	    ava->la_value.bv_len == 0 || memchr(ava->la_value.bv_val, '\0', ava->la_value.bv_len))
		goto out;
	err = MFA_ERR_NOMEM;
	*user = strndup(ava->la_value.bv_val, ava->la_value.bv_len);
	if (*user == NULL)
		goto out;
	err = 0;
out:
	ldap_dnfree(parsed);
	ldap_memfree(dn);
	return err;
}

/*
 * One page: the entries of res to fn with the attributes each holds
 * (counted in *count, at most max), then the cookie for the next page into
 * *cookie -- also when fn or max stopped the page early, so that the caller
 * can release the search (release_paging).  An entry the result holds that
 * the walk did not reach (ldap_next_entry()'s NULL is both "the end" and a
 * failure) is MFA_ERR_DIR, never a shorter list: a listing that silently
 * skipped users would make `rekey` or a report skip them.
 */
typedef int (*list_fn)(const char *user, const bool present[2], void *arg);

static int list_page(struct mfa_ldap *c, LDAPMessage *res, list_fn fn, void *arg, size_t max,
    size_t *count, struct berval *cookie)
{
	LDAPControl **ctrls = NULL, *page;
	ber_int_t estimate = 0;
	int err = 0, stop = 0, rc, code = LDAP_OTHER, held = ldap_count_entries(c->ld, res);
	int seen = 0;

	if (held < 0)
		return MFA_ERR_DIR;
	for (LDAPMessage *e = ldap_first_entry(c->ld, res); e != NULL && stop == 0;
	     e = ldap_next_entry(c->ld, e)) {
		char *user = NULL;
		bool present[2];
		if (max != 0 && *count >= max) {
			stop = MFA_ERR_RANGE;
			break;
		}
		stop = attrs_present(c->ld, e, present);
		if (stop == 0)
			stop = entry_user(c->ld, e, &user);
		if (stop == 0)
			stop = fn(user, present, arg);
		(*count)++;
		seen++;
		free(user);
	}
	if (stop == 0 && seen != held)
		stop = MFA_ERR_DIR;
	rc = ldap_parse_result(c->ld, res, &code, NULL, NULL, NULL, &ctrls, 0);
	if (rc != LDAP_SUCCESS) {
		err = map_rc(c, rc);
		return stop != 0 ? stop : err;
	}
	err = map_rc(c, code);
	if (err != 0)
		goto out;
	err = MFA_ERR_DIR;
	page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (page == NULL ||
	    ldap_parse_pageresponse_control(c->ld, page, &estimate, cookie) != LDAP_SUCCESS)
		goto out;
	err = 0;
out:
	ldap_controls_free(ctrls);
	return stop != 0 ? stop : err;
}

/*
 * The paged-results control asking for page_size entries from where cookie
 * says (empty: the start), into *out (ldap_control_free it); 0 or -1.  Size
 * 0 is encoded here: libldap's ldap_create_page_control() refuses it
 * (LDAP_PARAM_ERROR, measured with 2.5.13), yet it is the release of RFC 2696.
 */
static int page_control(LDAP *ld, ber_int_t page_size, struct berval *cookie, LDAPControl **out)
{
	BerElement *ber = NULL;
	struct berval value = { 0, NULL };
	int rc = -1;

	*out = NULL;
	if (page_size > 0) {
		rc = ldap_create_page_control(ld, page_size, cookie, 1, out);
		return rc == LDAP_SUCCESS ? 0 : -1;
	}
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL)
		return -1;
	if (ber_printf(ber, "{iO}", page_size, cookie) == -1 || ber_flatten2(ber, &value, 0) == -1)
		goto out;
	if (ldap_control_create(LDAP_CONTROL_PAGEDRESULTS, 1, &value, 1, out) != LDAP_SUCCESS)
		goto out;
	rc = 0;
out:
	ber_free(ber, 1);
	return rc;
}

/*
 * The listing's search with page_size and cookie (page_control); *res owns
 * the result.  with_attrs: the names of the two attributes each entry holds
 * (no values); otherwise no attribute at all.
 */
static int list_search(struct mfa_ldap *c, bool with_attrs, ber_int_t page_size,
    struct berval *cookie, LDAPMessage **res)
{
	char no_attrs[] = LDAP_NO_ATTRS;
	char *names[] = { no_attrs, NULL };
	char *both[] = { (char *)attr_names[MFA_LDAP_RECORD], (char *)attr_names[MFA_LDAP_STATE],
		NULL };
	LDAPControl *page = NULL, *sctrls[2] = { NULL, NULL };
	struct timeval tv = arm(c);
	int rc;

	*res = NULL;
	if (c->broken)
		return MFA_ERR_DIR_UNREACHABLE;
	if (page_control(c->ld, page_size, cookie, &page) != 0)
		return MFA_ERR_NOMEM;
	sctrls[0] = page;
	rc = ldap_search_ext_s(c->ld, c->base, LDAP_SCOPE_ONELEVEL, "(objectClass=mfauthUser)",
	    with_attrs ? both : names, 1, sctrls, NULL, &tv, 0, res);
	ldap_control_free(page);
	return map_rc(c, rc);
}

/*
 * A listing stopped before its last page leaves the server holding the
 * paged search (slapd: until the connection closes or another paged search
 * starts on it).  RFC 2696 section 3: the same search with the last cookie
 * and a page size of 0 releases it.  Its outcome changes nothing for the
 * caller, whose listing already failed; a connection that fails under it is
 * marked broken as under any other call.
 */
static void release_paging(struct mfa_ldap *c, bool with_attrs, struct berval *cookie)
{
	LDAPMessage *res = NULL;

	if (c->broken || cookie->bv_val == NULL || cookie->bv_len == 0)
		return;
	(void)list_search(c, with_attrs, 0, cookie, &res);
	ldap_msgfree(res);
}

/* The listing, with the names of the attributes each entry holds when with_attrs (no values). */
static int list_paged(struct mfa_ldap *c, bool with_attrs, list_fn fn, void *arg, size_t max)
{
	struct berval cookie = { 0, NULL };
	size_t count = 0;
	int err = 0;

	if (c->broken)
		return MFA_ERR_DIR_UNREACHABLE;
	do {
		LDAPMessage *res = NULL;
		struct berval next = { 0, NULL };

		err = list_search(c, with_attrs, PAGE_SIZE, &cookie, &res);
		if (err == 0)
			err = list_page(c, res, fn, arg, max, &count, &next);
		ldap_msgfree(res);
		ber_memfree(cookie.bv_val);
		cookie = next;
	} while (err == 0 && cookie.bv_val != NULL && cookie.bv_len > 0);
	if (err != 0)
		release_paging(c, with_attrs, &cookie);
	ber_memfree(cookie.bv_val);
	return err;
}

struct name_only {
	int (*fn)(const char *user, void *arg);
	void *arg;
};

static int call_name_only(const char *user, const bool present[2], void *arg)
{
	const struct name_only *n = arg;

	(void)present;
	return n->fn(user, n->arg);
}

int mfa_ldap_list(struct mfa_ldap *c, int (*fn)(const char *user, void *arg), void *arg, size_t max)
{
	struct name_only n = { fn, arg };

	return list_paged(c, false, call_name_only, &n, max);
}

int mfa_ldap_list_present(struct mfa_ldap *c,
    int (*fn)(const char *user, const bool present[2], void *arg), void *arg, size_t max)
{
	return list_paged(c, true, fn, arg, max);
}

/*
 * Several attributes' compare-and-swap in one modify (store_ldap_conn.h):
 * the directory applies a modify whole, so a record and its state change
 * together or not at all.
 */
int mfa_ldap_swap_many(struct mfa_ldap *c, const char *user, const struct mfa_ldap_cas *cas,
    size_t n)
{
	struct berval bv[2 * MFA_LDAP_CAS_MAX];
	struct berval *vals[2 * MFA_LDAP_CAS_MAX][2];
	LDAPMod mod[2 * MFA_LDAP_CAS_MAX];
	LDAPMod *mods[2 * MFA_LDAP_CAS_MAX + 1];
	size_t m = 0;
	char *dn = NULL;
	int err;

	if (n == 0 || n > MFA_LDAP_CAS_MAX)
		return MFA_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)cas[i].attr > MFA_LDAP_STATE ||
		    (cas[i].old == NULL && cas[i].new_value == NULL))
			return MFA_ERR_INVAL;
		for (size_t j = 0; j < i; j++)
			if (cas[j].attr == cas[i].attr)
				return MFA_ERR_INVAL;
	}
	if (c->broken)
		return MFA_ERR_DIR_UNREACHABLE;
	for (size_t i = 0; i < n; i++) {
		for (int op = 0; op < 2; op++) {
			const unsigned char *v = op == 0 ? cas[i].old : cas[i].new_value;
			size_t len = op == 0 ? cas[i].old_len : cas[i].new_len;

			if (v == NULL)
				continue;
			bv[m].bv_val = (char *)v;
			bv[m].bv_len = len;
			vals[m][0] = &bv[m];
			vals[m][1] = NULL;
			mod[m].mod_op = (op == 0 ? LDAP_MOD_DELETE : LDAP_MOD_ADD) |
			    LDAP_MOD_BVALUES;
			mod[m].mod_type = (char *)attr_names[cas[i].attr];
			mod[m].mod_bvalues = vals[m];
			mods[m] = &mod[m];
			m++;
		}
	}
	mods[m] = NULL;
	if ((dn = user_dn(c, user, &err)) == NULL)
		return err;
	return cas_modify(c, dn, mods);
}

int mfa_ldap_peer_cert(struct mfa_ldap *c, unsigned char **der, size_t *len)
{
	struct berval cert = { 0, NULL };
	void *ssl = NULL;

	*der = NULL;
	*len = 0;
	if (c->broken)
		return MFA_ERR_DIR_UNREACHABLE;
	/*
	 * No TLS session on this connection: nothing was presented.  Only an
	 * answer says so; a failed question is not "no TLS" (check would then
	 * stay silent about a certificate it could not read).
	 */
	if (ldap_get_option(c->ld, LDAP_OPT_X_TLS_SSL_CTX, &ssl) != LDAP_OPT_SUCCESS)
		return MFA_ERR_DIR;
	if (ssl == NULL)
		return MFA_ERR_NOENT;
	if (ldap_get_option(c->ld, LDAP_OPT_X_TLS_PEERCERT, &cert) != LDAP_OPT_SUCCESS ||
	    cert.bv_val == NULL || cert.bv_len == 0) {
		ber_memfree(cert.bv_val);
		return MFA_ERR_DIR;
	}
	if ((*der = malloc(cert.bv_len)) == NULL) {
		ber_memfree(cert.bv_val);
		return MFA_ERR_NOMEM;
	}
	memcpy(*der, cert.bv_val, cert.bv_len);
	*len = cert.bv_len;
	ber_memfree(cert.bv_val);
	return 0;
}
