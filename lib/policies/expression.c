/*
 * Expression policies in a Lua 5.4 sandbox (expression.h says what a script sees and which
 * limits hold). Everything that touches the lua_State runs inside one lua_pcall (sb_main), so
 * an error anywhere, a refused allocation included, unwinds to one place and lua_close frees
 * the rest. A fresh state per evaluation costs about 60 microseconds (opening the libraries
 * included), so compiled chunks are not cached across requests.
 */
#include "policies/expression.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>
#include <lauxlib.h>
#include <libpq-fe.h>
#include <lua.h>
#include <lualib.h>

#include "arena.h"
#include "db.h"
#include "events.h"
#include "http.h"
#include "json.h"
#include "mem.h"
#include "policies/engine.h"
#include "policies/kinds.h"
#include "server.h"

#define DEFAULT_MAX_MEMORY ((size_t)16 * 1024 * 1024)
#define DEFAULT_MAX_INSTRUCTIONS 10000000LL
#define MAX_JSON_DEPTH 32
#define MAX_REPLACE_OUT (1024 * 1024)
/* No real table under the memory cap is longer; a __len saying otherwise is refused before
 * table.insert or table.remove loop over it in C, out of the instruction hook's reach. */
#define MAX_TABLE_LEN 10000000LL
#define MAX_TABLE_MOVE 1000000LL

struct sandbox {
	size_t sb_used;
	size_t sb_max;
	long long sb_steps;
	long long sb_max_steps;
	double sb_deadline;
	int sb_over; /* a limit was reached: every further instruction raises */
	const char *sb_why;
	const struct cu_expression_hooks *sb_hooks;
	struct cu_arena *sb_arena;
	struct json_object *sb_messages;
	struct json_object *sb_logs;
};

/* What sb_main gets through its one light userdata. */
struct run {
	struct sandbox *rn_sb;
	const char *rn_src;
	size_t rn_len;
	struct json_object *rn_request;
	int rn_compile_only;
	int rn_passing;
};

static struct sandbox *
sandbox_of(lua_State *L)
{
	void *ud = NULL;

	(void)lua_getallocf(L, &ud);
	return ud;
}

/* Lua's allocator with a cap: a refused allocation is a memory error in the script and marks
 * the sandbox over its limit, so the script ends even if it catches that error. */
static void *
sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sandbox *sb = ud;
	size_t old = ptr != NULL ? osize : 0;

	if (nsize == 0) {
		cu_free(ptr);
		sb->sb_used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > sb->sb_max - sb->sb_used) {
		sb->sb_over = 1;
		if (sb->sb_why == NULL)
			sb->sb_why = "memory limit reached";
		return NULL;
	}
	ptr = cu_realloc(ptr, nsize);
	sb->sb_used = sb->sb_used - old + nsize;
	return ptr;
}

static void
sb_hook(lua_State *L, lua_Debug *ar)
{
	struct sandbox *sb = sandbox_of(L);

	(void)ar;
	sb->sb_steps += CU_EXPR_HOOK_EVERY;
	if (!sb->sb_over && sb->sb_steps > sb->sb_max_steps) {
		sb->sb_over = 1;
		sb->sb_why = "instruction limit reached";
	}
	if (!sb->sb_over && sb->sb_deadline > 0 && cu_policy_now() > sb->sb_deadline) {
		sb->sb_over = 1;
		sb->sb_why = "timeout";
	}
	if (sb->sb_over) {
		/* From now on every instruction raises, so a pcall in the script cannot keep it
		 * running: the first instruction outside the pcall ends it. */
		lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "expression stopped: %s", sb->sb_why);
	}
}

/* --- JSON into Lua ------------------------------------------------------------------------ */

