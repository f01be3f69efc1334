/*
 * The RFC 6030 (PSKC) parser behind `mfauth import pskc` (pskc_parse.h):
 * XML bytes in, key packages out, each seed decoded or decrypted only when
 * the caller asks.  The command around it (files, map, store, reports) is
 * cmd_import_pskc.c; fuzz/fuzz_pskc.c drives this file alone.
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
 * pre-shared key and the MAC key are wiped on every path, and a seed lives
 * in the caller's struct pskc_key, which pskc_each() wipes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cli.h"
#include "pskc_parse.h"
#include "seed_input.h"
#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/totp.h"

#define SMALL_TEXT_MAX 256  /* Suite, TimeInterval, ... */
#define VALUE_TEXT_MAX 4096 /* base64 of one value, blanks included */
#define SEED_MIN 10         /* as `enroll totp --secret-stdin` */
/* IV + a 64-byte seed (or MAC key) padded to whole blocks: the largest we take. */
#define AES_BLOCK 16
#define CIPHER_MAX (AES_BLOCK + MFA_SECRET_MAX + AES_BLOCK)
#define MACKEY_MIN 16
#define MACKEY_MAX 64

#define NS_PSKC "urn:ietf:params:xml:ns:keyprov:pskc"
#define NS_XENC "http://www.w3.org/2001/04/xmlenc#"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define ALG_TOTP "urn:ietf:params:xml:ns:keyprov:pskc:totp"
#define ALG_HOTP "urn:ietf:params:xml:ns:keyprov:pskc:hotp"

/* Parser options: see the comment at the top.  NOCDATA merges CDATA into text. */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

struct psk {
	uint8_t key[PSKC_PSK_MAX];
	size_t len; /* 0: no key */
};

struct mac_info {
	const EVP_MD *md;
	size_t mac_len;
	uint8_t key[MACKEY_MAX];
	size_t key_len;
	const char *why;   /* NULL: usable; else why no encrypted value can be checked */
	char why_buf[512]; /* room for a translated reason */
};

struct pskc_doc {
	xmlDoc *doc;
	struct psk psk;
	struct mac_info mac;
};

/* --- libxml2 set-up ---------------------------------------------------- */

/* Every block handed to libxml2 carries its size in front, so free can wipe it. */
#define XML_HDR ((size_t) _Alignof(max_align_t))
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
 * already handed out).  The CLI (and a fuzzer) owns its process, so global
 * settings are ours to make.
 */
int pskc_setup(void)
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

bool pskc_serial_ok(const char *s)
{
	return token_ok(s, PSKC_SERIAL_MAX);
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

int pskc_psk_from_hex(char *text, uint8_t key[PSKC_PSK_MAX], size_t *len)
{
	size_t n;

	trim_in_place(text);
	n = strlen(text);
	if (n != 32 && n != 64)
		return MFA_ERR_INVAL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_nibble((unsigned char)text[i]),
		    lo = hex_nibble((unsigned char)text[i + 1]);
		if (hi < 0 || lo < 0) {
			mfa_wipe(key, PSKC_PSK_MAX);
			return MFA_ERR_INVAL;
		}
		key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* --- XML access ---------------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
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

/* libxml2's message for err: one line, printable characters only (it may quote the input). */
static void xml_error_text(xmlParserCtxt *ctxt, struct pskc_doc_error *err)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);

	err->line = e != NULL ? e->line : 0;
	err->msg[0] = '\0';
	if (e == NULL || e->message == NULL)
		return;
	for (size_t i = 0;
	     e->message[i] != '\0' && e->message[i] != '\n' && i + 1 < sizeof(err->msg); i++) {
		unsigned char ch = (unsigned char)e->message[i];
		err->msg[i] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';
		err->msg[i + 1] = '\0';
	}
}

/*
 * Parse and check the bytes: well-formed, no DOCTYPE, a PSKC 1.0
 * KeyContainer.  0 with *out, or MFA_ERR_* with err filled in.
 */
static int parse_doc(const uint8_t *buf, size_t len, xmlDoc **out, struct pskc_doc_error *err)
{
	xmlParserCtxt *ctxt = NULL;
	xmlDoc *doc = NULL;
	xmlNode *root;
	char version[16];
	int rc = MFA_ERR_NOMEM;

	memset(err, 0, sizeof(*err));
	err->code = PSKC_DOC_SETUP;
	if (len > INT_MAX || (ctxt = xmlNewParserCtxt()) == NULL)
		goto out;
	rc = MFA_ERR_INVAL;
	err->code = PSKC_DOC_XML;
	if ((doc = xmlCtxtReadMemory(ctxt, (const char *)buf, (int)len, NULL, NULL, XML_OPTIONS)) ==
	    NULL) {
		xml_error_text(ctxt, err);
		goto out;
	}
	err->code = PSKC_DOC_DOCTYPE;
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		goto out;
	root = xmlDocGetRootElement(doc);
	err->code = PSKC_DOC_ROOT;
	if (root == NULL || !is_elem(root, NS_PSKC, "KeyContainer"))
		goto out;
	err->code = PSKC_DOC_VERSION;
	if (attr_text(root, "Version", version, sizeof(version)) != MFA_ERR_NOENT &&
	    strcmp(version, "1.0") != 0)
		goto out;
	memset(err, 0, sizeof(*err));
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
	/* clang-format off */
} ciphers[] = {
	{ NS_XENC "aes128-cbc", EVP_aes_128_cbc, 16 },
	{ NS_XENC "aes256-cbc", EVP_aes_256_cbc, 32 },
};
/* clang-format on */

