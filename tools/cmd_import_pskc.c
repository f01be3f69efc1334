/*
 * mfauth import pskc FILE --map CSV [--key-file KEYFILE]
 *
 * Bulk enrollment of hardware TOTP tokens from the RFC 6030 (PSKC) file a
 * vendor ships with them.  The file names each token by its serial number
 * (KeyPackage/DeviceInfo/SerialNo); the map says who gets which token, one
 * "serial,user" line each ('#' comments and blank lines skipped, CRLF and a
 * UTF-8 BOM accepted, no quoting; serials compared exactly).
 *
 * Semantics are those of `import csv`: every key package is validated
 * completely before anything of it is written and saved with the
 * replace-only-the-TOTP-factor rule, so a bad one costs itself alone; each
 * outcome is reported ("key N (serial S): user: enrolled" on stdout, reasons
 * on stderr) and audited; never a seed; a summary line; exit 0 when all was
 * imported, 1 when anything failed, 2 for usage errors.
 *
 * What is read from each KeyPackage:
 *   Key/@Algorithm    urn:ietf:params:xml:ns:keyprov:pskc:totp; HOTP and
 *                     anything else is reported as unsupported
 *   AlgorithmParameters/ResponseFormat/@Length   6 or 8 (required; Encoding,
 *                     if given, DECIMAL; no Luhn CheckDigits)
 *   AlgorithmParameters/Suite   HMAC-SHA1 (the default), HMAC-SHA256, HMAC-SHA512
 *   Data/TimeInterval 30 (the default) or 60
 *   Data/Secret       PlainValue (base64), or EncryptedValue + ValueMAC
 *   Data/Time         ignored: RFC 6238 counts from the Unix epoch, as mfauth does
 *   Data/TimeDrift    ignored, with a warning when not 0: mfauth keeps no
 *                     per-token drift, logins accept `window` steps either side
 *   Key/@Id           only to name the key in messages when it has no serial
 *   ds:Signature      not verified (the MAC below is what authenticates a seed)
 *
 * Encrypted values (RFC 6030 section 6.1, pre-shared key): the container's
 * MACMethod (xmldsig hmac-sha1, or xmldsig-more hmac-sha256) carries a MAC
 * key encrypted under the pre-shared key; each Secret has an xenc
 * EncryptedValue (aes128-cbc or aes256-cbc, CipherValue = IV || ciphertext,
 * PKCS#7 padding) and a ValueMAC = HMAC(MAC key, IV || ciphertext).  The MAC
 * is compared (CRYPTO_memcmp) before anything is decrypted, and a value
 * without a MAC is refused.  The pre-shared key is 32 or 64 hex digits in a
 * root-owned 0600/0400 file on a trusted path (mfa_open_trusted).  Note that
 * the MAC covers the ciphertext alone, not the serial it sits next to: the
 * map, not the file, is what binds a seed to a person.
 *
 * The XML is parsed with libxml2 directly, not with libpskc: libpskc
 * (2.6.7, Debian 12) dereferences NULL on an empty <Manufacturer/>
 * (a crash on a vendor file), ignores namespaces, fails the whole parse with
 * PSKC_PARSE_ERROR on every encrypted file (it knows no EncryptionKey,
 * MACMethod or EncryptedValue, so its error code tells nothing), and frees
 * its decoded seeds without wiping them.  Handing the same bytes to two
 * parsers would also invite a parser differential.  So one parser: libxml2
 * with XML_PARSE_NONET and without XML_PARSE_NOENT/DTDLOAD/DTDATTR/DTDVALID
 * (no entity is substituted, nothing is fetched), an external entity loader
 * that refuses everything, and any DOCTYPE refused outright (PSKC has none;
 * entity declarations are where XXE and billion-laughs start).  Elements are
 * matched by namespace and name, each one at most once per parent.
 *
 * Secrets: libxml2's allocator is replaced (xmlMemSetup) by one that wipes
 * every block it frees, so the parser's copies of the input and the
 * document's text nodes do not outlive the command; our own buffers, the
 * pre-shared key and the MAC key are wiped on every path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cli.h"
#include "pskc_import.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/safefile.h"
#include "mfauth/totp.h"

#define PSKC_USAGE "usage: mfauth import pskc FILE --map CSV [--key-file KEYFILE]"

#define PSKC_FILE_MAX ((size_t)64 << 20)  /* ~60,000 tokens; split bigger shipments */
#define MAP_FILE_MAX ((size_t)16 << 20)
#define KEYFILE_MAX 256
#define SERIAL_MAX 128
#define KEY_ID_MAX 64
#define SMALL_TEXT_MAX 256                /* Suite, TimeInterval, ... */
#define VALUE_TEXT_MAX 4096               /* base64 of one value, blanks included */
#define SEED_MIN 10                       /* as `enroll totp --secret-stdin` */
/* IV + a 64-byte seed (or MAC key) padded to whole blocks: the largest we take. */
#define AES_BLOCK 16
#define CIPHER_MAX (AES_BLOCK + MFA_SECRET_MAX + AES_BLOCK)
#define MACKEY_MIN 16
#define MACKEY_MAX 64
#define UNUSED_SHOWN 10                   /* unused map lines listed one by one */

#define NS_PSKC "urn:ietf:params:xml:ns:keyprov:pskc"
#define NS_XENC "http://www.w3.org/2001/04/xmlenc#"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define ALG_TOTP "urn:ietf:params:xml:ns:keyprov:pskc:totp"
#define ALG_HOTP "urn:ietf:params:xml:ns:keyprov:pskc:hotp"

/* Parser options: see the comment at the top.  NOCDATA merges CDATA into text. */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
	XML_PARSE_NOCDATA)

struct psk {
	uint8_t key[32];
	size_t len;                   /* 0: no --key-file */
};

struct mac_info {
	const EVP_MD *md;
	size_t mac_len;
	uint8_t key[MACKEY_MAX];
	size_t key_len;
	const char *why;              /* NULL: usable; else why no encrypted value can be checked */
	char why_buf[512];            /* room for a translated reason */
};

struct map_entry {
	const char *serial;           /* into map.text */
	const char *user;
	size_t line;
	size_t same_serial_line;      /* another line with this serial (ambiguous), or 0 */
	size_t same_user_line;        /* the earlier line giving this user a token, or 0 */
	const char *same_user_serial; /* that line's serial */
	size_t used_by;               /* the key package that claimed it (1-based), or 0 */
	bool seen;                    /* some key package has this serial */
};

struct map {
	char *text;
	struct map_entry *e;          /* in line order */
	struct map_entry **by_serial; /* sorted by serial, then line */
	size_t n;
	size_t bad_lines;
};

