/*
 * XML security for SAML: see xmlsig.h. libxml2 parses, xmlsec1 (OpenSSL backend) signs,
 * verifies, encrypts and decrypts; this file decides what is allowed to reach them.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <xmlsec/base64.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/parser.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <zlib.h>

#include "bounds.h"
#include "buf.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "xmlsig.h"

#define NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define NS_XENC "http://www.w3.org/2001/04/xmlenc#"
#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define URI_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define URI_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define URI_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define URI_RSA_OAEP "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"

/* libxml2 wants unsigned strings; BAD_CAST would drop const. */
#define XS(s) ((const xmlChar *)(s))

/* libxml2's parse options for untrusted input: no network, no entity substitution, no DTD
 * loading (none of NOENT, DTDLOAD, DTDATTR, XINCLUDE, HUGE), errors kept off stderr. A DOCTYPE
 * stops the parser before its internal subset is read (doctype_seen). */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static const struct {
	const char *uri;
	int key_type; /* EVP_PKEY_RSA or EVP_PKEY_EC */
	const EVP_MD *(*md)(void);
} sig_algs[CU_XMLSIG_SIG__MAX] = {
    [CU_XMLSIG_RSA_SHA1] = {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", EVP_PKEY_RSA, EVP_sha1},
    [CU_XMLSIG_RSA_SHA256] = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", EVP_PKEY_RSA,
                              EVP_sha256},
    [CU_XMLSIG_RSA_SHA384] = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", EVP_PKEY_RSA,
                              EVP_sha384},
    [CU_XMLSIG_RSA_SHA512] = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", EVP_PKEY_RSA,
                              EVP_sha512},
    [CU_XMLSIG_ECDSA_SHA256] = {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", EVP_PKEY_EC,
                                EVP_sha256},
    [CU_XMLSIG_ECDSA_SHA384] = {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", EVP_PKEY_EC,
                                EVP_sha384},
    [CU_XMLSIG_ECDSA_SHA512] = {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", EVP_PKEY_EC,
                                EVP_sha512},
};

static const char *const digest_uris[CU_XMLSIG_DIGEST__MAX] = {
    [CU_XMLSIG_SHA1] = "http://www.w3.org/2000/09/xmldsig#sha1",
    [CU_XMLSIG_SHA256] = "http://www.w3.org/2001/04/xmlenc#sha256",
    [CU_XMLSIG_SHA384] = "http://www.w3.org/2001/04/xmldsig-more#sha384",
    [CU_XMLSIG_SHA512] = "http://www.w3.org/2001/04/xmlenc#sha512",
};

static const struct {
	const char *uri;
	xmlSecSize bits;
} ciphers[CU_XMLSIG_CIPHER__MAX] = {
    [CU_XMLSIG_AES256_GCM] = {"http://www.w3.org/2009/xmlenc11#aes256-gcm", 256},
    [CU_XMLSIG_AES128_CBC] = {"http://www.w3.org/2001/04/xmlenc#aes128-cbc", 128},
};

struct cu_xmlsig_key {
	xmlSecKeyPtr xk_key; /* what xmlsec signs, verifies or encrypts with */
	EVP_PKEY *xk_pkey;   /* the same key for the Redirect binding */
	int xk_private;
	int xk_cert; /* a certificate goes into KeyInfo */
};

/* 1 set up, -1 failed for good, 0 not yet. */
static int xmlsig_state;

/* xmlsec's algorithm objects are functions' results, so these are switches, not tables. */
static xmlSecTransformId
sig_transform(enum cu_xmlsig_sig alg)
{
	switch (alg) {
	case CU_XMLSIG_RSA_SHA1:
		return xmlSecTransformRsaSha1Id;
	case CU_XMLSIG_RSA_SHA256:
		return xmlSecTransformRsaSha256Id;
	case CU_XMLSIG_RSA_SHA384:
		return xmlSecTransformRsaSha384Id;
	case CU_XMLSIG_RSA_SHA512:
		return xmlSecTransformRsaSha512Id;
	case CU_XMLSIG_ECDSA_SHA256:
		return xmlSecTransformEcdsaSha256Id;
	case CU_XMLSIG_ECDSA_SHA384:
		return xmlSecTransformEcdsaSha384Id;
	case CU_XMLSIG_ECDSA_SHA512:
		return xmlSecTransformEcdsaSha512Id;
	case CU_XMLSIG_SIG__MAX:
		break;
	}
	return xmlSecTransformIdUnknown;
}

static xmlSecTransformId
digest_transform(enum cu_xmlsig_digest alg)
{
	switch (alg) {
	case CU_XMLSIG_SHA1:
		return xmlSecTransformSha1Id;
	case CU_XMLSIG_SHA256:
		return xmlSecTransformSha256Id;
	case CU_XMLSIG_SHA384:
		return xmlSecTransformSha384Id;
	case CU_XMLSIG_SHA512:
		return xmlSecTransformSha512Id;
	case CU_XMLSIG_DIGEST__MAX:
		break;
	}
	return xmlSecTransformIdUnknown;
}

static xmlSecTransformId
cipher_transform(enum cu_xmlsig_cipher alg)
{
	switch (alg) {
	case CU_XMLSIG_AES256_GCM:
		return xmlSecTransformAes256GcmId;
	case CU_XMLSIG_AES128_CBC:
		return xmlSecTransformAes128CbcId;
	case CU_XMLSIG_CIPHER__MAX:
		break;
	}
	return xmlSecTransformIdUnknown;
}

const char *
cu_xmlsig_sig_uri(enum cu_xmlsig_sig alg)
{
	return (unsigned)alg < CU_XMLSIG_SIG__MAX ? sig_algs[alg].uri : NULL;
}

int
cu_xmlsig_sig_from_uri(enum cu_xmlsig_sig *out, const char *uri)
{
	int i;

	for (i = 0; uri != NULL && i < CU_XMLSIG_SIG__MAX; i++) {
		if (strcmp(uri, sig_algs[i].uri) == 0) {
			*out = (enum cu_xmlsig_sig)i;
			return 0;
		}
	}
	return -1;
}

const char *
cu_xmlsig_digest_uri(enum cu_xmlsig_digest alg)
{
	return (unsigned)alg < CU_XMLSIG_DIGEST__MAX ? digest_uris[alg] : NULL;
}

int
cu_xmlsig_digest_from_uri(enum cu_xmlsig_digest *out, const char *uri)
{
	int i;

	for (i = 0; uri != NULL && i < CU_XMLSIG_DIGEST__MAX; i++) {
		if (strcmp(uri, digest_uris[i]) == 0) {
			*out = (enum cu_xmlsig_digest)i;
			return 0;
		}
	}
	return -1;
}

const char *
cu_xmlsig_cipher_uri(enum cu_xmlsig_cipher alg)
{
	return (unsigned)alg < CU_XMLSIG_CIPHER__MAX ? ciphers[alg].uri : NULL;
}