static void
push_json(lua_State *L, struct json_object *o, int depth)
{
	luaL_checkstack(L, 4, "nesting too deep");
	if (o == NULL || depth > MAX_JSON_DEPTH) {
		lua_pushnil(L);
		return;
	}
	switch (json_object_get_type(o)) {
	case json_type_boolean:
		lua_pushboolean(L, json_object_get_boolean(o));
		break;
	case json_type_int:
		lua_pushinteger(L, (lua_Integer)json_object_get_int64(o));
		break;
	case json_type_double:
		lua_pushnumber(L, json_object_get_double(o));
		break;
	case json_type_string:
		lua_pushlstring(L, json_object_get_string(o),
		                (size_t)json_object_get_string_len(o));
		break;
	case json_type_array: {
		size_t i, n = json_object_array_length(o);

		lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
		for (i = 0; i < n; i++) {
			push_json(L, json_object_array_get_idx(o, i), depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case json_type_object: {
		lua_createtable(L, 0, json_object_object_length(o));
		json_object_object_foreach(o, k, v)
		{
			push_json(L, v, depth + 1);
			lua_setfield(L, -2, k);
		}
		break;
	}
	default:
		lua_pushnil(L);
		break;
	}
}

/* --- helpers the script calls ------------------------------------------------------------- */

/* tostring(v) bounded to CU_EXPR_MAX_TEXT bytes, left on the stack; *len set. */
static const char *
bounded_tostring(lua_State *L, int idx, size_t *len)
{
	const char *s = luaL_tolstring(L, idx, len);

	if (*len > CU_EXPR_MAX_TEXT)
		*len = CU_EXPR_MAX_TEXT;
	return s;
}

static int
l_ak_message(lua_State *L)
{
	struct sandbox *sb = sandbox_of(L);
	size_t len = 0;
	const char *s = bounded_tostring(L, 1, &len);

	if (json_object_array_length(sb->sb_messages) < CU_EXPR_MAX_MESSAGES)
		json_object_array_add(sb->sb_messages, json_object_new_string_len(s, (int)len));
	return 0;
}

static int
l_ak_logger(lua_State *L)
{
	struct sandbox *sb = sandbox_of(L);
	int i, n = lua_gettop(L);
	luaL_Buffer b;
	size_t len;

	luaL_buffinit(L, &b);
	for (i = 1; i <= n && luaL_bufflen(&b) < CU_EXPR_MAX_TEXT; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		(void)bounded_tostring(L, i, &len);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	{
		const char *s = lua_tolstring(L, -1, &len);

		if (len > CU_EXPR_MAX_TEXT)
			len = CU_EXPR_MAX_TEXT;
		if (json_object_array_length(sb->sb_logs) < CU_EXPR_MAX_LOGS)
			json_object_array_add(sb->sb_logs, json_object_new_string_len(s, (int)len));
	}
	return 0;
}

/* The string value of t[key] for a string or integer, else NULL; no NUL bytes. Leaves nothing
 * on the stack. */
static const char *
table_text(lua_State *L, int t, const char *key)
{
	const char *s = NULL;
	size_t len = 0;
	int type = lua_getfield(L, t, key);

	if (type == LUA_TSTRING || type == LUA_TNUMBER) {
		s = lua_tolstring(L, -1, &len);
		if (s != NULL && strlen(s) != len)
			s = NULL;
	}
	/* The string stays reachable: it is t[key] (numbers were converted in place on the
	 * stack copy only, so keep a copy in the arena). */
	if (s != NULL)
		s = cu_arena_strdup(sandbox_of(L)->sb_arena, s);
	lua_pop(L, 1);
	return s;
}

/* ak_user_by{username=...} (or email=, pk=): the user table, or nil. */
static int
l_ak_user_by(lua_State *L)
{
	static const char *const fields[] = {"username", "email", "pk"};
	struct sandbox *sb = sandbox_of(L);
	const struct cu_expression_hooks *h = sb->sb_hooks;
	struct json_object *user = NULL;
	const char *field = NULL, *value = NULL;
	size_t i;
	int r;

	luaL_checktype(L, 1, LUA_TTABLE);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = table_text(L, 1, fields[i]);

		if (v == NULL)
			continue;
		if (field != NULL)
			return luaL_error(L, "ak_user_by: give one of username, email or pk");
		field = fields[i];
		value = v;
	}
	if (field == NULL)
		return luaL_error(L, "ak_user_by: give one of username, email or pk");
	if (h == NULL || h->eh_user_by == NULL) {
		lua_pushnil(L);
		return 1;
	}
	r = h->eh_user_by(h->eh_data, field, value, &user);
	if (r < 0)
		return luaL_error(L, "ak_user_by: lookup failed");
	push_json(L, user, 0);
	return 1;
}

/* ak_is_group_member(user, {name=...} | {pk=...} | "name"). */
static int
l_ak_is_group_member(lua_State *L)
{
	struct sandbox *sb = sandbox_of(L);
	const struct cu_expression_hooks *h = sb->sb_hooks;
	const char *pk, *field = "name", *value = NULL;
	int r;

	luaL_checktype(L, 1, LUA_TTABLE);
	pk = table_text(L, 1, "pk");
	if (lua_type(L, 2) == LUA_TSTRING) {
		value = cu_arena_strdup(sb->sb_arena, lua_tostring(L, 2));
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		if ((value = table_text(L, 2, "name")) == NULL) {
			field = "pk";
			value = table_text(L, 2, "pk");
		}
	}
	if (value == NULL)
		return luaL_error(L, "ak_is_group_member: give the group's name or pk");
	if (pk == NULL || h == NULL || h->eh_is_group_member == NULL) {
		lua_pushboolean(L, 0);
		return 1;
	}
	r = h->eh_is_group_member(h->eh_data, pk, field, value);
	if (r < 0)
		return luaL_error(L, "ak_is_group_member: lookup failed");
	lua_pushboolean(L, r);
	return 1;
}

/* The string argument idx, without NUL bytes and at most max bytes, or a raised error. */
static const char *
check_text(lua_State *L, int idx, size_t max, size_t *len)
{
	const char *s = luaL_checklstring(L, idx, len);

	if (strlen(s) != *len)
		luaL_error(L, "argument #%d contains a NUL byte", idx);
	if (*len > max)
		luaL_error(L, "argument #%d is too long", idx);
	return s;
}

/* regcomp with REG_EXTENDED, back-references refused; 0 or a raised error. */
static int
compile_regex(lua_State *L, regex_t *re, const char *pattern, int flags)
{
	char msg[128];
	const char *p;
	int rc;

	for (p = pattern; *p != '\0'; p++)
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9')
			return luaL_error(L, "back-references are not supported in patterns");
		else if (*p == '\\' && p[1] != '\0')
			p++;
	rc = regcomp(re, pattern, REG_EXTENDED | flags);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		return luaL_error(L, "invalid pattern: %s", msg);
	}
	return 0;
}

static int
l_regex_match(lua_State *L)
{
	size_t vlen, plen;
	const char *value = check_text(L, 1, CU_EXPR_MAX_REGEX_SUBJECT, &vlen);
	const char *pattern = check_text(L, 2, CU_EXPR_MAX_REGEX, &plen);
	regex_t re;
	int found;

	compile_regex(L, &re, pattern, REG_NOSUB);
	found = regexec(&re, value, 0, NULL, 0) == 0;
	regfree(&re);
	lua_pushboolean(L, found);
	return 1;
}

/* Appends n bytes to the growing output; -1 past MAX_REPLACE_OUT. */
static int
out_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (n > MAX_REPLACE_OUT - *len)
		return -1;
	if (*len + n + 1 > *cap) {
		size_t want = *cap ? *cap : 256;

		while (want < *len + n + 1)
			want *= 2;
		*buf = cu_realloc(*buf, want);
		*cap = want;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Python's re.sub(pattern, repl, value): every match replaced; \0-\9 in repl insert groups. */
static int
l_regex_replace(lua_State *L)
{
	size_t vlen, plen, rlen, len = 0, cap = 0, pos = 0, i;
	const char *value = check_text(L, 1, CU_EXPR_MAX_REGEX_SUBJECT, &vlen);
	const char *pattern = check_text(L, 2, CU_EXPR_MAX_REGEX, &plen);
	const char *repl = check_text(L, 3, CU_EXPR_MAX_TEXT, &rlen);
	regmatch_t m[10];
	char *buf = NULL;
	regex_t re;
	int bad = 0;

	compile_regex(L, &re, pattern, 0);
	/* No Lua error may be raised until regfree and cu_free below. */
	while (pos <= vlen && !bad) {
		if (regexec(&re, value + pos, 10, m, pos > 0 ? REG_NOTBOL : 0) != 0)
			break;
		bad |= out_add(&buf, &len, &cap, value + pos, (size_t)m[0].rm_so);
		for (i = 0; i < rlen && !bad; i++) {
			if (repl[i] == '\\' && i + 1 < rlen && repl[i + 1] >= '0' &&
			    repl[i + 1] <= '9') {
				int g = repl[++i] - '0';

				if (m[g].rm_so >= 0)
					bad |= out_add(&buf, &len, &cap, value + pos + m[g].rm_so,
					               (size_t)(m[g].rm_eo - m[g].rm_so));
			} else if (repl[i] == '\\' && i + 1 < rlen && repl[i + 1] == '\\') {
				bad |= out_add(&buf, &len, &cap, "\\", 1);
				i++;
			} else {
				bad |= out_add(&buf, &len, &cap, repl + i, 1);
			}
		}
		if (m[0].rm_eo == m[0].rm_so) {
			/* An empty match: keep one character and move past it. */
			if (pos + (size_t)m[0].rm_eo < vlen)
				bad |= out_add(&buf, &len, &cap, value + pos + m[0].rm_eo, 1);
			pos += (size_t)m[0].rm_eo + 1;
		} else {
			pos += (size_t)m[0].rm_eo;
		}
	}
	if (!bad && pos < vlen)
		bad |= out_add(&buf, &len, &cap, value + pos, vlen - pos);
	regfree(&re);
	if (bad) {
		cu_free(buf);
		return luaL_error(L, "regex_replace: result too long");
	}
	/* lua_pushlstring may raise on memory: copy to the arena first so buf is freed. */
	{
		char *copy = cu_arena_strndup(sandbox_of(L)->sb_arena, buf ? buf : "", len);

		cu_free(buf);
		lua_pushlstring(L, copy, len);
	}
	return 1;
}

/* --- guards on library functions whose C loops the hook cannot interrupt ------------------ */

/*
 * An upper bound on the steps of Lua's matcher for a subject of n bytes: each *, + or -
 * repetition can retry over the whole subject, each ? doubles, and find/gsub/gmatch try every
 * start position.
 */
/* The index just past the set starting at p[i] (after its '['). */
static size_t
skip_set(const char *p, size_t plen, size_t i)
{
	if (i < plen && p[i] == '^')
		i++;
	if (i < plen && p[i] == ']')
		i++;
	while (i < plen && p[i] != ']')
		i += p[i] == '%' ? 2 : 1;
	return i + 1;
}

static double
pattern_cost(size_t n, const char *p, size_t plen)
{
	double reps = 1, opt = 0;
	size_t i = 0;

	while (i < plen) {
		char c = p[i];

		if (c == '%' && i + 1 < plen && p[i + 1] == 'b')
			i += 4;
		else if (c == '%' && i + 2 < plen && p[i + 1] == 'f' && p[i + 2] == '[')
			i = skip_set(p, plen, i + 3);
		else if (c == '%')
			i += 2;
		else if (c == '[')
			i = skip_set(p, plen, i + 1);
		else {
			reps += c == '*' || c == '+' || c == '-';
			opt += c == '?';
			i++;
		}
	}
	return pow((double)n + 1, reps) * pow(2, opt);
}

static int
guarded_pattern(lua_State *L)
{
	size_t n = 0, plen = 0;
	const char *p;

	(void)luaL_checklstring(L, 1, &n);
	p = luaL_checklstring(L, 2, &plen);
	/* string.find(s, p, init, true) is a plain search. */
	if (!(lua_toboolean(L, lua_upvalueindex(2)) && lua_toboolean(L, 4)) &&
	    pattern_cost(n, p, plen) > CU_EXPR_MAX_MATCH_COST)
		return luaL_error(L, "pattern too complex for a subject of %d bytes", (int)n);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static int
guarded_rep(lua_State *L)
{
	struct sandbox *sb = sandbox_of(L);
	size_t l = 0, lsep = 0;
	lua_Integer n;

	(void)luaL_checklstring(L, 1, &l);
	n = luaL_checkinteger(L, 2);
	(void)luaL_optlstring(L, 3, "", &lsep);
	/* An empty string repeated 1e15 times is a 1e15-step loop that allocates nothing. */
	if (n > 0 && ((lua_Unsigned)n > sb->sb_max || (double)n * (double)(l + lsep) > sb->sb_max))
		return luaL_error(L, "string.rep: result too large");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int
guarded_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);

	if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= (lua_Unsigned)MAX_TABLE_MOVE)
		return luaL_error(L, "table.move: too many elements");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static int
guarded_len(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (luaL_len(L, 1) > MAX_TABLE_LEN)
		return luaL_error(L, "table too long");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* setmetatable without __gc: finalizers run with hooks off, out of the budget's reach. */
static int
guarded_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* Replaces table[name] (the table at the top of the stack) with guard(original[, extra]). */
static void
wrap_field(lua_State *L, const char *name, lua_CFunction guard, int extra)
{
	lua_getfield(L, -1, name);
	if (extra >= 0) {
		lua_pushboolean(L, extra);
		lua_pushcclosure(L, guard, 2);
	} else {
		lua_pushcclosure(L, guard, 1);
	}
	lua_setfield(L, -2, name);
}

static void
open_libs(lua_State *L)
{
	static const char *const removed[] = {"dofile",  "loadfile",       "load",  "loadstring",
	                                      "require", "collectgarbage", "print", NULL};
	size_t i;

	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	lua_pop(L, 1);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	wrap_field(L, "find", guarded_pattern, 1);
	wrap_field(L, "match", guarded_pattern, 0);
	wrap_field(L, "gmatch", guarded_pattern, 0);
	wrap_field(L, "gsub", guarded_pattern, 0);
	wrap_field(L, "rep", guarded_rep, -1);
	lua_pop(L, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	wrap_field(L, "move", guarded_move, -1);
	wrap_field(L, "insert", guarded_len, -1);
	wrap_field(L, "remove", guarded_len, -1);
	lua_pop(L, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	lua_pop(L, 1);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
	lua_pop(L, 1);
	for (i = 0; removed[i] != NULL; i++) {
		lua_pushnil(L);
		lua_setglobal(L, removed[i]);
	}
	lua_pushglobaltable(L);
	wrap_field(L, "setmetatable", guarded_setmetatable, -1);
	lua_pop(L, 1);
	lua_register(L, "ak_message", l_ak_message);
	lua_register(L, "ak_logger", l_ak_logger);
	lua_register(L, "ak_user_by", l_ak_user_by);
	lua_register(L, "ak_is_group_member", l_ak_is_group_member);
	lua_register(L, "regex_match", l_regex_match);
	lua_register(L, "regex_replace", l_regex_replace);
}

static int
sb_main(lua_State *L)
{
	struct run *rn = lua_touserdata(L, 1);

	lua_settop(L, 0);
	open_libs(L);
	if (luaL_loadbufferx(L, rn->rn_src, rn->rn_len, "=expression", "t") != LUA_OK)
		return lua_error(L);
	if (rn->rn_compile_only)
		return 0;
	push_json(L, rn->rn_request, 0);
	lua_pushvalue(L, -1);
	lua_setglobal(L, "request");
	lua_getfield(L, -1, "context");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, "context");
	}
	lua_setglobal(L, "context");
	lua_getfield(L, -1, "http_request");
	lua_pushvalue(L, -1);
	lua_setglobal(L, "http_request");
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "client_ip");
		lua_setglobal(L, "ak_client_ip");
	}
	lua_settop(L, 1); /* the chunk */
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, CU_EXPR_HOOK_EVERY);
	lua_call(L, 0, 1);
	rn->rn_passing = lua_toboolean(L, -1);
	return 0;
}

/* The error text of a failed pcall (its error object on top of L's stack), arena-owned. */
static const char *
run_error(struct sandbox *sb, lua_State *L)
{
	/* lua_tostring only: a __tostring metamethod would run Lua outside the pcall. */
	const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;

	if (sb->sb_over && sb->sb_why != NULL)
		return cu_arena_printf(sb->sb_arena, "expression stopped: %s", sb->sb_why);
	if (msg != NULL)
		return cu_arena_strndup(sb->sb_arena, msg,
		                        strlen(msg) < CU_EXPR_MAX_TEXT ? strlen(msg)
		                                                       : CU_EXPR_MAX_TEXT);
	return cu_arena_printf(sb->sb_arena, "error object is a %s value", luaL_typename(L, -1));
}

/* Runs rn in a fresh state; NULL, or the error text (arena-owned). */
static const char *
sandbox_run(struct sandbox *sb, struct run *rn)
{
	const char *error = NULL;
	lua_State *L;
	int rc;

	L = lua_newstate(sb_alloc, sb);
	if (L == NULL)
		return "cannot create the interpreter";
	lua_pushcfunction(L, sb_main);
	lua_pushlightuserdata(L, rn);
	rc = lua_pcall(L, 1, 0, 0);
	if (rc != LUA_OK)
		error = run_error(sb, L);
	lua_close(L);
	return error;
}

static void
sandbox_init(struct sandbox *sb, struct cu_arena *a, const struct cu_expression_limits *lim,
             const struct cu_expression_hooks *hooks)
{
	memset(sb, 0, sizeof(*sb));
	sb->sb_arena = a;
	sb->sb_max =
	    lim != NULL && lim->el_max_memory > 0 ? lim->el_max_memory : DEFAULT_MAX_MEMORY;
	sb->sb_max_steps = lim != NULL && lim->el_max_instructions > 0 ? lim->el_max_instructions
	                                                               : DEFAULT_MAX_INSTRUCTIONS;
	sb->sb_deadline = lim != NULL ? lim->el_deadline : 0;
	sb->sb_hooks = hooks;
	sb->sb_messages = cu_json_array(a);
	sb->sb_logs = cu_json_array(a);
}

enum cu_err
cu_policy_expression_run(struct cu_arena *a, const char *src, size_t len,
                         struct json_object *request, const struct cu_expression_limits *lim,
                         const struct cu_expression_hooks *hooks, struct cu_expression_result *out)
{
	struct sandbox sb;
	struct run rn;

	sandbox_init(&sb, a, lim, hooks);
	memset(out, 0, sizeof(*out));
	out->er_messages = sb.sb_messages;
	out->er_logs = sb.sb_logs;
	if (src == NULL || len > CU_EXPR_MAX_SOURCE) {
		out->er_error = "expression too long";
		return CU_ERR_INVALID;
	}
	memset(&rn, 0, sizeof(rn));
	rn.rn_sb = &sb;
	rn.rn_src = src;
	rn.rn_len = len;
	rn.rn_request = request;
	out->er_error = sandbox_run(&sb, &rn);
	if (out->er_error != NULL)
		return CU_ERR_INVALID;
	out->er_passing = rn.rn_passing;
	return CU_OK;
}

int
cu_policy_expression_check(struct cu_arena *a, const char *src, size_t len, const char **error)
{
	struct sandbox sb;
	struct run rn;

	*error = NULL;
	if (src == NULL || len > CU_EXPR_MAX_SOURCE) {
		*error = "expression too long";
		return 0;
	}
	sandbox_init(&sb, a, NULL, NULL);
	memset(&rn, 0, sizeof(rn));
	rn.rn_sb = &sb;
	rn.rn_src = src;
	rn.rn_len = len;
	rn.rn_compile_only = 1;
	*error = sandbox_run(&sb, &rn);
	return *error == NULL;
}

/* --- value-returning scripts (expression.h: cu_policy_expression_values) ------------------ */

struct conv {
	size_t cv_nodes;
	size_t cv_bytes;
};

/* What sb_value_main gets through its one light userdata. */
struct vrun {
	struct sandbox *vr_sb;
	const char *vr_src;
	size_t vr_len;
	struct json_object *vr_request;
	struct json_object *vr_globals;
	struct json_object *vr_holder; /* arena-owned array the result is added to */
	int vr_opened;                 /* the state's libraries are open */
};

/*
 * Adds v to parent (under key, or appended when key is NULL) before it is filled: an error
 * raised while filling it then leaves nothing unreachable (the holder is arena-owned).
 */
static void
conv_attach(struct json_object *parent, const char *key, struct json_object *v)
{
	if (key != NULL)
		json_object_object_add(parent, key, v);
	else
		json_object_array_add(parent, v);
}

/* A string Lua holds, checked for what JSON text and the tokens built from it allow. */
static const char *
conv_text(lua_State *L, int idx, size_t *len, struct conv *cv)
{
	const char *s = lua_tolstring(L, idx, len);

	if (memchr(s, '\0', *len) != NULL || !cu_utf8_valid(s, *len))
		luaL_error(L, "result holds a string that is not UTF-8 text");
	if (*len > CU_EXPR_MAX_VALUE_BYTES - cv->cv_bytes)
		luaL_error(L, "result too large");
	cv->cv_bytes += *len;
	return s;
}

/* 1 when the table at t has exactly the keys 1..n (*n set); 0 for any other table. Raw
 * traversal: metamethods do not run. */
static int
conv_is_array(lua_State *L, int t, size_t *n)
{
	lua_Integer lo = 0, hi = 0;
	size_t count = 0;
	int array = 1;

	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		lua_pop(L, 1);
		if (++count > CU_EXPR_MAX_VALUE_NODES)
			luaL_error(L, "result too large");
		if (!lua_isinteger(L, -1)) {
			array = 0;
			continue;
		}
		{
			lua_Integer k = lua_tointeger(L, -1);

			lo = count == 1 || k < lo ? k : lo;
			hi = count == 1 || k > hi ? k : hi;
		}
	}
	*n = count;
	return array && (count == 0 || (lo == 1 && (lua_Unsigned)hi == (lua_Unsigned)count));
}

