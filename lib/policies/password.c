/*
 * Password policies (authentik's PasswordPolicy): static rules, a breached-password list and
 * zxcvbn's strength score, on the password a prompt stage put in the plan context.
 *
 * Have I Been Pwned: custos asks no outside service. With config password.breached_list set,
 * the file (one password a line, exact match, "\r\n" or "\n") is read once per process into a
 * hash set; a password found there counts as seen once, so it fails while hibp_allowed_count is
 * 0, as a password seen on HIBP fails for authentik. Without the file the check passes.
 *
 * zxcvbn: libzxcvbn gives an entropy in bits; zxcvbn's score comes from log10 of the guesses
 * (entropy * log10 2) against 10^3, 10^6, 10^8 and 10^10, and passes when above
 * zxcvbn_score_threshold. As authentik, only the first 72 characters are scored, with the
 * user's username, name and email as words to penalise. libzxcvbn gives no feedback texts.
 */
#include "policies/password.h"

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zxcvbn.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "policies/engine.h"
#include "policies/kinds.h"
#include "server.h"

#define MAX_PASSWORD (64 * 1024)
#define ZXCVBN_CHARS 72
#define MAX_BREACHED_FILE ((off_t)1 << 30)

/* UTF-8 code points of s (n bytes) into out (at most max), as Python iterates a str; an
 * invalid byte counts as one code point of its own value. Returns the count. */
static size_t
code_points(const char *s, size_t n, uint32_t *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0;

	while (i < n && k < max) {
		uint32_t c = p[i];
		size_t len = 1, j;

		if ((c & 0xe0) == 0xc0)
			len = 2, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			len = 3, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			len = 4, c &= 0x07;
		if (i + len > n)
			len = 1, c = p[i];
		for (j = 1; j < len; j++) {
			if ((p[i + j] & 0xc0) != 0x80) {
				len = 1;
				c = p[i];
				break;
			}
			c = (c << 6) | (p[i + j] & 0x3f);
		}
		out[k++] = c;
		i += len;
	}
	return k;
}

int
cu_policy_password_static(const char *password, const struct cu_password_rules *r)
{
	size_t n = strlen(password), np, ns, i, j;
	uint32_t *pw, *sym;
	size_t digits = 0, lower = 0, upper = 0, symbols = 0;
	int ok;

	pw = cu_calloc(n + 1, sizeof(*pw));
	np = code_points(password, n, pw, n + 1);
	ok = np >= (size_t)r->pr_length_min;
	for (i = 0; i < np; i++) {
		digits += pw[i] >= '0' && pw[i] <= '9';
		lower += pw[i] >= 'a' && pw[i] <= 'z';
		upper += pw[i] >= 'A' && pw[i] <= 'Z';
	}
	if (r->pr_amount_digits > 0 && digits < (size_t)r->pr_amount_digits)
		ok = 0;
	if (r->pr_amount_lowercase > 0 && lower < (size_t)r->pr_amount_lowercase)
		ok = 0;
	if (r->pr_amount_uppercase > 0 && upper < (size_t)r->pr_amount_uppercase)
		ok = 0;
	if (ok && r->pr_amount_symbols > 0) {
		size_t sl = strlen(r->pr_symbol_charset);

		/* authentik sums password.count(symbol) over the charset's characters. */
		sym = cu_calloc(sl + 1, sizeof(*sym));
		ns = code_points(r->pr_symbol_charset, sl, sym, sl + 1);
		for (j = 0; j < ns; j++)
			for (i = 0; i < np; i++)
				symbols += pw[i] == sym[j];
		cu_free(sym);
		ok = symbols >= (size_t)r->pr_amount_symbols;
	}
	cu_free(pw);
	return ok;
}

int
cu_policy_password_zxcvbn_score(const char *password, const char *const *user_inputs)
{
	uint32_t cps[ZXCVBN_CHARS];
	const unsigned char *p = (const unsigned char *)password;
	size_t n = strlen(password), bytes = 0, k;
	char *head;
	double entropy, lg;

	/* The byte length of the first ZXCVBN_CHARS code points. */
	k = code_points(password, n, cps, ZXCVBN_CHARS);
	while (k > 0 && bytes < n) {
		bytes++;
		while (bytes < n && (p[bytes] & 0xc0) == 0x80)
			bytes++;
		k--;
	}
	head = cu_strndup(password, bytes);
	entropy = ZxcvbnMatch(head, (const char **)(uintptr_t)user_inputs, NULL);
	cu_wipe(head, bytes);
	cu_free(head);
	lg = entropy * log10(2.0);
	if (lg < 3)
		return 0;
	if (lg < 6)
		return 1;
	if (lg < 8)
		return 2;
	if (lg < 10)
		return 3;
	return 4;
}

/* --- the breached list: an open-addressing set of the file's lines ------------------------ */

static struct {
	int bl_loaded;
	char *bl_data;
	size_t bl_len;
	uint64_t *bl_slots; /* (offset << 20 | length) + 1 per line; 0 empty */
	size_t bl_mask;
} breached;

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
breached_insert(size_t off, size_t len)
{
	size_t i = (size_t)fnv1a(breached.bl_data + off, len) & breached.bl_mask;

	while (breached.bl_slots[i] != 0)
		i = (i + 1) & breached.bl_mask;
	breached.bl_slots[i] = (((uint64_t)off << 20) | len) + 1;
}

