/*
 * The password hasher alone: argon2id verifications per second through cu_password_verify (what
 * a password login costs), on PROCESSES processes for SECONDS, with the given parameters.
 * usage: hash_rate SECONDS PROCESSES MEMORY_KIB TIME_COST PARALLELISM
 * Prints "hashes N seconds S".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "password.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const char pw[] = "bench-password-1";
	struct cu_password_params p;
	char encoded[CU_PASSWORD_MAX_ENCODED];
	double secs, t0;
	long procs, i, total = 0;
	int fds[2];

	if (argc != 6) {
		fprintf(stderr, "usage: %s SECONDS PROCESSES MEMORY_KIB TIME_COST PARALLELISM\n",
		        argv[0]);
		return 2;
	}
	secs = strtod(argv[1], NULL);
	procs = strtol(argv[2], NULL, 10);
	p.pp_memory_kib = (uint32_t)strtoul(argv[3], NULL, 10);
	p.pp_time_cost = (uint32_t)strtoul(argv[4], NULL, 10);
	p.pp_parallelism = (uint32_t)strtoul(argv[5], NULL, 10);
	if (procs < 1 || secs <= 0 ||
	    cu_password_hash(encoded, sizeof(encoded), pw, strlen(pw), &p) != 0 || pipe(fds) != 0)
		return 1;
	t0 = now_s();
	for (i = 0; i < procs; i++) {
		if (fork() == 0) {
			long n = 0;

			while (now_s() - t0 < secs) {
				if (cu_password_verify(encoded, pw, strlen(pw), &p) !=
				    CU_PASSWORD_OK)
					_exit(1);
				n++;
			}
			if (write(fds[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (i = 0; i < procs; i++) {
		long n = 0;

		if (read(fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n))
			total += n;
		wait(NULL);
	}
	printf("hashes %ld seconds %.2f\n", total, now_s() - t0);
	return 0;
}