static void
conv_value(lua_State *L, int idx, struct json_object *parent, const char *key, int depth,
           struct conv *cv)
{
	size_t len, n, i;

	idx = lua_absindex(L, idx);
	if (++cv->cv_nodes > CU_EXPR_MAX_VALUE_NODES)
		luaL_error(L, "result too large");
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		conv_attach(parent, key, NULL);
		return;
	case LUA_TBOOLEAN:
		conv_attach(parent, key, json_object_new_boolean(lua_toboolean(L, idx)));
		return;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			conv_attach(parent, key, json_object_new_int64(lua_tointeger(L, idx)));
		} else {
			double d = lua_tonumber(L, idx);

			if (!isfinite(d))
				luaL_error(L, "result holds a number JSON cannot represent");
			conv_attach(parent, key, json_object_new_double(d));
		}
		return;
	case LUA_TSTRING: {
		const char *s = conv_text(L, idx, &len, cv);

		conv_attach(parent, key, json_object_new_string_len(s, (int)len));
		return;
	}
	case LUA_TTABLE:
		break;
	default:
		luaL_error(L, "cannot convert a %s value to JSON", luaL_typename(L, idx));
		return;
	}
	if (depth >= CU_JSON_MAX_DEPTH)
		luaL_error(L, "result nested too deeply");
	luaL_checkstack(L, 6, "result nested too deeply");
	if (conv_is_array(L, idx, &n)) {
		struct json_object *arr = json_object_new_array();

		conv_attach(parent, key, arr);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, (lua_Integer)i);
			conv_value(L, -1, arr, NULL, depth + 1, cv);
			lua_pop(L, 1);
		}
		return;
	}
	{
		struct json_object *obj = json_object_new_object();
		char num[48];

		conv_attach(parent, key, obj);
		lua_pushnil(L);
		while (lua_next(L, idx) != 0) {
			const char *k;

			/* Never lua_tolstring a number key: converting it in place breaks lua_next.
			 */
			if (lua_type(L, -2) == LUA_TSTRING) {
				k = conv_text(L, -2, &len, cv);
			} else if (lua_isinteger(L, -2)) {
				snprintf(num, sizeof(num), "%lld", (long long)lua_tointeger(L, -2));
				k = num;
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				snprintf(num, sizeof(num), "%.17g", (double)lua_tonumber(L, -2));
				k = num;
			} else {
				luaL_error(L, "result holds a %s key", luaL_typename(L, -2));
				return;
			}
			conv_value(L, -1, obj, k, depth + 1, cv);
			lua_pop(L, 1);
		}
	}
}

