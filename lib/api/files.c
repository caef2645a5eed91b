#include "api/files.h"

#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <libxml/tree.h>

#include "api/common.h"
#include "../crypto.h" /* lib/api/crypto.h is the API module */
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "server.h"
#include "xmlsig.h"

#define PERM_VIEW "authentik_rbac.view_media_files"
#define PERM_MANAGE "authentik_rbac.manage_media_files"
#define FILES_APP "authentik_admin_files"
#define FILES_MODEL "File"
#define SVG_NS "http://www.w3.org/2000/svg"

/* What a browser opening a file directly may do with it: nothing but show it. An SVG's scripts,
 * links and forms stay dead; inline style is what SVG drawings commonly use. */
#define SERVE_CSP "default-src 'none'; style-src 'unsafe-inline'; sandbox"

/* ---- names and types --------------------------------------------------------------------- */

static int
name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '/';
}

int
cu_api_files_name_check(const char *name, size_t len, const char **why)
{
	size_t i, start;

	*why = NULL;
	if (name == NULL || len == 0) {
		*why = "File name cannot be empty";
		return -1;
	}
	if (len > CU_API_FILES_MAX_NAME) {
		*why = "File name too long (max 1024 characters)";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!name_char_ok(name[i])) {
			*why =
			    "File name can only contain letters (a-z, A-Z), numbers (0-9), dots (.), "
			    "hyphens (-), underscores (_) and forward slashes (/)";
			return -1;
		}
	}
	for (i = 0; i + 1 < len; i++) {
		if (name[i] == '/' && name[i + 1] == '/') {
			*why = "File name cannot contain duplicate /";
			return -1;
		}
	}
	if (name[0] == '/') {
		*why = "Absolute paths are not allowed";
		return -1;
	}
	if (name[len - 1] == '/') {
		*why = "File name cannot end with /";
		return -1;
	}
	/* Each part: ".." is a parent reference, "." a part a URL path would drop. */
	for (start = 0; start < len; start = i + 1) {
		size_t plen;

		for (i = start; i < len && name[i] != '/'; i++)
			;
		plen = i - start;
		if (plen == 2 && name[start] == '.' && name[start + 1] == '.') {
			*why = "Parent directory references ('..') are not allowed";
			return -1;
		}
		if (plen == 1 && name[start] == '.' && start > 0) {
			*why = "File name cannot contain a '.' part";
			return -1;
		}
		if (plen > CU_API_FILES_MAX_PART) {
			*why = "Path component too long (max 255 characters)";
			return -1;
		}
	}
	if (name[0] == '.') {
		*why = "Paths cannot start with '.'";
		return -1;
	}
	return 0;
}

/* 1 when "<!DOCTYPE" or "<!ENTITY" appears anywhere, in any case: even in a comment or a
 * processing instruction, where the parser would let it be, such a file is refused. */
static int
has_declaration(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i++) {
		if (data[i] != '<' || data[i + 1] != '!')
			continue;
		if ((len - i >= 9 && strncasecmp(data + i + 2, "DOCTYPE", 7) == 0) ||
		    (len - i >= 8 && strncasecmp(data + i + 2, "ENTITY", 6) == 0))
			return 1;
	}
	return 0;
}

/* 1 when the bytes are an SVG document as custos accepts one: UTF-8 XML, well-formed, no
 * DOCTYPE (so no entities), within the XML limits of lib/bounds.h, root element <svg> in the
 * SVG namespace or none. */
static int
is_svg(struct cu_arena *a, const char *data, size_t len)
{
	const xmlNode *root;
	xmlDoc *doc = NULL;
	size_t i = 0;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	/* Text that starts like markup, nothing else is worth a parse. */
	if (i >= len || data[i] != '<' || memchr(data, '\0', len) != NULL ||
	    !cu_utf8_valid(data, len) || has_declaration(data, len))
		return 0;
	if (cu_xmlsig_parse(&doc, a, data, len) != CU_OK || doc == NULL)
		return 0;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || root->name == NULL || strcmp((const char *)root->name, "svg") != 0)
		return 0;
	return root->ns == NULL ||
	       (root->ns->href != NULL && strcmp((const char *)root->ns->href, SVG_NS) == 0);
}

const char *
cu_api_files_sniff(struct cu_arena *a, const char *data, size_t len)
{
	const unsigned char *u = (const unsigned char *)data;

	if (data == NULL || len == 0)
		return NULL;
	if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (len >= 3 && u[0] == 0xff && u[1] == 0xd8 && u[2] == 0xff)
		return "image/jpeg";
	if (len >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0))
		return "image/gif";
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return "image/webp";
	/* ICONDIR: reserved 0, type 1, at least one 16-byte entry after it. */
	if (len >= 22 && u[0] == 0 && u[1] == 0 && u[2] == 1 && u[3] == 0 && (u[4] | u[5]) != 0)
		return "image/x-icon";
	if (is_svg(a, data, len))
		return "image/svg+xml";
	return NULL;
}