/*
 * Both libraries print free text on stderr by default; a responder's stderr is its JSON log, and
 * a hostile document could fill it. Their messages go to the log at debug level instead.
 */
static void
xmlsec_error(const char *file, int line, const char *func, const char *object, const char *subject,
             int reason, const char *msg)
{
	(void)file;
	(void)line;
	if (cu_log_level_get() > CU_LOG_DEBUG)
		return;
	cu_log(CU_LOG_DEBUG, "xmlsec_error", CU_LS("func", func), CU_LS("object", object),
	       CU_LS("subject", subject), CU_LI("reason", reason), CU_LS("msg", msg));
}

static void
libxml_error(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	if (err == NULL || cu_log_level_get() > CU_LOG_DEBUG)
		return;
	cu_log(CU_LOG_DEBUG, "libxml2_error", CU_LI("domain", err->domain),
	       CU_LI("code", err->code), CU_LI("line", err->line), CU_LS("msg", err->message));
}

static void
libxml_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int
cu_xmlsig_init(void)
{
	if (xmlsig_state != 0)
		return xmlsig_state > 0 ? 0 : -1;
	xmlsig_state = -1;
	xmlInitParser();
	xmlSetStructuredErrorFunc(NULL, libxml_error);
	xmlSetGenericErrorFunc(NULL, libxml_generic_error);
	if (xmlSecInit() < 0)
		return -1;
	if (xmlSecCheckVersion() != 1)
		return -1;
	if (xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
		return -1;
	/* After xmlSecCryptoInit, which installs a callback of its own. */
	xmlSecErrorsSetCallback(xmlsec_error);
	/* xmlsec registers file, HTTP and FTP readers for external references; with none left, no
	 * URI in a hostile document can make it read a file or reach the network. */
	xmlSecIOCleanupCallbacks();
	/* xmlsec parses decrypted content with XML_PARSE_HUGE by default. */
	xmlSecParserSetDefaultOptions(XML_PARSE_NONET | XML_PARSE_NODICT);
	/* Base64 (SignatureValue, X509Certificate, CipherValue) on one line, as authentik and most
	 * IdPs write it; the X509Data writer refuses 0, "no breaks", so the line is just long. */
	xmlSecBase64SetDefaultLineSize(INT_MAX);
	xmlsig_state = 1;
	return 0;
}

/* Parsing. */

struct parse_state {
	int ps_depth;
	size_t ps_elements;
	enum cu_err ps_err; /* CU_OK until a DOCTYPE or a limit stops the parser */
};

static void
parse_stop(xmlParserCtxtPtr ctxt, enum cu_err err)
{
	struct parse_state *ps = ctxt->_private;

	if (ps->ps_err == CU_OK)
		ps->ps_err = err;
	xmlStopParser(ctxt);
}

/* Called when "<!DOCTYPE name ...>" has been read, before any internal subset: the parse ends
 * there, so no entity or attribute declaration is ever seen. */
static void
doctype_seen(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	parse_stop(ctx, CU_ERR_INVALID);
}

static void
element_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
              int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
              const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *ps = ctxt->_private;

	if (++ps->ps_depth > CU_XML_MAX_DEPTH || ++ps->ps_elements > CU_XML_MAX_NODES ||
	    nb_attributes > CU_XML_MAX_ATTRS || nb_namespaces > CU_XML_MAX_ATTRS) {
		parse_stop(ctxt, CU_ERR_TOO_LARGE);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
	                      nb_defaulted, attributes);
}

static void
element_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *ps = ctxt->_private;

	ps->ps_depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* The index of the first occurrence of what at or after i, or n when none. */
static size_t
skip_past(const char *s, size_t i, size_t n, const char *what)
{
	size_t w = strlen(what);

	for (; i + w <= n; i++) {
		if (memcmp(s + i, what, w) == 0)
			return i + w;
	}
	return n;
}

/*
 * libxml2 2.9 checks an element's attributes for duplicates pairwise, before any callback can
 * stop it: one tag with a hundred thousand attributes costs seconds. This linear pass counts
 * the '=' outside quotes in each tag (attributes plus namespace declarations) and refuses a tag
 * with more than the parser would accept anyway. Comments, CDATA and processing instructions
 * are skipped; anything malformed is left for the parser to refuse.
 */
static int
tags_bounded(const char *s, size_t n)
{
	size_t i = 0, eq;
	char q;

	while (i < n) {
		if (s[i] != '<') {
			i++;
			continue;
		}
		if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
			i = skip_past(s, i + 4, n, "-->");
			continue;
		}
		if (i + 9 <= n && memcmp(s + i, "<![CDATA[", 9) == 0) {
			i = skip_past(s, i + 9, n, "]]>");
			continue;
		}
		if (i + 1 < n && s[i + 1] == '?') {
			i = skip_past(s, i + 2, n, "?>");
			continue;
		}
		for (i++, eq = 0; i < n && s[i] != '>'; i++) {
			if (s[i] == '"' || s[i] == '\'') {
				q = s[i];
				for (i++; i < n && s[i] != q;)
					i++;
			} else if (s[i] == '=' && ++eq > 2 * CU_XML_MAX_ATTRS) {
				return 0;
			}
		}
	}
	return 1;
}

static void
free_doc(void *p)
{
	xmlFreeDoc(p);
}

enum cu_err
cu_xmlsig_parse(xmlDoc **out, struct cu_arena *a, const char *bytes, size_t len)
{
	struct parse_state ps = {0, 0, CU_OK};
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	enum cu_err err = CU_ERR_INVALID;

	*out = NULL;
	if (cu_xmlsig_init() != 0)
		return CU_ERR_INTERNAL;
	if (len > CU_XML_MAX_BYTES)
		return CU_ERR_TOO_LARGE;
	if (bytes == NULL || len == 0)
		return CU_ERR_INVALID;
	if (!tags_bounded(bytes, len))
		return CU_ERR_TOO_LARGE;
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		cu_die("xmlNewParserCtxt");
	ctxt->_private = &ps;
	ctxt->sax->internalSubset = doctype_seen;
	ctxt->sax->startElementNs = element_start;
	ctxt->sax->endElementNs = element_end;
	doc = xmlCtxtReadMemory(ctxt, bytes, (int)len, NULL, NULL, PARSE_OPTIONS);
	if (ps.ps_err != CU_OK) {
		err = ps.ps_err;
		goto out;
	}
	/* nsWellFormed: an undeclared prefix would leave "saml:Issuer" in no namespace at all. */
	if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed || doc->intSubset != NULL ||
	    xmlDocGetRootElement(doc) == NULL)
		goto out;
	cu_arena_defer(a, free_doc, doc);
	*out = doc;
	doc = NULL;
	err = CU_OK;
out:
	if (doc != NULL)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return err;
}

