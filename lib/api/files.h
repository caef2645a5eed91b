/*
 * Media files: authentik's /api/v3/admin/file/ (list, upload, delete; usage "media" only) and
 * /media/public/<name>, which serves them to anyone. The files live in PostgreSQL
 * (media_files), so every node of a cluster serves the same ones.
 */
#ifndef CU_API_FILES_H
#define CU_API_FILES_H

#include <stddef.h>

#include "bounds.h" /* CU_API_FILES_* */

struct cu_arena;
struct cu_ctx;

void cu_api_files_list(struct cu_ctx *cx);   /* GET    admin/file/?usage=&search= */
void cu_api_files_upload(struct cu_ctx *cx); /* POST   admin/file/ (multipart: file, name, usage) */
void cu_api_files_delete(struct cu_ctx *cx); /* DELETE admin/file/?name=&usage= */
/* GET/HEAD /media/public/{name*}: no login; ETag and If-None-Match, a CSP that runs nothing. */
void cu_api_files_serve(struct cu_ctx *cx);

/*
 * authentik's rules for an uploaded file's name: letters, digits, '.', '_', '-' and '/'; no
 * "//", no leading '/' or '.', no ".." part; at most CU_API_FILES_MAX_NAME bytes and
 * CU_API_FILES_MAX_PART per part. custos also refuses a "." part and a trailing '/', which a
 * URL path would not keep. 0 when name[0..len) is acceptable; -1 with *why (a literal).
 */
int cu_api_files_name_check(const char *name, size_t len, const char **why)
    __attribute__((warn_unused_result));

/*
 * The type of len bytes of content, found in the content itself: PNG, JPEG, GIF, WebP, ICO,
 * or SVG (well-formed XML, no DOCTYPE, root element svg). A literal MIME type, or NULL for
 * anything else. SVG parsing uses a (the document is freed at its reset).
 */
const char *cu_api_files_sniff(struct cu_arena *a, const char *data, size_t len);

#endif