/* ---- the API ----------------------------------------------------------------------------- */

/* authentik's usage parameter: "media" (the default) is the only one the API takes. 0, or -1
 * having answered 400. */
static int
usage_check(struct cu_ctx *cx, const char *usage)
{
	struct cu_api_errors e;

	if (usage == NULL || strcmp(usage, "media") == 0)
		return 0;
	cu_api_errors_init(&e, cx);
	cu_api_error(&e, "usage",
	             cu_arena_printf(cx->cx_arena, "\"%.64s\" is not a valid choice.", usage));
	cu_api_errors_send(cx, &e);
	return -1;
}

void
cu_api_files_list(struct cu_ctx *cx)
{
	const char *search;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_VIEW, NULL) != 0 ||
	    usage_check(cx, cu_http_arg(cx->cx_req, "usage")) != 0)
		return;
	search = cu_http_arg(cx->cx_req, "search");
	if (search != NULL && search[0] == '\0')
		search = NULL;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FILES_LIST, 1, &search);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/* A text part's value with surrounding blanks dropped (DRF's CharField trims), arena-owned;
 * NULL when the part is a file or holds a NUL byte. */
static const char *
part_text(struct cu_ctx *cx, const struct cu_multipart_part *p)
{
	const char *s;
	size_t n;

	if (p->mp_filename != NULL || strlen(p->mp_data) != p->mp_len)
		return NULL;
	s = p->mp_data;
	n = p->mp_len;
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return cu_arena_strndup(cx->cx_arena, s, n);
}

/* bytea's hex input form of len bytes: "\x" and two digits a byte, arena-owned. */
static const char *
bytea_hex(struct cu_ctx *cx, const char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = cu_arena_alloc(cx->cx_arena, 2 * len + 3);
	size_t i;

	out[0] = '\\';
	out[1] = 'x';
	for (i = 0; i < len; i++) {
		out[2 + 2 * i] = digits[(unsigned char)data[i] >> 4];
		out[3 + 2 * i] = digits[(unsigned char)data[i] & 15];
	}
	out[2 + 2 * len] = '\0';
	return out;
}

void
cu_api_files_upload(struct cu_ctx *cx)
{
	const struct cu_multipart_part *file_p, *name_p, *usage_p;
	struct cu_multipart_part *parts = NULL;
	const char *why = NULL, *name = NULL, *mime, *params[3];
	struct cu_api_errors e;
	PGresult *res = NULL;
	enum cu_err err;
	size_t n = 0;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_MANAGE, NULL) != 0)
		return;
	if (cu_api_form_body(cx, &parts, &n) != 0)
		return;
	/* FileUploadSerializer: file required; name and usage optional. */
	cu_api_errors_init(&e, cx);
	file_p = cu_multipart_field(parts, n, "file");
	name_p = cu_multipart_field(parts, n, "name");
	usage_p = cu_multipart_field(parts, n, "usage");
	if (file_p == NULL)
		cu_api_error(&e, "file", "No file was submitted.");
	else if (file_p->mp_filename == NULL)
		cu_api_error(
		    &e, "file",
		    "The submitted data was not a file. Check the encoding type on the form.");
	else if (file_p->mp_len == 0)
		cu_api_error(&e, "file", "The submitted file is empty.");
	else if (file_p->mp_len > CU_API_FILES_MAX_SIZE)
		cu_api_error(&e, "file",
		             cu_arena_printf(cx->cx_arena,
		                             "File size (%zuB) exceeds maximum allowed size (%dB).",
		                             file_p->mp_len, CU_API_FILES_MAX_SIZE));
	if (usage_p != NULL) {
		const char *u = part_text(cx, usage_p);

		if (u == NULL)
			cu_api_error(&e, "usage", "Not a valid string.");
		else if (u[0] != '\0' && strcmp(u, "media") != 0)
			cu_api_error(&e, "usage",
			             cu_arena_printf(cx->cx_arena,
			                             "Invalid usage parameter provided: %.64s", u));
	}
	if (name_p != NULL && (name = part_text(cx, name_p)) == NULL)
		cu_api_error(&e, "name", "Not a valid string.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	/* No name: the upload's own file name, as authentik. */
	if (name == NULL || name[0] == '\0')
		name = file_p->mp_filename;
	if (cu_api_files_name_check(name, strlen(name), &why) != 0) {
		cu_api_error(&e, "name", why);
		cu_api_errors_send(cx, &e);
		return;
	}
	mime = cu_api_files_sniff(cx->cx_arena, file_p->mp_data, file_p->mp_len);
	if (mime == NULL) {
		cu_log(CU_LOG_INFO, "media_file_refused", CU_LS("name", name),
		       CU_LI("bytes", (long long)file_p->mp_len));
		cu_api_error(&e, "file",
		             "Unsupported file type: upload a PNG, JPEG, GIF, WebP, ICO or SVG "
		             "image (an SVG may not have a DOCTYPE).");
		cu_api_errors_send(cx, &e);
		return;
	}

	params[0] = name;
	params[1] = mime;
	params[2] = bytea_hex(cx, file_p->mp_data, file_p->mp_len);
	err = cu_db_begin(cx->cx_db);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FILES_INSERT, 3, params);
	if (err == CU_OK && PQntuples(res) == 0) {
		cu_api_reject(cx, &e, "name", "A file with this name already exists.");
		return;
	}
	if (err == CU_OK)
		err =
		    cu_events_model(cx, "model_created", FILES_APP, FILES_MODEL, name, name, NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	/* authentik answers an upload with 200 and no body. */
	cu_http_send_text(cx->cx_resp, 200, "application/json", "", 0);
}