struct run {
	const struct cli *c;
	struct mfa_store *store;
	struct map *map;
	struct psk psk;
	struct mac_info mac;
	size_t imported, failed;
	bool saw_plain;
};

/* What we learned about one key package, for its report and audit line. */
struct key_report {
	size_t index;                 /* 1-based position in the file */
	char label[40 + SERIAL_MAX];  /* "key 3 (serial 987654321)" */
	char serial[SERIAL_MAX + 1];  /* "" until it has passed serial_ok() */
	const char *user;             /* a checked name from the map, or NULL */
	const char *token;            /* audit reason of a failure */
	char why[SERIAL_MAX + MFA_USER_MAX + 160];
};

/* --- libxml2 set-up ---------------------------------------------------- */

/* Every block handed to libxml2 carries its size in front, so free can wipe it. */
#define XML_HDR ((size_t)_Alignof(max_align_t))
_Static_assert(_Alignof(max_align_t) >= sizeof(size_t), "no room for the block size");

static void *xml_wipe_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - XML_HDR || (p = malloc(XML_HDR + n)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + XML_HDR;
}

static void xml_wipe_free(void *q)
{
	unsigned char *p;
	size_t n;

	if (q == NULL)
		return;
	p = (unsigned char *)q - XML_HDR;
	memcpy(&n, p, sizeof(n));
	mfa_wipe(p, XML_HDR + n);
	free(p);
}

static void *xml_wipe_realloc(void *q, size_t n)
{
	void *r;
	size_t old;

	if (q == NULL)
		return xml_wipe_malloc(n);
	if ((r = xml_wipe_malloc(n)) == NULL)
		return NULL;
	memcpy(&old, (unsigned char *)q - XML_HDR, sizeof(old));
	memcpy(r, q, old < n ? old : n);
	xml_wipe_free(q);
	return r;
}

static char *xml_wipe_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = xml_wipe_malloc(n);

	if (r != NULL)
		memcpy(r, s, n);
	return r;
}

/* Nothing is ever fetched: not a DTD, not an entity, not over the network. */
static xmlParserInputPtr refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

/* libxml2's own messages may quote the input; ours say what is needed. */
static void silent_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/*
 * Before any other libxml2 call (the allocator cannot change under blocks
 * already handed out).  The CLI owns its process, so global settings are ours
 * to make.  0 or MFA_ERR_NOMEM.
 */
static int xml_setup(void)
{
	static bool done;

	if (done)
		return 0;
	if (xmlMemSetup(xml_wipe_free, xml_wipe_malloc, xml_wipe_realloc, xml_wipe_strdup) != 0)
		return MFA_ERR_NOMEM;
	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_entity);
	xmlSetGenericErrorFunc(NULL, silent_error);
	done = true;
	return 0;
}

/* --- small helpers ------------------------------------------------------- */

static bool is_xml_blank(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void trim_in_place(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n > 0 && is_xml_blank((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (start < n && is_xml_blank((unsigned char)s[start]))
		start++;
	memmove(s, s + start, n - start + 1);
}

/* Printable ASCII without blanks or commas (the map is comma-separated). */
static bool token_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (s[n] <= ' ' || s[n] > '~' || s[n] == ',')
			return false;
	return n > 0 && n <= max;
}

/* Wipe and free a buffer that may have held seeds. */
static void free_wiped(char *p, size_t len)
{
	if (p == NULL)
		return;
	mfa_wipe(p, len);
	free(p);
}

/*
 * Read all of fd, a regular file of at most max bytes, into a NUL-terminated
 * malloc'd buffer.  Returns 0, or an error with *why for the message.  The
 * caller wipes (free_wiped) what may hold a secret.
 */
static int slurp(int fd, size_t max, char **out, size_t *outlen, mode_t *mode, const char **why)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = MFA_ERR_IO;

	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto out;
	}
	rc = MFA_ERR_INVAL;
	if (!S_ISREG(st.st_mode)) {
		*why = _("not a regular file");
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		*why = _("too large");
		rc = MFA_ERR_RANGE;
		goto out;
	}
	/* One byte more than the size, to notice a file that grows under us. */
	cap = (size_t)st.st_size + 1;
	rc = MFA_ERR_NOMEM;
	if ((buf = malloc(cap + 1)) == NULL) {
		*why = _("out of memory");
		goto out;
	}
	rc = MFA_ERR_IO;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			*why = _("changed while being read");
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	*mode = st.st_mode;
	buf = NULL;
	rc = 0;
out:
	free_wiped(buf, cap + 1);
	return rc;
}

/* Open and read an input file named on the command line.  0 or MFA_ERR_*. */
static int read_input(const char *what, const char *path, size_t max, char **out,
    size_t *outlen, mode_t *mode)
{
	const char *why = NULL;
	int fd, rc;

	/* O_NONBLOCK: a FIFO named by mistake must not hang us before fstat says so. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		cli_error(_("import pskc: %s %s: %s"), what, path, strerror(errno));
		return MFA_ERR_IO;
	}
	rc = slurp(fd, max, out, outlen, mode, &why);
	close(fd);
	if (rc == MFA_ERR_RANGE)
		cli_error(_("import pskc: %s %s: larger than %zu MiB%s"), what, path, max >> 20,
		    max == PSKC_FILE_MAX ? _(": split the shipment") : "");
	else if (rc != 0)
		cli_error(_("import pskc: %s %s: %s"), what, path, why);
	return rc;
}

static int b64_digit(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 (RFC 4648 alphabet; XML blanks anywhere, as vendors wrap
 * long values; '=' padding optional, only at the end; unused bits zero).
 * Returns 0, MFA_ERR_RANGE when more than outmax bytes would result, or
 * MFA_ERR_INVAL.  out is wiped on failure.
 */
static int b64_decode(const char *in, uint8_t *out, size_t outmax, size_t *outlen)
{
	uint32_t acc = 0;
	size_t n = 0;
	unsigned q = 0, pad = 0;
	int rc = MFA_ERR_INVAL;

	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		int v;

		if (is_xml_blank(*p))
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_digit(*p)) < 0)
			goto out;
		acc = acc << 6 | (uint32_t)v;
		if (++q < 4)
			continue;
		if (outmax - n < 3) {
			rc = MFA_ERR_RANGE;
			goto out;
		}
		out[n++] = (uint8_t)(acc >> 16);
		out[n++] = (uint8_t)(acc >> 8);
		out[n++] = (uint8_t)acc;
		q = 0;
		acc = 0;
	}
	if (q == 1 || pad > 2 || (pad > 0 && q + pad != 4))
		goto out;
	if ((q == 2 && (acc & 0xf) != 0) || (q == 3 && (acc & 0x3) != 0))
		goto out;
	if (q > 1 && outmax - n < q - 1) {
		rc = MFA_ERR_RANGE;
		goto out;
	}
	if (q == 2) {
		out[n++] = (uint8_t)(acc >> 4);
	} else if (q == 3) {
		out[n++] = (uint8_t)(acc >> 10);
		out[n++] = (uint8_t)(acc >> 2);
	}
	*outlen = n;
	rc = 0;
