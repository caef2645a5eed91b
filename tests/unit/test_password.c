#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "password.h"
#include "password_vectors.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The password of v, repeated as it says; caller frees with cu_free. */
static char *
vector_password(const struct pw_vector *v, size_t *len)
{
	char *pw;
	size_t i;

	*len = v->pv_len * v->pv_times;
	pw = cu_malloc(*len + 1);
	for (i = 0; i < v->pv_times; i++)
		memcpy(pw + i * v->pv_len, v->pv_password, v->pv_len);
	pw[*len] = '\0';
	return pw;
}

static const struct pw_vector *
vector_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pw_vectors) / sizeof(pw_vectors[0]); i++)
		if (strcmp(pw_vectors[i].pv_name, name) == 0)
			return &pw_vectors[i];
	fail_msg("no vector named %s", name);
	return NULL;
}

static enum cu_password_result
verify_vector(const struct pw_vector *v, const struct cu_password_params *cur)
{
	enum cu_password_result r;
	size_t len;
	char *pw = vector_password(v, &len);

	r = cu_password_verify(v->pv_encoded, pw, len, cur);
	cu_free(pw);
	return r;
}

/*
 * Every vector: the encodings Django wrote, each with the right password, wrong ones, and
 * one-character changes, cuts and additions in every part of the encoding. Django's
 * check_password answered each; custos agrees but where its caps refuse what Django computes.
 */
