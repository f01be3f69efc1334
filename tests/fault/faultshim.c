/*
 * faultshim: an LD_PRELOAD object that makes the Nth call of a system,
 * allocator, OpenSSL, liboath, PC/SC or libldap/liblber function fail,
 * counting only calls made from our own code (tests/fault/fault-lib.sh and
 * tests/fault/test-fault-ldap-login.sh drive it).
 *
 * Environment (read once, by the constructor):
 *   MFAUTH_FAULT_AT=N      fail the Nth counted call (1-based); unset or 0:
 *                          fail nothing, just count
 *   MFAUTH_FAULT_SCOPE=S   comma-separated list naming whose calls count:
 *                          "main" is the executable, any other word a
 *                          substring of a loaded object's path (e.g.
 *                          "pam_mfauth.so"); default "main,pam_mfauth.so"
 *   MFAUTH_FAULT_ONLY=P    comma-separated list of function name prefixes
 *                          (e.g. "ldap_,ber_"): only those functions count;
 *                          default every function the shim wraps
 *   MFAUTH_FAULT_NOW=T     time() returns T (epoch seconds): fresh TOTP steps
 *                          on demand, without sleeping (never counted)
 *   MFAUTH_FAULT_TRACE=F   append one line per counted call to F:
 *                          "N FUNCTION OBJECT+OFFSET" and " FAIL" on the
 *                          injected one (OFFSET feeds addr2line -e OBJECT)
 *
 * A counted call is one whose return address lies in an object in scope:
 * calls that libc, libpam or libcrypto make internally are never counted, so
 * the numbering depends only on our code's path.  Injected failures look like
 * the real ones: -1 with errno EIO (ENOSPC for writes, ENOLCK for flock), NULL
 * with ENOMEM, 0 from OpenSSL, OATH_CRYPTO_ERROR, SCARD_E_NO_SERVICE /
 * SCARD_E_NOT_TRANSACTED, LDAP_SERVER_DOWN from the libldap calls that talk to
 * the server, LDAP_NO_MEMORY / LDAP_OPT_ERROR / NULL from the local ones, -1
 * or 0 from liblber's.  Never ENOENT: that
 * would say "not enrolled".
 *
 * Under AddressSanitizer this object goes first in LD_PRELOAD (run with
 * ASAN_OPTIONS=verify_asan_link_order=0); it is built without sanitizers, and
 * every real function is looked up with RTLD_NEXT (then, for libraries that a
 * PAM module pulled in with RTLD_LOCAL, in that library by name), so ASan's
 * own interceptors and allocator still sit behind ours.
 */
#define _GNU_SOURCE
/* The fortified inline open()/read() of the headers would clash with ours. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* We define libc's and other libraries' functions: their headers are not ours. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#define SCOPE_MAX 8
/* OpenSSL, liboath and pcsc-lite values, spelled out so no headers are needed. */
#define OATH_CRYPTO_ERROR (-8)
#define SCARD_E_NO_SERVICE ((long)0x8010001D)
#define SCARD_E_NOT_TRANSACTED ((long)0x80100016)

static struct {
	bool ready;
	long fail_at;
	long count;
	int trace_fd;
	uintptr_t main_start;
	char main_name[256];
	size_t nscope;
	bool scope_main;
	char scope[SCOPE_MAX][64];
	size_t nonly;
	char only[SCOPE_MAX][32];
} fs = { .trace_fd = -1 };

/* Our own bookkeeping is never counted (initial-exec: TLS access must not allocate). */
static __thread int in_shim __attribute__((tls_model("initial-exec")));

/* Bootstrap heap for allocations made while dlsym looks up the allocator. */
static char boot_heap[4096] __attribute__((aligned(16)));
static size_t boot_used;

static void *boot_alloc(size_t n)
{
	size_t want = (n + 15) & ~(size_t)15;
	void *p;

	if (want > sizeof(boot_heap) - boot_used)
		return NULL;
	p = boot_heap + boot_used;
	boot_used += want;
	return p;
}

static bool is_boot(const void *p)
{
	return (const char *)p >= boot_heap && (const char *)p < boot_heap + sizeof(boot_heap);
}

