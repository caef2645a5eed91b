#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "mem.h"
#include "xmlsig.h"

extern char **environ;

/*
 * Test keys, made once with the openssl command line:
 *   openssl req -x509 -newkey rsa:2048 -nodes -subj "/O=custos/CN=xmlsig rsa golden" -days 7300
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -subj "/O=custos/CN=xmlsig ec golden" -days 7300
 *   openssl req -x509 -newkey rsa:2048 -nodes -subj "/O=custos/CN=xmlsig other" -days 7300
 */
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

static const char ec_key[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguW1bWUOhh/CDZ80f\n"
                             "We6mozjiGzfkB7swJClnj50385+hRANCAAQ+EKmmdxi2+7TuivnWdnbecY3AQ/pQ\n"
                             "1oZzncNwvpyG3jKUO5qZNICiNPMFTsWNiWnagzz6qS4Jre5JG3Ocrrxc\n"
                             "-----END PRIVATE KEY-----\n";

static const char ec_cert[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBrjCCAVOgAwIBAgIUTxSl7uGI2jxsbjO5SkbqneiEAgowCgYIKoZIzj0EAwIw\n"
                              "LDEPMA0GA1UECgwGY3VzdG9zMRkwFwYDVQQDDBB4bWxzaWcgZWMgZ29sZGVuMB4X\n"
                              "DTI2MTEzMDA1NDAzM1oXDTQ2MTEyNTA1NDAzM1owLDEPMA0GA1UECgwGY3VzdG9z\n"
                              "MRkwFwYDVQQDDBB4bWxzaWcgZWMgZ29sZGVuMFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
                              "AQcDQgAEPhCppncYtvu07or51nZ23nGNwEP6UNaGc53DcL6cht4ylDuamTSAojTz\n"
                              "BU7FjYlp2oM8+qkuCa3uSRtznK68XKNTMFEwHQYDVR0OBBYEFDaksgar4uX3nWyp\n"
                              "MG6pDUUbqYrdMB8GA1UdIwQYMBaAFDaksgar4uX3nWypMG6pDUUbqYrdMA8GA1Ud\n"
                              "EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAPa+Y7Dv60UoyB3+7N3vgUw6\n"
                              "ZscON1mLQHdYugo7nQOjAiEAkyjP1bU4A/r5aiXTDcM9aVzet6PnKmQCFi0QPyPX\n"
                              "xCE=\n"
                              "-----END CERTIFICATE-----\n";

static const char other_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDMTCCAhmgAwIBAgIUQ0YgCEBuHBviHiDaKnkKCkj2Z3UwDQYJKoZIhvcNAQEL\n"
    "BQAwKDEPMA0GA1UECgwGY3VzdG9zMRUwEwYDVQQDDAx4bWxzaWcgb3RoZXIwHhcN\n"
    "MjYxMTMwMDU0MDMzWhcNNDYxMTI1MDU0MDMzWjAoMQ8wDQYDVQQKDAZjdXN0b3Mx\n"
    "FTATBgNVBAMMDHhtbHNpZyBvdGhlcjCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC\n"
    "AQoCggEBALUAwgi+o1ty0jO2iqZSzfW4stvHXI4bPPrQj4Bl89tG/9xXXHn+5Yyc\n"
    "q5nV8S4bETpl4tNcvyDbpsPBNQcBzI1bt7bx5S7pz0KXgiTplQzi0Jyai9PiFp6i\n"
    "KFR6ORj94CMxeUjeZJGRBxw7bkJC6YJ2EBqoLWszK8avTFDjO9eQNPhrrqMFYu54\n"
    "yvvUwEng5a6+B53Twy7WVj7ZffT1T3kAxg18jJpgYLfFzMgJOkHM/ADGnd2VXIeT\n"
    "CtW2g/Dtx23kdRQ3U9dKwn2FWAxIpYeiKJeasnbqjUA9WgCAvt8AzIor61mlEyI6\n"
    "6+GB49vwBC/c/xFzqntFJraJVz/upCUCAwEAAaNTMFEwHQYDVR0OBBYEFPheQo7s\n"
    "M7nRD6g7vDwP4yQnUX77MB8GA1UdIwQYMBaAFPheQo7sM7nRD6g7vDwP4yQnUX77\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBAExPviwq0/oYHM8s\n"
    "HNOJFod/MKPGYuX6SzKT15mJj6j5a7QBQt/vPQpdlrdicIIviwJgfg390AOhKF7P\n"
    "31kxNl/wwrcFsy467374VyA1X6c/7eaDxsO5tsJE5yghPaU77nOylkzNHDOy6D2p\n"
    "2HnCKWXbjnfDFkv/RFV6VEBTC2Vzxone9DYCXnEFxSNc3wrsjt2cTdZ4uU4luznK\n"
    "zJOmpD6FhomwdTaadbYH3ak8FWIEWOj+ojBH+CRxXSki2MXT57D3MJTShUmF8/KQ\n"
    "2ypA+5SDNZoJPNf6XBbcj0xNAx9BgZdbHfFCaQDuiG7jPOGi9VNN8NbsoNSpvfcY\n"
    "RuWv4kk=\n"
    "-----END CERTIFICATE-----\n";

static const char other_key[] = "-----BEGIN PRIVATE KEY-----\n"
                                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC1AMIIvqNbctIz\n"
                                "toqmUs31uLLbx1yOGzz60I+AZfPbRv/cV1x5/uWMnKuZ1fEuGxE6ZeLTXL8g26bD\n"
                                "wTUHAcyNW7e28eUu6c9Cl4Ik6ZUM4tCcmovT4haeoihUejkY/eAjMXlI3mSRkQcc\n"
                                "O25CQumCdhAaqC1rMyvGr0xQ4zvXkDT4a66jBWLueMr71MBJ4OWuvged08Mu1lY+\n"
                                "2X309U95AMYNfIyaYGC3xczICTpBzPwAxp3dlVyHkwrVtoPw7cdt5HUUN1PXSsJ9\n"
                                "hVgMSKWHoiiXmrJ26o1APVoAgL7fAMyKK+tZpRMiOuvhgePb8AQv3P8Rc6p7RSa2\n"
                                "iVc/7qQlAgMBAAECggEACvEztGIhT4ZijpWZjler/k/EYPTNflocsV/5hjkDno0N\n"
                                "VjV3eyONnoFxKUti+Wx8Tzlja++BLsbAmeMcpiK1yjzndLlCZ404cPg7pKjJ+zMH\n"
                                "X/7tdulwgHYL9fFunA7AUE2tx+8z3rieWKv/bM+NPMxk3wEC6pENHjAw7vnnFKSt\n"
                                "HDlhLVs2Hi2uaP36LOdNRXNpo2YlTq67yyE72JEm4xxETmZ81QCu4maypLflmVP9\n"
                                "QXPR9bT1YjP0lsnUG1U/xC2GGsmKWoEQVLg12ESEJYqhzU7e4W21KjCy8H3+GyZo\n"
                                "D0V6p9ZRHoL7mBTrs0JdaPA0X4CLr7kkeIPKHJoqwQKBgQDpNwD68dikuV2YU/vW\n"
                                "TKbi+Odse5h0NXu4jcTfoYH+r/t/5/jwsZKEUGHELxfW3tGkEH2QOvoir5wDAwUI\n"
                                "q4ywxG8gZK8WBvFp5ljv2QEaupx4DXtDXPDZ/2pl3f45wBz8JF3MHaxPDd2luTRH\n"
                                "6o674fJBfk5i5+g74LUfcxOXwQKBgQDGr956KJdB5nuHLADg4tlS/pgJXP3Z+7GR\n"
                                "axQ4uH97epsCSi+OexeKU4xvzdgQxFiHg+u46CHXKQ/iFpDsGEgioDicqb1g2/2P\n"
                                "YGzytFMx0m/xeI1t3X7JCl99G03j1PmFoFw0axrb0K8ieZPM/CZ/pNKHA/Ptps/6\n"
                                "o8HF3n0FZQKBgC9U94D21qZP7Lv+x4ztz60fITD2QLHNLQf+1echS1Xad6u08+Q9\n"
                                "1eO+wKjleewlGt02b5V3Ms8ZXwuJcFsbHhm+NGOZq6NH03VPx9sd6sh2+UywR8Ub\n"
                                "NtK3sOtty6wC3p8Z7mN/3jnJMaPx27eA1mkxaU57iQMv2AVXDMuOOnrBAoGBAKPr\n"
                                "ctxL4sa+1ckmd68R2QSNAXgwHUsbSVtVAYDuTlbcR0izVdryGPDJj0KqjAkBRJzB\n"
                                "LNgHw+uUeAMqZPQz8EeI8kvmClUACoigoCH4ve6L1ElfESfEJpbMlQ1NWoyOKDKj\n"
                                "o46nkqgp2mPR9CuZGFYU8I/tpfC6wDnjormRnom1AoGABFEVacOmVJ2BwHxI3vtQ\n"
                                "QEDqQS7x0kgMbRVNRkqCwE6yM6QYr+rcgixPLWbBjecOlR4GlVpgW1EcQWMI1aIQ\n"
                                "inX2VoGJJm4ZSQomNMedr3ANStY6CbsOnq2Qlqb2fVUbQC883L6PF3r0L96eVRO7\n"
                                "Wte/nvGzO/vUiMH7tv1endw=\n"
                                "-----END PRIVATE KEY-----\n";

/*
 * Made once with the xmlsec1 command line (1.2.37) from a template holding an empty signature:
 *   xmlsec1 --sign --privkey-pem rsa.key,rsa.crt \
 *     --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest tmpl.xml
 * (rsa-sha256; the second with ecdsa-sha256 and the EC key; the third with exc-c14n
 * InclusiveNamespaces in both places), and an assertion encrypted for the
 * RSA certificate:
 *   xmlsec1 --encrypt --pubkey-cert-pem rsa.crt --session-key aes-256 --xml-data data.xml \
 *     --node-name urn:oasis:names:tc:SAML:2.0:assertion:Assertion enc-tmpl.xml
 */
static const char golden_rsa[] =
    "<?xml version=\"1.0\"?>\n"
    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_golden1\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\" AssertionConsumerServiceURL=\"https://sp.example/acs\"><saml:Issuer>https://sp.example</saml:Issuer><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#_golden1\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>4mV0kQ5Ok6TkGJhpb7glXoSTQ/j/JJMmy/EkUgYbizE=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>FaQcH/VvAwN3c753aUj8wl3bsdma3DaTBK58ExcQNTYNp4uPlK5BwI/jv5w/DQX2\n"
    "w8egaxlcChC9bi6fRsGGqKl5HXsdj5hDEvx7g4BY9JEb0CeliOlaWBqTfn3Lw/ID\n"
    "kYLzw3OmGR+sH/PlfsRxawLoDdDdq7jCa5hx9S9cZH218+5LVN0tZliJG3yPk03G\n"
    "jHfL/GxFj0qD+kj3la1aZPBCjaOD2IbqQr7nRosONlQd4dy5gO9GivCCgmcnW1OY\n"
    "DTKh7PbgOrxKoiSBzwBT/U4iw3VDu7QM1WpVJdwRSdouNEDwTZJ7P9WIblqUTHrY\n"
    "56yiGz6xGkw8LrRPUmAQzw==</ds:SignatureValue><ds:KeyInfo><ds:X509Data>\n"
    "<ds:X509Certificate>MIIDOzCCAiOgAwIBAgIUDELMMg3nwxxv+SLifwGKrarnGAwwDQYJKoZIhvcNAQEL\n"
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
    "</ds:X509Certificate>\n"
    "</ds:X509Data></ds:KeyInfo></ds:Signature><samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\" AllowCreate=\"true\"/></samlp:AuthnRequest>\n";

static const char golden_ec[] =
    "<?xml version=\"1.0\"?>\n"
    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_golden2\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\" AssertionConsumerServiceURL=\"https://sp.example/acs\"><saml:Issuer>https://sp.example</saml:Issuer><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/><ds:Reference URI=\"#_golden2\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>LpeJwgqIvrdCVotLf6nAf/7uiLUhOZehAKxGlHDib6Q=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>LtebmiD0MJFtqGLAyAKEAdygUVUJpYr67nJGghw/RxfmXi/jaB9E4s/aHWkyEo7z\n"
    "89oEiN9C4LoQOv+pyVfnLQ==</ds:SignatureValue><ds:KeyInfo><ds:X509Data>\n"
    "<ds:X509Certificate>MIIBrjCCAVOgAwIBAgIUTxSl7uGI2jxsbjO5SkbqneiEAgowCgYIKoZIzj0EAwIw\n"
    "LDEPMA0GA1UECgwGY3VzdG9zMRkwFwYDVQQDDBB4bWxzaWcgZWMgZ29sZGVuMB4X\n"
    "DTI2MTEzMDA1NDAzM1oXDTQ2MTEyNTA1NDAzM1owLDEPMA0GA1UECgwGY3VzdG9z\n"
    "MRkwFwYDVQQDDBB4bWxzaWcgZWMgZ29sZGVuMFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
    "AQcDQgAEPhCppncYtvu07or51nZ23nGNwEP6UNaGc53DcL6cht4ylDuamTSAojTz\n"
    "BU7FjYlp2oM8+qkuCa3uSRtznK68XKNTMFEwHQYDVR0OBBYEFDaksgar4uX3nWyp\n"
    "MG6pDUUbqYrdMB8GA1UdIwQYMBaAFDaksgar4uX3nWypMG6pDUUbqYrdMA8GA1Ud\n"
    "EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAPa+Y7Dv60UoyB3+7N3vgUw6\n"
    "ZscON1mLQHdYugo7nQOjAiEAkyjP1bU4A/r5aiXTDcM9aVzet6PnKmQCFi0QPyPX\n"
    "xCE=\n"
    "</ds:X509Certificate>\n"
    "</ds:X509Data></ds:KeyInfo></ds:Signature><samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\" AllowCreate=\"true\"/></samlp:AuthnRequest>\n";

static const char golden_enc[] =
    "<?xml version=\"1.0\"?>\n"
    "<r><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/><xenc:CipherData><xenc:CipherValue>TMPjn0+Fq6yFvYogtax+nYOM/v6SeuT98DNsjQB9TTiQsinsSb4oKzL3unbdqvLo\n"
    "hbIUe2lIuo5Awc/vvLtcdypUX0Z16ohVfTGzxVmKDrk4Qr01VKKgla5+9nHnGL68\n"
    "+Y/6ufWn4pYSDiSdoutuC2Xdg6QJ8nwBgV0EgLv+Zq6CF2AL9hfJ1R6OU13V7Ud4\n"
    "7IKWnT6SiS02RJO/VxsbzZNmeq8tkM+B0LKrNreuUEAct8Vq8GFHcq7jeAJnEIgO\n"
    "oap/i9poPo29s7fuJ7wICBHylKPeE5Hser0qAkCHV35qhwuNqYTH6HCnm3rUF/lz\n"
    "H1kkk+XvV02aQbY1v1Imfw==</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>8hnLnaELuYv4RLxnPENuiRT/0G/bUHUIoBlqj/WxwwpW1xraOKPIJZC1h+AzWyk4\n"
    "lq+1NwFH9Y/qvgoe0/UBDn5ocOQxqWFDezzfP9Pckb4qYy/LcWS6CKNYQ8d6mdNg\n"
    "opWZGVtuqq9nB3oH8vBqjoxfes0B90Cyu/WklUe3Rg9sU6ed8B0x2tdS7nKlelZh\n"
    "a71YFxsjrlo=</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></r>\n";

static const char golden_incl[] =
    "<?xml version=\"1.0\"?>\n"
    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" ID=\"_golden3\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\" AssertionConsumerServiceURL=\"https://sp.example/acs\"><saml:Issuer>https://sp.example</saml:Issuer><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"samlp\"/></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#_golden3\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"xs\"/></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>l+FS/bxddYKxu7voDuN+jIiBEa8UkhHxpNgwstydY2E=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>cgV/pJf1B7fby3CBqSRz6Zn16LxZeLiawu31o/fNCTbqaUM5N8fx7qqzPntPqJmq\n"
    "/7jup8Vuw9N2PU1N7QSVBWrTWwKclDYepT/AAqCmxPD64H2Ne1Cw3/FT/RL1RFfE\n"
    "3XwIilk/zYjGvj8yk8X115JSex9r0RZLFJTg4lpSgUI0oq1FG4Lnc9X5EBnCbQmY\n"
    "sJR4WNjR+nvoRMBTPh0t/GYxZEV04wWaJ3KdSNd23vjasVS2hD2Gv/XPrPhIFAHl\n"
    "Lxk+fowuYMFOKL8jVxwlHxoko8fjNfhWvDJv5Ox3yBE47RmBvDGWyg0lZnVtRavN\n"
    "DCeDp6WTsCw7jM6AzUgrjQ==</ds:SignatureValue><ds:KeyInfo><ds:X509Data>\n"
    "<ds:X509Certificate>MIIDOzCCAiOgAwIBAgIUDELMMg3nwxxv+SLifwGKrarnGAwwDQYJKoZIhvcNAQEL\n"
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
    "</ds:X509Certificate>\n"
    "</ds:X509Data></ds:KeyInfo></ds:Signature><samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\" AllowCreate=\"true\"/></samlp:AuthnRequest>\n";

#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define NS_XENC "http://www.w3.org/2001/04/xmlenc#"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define XS(s) ((const xmlChar *)(s))

/* A Response as custos builds them: the xs and xsi prefixes are declared on the root only, so
 * an assertion encrypted alone must carry them itself. */
static const char response_xml[] =
    "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" "
    "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ID=\"_resp1\" Version=\"2.0\" "
    "IssueInstant=\"2026-01-01T00:00:00Z\" Destination=\"https://sp.example/acs\">"
    "<saml:Issuer>https://idp.example</saml:Issuer>"
    "<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>"
    "</samlp:Status>"
    "<saml:Assertion ID=\"_assert1\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\">"
    "<saml:Issuer>https://idp.example</saml:Issuer>"
    "<saml:Subject><saml:NameID>alice@example.org</saml:NameID></saml:Subject>"
    "<saml:AttributeStatement><saml:Attribute Name=\"groups\">"
    "<saml:AttributeValue xsi:type=\"xs:string\">admins</saml:AttributeValue>"
    "</saml:Attribute></saml:AttributeStatement>"
    "</saml:Assertion></samlp:Response>";

static const char request_xml[] =
    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_req1\" Version=\"2.0\" "
    "IssueInstant=\"2026-01-01T00:00:00Z\" AssertionConsumerServiceURL=\"https://sp.example/acs\">"
    "<saml:Issuer>https://sp.example</saml:Issuer>"
    "<samlp:NameIDPolicy AllowCreate=\"true\"/></samlp:AuthnRequest>";

struct fx {
	struct cu_arena f_arena;
	struct cu_xmlsig_key *f_rsa;      /* private key + certificate */
	struct cu_xmlsig_key *f_ec;       /* private key + certificate */
	struct cu_xmlsig_key *f_rsa_pub;  /* certificate only */
	struct cu_xmlsig_key *f_ec_pub;   /* certificate only */
	struct cu_xmlsig_key *f_other;    /* another RSA certificate */
	struct cu_xmlsig_key *f_other_pk; /* its private key and certificate */
};

static void
load(struct cu_xmlsig_key **k, const char *key, const char *cert)
{
	size_t klen = key != NULL ? strlen(key) : 0, clen = cert != NULL ? strlen(cert) : 0;

	assert_int_equal(cu_xmlsig_key_load(k, key, klen, cert, clen), 0);
}

static int
setup(void **state)
{
	struct fx *f = cu_calloc(1, sizeof(*f));

	cu_arena_init(&f->f_arena);
	assert_int_equal(cu_xmlsig_init(), 0);
	load(&f->f_rsa, rsa_key, rsa_cert);
	load(&f->f_ec, ec_key, ec_cert);
	load(&f->f_rsa_pub, NULL, rsa_cert);
	load(&f->f_ec_pub, NULL, ec_cert);
	load(&f->f_other, NULL, other_cert);
	load(&f->f_other_pk, other_key, other_cert);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cu_xmlsig_key_free(f->f_rsa);
	cu_xmlsig_key_free(f->f_ec);
	cu_xmlsig_key_free(f->f_rsa_pub);
	cu_xmlsig_key_free(f->f_ec_pub);
	cu_xmlsig_key_free(f->f_other);
	cu_xmlsig_key_free(f->f_other_pk);
	cu_arena_free(&f->f_arena);
	cu_free(f);
	return 0;
}

static xmlDoc *
parse(struct fx *f, const char *text)
{
	xmlDoc *doc = NULL;

	assert_int_equal(cu_xmlsig_parse(&doc, &f->f_arena, text, strlen(text)), CU_OK);
	assert_non_null(doc);
	return doc;
}

static enum cu_err
parse_err(struct fx *f, const char *text, size_t len)
{
	xmlDoc *doc = NULL;
	enum cu_err err = cu_xmlsig_parse(&doc, &f->f_arena, text, len);

	assert_true(err == CU_OK ? doc != NULL : doc == NULL);
	return err;
}

static const char *
serialize(struct fx *f, xmlDoc *doc)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(cu_xmlsig_serialize(&text, &len, &f->f_arena, doc), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

/* The nth (from 0) element named ns:name in document order, or NULL. */
static xmlNode *
find_in(xmlNode *n, const char *ns, const char *name, int *nth)
{
	xmlNode *c, *hit;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->ns != NULL && xmlStrEqual(n->ns->href, XS(ns)) &&
		    xmlStrEqual(n->name, XS(name)) && (*nth)-- == 0)
			return n;
		c = n->children;
		hit = find_in(c, ns, name, nth);
		if (hit != NULL)
			return hit;
	}
	return NULL;
}

static xmlNode *
find(xmlDoc *doc, const char *ns, const char *name, int nth)
{
	return find_in(doc->children, ns, name, &nth);
}

/* Serialises and parses again, as a peer would receive it. */
static xmlDoc *
reparse(struct fx *f, xmlDoc *doc)
{
	return parse(f, serialize(f, doc));
}

/* text with the first from replaced by to (arena-owned); from must occur. */
static char *
replace(struct fx *f, const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	assert_non_null(at);
	return cu_arena_printf(&f->f_arena, "%.*s%s%s", (int)(at - text), text, to,
	                       at + strlen(from));
}

static void
drop(xmlNode *n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

static const char *
verify_why(xmlDoc *doc, xmlNode *el, const struct cu_xmlsig_key *key)
{
	const char *why = "unset";
	int rc = cu_xmlsig_verify(&why, doc, el, "ID", key);

	if (rc == 0) {
		assert_null(why);
		return NULL;
	}
	assert_int_equal(rc, -1);
	assert_non_null(why);
	return why;
}

/* Parsing hostile XML. */

static void
test_parse_ok(void **state)
{
	struct fx *f = *state;
	xmlDoc *doc = parse(f, response_xml);

	assert_string_equal((const char *)xmlDocGetRootElement(doc)->name, "Response");
	assert_non_null(find(doc, NS_SAML, "NameID", 0));
	/* The document is freed with the arena (ASan and valgrind would see a leak otherwise). */
	cu_arena_reset(&f->f_arena);
}

static void
test_parse_xxe_refused(void **state)
{
	struct fx *f = *state;
	static const char *const docs[] = {
	    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
	    "<!DOCTYPE x [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/evil.dtd\"> %p;]><x/>",
	    "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>",
	    "<!DOCTYPE x PUBLIC \"-//x//y\" \"http://127.0.0.1:1/x.dtd\"><x/>",
	    "<!DOCTYPE x><x/>",
	    /* An ID-typed attribute declared in a DTD would let an attacker choose what "#id"
	     * resolves to. */
	    "<!DOCTYPE x [<!ATTLIST y id ID #IMPLIED>]><x><y id=\"a\"/></x>",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		assert_int_equal(parse_err(f, docs[i], strlen(docs[i])), CU_ERR_INVALID);
}

static void
test_parse_billion_laughs_refused(void **state)
{
	struct fx *f = *state;
	static const char lol[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
	    "]><lolz a=\"&lol9;\">&lol9;</lolz>";

	assert_int_equal(parse_err(f, lol, sizeof(lol) - 1), CU_ERR_INVALID);
}

static void
test_parse_malformed_refused(void **state)
{
	struct fx *f = *state;
	static const char *const docs[] = {
	    "",
	    "<x>",
	    "<x></y>",
	    "<x>&undefined;</x>",
	    "<x>&#0;</x>",
	    "<saml:Issuer>undeclared prefix</saml:Issuer>",
	    "<x a=\"1\" a=\"2\"/>",
	    "<x/><y/>",
	    "just text",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		assert_int_equal(parse_err(f, docs[i], strlen(docs[i])), CU_ERR_INVALID);
	/* A NUL byte inside the document. */
	assert_int_equal(parse_err(f, "<x>a\0b</x>", 10), CU_ERR_INVALID);
}

static void
test_parse_xinclude_not_processed(void **state)
{
	struct fx *f = *state;
	xmlDoc *doc = parse(f, "<x xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
	                       "<xi:include href=\"file:///etc/passwd\" parse=\"text\"/></x>");
	xmlChar *content = xmlNodeGetContent(xmlDocGetRootElement(doc));

	assert_string_equal((const char *)content, "");
	xmlFree(content);
}

/* n nested <a> elements (arena-owned). */
static char *
nested(struct fx *f, int n)
{
	char *s = cu_arena_alloc(&f->f_arena, (size_t)n * 7 + 1);
	size_t o = 0;
	int i;

	for (i = 0; i < n; i++) {
		memcpy(s + o, "<a>", 3);
		o += 3;
	}
	for (i = 0; i < n; i++) {
		memcpy(s + o, "</a>", 4);
		o += 4;
	}
	s[o] = '\0';
	return s;
}

static void
test_parse_limits(void **state)
{
	struct fx *f = *state;
	char *s;
	size_t i, o;

	s = nested(f, CU_XML_MAX_DEPTH);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_OK);
	s = nested(f, CU_XML_MAX_DEPTH + 1);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_ERR_TOO_LARGE);
	/* Deep nesting far past libxml2's own limit stops at ours, without recursion trouble. */
	s = nested(f, 100000);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_ERR_TOO_LARGE);

	/* Element count: a flat list of <b/> one past the limit. */
	s = cu_arena_alloc(&f->f_arena, (CU_XML_MAX_NODES + 1) * 4 + 8);
	memcpy(s, "<a>", 3);
	o = 3;
	for (i = 0; i < CU_XML_MAX_NODES; i++) {
		memcpy(s + o, "<b/>", 4);
		o += 4;
	}
	memcpy(s + o, "</a>", 5);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_ERR_TOO_LARGE);
	/* One fewer <b/> fits. */
	memmove(s + 3, s + 7, strlen(s + 7) + 1);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_OK);

	/* Attributes on one element. */
	s = cu_arena_alloc(&f->f_arena, 16 * (CU_XML_MAX_ATTRS + 2));
	o = (size_t)snprintf(s, 8, "<a");
	for (i = 0; i <= CU_XML_MAX_ATTRS; i++)
		o += (size_t)snprintf(s + o, 16, " a%zu=\"\"", i);
	memcpy(s + o, "/>", 3);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_ERR_TOO_LARGE);

	/* A hundred thousand attributes on one tag: refused before libxml2 compares them pairwise.
	 * '=' inside quoted values and comments does not count. */
	s = cu_arena_alloc(&f->f_arena, 11 * 100000 + 16);
	o = (size_t)snprintf(s, 8, "<a");
	for (i = 0; i < 100000; i++)
		o += (size_t)snprintf(s + o, 12, " a%05zu=\"\"", i);
	memcpy(s + o, "/>", 3);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_ERR_TOO_LARGE);
	s = cu_arena_alloc(&f->f_arena, 4096);
	o = (size_t)snprintf(s, 16, "<a b=\"");
	memset(s + o, '=', 1000);
	o += 1000;
	o += (size_t)snprintf(s + o, 64, "\" c='>'><!--");
	memset(s + o, '=', 1000);
	o += 1000;
	memcpy(s + o, "--></a>", 8);
	assert_int_equal(parse_err(f, s, strlen(s)), CU_OK);

	/* Size: refused before parsing, whatever the content. */
	s = cu_arena_alloc(&f->f_arena, CU_XML_MAX_BYTES + 1);
	memset(s, ' ', CU_XML_MAX_BYTES + 1);
	memcpy(s, "<a/>", 4);
	assert_int_equal(parse_err(f, s, CU_XML_MAX_BYTES + 1), CU_ERR_TOO_LARGE);
	assert_int_equal(parse_err(f, s, CU_XML_MAX_BYTES), CU_OK);
}

