/* IP addresses and CIDR ranges, for deciding whose X-Forwarded-For to believe. */
#ifndef CU_NETADDR_H
#define CU_NETADDR_H

#include <stddef.h>

/* 1 when addr (IPv4, IPv6, or IPv4-mapped IPv6 text) lies in one of the comma-separated CIDRs
 * of list ("127.0.0.0/8,::1/128"); 0 otherwise, also when addr or an entry does not parse. */
int cu_netaddr_in_list(const char *addr, const char *list);

/* 1 when s is an IPv4 or IPv6 address in text form. */
int cu_netaddr_valid(const char *s);

/*
 * The client's address: remote (the peer that connected, REMOTE_ADDR), unless remote is a
 * trusted proxy and xff (X-Forwarded-For, may be NULL) names others; then the right-most
 * address in xff that is not itself a trusted proxy. Returns a pointer into out (outlen bytes,
 * at least 64) or NULL when nothing valid is known.
 */
const char *cu_netaddr_client(char *out, size_t outlen, const char *remote, const char *xff,
                              const char *trusted);

#endif
