/*
 * The expression sandbox on arbitrary bytes as a script (lib/policies/expression.h), with tight
 * limits. Whatever the script does, the run must end with a verdict or an error text, keep
 * the message and log caps, and give its memory back (ASan's leak check at exit).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "policies/expression.h"
#include "policies/kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096

static int
user_by(void *data, const char *field, const char *value, struct json_object **out)
{
	(void)data;
	(void)field;
	*out = NULL;
	return strcmp(value, "fail") == 0 ? -1 : 0;
}

static int
member(void *data, const char *user_pk, const char *field, const char *value)
{
	(void)data;
	(void)user_pk;
	(void)field;
	return value[0] == 'a';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char request_text[] =
	    "{\"user\": {\"pk\": 1, \"username\": \"u\", \"attributes\": {\"a\": [1, 2.5, null]}}, "
	    "\"context\": {\"prompt_data\": {\"password\": \"p\"}}}";
	struct cu_expression_hooks hooks = {NULL, user_by, member};
	struct cu_expression_limits lim = {20000, 1024 * 1024, 0};
	struct cu_expression_result res;
	struct json_object *request = NULL;
	struct cu_arena a;
	enum cu_err err;

	if (size > MAX_INPUT)
		return 0;
	cu_arena_init(&a);
	if (cu_json_parse(&a, request_text, sizeof(request_text) - 1, &request) != CU_OK)
		__builtin_trap();
	lim.el_deadline = cu_policy_now() + 2;
	err = cu_policy_expression_run(&a, (const char *)data, size, request, &lim, &hooks, &res);
	if (err != CU_OK && (err != CU_ERR_INVALID || res.er_error == NULL))
		__builtin_trap();
	if (err == CU_OK && res.er_error != NULL)
		__builtin_trap();
	if (json_object_array_length(res.er_messages) > CU_EXPR_MAX_MESSAGES ||
	    json_object_array_length(res.er_logs) > CU_EXPR_MAX_LOGS)
		__builtin_trap();
	cu_arena_free(&a);
	return 0;
}