/* Keys. */

static void
test_key_load(void **state)
{
	struct fx *f = *state;
	struct cu_xmlsig_key *k = (struct cu_xmlsig_key *)1;
	EVP_PKEY *pk;
	BIO *bio;
	char *pub;
	long n;

	(void)f;
	/* A private key with a certificate that is not its own. */
	assert_int_equal(
	    cu_xmlsig_key_load(&k, rsa_key, strlen(rsa_key), other_cert, strlen(other_cert)), -1);
	assert_null(k);
	assert_int_equal(cu_xmlsig_key_load(&k, NULL, 0, NULL, 0), -1);
	assert_int_equal(cu_xmlsig_key_load(&k, "junk", 4, NULL, 0), -1);
	assert_int_equal(cu_xmlsig_key_load(&k, NULL, 0, "junk", 4), -1);
	/* A certificate where the private key should be. */
	assert_int_equal(cu_xmlsig_key_load(&k, rsa_cert, strlen(rsa_cert), NULL, 0), -1);
	/* A private key alone signs (with no certificate in KeyInfo). */
	assert_int_equal(cu_xmlsig_key_load(&k, ec_key, strlen(ec_key), NULL, 0), 0);
	cu_xmlsig_key_free(k);
	/* A bare public key verifies. */
	bio = BIO_new_mem_buf(rsa_key, -1);
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
	n = BIO_get_mem_data(bio, &pub);
	assert_int_equal(cu_xmlsig_key_load(&k, NULL, 0, pub, (size_t)n), 0);
	BIO_free(bio);
	cu_xmlsig_key_free(k);
	/* A passphrase-protected key is refused, never prompted for. */
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, EVP_aes_256_cbc(),
	                                          (const unsigned char *)"secret", 6, NULL, NULL),
	                 1);
	n = BIO_get_mem_data(bio, &pub);
	assert_int_equal(cu_xmlsig_key_load(&k, pub, (size_t)n, rsa_cert, strlen(rsa_cert)), -1);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	cu_xmlsig_key_free(NULL);
}