/* Sets request, context, http_request and ak_client_ip in the table at env, as sb_main does
 * for the global table. */
static void
set_request(lua_State *L, int env, struct json_object *request)
{
	push_json(L, request, 0);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, env, "request");
	lua_getfield(L, -1, "context");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, "context");
	}
	lua_setfield(L, env, "context");
	lua_getfield(L, -1, "http_request");
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "client_ip");
		lua_setfield(L, env, "ak_client_ip");
	}
	lua_setfield(L, env, "http_request");
	lua_pop(L, 1);
}

static int
sb_value_main(lua_State *L)
{
	struct vrun *vr = lua_touserdata(L, 1);
	struct conv cv = {0, 0};
	int env;

	lua_settop(L, 0);
	if (!vr->vr_opened) {
		open_libs(L);
		vr->vr_opened = 1;
	}
	if (luaL_loadbufferx(L, vr->vr_src, vr->vr_len, "=expression", "t") != LUA_OK)
		return lua_error(L);
	/* Its own globals: reads fall through to the shared table, writes stay here. */
	lua_createtable(L, 0, 8);
	env = lua_gettop(L);
	lua_createtable(L, 0, 1);
	lua_pushglobaltable(L);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, env);
	if (vr->vr_globals != NULL && json_object_is_type(vr->vr_globals, json_type_object)) {
		json_object_object_foreach(vr->vr_globals, k, v)
		{
			push_json(L, v, 0);
			lua_setfield(L, env, k);
		}
	}
	set_request(L, env, vr->vr_request);
	if (lua_setupvalue(L, 1, 1) == NULL) /* the chunk's _ENV */
		lua_pop(L, 1);
	lua_settop(L, 1);
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, CU_EXPR_HOOK_EVERY);
	lua_call(L, 0, 1);
	conv_value(L, -1, vr->vr_holder, NULL, 0, &cv);
	return 0;
}

