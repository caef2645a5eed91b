/*
 * The only allocator the project calls (STYLE rule 7). Allocation failure aborts: a responder
 * that cannot allocate is restarted by the web server, which is safer than a half-handled path.
 */
#ifndef CU_MEM_H
#define CU_MEM_H

#include <stddef.h>

/* Each returns memory the caller frees with cu_free(); never NULL. */
void *cu_malloc(size_t n) __attribute__((malloc, alloc_size(1)));
void *cu_calloc(size_t nmemb, size_t size) __attribute__((malloc));
void *cu_realloc(void *p, size_t n);
char *cu_strdup(const char *s);
char *cu_strndup(const char *s, size_t n);
void cu_free(void *p);

/* Wipes n bytes so that the compiler cannot elide it (OPENSSL_cleanse). */
void cu_wipe(void *p, size_t n);

/* Aborts with a message on stderr; for "cannot happen" and allocation failure. */
_Noreturn void cu_die(const char *what);

#endif