static void
test_algorithm_uris(void **state)
{
	enum cu_xmlsig_sig s;
	enum cu_xmlsig_digest d;
	int i;

	(void)state;
	/* authentik's values (authentik/common/saml/constants.py). */
	assert_string_equal(cu_xmlsig_sig_uri(CU_XMLSIG_RSA_SHA256),
	                    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
	assert_string_equal(cu_xmlsig_sig_uri(CU_XMLSIG_RSA_SHA1),
	                    "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
	assert_string_equal(cu_xmlsig_sig_uri(CU_XMLSIG_ECDSA_SHA512),
	                    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512");
	assert_string_equal(cu_xmlsig_digest_uri(CU_XMLSIG_SHA256),
	                    "http://www.w3.org/2001/04/xmlenc#sha256");
	assert_string_equal(cu_xmlsig_digest_uri(CU_XMLSIG_SHA384),
	                    "http://www.w3.org/2001/04/xmldsig-more#sha384");
	for (i = 0; i < CU_XMLSIG_SIG__MAX; i++) {
		assert_int_equal(cu_xmlsig_sig_from_uri(&s, cu_xmlsig_sig_uri(i)), 0);
		assert_int_equal(s, i);
	}
	for (i = 0; i < CU_XMLSIG_DIGEST__MAX; i++) {
		assert_int_equal(cu_xmlsig_digest_from_uri(&d, cu_xmlsig_digest_uri(i)), 0);
		assert_int_equal(d, i);
	}
	assert_int_equal(cu_xmlsig_sig_from_uri(&s, "http://www.w3.org/2000/09/xmldsig#hmac-sha1"),
	                 -1);
	assert_int_equal(cu_xmlsig_sig_from_uri(&s, "http://www.w3.org/2000/09/xmldsig#dsa-sha1"),
	                 -1);
	assert_int_equal(
	    cu_xmlsig_digest_from_uri(&d, "http://www.w3.org/2001/04/xmldsig-more#md5"), -1);
	assert_null(cu_xmlsig_sig_uri(CU_XMLSIG_SIG__MAX));
}

/* Signing and verifying. */

static void
test_sign_verify_every_algorithm(void **state)
{
	struct fx *f = *state;
	xmlDoc *doc;
	xmlNode *assertion, *sig, *issuer;
	int alg, dig;
	const struct cu_xmlsig_key *key, *pub, *wrong;

	for (alg = 0; alg < CU_XMLSIG_SIG__MAX; alg++) {
		int ec = alg >= CU_XMLSIG_ECDSA_SHA256;

		key = ec ? f->f_ec : f->f_rsa;
		pub = ec ? f->f_ec_pub : f->f_rsa_pub;
		wrong = ec ? f->f_rsa_pub : f->f_ec_pub;
		for (dig = 0; dig < CU_XMLSIG_DIGEST__MAX; dig++) {
			doc = parse(f, response_xml);
			assertion = find(doc, NS_SAML, "Assertion", 0);
			assert_int_equal(cu_xmlsig_sign(doc, assertion, "ID", key, alg, dig), 0);
			/* Where SAML's schema wants it: right after the Issuer. */
			issuer = find(doc, NS_SAML, "Issuer", 1);
			sig = cu_xmlsig_signature(assertion);
			assert_non_null(sig);
			assert_ptr_equal(xmlNextElementSibling(issuer), sig);
			assert_non_null(find(doc, NS_DS, "X509Certificate", 0));

			doc = reparse(f, doc);
			assertion = find(doc, NS_SAML, "Assertion", 0);
			assert_null(verify_why(doc, assertion, pub));
			/* The private key verifies too; the other key type does not fit. */
			assert_null(verify_why(doc, assertion, key));
			assert_string_equal(verify_why(doc, assertion, wrong),
			                    "signature algorithm does not fit the key");
			if (!ec)
				assert_string_equal(verify_why(doc, assertion, f->f_other),
				                    "signature does not verify");
			/* The response around it is not signed. */
			assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), pub),
			                    "not signed");
		}
	}
	/* Signing refuses a key that does not fit, an element signed already, no ID. */
	doc = parse(f, response_xml);
	assertion = find(doc, NS_SAML, "Assertion", 0);
	assert_int_equal(
	    cu_xmlsig_sign(doc, assertion, "ID", f->f_ec, CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	    -1);
	assert_int_equal(cu_xmlsig_sign(doc, assertion, "ID", f->f_rsa_pub, CU_XMLSIG_RSA_SHA256,
	                                CU_XMLSIG_SHA256),
	                 -1);
	assert_int_equal(cu_xmlsig_sign(doc, assertion, "Nope", f->f_rsa, CU_XMLSIG_RSA_SHA256,
	                                CU_XMLSIG_SHA256),
	                 -1);
	assert_null(cu_xmlsig_signature(assertion));
	assert_int_equal(
	    cu_xmlsig_sign(doc, assertion, "ID", f->f_rsa, CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	    0);
	assert_int_equal(
	    cu_xmlsig_sign(doc, assertion, "ID", f->f_rsa, CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	    -1);
}

static void
test_sign_response_and_assertion(void **state)
{
	struct fx *f = *state;
	xmlDoc *doc = parse(f, request_xml);
	xmlNode *root, *assertion;

	/* An element without an Issuer gets the signature first. */
	root = xmlDocGetRootElement(doc);
	drop(find(doc, NS_SAML, "Issuer", 0));
	assert_int_equal(
	    cu_xmlsig_sign(doc, root, "ID", f->f_rsa, CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256), 0);
	assert_ptr_equal(xmlFirstElementChild(root), cu_xmlsig_signature(root));
	doc = reparse(f, doc);
	assert_null(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub));

	/* Assertion first, then the response over it, as authentik orders them. */
	doc = parse(f, response_xml);
	assertion = find(doc, NS_SAML, "Assertion", 0);
	assert_int_equal(
	    cu_xmlsig_sign(doc, assertion, "ID", f->f_rsa, CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	    0);
	assert_int_equal(cu_xmlsig_sign(doc, xmlDocGetRootElement(doc), "ID", f->f_rsa,
	                                CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	                 0);
	doc = reparse(f, doc);
	assert_null(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub));
	assert_null(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub));
	/* Verifying twice is fine: the IDs registered the first time are the same. */
	assert_null(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub));
}

/* A signed assertion inside a response, as text. */
static const char *
signed_response(struct fx *f, const struct cu_xmlsig_key *key, enum cu_xmlsig_sig alg)
{
	xmlDoc *doc = parse(f, response_xml);

	assert_int_equal(cu_xmlsig_sign(doc, find(doc, NS_SAML, "Assertion", 0), "ID", key, alg,
	                                CU_XMLSIG_SHA256),
	                 0);
	return serialize(f, doc);
}

static void
test_tampering_detected(void **state)
{
	struct fx *f = *state;
	const char *good = signed_response(f, f->f_rsa, CU_XMLSIG_RSA_SHA256);
	xmlDoc *doc;
	char *bad;
	const char *p;

	doc = parse(f, good);
	assert_null(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub));

	/* Content, an attribute, a comment-split value, the digest, the signature value. */
	bad = replace(f, good, "alice@example.org", "admin@example.org");
	doc = parse(f, bad);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "signature does not verify");
	bad = replace(f, good, "Version=\"2.0\" IssueInstant", "Version=\"2.1\" IssueInstant");
	bad = replace(f, good, "<saml:Assertion ID=\"_assert1\" Version=\"2.0\"",
	              "<saml:Assertion ID=\"_assert1\" Version=\"2.1\"");
	doc = parse(f, bad);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "signature does not verify");
	/* Comments are not canonical content: NameID "alice@example.org" split by a comment is
	 * still the signed value, and xmlNodeGetContent reads it whole. */
	bad = replace(f, good, "alice@example.org", "alice@example<!-- x -->.org");
	doc = parse(f, bad);
	assert_null(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub));
	{
		xmlChar *v = xmlNodeGetContent(find(doc, NS_SAML, "NameID", 0));

		assert_string_equal((const char *)v, "alice@example.org");
		xmlFree(v);
	}
	p = strstr(good, "<ds:DigestValue>") + strlen("<ds:DigestValue>");
	bad = cu_arena_strdup(&f->f_arena, good);
	bad[p - good] = bad[p - good] == 'A' ? 'B' : 'A';
	doc = parse(f, bad);
	assert_non_null(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub));
	p = strstr(good, "<ds:SignatureValue>") + strlen("<ds:SignatureValue>") + 10;
	bad = cu_arena_strdup(&f->f_arena, good);
	bad[p - good] = bad[p - good] == 'A' ? 'B' : 'A';
	doc = parse(f, bad);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "signature does not verify");
}