/* The real function: the next definition, else the one in the named library. */
static void *real(const char *name, const char *lib)
{
	void *f = dlsym(RTLD_NEXT, name);

	/* lib: one soname, or several separated by ':' (the first one loaded wins). */
	while (f == NULL && lib != NULL && *lib != '\0') {
		char one[64];
		size_t n = strcspn(lib, ":");
		void *h = NULL;

		if (n < sizeof(one)) {
			memcpy(one, lib, n);
			one[n] = '\0';
			h = dlopen(one, RTLD_LAZY | RTLD_NOLOAD);
		}
		if (h != NULL)
			f = dlsym(h, name);
		lib += n + (lib[n] == ':');
	}
	if (f == NULL) {
		static const char msg[] = "faultshim: a real function is missing\n";
		syscall(SYS_write, 2, msg, sizeof(msg) - 1);
		abort();
	}
	return f;
}

/*
 * Read the environment once the process is set up.  Calls before this one
 * (the dynamic loader's, ASan's own start-up, which must not reach libc
 * functions that ASan intercepts before it is ready) are never counted.
 */
__attribute__((constructor)) static void init(void)
{
	const char *at, *scope, *only, *trace;
	struct dl_find_object fo;

	if (fs.ready)
		return;
	in_shim++;
	at = getenv("MFAUTH_FAULT_AT");
	fs.fail_at = at ? strtol(at, NULL, 10) : 0;
	scope = getenv("MFAUTH_FAULT_SCOPE");
	if (scope == NULL || scope[0] == '\0')
		scope = "main,pam_mfauth.so";
	while (*scope != '\0' && fs.nscope < SCOPE_MAX) {
		size_t n = strcspn(scope, ",");
		if (n == 4 && strncmp(scope, "main", 4) == 0)
			fs.scope_main = true;
		else if (n > 0 && n < sizeof(fs.scope[0]))
			memcpy(fs.scope[fs.nscope++], scope, n);
		scope += n + (scope[n] == ',');
	}
	only = getenv("MFAUTH_FAULT_ONLY");
	while (only != NULL && *only != '\0' && fs.nonly < SCOPE_MAX) {
		size_t n = strcspn(only, ",");
		if (n > 0 && n < sizeof(fs.only[0]))
			memcpy(fs.only[fs.nonly++], only, n);
		only += n + (only[n] == ',');
	}
	/* AT_PHDR lies inside the executable: its object is "main". */
	if (_dl_find_object((void *)getauxval(AT_PHDR), &fo) == 0)
		fs.main_start = (uintptr_t)fo.dlfo_map_start;
	if (readlink("/proc/self/exe", fs.main_name, sizeof(fs.main_name) - 1) < 0)
		strcpy(fs.main_name, "main");
	trace = getenv("MFAUTH_FAULT_TRACE");
	if (trace != NULL && trace[0] != '\0')
		fs.trace_fd = (int)syscall(SYS_openat, AT_FDCWD, trace,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	fs.ready = true;
	in_shim--;
}

static void trace_line(long n, const char *fn, const char *obj, uintptr_t off, bool failed)
{
	char line[512];
	int len;

	if (fs.trace_fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%ld %s %s+0x%lx%s\n", n, fn,
	    obj != NULL && obj[0] != '\0' ? obj : fs.main_name, (unsigned long)off,
	    failed ? " FAIL" : "");
	if (len > 0)
		syscall(SYS_write, fs.trace_fd, line,
		    (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

/* Count this call if our code made it; true means: fail it. */
static bool should_fail(const char *fn, void *ra)
{
	struct dl_find_object fo;
	const char *name = "?";
	bool mine = false, fail;

	if (in_shim || !fs.ready)
		return false;
	in_shim++;
	if (fs.nonly > 0) {
		bool listed = false;
		for (size_t i = 0; !listed && i < fs.nonly; i++)
			listed = strncmp(fn, fs.only[i], strlen(fs.only[i])) == 0;
		if (!listed) {
			in_shim--;
			return false;
		}
	}
	/* _dl_find_object: lock-free and cheap enough for every malloc of the process. */
	if (_dl_find_object(ra, &fo) == 0 && fo.dlfo_link_map != NULL) {
		name = fo.dlfo_link_map->l_name;
		if (fs.scope_main && (uintptr_t)fo.dlfo_map_start == fs.main_start)
			mine = true;
		for (size_t i = 0; !mine && i < fs.nscope; i++)
			mine = name != NULL && strstr(name, fs.scope[i]) != NULL;
	}
	fail = false;
	if (mine) {
		fs.count++;
		fail = fs.count == fs.fail_at;
		trace_line(fs.count, fn, name, (uintptr_t)ra - 1 - fo.dlfo_link_map->l_addr, fail);
	}
	in_shim--;
	return fail;
}

#define RA() __builtin_return_address(0)
#define REAL(type, name, lib) \
	static __typeof__(type) real_##name; \
	if (real_##name == NULL) { \
		in_shim++; \
		real_##name = (type)real(#name, lib); \
		in_shim--; \
	}

/* --- the clock ----------------------------------------------------------- */

time_t time(time_t *t)
{
	const char *now = getenv("MFAUTH_FAULT_NOW");
	time_t v;
	REAL(time_t(*)(time_t *), time, NULL)

	if (now == NULL || now[0] == '\0')
		return real_time(t);
	v = (time_t)strtoll(now, NULL, 10);
	if (t != NULL)
		*t = v;
	return v;
}

/* --- the allocator ------------------------------------------------------- */

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);
static malloc_fn real_malloc_p;
static calloc_fn real_calloc_p;
static realloc_fn real_realloc_p;
static free_fn real_free_p;
static int resolving;

static void resolve_alloc(void)
{
	if (real_malloc_p != NULL || resolving)
		return;
	resolving = 1;
	in_shim++;
	real_free_p = (free_fn)real("free", NULL);
	real_calloc_p = (calloc_fn)real("calloc", NULL);
	real_realloc_p = (realloc_fn)real("realloc", NULL);
	real_malloc_p = (malloc_fn)real("malloc", NULL);
	in_shim--;
	resolving = 0;
}

void *malloc(size_t n)
{
	resolve_alloc();
	if (real_malloc_p == NULL)
		return boot_alloc(n);
	if (should_fail("malloc", RA())) {
		errno = ENOMEM;
		return NULL;
	}
	return real_malloc_p(n);
}

void *calloc(size_t n, size_t m)
{
	resolve_alloc();
	if (real_calloc_p == NULL)
		return boot_alloc(n * m); /* boot_heap is zeroed and never reused */
	if (should_fail("calloc", RA())) {
		errno = ENOMEM;
		return NULL;
	}
	return real_calloc_p(n, m);
}

void *realloc(void *p, size_t n)
{
	resolve_alloc();
	if (is_boot(p) || real_realloc_p == NULL) {
		void *q = real_malloc_p ? real_malloc_p(n) : boot_alloc(n);
		if (q != NULL && p != NULL)
			memcpy(q, p,
			    n < (size_t)(boot_heap + sizeof(boot_heap) - (char *)p) ?
			        n :
			        (size_t)(boot_heap + sizeof(boot_heap) - (char *)p));
		return q;
	}
	if (should_fail("realloc", RA())) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc_p(p, n);
}

void free(void *p)
{
	if (p == NULL || is_boot(p))
		return;
	resolve_alloc();
	real_free_p(p);
}

/* strdup allocates inside libc, where the allocator hook cannot see our caller. */
char *strdup(const char *s)
{
	size_t n;
	char *p;

	if (should_fail("strdup", RA())) {
		errno = ENOMEM;
		return NULL;
	}
	n = strlen(s) + 1;
	resolve_alloc();
	if ((p = real_malloc_p(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

/* --- files ---------------------------------------------------------------- */

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	REAL(int (*)(const char *, int, ...), open, NULL)

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (should_fail("open", RA())) {
		errno = EIO;
		return -1;
	}
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	REAL(int (*)(const char *, int, ...), open64, NULL)

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (should_fail("open", RA())) {
		errno = EIO;
		return -1;
	}
	return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	REAL(int (*)(int, const char *, int, ...), openat, NULL)

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (should_fail("openat", RA())) {
		errno = EIO;
		return -1;
	}
	return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	REAL(int (*)(int, const char *, int, ...), openat64, NULL)

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (should_fail("openat", RA())) {
		errno = EIO;
		return -1;
	}
	return real_openat64(dirfd, path, flags, mode);
}

/* What _FORTIFY_SOURCE turns open()/openat() without a mode into. */
int __open_2(const char *path, int flags)
{
	REAL(int (*)(const char *, int), __open_2, NULL)
	if (should_fail("open", RA())) {
		errno = EIO;
		return -1;
	}
	return real___open_2(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	REAL(int (*)(int, const char *, int), __openat_2, NULL)
	if (should_fail("openat", RA())) {
		errno = EIO;
		return -1;
	}
	return real___openat_2(dirfd, path, flags);
}

/* Plain forwarding wrappers: NAME(ARGS) fails with ERR and errno E. */
#define WRAP(ret, name, err, e, params, args) \
	ret name params \
	{ \
		REAL(ret(*) params, name, NULL) \
		if (should_fail(#name, RA())) { \
			errno = e; \
			return err; \
		} \
		return real_##name args; \
	}

WRAP(ssize_t, read, -1, EIO, (int fd, void *b, size_t n), (fd, b, n))
WRAP(ssize_t, pread, -1, EIO, (int fd, void *b, size_t n, off_t o), (fd, b, n, o))
WRAP(ssize_t, pread64, -1, EIO, (int fd, void *b, size_t n, off_t o), (fd, b, n, o))
WRAP(ssize_t, write, -1, ENOSPC, (int fd, const void *b, size_t n), (fd, b, n))
WRAP(ssize_t, pwrite, -1, ENOSPC, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o))
WRAP(ssize_t, pwrite64, -1, ENOSPC, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o))
WRAP(int, fsync, -1, EIO, (int fd), (fd))
WRAP(int, fdatasync, -1, EIO, (int fd), (fd))
WRAP(int, rename, -1, EIO, (const char *a, const char *b), (a, b))
WRAP(int, renameat, -1, EIO, (int da, const char *a, int db, const char *b), (da, a, db, b))
WRAP(int, renameat2, -1, EIO, (int da, const char *a, int db, const char *b, unsigned f),
    (da, a, db, b, f))
WRAP(int, flock, -1, ENOLCK, (int fd, int op), (fd, op))
WRAP(int, fstat, -1, EIO, (int fd, struct stat *st), (fd, st))
WRAP(int, faccessat, -1, EIO, (int d, const char *p, int m, int f), (d, p, m, f))
WRAP(int, mkdirat, -1, EIO, (int d, const char *p, mode_t m), (d, p, m))
WRAP(int, fchmod, -1, EIO, (int fd, mode_t m), (fd, m))
WRAP(void *, fdopendir, NULL, ENOMEM, (int fd), (fd))

/* --- OpenSSL, liboath, pcsc-lite: opaque types as void * -------------------- */

#define WRAPLIB(ret, name, err, lib, params, args) \
	ret name params \
	{ \
		REAL(ret(*) params, name, lib) \
		if (should_fail(#name, RA())) \
			return err; \
		return real_##name args; \
	}
#define CRYPTO "libcrypto.so.3"

WRAPLIB(int, RAND_bytes, 0, CRYPTO, (unsigned char *b, int n), (b, n))
WRAPLIB(int, RAND_priv_bytes, 0, CRYPTO, (unsigned char *b, int n), (b, n))
WRAPLIB(void *, EVP_CIPHER_CTX_new, NULL, CRYPTO, (void), ())
WRAPLIB(void *, EVP_MD_CTX_new, NULL, CRYPTO, (void), ())
WRAPLIB(int, EVP_EncryptInit_ex, 0, CRYPTO,
    (void *c, const void *t, void *e, const unsigned char *k, const unsigned char *iv),
    (c, t, e, k, iv))
WRAPLIB(int, EVP_EncryptUpdate, 0, CRYPTO,
    (void *c, unsigned char *o, int *ol, const unsigned char *i, int il), (c, o, ol, i, il))
WRAPLIB(int, EVP_EncryptFinal_ex, 0, CRYPTO, (void *c, unsigned char *o, int *ol), (c, o, ol))
WRAPLIB(int, EVP_DecryptInit_ex, 0, CRYPTO,
    (void *c, const void *t, void *e, const unsigned char *k, const unsigned char *iv),
    (c, t, e, k, iv))
WRAPLIB(int, EVP_DecryptUpdate, 0, CRYPTO,
    (void *c, unsigned char *o, int *ol, const unsigned char *i, int il), (c, o, ol, i, il))
WRAPLIB(int, EVP_DecryptFinal_ex, 0, CRYPTO, (void *c, unsigned char *o, int *ol), (c, o, ol))
WRAPLIB(int, EVP_CIPHER_CTX_ctrl, 0, CRYPTO, (void *c, int t, int a, void *p), (c, t, a, p))
WRAPLIB(int, EVP_DigestInit_ex, 0, CRYPTO, (void *c, const void *t, void *e), (c, t, e))
WRAPLIB(int, EVP_DigestUpdate, 0, CRYPTO, (void *c, const void *d, size_t n), (c, d, n))
WRAPLIB(int, EVP_DigestFinal_ex, 0, CRYPTO, (void *c, unsigned char *md, unsigned int *n),
    (c, md, n))
WRAPLIB(int, EVP_Digest, 0, CRYPTO,
    (const void *d, size_t n, unsigned char *md, unsigned int *mdn, const void *t, void *e),
    (d, n, md, mdn, t, e))
WRAPLIB(int, EVP_DigestVerifyInit, 0, CRYPTO, (void *c, void **pc, const void *t, void *e, void *k),
    (c, pc, t, e, k))
WRAPLIB(int, EVP_DigestVerify, 0, CRYPTO,
    (void *c, const unsigned char *s, size_t sl, const unsigned char *d, size_t dl),
    (c, s, sl, d, dl))
WRAPLIB(int, PKCS5_PBKDF2_HMAC, 0, CRYPTO,
    (const char *p, int pl, const unsigned char *s, int sl, int it, const void *md, int kl,
        unsigned char *out),
    (p, pl, s, sl, it, md, kl, out))
WRAPLIB(int, oath_init, OATH_CRYPTO_ERROR, "liboath.so.0", (void), ())
WRAPLIB(int, oath_totp_generate2, OATH_CRYPTO_ERROR, "liboath.so.0",
    (const char *s, size_t sl, long now, unsigned ts, long t0, unsigned d, int f, char *o),
    (s, sl, now, ts, t0, d, f, o))

#define PCSC "libpcsclite.so.1"
WRAPLIB(long, SCardEstablishContext, SCARD_E_NO_SERVICE, PCSC,
    (unsigned long s, const void *a, const void *b, void *ctx), (s, a, b, ctx))
WRAPLIB(long, SCardListReaders, SCARD_E_NO_SERVICE, PCSC,
    (long ctx, const char *g, char *r, unsigned long *n), (ctx, g, r, n))
WRAPLIB(long, SCardGetStatusChange, SCARD_E_NO_SERVICE, PCSC,
    (long ctx, unsigned long t, void *st, unsigned long n), (ctx, t, st, n))
WRAPLIB(long, SCardConnect, SCARD_E_NO_SERVICE, PCSC,
    (long ctx, const char *r, unsigned long sm, unsigned long pp, long *card, unsigned long *ap),
    (ctx, r, sm, pp, card, ap))
WRAPLIB(long, SCardBeginTransaction, SCARD_E_NOT_TRANSACTED, PCSC, (long card), (card))
WRAPLIB(long, SCardTransmit, SCARD_E_NOT_TRANSACTED, PCSC,
    (long card, const void *spci, const unsigned char *sb, unsigned long sl, void *rpci,
        unsigned char *rb, unsigned long *rl),
    (card, spci, sb, sl, rpci, rb, rl))

/*
 * --- libldap, liblber (the directory backend, lib/store_ldap_conn.c) ----------
 *
 * The directory module is dlopen'ed with RTLD_LOCAL: real() finds libldap by
 * its soname.  Calls that talk to the server fail as a dropped connection would
 * (LDAP_SERVER_DOWN), local ones as libldap does when out of memory
 * (LDAP_NO_MEMORY, or NULL).  ldap_unbind_ext_s always frees the handle, even
 * when it reports an error: the real one runs, its result is replaced.
 */
/* OpenLDAP 2.5 names its libraries by release, 2.6 does not. */
#define LDAP_LIB "libldap-2.5.so.0:libldap.so.2"
#define LBER_LIB "liblber-2.5.so.0:liblber.so.2"
#define LDAP_SERVER_DOWN (-1)
#define LDAP_NO_MEMORY (-10)
#define LDAP_URL_ERR_MEM 1
#define LDAP_OPT_ERROR (-1)

WRAPLIB(int, ldap_initialize, LDAP_NO_MEMORY, LDAP_LIB, (void **ld, const char *uri), (ld, uri))
WRAPLIB(int, ldap_set_option, LDAP_OPT_ERROR, LDAP_LIB, (void *ld, int o, const void *v),
    (ld, o, v))
WRAPLIB(int, ldap_get_option, LDAP_OPT_ERROR, LDAP_LIB, (void *ld, int o, void *v), (ld, o, v))
WRAPLIB(int, ldap_url_parse, LDAP_URL_ERR_MEM, LDAP_LIB, (const char *u, void **lud), (u, lud))
WRAPLIB(int, ldap_str2dn, LDAP_NO_MEMORY, LDAP_LIB, (const char *s, void *dn, unsigned f),
    (s, dn, f))
WRAPLIB(int, ldap_start_tls_s, LDAP_SERVER_DOWN, LDAP_LIB, (void *ld, void *sc, void *cc),
    (ld, sc, cc))
WRAPLIB(int, ldap_sasl_bind_s, LDAP_SERVER_DOWN, LDAP_LIB,
    (void *ld, const char *dn, const char *mech, const void *cred, void *sc, void *cc, void *sd),
    (ld, dn, mech, cred, sc, cc, sd))
WRAPLIB(int, ldap_search_ext_s, LDAP_SERVER_DOWN, LDAP_LIB,
    (void *ld, const char *b, int sc, const char *f, char **a, int ao, void *s, void *c, void *tv,
        int sl, void **res),
    (ld, b, sc, f, a, ao, s, c, tv, sl, res))
WRAPLIB(int, ldap_modify_ext_s, LDAP_SERVER_DOWN, LDAP_LIB,
    (void *ld, const char *dn, void *mods, void *sc, void *cc), (ld, dn, mods, sc, cc))
WRAPLIB(int, ldap_add_ext_s, LDAP_SERVER_DOWN, LDAP_LIB,
    (void *ld, const char *dn, void *attrs, void *sc, void *cc), (ld, dn, attrs, sc, cc))
WRAPLIB(int, ldap_delete_ext_s, LDAP_SERVER_DOWN, LDAP_LIB,
    (void *ld, const char *dn, void *sc, void *cc), (ld, dn, sc, cc))
WRAPLIB(int, ldap_parse_result, LDAP_NO_MEMORY, LDAP_LIB,
    (void *ld, void *res, int *e, char **m, char **em, char ***r, void ***sc, int fr),
    (ld, res, e, m, em, r, sc, fr))
WRAPLIB(int, ldap_create_page_control, LDAP_NO_MEMORY, LDAP_LIB,
    (void *ld, int n, void *cookie, int crit, void **ctrl), (ld, n, cookie, crit, ctrl))
WRAPLIB(void *, ldap_first_entry, NULL, LDAP_LIB, (void *ld, void *res), (ld, res))
WRAPLIB(void *, ldap_next_entry, NULL, LDAP_LIB, (void *ld, void *e), (ld, e))
WRAPLIB(int, ldap_count_entries, -1, LDAP_LIB, (void *ld, void *res), (ld, res))
WRAPLIB(char *, ldap_first_attribute, NULL, LDAP_LIB, (void *ld, void *e, void **ber), (ld, e, ber))
WRAPLIB(char *, ldap_next_attribute, NULL, LDAP_LIB, (void *ld, void *e, void *ber), (ld, e, ber))
WRAPLIB(void *, ldap_get_values_len, NULL, LDAP_LIB, (void *ld, void *e, const char *a), (ld, e, a))
WRAPLIB(char *, ldap_get_dn, NULL, LDAP_LIB, (void *ld, void *e), (ld, e))
WRAPLIB(int, ber_sockbuf_add_io, -1, LBER_LIB, (void *sb, void *io, int layer, void *arg),
    (sb, io, layer, arg))
WRAPLIB(int, ber_sockbuf_ctrl, 0, LBER_LIB, (void *sb, int opt, void *arg), (sb, opt, arg))

int ldap_unbind_ext_s(void *ld, void *sc, void *cc)
{
	int rc;
	REAL(int (*)(void *, void *, void *), ldap_unbind_ext_s, LDAP_LIB)

	rc = real_ldap_unbind_ext_s(ld, sc, cc);
	return should_fail("ldap_unbind_ext_s", RA()) ? LDAP_SERVER_DOWN : rc;
}
