/*
 * Hostile XML and XML security for SAML 2.0: parsing with libxml2, enveloped signatures and
 * encryption with xmlsec1's OpenSSL backend, and the Redirect binding's DEFLATE and
 * query-string signatures with zlib and OpenSSL.
 *
 * Everything an outsider sends goes through cu_xmlsig_parse first: no DOCTYPE at all (so no
 * entities, no DTD, no XXE, no billion laughs), no network, bounded size, depth and element
 * count. xmlsec never fetches a key or a reference from outside the document: its I/O
 * callbacks are removed at start, references must point into the same document, and only the
 * transforms SAML uses are enabled.
 *
 * Signature checks are bound to an element the caller already holds (signature wrapping): the
 * signature must be a direct child of that element and its single reference must name that
 * element's own ID, unique in the document.
 */
#ifndef CU_XMLSIG_H
#define CU_XMLSIG_H

#include <stddef.h>

#include <libxml/tree.h>

#include "arena.h"
#include "err.h"

/* authentik's signature_algorithm values (RFC 4051 / XML DSig URIs). */
enum cu_xmlsig_sig {
	CU_XMLSIG_RSA_SHA1,
	CU_XMLSIG_RSA_SHA256,
	CU_XMLSIG_RSA_SHA384,
	CU_XMLSIG_RSA_SHA512,
	CU_XMLSIG_ECDSA_SHA256,
	CU_XMLSIG_ECDSA_SHA384,
	CU_XMLSIG_ECDSA_SHA512,
	CU_XMLSIG_SIG__MAX
};

/* authentik's digest_algorithm values. */
enum cu_xmlsig_digest {
	CU_XMLSIG_SHA1,
	CU_XMLSIG_SHA256,
	CU_XMLSIG_SHA384,
	CU_XMLSIG_SHA512,
	CU_XMLSIG_DIGEST__MAX
};

/* Content encryption of an EncryptedAssertion; the key is always wrapped with RSA-OAEP
 * (mgf1p, SHA-1), which every SP library reads. */
enum cu_xmlsig_cipher { CU_XMLSIG_AES256_GCM, CU_XMLSIG_AES128_CBC, CU_XMLSIG_CIPHER__MAX };

/* The algorithm URI (a literal), and back; -1 for a URI custos does not accept. */
const char *cu_xmlsig_sig_uri(enum cu_xmlsig_sig alg);
int cu_xmlsig_sig_from_uri(enum cu_xmlsig_sig *out, const char *uri)
    __attribute__((warn_unused_result));
const char *cu_xmlsig_digest_uri(enum cu_xmlsig_digest alg);
int cu_xmlsig_digest_from_uri(enum cu_xmlsig_digest *out, const char *uri)
    __attribute__((warn_unused_result));
const char *cu_xmlsig_cipher_uri(enum cu_xmlsig_cipher alg);

/*
 * Sets up libxml2 and xmlsec (OpenSSL) once per process, with xmlsec's I/O callbacks removed
 * and the libraries' free-text error output silenced (logged as JSON at debug level instead).
 * Every function below calls it; a responder calls it at start so a failure shows there.
 */
int cu_xmlsig_init(void) __attribute__((warn_unused_result));

/*
 * Parses len bytes of untrusted XML. Refused: more than CU_XML_MAX_BYTES, any DOCTYPE,
 * nesting deeper than CU_XML_MAX_DEPTH, more than CU_XML_MAX_NODES elements, anything not
 * well-formed. *out is freed at the arena's reset. CU_ERR_TOO_LARGE past a limit,
 * CU_ERR_INVALID otherwise.
 */
enum cu_err cu_xmlsig_parse(xmlDoc **out, struct cu_arena *a, const char *bytes, size_t len)
    __attribute__((warn_unused_result));

/* The document as UTF-8 text with an XML declaration and no added whitespace (so signatures
 * stay valid), NUL-terminated, arena-owned. */