static void
test_keyinfo_is_not_trusted(void **state)
{
	struct fx *f = *state;
	/* Signed with another key, whose certificate is in KeyInfo: only the configured key
	 * counts. */
	const char *text = signed_response(f, f->f_other_pk, CU_XMLSIG_RSA_SHA256);
	xmlDoc *doc = parse(f, text);

	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "signature does not verify");
	assert_null(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_other));
}

/* Signature wrapping (XSW): each variant a published attack on SAML signature checks. */

/* A signed AuthnRequest as text, without the XML declaration. */
static const char *
signed_request(struct fx *f)
{
	xmlDoc *doc = parse(f, request_xml);
	const char *text;

	assert_int_equal(cu_xmlsig_sign(doc, xmlDocGetRootElement(doc), "ID", f->f_rsa,
	                                CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	                 0);
	text = serialize(f, doc);
	return strchr(text, '\n') + 1;
}

static void
test_xsw_wrapped_in_extensions(void **state)
{
	struct fx *f = *state;
	const char *orig = signed_request(f);
	const char *evil_open =
	    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_evil\" Version=\"2.0\" "
	    "IssueInstant=\"2026-01-01T00:00:00Z\" "
	    "AssertionConsumerServiceURL=\"https://evil.example/acs\">"
	    "<saml:Issuer>https://sp.example</saml:Issuer>";
	xmlDoc *doc;
	xmlNode *root, *inner, *sig;
	char *text;

	/* XSW1/2 shape: the genuine request hidden in Extensions under a forged one. */
	text = cu_arena_printf(&f->f_arena,
	                       "%s<samlp:Extensions>%s</samlp:Extensions>"
	                       "</samlp:AuthnRequest>",
	                       evil_open, orig);
	doc = parse(f, text);
	root = xmlDocGetRootElement(doc);
	inner = find(doc, NS_SAMLP, "AuthnRequest", 1);
	assert_string_equal(verify_why(doc, root, f->f_rsa_pub), "not signed");
	/* The genuine element still verifies: a caller that uses what verified gets the genuine
	 * ACS URL, never the forged one. */
	assert_null(verify_why(doc, inner, f->f_rsa_pub));

	/* The signature moved up to the forged root: its reference names the hidden element. */
	sig = cu_xmlsig_signature(inner);
	xmlUnlinkNode(sig);
	xmlAddNextSibling(find(doc, NS_SAML, "Issuer", 0), sig);
	doc = reparse(f, doc);
	assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub),
	                    "reference does not name the element");
	assert_string_equal(verify_why(doc, find(doc, NS_SAMLP, "AuthnRequest", 1), f->f_rsa_pub),
	                    "not signed");

	/* The forged root takes the genuine ID as well: two elements with one ID. */
	text = (char *)replace(f, serialize(f, doc), "ID=\"_evil\"", "ID=\"_req1\"");
	doc = parse(f, text);
	assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub),
	                    "duplicate ID");
}