/* Reads path once; later calls reuse it (a failure is logged once and leaves the set empty). */
static void
breached_load(const char *path)
{
	struct stat st;
	size_t lines = 0, entries = 0, i, start, slots = 16;
	int fd = -1;

	if (breached.bl_loaded)
		return;
	breached.bl_loaded = 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
	    st.st_size > MAX_BREACHED_FILE) {
		cu_log(CU_LOG_ERROR, "breached_list_unreadable", CU_LS("path", path));
		goto out;
	}
	breached.bl_data = cu_malloc((size_t)st.st_size + 1);
	while (breached.bl_len < (size_t)st.st_size) {
		ssize_t got = read(fd, breached.bl_data + breached.bl_len,
		                   (size_t)st.st_size - breached.bl_len);

		if (got <= 0)
			break;
		breached.bl_len += (size_t)got;
	}
	for (i = 0; i < breached.bl_len; i++)
		lines += breached.bl_data[i] == '\n';
	while (slots < (lines + 1) * 2)
		slots *= 2;
	breached.bl_slots = cu_calloc(slots, sizeof(*breached.bl_slots));
	breached.bl_mask = slots - 1;
	for (start = i = 0; i <= breached.bl_len; i++) {
		if (i == breached.bl_len || breached.bl_data[i] == '\n') {
			size_t len = i - start;

			if (len > 0 && breached.bl_data[start + len - 1] == '\r')
				len--;
			if (len > 0 && len < (1u << 20)) {
				breached_insert(start, len);
				entries++;
			}
			start = i + 1;
		}
	}
	cu_log(CU_LOG_INFO, "breached_list_loaded", CU_LI("entries", (long long)entries));
out:
	if (fd >= 0)
		close(fd);
}

int
cu_policy_password_breached(const char *path, const char *password)
{
	size_t n = strlen(password), i;

	if (path == NULL || path[0] == '\0')
		return 0;
	breached_load(path);
	if (breached.bl_slots == NULL)
		return 0;
	i = (size_t)fnv1a(password, n) & breached.bl_mask;
	while (breached.bl_slots[i] != 0) {
		uint64_t v = breached.bl_slots[i] - 1;
		size_t off = (size_t)(v >> 20), len = (size_t)(v & 0xfffff);

		if (len == n && memcmp(breached.bl_data + off, password, n) == 0)
			return 1;
		i = (i + 1) & breached.bl_mask;
	}
	return 0;
}

/* --- the policy --------------------------------------------------------------------------- */

enum cu_policy_verdict
cu_policy_password_eval(struct cu_policy_eval *pe)
{
	const char *field = cu_policy_cfg_string(pe, "password_field", "password");
	const char *password = cu_policy_password_from_context(pe, field);
	const char *msg;

	if (password == NULL) {
		cu_policy_log(pe, "warning", "Password field not set in Policy Request");
		cu_policy_message(pe, "Password not set in context");
		return CU_POLICY_FAIL;
	}
	if (strlen(password) > MAX_PASSWORD) {
		cu_policy_message(pe, "Password is too long.");
		return CU_POLICY_FAIL;
	}
	if (cu_policy_cfg_bool(pe, "check_static_rules", 1)) {
		struct cu_password_rules r;

		r.pr_length_min = cu_policy_cfg_int(pe, "length_min", 0);
		r.pr_amount_digits = cu_policy_cfg_int(pe, "amount_digits", 0);
		r.pr_amount_lowercase = cu_policy_cfg_int(pe, "amount_lowercase", 0);
		r.pr_amount_uppercase = cu_policy_cfg_int(pe, "amount_uppercase", 0);
		r.pr_amount_symbols = cu_policy_cfg_int(pe, "amount_symbols", 0);
		r.pr_symbol_charset =
		    cu_policy_cfg_string(pe, "symbol_charset", CU_PASSWORD_SYMBOLS_DEFAULT);
		if (!cu_policy_password_static(password, &r)) {
			msg = cu_policy_cfg_string(pe, "error_message", "");
			cu_policy_log(pe, "debug", "password failed static rules");
			cu_policy_message(pe, msg[0] != '\0' ? msg : "Invalid password.");
			return CU_POLICY_FAIL;
		}
	}
	if (cu_policy_cfg_bool(pe, "check_have_i_been_pwned", 0)) {
		const char *list =
		    pe->pe_cx != NULL ? pe->pe_cx->cx_cfg->password_breached_list : NULL;
		long long seen = cu_policy_password_breached(list, password);

		if (seen > cu_policy_cfg_int(pe, "hibp_allowed_count", 0)) {
			cu_policy_log(pe, "debug", "password failed breached list");
			cu_policy_message(
			    pe, cu_arena_printf(pe->pe_arena,
			                        "Password exists on %lld online lists.", seen));
			return CU_POLICY_FAIL;
		}
	}
	if (cu_policy_cfg_bool(pe, "check_zxcvbn", 0)) {
		const char *inputs[4] = {NULL, NULL, NULL, NULL};
		size_t k = 0;
		int score;

		if (pe->pe_user != NULL) {
			static const char *const keys[] = {"username", "name", "email"};
			size_t i;

			for (i = 0; i < 3; i++) {
				const char *s = NULL;

				if (cu_json_get_string(pe->pe_user, keys[i], &s) == 0 &&
				    s[0] != '\0')
					inputs[k++] = s;
			}
		}
		score = cu_policy_password_zxcvbn_score(password, inputs);
		cu_policy_log(pe, "debug", cu_arena_printf(pe->pe_arena, "zxcvbn score %d", score));
		if (score <= cu_policy_cfg_int(pe, "zxcvbn_score_threshold", 2)) {
			cu_policy_message(pe, "Password is too weak.");
			return CU_POLICY_FAIL;
		}
	}
	return CU_POLICY_PASS;
}
