/*
 * One error enum for the whole library (STYLE rule 3). Functions that can fail for more than
 * one reason a caller must tell apart return enum cu_err; the rest return 0 / -1.
 */
#ifndef CU_ERR_H
#define CU_ERR_H

enum cu_err {
	CU_OK = 0,
	CU_ERR_INVALID,     /* malformed input: 400 */
	CU_ERR_TOO_LARGE,   /* over a limit: 413 */
	CU_ERR_NOT_FOUND,   /* 404 */
	CU_ERR_DENIED,      /* credentials refused: 401 */
	CU_ERR_METHOD,      /* path known, method not: 405 */
	CU_ERR_UNAVAILABLE, /* PostgreSQL or Redis down: 503 */
	CU_ERR_INTERNAL,    /* anything else: 500 */
	CU_ERR__MAX
};

const char *cu_strerror(enum cu_err err);
/* The HTTP status an error maps to: 400, 413, 404, 405, 503, 500. */
int cu_err_status(enum cu_err err);

#endif