static const struct {
	const char *uri;
	const EVP_MD *(*md)(void);
	/* clang-format off */
} mac_algs[] = {
	{ NS_DS "hmac-sha1", EVP_sha1 },
	{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", EVP_sha256 },
};
/* clang-format on */

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
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
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
		m->why = _("no --key-file"); /* the entries say so first */
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
static const char *encrypted_secret(const struct pskc_doc *d, const xmlNode *s, const xmlNode *ev,
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
	if (d->psk.len == 0) {
		*token = "no_key";
		return _("the seed is encrypted: give the pre-shared key with --key-file");
	}
	if (d->mac.why != NULL)
		return d->mac.why;
	if ((vm = the_child(s, NS_PSKC, "ValueMAC")) == NULL) {
		why = _("no ValueMAC (or more than one): an encrypted value without a MAC is "
		        "refused");
		goto out;
	}
	*token = "bad_secret";
	if ((why = xenc_cipher_value(ev, &d->psk, &cipher, ct, &ctlen)) != NULL)
		goto out;
	rc = elem_text(vm, text, sizeof(text));
	if (rc == 0)
		rc = b64_decode(text, want, sizeof(want), &wantlen);
	*token = "bad_mac";
	if (rc != 0 || wantlen != d->mac.mac_len) {
		why = _("ValueMAC is not a base64 MAC of the MACMethod's length");
		goto out;
	}
	if (HMAC(d->mac.md, d->mac.key, (int)d->mac.key_len, ct, ctlen, mac, &maclen) == NULL ||
	    maclen != d->mac.mac_len) {
		*token = "crypto";
		why = _("cannot compute the MAC (OpenSSL failed)");
		goto out;
	}
	if (CRYPTO_memcmp(mac, want, d->mac.mac_len) != 0) {
		why = _("MAC check failed: wrong pre-shared key (--key-file) or an altered file");
		goto out;
	}
	*token = "bad_secret";
	if (aes_cbc_decrypt(cipher, &d->psk, ct, ctlen, pt, &ptlen) != 0) {
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

/* Data/Secret into k->f: exactly one of PlainValue and EncryptedValue. */
const char *pskc_key_secret(const struct pskc_doc *d, struct pskc_key *k)
{
	const xmlNode *key = the_child(k->node, NS_PSKC, "Key");
	xmlNode *data = key != NULL ? the_child(key, NS_PSKC, "Data") : NULL;
	xmlNode *s = data != NULL ? the_child(data, NS_PSKC, "Secret") : NULL, *pv, *ev;
	const char *why;

	k->token = "bad_secret";
	if (s == NULL)
		return _("no Data/Secret (or more than one)");
	if (one_child(s, NS_PSKC, "PlainValue", &pv) != 0 ||
	    one_child(s, NS_PSKC, "EncryptedValue", &ev) != 0 || (pv == NULL) == (ev == NULL))
		return _("Secret needs exactly one PlainValue or EncryptedValue");
	if (pv != NULL) {
		k->plain = true;
		why = plain_secret(pv, &k->f);
	} else {
		why = encrypted_secret(d, s, ev, &k->f, &k->token);
	}
	if (why != NULL) {
		mfa_wipe(k->f.secret, sizeof(k->f.secret));
		k->f.secret_len = 0;
	}
	return why;
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
	if (seed_parse_digits(text, &f->digits) != 0)
		return _("digits must be 6 or 8 (ResponseFormat Length)");
	if (attr_text(rf, "Encoding", text, sizeof(text)) == 0 && strcmp(text, "DECIMAL") != 0)
		return _("ResponseFormat Encoding must be DECIMAL");
	if (attr_text(rf, "CheckDigits", text, sizeof(text)) == 0 && strcmp(text, "false") != 0 &&
	    strcmp(text, "0") != 0)
		return _("ResponseFormat CheckDigits (a Luhn digit) is not supported");
	return NULL;
}

/* Period from Data/TimeInterval; TimeDrift noted in k for the caller to warn about. */
static const char *key_time_params(const xmlNode *data, struct pskc_key *k)
{
	char text[SMALL_TEXT_MAX];
	xmlNode *ti = NULL, *td = NULL;

	if (data == NULL)
		return NULL; /* pskc_key_secret() says what is missing */
	if (one_child(data, NS_PSKC, "TimeInterval", &ti) != 0 ||
	    one_child(data, NS_PSKC, "TimeDrift", &td) != 0)
		return _("more than one TimeInterval or TimeDrift");
	if (ti != NULL &&
	    (plain_value_text(ti, text, sizeof(text)) != 0 ||
	        seed_parse_period(text, &k->f.period) != 0))
		return _("period must be 30 or 60 (TimeInterval)");
	if (td != NULL) {
		char *end = NULL;
		long long drift = 0;

		errno = 0;
		if (plain_value_text(td, text, sizeof(text)) == 0)
			drift = strtoll(text, &end, 10);
		if (end == NULL || end == text || *end != '\0' || errno != 0) {
			k->drift_state = PSKC_DRIFT_BAD;
		} else {
			k->drift_state = PSKC_DRIFT_SET;
			k->drift = drift;
		}
	}
	return NULL;
}

/* Serial (and, failing that, Key Id) into k, for every message that follows. */
static void name_key(const xmlNode *kp, const xmlNode *key, struct pskc_key *k)
{
	xmlNode *dev = the_child(kp, NS_PSKC, "DeviceInfo"), *sn;

	if (dev != NULL && (sn = the_child(dev, NS_PSKC, "SerialNo")) != NULL &&
	    elem_text(sn, k->serial, sizeof(k->serial)) == 0 && pskc_serial_ok(k->serial))
		return;
	k->serial[0] = '\0';
	if (key != NULL && attr_text(key, "Id", k->id, sizeof(k->id)) == 0 &&
	    token_ok(k->id, PSKC_KEY_ID_MAX))
		return;
	k->id[0] = '\0';
}

/*
 * Check one KeyPackage, all but its seed, into k.  NULL, or why it is
 * refused with k->token set.
 */
static const char *check_key(const xmlNode *kp, struct pskc_key *k)
{
	char alg[128];
	xmlNode *key = NULL, *data = NULL;
	const char *why;
	int dup_key = one_child(kp, NS_PSKC, "Key", &key);

	name_key(kp, key, k);
	k->token = "bad_entry";
	if (k->serial[0] == '\0')
		return _("no usable DeviceInfo/SerialNo (missing, more than one, empty, or not "
		         "1 to 128 printable ASCII characters without blanks or commas)");
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
	if ((why = key_alg_params(key, &k->f)) != NULL || (why = key_time_params(data, k)) != NULL)
		return why;
	return NULL;
}

/* --- the document -------------------------------------------------------- */

int pskc_open(const uint8_t *xml, size_t len, const uint8_t *psk, size_t psk_len,
    struct pskc_doc **out, struct pskc_doc_error *err)
{
	struct pskc_doc *d = NULL;
	int rc = MFA_ERR_NOMEM;

	memset(err, 0, sizeof(*err));
	err->code = PSKC_DOC_SETUP;
	if (psk_len > PSKC_PSK_MAX)
		return MFA_ERR_INVAL;
	if (pskc_setup() != 0 || (d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	if ((rc = parse_doc(xml, len, &d->doc, err)) != 0)
		goto out;
	if (psk_len > 0)
		memcpy(d->psk.key, psk, psk_len);
	d->psk.len = psk_len;
	prepare_mac(xmlDocGetRootElement(d->doc), &d->psk, &d->mac);
	*out = d;
	d = NULL;
	rc = 0;
out:
	pskc_close(d);
	return rc;
}

size_t pskc_each(struct pskc_doc *d,
    void (*each)(void *ctx, struct pskc_doc *d, struct pskc_key *k), void *ctx)
{
	const xmlNode *root = xmlDocGetRootElement(d->doc);
	struct pskc_key k;
	size_t n = 0;

	for (const xmlNode *kp = root->children; kp != NULL; kp = kp->next) {
		if (!is_elem(kp, NS_PSKC, "KeyPackage"))
			continue;
		memset(&k, 0, sizeof(k));
		k.index = ++n;
		k.node = kp;
		/* Defaults for an absent Suite and TimeInterval; the digits are required. */
		k.f.alg = MFA_ALG_SHA1;
		k.f.period = 30;
		k.why = check_key(kp, &k);
		each(ctx, d, &k);
		mfa_wipe(&k, sizeof(k));
	}
	return n;
}

void pskc_close(struct pskc_doc *d)
{
	if (d == NULL)
		return;
	xmlFreeDoc(d->doc);
	mfa_wipe(d, sizeof(*d));
	free(d);
}
