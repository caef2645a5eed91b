/*
 * Every limit that bounds outside input, in one place (STYLE rule 9).
 * Parsers take these as their maxima; a value past one is an error, never a truncation.
 */
#ifndef CU_BOUNDS_H
#define CU_BOUNDS_H

/* HTTP request */
#define CU_HTTP_MAX_HEADERS 100         /* request headers kept per request */
#define CU_HTTP_MAX_HEADER_LEN 8192     /* one header value */
#define CU_HTTP_MAX_HEADERS_TOTAL 65536 /* all header names and values together */
#define CU_HTTP_MAX_PATH_LEN 4096       /* decoded path */
#define CU_HTTP_MAX_QUERY_LEN 8192      /* raw query string */
#define CU_HTTP_MAX_PARAMS 128          /* query or form parameters */
#define CU_HTTP_MAX_COOKIES 64          /* cookies in the Cookie header */
#define CU_HTTP_MAX_BODY_DEFAULT 65536  /* body bytes unless a route says otherwise */
#define CU_HTTP_MAX_BODY_LIMIT 16777216 /* no route may accept more than this */
#define CU_HTTP_MAX_RESPONSE_BODY 67108864

/* JSON */
#define CU_JSON_MAX_DEPTH 32
#define CU_JSON_MAX_LEN CU_HTTP_MAX_BODY_LIMIT

/* Router */
#define CU_ROUTER_MAX_PARAMS 8
#define CU_ROUTER_MAX_SEGMENT 256

/* Config */
#define CU_CONFIG_MAX_FILE 262144
#define CU_CONFIG_MAX_VALUE 4096

/* Logs */
#define CU_LOG_MAX_LINE 16384

/* Arena */
#define CU_ARENA_BLOCK 16384

/* The flow executor (lib/flows.c). Longest ?next= followed: a longer one is refused, not cut. */
#define CU_FLOWS_MAX_NEXT 2048
/* Percent-decoding rounds applied when looking for a hidden "//" or backslash in ?next=. */
#define CU_FLOWS_DECODE_ROUNDS 3
/* Longest flow_token looked up; keys custos issues are far shorter. */
#define CU_FLOWS_MAX_TOKEN 256

/* Expression policies (lib/policies/expression.c). */
#define CU_EXPR_MAX_SOURCE (256 * 1024) /* bytes of one expression */
#define CU_EXPR_MAX_REGEX 512           /* bytes of a regex_* pattern */
#define CU_EXPR_MAX_REGEX_SUBJECT (256 * 1024)
#define CU_EXPR_MAX_MESSAGES 64 /* ak_message calls kept */
#define CU_EXPR_MAX_LOGS 64     /* ak_logger calls kept */
#define CU_EXPR_MAX_TEXT 4096   /* bytes of one message or log line */

/* Prompt answers: longest accepted, in characters (code points); longer ones are refused, never
 * cut. */
#define CU_PROMPT_MAX_TEXT 8192
#define CU_PROMPT_MAX_USERNAME 150 /* users.username */
#define CU_PROMPT_MAX_EMAIL 254    /* users.email */
#define CU_PROMPT_MAX_LOCALE 64
/* A file answer is a data: URI held in the plan; bytes. */
#define CU_PROMPT_MAX_FILE (48 * 1024)
/* DRF's IntegerField refuses longer strings before parsing them. */
#define CU_PROMPT_MAX_NUMBER_TEXT 1000
/* Choices of one radio-button-group or dropdown field. */
#define CU_PROMPT_MAX_CHOICES 256

/* Longest identifier the identification stage looks up; longer ones are refused unread. */
#define CU_STAGE_AUTH_MAX_IDENTIFIER 1024

/* Longest session cookie value looked at; longer ones are ignored. */
#define CU_SESSIONS_MAX_COOKIE 4096

/* OAuth 2.0 / OpenID Connect (lib/jose.h, lib/providers/oauth2*.h). */
#define CU_JOSE_MAX_TOKEN (16 * 1024)   /* bytes of a JWT custos accepts */
#define CU_OAUTH2_MAX_PARAM 2048        /* bytes of one authorization / token parameter */
#define CU_OAUTH2_MAX_REDIRECT_URI 2048 /* bytes of a redirect_uri */
#define CU_OAUTH2_MAX_SCOPES 64         /* scopes in one request */
#define CU_OAUTH2_MAX_REDIRECT_URIS 64  /* registered redirect URIs of a provider */
#define CU_OAUTH2_MAX_REGEX 1024        /* bytes of a regex redirect URI */
#define CU_OAUTH2_MAX_FORM (64 * 1024)  /* bytes of a token / introspection / revocation body */

/* The OAuth2 provider core and token endpoint (lib/providers/oauth2.c, oauth2_token.c) and the
 * value-returning expressions they run (lib/policies/expression.c). */
#define CU_EXPR_MAX_VALUE_NODES 10000             /* values in one converted script result */
#define CU_EXPR_MAX_VALUE_BYTES (1024 * 1024)     /* string bytes in one converted result */
#define CU_OAUTH2_CACHE_MAX 256                   /* providers one process keeps */
#define CU_OAUTH2_MAX_CLIENT_ID 255               /* oauth2_providers.client_id */
#define CU_OAUTH2_MAX_SECRET 1024                 /* a client secret or an app password */
#define CU_OAUTH2_MAX_ASSERTION CU_JOSE_MAX_TOKEN /* a client_assertion */
#define CU_OAUTH2_MAX_CLAIMS (64 * 1024)          /* bytes of the mapping claims of one token */

