/*
 * Logs: one JSON object per line on stderr (STYLE rule 15):
 *   {"time":"2026-11-30T01:02:03.456Z","level":"info","component":"api",
 *    "request_id":"...","event":"request","method":"GET","status":200,...}
 * Never pass a secret, token or password as a field.
 */
#ifndef CU_LOG_H
#define CU_LOG_H

#include <stddef.h>

enum cu_log_level {
	CU_LOG_TRACE,
	CU_LOG_DEBUG,
	CU_LOG_INFO,
	CU_LOG_WARNING,
	CU_LOG_ERROR,
	CU_LOG__MAX
};

enum cu_log_type {
	CU_LOG_T_END, /* terminates a field list */
	CU_LOG_T_STR,
	CU_LOG_T_INT,
	CU_LOG_T_DOUBLE,
	CU_LOG_T_BOOL,
};

struct cu_log_field {
	const char *lf_key;
	enum cu_log_type lf_type;
	const char *lf_str; /* NULL is written as null */
	long long lf_int;
	double lf_double;
};

#define CU_LS(k, v) ((struct cu_log_field){.lf_key = (k), .lf_type = CU_LOG_T_STR, .lf_str = (v)})
#define CU_LI(k, v) ((struct cu_log_field){.lf_key = (k), .lf_type = CU_LOG_T_INT, .lf_int = (v)})
#define CU_LD(k, v)                                                                                \
	((struct cu_log_field){.lf_key = (k), .lf_type = CU_LOG_T_DOUBLE, .lf_double = (v)})
#define CU_LB(k, v)                                                                                \
	((struct cu_log_field){.lf_key = (k), .lf_type = CU_LOG_T_BOOL, .lf_int = !!(v)})

/* Sets the component name (borrowed, usually a literal) and the least level written. */
void cu_log_init(const char *component, enum cu_log_level min);
/* Parses "trace", "debug", "info", "warning" (or "warn"), "error"; -1 when unknown. */
int cu_log_level_parse(const char *s, enum cu_log_level *out) __attribute__((warn_unused_result));
enum cu_log_level cu_log_level_get(void);
/* The request id written on every line until changed; NULL for none. Copied. */
void cu_log_set_request_id(const char *id);
/* Where lines go; stderr when never called. For tests. */
void cu_log_set_fd(int fd);

/* Writes one line; fields ends with an entry of type CU_LOG_T_END. */
void cu_log_write(enum cu_log_level level, const char *event, const struct cu_log_field *fields);

/* cu_log(CU_LOG_INFO, "event", CU_LS("k", v), CU_LI("n", 3)) — at least one field. */
#define cu_log(level, event, ...)                                                                  \
	cu_log_write((level), (event),                                                             \
	             (const struct cu_log_field[]){__VA_ARGS__, {.lf_type = CU_LOG_T_END}})
#define cu_log_msg(level, event, msg) cu_log((level), (event), CU_LS("msg", (msg)))

#endif