static void
test_xsw_signed_element_in_object(void **state)
{
	struct fx *f = *state;
	const char *orig = signed_request(f);
	xmlDoc *doc = parse(f, orig);
	xmlNode *root = xmlDocGetRootElement(doc), *sig, *obj, *copy;

	/* XSW3/4 shape: the genuine element inside ds:Object of its own signature, which now
	 * hangs under a forged element of the same ID. */
	copy = xmlDocCopyNode(root, doc, 1);
	sig = cu_xmlsig_signature(copy);
	xmlUnlinkNode(sig);
	xmlSetProp(root, XS("AssertionConsumerServiceURL"), XS("https://evil.example/acs"));
	drop(cu_xmlsig_signature(root));
	xmlAddNextSibling(find(doc, NS_SAML, "Issuer", 0), sig);
	obj = xmlNewChild(sig, sig->ns, XS("Object"), NULL);
	xmlAddChild(obj, copy);
	doc = reparse(f, doc);
	assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub),
	                    "signature is not SignedInfo, SignatureValue, KeyInfo");
}

static void
test_xsw_second_assertion(void **state)
{
	struct fx *f = *state;
	const char *good = signed_response(f, f->f_rsa, CU_XMLSIG_RSA_SHA256);
	const char *evil = "<saml:Assertion ID=\"_evil\" Version=\"2.0\" "
	                   "IssueInstant=\"2026-01-01T00:00:00Z\"><saml:Issuer>https://idp.example"
	                   "</saml:Issuer><saml:Subject><saml:NameID>admin@example.org"
	                   "</saml:NameID></saml:Subject></saml:Assertion>";
	xmlDoc *doc;
	xmlNode *forged, *genuine, *sig;
	char *text;

	/* XSW5-8 shape: a forged assertion beside the genuine one, before or after it. */
	text = replace(f, good, "<saml:Assertion ",
	               cu_arena_printf(&f->f_arena, "%s<saml:Assertion ", evil));
	doc = parse(f, text);
	forged = find(doc, NS_SAML, "Assertion", 0);
	genuine = find(doc, NS_SAML, "Assertion", 1);
	assert_string_equal(verify_why(doc, forged, f->f_rsa_pub), "not signed");
	assert_null(verify_why(doc, genuine, f->f_rsa_pub));

	/* The genuine signature copied into the forged assertion. */
	sig = xmlDocCopyNode(cu_xmlsig_signature(genuine), doc, 1);
	xmlAddNextSibling(find(doc, NS_SAML, "Issuer", 1), sig);
	doc = reparse(f, doc);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "reference does not name the element");

	/* ... and given the genuine ID. */
	text = replace(f, serialize(f, doc), "ID=\"_evil\"", "ID=\"_assert1\"");
	doc = parse(f, text);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "duplicate ID");
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 1), f->f_rsa_pub),
	                    "duplicate ID");

	/* Two signatures on one element. */
	doc = parse(f, good);
	genuine = find(doc, NS_SAML, "Assertion", 0);
	sig = xmlDocCopyNode(cu_xmlsig_signature(genuine), doc, 1);
	xmlAddNextSibling(cu_xmlsig_signature(genuine), sig);
	doc = reparse(f, doc);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "more than one signature");
}