enum cu_err
cu_policy_expression_values(struct cu_arena *a, const char *const *srcs, const size_t *lens,
                            size_t n, struct json_object *request, struct json_object *globals,
                            const struct cu_expression_limits *lim,
                            const struct cu_expression_hooks *hooks,
                            struct cu_expression_value *out)
{
	struct sandbox sb;
	struct vrun vr;
	lua_State *L = NULL;
	int failed = 0;
	size_t i;

	sandbox_init(&sb, a, lim, hooks);
	memset(&vr, 0, sizeof(vr));
	vr.vr_sb = &sb;
	vr.vr_request = request;
	vr.vr_globals = globals;
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		sb.sb_logs = cu_json_array(a);
		out[i].ev_logs = sb.sb_logs;
		if (srcs[i] == NULL || lens[i] > CU_EXPR_MAX_SOURCE) {
			out[i].ev_error = "expression too long";
			failed = 1;
			continue;
		}
		if (L == NULL) {
			if ((L = lua_newstate(sb_alloc, &sb)) == NULL) {
				out[i].ev_error = "cannot create the interpreter";
				failed = 1;
				continue;
			}
			vr.vr_opened = 0;
		}
		sb.sb_steps = 0;
		sb.sb_over = 0;
		sb.sb_why = NULL;
		vr.vr_src = srcs[i];
		vr.vr_len = lens[i];
		vr.vr_holder = cu_json_array(a);
		lua_pushcfunction(L, sb_value_main);
		lua_pushlightuserdata(L, &vr);
		if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
			out[i].ev_error = run_error(&sb, L);
			failed = 1;
			/* Past a limit every instruction raises; half-opened libraries are no base.
			 */
			if (sb.sb_over || !vr.vr_opened) {
				lua_close(L);
				L = NULL;
			} else {
				lua_settop(L, 0);
			}
			continue;
		}
		out[i].ev_value = json_object_get(json_object_array_get_idx(vr.vr_holder, 0));
		if (out[i].ev_value != NULL)
			cu_json_adopt(a, out[i].ev_value);
		/* This script's garbage must not count against the next one's memory cap. */
		lua_gc(L, LUA_GCCOLLECT);
	}
	if (L != NULL)
		lua_close(L);
	return failed ? CU_ERR_INVALID : CU_OK;
}

