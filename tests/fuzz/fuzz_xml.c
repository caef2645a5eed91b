/*
 * SAML's XML on arbitrary bytes: cu_xmlsig_parse, then signature verification of the root and
 * of each of its element children, decryption of an EncryptedData, and the same bytes as a
 * Redirect-binding query (cu_xmlsig_redirect_parse, inflate, query signature, then the XML it
 * carries). Every SAML message an SP sends takes one of these paths.
 * Invariants: refusals are CU_ERR_INVALID or CU_ERR_TOO_LARGE; an accepted document serialises,
 * parses again (or is too large once escaped) and serialises to the same text; a verification
 * is 0 or -1 with a reason exactly when -1, and 0 only for an element whose own direct
 * ds:Signature exists; an accepted query carries at most CU_XML_MAX_BYTES of XML, NUL-ended.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "arena.h"
#include "bounds.h"
#include "xmlsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The unit tests' RSA pair (tests/unit/test_xmlsig.c), so that seeds signed with it verify. */
static const char rsa_key[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7XSr+MyrHvPm2\n"
                              "gJVi9rFHrR11LYIaEax53saWisqXRSztsBBCxVt5kXDqS2F9h0MOjOMhYxlOWud1\n"
                              "8vAMMos8wLmbzI92aRsOtSSULaUlXrzpqdB2qETORs522esHvVIUIB5WUZzA+J1i\n"
                              "9bJhDLWEK0R+d0SpSwqnCI4cZWJSL6HL92sIb7leevbAdlQUpaF4hQ6X9Ova7A2i\n"
                              "N7SzXytkaAeQ7IDdsoyDXlk2Z9sd2l+NV4CXK4iMbnvLS4+VxkB3xT3lrOGXXbO/\n"
                              "zLAxGwWAZ150k9c99RKpi0a+W2c0cUiHDfq9orlGdVMV2z3LSus6milaJEaX+R+p\n"
                              "4oOUZk3FAgMBAAECggEAA3FdlCC0EUoFa6dWt2QRk1/Yufm9WYXIHdAsZYFE4j00\n"
                              "62QwFE4ElYoI4WFDuBcHcinAFbG4uhIdDTOK2iqGmPXwoy6B11rskptdAfUJwxNH\n"
                              "1OJYMIn8g67U5eWwtipyKukBLbRftUMMP1CE99gQMM7LuiguZI76seGMHPT29swd\n"
                              "pZ/wfo4JnjigjVfxn6b4j8+8sdNUK074KC7WtfOGKefNDoTR3L0mfLkpuL1r7DLc\n"
                              "nwt726XgFwZrY7ctr5dHzCoQH+6ZUTrldMPNB+eNqWGGulQgd8cidp86GYYLrrIC\n"
                              "76D1+NU9MXtyB+Eymn0e1INfgdypfdCklKq2WiBYiQKBgQD6gjw3Dy5IrRPo+1ME\n"
                              "UecvhwBdOExPdPwnDsi24EtdRN6mmQiQ6ZWH/2uNMOjST6VAgUNPTjwp1l4CYBXa\n"
                              "UEsjoHQVEpgN88zV1f7gbU0J2/gGDsX6/WSTgNnrl4v+3OhRgPaCsVnW7n7Ua/oD\n"
                              "68VS/oW+BhIEYPJHtBCJwEEL2QKBgQC/eJY96br/3TH09SD667Ld+wVbGxix8ihZ\n"
                              "H9gHYdQPS0hWUw99CpdPQ6n/9wKj6RdzkVgvjmY0e2Pgi3RVf/KbSPiO6tfDXBfs\n"
                              "EZuvnx3YlJxjpGMHX4a4Sd43cB6aaBM4eADp+1b2R3VZcjA0Cmpepm7eLZyFLsK7\n"
                              "1XIZHMC5zQKBgD7cATobsBSCgbV7oyg5WRae/KNnphZmF4PBfPIOtDqSNoB9dB3Q\n"
                              "zznSCO3j8PgdDi1ygi5bRlOFPA/ChplCfqhQ8e/7u3X80FB0I0Gzi5pGvSTf/iPu\n"
                              "A5fTxFsOqw1n50/UWYcP86gwLlklQxZKyjf6MBsvsMOyg/kkIOY//NJ5AoGBAJNJ\n"
                              "wdlSqSUWFM3omzwqf+e+p7oTuAV60IrushHLsYMqWDT/pBR+RzMUS/u5GfDY589g\n"
                              "6UN7+Sc6G/Spkg4LZKcLlRjrkpqXh1dznB2W+zCV8U+9LuiHFW1CdYyT1RbWJKL1\n"
                              "vU5Ap/6/rYfnDSmbMYQp53NGBvd0pxwy75hdw+upAoGBAOymjoSqKApunyLlkwjR\n"
                              "hiVTzXRK25sruxH/XDQfBewygn7DoXRiMAMIcBzhRIDcJy5cw69c7A5IDem2AkaV\n"
                              "m04gZ+LMmqxEnVB8PrCIvZe5sPcG4tE3Lc5FMVTYTFsH1Qc7DBlkdwsq8S1v6/up\n"
                              "Vkojqo7zjX37fCBZjijQTK45\n"
                              "-----END PRIVATE KEY-----\n";
static const char rsa_cert[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIDOzCCAiOgAwIBAgIUDELMMg3nwxxv+SLifwGKrarnGAwwDQYJKoZIhvcNAQEL\n"
                               "BQAwLTEPMA0GA1UECgwGY3VzdG9zMRowGAYDVQQDDBF4bWxzaWcgcnNhIGdvbGRl\n"
                               "bjAeFw0yNjExMzAwNTQwMzNaFw00NjExMjUwNTQwMzNaMC0xDzANBgNVBAoMBmN1\n"
                               "c3RvczEaMBgGA1UEAwwReG1sc2lnIHJzYSBnb2xkZW4wggEiMA0GCSqGSIb3DQEB\n"
                               "AQUAA4IBDwAwggEKAoIBAQC7XSr+MyrHvPm2gJVi9rFHrR11LYIaEax53saWisqX\n"
                               "RSztsBBCxVt5kXDqS2F9h0MOjOMhYxlOWud18vAMMos8wLmbzI92aRsOtSSULaUl\n"
                               "XrzpqdB2qETORs522esHvVIUIB5WUZzA+J1i9bJhDLWEK0R+d0SpSwqnCI4cZWJS\n"
                               "L6HL92sIb7leevbAdlQUpaF4hQ6X9Ova7A2iN7SzXytkaAeQ7IDdsoyDXlk2Z9sd\n"
                               "2l+NV4CXK4iMbnvLS4+VxkB3xT3lrOGXXbO/zLAxGwWAZ150k9c99RKpi0a+W2c0\n"
                               "cUiHDfq9orlGdVMV2z3LSus6milaJEaX+R+p4oOUZk3FAgMBAAGjUzBRMB0GA1Ud\n"
                               "DgQWBBT+mqBRAxLi9I0XGAkxay2/AJlbpzAfBgNVHSMEGDAWgBT+mqBRAxLi9I0X\n"
                               "GAkxay2/AJlbpzAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAY\n"
                               "/zVT9rz26wQKb3KhDFR6cCPELC5m5soMYgpKtDVdpt3cFuyUHKaeCGydgiEh4YXu\n"
                               "tPZ0NlmNTtQsx1MlGA3BwQ+t4igkhmeM522ZO1/oJ660Fq++j2dVlUON/6nW8IEE\n"
                               "5WnDmmT4sNnITMDkki1cGxoonUx66ZC6C5EAcb6yauZgYRIBluUVdxVdj6rPRZ70\n"
                               "ql1v+gh7ZVHnZmouf/LfONY39ADNosW6dlDOG/ZIPTzVZFQ+dkJPYXRd/qs+2HS/\n"
                               "trh9omwf7mfhWhPr2MMmOQposaad8wFxMRn8OxZnFZfkA1SdVTexNw5sSDlcP1jr\n"
                               "noxrBmaVy8hGA0EjW7vu\n"
                               "-----END CERTIFICATE-----\n";

static struct cu_xmlsig_key *key;

static void
check_verify(xmlDoc *doc, xmlNode *el)
{
	const char *why = NULL;
	int rc = cu_xmlsig_verify(&why, doc, el, "ID", key);

	if (rc == 0 ? why != NULL || cu_xmlsig_signature(el) == NULL : rc != -1 || why == NULL)
		abort();
}

static xmlNode *
find_encrypted(xmlNode *n, int depth)
{
	xmlNode *hit;

	for (; n != NULL && depth < CU_XML_MAX_DEPTH; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->ns != NULL && xmlStrEqual(n->name, (const xmlChar *)"EncryptedData"))
			return n;
		hit = find_encrypted(n->children, depth + 1);
		if (hit != NULL)
			return hit;
	}
	return NULL;
}

static void
check_xml(struct cu_arena *a, const char *s, size_t size)
{
	xmlDoc *doc = NULL, *again = NULL;
	xmlNode *root, *c, *enc, *out = NULL;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	enum cu_err err;

	err = cu_xmlsig_parse(&doc, a, s, size);
	if (err != CU_OK) {
		if ((err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE) || doc != NULL)
			abort();
		return;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || doc->intSubset != NULL)
		abort();
	if (cu_xmlsig_serialize(&text, &len, a, doc) != 0 || strlen(text) != len)
		abort();
	err = cu_xmlsig_parse(&again, a, text, len);
	if (err == CU_OK) {
		if (cu_xmlsig_serialize(&text2, &len2, a, again) != 0 || len != len2 ||
		    memcmp(text, text2, len) != 0)
			abort();
	} else if (err != CU_ERR_TOO_LARGE) {
		abort();
	}

	check_verify(doc, root);
	for (c = xmlFirstElementChild(root); c != NULL; c = xmlNextElementSibling(c))
		check_verify(doc, c);
	enc = find_encrypted(root, 0);
	if (enc != NULL && cu_xmlsig_decrypt(&out, doc, enc, key) == 0 &&
	    (out == NULL || out->type != XML_ELEMENT_NODE))
		abort();
}

static void
check_query(struct cu_arena *a, const char *s, size_t size)
{
	struct cu_xmlsig_redirect rd;
	const char *why = NULL;
	enum cu_err err;
	int rc;

	err = cu_xmlsig_redirect_parse(&rd, a, s, size);
	if (err != CU_OK) {
		if (err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE)
			abort();
		return;
	}
	if (rd.rd_xml == NULL || rd.rd_xml_len > CU_XML_MAX_BYTES ||
	    rd.rd_xml[rd.rd_xml_len] != '\0')
		abort();
	if (strcmp(rd.rd_param, "SAMLRequest") != 0 && strcmp(rd.rd_param, "SAMLResponse") != 0)
		abort();
	rc = cu_xmlsig_redirect_verify(&why, &rd, key);
	if (rc == 0 ? !rd.rd_signed || why != NULL : rc != -1 || why == NULL)
		abort();
	check_xml(a, rd.rd_xml, rd.rd_xml_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	const char *s = (const char *)data;

	if (key == NULL && cu_xmlsig_key_load(&key, rsa_key, sizeof(rsa_key) - 1, rsa_cert,
	                                      sizeof(rsa_cert) - 1) != 0)
		abort();
	cu_arena_init(&a);
	/* Both readings of every input: each refuses the other's kind at once. */
	check_xml(&a, s, size);
	cu_arena_reset(&a);
	check_query(&a, s, size);
	cu_arena_free(&a);
	return 0;
}