out:
	mfa_wipe(&acc, sizeof(acc));
	if (rc != 0)
		mfa_wipe(out, outmax);
	return rc;
}

static int hex_nibble(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 32 or 64 hex digits, blanks around them allowed.  0 or MFA_ERR_INVAL. */
static int parse_psk_hex(char *text, struct psk *psk)
{
	size_t n;

	trim_in_place(text);
	n = strlen(text);
	if (n != 32 && n != 64)
		return MFA_ERR_INVAL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_nibble((unsigned char)text[i]), lo = hex_nibble((unsigned char)text[i + 1]);
		if (hi < 0 || lo < 0) {
			mfa_wipe(psk, sizeof(*psk));
			return MFA_ERR_INVAL;
		}
		psk->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	psk->len = n / 2;
	return 0;
}

/*
 * The pre-shared key from --key-file: root-owned, mode 0600 or 0400, on a
 * path only root can change (a relative name is taken from the current
 * directory, whose path is checked too).  0, or MFA_ERR_* after a message.
 */
static int load_psk(const char *path, struct psk *psk)
{
	struct mfa_path_error perr = { "" };
	char abs[PATH_MAX], *text = NULL;
	const char *why = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int fd = -1, rc = MFA_ERR_RANGE;

	if (path[0] == '/') {
		if (snprintf(abs, sizeof(abs), "%s", path) >= (int)sizeof(abs))
			goto out;
	} else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= (int)sizeof(abs))
			goto out;
	}
	if ((fd = mfa_open_trusted(abs, O_RDONLY, false, &perr)) < 0) {
		rc = fd;
		goto out;
	}
	if ((rc = mfa_check_trusted_fd(fd, 0600, abs, &perr)) != 0)
		goto out;
	if ((rc = slurp(fd, KEYFILE_MAX, &text, &len, &mode, &why)) != 0) {
		snprintf(perr.msg, sizeof(perr.msg), "%s: %s", abs, why);
		goto out;
	}
	if ((rc = parse_psk_hex(text, psk)) != 0)
		snprintf(perr.msg, sizeof(perr.msg), _("%s: expected 32 or 64 hex digits "
		    "(an AES-128 or AES-256 key) and nothing else"), abs);
out:
	if (rc == MFA_ERR_RANGE && perr.msg[0] == '\0')
		snprintf(perr.msg, sizeof(perr.msg), _("%s: path too long"), path);
	if (rc != 0)
		cli_error(_("import pskc: cannot use the key file: %s (%s); nothing imported"),
		    perr.msg, cli_strerror(rc));
	free_wiped(text, len);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- the map: serial,user ------------------------------------------------ */

static int cmp_serial(const void *a, const void *b)
{
	const struct map_entry *x = *(struct map_entry *const *)a, *y = *(struct map_entry *const *)b;
	int d = strcmp(x->serial, y->serial);

	return d != 0 ? d : x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_user(const void *a, const void *b)
{
	const struct map_entry *x = *(struct map_entry *const *)a, *y = *(struct map_entry *const *)b;
	int d = strcmp(x->user, y->user);

	return d != 0 ? d : x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_key_serial(const void *key, const void *elem)
{
	return strcmp((const char *)key, (*(struct map_entry *const *)elem)->serial);
}

/* Blanks around a field are not part of it. */
static char *trim_blanks(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* One line (NUL-terminated, in place) into e.  NULL, or why it is refused. */
static const char *map_parse_line(char *line, size_t len, struct map_entry *e)
{
	char *comma, *serial, *user;

	if (strlen(line) != len)
		return _("contains a NUL byte");
	if ((comma = strchr(line, ',')) == NULL || strchr(comma + 1, ',') != NULL)
		return _("expected serial,user");
	*comma = '\0';
	serial = trim_blanks(line);
	user = trim_blanks(comma + 1);
	if (!token_ok(serial, SERIAL_MAX))
		return _("serial must be 1 to 128 printable ASCII characters without blanks or "
		    "commas");
	if (mfa_name_check(user) != 0)
		return _("user name not acceptable");
	e->serial = serial;
	e->user = user;
	return NULL;
}

/* Split the text into entries, reporting bad lines.  0 or MFA_ERR_NOMEM. */
static int map_split(struct map *m, size_t textlen)
{
	char *p = m->text, *end = m->text + textlen;
	size_t lines = 1, lineno = 0;

	for (size_t i = 0; i < textlen; i++)
		lines += m->text[i] == '\n';
	if ((m->e = calloc(lines, sizeof(*m->e))) == NULL)
		return MFA_ERR_NOMEM;
	if (textlen >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)  /* spreadsheets write a BOM */
		p += 3;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len;
		const char *why, *q;

		if (eol == NULL)
			eol = end;      /* text[textlen] is the terminating NUL */
		*eol = '\0';
		len = (size_t)(eol - p);
		lineno++;
		if (len > 0 && p[len - 1] == '\r')
			p[--len] = '\0';
		for (q = p; *q == ' ' || *q == '\t'; q++)
			;
		if (*q != '\0' && *q != '#') {
			struct map_entry *e = &m->e[m->n];
			if ((why = map_parse_line(p, len, e)) != NULL) {
				fprintf(stderr, _("map line %zu: %s\n"), lineno, why);
				m->bad_lines++;
			} else {
				e->line = lineno;
				m->n++;
			}
		}
		p = eol + 1;
	}
	return 0;
}

/*
 * Mark the conflicts and report them in line order.  A serial on two lines
 * is ambiguous: neither line is used.  A user on two lines keeps the first
 * token only ("an error for the second").
 */
static int map_index(struct map *m)
{
	struct map_entry **by_user = NULL;
	int rc = MFA_ERR_NOMEM;

	if (m->n == 0)
		return 0;
	if ((m->by_serial = calloc(m->n, sizeof(*m->by_serial))) == NULL ||
	    (by_user = calloc(m->n, sizeof(*by_user))) == NULL)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		m->by_serial[i] = by_user[i] = &m->e[i];
	qsort(by_user, m->n, sizeof(*by_user), cmp_user);
	for (size_t i = 1, first = 0; i < m->n; i++) {
		if (strcmp(by_user[i]->user, by_user[first]->user) != 0) {
			first = i;
			continue;
		}
		by_user[i]->same_user_line = by_user[first]->line;
		by_user[i]->same_user_serial = by_user[first]->serial;
	}
	qsort(m->by_serial, m->n, sizeof(*m->by_serial), cmp_serial);
	for (size_t i = 1, first = 0; i < m->n; i++) {
		struct map_entry *a = m->by_serial[first], *b = m->by_serial[i];
		if (strcmp(a->serial, b->serial) != 0) {
			first = i;
			continue;
		}
		b->same_serial_line = a->line;
		if (a->same_serial_line == 0)
			a->same_serial_line = b->line;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->e[i];
		if (e->same_serial_line != 0 && e->same_serial_line < e->line) {
			fprintf(stderr,
			    _("map line %zu: serial %s is also on map line %zu: which user "
			    "gets it is unclear, so neither line is used\n"), e->line, e->serial,
			    e->same_serial_line);
			m->bad_lines++;
		} else if (e->same_user_line != 0) {
			fprintf(stderr,
			    _("map line %zu: %s already gets serial %s on map line %zu: "
			    "a user gets one token, so this line is not used\n"), e->line, e->user,
			    e->same_user_serial, e->same_user_line);
			m->bad_lines++;
		}
	}
	rc = 0;
out:
	free(by_user);
	return rc;
}

static void map_free(struct map *m)
{
	free(m->text);
	free(m->e);
	free(m->by_serial);
	memset(m, 0, sizeof(*m));
}

/* Read and index the map; bad lines are reported and counted.  0 or MFA_ERR_*. */
static int map_load(const char *path, struct map *m)
{
	size_t len = 0;
	mode_t mode = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = read_input(_("map"), path, MAP_FILE_MAX, &m->text, &len, &mode)) != 0)
		return rc;
	if ((rc = map_split(m, len)) == 0)
		rc = map_index(m);
	if (rc != 0)
		cli_error(_("import pskc: map %s: %s"), path, cli_strerror(rc));
	return rc;
}

