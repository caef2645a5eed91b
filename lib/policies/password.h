/*
 * Password policies (lib/policies/password.c): the pure checks, callable without a request
 * (unit tests).
 */
#ifndef CU_POLICIES_PASSWORD_H
#define CU_POLICIES_PASSWORD_H

/* authentik's default symbol_charset. */
#define CU_PASSWORD_SYMBOLS_DEFAULT "!\\\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "

struct cu_password_rules {
	long long pr_length_min;
	long long pr_amount_digits;
	long long pr_amount_lowercase;
	long long pr_amount_uppercase;
	long long pr_amount_symbols;
	const char *pr_symbol_charset;
};

/* 1 when password (UTF-8; lengths count code points as Python does) meets every rule. */
int cu_policy_password_static(const char *password, const struct cu_password_rules *r);

/* zxcvbn's 0-4 score of password's first 72 characters; user_inputs NULL-terminated (may be
 * NULL). */
int cu_policy_password_zxcvbn_score(const char *password, const char *const *user_inputs);

/* 1 when password is a line of the breached list at path (read once per process); 0 when not,
 * or when path is NULL or empty. */
int cu_policy_password_breached(const char *path, const char *password);

#endif