static void
test_xsw_xml_id_collision(void **state)
{
	struct fx *f = *state;
	const char *good = signed_response(f, f->f_rsa, CU_XMLSIG_RSA_SHA256);
	char *text;
	xmlDoc *doc;

	/* xml:id is an ID to libxml2 whatever the schema: an element claiming the signed ID that
	 * way makes "#_assert1" ambiguous. */
	text = replace(f, good, "<samlp:Status>", "<samlp:Status xml:id=\"_assert1\">");
	doc = parse(f, text);
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "duplicate ID");
}

static void
test_reference_forms_refused(void **state)
{
	struct fx *f = *state;
	const char *good = signed_response(f, f->f_rsa, CU_XMLSIG_RSA_SHA256);
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
	    /* Whole document, XPointer, other documents, files, the network. */
	    {"URI=\"#_assert1\"", "URI=\"\"", "reference does not name the element"},
	    {"URI=\"#_assert1\"", "URI=\"#xpointer(/)\"", "reference does not name the element"},
	    {"URI=\"#_assert1\"", "URI=\"#xpointer(id('_assert1'))\"",
	     "reference does not name the element"},
	    {"URI=\"#_assert1\"", "URI=\"file:///etc/passwd\"",
	     "reference does not name the element"},
	    {"URI=\"#_assert1\"", "URI=\"http://127.0.0.1:1/x.xml\"",
	     "reference does not name the element"},
	    {"URI=\"#_assert1\"", "", "reference does not name the element"},
	    /* Transforms beyond enveloped + exc-c14n: XPath, XSLT, a repeated one. */
	    {"<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	     "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
	     "<ds:XPath>1</ds:XPath></ds:Transform>",
	     "transform not accepted"},
	    {"<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	     "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>",
	     "transform not accepted"},
	    {"<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	     "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
	     "transform not accepted"},
	    {"<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
	     "", "signature is not enveloped"},
	    /* Algorithms: HMAC keyed with the public key, MD5, DSA. */
	    {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	     "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "signature algorithm not accepted"},
	    {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	     "http://www.w3.org/2000/09/xmldsig#dsa-sha1", "signature algorithm not accepted"},
	    {"<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>",
	     "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#md5\"/>",
	     "digest algorithm not accepted"},
	    {"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod",
	     "http://www.w3.org/2006/12/xml-c14n11\"/><ds:SignatureMethod",
	     "canonicalization method not accepted"},
	    /* exc-c14n takes InclusiveNamespaces and nothing else. */
	    {"<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	     "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">"
	     "<ds:XPath>1</ds:XPath></ds:Transform>",
	     "transform not accepted"},
	    /* A second reference, to anything. */
	    {"</ds:SignedInfo>",
	     "<ds:Reference URI=\"#_resp1\"><ds:DigestMethod "
	     "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>AA==</ds:DigestValue>"
	     "</ds:Reference></ds:SignedInfo>",
	     "signature has more than one reference"},
	    /* An Object (and so a Manifest) in the signature. */
	    {"</ds:Signature>",
	     "<ds:Object><ds:Manifest><ds:Reference URI=\"http://127.0.0.1:1/\"><ds:DigestMethod "
	     "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>AA==</ds:DigestValue>"
	     "</ds:Reference></ds:Manifest></ds:Object></ds:Signature>",
	     "signature is not SignedInfo, SignatureValue, KeyInfo"},
	};
	size_t i;
	xmlDoc *doc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = parse(f, replace(f, good, cases[i].from, cases[i].to));
		assert_string_equal(
		    verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
		    cases[i].why);
	}
	/* A changed exc-c14n parameter is a changed SignedInfo. */
	doc = parse(f, replace(f, golden_incl, "PrefixList=\"xs\"", "PrefixList=\"zz\""));
	assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub),
	                    "signature does not verify");
	/* An ID that is not an NCName never reaches xmlsec's XPointer. */
	doc = parse(f, replace(f, good, "ID=\"_assert1\"", "ID=\"_a')or('1\""));
	assert_string_equal(verify_why(doc, find(doc, NS_SAML, "Assertion", 0), f->f_rsa_pub),
	                    "element has no valid ID");
}

/* Interoperability with the xmlsec1 command line, the reference implementation. */

static void
test_verify_xmlsec1_golden(void **state)
{
	struct fx *f = *state;
	xmlDoc *doc;

	doc = parse(f, golden_rsa);
	assert_null(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub));
	assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), f->f_other),
	                    "signature does not verify");
	doc = parse(f, golden_ec);
	assert_null(verify_why(doc, xmlDocGetRootElement(doc), f->f_ec_pub));
	/* OpenSAML's form: exc-c14n with an InclusiveNamespaces PrefixList, in SignedInfo and in
	 * the reference. */
	doc = parse(f, golden_incl);
	assert_null(verify_why(doc, xmlDocGetRootElement(doc), f->f_rsa_pub));
	doc = parse(f, replace(f, golden_ec, "https://sp.example/acs", "https://evil.example/acs"));
	assert_string_equal(verify_why(doc, xmlDocGetRootElement(doc), f->f_ec_pub),
	                    "signature does not verify");
}

static const char xmlsec1_path[] = "/usr/bin/xmlsec1";