static struct map_entry *map_find(const struct map *m, const char *serial)
{
	struct map_entry **hit;

	if (m->n == 0)
		return NULL;
	hit = bsearch(serial, m->by_serial, m->n, sizeof(*m->by_serial), cmp_key_serial);
	return hit != NULL ? *hit : NULL;
}

/* Map lines that no key package used: a warning (the map may cover several shipments). */
static void warn_unused(const struct map *m, const char *path)
{
	size_t unused = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->e[i];
		if (e->seen || e->same_serial_line != 0 || e->same_user_line != 0)
			continue;
		if (++unused <= UNUSED_SHOWN)
			cli_warn(_("map line %zu: serial %s is not in %s"), e->line, e->serial,
			    path);
	}
	if (unused > UNUSED_SHOWN)
		cli_warn(ngettext("... and %zu more map line whose serial is not in %s",
		    "... and %zu more map lines whose serial is not in %s", unused - UNUSED_SHOWN),
		    unused - UNUSED_SHOWN, path);
}

/* --- XML access ---------------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

/*
 * The child element ns:name of parent.  0 with *out NULL when there is none,
 * 0 with *out set when there is exactly one, -1 when there are more: we
 * would not know which copy the vendor meant (and a second copy is how
 * signature-wrapping tricks begin).
 */
static int one_child(const xmlNode *parent, const char *ns, const char *name, xmlNode **out)
{
	*out = NULL;
	for (xmlNode *n = parent->children; n != NULL; n = n->next) {
		if (!is_elem(n, ns, name))
			continue;
		if (*out != NULL) {
			*out = NULL;
			return -1;
		}
		*out = n;
	}
	return 0;
}

/* Exactly one ns:name child: the node, or NULL (none, or more than one). */
static xmlNode *the_child(const xmlNode *parent, const char *ns, const char *name)
{
	xmlNode *n = NULL;

	return one_child(parent, ns, name, &n) == 0 ? n : NULL;
}

/*
 * The text of element e, XML blanks trimmed at both ends, NUL-terminated in
 * out.  MFA_ERR_INVAL when e holds an element or an entity reference (a
 * value is text only), MFA_ERR_RANGE when it does not fit.  out may receive
 * a secret: the caller wipes it.
 */
static int elem_text(const xmlNode *e, char *out, size_t outmax)
{
	size_t n = 0;

	out[0] = '\0';
	for (const xmlNode *c = e->children; c != NULL; c = c->next) {
		size_t len;

		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			continue;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return MFA_ERR_INVAL;
		if (c->content == NULL)
			continue;
		len = strlen((const char *)c->content);
		if (len >= outmax - n) {
			mfa_wipe(out, n);
			out[0] = '\0';
			return MFA_ERR_RANGE;
		}
		memcpy(out + n, c->content, len);
		n += len;
		out[n] = '\0';
	}
	trim_in_place(out);
	return 0;
}

/* Attribute name (no namespace) into out.  0, MFA_ERR_NOENT or MFA_ERR_RANGE. */
static int attr_text(const xmlNode *n, const char *name, char *out, size_t outmax)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	int rc = MFA_ERR_NOENT;

	if (v != NULL) {
		rc = snprintf(out, outmax, "%s", (const char *)v) < (int)outmax ? 0 : MFA_ERR_RANGE;
		xmlFree(v);
	}
	return rc;
}

/* The text of e's PlainValue child (intDataType: TimeInterval, TimeDrift). */
static int plain_value_text(const xmlNode *e, char *out, size_t outmax)
{
	xmlNode *pv = the_child(e, NS_PSKC, "PlainValue");

	return pv != NULL ? elem_text(pv, out, outmax) : MFA_ERR_INVAL;
}

/*
 * Parse and check the file: well-formed, no DOCTYPE, a PSKC 1.0
 * KeyContainer.  0 with *out, or MFA_ERR_* after a message.
 */