int
cu_xmlsig_serialize(char **out, size_t *len, struct cu_arena *a, xmlDoc *doc)
{
	xmlChar *mem = NULL;
	int n = 0;

	*out = NULL;
	*len = 0;
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem == NULL || n <= 0) {
		xmlFree(mem);
		return -1;
	}
	*out = cu_arena_strndup(a, (const char *)mem, (size_t)n);
	*len = (size_t)n;
	xmlFree(mem);
	return 0;
}

/* Keys. */

/* Keys are stored unencrypted (sealed by lib/crypto.h instead): never prompt for a passphrase,
 * which OpenSSL would do on the terminal with no callback. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* 1 when the len bytes at pem hold "-----BEGIN <label>-----". */
static int
pem_is(const char *pem, size_t len, const char *label)
{
	char head[64];
	size_t n = (size_t)snprintf(head, sizeof(head), "-----BEGIN %s-----", label);
	size_t i;

	for (i = 0; n < sizeof(head) && i + n <= len; i++) {
		if (memcmp(pem + i, head, n) == 0)
			return 1;
	}
	return 0;
}

int
cu_xmlsig_key_load(struct cu_xmlsig_key **out, const char *key_pem, size_t key_len,
                   const char *cert_pem, size_t cert_len)
{
	struct cu_xmlsig_key *k = NULL;
	BIO *bio = NULL;
	X509 *cert = NULL;
	EVP_PKEY *pub = NULL;
	int type, rc = -1;

	*out = NULL;
	if (cu_xmlsig_init() != 0)
		return -1;
	if ((key_pem == NULL && cert_pem == NULL) || key_len > CU_XML_MAX_PEM ||
	    cert_len > CU_XML_MAX_PEM)
		return -1;
	k = cu_calloc(1, sizeof(*k));
	if (cert_pem != NULL) {
		bio = BIO_new_mem_buf(cert_pem, (int)cert_len);
		if (bio == NULL)
			cu_die("BIO_new_mem_buf");
		k->xk_cert = pem_is(cert_pem, cert_len, "CERTIFICATE");
		if (k->xk_cert) {
			cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
			pub = cert != NULL ? X509_get_pubkey(cert) : NULL;
		} else {
			pub = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
		}
		if (pub == NULL)
			goto out;
	}
	if (key_pem != NULL) {
		BIO_free(bio);
		bio = BIO_new_mem_buf(key_pem, (int)key_len);
		if (bio == NULL)
			cu_die("BIO_new_mem_buf");
		k->xk_pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		if (k->xk_pkey == NULL || (pub != NULL && EVP_PKEY_eq(k->xk_pkey, pub) != 1))
			goto out;
		k->xk_private = 1;
		k->xk_key = xmlSecCryptoAppKeyLoadMemory(
		    (const xmlSecByte *)key_pem, (xmlSecSize)key_len, xmlSecKeyDataFormatPem, NULL,
		    (void *)(uintptr_t)no_passphrase, NULL);
		if (k->xk_key == NULL)
			goto out;
		if (k->xk_cert && xmlSecCryptoAppKeyCertLoadMemory(
		                      k->xk_key, (const xmlSecByte *)cert_pem, (xmlSecSize)cert_len,
		                      xmlSecKeyDataFormatPem) < 0)
			goto out;
	} else {
		k->xk_pkey = pub;
		pub = NULL;
		k->xk_key = xmlSecCryptoAppKeyLoadMemory(
		    (const xmlSecByte *)cert_pem, (xmlSecSize)cert_len,
		    k->xk_cert ? xmlSecKeyDataFormatCertPem : xmlSecKeyDataFormatPem, NULL,
		    (void *)(uintptr_t)no_passphrase, NULL);
		if (k->xk_key == NULL)
			goto out;
	}
	type = EVP_PKEY_get_base_id(k->xk_pkey);
	if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC)
		goto out;
	*out = k;
	k = NULL;
	rc = 0;
out:
	cu_xmlsig_key_free(k);
	EVP_PKEY_free(pub);
	X509_free(cert);
	BIO_free(bio);
	return rc;
}

void
cu_xmlsig_key_free(struct cu_xmlsig_key *k)
{
	if (k == NULL)
		return;
	if (k->xk_key != NULL)
		xmlSecKeyDestroy(k->xk_key);
	EVP_PKEY_free(k->xk_pkey);
	cu_free(k);
}

static int
key_fits(const struct cu_xmlsig_key *key, enum cu_xmlsig_sig alg)
{
	return (unsigned)alg < CU_XMLSIG_SIG__MAX &&
	       EVP_PKEY_get_base_id(key->xk_pkey) == sig_algs[alg].key_type;
}

/* Tree helpers. */

static int algorithm_is(xmlNode *n, const char *uri);

static int
is_element(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, XS(ns)) && xmlStrEqual(n->name, XS(name));
}

static xmlNode *
first_element(xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static xmlNode *
next_element(xmlNode *n)
{
	return n != NULL ? first_element(n->next) : NULL;
}

/* The next node of doc in document order after n, descending into elements only. */
static xmlNode *
walk_next(xmlNode *n)
{
	if (n->type == XML_ELEMENT_NODE && n->children != NULL)
		return n->children;
	while (n != NULL && n->next == NULL) {
		n = n->parent;
		if (n != NULL && n->type != XML_ELEMENT_NODE)
			return NULL;
	}
	return n != NULL ? n->next : NULL;
}

/* xs:ID is an NCName; custos accepts its ASCII part, which also keeps the value safe inside the
 * XPointer expression xmlsec builds from "#id". */
static int
id_char(xmlChar c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static int
id_ok(const xmlChar *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0')
		return 0;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= CU_XML_MAX_ID || !id_char(id[i], i == 0))
			return 0;
	}
	return 1;
}

/*
 * Registers every id_attr attribute (in no namespace) of doc as an XML ID, so that "#id" finds
 * it. -1 when a value occurs twice, or is also an xml:id elsewhere: which element "#id" names
 * would then be a guess, and signature wrapping lives in such guesses.
 */
static int
register_ids(xmlDoc *doc, const char *id_attr)
{
	xmlNode *n;
	xmlAttr *attr;
	xmlAttr *owner;
	xmlChar *val;
	int rc = 0;

	for (n = xmlDocGetRootElement(doc); n != NULL && rc == 0; n = walk_next(n)) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (attr = n->properties; attr != NULL && rc == 0; attr = attr->next) {
			if (attr->ns != NULL || !xmlStrEqual(attr->name, XS(id_attr)))
				continue;
			val = xmlNodeListGetString(doc, attr->children, 1);
			if (val == NULL)
				continue;
			owner = xmlGetID(doc, val);
			if (owner == NULL) {
				if (xmlAddID(NULL, doc, val, attr) == NULL)
					rc = -1;
			} else if (owner != attr) {
				rc = -1;
			}
			xmlFree(val);
		}
	}
	return rc;
}

/* The element whose ID is id, NULL when none. */
static xmlNode *
id_owner(xmlDoc *doc, const xmlChar *id)
{
	xmlAttr *attr = xmlGetID(doc, id);

	if (attr == NULL || (void *)attr == (void *)doc)
		return NULL;
	return attr->parent;
}

