#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void
cu_die(const char *what)
{
	fprintf(stderr, "{\"level\":\"error\",\"event\":\"abort\",\"msg\":\"%s\"}\n", what);
	abort();
}

void *
cu_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		cu_die("out of memory");
	return p;
}

void *
cu_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		cu_die("out of memory");
	return p;
}

void *
cu_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		cu_die("out of memory");
	return q;
}

char *
cu_strdup(const char *s)
{
	return cu_strndup(s, strlen(s));
}

char *
cu_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = cu_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
cu_free(void *p)
{
	free(p);
}

void
cu_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}