static int parse_pskc(const char *path, const char *buf, size_t len, xmlDoc **out)
{
	xmlParserCtxt *ctxt = NULL;
	xmlDoc *doc = NULL;
	xmlNode *root;
	char version[16];
	int rc = MFA_ERR_NOMEM;

	if (len > INT_MAX || (ctxt = xmlNewParserCtxt()) == NULL) {
		cli_error(_("import pskc: %s: cannot set up the XML parser"), path);
		goto out;
	}
	rc = MFA_ERR_INVAL;
	if ((doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, XML_OPTIONS)) == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "";
		/* One line of libxml2's message, printable characters only. */
		if (e != NULL && e->message != NULL)
			for (size_t i = 0; e->message[i] != '\0' && e->message[i] != '\n' &&
			    i + 1 < sizeof(msg); i++) {
				unsigned char ch = (unsigned char)e->message[i];
				msg[i] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';
				msg[i + 1] = '\0';
			}
		cli_error(_("import pskc: %s: not well-formed XML (line %d: %s); nothing imported"),
		    path, e != NULL ? e->line : 0, msg[0] ? msg : _("parse error"));
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		cli_error(_("import pskc: %s: has a DOCTYPE declaration: refused (PSKC needs none, "
		    "and entity declarations are how XML external-entity attacks start); "
		    "nothing imported"), path);
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !is_elem(root, NS_PSKC, "KeyContainer")) {
		cli_error(_("import pskc: %s: not a PSKC file (the root element is not an RFC 6030 "
		    "KeyContainer in namespace %s); nothing imported"), path, NS_PSKC);
		goto out;
	}
	if (attr_text(root, "Version", version, sizeof(version)) != MFA_ERR_NOENT &&
	    strcmp(version, "1.0") != 0) {
		cli_error(_("import pskc: %s: KeyContainer Version is not 1.0; nothing imported"),
		    path);
		goto out;
	}
	*out = doc;
	doc = NULL;
	rc = 0;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

/* --- crypto -------------------------------------------------------------- */

static const struct {
	const char *uri;
	const EVP_CIPHER *(*cipher)(void);
	size_t key_len;
} ciphers[] = {
	{ NS_XENC "aes128-cbc", EVP_aes_128_cbc, 16 },
	{ NS_XENC "aes256-cbc", EVP_aes_256_cbc, 32 },
};

static const struct {
	const char *uri;
	const EVP_MD *(*md)(void);
} mac_algs[] = {
	{ NS_DS "hmac-sha1", EVP_sha1 },
	{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", EVP_sha256 },
};

/*
 * An xenc EncryptedDataType element e (EncryptionMethod + CipherData/
 * CipherValue): its cipher, checked against the pre-shared key, and the
 * decoded IV || ciphertext in ct.  NULL, or why it cannot be used.
 */
static const char *xenc_cipher_value(const xmlNode *e, const struct psk *psk,
    const EVP_CIPHER **cipher, uint8_t ct[CIPHER_MAX], size_t *ctlen)
{
	char alg[128], text[VALUE_TEXT_MAX];
	xmlNode *method = the_child(e, NS_XENC, "EncryptionMethod"), *data, *value;
	const char *why = NULL;
	size_t i;
	int rc;

	if (method == NULL || attr_text(method, "Algorithm", alg, sizeof(alg)) != 0)
		return _("no xenc:EncryptionMethod Algorithm (or more than one)");
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (strcmp(alg, ciphers[i].uri) == 0)
			break;
	if (i == sizeof(ciphers) / sizeof(ciphers[0]))
		return _("EncryptionMethod is not aes128-cbc or aes256-cbc");
	if (ciphers[i].key_len != psk->len)
		return ciphers[i].key_len == 16 ?
		    _("the file says aes128-cbc but --key-file holds a 32-byte key") :
		    _("the file says aes256-cbc but --key-file holds a 16-byte key");
	if ((data = the_child(e, NS_XENC, "CipherData")) == NULL ||
	    (value = the_child(data, NS_XENC, "CipherValue")) == NULL)
		return _("no xenc:CipherData/CipherValue (a CipherReference is not supported)");
	rc = elem_text(value, text, sizeof(text));
	if (rc == 0)
		rc = b64_decode(text, ct, CIPHER_MAX, ctlen);
	mfa_wipe(text, sizeof(text));
	if (rc == MFA_ERR_RANGE)
		why = _("CipherValue is too long for a TOTP seed (64 bytes at most)");
	else if (rc != 0)
		why = _("CipherValue is not valid base64");
	else if (*ctlen < 2 * AES_BLOCK || *ctlen % AES_BLOCK != 0)
		why = _("CipherValue is not a 16-byte IV followed by whole AES blocks");
	else
		*cipher = ciphers[i].cipher();
	return why;
}

/* AES-CBC with PKCS#7 padding over in = IV || ciphertext.  out: in_len bytes of room. */
static int aes_cbc_decrypt(const EVP_CIPHER *cipher, const struct psk *psk, const uint8_t *in,
    size_t in_len, uint8_t *out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, rc = MFA_ERR_CRYPTO;

	if (ctx == NULL || in_len < 2 * AES_BLOCK || in_len > INT_MAX)
		goto out;
	if (EVP_DecryptInit_ex(ctx, cipher, NULL, psk->key, in) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n1, in + AES_BLOCK, (int)(in_len - AES_BLOCK)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + n1, &n2) != 1)
		goto out;
	*out_len = (size_t)n1 + (size_t)n2;
	rc = 0;
out:
	if (rc != 0)
		mfa_wipe(out, in_len);
	EVP_CIPHER_CTX_free(ctx);       /* cleanses the key schedule */
	return rc;
}

/* Only a named pre-shared key: PBKDF2 (xenc11:DerivedKey) and X.509 are other schemes. */
static bool encryption_key_is_psk(const xmlNode *enckey)
{
	for (const xmlNode *n = enckey->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !is_elem(n, NS_DS, "KeyName"))
			return false;
	return true;
}

/*
 * The container's MAC key, decrypted once.  On any problem m->why says why
 * no encrypted value of this file can be checked; plain values do not care.
 */