xmlNode *
cu_xmlsig_signature(xmlNode *el)
{
	xmlNode *c;

	for (c = el != NULL ? first_element(el->children) : NULL; c != NULL; c = next_element(c)) {
		if (is_element(c, NS_DSIG, "Signature"))
			return c;
	}
	return NULL;
}

int
cu_xmlsig_uses_sha1(xmlNode *el)
{
	xmlNode *sig = cu_xmlsig_signature(el), *si, *c, *ref;

	si = sig != NULL ? first_element(sig->children) : NULL;
	for (c = si != NULL ? first_element(si->children) : NULL; c != NULL; c = next_element(c)) {
		if (is_element(c, NS_DSIG, "SignatureMethod") &&
		    algorithm_is(c, sig_algs[CU_XMLSIG_RSA_SHA1].uri))
			return 1;
		if (!is_element(c, NS_DSIG, "Reference"))
			continue;
		for (ref = first_element(c->children); ref != NULL; ref = next_element(ref))
			if (is_element(ref, NS_DSIG, "DigestMethod") &&
			    algorithm_is(ref, digest_uris[CU_XMLSIG_SHA1]))
				return 1;
	}
	return 0;
}

/* Signing. */

/* Drops the line breaks xmlsec's templates put between elements: the signature comes out on
 * one line, like the rest of what custos writes. */
static void
strip_blanks(xmlNode *n)
{
	xmlNode *c, *next;

	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			strip_blanks(c);
		}
	}
}

int
cu_xmlsig_sign(xmlDoc *doc, xmlNode *el, const char *id_attr, const struct cu_xmlsig_key *key,
               enum cu_xmlsig_sig alg, enum cu_xmlsig_digest digest)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlNodePtr sig = NULL, ref, ki, first;
	xmlChar *id = NULL;
	char *uri = NULL;
	size_t n;
	int rc = -1;

	if (cu_xmlsig_init() != 0 || doc == NULL || el == NULL || el->type != XML_ELEMENT_NODE ||
	    el->doc != doc || id_attr == NULL || key == NULL || !key->xk_private ||
	    !key_fits(key, alg) || (unsigned)digest >= CU_XMLSIG_DIGEST__MAX)
		return -1;
	if (cu_xmlsig_signature(el) != NULL)
		return -1;
	id = xmlGetNoNsProp(el, XS(id_attr));
	if (!id_ok(id) || register_ids(doc, id_attr) != 0 || id_owner(doc, id) != el)
		goto out;
	n = strlen((const char *)id) + 2;
	uri = cu_malloc(n);
	(void)snprintf(uri, n, "#%s", (const char *)id);

	sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, sig_transform(alg),
	                                      NULL, XS("ds"));
	if (sig == NULL)
		goto out;
	first = first_element(el->children);
	if (is_element(first, NS_SAML, "Issuer"))
		xmlAddNextSibling(first, sig);
	else if (el->children != NULL)
		xmlAddPrevSibling(el->children, sig);
	else
		xmlAddChild(el, sig);
	ref = xmlSecTmplSignatureAddReference(sig, digest_transform(digest), NULL, XS(uri), NULL);
	if (ref == NULL ||
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) == NULL)
		goto out;
	if (key->xk_cert) {
		ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
		if (ki == NULL || xmlSecTmplKeyInfoAddX509Data(ki) == NULL)
			goto out;
	}
	strip_blanks(sig);
	ctx = xmlSecDSigCtxCreate(NULL);
	if (ctx == NULL)
		goto out;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	ctx->signKey = key->xk_key; /* borrowed: taken back below before the context goes */
	if (xmlSecDSigCtxSign(ctx, sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded)
		goto out;
	/* The writer of X509Data adds line breaks too; KeyInfo is outside SignedInfo. */
	strip_blanks(sig);
	rc = 0;
out:
	if (ctx != NULL) {
		ctx->signKey = NULL;
		xmlSecDSigCtxDestroy(ctx);
	}
	if (rc != 0 && sig != NULL) {
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	cu_free(uri);
	xmlFree(id);
	return rc;
}

/* Verification. */

/* n's attribute name (in no namespace) compared with value. */
static int
attr_is(xmlNode *n, const char *name, const char *value)
{
	xmlChar *v = xmlGetNoNsProp(n, XS(name));
	int eq = v != NULL && xmlStrEqual(v, XS(value));

	xmlFree(v);
	return eq;
}

static int
algorithm_is(xmlNode *n, const char *uri)
{
	return attr_is(n, "Algorithm", uri);
}

/* What exc-c14n takes as a parameter: at most one ec:InclusiveNamespaces (OpenSAML writes
 * one for the xs prefix), nothing else. */
static int
exc_c14n_params_ok(xmlNode *n)
{
	xmlNode *c = first_element(n->children);

	return c == NULL || (is_element(c, URI_EXC_C14N, "InclusiveNamespaces") &&
	                     first_element(c->children) == NULL && next_element(c) == NULL);
}

/*
 * The shape of a SAML signature, checked before xmlsec sees it, so that nothing but what SAML
 * uses is processed: SignedInfo, SignatureValue, KeyInfo? (no Object, so no Manifest and no
 * place to hide a copy); in SignedInfo one Reference to "#id" whose transforms are
 * enveloped-signature and optionally exc-c14n, and algorithms custos knows for key.
 */
static const char *
signature_shape(xmlNode *sig, const xmlChar *id, const struct cu_xmlsig_key *key)
{
	xmlNode *si, *val, *ki, *c14n, *method, *ref, *c, *t;
	xmlChar *uri, *alg;
	enum cu_xmlsig_sig sig_alg;
	enum cu_xmlsig_digest dig;
	int enveloped = 0, exc = 0, ok;

	si = first_element(sig->children);
	val = next_element(si);
	ki = next_element(val);
	if (!is_element(si, NS_DSIG, "SignedInfo") || !is_element(val, NS_DSIG, "SignatureValue"))
		return "signature is not SignedInfo, SignatureValue, KeyInfo";
	if (ki != NULL && (!is_element(ki, NS_DSIG, "KeyInfo") || next_element(ki) != NULL))
		return "signature is not SignedInfo, SignatureValue, KeyInfo";
	c14n = first_element(si->children);
	method = next_element(c14n);
	ref = next_element(method);
	if (!is_element(c14n, NS_DSIG, "CanonicalizationMethod") ||
	    !is_element(method, NS_DSIG, "SignatureMethod") ||
	    !is_element(ref, NS_DSIG, "Reference"))
		return "malformed SignedInfo";
	if (next_element(ref) != NULL)
		return "signature has more than one reference";
	if (!(algorithm_is(c14n, URI_EXC_C14N) && exc_c14n_params_ok(c14n)) &&
	    !(algorithm_is(c14n, URI_C14N) && first_element(c14n->children) == NULL))
		return "canonicalization method not accepted";
	alg = xmlGetNoNsProp(method, XS("Algorithm"));
	ok = cu_xmlsig_sig_from_uri(&sig_alg, (const char *)alg) == 0;
	xmlFree(alg);
	if (!ok)
		return "signature algorithm not accepted";
	if (!key_fits(key, sig_alg))
		return "signature algorithm does not fit the key";

	uri = xmlGetNoNsProp(ref, XS("URI"));
	ok = uri != NULL && uri[0] == '#' && xmlStrEqual(uri + 1, id);
	xmlFree(uri);
	if (!ok)
		return "reference does not name the element";
	c = first_element(ref->children);
	if (is_element(c, NS_DSIG, "Transforms")) {
		for (t = first_element(c->children); t != NULL; t = next_element(t)) {
			if (!is_element(t, NS_DSIG, "Transform"))
				return "transform not accepted";
			if (algorithm_is(t, URI_ENVELOPED) && !enveloped &&
			    first_element(t->children) == NULL)
				enveloped = 1;
			else if (algorithm_is(t, URI_EXC_C14N) && !exc && exc_c14n_params_ok(t))
				exc = 1;
			else
				return "transform not accepted";
		}
		c = next_element(c);
	}
	if (!enveloped)
		return "signature is not enveloped";
	if (!is_element(c, NS_DSIG, "DigestMethod"))
		return "malformed Reference";
	alg = xmlGetNoNsProp(c, XS("Algorithm"));
	ok = cu_xmlsig_digest_from_uri(&dig, (const char *)alg) == 0;
	xmlFree(alg);
	if (!ok)
		return "digest algorithm not accepted";
	c = next_element(c);
	if (!is_element(c, NS_DSIG, "DigestValue") || next_element(c) != NULL)
		return "malformed Reference";
	return NULL;
}

static int
enable_verify_transforms(xmlSecDSigCtxPtr ctx)
{
	int i, rc = 0;

	rc |= xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId);
	rc |= xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId);
	for (i = 0; i < CU_XMLSIG_DIGEST__MAX; i++)
		rc |= xmlSecDSigCtxEnableReferenceTransform(
		    ctx, digest_transform((enum cu_xmlsig_digest)i));
	rc |= xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId);
	rc |= xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14NId);
	for (i = 0; i < CU_XMLSIG_SIG__MAX; i++)
		rc |= xmlSecDSigCtxEnableSignatureTransform(ctx,
		                                            sig_transform((enum cu_xmlsig_sig)i));
	return rc < 0 ? -1 : 0;
}

