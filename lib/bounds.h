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

#endif