void
cu_api_files_delete(struct cu_ctx *cx)
{
	const char *name, *why = NULL;
	struct cu_api_errors e;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_MANAGE, NULL) != 0 ||
	    usage_check(cx, cu_http_arg(cx->cx_req, "usage")) != 0)
		return;
	cu_api_errors_init(&e, cx);
	name = cu_http_arg(cx->cx_req, "name");
	if (name == NULL) {
		cu_api_error(&e, "name", "This field is required.");
		cu_api_errors_send(cx, &e);
		return;
	}
	if (cu_api_files_name_check(name, strlen(name), &why) != 0) {
		cu_api_error(&e, "name", why);
		cu_api_errors_send(cx, &e);
		return;
	}
	err = cu_db_begin(cx->cx_db);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FILES_DELETE, 1, &name);
	if (err == CU_OK && PQntuples(res) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err == CU_OK)
		err =
		    cu_events_model(cx, "model_deleted", FILES_APP, FILES_MODEL, name, name, NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_http_send_text(cx->cx_resp, 200, "application/json", "", 0);
}

/* Sets a response header; the table has room for every header a file answer sends. */
static void
serve_header(struct cu_ctx *cx, const char *name, const char *value)
{
	if (cu_http_set_header(cx->cx_resp, name, value) != 0)
		cu_log(CU_LOG_WARNING, "header_table_full", CU_LS("header", name));
}

void
cu_api_files_serve(struct cu_ctx *cx)
{
	const char *name = cu_ctx_param(cx, "name"), *why = NULL, *params[2], *hex;
	struct cu_buf *body = &cx->cx_resp->rs_body;
	PGresult *res = NULL;
	enum cu_err err;
	size_t hlen;
	char *out;

	/* A name no upload could have is not looked up. */
	if (name == NULL || cu_api_files_name_check(name, strlen(name), &why) != 0) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	params[0] = name;
	params[1] = cu_http_header(cx->cx_req, "if-none-match");
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FILES_SERVE, 2, params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (PQntuples(res) != 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	serve_header(cx, "ETag", cu_arena_printf(cx->cx_arena, "\"%s\"", cu_db_value(res, 0, 1)));
	serve_header(cx, "Cache-Control", "public, max-age=3600");
	if (strcmp(cu_db_value(res, 0, 3), "t") == 0) {
		cu_http_send_text(cx->cx_resp, 304, NULL, "", 0);
		cx->cx_resp->rs_content_type = NULL;
		return;
	}
	/* bytea arrives in its hex text form: "\x" and two digits a byte. */
	hex = cu_db_value(res, 0, 2);
	hlen = hex != NULL ? strlen(hex) : 0;
	if (hlen < 2 || hex[0] != '\\' || hex[1] != 'x' || hlen % 2 != 0) {
		cu_ctx_error(cx, 500, "Internal error.");
		return;
	}
	cu_buf_clear(body);
	out = cu_buf_prepare(body, (hlen - 2) / 2);
	if (out == NULL) {
		cu_ctx_error(cx, 500, "Response too large.");
		return;
	}
	if (cu_hex_decode(out, hex + 2, hlen - 2) != 0) {
		cu_ctx_error(cx, 500, "Internal error.");
		return;
	}
	cu_buf_commit(body, (hlen - 2) / 2);
	cx->cx_resp->rs_status = 200;
	cx->cx_resp->rs_content_type = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	serve_header(cx, "Content-Security-Policy", SERVE_CSP);
	serve_header(cx, "Content-Disposition", "inline");
}
