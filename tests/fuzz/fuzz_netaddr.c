/*
 * cu_netaddr_client on arbitrary REMOTE_ADDR and X-Forwarded-For values (the header is the
 * client's to write). Invariant: the answer is NULL or a valid address that appears in the
 * input; a peer outside the trusted list is always its own answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRUSTED "127.0.0.0/8,10.0.0.0/8,::1/128,fe80::/10"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *nl, out[64];
	const char *remote, *xff, *ip;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	remote = buf;
	xff = NULL;
	if (nl != NULL) {
		*nl = '\0';
		xff = nl + 1;
	}
	ip = cu_netaddr_client(out, sizeof(out), remote, xff, TRUSTED);
	if (ip != NULL) {
		if (!cu_netaddr_valid(ip))
			abort();
		if (!cu_netaddr_in_list(remote, TRUSTED) && strcmp(ip, remote) != 0)
			abort();
		if (strstr(remote, ip) == NULL && (xff == NULL || strstr(xff, ip) == NULL))
			abort();
	}
	free(buf);
	return 0;
}
