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

#endif