static void
test_vectors(void **state)
{
	struct cu_password_params def;
	size_t i, bad = 0, n = sizeof(pw_vectors) / sizeof(pw_vectors[0]);

	(void)state;
	cu_password_params_default(&def);
	assert_true(n > 400);
	for (i = 0; i < n; i++) {
		const struct pw_vector *v = &pw_vectors[i];
		enum cu_password_result r = verify_vector(v, &def);

		/* Nothing Django refuses is let in. */
		assert_true(v->pv_django || v->pv_expect == CU_PASSWORD_MISMATCH);
		if (r != v->pv_expect) {
			print_error("%s: got %d, want %d\n", v->pv_name, (int)r, (int)v->pv_expect);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Without current parameters the defaults are current. */
static void
test_vectors_default_current(void **state)
{
	(void)state;
	assert_int_equal(
	    verify_vector(vector_named("argon2id m=19456 t=2 p=1 ascii, right password"), NULL),
	    CU_PASSWORD_OK);
	assert_int_equal(
	    verify_vector(vector_named("argon2id m=8192 t=2 p=1, right password"), NULL),
	    CU_PASSWORD_OK_REHASH);
}

/* A hash is current when each of m, t and p is at least the current one. */
static void
test_rehash_decision(void **state)
{
	const struct pw_vector *v = vector_named("argon2id m=19456 t=2 p=1 ascii, right password");
	const struct pw_vector *w = vector_named("argon2id m=65536 t=3 p=4, right password");
	const struct pw_vector *i = vector_named("argon2i m=19456 t=2 p=1, right password");
	struct cu_password_params cur;

	(void)state;
	cu_password_params_default(&cur);
	cur.pp_memory_kib++;
	assert_int_equal(verify_vector(v, &cur), CU_PASSWORD_OK_REHASH);
	assert_int_equal(verify_vector(w, &cur), CU_PASSWORD_OK);

	cu_password_params_default(&cur);
	cur.pp_time_cost = 3;
	assert_int_equal(verify_vector(v, &cur), CU_PASSWORD_OK_REHASH);
	assert_int_equal(verify_vector(w, &cur), CU_PASSWORD_OK);

	cu_password_params_default(&cur);
	cur.pp_parallelism = 2;
	assert_int_equal(verify_vector(v, &cur), CU_PASSWORD_OK_REHASH);
	assert_int_equal(verify_vector(w, &cur), CU_PASSWORD_OK);

	cur.pp_memory_kib = 65536;
	cur.pp_time_cost = 3;
	cur.pp_parallelism = 4;
	assert_int_equal(verify_vector(w, &cur), CU_PASSWORD_OK);
	cur.pp_parallelism = 5;
	assert_int_equal(verify_vector(w, &cur), CU_PASSWORD_OK_REHASH);

	/* Weaker current parameters never make an argon2i hash current. */
	cur.pp_memory_kib = 8;
	cur.pp_time_cost = 1;
	cur.pp_parallelism = 1;
	assert_int_equal(verify_vector(v, &cur), CU_PASSWORD_OK);
	assert_int_equal(verify_vector(i, &cur), CU_PASSWORD_OK_REHASH);
}

/* Checks that encoded has the layout of Django's Argon2PasswordHasher for m, t, p, with a
 * 16-byte salt and a 32-byte hash in unpadded standard base64. */
static void
assert_django_layout(const char *encoded, const struct cu_password_params *p)
{
	char prefix[96];
	const char *s, *h;
	int n;

	n = snprintf(prefix, sizeof(prefix), "argon2$argon2id$v=19$m=%u,t=%u,p=%u$",
	             (unsigned int)p->pp_memory_kib, (unsigned int)p->pp_time_cost,
	             (unsigned int)p->pp_parallelism);
	assert_true(n > 0 && (size_t)n < sizeof(prefix));
	assert_int_equal(strncmp(encoded, prefix, (size_t)n), 0);
	s = encoded + n;
	assert_int_equal(strspn(s, b64_alphabet), 22); /* 16 bytes */
	assert_int_equal(s[22], '$');
	h = s + 23;
	assert_int_equal(strspn(h, b64_alphabet), 43); /* 32 bytes */
	assert_int_equal(h[43], '\0');
	/* The bits past the last byte are zero, as Django's decoder wants. */
	assert_int_equal((strchr(b64_alphabet, s[21]) - b64_alphabet) & 0xf, 0);
	assert_int_equal((strchr(b64_alphabet, h[42]) - b64_alphabet) & 0x3, 0);
	assert_true(strlen(encoded) < CU_PASSWORD_MAX_ENCODED);
}

/*
 * What cu_password_hash writes is laid out as the hash Django accepted from it (the "written by
 * cu_password_hash" vectors) and as argon2-cffi writes with a 16-byte salt, and verifies.
 */
static void
test_hash_layout(void **state)
{
	const struct pw_vector *made =
	    vector_named("written by cu_password_hash 2, right password");
	const struct pw_vector *cffi = vector_named("argon2id raw 16-byte salt, right password");
	struct cu_password_params def;
	char out[CU_PASSWORD_MAX_ENCODED], again[CU_PASSWORD_MAX_ENCODED];
	const char *pw = "correct horse battery staple";

	(void)state;
	cu_password_params_default(&def);
	assert_int_equal(def.pp_memory_kib, 19456);
	assert_int_equal(def.pp_time_cost, 2);
	assert_int_equal(def.pp_parallelism, 1);

	assert_int_equal(cu_password_hash(out, sizeof(out), pw, strlen(pw), &def), 0);
	assert_django_layout(out, &def);
	assert_django_layout(made->pv_encoded, &def);
	assert_django_layout(cffi->pv_encoded, &def);
	assert_int_equal(cu_password_verify(out, pw, strlen(pw), &def), CU_PASSWORD_OK);
	assert_int_equal(cu_password_verify(out, pw, strlen(pw) - 1, &def), CU_PASSWORD_MISMATCH);
	assert_int_equal(cu_password_verify(out, "", 0, &def), CU_PASSWORD_MISMATCH);

	/* A fresh salt each time. */
	assert_int_equal(cu_password_hash(again, sizeof(again), pw, strlen(pw), NULL), 0);
	assert_django_layout(again, &def);
	assert_string_not_equal(out, again);
	assert_int_equal(cu_password_verify(again, pw, strlen(pw), NULL), CU_PASSWORD_OK);
}

static void
test_hash_params(void **state)
{
	struct cu_password_params p = {8192, 3, 2}, def;
	char out[CU_PASSWORD_MAX_ENCODED];

	(void)state;
	cu_password_params_default(&def);
	assert_int_equal(cu_password_hash(out, sizeof(out), "pw", 2, &p), 0);
	assert_django_layout(out, &p);
	assert_int_equal(cu_password_verify(out, "pw", 2, &p), CU_PASSWORD_OK);
	/* Weaker memory than the defaults: matches, asks for a rehash. */
	assert_int_equal(cu_password_verify(out, "pw", 2, &def), CU_PASSWORD_OK_REHASH);
	assert_int_equal(cu_password_verify(out, "pW", 2, &def), CU_PASSWORD_MISMATCH);

	/* The caps on stored hashes also bound what is written. */
	p = (struct cu_password_params){(1U << 20) + 1, 1, 1};
	assert_int_equal(cu_password_hash(out, sizeof(out), "pw", 2, &p), -1);
	assert_string_equal(out, "");
	p = (struct cu_password_params){64, 101, 1};
	assert_int_equal(cu_password_hash(out, sizeof(out), "pw", 2, &p), -1);
	p = (struct cu_password_params){1024, 1, 65};
	assert_int_equal(cu_password_hash(out, sizeof(out), "pw", 2, &p), -1);
	/* And what argon2 refuses: no pass, too little memory for the lanes. */
	p = (struct cu_password_params){1024, 0, 1};
	assert_int_equal(cu_password_hash(out, sizeof(out), "pw", 2, &p), -1);
	p = (struct cu_password_params){8, 1, 2};
	assert_int_equal(cu_password_hash(out, sizeof(out), "pw", 2, &p), -1);
	assert_string_equal(out, "");
}

/* Passwords of every kind survive the round trip, and a change of one byte does not. */
static void
test_hash_roundtrip(void **state)
{
	static const struct {
		const char *pw;
		size_t len;
	} cases[] = {
	    {"", 0},
	    {"a", 1},
	    {"p\303\244ssw\303\266rd \342\234\223", 14},
	    {"a\0b", 3},
	    {"\377\376\0\001", 4},
	};
	struct cu_password_params p = {1024, 2, 1};
	char out[CU_PASSWORD_MAX_ENCODED], changed[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].len;

		assert_int_equal(cu_password_hash(out, sizeof(out), cases[i].pw, n, &p), 0);
		assert_int_equal(cu_password_verify(out, cases[i].pw, n, &p), CU_PASSWORD_OK);
		if (n > 0) {
			memcpy(changed, cases[i].pw, n);
			changed[n - 1] ^= 1;
			assert_int_equal(cu_password_verify(out, changed, n, &p),
			                 CU_PASSWORD_MISMATCH);
			assert_int_equal(cu_password_verify(out, cases[i].pw, n - 1, &p),
			                 CU_PASSWORD_MISMATCH);
		}
		assert_int_equal(cu_password_verify(out, cases[i].pw, n + 1, &p),
		                 CU_PASSWORD_MISMATCH);
	}
	/* NULL with length 0 is the empty password. */
	assert_int_equal(cu_password_hash(out, sizeof(out), NULL, 0, &p), 0);
	assert_int_equal(cu_password_verify(out, "", 0, &p), CU_PASSWORD_OK);
	assert_int_equal(cu_password_verify(out, NULL, 0, &p), CU_PASSWORD_OK);
	assert_int_equal(cu_password_verify(out, NULL, 1, &p), CU_PASSWORD_MISMATCH);
	assert_int_equal(cu_password_hash(out, sizeof(out), NULL, 1, &p), -1);
}

/* CU_PASSWORD_MAX_LEN bytes are taken, one more is refused by both functions. */
static void
test_max_len(void **state)
{
	struct cu_password_params p = {1024, 1, 1};
	char out[CU_PASSWORD_MAX_ENCODED];
	char *pw = cu_malloc(CU_PASSWORD_MAX_LEN + 1);

	(void)state;
	memset(pw, 'a', CU_PASSWORD_MAX_LEN + 1);
	assert_int_equal(cu_password_hash(out, sizeof(out), pw, CU_PASSWORD_MAX_LEN + 1, &p), -1);
	assert_string_equal(out, "");
	assert_int_equal(cu_password_hash(out, sizeof(out), pw, CU_PASSWORD_MAX_LEN, &p), 0);
	assert_int_equal(cu_password_verify(out, pw, CU_PASSWORD_MAX_LEN, &p), CU_PASSWORD_OK);
	assert_int_equal(cu_password_verify(out, pw, CU_PASSWORD_MAX_LEN + 1, &p),
	                 CU_PASSWORD_MISMATCH);
	assert_int_equal(cu_password_verify(out, pw, SIZE_MAX, &p), CU_PASSWORD_MISMATCH);
	cu_free(pw);
}

static void
test_hash_small_buffer(void **state)
{
	char out[CU_PASSWORD_MAX_ENCODED];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(cu_password_hash(out, CU_PASSWORD_MAX_ENCODED - 1, "pw", 2, NULL), -1);
	assert_string_equal(out, "");
	assert_int_equal(cu_password_hash(NULL, sizeof(out), "pw", 2, NULL), -1);
}

static void
test_usable(void **state)
{
	const struct pw_vector *v = vector_named("argon2id m=19456 t=2 p=1 ascii, right password");
	char bang[CU_PASSWORD_MAX_ENCODED + 1];

	(void)state;
	assert_false(cu_password_usable(NULL));
	assert_false(cu_password_usable(""));
	assert_false(cu_password_usable("!"));
	assert_false(cu_password_usable("!Ocg8Ry6hxOGSDhs5qOzd07mT5KwKQfHkITB2cPek"));
	assert_true(cu_password_usable(v->pv_encoded));
	assert_true(cu_password_usable("x"));

	/* An unusable hash matches nothing, even the password behind the '!'. */
	bang[0] = '!';
	memcpy(bang + 1, v->pv_encoded, strlen(v->pv_encoded) + 1);
	assert_int_equal(cu_password_verify(bang, v->pv_password, v->pv_len, NULL),
	                 CU_PASSWORD_MISMATCH);
	assert_int_equal(cu_password_verify(NULL, "", 0, NULL), CU_PASSWORD_MISMATCH);
	assert_int_equal(cu_password_verify("", "", 0, NULL), CU_PASSWORD_MISMATCH);
	assert_int_equal(cu_password_verify("!", "", 0, NULL), CU_PASSWORD_MISMATCH);
}

/* A stored encoding far past any real one is refused unread. */
static void
test_stored_too_long(void **state)
{
	static const char head[] = "argon2$argon2id$v=19$m=1024,t=1,p=1$";
	size_t n = 1 << 20, k = sizeof(head) - 1;
	char *enc = cu_malloc(n + 1);

	(void)state;
	memcpy(enc, head, k);
	memset(enc + k, 'A', n - k);
	enc[n] = '\0';
	assert_int_equal(cu_password_verify(enc, "pw", 2, NULL), CU_PASSWORD_MISMATCH);
	cu_free(enc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),         cmocka_unit_test(test_vectors_default_current),
	    cmocka_unit_test(test_rehash_decision), cmocka_unit_test(test_hash_layout),
	    cmocka_unit_test(test_hash_params),     cmocka_unit_test(test_hash_roundtrip),
	    cmocka_unit_test(test_max_len),         cmocka_unit_test(test_hash_small_buffer),
	    cmocka_unit_test(test_usable),          cmocka_unit_test(test_stored_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