int
cu_xmlsig_verify(const char **why, xmlDoc *doc, xmlNode *el, const char *id_attr,
                 const struct cu_xmlsig_key *key)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecDSigReferenceCtxPtr ref;
	xmlNode *sig, *c;
	xmlChar *id = NULL;
	const char *reason = "internal error";
	int rc = -1;

	if (cu_xmlsig_init() != 0 || doc == NULL || el == NULL || el->type != XML_ELEMENT_NODE ||
	    el->doc != doc || id_attr == NULL || key == NULL)
		goto out;
	sig = cu_xmlsig_signature(el);
	if (sig == NULL) {
		reason = "not signed";
		goto out;
	}
	for (c = next_element(sig); c != NULL; c = next_element(c)) {
		if (is_element(c, NS_DSIG, "Signature")) {
			reason = "more than one signature";
			goto out;
		}
	}
	id = xmlGetNoNsProp(el, XS(id_attr));
	if (!id_ok(id)) {
		reason = "element has no valid ID";
		goto out;
	}
	reason = signature_shape(sig, id, key);
	if (reason != NULL)
		goto out;
	if (register_ids(doc, id_attr) != 0) {
		reason = "duplicate ID";
		goto out;
	}
	if (id_owner(doc, id) != el) {
		reason = "ID does not name the element";
		goto out;
	}

	reason = "signature cannot be processed";
	ctx = xmlSecDSigCtxCreate(NULL);
	if (ctx == NULL)
		goto out;
	ctx->flags = XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	if (enable_verify_transforms(ctx) != 0)
		goto out;
	ctx->signKey = key->xk_key; /* borrowed: the KeyInfo in the document is never read */
	if (xmlSecDSigCtxVerify(ctx, sig) < 0)
		goto out;
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		reason = "signature does not verify";
		goto out;
	}
	/* What xmlsec actually digested must be the one reference checked above. */
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1)
		goto out;
	ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
	if (ref == NULL || ref->status != xmlSecDSigStatusSucceeded || ref->uri == NULL ||
	    ref->uri[0] != '#' || !xmlStrEqual(ref->uri + 1, id) || id_owner(doc, id) != el)
		goto out;
	reason = NULL;
	rc = 0;
out:
	if (ctx != NULL) {
		ctx->signKey = NULL;
		xmlSecDSigCtxDestroy(ctx);
	}
	xmlFree(id);
	if (why != NULL)
		*why = reason;
	return rc;
}

/* Encryption. */

/* Declares on el every namespace in scope there, so that el serialised alone still means the
 * same: prefixes inside attribute values (xsi:type="xs:string") included. */
static int
declare_scope(xmlDoc *doc, xmlNode *el)
{
	xmlNsPtr *list = xmlGetNsList(doc, el);
	xmlNsPtr d;
	size_t i;
	int found;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		found = 0;
		for (d = el->nsDef; d != NULL && !found; d = d->next)
			found = xmlStrEqual(d->prefix, list[i]->prefix);
		if (!found && xmlNewNs(el, list[i]->href, list[i]->prefix) == NULL) {
			xmlFree(list);
			return -1;
		}
	}
	xmlFree(list);
	return 0;
}

/* A keys manager holding a copy of key: xmlsec finds the key-transport key through one. */
static xmlSecKeysMngrPtr
keys_mngr(const struct cu_xmlsig_key *key)
{
	xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
	xmlSecKeyPtr dup = NULL;

	if (mngr == NULL || xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0)
		goto fail;
	dup = xmlSecKeyDuplicate(key->xk_key);
	if (dup == NULL || xmlSecCryptoAppDefaultKeysMngrAdoptKey(mngr, dup) < 0)
		goto fail;
	return mngr;
fail:
	if (dup != NULL)
		xmlSecKeyDestroy(dup);
	if (mngr != NULL)
		xmlSecKeysMngrDestroy(mngr);
	return NULL;
}

int
cu_xmlsig_encrypt(xmlNode **out, xmlDoc *doc, xmlNode *el, const struct cu_xmlsig_key *key,
                  enum cu_xmlsig_cipher cipher)
{
	xmlSecKeysMngrPtr mngr = NULL;
	xmlSecEncCtxPtr ctx = NULL;
	xmlNodePtr tmpl = NULL, ki, ek;
	int rc = -1;