static void prepare_mac(const xmlNode *root, const struct psk *psk, struct mac_info *m)
{
	uint8_t ct[CIPHER_MAX], pt[CIPHER_MAX];
	char alg[128];
	xmlNode *enckey = NULL, *method = NULL, *mackey;
	const EVP_CIPHER *cipher = NULL;
	size_t ctlen = 0, ptlen = 0, i;

	memset(m, 0, sizeof(*m));
	if (one_child(root, NS_PSKC, "EncryptionKey", &enckey) != 0 ||
	    one_child(root, NS_PSKC, "MACMethod", &method) != 0) {
		m->why = _("the KeyContainer has more than one EncryptionKey or MACMethod");
		return;
	}
	if (enckey != NULL && !encryption_key_is_psk(enckey)) {
		m->why = _("EncryptionKey is not a pre-shared key (ds:KeyName): PBKDF2 and X.509 "
		    "encryption are not supported");
		return;
	}
	if (method == NULL) {
		m->why = _("the file has no MACMethod: an encrypted value without a MAC is "
		    "refused");
		return;
	}
	if (attr_text(method, "Algorithm", alg, sizeof(alg)) != 0)
		alg[0] = '\0';
	for (i = 0; i < sizeof(mac_algs) / sizeof(mac_algs[0]); i++)
		if (strcmp(alg, mac_algs[i].uri) == 0)
			break;
	if (i == sizeof(mac_algs) / sizeof(mac_algs[0])) {
		m->why = _("MACMethod Algorithm is not hmac-sha1 or hmac-sha256");
		return;
	}
	m->md = mac_algs[i].md();
	m->mac_len = (size_t)EVP_MD_get_size(m->md);
	if ((mackey = the_child(method, NS_PSKC, "MACKey")) == NULL) {
		m->why = _("MACMethod has no MACKey (a MACKeyReference is not supported)");
		return;
	}
	if (psk->len == 0) {
		m->why = _("no --key-file");      /* the entries say so first */
		return;
	}
	if ((m->why = xenc_cipher_value(mackey, psk, &cipher, ct, &ctlen)) != NULL) {
		snprintf(m->why_buf, sizeof(m->why_buf), "MACMethod/MACKey: %s", m->why);
		m->why = m->why_buf;
		goto out;
	}
	if (aes_cbc_decrypt(cipher, psk, ct, ctlen, pt, &ptlen) != 0)
		m->why = _("MAC check failed: the MAC key does not decrypt under the --key-file "
		    "key "
		    "(wrong pre-shared key?)");
	else if (ptlen < MACKEY_MIN || ptlen > MACKEY_MAX)
		m->why = _("the MAC key is shorter than 16 or longer than 64 bytes");
	else
		memcpy(m->key, pt, (m->key_len = ptlen));
out:
	mfa_wipe(ct, sizeof(ct));
	mfa_wipe(pt, sizeof(pt));
}

/* --- one key package ----------------------------------------------------- */

static const char *check_seed_len(size_t len)
{
	if (len == 0)
		return _("seed is empty");
	if (len < SEED_MIN)
		return _("seed is shorter than 10 bytes");
	if (len > MFA_SECRET_MAX)
		return _("seed is longer than 64 bytes");
	return NULL;
}

static const char *plain_secret(const xmlNode *pv, struct mfa_totp_factor *f)
{
	char text[VALUE_TEXT_MAX];
	const char *why = NULL;
	int rc = elem_text(pv, text, sizeof(text));

	if (rc == 0)
		rc = b64_decode(text, f->secret, sizeof(f->secret), &f->secret_len);
	mfa_wipe(text, sizeof(text));
	if (rc == MFA_ERR_RANGE)
		why = _("seed is longer than 64 bytes");
	else if (rc != 0)
		why = _("seed PlainValue is not valid base64");
	else
		why = check_seed_len(f->secret_len);
	return why;
}

/*
 * EncryptedValue ev of Secret s: MAC checked over IV || ciphertext first,
 * then decrypted into f.  NULL, or why (with *token) it is refused.
 */