int cu_xmlsig_serialize(char **out, size_t *len, struct cu_arena *a, xmlDoc *doc)
    __attribute__((warn_unused_result));

/*
 * A key for signing, verifying or encrypting: key_pem is a PEM private key (or NULL), cert_pem
 * a PEM certificate or public key (or NULL); at least one is given, and when both are they
 * must belong together. Signing needs the private key and puts the certificate, when there is
 * one, in KeyInfo; verifying and encrypting need the public half only. Caller frees with
 * cu_xmlsig_key_free (NULL is fine); a key may be kept for the life of the process.
 */
struct cu_xmlsig_key;
int cu_xmlsig_key_load(struct cu_xmlsig_key **out, const char *key_pem, size_t key_len,
                       const char *cert_pem, size_t cert_len) __attribute__((warn_unused_result));
void cu_xmlsig_key_free(struct cu_xmlsig_key *k);

/*
 * Signs el with an enveloped signature: exclusive C14N, one Reference URI="#<id>" where <id>
 * is el's attribute id_attr (no namespace, e.g. "ID"), transforms enveloped-signature and
 * exc-c14n, KeyInfo/X509Data with the key's certificate. ds:Signature is inserted where SAML's
 * schema wants it: right after el's saml:Issuer child, or first when there is none. -1 when el
 * has no id, already has a signature, the ID is not unique, or signing fails (el unchanged).
 */
int cu_xmlsig_sign(xmlDoc *doc, xmlNode *el, const char *id_attr, const struct cu_xmlsig_key *key,
                   enum cu_xmlsig_sig alg, enum cu_xmlsig_digest digest)
    __attribute__((warn_unused_result));

/* el's direct ds:Signature child, the first one; NULL when unsigned. Borrowed from the doc. */
xmlNode *cu_xmlsig_signature(xmlNode *el);

/* 1 when el's signature (cu_xmlsig_signature) names SHA-1 as its signature or a digest method,
 * which a verifier may refuse where the signer is not known to be held to SHA-1. */
int cu_xmlsig_uses_sha1(xmlNode *el);

/*
 * Verifies the signature of el with key and nothing else (KeyInfo in the document is ignored).
 * 0 only when: el has exactly one direct ds:Signature child holding SignedInfo,
 * SignatureValue and at most a KeyInfo; SignedInfo has one Reference whose URI is "#" + el's
 * id_attr; that ID occurs once in the whole document (as id_attr or xml:id); the transforms are
 * enveloped-signature and exc-c14n only; the algorithms are among enum cu_xmlsig_sig and
 * enum cu_xmlsig_digest and fit the key; and the digest and signature check out. Then el, with
 * everything inside it and nothing outside, is what was signed: the caller goes on with el
 * itself and never looks the element up again by ID or path. Otherwise -1 and *why (may be
 * NULL) names the reason, a literal fit for a log line.
 */
int cu_xmlsig_verify(const char **why, xmlDoc *doc, xmlNode *el, const char *id_attr,
                     const struct cu_xmlsig_key *key) __attribute__((warn_unused_result));

/*
 * Encrypts el for the holder of key's private half (key needs only its certificate) and puts
 * xenc:EncryptedData (Type Element, content cipher as asked, KeyInfo/EncryptedKey with
 * RSA-OAEP) where el was; el is freed. The namespaces in scope at el are declared on it first,
 * so the plaintext stands alone. *out is the EncryptedData, owned by the document; SAML's
 * caller wraps it in saml:EncryptedAssertion.
 */
int cu_xmlsig_encrypt(xmlNode **out, xmlDoc *doc, xmlNode *el, const struct cu_xmlsig_key *key,
                      enum cu_xmlsig_cipher cipher) __attribute__((warn_unused_result));

/*
 * The reverse, with key's private half: enc (an xenc:EncryptedData) is replaced by the element
 * it holds, *out. Only the ciphers of enum cu_xmlsig_cipher and RSA-OAEP key transport are
 * accepted, and nothing is fetched from outside the document.
 */