/* Runs argv (argv[0] a full path) with output discarded; its exit status, or -1. */
static int
run(const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

struct tmpdir {
	char td_path[64];
	char td_files[8][128];
	int td_n;
};

static const char *
tmp_write(struct tmpdir *t, const char *name, const char *text)
{
	char *path = t->td_files[t->td_n++];
	char buf[sizeof(t->td_files[0])];
	FILE *fp;

	/* Built aside: the directory name and the path live in the same struct. */
	(void)snprintf(buf, sizeof(buf), "%s/%s", t->td_path, name);
	memcpy(path, buf, sizeof(buf));
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	return path;
}

static char *
tmp_read(struct fx *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = cu_arena_alloc(&f->f_arena, 65536);
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
tmp_clean(struct tmpdir *t)
{
	int i;

	for (i = 0; i < t->td_n; i++)
		unlink(t->td_files[i]);
	t->td_n = 0;
}

static void
test_xmlsec1_verifies_ours(void **state)
{
	struct fx *f = *state;
	struct tmpdir t;
	const char *file, *cert, *tampered;
	int i;
	static const struct {
		enum cu_xmlsig_sig alg;
		int ec;
	} algs[] = {{CU_XMLSIG_RSA_SHA256, 0},
	            {CU_XMLSIG_RSA_SHA1, 0},
	            {CU_XMLSIG_RSA_SHA512, 0},
	            {CU_XMLSIG_ECDSA_SHA256, 1},
	            {CU_XMLSIG_ECDSA_SHA384, 1}};

	if (access(xmlsec1_path, X_OK) != 0)
		skip();
	memset(&t, 0, sizeof(t));
	(void)snprintf(t.td_path, sizeof(t.td_path), "/tmp/custos-xmlsig.XXXXXX");
	assert_non_null(mkdtemp(t.td_path));
	for (i = 0; i < (int)(sizeof(algs) / sizeof(algs[0])); i++) {
		const char *text = signed_response(f, algs[i].ec ? f->f_ec : f->f_rsa, algs[i].alg);

		t.td_n = 0;
		file = tmp_write(&t, "signed.xml", text);
		cert = tmp_write(&t, "cert.pem", algs[i].ec ? ec_cert : rsa_cert);
		tampered = tmp_write(&t, "tampered.xml",
		                     replace(f, text, "alice@example.org", "admin@example.org"));
		{
			const char *argv[] = {xmlsec1_path,
			                      "--verify",
			                      "--pubkey-cert-pem",
			                      cert,
			                      "--id-attr:ID",
			                      "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
			                      file,
			                      NULL};

			assert_int_equal(run(argv), 0);
			argv[6] = tampered;
			assert_int_not_equal(run(argv), 0);
		}
		tmp_clean(&t);
	}
	rmdir(t.td_path);
}

/* Encryption. */

/* Encrypts the (signed) assertion of doc and wraps it as SAML wants; returns the text. */
static const char *
encrypt_assertion(struct fx *f, xmlDoc *doc, enum cu_xmlsig_cipher cipher)
{
	xmlNode *assertion = find(doc, NS_SAML, "Assertion", 0), *enc = NULL, *wrap;

	assert_int_equal(cu_xmlsig_encrypt(&enc, doc, assertion, f->f_rsa_pub, cipher), 0);
	assert_non_null(enc);
	assert_null(find(doc, NS_SAML, "Assertion", 0));
	wrap = xmlNewDocNode(doc, xmlSearchNsByHref(doc, xmlDocGetRootElement(doc), XS(NS_SAML)),
	                     XS("EncryptedAssertion"), NULL);
	xmlReplaceNode(enc, wrap);
	xmlAddChild(wrap, enc);
	return serialize(f, doc);
}

static void
test_encrypt_decrypt_round_trip(void **state)
{
	struct fx *f = *state;
	int cipher;
	xmlDoc *doc;
	xmlNode *enc, *out = NULL, *value;
	const char *text;
	xmlChar *type;

	for (cipher = 0; cipher < CU_XMLSIG_CIPHER__MAX; cipher++) {
		doc = parse(f, signed_response(f, f->f_rsa, CU_XMLSIG_RSA_SHA256));
		text = encrypt_assertion(f, doc, cipher);
		assert_null(strstr(text, "alice"));
		assert_non_null(strstr(text, cu_xmlsig_cipher_uri(cipher)));
		assert_non_null(strstr(text, "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"));

		doc = parse(f, text);
		enc = find(doc, NS_XENC, "EncryptedData", 0);
		assert_non_null(enc);
		assert_int_equal(cu_xmlsig_decrypt(&out, doc, enc, f->f_other_pk), -1);
		assert_int_equal(cu_xmlsig_decrypt(&out, doc, enc, f->f_rsa_pub), -1);
		assert_int_equal(cu_xmlsig_decrypt(&out, doc, enc, f->f_rsa), 0);
		assert_ptr_equal(out, find(doc, NS_SAML, "Assertion", 0));
		assert_string_equal((const char *)out->parent->name, "EncryptedAssertion");
		/* The signature made before encryption holds after decryption. */
		assert_null(verify_why(doc, out, f->f_rsa_pub));
		/* xsi:type="xs:string" still means XML Schema's string. */
		value = find(doc, NS_SAML, "AttributeValue", 0);
		type = xmlGetNsProp(value, XS("type"), XS(NS_XSI));
		assert_string_equal((const char *)type, "xs:string");
		xmlFree(type);
		assert_non_null(xmlSearchNs(doc, value, XS("xs")));
	}
}

static void
test_decrypt_xmlsec1_golden(void **state)
{
	struct fx *f = *state;
	xmlDoc *doc = parse(f, golden_enc);
	xmlNode *out = NULL;
	xmlChar *v;

	assert_int_equal(
	    cu_xmlsig_decrypt(&out, doc, find(doc, NS_XENC, "EncryptedData", 0), f->f_rsa), 0);
	v = xmlNodeGetContent(find(doc, NS_SAML, "Subject", 0));
	assert_string_equal((const char *)v, "bob");
	xmlFree(v);
	/* A CipherReference (which could fetch from anywhere) or RSA PKCS#1 v1.5 is refused. */
	doc = parse(f, replace(f, golden_enc, "rsa-oaep-mgf1p", "rsa-1_5"));
	assert_int_equal(
	    cu_xmlsig_decrypt(&out, doc, find(doc, NS_XENC, "EncryptedData", 0), f->f_rsa), -1);
	doc = parse(
	    f,
	    replace(
	        f,
	        replace(
	            f, golden_enc,
	            "</xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>",
	            "</xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherReference URI=\"file:///etc/passwd\"/><xenc:CipherValue>"),
	        "<r>", "<r>"));
	assert_int_equal(
	    cu_xmlsig_decrypt(&out, doc, find(doc, NS_XENC, "EncryptedData", 0), f->f_rsa), -1);
}

static void
test_xmlsec1_decrypts_ours(void **state)
{
	struct fx *f = *state;
	struct tmpdir t;
	const char *enc, *key, *plain;
	int cipher;

	if (access(xmlsec1_path, X_OK) != 0)
		skip();
	memset(&t, 0, sizeof(t));
	(void)snprintf(t.td_path, sizeof(t.td_path), "/tmp/custos-xmlsig.XXXXXX");
	assert_non_null(mkdtemp(t.td_path));
	for (cipher = 0; cipher < CU_XMLSIG_CIPHER__MAX; cipher++) {
		t.td_n = 0;
		enc =
		    tmp_write(&t, "enc.xml", encrypt_assertion(f, parse(f, response_xml), cipher));
		key = tmp_write(&t, "key.pem", rsa_key);
		plain = tmp_write(&t, "plain.xml", "");
		{
			const char *argv[] = {xmlsec1_path, "--decrypt", "--privkey-pem",
			                      key,          "--output",  plain,
			                      enc,          NULL};

			assert_int_equal(run(argv), 0);
		}
		assert_non_null(strstr(tmp_read(f, plain), "alice@example.org"));
		tmp_clean(&t);
	}
	rmdir(t.td_path);
}

/* The Redirect binding. */

static void
test_redirect_round_trip(void **state)
{
	struct fx *f = *state;
	struct cu_xmlsig_redirect rd;
	char *q = NULL;
	const char *why;
	static const char relay[] = "https://sp.example/after?x=1&y=2 +%";
	int i;
	static const struct {
		enum cu_xmlsig_sig alg;
		int ec;
	} algs[] = {{CU_XMLSIG_RSA_SHA256, 0},
	            {CU_XMLSIG_RSA_SHA1, 0},
	            {CU_XMLSIG_ECDSA_SHA256, 1},
	            {CU_XMLSIG_ECDSA_SHA512, 1}};

	for (i = 0; i < (int)(sizeof(algs) / sizeof(algs[0])); i++) {
		const struct cu_xmlsig_key *key = algs[i].ec ? f->f_ec : f->f_rsa;
		const struct cu_xmlsig_key *pub = algs[i].ec ? f->f_ec_pub : f->f_rsa_pub;

		assert_int_equal(cu_xmlsig_redirect_encode(&q, &f->f_arena, "SAMLRequest",
		                                           request_xml, strlen(request_xml), relay,
		                                           key, algs[i].alg),
		                 0);
		assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, q, strlen(q)), CU_OK);
		assert_string_equal(rd.rd_param, "SAMLRequest");
		assert_int_equal(rd.rd_xml_len, strlen(request_xml));
		assert_string_equal(rd.rd_xml, request_xml);
		assert_string_equal(rd.rd_relay_state, relay);
		assert_int_equal(rd.rd_signed, 1);
		assert_int_equal(rd.rd_sig_alg, algs[i].alg);
		assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, pub), 0);
		assert_null(why);
		assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, key), 0);
		assert_int_equal(
		    cu_xmlsig_redirect_verify(&why, &rd, algs[i].ec ? f->f_rsa_pub : f->f_ec_pub),
		    -1);
		assert_string_equal(why, "signature algorithm does not fit the key");
		if (!algs[i].ec) {
			assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, f->f_other), -1);
			assert_string_equal(why, "signature does not verify");
		}
		/* A changed RelayState breaks the signature. */
		assert_int_equal(cu_xmlsig_redirect_parse(
		                     &rd, &f->f_arena, replace(f, q, "after", "evil0"), strlen(q)),
		                 CU_OK);
		assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, pub), -1);
		/* Dropping it does too. */
		{
			char *amp = strstr(q, "&RelayState=");
			char *end = strchr(amp + 1, '&');
			char *cut = cu_arena_printf(&f->f_arena, "%.*s%s", (int)(amp - q), q, end);

			assert_int_equal(
			    cu_xmlsig_redirect_parse(&rd, &f->f_arena, cut, strlen(cut)), CU_OK);
			assert_null(rd.rd_relay_state);
			assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, pub), -1);
		}
	}

	/* Unsigned, no RelayState. */
	assert_int_equal(cu_xmlsig_redirect_encode(&q, &f->f_arena, "SAMLResponse", request_xml,
	                                           strlen(request_xml), NULL, NULL, 0),
	                 0);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, q, strlen(q)), CU_OK);
	assert_string_equal(rd.rd_param, "SAMLResponse");
	assert_int_equal(rd.rd_signed, 0);
	assert_null(rd.rd_relay_state);
	assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, f->f_rsa_pub), -1);
	assert_string_equal(why, "not signed");
	assert_int_equal(cu_xmlsig_redirect_encode(&q, &f->f_arena, "SAMLArtifact", request_xml,
	                                           strlen(request_xml), NULL, NULL, 0),
	                 -1);
}