	*out = NULL;
	if (cu_xmlsig_init() != 0 || doc == NULL || el == NULL || el->type != XML_ELEMENT_NODE ||
	    el->doc != doc || el->parent == NULL || key == NULL ||
	    (unsigned)cipher >= CU_XMLSIG_CIPHER__MAX ||
	    EVP_PKEY_get_base_id(key->xk_pkey) != EVP_PKEY_RSA)
		return -1;
	tmpl = xmlSecTmplEncDataCreate(doc, cipher_transform(cipher), NULL, xmlSecTypeEncElement,
	                               NULL, NULL);
	if (tmpl == NULL || xmlSecTmplEncDataEnsureCipherValue(tmpl) == NULL)
		goto out;
	ki = xmlSecTmplEncDataEnsureKeyInfo(tmpl, NULL);
	ek = ki != NULL
	         ? xmlSecTmplKeyInfoAddEncryptedKey(ki, xmlSecTransformRsaOaepId, NULL, NULL, NULL)
	         : NULL;
	if (ek == NULL || xmlSecTmplEncDataEnsureCipherValue(ek) == NULL)
		goto out;
	mngr = keys_mngr(key);
	if (mngr == NULL)
		goto out;
	ctx = xmlSecEncCtxCreate(mngr);
	if (ctx == NULL)
		goto out;
	ctx->encKey =
	    xmlSecKeyGenerate(xmlSecKeyDataAesId, ciphers[cipher].bits, xmlSecKeyDataTypeSession);
	if (ctx->encKey == NULL || declare_scope(doc, el) != 0)
		goto out;
	if (xmlSecEncCtxXmlEncrypt(ctx, tmpl, el) < 0)
		goto out;
	*out = tmpl;
	tmpl = NULL;
	rc = 0;
out:
	if (ctx != NULL)
		xmlSecEncCtxDestroy(ctx);
	if (mngr != NULL)
		xmlSecKeysMngrDestroy(mngr);
	if (tmpl != NULL)
		xmlFreeNode(tmpl);
	return rc;
}

/* EncryptedData as custos accepts it: a known content cipher, the key in
 * KeyInfo/EncryptedKey wrapped with RSA-OAEP, the ciphertext inline (no CipherReference). */
static int
encrypted_shape(xmlNode *enc)
{
	xmlNode *m, *ki, *ek, *c;
	int i, known = 0;

	if (!is_element(enc, NS_XENC, "EncryptedData") ||
	    !attr_is(enc, "Type", "http://www.w3.org/2001/04/xmlenc#Element"))
		return -1;
	m = first_element(enc->children);
	ki = next_element(m);
	c = next_element(ki);
	if (!is_element(m, NS_XENC, "EncryptionMethod") || !is_element(ki, NS_DSIG, "KeyInfo") ||
	    !is_element(c, NS_XENC, "CipherData") ||
	    !is_element(first_element(c->children), NS_XENC, "CipherValue"))
		return -1;
	for (i = 0; i < CU_XMLSIG_CIPHER__MAX; i++)
		known |= algorithm_is(m, ciphers[i].uri);
	ek = first_element(ki->children);
	if (!known || !is_element(ek, NS_XENC, "EncryptedKey") || next_element(ek) != NULL)
		return -1;
	m = first_element(ek->children);
	if (!is_element(m, NS_XENC, "EncryptionMethod") || !algorithm_is(m, URI_RSA_OAEP))
		return -1;
	for (c = next_element(m); c != NULL && !is_element(c, NS_XENC, "CipherData");)
		c = next_element(c);
	if (c == NULL || !is_element(first_element(c->children), NS_XENC, "CipherValue"))
		return -1;
	return 0;
}

/* The depth and element limits of cu_xmlsig_parse, for a subtree parsed by xmlsec. */
static int
subtree_bounded(xmlNode *top)
{
	xmlNode *n = top;
	size_t elements = 0;
	int depth = 0;

	while (n != NULL) {
		if (n->type == XML_ELEMENT_NODE &&
		    (++elements > CU_XML_MAX_NODES || depth >= CU_XML_MAX_DEPTH))
			return 0;
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			depth++;
			continue;
		}
		while (n != top && n->next == NULL) {
			n = n->parent;
			depth--;
		}
		n = n != top ? n->next : NULL;
	}
	return 1;
}

int
cu_xmlsig_decrypt(xmlNode **out, xmlDoc *doc, xmlNode *enc, const struct cu_xmlsig_key *key)
{
	xmlSecKeysMngrPtr mngr = NULL;
	xmlSecEncCtxPtr ctx = NULL;
	xmlSecBufferPtr plain;
	xmlSecSize size;
	xmlNodePtr parent, prev;
	int rc = -1;

	*out = NULL;
	if (cu_xmlsig_init() != 0 || doc == NULL || enc == NULL || enc->doc != doc ||
	    enc->parent == NULL || key == NULL || !key->xk_private || encrypted_shape(enc) != 0)
		return -1;
	mngr = keys_mngr(key);
	if (mngr == NULL)
		goto out;
	ctx = xmlSecEncCtxCreate(mngr);
	if (ctx == NULL)
		goto out;
	ctx->transformCtx.enabledUris = xmlSecTransformUriTypeNone;
	ctx->keyInfoReadCtx.retrievalMethodCtx.enabledUris = xmlSecTransformUriTypeNone;
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData,
	                     (xmlSecPtr)(uintptr_t)xmlSecKeyDataEncryptedKeyId) < 0)
		goto out;
	parent = enc->parent;
	prev = enc->prev;
	plain = xmlSecEncCtxDecryptToBuffer(ctx, enc);
	if (plain == NULL)
		goto out;
	/* Anyone holding the certificate can encrypt to custos: the plaintext is as hostile as the
	 * document was, and gets the same size and tag checks before libxml2 reads it. */
	size = xmlSecBufferGetSize(plain);
	if (size == 0 || size > CU_XML_MAX_BYTES ||
	    !tags_bounded((const char *)xmlSecBufferGetData(plain), size) ||
	    xmlSecReplaceNodeBuffer(enc, xmlSecBufferGetData(plain), size) < 0)
		goto out;
	*out = first_element(prev != NULL ? prev->next : parent->children);
	rc = *out != NULL && subtree_bounded(*out) ? 0 : -1;
out:
	if (ctx != NULL)
		xmlSecEncCtxDestroy(ctx);
	if (mngr != NULL)
		xmlSecKeysMngrDestroy(mngr);
	return rc;
}

/* The Redirect binding. */

enum cu_err
cu_xmlsig_base64_decode(char **out, size_t *outlen, struct cu_arena *a, const char *in, size_t n,
                        size_t max)
{
	char *clean, *dec;
	size_t i, m = 0, dlen = 0;

	*out = NULL;
	*outlen = 0;
	clean = cu_arena_alloc(a, n + 1);
	for (i = 0; i < n; i++) {
		if (in[i] != ' ' && in[i] != '\t' && in[i] != '\r' && in[i] != '\n')
			clean[m++] = in[i];
	}
	if (m / 4 * 3 > max + 2)
		return CU_ERR_TOO_LARGE;
	dec = cu_arena_alloc(a, m / 4 * 3 + 4);
	if (m == 0 || cu_base64_decode(dec, &dlen, clean, m) != 0)
		return CU_ERR_INVALID;
	if (dlen > max)
		return CU_ERR_TOO_LARGE;
	dec[dlen] = '\0';
	*out = dec;
	*outlen = dlen;
	return CU_OK;
}

