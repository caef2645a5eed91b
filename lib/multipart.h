#ifndef CU_MULTIPART_H
#define CU_MULTIPART_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

/* One part of a multipart/form-data body (RFC 7578). */
struct cu_multipart_part {
	const char *mp_name;     /* the form field's name */
	const char *mp_filename; /* NULL when the part is not a file */
	const char *mp_data;     /* the part's bytes, NUL-terminated (may hold NULs) */
	size_t mp_len;
};

/*
 * Parses body as multipart/form-data with the boundary of content_type (the Content-Type
 * header's value). At most CU_MULTIPART_MAX_PARTS parts, CU_MULTIPART_MAX_PART_HEAD bytes of
 * headers each; every part names a field. CU_OK with *out (arena-owned, in body order);
 * CU_ERR_INVALID with *why (a literal for the error) otherwise.
 */
enum cu_err cu_multipart_parse(struct cu_arena *a, const char *content_type, const char *body,
                               size_t len, struct cu_multipart_part **out, size_t *nout,
                               const char **why) __attribute__((warn_unused_result));

/* The part named name; NULL when absent (a repeated field: its last, as Django's QueryDict
 * gives). */
const struct cu_multipart_part *cu_multipart_field(const struct cu_multipart_part *parts, size_t n,
                                                   const char *name);

#endif