/* Signs octets with RSA-SHA256 the way an SP does, for queries built by hand. */
static char *
sign_raw(struct fx *f, const char *octets)
{
	BIO *bio = BIO_new_mem_buf(rsa_key, -1);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t n = sizeof(sig), i, o = 0;
	char *b64 = cu_arena_alloc(&f->f_arena, cu_base64_enc_len(n) + 1);
	char *enc = cu_arena_alloc(&f->f_arena, 3 * cu_base64_enc_len(n) + 1);

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &n, (const unsigned char *)octets, strlen(octets)),
	                 1);
	cu_base64_encode(b64, sig, n);
	for (i = 0; b64[i] != '\0'; i++) {
		if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=')
			o += (size_t)snprintf(enc + o, 4, "%%%02x", b64[i]);
		else
			enc[o++] = b64[i];
	}
	enc[o] = '\0';
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return enc;
}

static void
test_redirect_signed_octets_as_received(void **state)
{
	struct fx *f = *state;
	struct cu_xmlsig_redirect rd;
	char *q = NULL, *req, *octets, *query;
	const char *why;
	const char *sigalg = "http%3a%2f%2fwww.w3.org%2f2001%2f04%2fxmldsig-more%23rsa-sha256";

	/* Lower-case escapes, as some SPs (ADFS among them) send: the signature is over those
	 * exact bytes, not over a re-encoding. */
	assert_int_equal(cu_xmlsig_redirect_encode(&q, &f->f_arena, "SAMLRequest", request_xml,
	                                           strlen(request_xml), NULL, NULL, 0),
	                 0);
	req = strchr(q, '=') + 1;
	octets =
	    cu_arena_printf(&f->f_arena, "SAMLRequest=%s&RelayState=a%%2fb&SigAlg=%s", req, sigalg);
	/* Parameters in another order, and one not covered by the signature. */
	query = cu_arena_printf(&f->f_arena,
	                        "SigAlg=%s&foo=bar&Signature=%s&RelayState=a%%2fb"
	                        "&SAMLRequest=%s",
	                        sigalg, sign_raw(f, octets), req);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, query, strlen(query)), CU_OK);
	assert_string_equal(rd.rd_relay_state, "a/b");
	assert_string_equal(rd.rd_octets, octets);
	assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, f->f_rsa_pub), 0);
	/* The same values encoded in upper case are other bytes: not what was signed. */
	query = replace(f, query, "a%2fb", "a%2Fb");
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, query, strlen(query)), CU_OK);
	assert_string_equal(rd.rd_relay_state, "a/b");
	assert_int_equal(cu_xmlsig_redirect_verify(&why, &rd, f->f_rsa_pub), -1);
}

static void
test_redirect_malformed(void **state)
{
	struct fx *f = *state;
	struct cu_xmlsig_redirect rd;
	char *q = NULL, *big;
	unsigned char *z = NULL;
	size_t zlen = 0, n;
	char *b64, *out = NULL;
	static const char sig_part[] = "&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%"
	                               "23rsa-sha256&Signature=AAAA";

	assert_int_equal(cu_xmlsig_redirect_encode(&q, &f->f_arena, "SAMLRequest", request_xml,
	                                           strlen(request_xml), "r", NULL, 0),
	                 0);
	/* Repeated, missing, both, half a signature, an unknown algorithm. */
	assert_int_equal(cu_xmlsig_redirect_parse(
	                     &rd, &f->f_arena, cu_arena_printf(&f->f_arena, "%s&RelayState=x", q),
	                     strlen(q) + 13),
	                 CU_ERR_INVALID);
	big = cu_arena_printf(&f->f_arena, "%s&%s", q, q);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, big, strlen(big)),
	                 CU_ERR_INVALID);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, "RelayState=x", 12),
	                 CU_ERR_INVALID);
	big = replace(f, q, "SAMLRequest=", "SAMLResponse=");
	big = cu_arena_printf(&f->f_arena, "%s&%s", q, big);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, big, strlen(big)),
	                 CU_ERR_INVALID);
	big = cu_arena_printf(&f->f_arena, "%s&Signature=AAAA", q);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, big, strlen(big)),
	                 CU_ERR_INVALID);
	big = cu_arena_printf(&f->f_arena, "%s%s", q, sig_part);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, big, strlen(big)), CU_OK);
	big = replace(f, big, "rsa-sha256", "hmac-sha256");
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, big, strlen(big)),
	                 CU_ERR_INVALID);
	/* Not base64, not DEFLATE, zlib-wrapped instead of raw. */
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, "SAMLRequest=%21%21", 18),
	                 CU_ERR_INVALID);
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, "SAMLRequest=AAAA", 16),
	                 CU_ERR_INVALID);
	assert_int_equal(
	    cu_xmlsig_redirect_parse(&rd, &f->f_arena, "SAMLRequest=eJwDAAAAAAE%3D", 25),
	    CU_ERR_INVALID);

	/* A DEFLATE bomb: 2 MiB of spaces in about 2 KiB stops at the limit. */
	n = 2 * CU_XML_MAX_BYTES;
	big = cu_arena_alloc(&f->f_arena, n);
	memset(big, ' ', n);
	assert_int_equal(cu_xmlsig_deflate(&z, &zlen, &f->f_arena, big, CU_XML_MAX_BYTES), 0);
	assert_true(zlen < 4096);
	assert_int_equal(cu_xmlsig_inflate(&out, &n, &f->f_arena, z, zlen, CU_XML_MAX_BYTES),
	                 CU_OK);
	assert_int_equal(n, CU_XML_MAX_BYTES);
	assert_int_equal(cu_xmlsig_inflate(&out, &n, &f->f_arena, z, zlen, CU_XML_MAX_BYTES - 1),
	                 CU_ERR_TOO_LARGE);
	/* Truncated, and with bytes after the end. */
	assert_int_equal(cu_xmlsig_inflate(&out, &n, &f->f_arena, z, zlen - 1, CU_XML_MAX_BYTES),
	                 CU_ERR_INVALID);
	b64 = cu_arena_alloc(&f->f_arena, zlen + 1);
	memcpy(b64, z, zlen);
	b64[zlen] = 'x';
	assert_int_equal(cu_xmlsig_inflate(&out, &n, &f->f_arena, b64, zlen + 1, CU_XML_MAX_BYTES),
	                 CU_ERR_INVALID);
	/* Base64 with line breaks, as some SPs post it. */
	assert_int_equal(cu_xmlsig_base64_decode(&out, &n, &f->f_arena, "PHgv\r\nPg==\n", 11, 16),
	                 CU_OK);
	assert_string_equal(out, "<x/>");
	assert_int_equal(cu_xmlsig_base64_decode(&out, &n, &f->f_arena, "PHgvPg==", 8, 3),
	                 CU_ERR_TOO_LARGE);
	assert_int_equal(cu_xmlsig_base64_decode(&out, &n, &f->f_arena, "PHgvPg", 6, 16),
	                 CU_ERR_INVALID);
	assert_int_equal(cu_xmlsig_base64_decode(&out, &n, &f->f_arena, "", 0, 16), CU_ERR_INVALID);
	/* Longer than any query custos reads. */
	big = cu_arena_alloc(&f->f_arena, CU_HTTP_MAX_QUERY_LEN + 2);
	memset(big, 'a', CU_HTTP_MAX_QUERY_LEN + 1);
	big[CU_HTTP_MAX_QUERY_LEN + 1] = '\0';
	assert_int_equal(cu_xmlsig_redirect_parse(&rd, &f->f_arena, big, CU_HTTP_MAX_QUERY_LEN + 1),
	                 CU_ERR_TOO_LARGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_parse_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_xxe_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_billion_laughs_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_malformed_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_xinclude_not_processed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_algorithm_uris, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_verify_every_algorithm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_response_and_assertion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tampering_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyinfo_is_not_trusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xsw_wrapped_in_extensions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xsw_signed_element_in_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xsw_second_assertion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xsw_xml_id_collision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reference_forms_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_xmlsec1_golden, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xmlsec1_verifies_ours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_encrypt_decrypt_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decrypt_xmlsec1_golden, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xmlsec1_decrypts_ours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redirect_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redirect_signed_octets_as_received, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_redirect_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
