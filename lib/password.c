#include "password.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <crypt.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "mem.h"

/*
 * Limits on what a stored hash may ask for. A stored hash is data from the database, so its
 * cost parameters are capped: anything above is refused as a mismatch rather than run.
 */
#define PW_STORED_MAX 1024          /* longest stored encoding looked at, in bytes */
#define PW_ARGON2_M_MAX (1U << 20)  /* KiB: 1 GiB */
#define PW_ARGON2_T_MAX 100U        /* passes */
#define PW_ARGON2_P_MAX 64U         /* lanes */
#define PW_PBKDF2_ITER_MAX 10000000 /* iterations */
#define PW_BCRYPT_COST_MAX 16       /* 2^16 rounds, about 3 s */

/* What cu_password_hash writes. */
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

#define PW_BCRYPT_KEY_MAX 72 /* bcrypt reads no further */
#define PW_BCRYPT_LEN 60     /* "$2b$12$" + 22 salt + 31 checksum characters */
#define PW_BCRYPT_SETTING 29 /* the part of it crypt_r reads: prefix, cost, salt */

static const char pw_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
cu_password_params_default(struct cu_password_params *p)
{
	p->pp_memory_kib = 19456;
	p->pp_time_cost = 2;
	p->pp_parallelism = 1;
}

/* Advances *c past lit when the text starts with it. */
static int
pw_take(const char **c, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*c, lit, n) != 0)
		return 0;
	*c += n;
	return 1;
}

/*
 * A decimal number in 1..max in its one canonical spelling (no sign, no leading zero): the
 * encoders on both sides write it so, and a second spelling of the same hash is refused.
 */