enum cu_err
cu_xmlsig_inflate(char **out, size_t *outlen, struct cu_arena *a, const void *in, size_t n,
                  size_t max)
{
	struct cu_buf b;
	z_stream zs;
	char *p;
	size_t room;
	int zrc = Z_OK;
	enum cu_err err = CU_ERR_INVALID;

	*out = NULL;
	*outlen = 0;
	if (n > UINT_MAX)
		return CU_ERR_TOO_LARGE;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		cu_die("inflateInit2");
	/* One byte past max is room enough to learn that the output is too large. */
	cu_buf_init(&b, max + 1);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	while (zrc != Z_STREAM_END) {
		room = b.bf_max - b.bf_len < 16384 ? b.bf_max - b.bf_len : 16384;
		if (room == 0) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
		p = cu_buf_prepare(&b, room);
		if (p == NULL)
			cu_die("cu_buf_prepare");
		zs.next_out = (Bytef *)p;
		zs.avail_out = (uInt)room;
		zrc = inflate(&zs, Z_NO_FLUSH);
		cu_buf_commit(&b, room - zs.avail_out);
		if (zrc != Z_OK && zrc != Z_STREAM_END)
			goto out; /* corrupt, or truncated (Z_BUF_ERROR with no input left) */
		if (b.bf_len > max) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
	}
	if (zs.avail_in != 0)
		goto out;
	p = cu_arena_alloc(a, b.bf_len + 1);
	if (b.bf_len > 0)
		memcpy(p, b.bf_ptr, b.bf_len);
	p[b.bf_len] = '\0';
	*out = p;
	*outlen = b.bf_len;
	err = CU_OK;
out:
	inflateEnd(&zs);
	cu_buf_free(&b);
	return err;
}

int
cu_xmlsig_deflate(unsigned char **out, size_t *outlen, struct cu_arena *a, const void *in, size_t n)
{
	z_stream zs;
	unsigned char *p;
	uLong bound;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (n > CU_XML_MAX_BYTES)
		return -1;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		cu_die("deflateInit2");
	bound = deflateBound(&zs, (uLong)n);
	p = cu_arena_alloc(a, bound);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = p;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
		*out = p;
		*outlen = bound - zs.avail_out;
		rc = 0;
	}
	deflateEnd(&zs);
	return rc;
}

/* One raw parameter of a query string. */
struct qparam {
	const char *q_name;
	const char *q_raw; /* the value as received, percent-encoded */
	size_t q_len;
	int q_seen;
};

enum { Q_REQUEST, Q_RESPONSE, Q_RELAY, Q_SIGALG, Q_SIGNATURE, Q__MAX };

/* Appends "&name=raw" (no '&' first) to b. */
static int
octets_add(struct cu_buf *b, const struct qparam *q)
{
	if (b->bf_len > 0 && cu_buf_putc(b, '&') != 0)
		return -1;
	if (cu_buf_puts(b, q->q_name) != 0 || cu_buf_putc(b, '=') != 0)
		return -1;
	return cu_buf_append(b, q->q_raw, q->q_len);
}

static enum cu_err
decode_param(char **out, size_t *len, struct cu_arena *a, const struct qparam *q)
{
	return cu_http_percent_decode(a, q->q_raw, q->q_len, 1, out, len);
}

enum cu_err
cu_xmlsig_redirect_parse(struct cu_xmlsig_redirect *out, struct cu_arena *a, const char *query,
                         size_t len)
{
	struct qparam qp[Q__MAX] = {
	    [Q_REQUEST] = {"SAMLRequest", NULL, 0, 0}, [Q_RESPONSE] = {"SAMLResponse", NULL, 0, 0},
	    [Q_RELAY] = {"RelayState", NULL, 0, 0},    [Q_SIGALG] = {"SigAlg", NULL, 0, 0},
	    [Q_SIGNATURE] = {"Signature", NULL, 0, 0},
	};
	const char *p = query, *end = query + len, *amp, *eq;
	struct qparam *msg;
	struct cu_buf octets;
	char *dec = NULL, *bin = NULL;
	size_t dlen = 0, blen = 0, nlen;
	enum cu_err err;
	int i;

	memset(out, 0, sizeof(*out));
	if (len > CU_HTTP_MAX_QUERY_LEN)
		return CU_ERR_TOO_LARGE;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		nlen = (size_t)((eq != NULL ? eq : amp) - p);
		for (i = 0; i < Q__MAX; i++) {
			if (nlen != strlen(qp[i].q_name) || memcmp(p, qp[i].q_name, nlen) != 0)
				continue;
			/* A repeated parameter: which copy was signed would be a guess. */
			if (qp[i].q_seen)
				return CU_ERR_INVALID;
			qp[i].q_seen = 1;
			qp[i].q_raw = eq != NULL ? eq + 1 : amp;
			qp[i].q_len = (size_t)(amp - qp[i].q_raw);
		}
		p = amp + 1;
	}
	if (qp[Q_REQUEST].q_seen == qp[Q_RESPONSE].q_seen)
		return CU_ERR_INVALID;
	if (qp[Q_SIGALG].q_seen != qp[Q_SIGNATURE].q_seen)
		return CU_ERR_INVALID;
	msg = qp[Q_REQUEST].q_seen ? &qp[Q_REQUEST] : &qp[Q_RESPONSE];
	out->rd_param = msg->q_name;

	err = decode_param(&dec, &dlen, a, msg);
	if (err != CU_OK)
		return err;
	err = cu_xmlsig_base64_decode(&bin, &blen, a, dec, dlen, CU_HTTP_MAX_QUERY_LEN);
	if (err != CU_OK)
		return err;
	err = cu_xmlsig_inflate(&dec, &dlen, a, bin, blen, CU_XML_MAX_BYTES);
	if (err != CU_OK)
		return err;
	out->rd_xml = dec;
	out->rd_xml_len = dlen;

	if (qp[Q_RELAY].q_seen) {
		err = decode_param(&dec, &dlen, a, &qp[Q_RELAY]);
		if (err != CU_OK)
			return err;
		out->rd_relay_state = dec;
	}
	if (!qp[Q_SIGALG].q_seen)
		return CU_OK;

	err = decode_param(&dec, &dlen, a, &qp[Q_SIGALG]);
	if (err != CU_OK)
		return err;
	if (cu_xmlsig_sig_from_uri(&out->rd_sig_alg, dec) != 0)
		return CU_ERR_INVALID;
	err = decode_param(&dec, &dlen, a, &qp[Q_SIGNATURE]);
	if (err != CU_OK)
		return err;
	err = cu_xmlsig_base64_decode(&bin, &blen, a, dec, dlen, CU_HTTP_MAX_QUERY_LEN);
	if (err != CU_OK)
		return err;
	out->rd_sig = (const unsigned char *)bin;
	out->rd_sig_len = blen;

	/* SAML bindings §3.4.4.1: the parameters in this order, each exactly as received. */
	cu_buf_init(&octets, CU_HTTP_MAX_QUERY_LEN);
	if (octets_add(&octets, msg) != 0 ||
	    (qp[Q_RELAY].q_seen && octets_add(&octets, &qp[Q_RELAY]) != 0) ||
	    octets_add(&octets, &qp[Q_SIGALG]) != 0) {
		cu_buf_free(&octets);
		return CU_ERR_TOO_LARGE;
	}
	out->rd_octets = cu_arena_strndup(a, octets.bf_ptr, octets.bf_len);
	out->rd_octets_len = octets.bf_len;
	cu_buf_free(&octets);
	out->rd_signed = 1;
	return CU_OK;
}