/* The authorization endpoint and redirect URI matching (lib/providers/oauth2_authorize.c,
 * oauth2_redirect.c). */
#define CU_OAUTH2_REDIRECT_MAX_BOUND 64     /* largest {n,m} bound in a regex redirect URI */
#define CU_OAUTH2_REDIRECT_MAX_STATES 8192  /* a regex's estimated compiled size */
#define CU_OAUTH2_AUTHORIZE_REAUTH_AGE 3600 /* seconds a re-authentication marker lasts */

/* Discovery, JWKS, userinfo, introspection, revocation, device authorization, end-session
 * (lib/providers/oauth2_meta.c, oauth2_userinfo.c, oauth2_introspect.c, oauth2_device.c,
 * oauth2_logout.c). */
#define CU_OAUTH2_META_CACHE 256            /* discovery / JWKS documents one process keeps */
#define CU_OAUTH2_META_MAX_DOC (256 * 1024) /* bytes of one discovery or JWKS document */
#define CU_OAUTH2_USER_CODE_LEN 9           /* digits of a device flow user code (authentik's) */
#define CU_OAUTH2_MAX_USER_CODE 64          /* characters of a user code as typed */
#define CU_OAUTH2_DEVICE_RATE 20            /* device authorizations per client address... */
#define CU_OAUTH2_DEVICE_WINDOW 3600        /* ...per this many seconds (authentik's 20/hour) */
#define CU_OAUTH2_MAX_ORIGIN 1024           /* bytes of an Origin header compared */
#define CU_OAUTH2_META_MAX_SLUG 255         /* characters of a slug published as a folder */
#define CU_OAUTH2_META_SWEEP_MAX 4096       /* published slugs one sweep round checks */

/* The providers, property mappings and OAuth2 grants API (lib/api/providers.c,
 * propertymappings.c, oauth2.c). */
#define CU_API_PROVIDERS_MAX_NAME 1024        /* characters of a provider's or mapping's name */
#define CU_API_PROVIDERS_MAX_REFS 256         /* mappings or trusted providers one provider names */
#define CU_API_PROVIDERS_MAX_SECRET 255       /* oauth2_providers.client_secret (authentik's) */
#define CU_API_PROPERTYMAPPINGS_MAX_TEXT 4096 /* scope_name, description, managed */

/* XML (lib/xmlsig.h). SAML messages are a few KiB; SP metadata rarely passes 100 KiB. */
#define CU_XML_MAX_BYTES (1024 * 1024) /* one document, after inflating or base64-decoding */
#define CU_XML_MAX_DEPTH 64            /* element nesting */
#define CU_XML_MAX_NODES 20000         /* elements in one document */
#define CU_XML_MAX_ATTRS 64            /* attributes, or namespace declarations, of one element */
#define CU_XML_MAX_ID 256              /* bytes of an ID a signature refers to */
#define CU_XML_MAX_PEM (64 * 1024)     /* bytes of a PEM key or certificate */

/* SAML (lib/providers/saml*.h) */
#define CU_SAML_MAX_MESSAGE (64 * 1024) /* bytes of an AuthnRequest or LogoutRequest, decoded */
#define CU_SAML_MAX_FORM (320 * 1024)   /* bytes of a POST-binding body (base64, form-encoded) */
#define CU_SAML_MAX_RELAY_STATE 1024    /* bytes of a RelayState (the bindings say 80) */
#define CU_SAML_MAX_ID 200              /* bytes of a request's ID kept against replays */
#define CU_SAML_MAX_NAME_ID 1024        /* bytes of a NameID or SessionIndex read */
#define CU_SAML_REQUEST_LIFETIME 300    /* seconds a request is accepted after IssueInstant */
#define CU_SAML_RESUME_AGE 3600         /* seconds a checked request waits for the login */
#define CU_SAML_MAX_ATTR_VALUES 1024    /* values one mapping may give an attribute */
#define CU_SAML_MAX_ATTRS (256 * 1024)  /* bytes of all attribute values of one assertion */

/* The SAML providers API (lib/api/providers_saml.c). */
#define CU_API_SAML_MAX_URL 2048  /* bytes of acs_url or sls_url (a redirect URI's) */
#define CU_API_SAML_MAX_TEXT 4096 /* audience, issuer, default_relay_state */

/* multipart/form-data bodies (lib/multipart.h): SAML metadata import, media uploads. */
#define CU_MULTIPART_MAX_PARTS 16       /* parts of one body */
#define CU_MULTIPART_MAX_PART_HEAD 8192 /* bytes of one part's headers */
#define CU_MULTIPART_MAX_BOUNDARY 70    /* RFC 2046's longest boundary */

/* Media files (lib/api/files.c). authentik allows 25 MB on disk or S3; a row is kept smaller.
 * The upload route's body limit is the largest file plus room for the multipart framing. */
#define CU_API_FILES_MAX_SIZE (5 * 1024 * 1024) /* bytes of one file */
#define CU_API_FILES_MAX_BODY (CU_API_FILES_MAX_SIZE + 256 * 1024)
#define CU_API_FILES_MAX_NAME 1024 /* bytes of a name (authentik's) */
#define CU_API_FILES_MAX_PART 255  /* bytes of each '/'-separated part of a name */

#endif