enum cu_err
cu_policy_expression_value(struct cu_arena *a, const char *src, size_t len,
                           struct json_object *request, struct json_object *globals,
                           const struct cu_expression_limits *lim,
                           const struct cu_expression_hooks *hooks, struct json_object **value,
                           const char **error)
{
	struct cu_expression_value v;
	enum cu_err err;

	err = cu_policy_expression_values(a, &src, &len, 1, request, globals, lim, hooks, &v);
	*value = v.ev_value;
	*error = v.ev_error;
	return err;
}

/* --- the policy kind: the sandbox with the request and the database behind its hooks ------ */

static int
is_digits(const char *s)
{
	return s[0] != '\0' && strlen(s) <= 18 && strspn(s, "0123456789") == strlen(s);
}

static int
is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23)
		        ? s[i] != '-'
		        : strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	return 1;
}

static int
db_user_by(void *data, const char *field, const char *value, struct json_object **out)
{
	struct cu_ctx *cx = data;
	enum cu_db_stmt st;
	PGresult *res = NULL;

	*out = NULL;
	if (strcmp(field, "pk") == 0) {
		if (!is_digits(value))
			return 0;
		st = CU_DB_STMT_POLICY_ENGINE_USER_BY_PK;
	} else if (strcmp(field, "email") == 0) {
		st = CU_DB_STMT_POLICY_ENGINE_USER_BY_EMAIL;
	} else {
		st = CU_DB_STMT_POLICY_ENGINE_USER_BY_USERNAME;
	}
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &value) != CU_OK)
		return -1;
	if (PQntuples(res) < 1)
		return 0;
	if (cu_json_parse(cx->cx_arena, cu_db_value(res, 0, 0), strlen(cu_db_value(res, 0, 0)),
	                  out) != CU_OK)
		return -1;
	return 0;
}