int cu_xmlsig_decrypt(xmlNode **out, xmlDoc *doc, xmlNode *enc, const struct cu_xmlsig_key *key)
    __attribute__((warn_unused_result));

/*
 * Base64 as SAML's bindings carry it: the standard alphabet with padding, ASCII whitespace
 * (line breaks some SPs insert) ignored. At most max bytes out, NUL-terminated, arena-owned.
 * CU_ERR_TOO_LARGE past max, CU_ERR_INVALID on anything else wrong.
 */
enum cu_err cu_xmlsig_base64_decode(char **out, size_t *outlen, struct cu_arena *a, const char *in,
                                    size_t n, size_t max) __attribute__((warn_unused_result));

/* Raw DEFLATE (RFC 1951, no zlib header) as the Redirect binding uses. inflate stops with
 * CU_ERR_TOO_LARGE at max bytes out (so a small bomb never grows large) and CU_ERR_INVALID on a
 * corrupt or truncated stream or trailing bytes. Outputs are arena-owned; inflate's is
 * NUL-terminated. */
enum cu_err cu_xmlsig_inflate(char **out, size_t *outlen, struct cu_arena *a, const void *in,
                              size_t n, size_t max) __attribute__((warn_unused_result));
int cu_xmlsig_deflate(unsigned char **out, size_t *outlen, struct cu_arena *a, const void *in,
                      size_t n) __attribute__((warn_unused_result));

/*
 * A Redirect-binding message (SAML bindings §3.4) from the raw query string, as received
 * (before any decoding). Exactly one of SAMLRequest and SAMLResponse; RelayState, SigAlg and
 * Signature at most once each; SigAlg and Signature both or neither. Other parameters are
 * ignored and not covered by the signature. Everything is arena-owned.
 */
struct cu_xmlsig_redirect {
	const char *rd_param;       /* "SAMLRequest" or "SAMLResponse" */
	const char *rd_xml;         /* the inflated message, NUL-terminated; parse it */
	size_t rd_xml_len;          /* at most CU_XML_MAX_BYTES */
	const char *rd_relay_state; /* decoded; NULL when absent */
	int rd_signed;              /* 1 when SigAlg and Signature came */
	enum cu_xmlsig_sig rd_sig_alg;
	const char *rd_octets; /* what was signed: "SAMLRequest=..&RelayState=..&SigAlg=.." */
	size_t rd_octets_len;
	const unsigned char *rd_sig; /* decoded Signature */
	size_t rd_sig_len;
};

/* CU_ERR_INVALID on anything malformed (an unknown SigAlg included), CU_ERR_TOO_LARGE past
 * CU_XML_MAX_BYTES inflated or CU_HTTP_MAX_QUERY_LEN raw. */
enum cu_err cu_xmlsig_redirect_parse(struct cu_xmlsig_redirect *out, struct cu_arena *a,
                                     const char *query, size_t len)
    __attribute__((warn_unused_result));

/* 0 when rd is signed and its signature over rd_octets checks out with key (the key type must
 * fit rd_sig_alg; ECDSA signatures are r || s as in XML DSig); else -1 and *why (may be NULL). */
int cu_xmlsig_redirect_verify(const char **why, const struct cu_xmlsig_redirect *rd,
                              const struct cu_xmlsig_key *key) __attribute__((warn_unused_result));

/*
 * The query string that carries xml to a peer by the Redirect binding:
 * param=<deflated, base64, percent-encoded xml>[&RelayState=..][&SigAlg=..&Signature=..],
 * signed with key and alg when key is not NULL. param is "SAMLRequest" or "SAMLResponse".
 * NUL-terminated, arena-owned, without a leading '?'.
 */
int cu_xmlsig_redirect_encode(char **out, struct cu_arena *a, const char *param, const char *xml,
                              size_t len, const char *relay_state, const struct cu_xmlsig_key *key,
                              enum cu_xmlsig_sig alg) __attribute__((warn_unused_result));

#endif
