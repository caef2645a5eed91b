/*
 * Password hashing. New hashes are argon2id in Django's encoding, the one authentik stores
 * ("argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", unpadded base64), so a database moved
 * between custos and authentik keeps working both ways. Verification also accepts what
 * authentik (Django) may hold: "pbkdf2_sha256$<iterations>$<salt>$<base64 hash>",
 * "pbkdf2_sha1$...", "argon2$argon2i$..." / "argon2$argon2id$...", "bcrypt_sha256$$2b$..."
 * (bcrypt over the hex SHA-256 of the password) and "bcrypt$$2b$...". A hash starting with '!'
 * or empty is unusable: no password matches it.
 */
#ifndef CU_PASSWORD_H
#define CU_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

/* Longest encoding cu_password_hash writes, with its NUL. */
#define CU_PASSWORD_MAX_ENCODED 256
/* Longest password accepted, in bytes: longer ones are refused before any hashing. */
#define CU_PASSWORD_MAX_LEN 4096

struct cu_password_params {
	uint32_t pp_memory_kib;  /* argon2 m: 19456 (19 MiB) by default */
	uint32_t pp_time_cost;   /* argon2 t: 2 */
	uint32_t pp_parallelism; /* argon2 p: 1 */
};

/* The defaults above (OWASP's argon2id minimum). */
void cu_password_params_default(struct cu_password_params *p);

/*
 * Hashes pw (len bytes) with argon2id and a fresh 16-byte salt into out (outlen bytes, at least
 * CU_PASSWORD_MAX_ENCODED). -1 when pw is longer than CU_PASSWORD_MAX_LEN or hashing fails.
 */
int cu_password_hash(char *out, size_t outlen, const char *pw, size_t len,
                     const struct cu_password_params *p) __attribute__((warn_unused_result));

enum cu_password_result {
	CU_PASSWORD_MISMATCH = 0, /* wrong password, unusable or malformed hash */
	CU_PASSWORD_OK,           /* matches, and the hash is current */
	CU_PASSWORD_OK_REHASH,    /* matches, but another algorithm or weaker parameters: rehash */
};

/*
 * Checks pw against encoded in time that does not depend on where the two differ. current is
 * what cu_password_hash would use now: an argon2id hash with weaker parameters asks for a
 * rehash, as does every other algorithm.
 */
enum cu_password_result cu_password_verify(const char *encoded, const char *pw, size_t len,
                                           const struct cu_password_params *current)
    __attribute__((warn_unused_result));

/* 1 when some password could match encoded (not empty, not starting with '!'). */
int cu_password_usable(const char *encoded);

#endif