static int
db_is_group_member(void *data, const char *user_pk, const char *field, const char *value)
{
	struct cu_ctx *cx = data;
	const char *params[2] = {user_pk, value};
	PGresult *res = NULL;
	enum cu_db_stmt st = CU_DB_STMT_POLICY_ENGINE_MEMBER_NAME;

	if (!is_digits(user_pk))
		return 0;
	if (strcmp(field, "pk") == 0) {
		if (!is_uuid(value))
			return 0;
		st = CU_DB_STMT_POLICY_ENGINE_MEMBER_PK;
	}
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 2, params) != CU_OK)
		return -1;
	return strcmp(cu_db_value(res, 0, 0), "t") == 0;
}

void
cu_policy_expression_db_hooks(struct cu_expression_hooks *out, struct cu_ctx *cx)
{
	out->eh_data = cx;
	out->eh_user_by = db_user_by;
	out->eh_is_group_member = db_is_group_member;
}

/* request.http_request: path, method, client_ip, headers (lower-case names; credentials
 * left out). */
static struct json_object *
http_request_json(struct cu_ctx *cx)
{
	static const char *const hidden[] = {"cookie", "authorization", "proxy-authorization",
	                                     NULL};
	const struct cu_http_request *req = cx->cx_req;
	struct json_object *o = cu_json_object(cx->cx_arena), *h = json_object_new_object();
	const char *ip = cu_events_client_ip(cx);
	size_t i, j;

	cu_json_set_string(o, "path", req->rq_path != NULL ? req->rq_path : "");
	cu_json_set_string(o, "method", req->rq_method_name != NULL ? req->rq_method_name : "");
	if (ip != NULL)
		cu_json_set_string(o, "client_ip", ip);
	for (i = 0; i < req->rq_nheaders; i++) {
		int skip = 0;

		for (j = 0; hidden[j] != NULL; j++)
			skip |= strcmp(req->rq_headers[i].kv_key, hidden[j]) == 0;
		if (!skip)
			cu_json_set_string(h, req->rq_headers[i].kv_key, req->rq_headers[i].kv_val);
	}
	cu_json_set(o, "headers", h);
	return o;
}