static const char *encrypted_secret(const struct run *r, const xmlNode *s, const xmlNode *ev,
    struct mfa_totp_factor *f, const char **token)
{
	uint8_t ct[CIPHER_MAX], pt[CIPHER_MAX], mac[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
	char text[VALUE_TEXT_MAX];
	const EVP_CIPHER *cipher = NULL;
	const char *why = NULL;
	xmlNode *vm;
	size_t ctlen = 0, ptlen = 0, wantlen = 0;
	unsigned maclen = 0;
	int rc;

	memset(text, 0, sizeof(text));
	*token = "bad_mac";
	if (r->psk.len == 0) {
		*token = "no_key";
		return _("the seed is encrypted: give the pre-shared key with --key-file");
	}
	if (r->mac.why != NULL)
		return r->mac.why;
	if ((vm = the_child(s, NS_PSKC, "ValueMAC")) == NULL) {
		why = _("no ValueMAC (or more than one): an encrypted value without a MAC is "
		    "refused");
		goto out;
	}
	*token = "bad_secret";
	if ((why = xenc_cipher_value(ev, &r->psk, &cipher, ct, &ctlen)) != NULL)
		goto out;
	rc = elem_text(vm, text, sizeof(text));
	if (rc == 0)
		rc = b64_decode(text, want, sizeof(want), &wantlen);
	*token = "bad_mac";
	if (rc != 0 || wantlen != r->mac.mac_len) {
		why = _("ValueMAC is not a base64 MAC of the MACMethod's length");
		goto out;
	}
	if (HMAC(r->mac.md, r->mac.key, (int)r->mac.key_len, ct, ctlen, mac, &maclen) == NULL ||
	    maclen != r->mac.mac_len) {
		*token = "crypto";
		why = _("cannot compute the MAC (OpenSSL failed)");
		goto out;
	}
	if (CRYPTO_memcmp(mac, want, r->mac.mac_len) != 0) {
		why = _("MAC check failed: wrong pre-shared key (--key-file) or an altered file");
		goto out;
	}
	*token = "bad_secret";
	if (aes_cbc_decrypt(cipher, &r->psk, ct, ctlen, pt, &ptlen) != 0) {
		why = _("the seed does not decrypt although its MAC is right (bad padding): "
		    "the vendor's file is broken");
		goto out;
	}
	if ((why = check_seed_len(ptlen)) == NULL) {
		memcpy(f->secret, pt, ptlen);
		f->secret_len = ptlen;
	}
out:
	mfa_wipe(ct, sizeof(ct));
	mfa_wipe(pt, sizeof(pt));
	mfa_wipe(mac, sizeof(mac));
	mfa_wipe(want, sizeof(want));
	mfa_wipe(text, sizeof(text));
	return why;
}

/* Data/Secret into f: exactly one of PlainValue and EncryptedValue. */
static const char *key_secret(struct run *r, const xmlNode *data, struct mfa_totp_factor *f,
    const char **token)
{
	xmlNode *s = data != NULL ? the_child(data, NS_PSKC, "Secret") : NULL, *pv, *ev;

	*token = "bad_secret";
	if (s == NULL)
		return _("no Data/Secret (or more than one)");
	if (one_child(s, NS_PSKC, "PlainValue", &pv) != 0 ||
	    one_child(s, NS_PSKC, "EncryptedValue", &ev) != 0 || (pv == NULL) == (ev == NULL))
		return _("Secret needs exactly one PlainValue or EncryptedValue");
	if (pv != NULL) {
		r->saw_plain = true;
		return plain_secret(pv, f);
	}
	return encrypted_secret(r, s, ev, f, token);
}

/* "HMAC-SHA256", "hmac-sha256", "SHA256": the TOTP hash.  0 or MFA_ERR_INVAL. */
static int parse_suite(const char *s, uint8_t *alg)
{
	char lower[16];
	size_t n;

	if (strncasecmp(s, "HMAC-", 5) == 0)
		s += 5;
	for (n = 0; s[n] != '\0' && n + 1 < sizeof(lower); n++)
		lower[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
	lower[n] = '\0';
	if (s[n] != '\0')
		return MFA_ERR_INVAL;
	return mfa_alg_parse(lower, alg);
}

/* Digits and hash from AlgorithmParameters. */
static const char *key_alg_params(const xmlNode *key, struct mfa_totp_factor *f)
{
	char text[SMALL_TEXT_MAX];
	xmlNode *ap, *suite, *rf;

	if (one_child(key, NS_PSKC, "AlgorithmParameters", &ap) != 0)
		return _("more than one AlgorithmParameters");
	if (ap != NULL && one_child(ap, NS_PSKC, "Suite", &suite) == 0 && suite != NULL &&
	    (elem_text(suite, text, sizeof(text)) != 0 || parse_suite(text, &f->alg) != 0))
		return _("Suite must be HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512");
	if (ap == NULL || (rf = the_child(ap, NS_PSKC, "ResponseFormat")) == NULL ||
	    attr_text(rf, "Length", text, sizeof(text)) != 0)
		return _("no AlgorithmParameters/ResponseFormat Length (the number of digits)");
	if (enroll_parse_digits(text, &f->digits) != 0)
		return _("digits must be 6 or 8 (ResponseFormat Length)");
	if (attr_text(rf, "Encoding", text, sizeof(text)) == 0 && strcmp(text, "DECIMAL") != 0)
		return _("ResponseFormat Encoding must be DECIMAL");
	if (attr_text(rf, "CheckDigits", text, sizeof(text)) == 0 &&
	    strcmp(text, "false") != 0 && strcmp(text, "0") != 0)
		return _("ResponseFormat CheckDigits (a Luhn digit) is not supported");
	return NULL;
}

/* Period from Data/TimeInterval; a warning for a TimeDrift we cannot keep. */
static const char *key_time_params(const xmlNode *data, const struct key_report *k,
    struct mfa_totp_factor *f)
{
	char text[SMALL_TEXT_MAX];
	xmlNode *ti = NULL, *td = NULL;

	if (data == NULL)
		return NULL;            /* key_secret() says what is missing */
	if (one_child(data, NS_PSKC, "TimeInterval", &ti) != 0 ||
	    one_child(data, NS_PSKC, "TimeDrift", &td) != 0)
		return _("more than one TimeInterval or TimeDrift");
	if (ti != NULL && (plain_value_text(ti, text, sizeof(text)) != 0 ||
	    enroll_parse_period(text, &f->period) != 0))
		return _("period must be 30 or 60 (TimeInterval)");
	if (td != NULL) {
		char *end = NULL;
		long long drift = 0;

		errno = 0;
		if (plain_value_text(td, text, sizeof(text)) == 0)
			drift = strtoll(text, &end, 10);
		if (end == NULL || end == text || *end != '\0' || errno != 0)
			cli_warn(_("%s: TimeDrift ignored (not a PlainValue integer)"), k->label);
		else if (drift != 0)
			cli_warn(_("%s: TimeDrift %lld ignored: mfauth keeps no per-token drift "
			    "(logins accept `window` steps either side)"), k->label, drift);
	}
	return NULL;
}

/* The user of k's map line m (NULL: none), claiming the line.  NULL, or why not. */
static const char *map_claim(struct map_entry *m, struct key_report *k)
{
	k->token = "not_in_map";
	if (m == NULL)
		return _("serial not in the map (--map): skipped");
	k->token = "map_conflict";
	if (m->same_serial_line != 0) {
		snprintf(k->why, sizeof(k->why), _("serial is on map lines %zu and %zu: which "
		    "user gets it is unclear"), m->line < m->same_serial_line ? m->line :
		    m->same_serial_line, m->line < m->same_serial_line ? m->same_serial_line :
		    m->line);
		return k->why;
	}
	if (m->same_user_line != 0) {
		k->user = m->user;
		snprintf(k->why, sizeof(k->why), _("already gets serial %s (map line %zu); map "
		    "line %zu gives a second token: not imported"), m->same_user_serial,
		    m->same_user_line, m->line);
		return k->why;
	}
	k->token = "duplicate";
	k->user = m->user;
	if (m->used_by != 0) {
		snprintf(k->why, sizeof(k->why), _("the file has this serial twice: key %zu "
		    "already took its map line"), m->used_by);
		return k->why;
	}
	m->used_by = k->index;
	return NULL;
}

/* Serial (and, failing that, Key Id) into k, for every message that follows. */
static void name_key(const xmlNode *kp, const xmlNode *key, struct key_report *k)
{
	char id[KEY_ID_MAX + 1];
	xmlNode *dev = the_child(kp, NS_PSKC, "DeviceInfo"), *sn;

	snprintf(k->label, sizeof(k->label), _("key %zu"), k->index);
	if (dev != NULL && (sn = the_child(dev, NS_PSKC, "SerialNo")) != NULL &&
	    elem_text(sn, k->serial, sizeof(k->serial)) == 0 && token_ok(k->serial, SERIAL_MAX)) {
		snprintf(k->label, sizeof(k->label), _("key %zu (serial %s)"), k->index, k->serial);
		return;
	}
	k->serial[0] = '\0';
	if (key != NULL && attr_text(key, "Id", id, sizeof(id)) == 0 && token_ok(id, KEY_ID_MAX))
		snprintf(k->label, sizeof(k->label), _("key %zu (Id %s)"), k->index, id);
}

/*
 * Validate one KeyPackage completely into f and k->user.  NULL, or why it is
 * refused with k->token set.
 */
static const char *check_key(struct run *r, const xmlNode *kp, struct key_report *k,
    struct mfa_totp_factor *f)
{
	char alg[128];
	xmlNode *key = NULL, *data = NULL;
	struct map_entry *m;
	const char *why;
	int dup_key = one_child(kp, NS_PSKC, "Key", &key);

	name_key(kp, key, k);
	k->token = "bad_entry";
	if (k->serial[0] == '\0')
		return _("no usable DeviceInfo/SerialNo (missing, more than one, empty, or not "
		    "1 to 128 printable ASCII characters without blanks or commas)");
	if ((m = map_find(r->map, k->serial)) != NULL)
		m->seen = true;         /* whatever becomes of it, it is not missing */
	if (dup_key != 0 || key == NULL)
		return _("no Key element (or more than one)");
	k->token = "unsupported";
	if (attr_text(key, "Algorithm", alg, sizeof(alg)) != 0)
		return _("Key has no Algorithm");
	if (strcmp(alg, ALG_HOTP) == 0)
		return _("HOTP (counter-based) keys are not supported, only TOTP");
	if (strcmp(alg, ALG_TOTP) != 0)
		return _("Key Algorithm is not TOTP (urn:ietf:params:xml:ns:keyprov:pskc:totp)");
	k->token = "bad_params";
	if (one_child(key, NS_PSKC, "Data", &data) != 0)
		return _("more than one Data");
	if ((why = key_alg_params(key, f)) != NULL || (why = key_time_params(data, k, f)) != NULL)
		return why;
	if ((why = map_claim(m, k)) != NULL)
		return why;
	return key_secret(r, data, f, &k->token);
}

static void audit_key(const struct cli *c, const struct key_report *k,
    const struct mfa_totp_factor *f, bool ok)
{
	char num[24], digits[8], period[8];

	snprintf(num, sizeof(num), "%zu", k->index);
	if (ok) {
		snprintf(digits, sizeof(digits), "%u", (unsigned)f->digits);
		snprintf(period, sizeof(period), "%u", (unsigned)f->period);
		cli_audit(c, "enroll", k->user, "success", "", "factor", "totp", "source",
		    "import_pskc", "serial", k->serial, "algorithm", mfa_alg_name(f->alg),
		    "digits", digits, "period", period, "key", num, NULL);
	} else {
		cli_audit(c, "enroll", k->user != NULL ? k->user : "", "fail", k->token,
		    "factor", "totp", "source", "import_pskc", "serial", k->serial, "key", num,
		    NULL);
	}
}

/* Validate, then save; report and audit.  True if the user was enrolled. */
static bool import_key(struct run *r, const xmlNode *kp, size_t index)
{
	struct mfa_totp_factor f;
	struct key_report k;
	const char *why;
	bool save_failed = false;
	int rc;

	memset(&f, 0, sizeof(f));
	memset(&k, 0, sizeof(k));
	k.index = index;
	f.alg = MFA_ALG_SHA1;           /* defaults when Suite and TimeInterval are absent; */
	f.period = 30;                  /* the digits (ResponseFormat Length) are required */
	why = check_key(r, kp, &k, &f);
	if (why == NULL && (rc = enroll_save_totp(r->store, k.user, &f, (uint64_t)time(NULL))) != 0) {
		why = cli_strerror(rc);
		k.token = mfa_errtoken(rc);
		save_failed = true;
	}
	if (why == NULL)
		printf(_("%s: %s: enrolled\n"), k.label, k.user);
	else if (k.user != NULL)
		fprintf(stderr, "%s: %s: %s%s\n", k.label, k.user,
		    save_failed ? _("cannot save: ") : "",
		    why);
	else
		fprintf(stderr, "%s: %s\n", k.label, why);
	audit_key(r->c, &k, &f, why == NULL);
	mfa_wipe(&f, sizeof(f));
	return why == NULL;
}

/* Every KeyPackage in document order; returns how many there were. */
static size_t import_all(struct run *r, const xmlNode *root)
{
	size_t n = 0;

	for (const xmlNode *kp = root->children; kp != NULL; kp = kp->next) {
		if (!is_elem(kp, NS_PSKC, "KeyPackage"))
			continue;
		if (import_key(r, kp, ++n))
			r->imported++;
		else
			r->failed++;
	}
	return n;
}

/* --- the command --------------------------------------------------------- */

struct pskc_args {
	const char *file;
	const char *map;
	const char *key_file;
};

/* argv[0] is "pskc".  Options may come before or after FILE. */
static int parse_pskc_opts(int argc, char **argv, struct pskc_args *a)
{
	static const struct option opts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "key-file", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 0;     /* full reset: getopt already ran on another argv */
	opterr = 0;     /* its messages would start with "pskc:" */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = opt == 'm' ? &a->map : opt == 'k' ? &a->key_file : NULL;
		if (slot == NULL) {
			cli_error(_("import pskc: unknown option or missing value: '%s'"),
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (*slot != NULL) {
			cli_error(_("import pskc: --%s given twice"),
			    opt == 'm' ? "map" : "key-file");
			return EXIT_USAGE;
		}
		*slot = optarg;
	}
	if (argc - optind != 1) {
		cli_error("%s", _("import pskc: expected exactly one PSKC file"));
		return EXIT_USAGE;
	}
	a->file = argv[optind];
	if (a->map == NULL) {
		cli_error("%s", _("import pskc: --map CSV (serial,user lines) is required"));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_import_pskc(struct cli *c, int argc, char **argv)
{
	struct pskc_args a;
	struct map map;
	struct run r;
	xmlDoc *doc = NULL;
	char *text = NULL;
	size_t len = 0, nkeys;
	mode_t mode = 0;
	int status;

	if ((status = parse_pskc_opts(argc, argv, &a)) != EXIT_OK) {
		cli_error(PSKC_USAGE);
		return status;
	}
	memset(&map, 0, sizeof(map));
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.map = &map;
	status = EXIT_FAIL;
	if (xml_setup() != 0) {
		cli_error("%s", _("import pskc: cannot set up the XML parser"));
		goto out;
	}
	if ((a.key_file != NULL && load_psk(a.key_file, &r.psk) != 0) ||
	    map_load(a.map, &map) != 0 ||
	    read_input(_("file"), a.file, PSKC_FILE_MAX, &text, &len, &mode) != 0 ||
	    parse_pskc(a.file, text, len, &doc) != 0)
		goto out;
	prepare_mac(xmlDocGetRootElement(doc), &r.psk, &r.mac);
	if (cli_open_store(c, &r.store) != EXIT_OK)
		goto out;
	nkeys = import_all(&r, xmlDocGetRootElement(doc));
	if (nkeys == 0)
		cli_error(_("import pskc: %s: no KeyPackage in the file"), a.file);
	warn_unused(&map, a.file);
	if (r.saw_plain && (mode & (S_IRGRP | S_IROTH)) != 0)
		cli_warn(_("%s holds unencrypted seeds and is readable by group or others: "
		    "protect or remove it"), a.file);
	if (map.bad_lines > 0)
		fprintf(stderr, ngettext("map: %zu line not used (see above)\n",
		    "map: %zu lines not used (see above)\n", map.bad_lines), map.bad_lines);
	printf(_("imported %zu, failed %zu\n"), r.imported, r.failed);
	status = nkeys > 0 && r.failed == 0 && map.bad_lines == 0 ? EXIT_OK : EXIT_FAIL;
out:
	mfa_store_close(r.store);
	xmlFreeDoc(doc);
	free_wiped(text, len);
	map_free(&map);
	mfa_wipe(&r.psk, sizeof(r.psk));
	mfa_wipe(&r.mac, sizeof(r.mac));
	return status;
}