static int
pw_take_u32(const char **c, uint32_t max, uint32_t *out)
{
	const char *s = *c;
	uint32_t v = 0;

	if (*s < '1' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint32_t d = (uint32_t)(*s - '0');

		if (v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*c = s;
	*out = v;
	return 1;
}

/* Appends the unpadded base64 of in[n] at out + *pos; -1 when it does not fit. */
static int
pw_b64_append(char *out, size_t outlen, size_t *pos, const uint8_t *in, size_t n)
{
	size_t padded = cu_base64_enc_len(n);

	if (outlen - *pos < padded + 1)
		return -1;
	cu_base64_encode(out + *pos, in, n);
	*pos += padded;
	while (*pos > 0 && out[*pos - 1] == '=')
		out[--*pos] = '\0';
	return 0;
}

/* Decodes unpadded base64 (in[n], n <= PW_STORED_MAX) into out, which holds n * 3 / 4 + 3. */
static int
pw_b64_decode(uint8_t *out, size_t *outlen, const char *in, size_t n)
{
	char padded[PW_STORED_MAX + 4];
	size_t k = n;

	if (n > PW_STORED_MAX || n % 4 == 1)
		return -1;
	memcpy(padded, in, n);
	while (k % 4 != 0)
		padded[k++] = '=';
	return cu_base64_decode(out, outlen, padded, k);
}

/*
 * Django's Argon2PasswordHasher encoding: "argon2" followed by the PHC string of argon2-cffi,
 * "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>", both in unpadded standard base64. Writing
 * and checking go through this one function, so every Django hash that verifies shows that
 * the hashes written here are spelled as Django spells them.
 */
static int
pw_argon2_encode(char *out, size_t outlen, argon2_type type, const struct cu_password_params *p,
                 const uint8_t *salt, size_t saltlen, const uint8_t *hash, size_t hashlen)
{
	size_t pos;
	int n;

	n = snprintf(out, outlen, "argon2$%s$v=19$m=%" PRIu32 ",t=%" PRIu32 ",p=%" PRIu32 "$",
	             argon2_type2string(type, 0), p->pp_memory_kib, p->pp_time_cost,
	             p->pp_parallelism);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	pos = (size_t)n;
	if (pw_b64_append(out, outlen, &pos, salt, saltlen) == -1 || outlen - pos < 2)
		return -1;
	out[pos++] = '$';
	out[pos] = '\0';
	return pw_b64_append(out, outlen, &pos, hash, hashlen);
}

static int
pw_argon2_params_ok(const struct cu_password_params *p)
{
	return p->pp_memory_kib <= PW_ARGON2_M_MAX && p->pp_time_cost <= PW_ARGON2_T_MAX &&
	       p->pp_parallelism <= PW_ARGON2_P_MAX;
}

int
cu_password_hash(char *out, size_t outlen, const char *pw, size_t len,
                 const struct cu_password_params *p)
{
	struct cu_password_params params;
	uint8_t salt[PW_SALT_LEN], hash[PW_HASH_LEN];
	int rc = -1;

	if (out == NULL)
		return -1;
	if (outlen > 0)
		out[0] = '\0';
	if (outlen < CU_PASSWORD_MAX_ENCODED)
		return -1;
	if (len > CU_PASSWORD_MAX_LEN || (pw == NULL && len != 0))
		return -1;
	if (p != NULL)
		params = *p;
	else
		cu_password_params_default(&params);
	if (!pw_argon2_params_ok(&params))
		return -1;

	cu_crypto_random(salt, sizeof(salt));
	if (argon2_hash(params.pp_time_cost, params.pp_memory_kib, params.pp_parallelism,
	                pw != NULL ? pw : "", len, salt, sizeof(salt), hash, sizeof(hash), NULL, 0,
	                Argon2_id, ARGON2_VERSION_13) != ARGON2_OK)
		goto out;
	if (pw_argon2_encode(out, outlen, Argon2_id, &params, salt, sizeof(salt), hash,
	                     sizeof(hash)) == -1)
		goto out;
	rc = 0;
out:
	cu_wipe(hash, sizeof(hash));
	if (rc == -1)
		out[0] = '\0';
	return rc;
}

/*
 * "argon2$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>" (or argon2i): the hash is computed again
 * with the stored parameters, salt and hash length, encoded again, and the two encodings are
 * compared in constant time. Only version 19 is taken: every Django version wrote it. argon2d
 * is taken as well, since Django's verifier (argon2-cffi) takes it; it always asks for a rehash.
 */
static enum cu_password_result
pw_verify_argon2(const char *encoded, size_t enclen, const char *c, const char *pw, size_t len,
                 const struct cu_password_params *cur)
{
	struct cu_password_params hp;
	uint8_t salt[PW_STORED_MAX / 4 * 3 + 3], hash[PW_STORED_MAX / 4 * 3 + 3];
	char again[PW_STORED_MAX + 1];
	const char *b64salt;
	size_t saltn, hashn, saltlen = 0, hashlen;
	argon2_type type;
	enum cu_password_result res = CU_PASSWORD_MISMATCH;

	again[0] = '\0';
	if (pw_take(&c, "argon2id$"))
		type = Argon2_id;
	else if (pw_take(&c, "argon2i$"))
		type = Argon2_i;
	else if (pw_take(&c, "argon2d$"))
		type = Argon2_d;
	else
		goto out;
	if (!pw_take(&c, "v=19$m=") || !pw_take_u32(&c, PW_ARGON2_M_MAX, &hp.pp_memory_kib) ||
	    !pw_take(&c, ",t=") || !pw_take_u32(&c, PW_ARGON2_T_MAX, &hp.pp_time_cost) ||
	    !pw_take(&c, ",p=") || !pw_take_u32(&c, PW_ARGON2_P_MAX, &hp.pp_parallelism) ||
	    !pw_take(&c, "$"))
		goto out;
	b64salt = c;
	saltn = strspn(c, pw_b64_chars);
	c += saltn;
	if (!pw_take(&c, "$"))
		goto out;
	hashn = strspn(c, pw_b64_chars);
	if (c[hashn] != '\0' || hashn % 4 == 1)
		goto out;
	if (pw_b64_decode(salt, &saltlen, b64salt, saltn) == -1)
		goto out;
	hashlen = hashn / 4 * 3 + (hashn % 4 != 0 ? hashn % 4 - 1 : 0);

	/* argon2 itself refuses a salt under 8 bytes, a hash under 4 and m below 8 * p. */
	if (argon2_hash(hp.pp_time_cost, hp.pp_memory_kib, hp.pp_parallelism, pw, len, salt,
	                saltlen, hash, hashlen, NULL, 0, type, ARGON2_VERSION_13) != ARGON2_OK)
		goto out;
	if (pw_argon2_encode(again, sizeof(again), type, &hp, salt, saltlen, hash, hashlen) == -1)
		goto out;
	if (!cu_crypto_ct_eq(again, strlen(again), encoded, enclen))
		goto out;
	if (type == Argon2_id && hp.pp_memory_kib >= cur->pp_memory_kib &&
	    hp.pp_time_cost >= cur->pp_time_cost && hp.pp_parallelism >= cur->pp_parallelism)
		res = CU_PASSWORD_OK;
	else
		res = CU_PASSWORD_OK_REHASH;
out:
	cu_wipe(hash, sizeof(hash));
	cu_wipe(again, sizeof(again));
	return res;
}

/*
 * "pbkdf2_sha256$<iterations>$<salt>$<base64 of the derived key>" (or pbkdf2_sha1): as Django
 * does, the salt is used as the text it is, the key is as long as the digest, and the stored
 * base64 (padded) is compared with the one computed.
 */
static enum cu_password_result
pw_verify_pbkdf2(const char *c, const EVP_MD *md, const char *pw, size_t len)
{
	uint8_t dk[EVP_MAX_MD_SIZE];
	char b64[(EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1];
	const char *salt;
	size_t saltn;
	uint32_t iter;
	int dklen = EVP_MD_get_size(md);
	enum cu_password_result res = CU_PASSWORD_MISMATCH;

	b64[0] = '\0';
	if (dklen <= 0 || dklen > EVP_MAX_MD_SIZE)
		goto out;
	if (!pw_take_u32(&c, PW_PBKDF2_ITER_MAX, &iter) || !pw_take(&c, "$"))
		goto out;
	salt = c;
	saltn = strcspn(c, "$");
	if (saltn == 0 || salt[saltn] != '$')
		goto out;
	c += saltn + 1;
	if (PKCS5_PBKDF2_HMAC(pw, (int)len, (const unsigned char *)salt, (int)saltn, (int)iter, md,
	                      dklen, dk) != 1)
		goto out;
	cu_base64_encode(b64, dk, (size_t)dklen);
	if (cu_crypto_ct_eq(b64, strlen(b64), c, strlen(c)))
		res = CU_PASSWORD_OK_REHASH;
out:
	cu_wipe(dk, sizeof(dk));
	cu_wipe(b64, sizeof(b64));
	return res;
}

/*
 * "bcrypt$" or "bcrypt_sha256$" followed by a 60-character bcrypt string. As Django (through
 * pyca/bcrypt) does: the key is the password cut at 72 bytes, or for bcrypt_sha256 the
 * lower-case hex SHA-256 of the whole password; a password holding a NUL byte is refused
 * (bcrypt reads a C string); "$2a$" and "$2y$" are computed as "$2b$" and keep their prefix.
 */
static enum cu_password_result
pw_verify_bcrypt(const char *c, int sha256, const char *pw, size_t len)
{
	char key[PW_BCRYPT_KEY_MAX + 1], setting[PW_BCRYPT_SETTING + 1];
	uint8_t digest[CU_SHA256_LEN];
	struct crypt_data *data = NULL;
	const char *h;
	unsigned int cost;
	enum cu_password_result res = CU_PASSWORD_MISMATCH;

	key[0] = '\0';
	if (strlen(c) != PW_BCRYPT_LEN)
		goto out;
	if (!(pw_take(&c, "$2b$") || pw_take(&c, "$2a$") || pw_take(&c, "$2y$")))
		goto out;
	if (c[0] < '0' || c[0] > '9' || c[1] < '0' || c[1] > '9' || c[2] != '$')
		goto out;
	cost = (unsigned int)(c[0] - '0') * 10 + (unsigned int)(c[1] - '0');
	if (cost > PW_BCRYPT_COST_MAX)
		goto out;

	if (sha256) {
		cu_crypto_sha256(digest, pw, len);
		cu_hex_encode(key, digest, sizeof(digest));
	} else {
		size_t n = len < PW_BCRYPT_KEY_MAX ? len : PW_BCRYPT_KEY_MAX;

		if (memchr(pw, '\0', len) != NULL)
			goto out;
		memcpy(key, pw, n);
		key[n] = '\0';
	}
	memcpy(setting, "$2b$", 4);
	memcpy(setting + 4, c, PW_BCRYPT_SETTING - 4);
	setting[PW_BCRYPT_SETTING] = '\0';

	/* 32 KiB, too much for a responder's stack. */
	data = cu_calloc(1, sizeof(*data));
	h = crypt_r(key, setting, data);
	if (h == NULL || strlen(h) != PW_BCRYPT_LEN || strncmp(h, "$2b$", 4) != 0)
		goto out;
	if (cu_crypto_ct_eq(h + 4, PW_BCRYPT_LEN - 4, c, PW_BCRYPT_LEN - 4))
		res = CU_PASSWORD_OK_REHASH;
out:
	if (data != NULL) {
		cu_wipe(data, sizeof(*data));
		cu_free(data);
	}
	cu_wipe(digest, sizeof(digest));
	cu_wipe(key, sizeof(key));
	return res;
}

enum cu_password_result
cu_password_verify(const char *encoded, const char *pw, size_t len,
                   const struct cu_password_params *current)
{
	struct cu_password_params cur;
	const char *c = encoded;
	size_t enclen;

	if (!cu_password_usable(encoded) || len > CU_PASSWORD_MAX_LEN || (pw == NULL && len != 0))
		return CU_PASSWORD_MISMATCH;
	if (pw == NULL)
		pw = "";
	enclen = strnlen(encoded, PW_STORED_MAX + 1);
	if (enclen > PW_STORED_MAX)
		return CU_PASSWORD_MISMATCH;
	if (current != NULL)
		cur = *current;
	else
		cu_password_params_default(&cur);

	if (pw_take(&c, "argon2$"))
		return pw_verify_argon2(encoded, enclen, c, pw, len, &cur);
	if (pw_take(&c, "pbkdf2_sha256$"))
		return pw_verify_pbkdf2(c, EVP_sha256(), pw, len);
	if (pw_take(&c, "pbkdf2_sha1$"))
		return pw_verify_pbkdf2(c, EVP_sha1(), pw, len);
	if (pw_take(&c, "bcrypt_sha256$"))
		return pw_verify_bcrypt(c, 1, pw, len);
	if (pw_take(&c, "bcrypt$"))
		return pw_verify_bcrypt(c, 0, pw, len);
	return CU_PASSWORD_MISMATCH;
}

int
cu_password_usable(const char *encoded)
{
	return encoded != NULL && encoded[0] != '\0' && encoded[0] != '!';
}