enum cu_policy_verdict
cu_policy_expression_eval(struct cu_policy_eval *pe)
{
	const char *src = cu_policy_cfg_string(pe, "expression", NULL);
	struct cu_expression_hooks hooks;
	struct cu_expression_limits lim = {0, 0, pe->pe_deadline};
	struct cu_expression_result res;
	struct json_object *request = cu_json_object(pe->pe_arena), *user;
	const struct cu_policy_request *rq = pe->pe_rq;
	size_t i, n;
	enum cu_err err;

	cu_policy_expression_db_hooks(&hooks, pe->pe_cx);
	if (src == NULL) {
		pe->pe_error = "Expression policy has no expression";
		return CU_POLICY_ERROR;
	}
	if (pe->pe_user != NULL) {
		user = json_object_get(pe->pe_user);
		json_object_object_add(user, "is_authenticated", json_object_new_boolean(1));
	} else {
		/* authentik's AnonymousUser. */
		user = json_object_new_object();
		cu_json_set_string(user, "username", "AnonymousUser");
		cu_json_set_string(user, "name", "");
		cu_json_set_string(user, "email", "");
		cu_json_set_bool(user, "is_authenticated", 0);
		cu_json_set_bool(user, "is_superuser", 0);
		cu_json_set(user, "attributes", json_object_new_object());
		cu_json_set(user, "groups", json_object_new_array());
	}
	cu_json_set(request, "user", user);
	if (rq != NULL && rq->pr_context != NULL)
		cu_json_set(request, "context", json_object_get(rq->pr_context));
	if (rq != NULL && rq->pr_obj_uuid != NULL)
		cu_json_set_string(request, "obj_pk", rq->pr_obj_uuid);
	if (pe->pe_cx != NULL) {
		cu_json_set(request, "http_request", json_object_get(http_request_json(pe->pe_cx)));
		lim.el_max_instructions = pe->pe_cx->cx_cfg->expression_max_instructions;
		lim.el_max_memory = (size_t)pe->pe_cx->cx_cfg->expression_max_memory_kib * 1024;
	} else {
		hooks.eh_user_by = NULL;
		hooks.eh_is_group_member = NULL;
	}
	err = cu_policy_expression_run(pe->pe_arena, src, strlen(src), request, &lim, &hooks, &res);
	n = json_object_array_length(res.er_logs);
	for (i = 0; i < n; i++)
		cu_policy_log(pe, "info",
		              json_object_get_string(json_object_array_get_idx(res.er_logs, i)));
	if (err != CU_OK) {
		pe->pe_error = res.er_error;
		return CU_POLICY_ERROR;
	}
	n = json_object_array_length(res.er_messages);
	for (i = 0; i < n; i++)
		cu_policy_message(
		    pe, json_object_get_string(json_object_array_get_idx(res.er_messages, i)));
	return res.er_passing ? CU_POLICY_PASS : CU_POLICY_FAIL;
}
