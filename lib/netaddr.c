#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct addr {
	int ad_family; /* AF_INET or AF_INET6; v4-mapped v6 is folded to AF_INET */
	unsigned char ad_bytes[16];
};

static int
parse_addr(const char *s, size_t n, struct addr *a)
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a->ad_bytes) == 1) {
		a->ad_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->ad_bytes) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		a->ad_family = AF_INET6;
		if (memcmp(a->ad_bytes, mapped, sizeof(mapped)) == 0) {
			memmove(a->ad_bytes, a->ad_bytes + 12, 4);
			a->ad_family = AF_INET;
		}
		return 0;
	}
	return -1;
}

static int
in_cidr(const struct addr *a, const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	struct addr net;
	long bits;
	int max, i;
	char *end;
	char num[8];

	if (parse_addr(s, slash != NULL ? (size_t)(slash - s) : n, &net) != 0)
		return 0;
	max = net.ad_family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		size_t len = n - (size_t)(slash - s) - 1;

		if (len == 0 || len >= sizeof(num))
			return 0;
		memcpy(num, slash + 1, len);
		num[len] = '\0';
		bits = strtol(num, &end, 10);
		if (*end != '\0' || bits < 0 || bits > max)
			return 0;
	}
	if (net.ad_family != a->ad_family)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (a->ad_bytes[i] != net.ad_bytes[i])
			return 0;
	if (bits % 8 != 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));

		if ((a->ad_bytes[i] & mask) != (net.ad_bytes[i] & mask))
			return 0;
	}
	return 1;
}

static int
addr_in_list(const struct addr *a, const char *list)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ','), *end = comma != NULL ? comma : p + strlen(p);

		while (p < end && *p == ' ')
			p++;
		while (end > p && end[-1] == ' ')
			end--;
		if (end > p && in_cidr(a, p, (size_t)(end - p)))
			return 1;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return 0;
}

int
cu_netaddr_in_list(const char *addr, const char *list)
{
	struct addr a;

	if (addr == NULL || list == NULL || parse_addr(addr, strlen(addr), &a) != 0)
		return 0;
	return addr_in_list(&a, list);
}

int
cu_netaddr_valid(const char *s)
{
	struct addr a;

	return s != NULL && parse_addr(s, strlen(s), &a) == 0;
}

const char *
cu_netaddr_client(char *out, size_t outlen, const char *remote, const char *xff,
                  const char *trusted)
{
	const char *end;

	if (remote == NULL || !cu_netaddr_valid(remote) || outlen < 64)
		return NULL;
	snprintf(out, outlen, "%s", remote);
	if (xff == NULL || !cu_netaddr_in_list(remote, trusted))
		return out;
	/* Right to left: each hop a trusted proxy appended; the first untrusted one is the
	 * client. Anything left of it could have been written by the client itself. */
	end = xff + strlen(xff);
	while (end > xff) {
		const char *start = end;
		struct addr a;
		const char *s, *e;

		while (start > xff && start[-1] != ',')
			start--;
		s = start;
		e = end;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		if (parse_addr(s, (size_t)(e - s), &a) != 0)
			return out; /* garbage: believe only the peer */
		snprintf(out, outlen, "%.*s", (int)(e - s), s);
		if (!addr_in_list(&a, trusted))
			return out;
		end = start > xff ? start - 1 : xff;
	}
	return out;
}