/* Bytes of one ECDSA coordinate for key (32 for P-256). */
static size_t
ec_coord_len(EVP_PKEY *pkey)
{
	return ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
}

int
cu_xmlsig_redirect_verify(const char **why, const struct cu_xmlsig_redirect *rd,
                          const struct cu_xmlsig_key *key)
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig;
	size_t sig_len, half;
	const char *reason = "internal error";
	int der_len, rc = -1;

	if (rd == NULL || key == NULL)
		goto out;
	if (!rd->rd_signed) {
		reason = "not signed";
		goto out;
	}
	if (!key_fits(key, rd->rd_sig_alg)) {
		reason = "signature algorithm does not fit the key";
		goto out;
	}
	sig = rd->rd_sig;
	sig_len = rd->rd_sig_len;
	if (sig_algs[rd->rd_sig_alg].key_type == EVP_PKEY_EC) {
		/* XML DSig's r || s, each as wide as the curve, turned into the DER OpenSSL wants.
		 */
		half = ec_coord_len(key->xk_pkey);
		if (sig_len != 2 * half) {
			reason = "signature does not verify";
			goto out;
		}
		es = ECDSA_SIG_new();
		r = BN_bin2bn(sig, (int)half, NULL);
		s = BN_bin2bn(sig + half, (int)half, NULL);
		if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
			goto out;
		r = s = NULL;
		der_len = i2d_ECDSA_SIG(es, &der);
		if (der_len <= 0)
			goto out;
		sig = der;
		sig_len = (size_t)der_len;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit(md, NULL, sig_algs[rd->rd_sig_alg].md(), NULL, key->xk_pkey) != 1)
		goto out;
	if (EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)rd->rd_octets,
	                     rd->rd_octets_len) != 1) {
		reason = "signature does not verify";
		goto out;
	}
	reason = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	OPENSSL_free(der);
	if (why != NULL)
		*why = reason;
	return rc;
}

/* Appends s percent-encoded (RFC 3986: all but unreserved characters). */
static int
pct_encode(struct cu_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = cu_buf_putc(b, (char)c);
		} else {
			rc = cu_buf_putc(b, '%') | cu_buf_putc(b, hex[c >> 4]) |
			     cu_buf_putc(b, hex[c & 15]);
		}
	}
	return rc;
}

/* Signs the octets with key; ECDSA comes out as r || s. */
static int
sign_octets(unsigned char **out, size_t *outlen, struct cu_arena *a,
            const struct cu_xmlsig_key *key, enum cu_xmlsig_sig alg, const char *msg, size_t n)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	unsigned char *sig = NULL, *rs;
	const unsigned char *cur;
	size_t sig_len = 0, half;
	int rc = -1;

	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, sig_algs[alg].md(), NULL, key->xk_pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)msg, n) != 1)
		goto out;
	sig = cu_arena_alloc(a, sig_len);
	if (EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)msg, n) != 1)
		goto out;
	if (sig_algs[alg].key_type == EVP_PKEY_EC) {
		cur = sig;
		es = d2i_ECDSA_SIG(NULL, &cur, (long)sig_len);
		if (es == NULL)
			goto out;
		ECDSA_SIG_get0(es, &r, &s);
		half = ec_coord_len(key->xk_pkey);
		rs = cu_arena_alloc(a, 2 * half);
		if (BN_bn2binpad(r, rs, (int)half) < 0 || BN_bn2binpad(s, rs + half, (int)half) < 0)
			goto out;
		sig = rs;
		sig_len = 2 * half;
	}
	*out = sig;
	*outlen = sig_len;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

int
cu_xmlsig_redirect_encode(char **out, struct cu_arena *a, const char *param, const char *xml,
                          size_t len, const char *relay_state, const struct cu_xmlsig_key *key,
                          enum cu_xmlsig_sig alg)
{
	struct cu_buf b;
	unsigned char *z = NULL, *sig = NULL;
	size_t zlen = 0, sig_len = 0;
	char *b64;
	int rc = -1;

	*out = NULL;
	if (param == NULL || xml == NULL ||
	    (strcmp(param, "SAMLRequest") != 0 && strcmp(param, "SAMLResponse") != 0))
		return -1;
	if (key != NULL && (!key->xk_private || !key_fits(key, alg)))
		return -1;
	if (cu_xmlsig_deflate(&z, &zlen, a, xml, len) != 0)
		return -1;
	b64 = cu_arena_alloc(a, cu_base64_enc_len(zlen) + 1);
	cu_base64_encode(b64, z, zlen);
	cu_buf_init(&b, CU_HTTP_MAX_RESPONSE_BODY);
	if (cu_buf_puts(&b, param) != 0 || cu_buf_putc(&b, '=') != 0 ||
	    pct_encode(&b, b64, strlen(b64)) != 0)
		goto out;
	if (relay_state != NULL && (cu_buf_puts(&b, "&RelayState=") != 0 ||
	                            pct_encode(&b, relay_state, strlen(relay_state)) != 0))
		goto out;
	if (key != NULL) {
		if (cu_buf_puts(&b, "&SigAlg=") != 0 ||
		    pct_encode(&b, sig_algs[alg].uri, strlen(sig_algs[alg].uri)) != 0)
			goto out;
		if (sign_octets(&sig, &sig_len, a, key, alg, b.bf_ptr, b.bf_len) != 0)
			goto out;
		b64 = cu_arena_alloc(a, cu_base64_enc_len(sig_len) + 1);
		cu_base64_encode(b64, sig, sig_len);
		if (cu_buf_puts(&b, "&Signature=") != 0 || pct_encode(&b, b64, strlen(b64)) != 0)
			goto out;
	}
	*out = cu_arena_strndup(a, b.bf_ptr, b.bf_len);
	rc = 0;
out:
	cu_buf_free(&b);
	return rc;
}
