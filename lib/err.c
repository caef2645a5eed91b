#include "err.h"

static const struct {
	const char *text;
	int status;
} errs[CU_ERR__MAX] = {
    [CU_OK] = {"ok", 200},
    [CU_ERR_INVALID] = {"invalid input", 400},
    [CU_ERR_TOO_LARGE] = {"too large", 413},
    [CU_ERR_NOT_FOUND] = {"not found", 404},
    [CU_ERR_DENIED] = {"credentials refused", 401},
    [CU_ERR_METHOD] = {"method not allowed", 405},
    [CU_ERR_UNAVAILABLE] = {"service unavailable", 503},
    [CU_ERR_INTERNAL] = {"internal error", 500},
};

const char *
cu_strerror(enum cu_err err)
{
	if ((unsigned)err >= CU_ERR__MAX)
		return "unknown error";
	return errs[err].text;
}

int
cu_err_status(enum cu_err err)
{
	if ((unsigned)err >= CU_ERR__MAX)
		return 500;
	return errs[err].status;
}
