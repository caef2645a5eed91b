/* lib/netaddr.c: CIDR membership and whose X-Forwarded-For is believed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "netaddr.h"

#define TRUSTED "127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fe80::/10,::1/128"

static void
test_in_list(void **state)
{
	(void)state;
	assert_true(cu_netaddr_in_list("127.0.0.1", TRUSTED));
	assert_true(cu_netaddr_in_list("10.255.0.1", TRUSTED));
	assert_true(cu_netaddr_in_list("172.31.255.255", TRUSTED));
	assert_false(cu_netaddr_in_list("172.32.0.1", TRUSTED));
	assert_false(cu_netaddr_in_list("8.8.8.8", TRUSTED));
	assert_true(cu_netaddr_in_list("::1", TRUSTED));
	assert_false(cu_netaddr_in_list("::2", TRUSTED));
	assert_true(cu_netaddr_in_list("fe80::1", TRUSTED));
	assert_true(cu_netaddr_in_list("febf::1", TRUSTED));
	assert_false(cu_netaddr_in_list("fec0::1", TRUSTED));
	/* v4-mapped v6 is the v4 address. */
	assert_true(cu_netaddr_in_list("::ffff:127.0.0.1", TRUSTED));
	assert_false(cu_netaddr_in_list("::ffff:8.8.8.8", TRUSTED));
	/* Bare addresses are /32 and /128; spaces around entries are fine. */
	assert_true(cu_netaddr_in_list("192.0.2.7", " 192.0.2.7 , 2001:db8::1"));
	assert_true(cu_netaddr_in_list("2001:db8::1", "192.0.2.7, 2001:db8::1"));
	assert_true(cu_netaddr_in_list("1.2.3.4", "0.0.0.0/0"));
	assert_false(cu_netaddr_in_list("::1", "0.0.0.0/0"));
	/* Garbage matches nothing. */
	assert_false(cu_netaddr_in_list("127.0.0.1", "127.0.0.0/33"));
	assert_false(cu_netaddr_in_list("127.0.0.1", "127.0.0.0/x"));
	assert_false(cu_netaddr_in_list("127.0.0.1", "127.0.0.0/"));
	assert_false(cu_netaddr_in_list("127.0.0.1", "localhost"));
	assert_false(cu_netaddr_in_list("not an address", TRUSTED));
	assert_false(cu_netaddr_in_list(NULL, TRUSTED));
	assert_false(cu_netaddr_in_list("127.0.0.1", ""));
	/* Prefixes that are not byte-aligned. */
	assert_true(cu_netaddr_in_list("192.168.1.129", "192.168.1.128/25"));
	assert_false(cu_netaddr_in_list("192.168.1.127", "192.168.1.128/25"));
}

static const char *
client(const char *remote, const char *xff)
{
	static char out[64];

	return cu_netaddr_client(out, sizeof(out), remote, xff, TRUSTED);
}

static void
test_client(void **state)
{
	(void)state;
	/* An untrusted peer's header is ignored: anyone can write one. */
	assert_string_equal(client("203.0.113.5", "1.1.1.1"), "203.0.113.5");
	assert_string_equal(client("203.0.113.5", NULL), "203.0.113.5");
	/* A trusted proxy: the right-most address it was not told by another proxy. */
	assert_string_equal(client("127.0.0.1", "198.51.100.9"), "198.51.100.9");
	assert_string_equal(client("127.0.0.1", "6.6.6.6, 198.51.100.9"), "198.51.100.9");
	assert_string_equal(client("127.0.0.1", "6.6.6.6, 198.51.100.9, 10.0.0.2"), "198.51.100.9");
	assert_string_equal(client("127.0.0.1", " 2001:db8::5 "), "2001:db8::5");
	/* Only proxies all the way: the left-most of them. */
	assert_string_equal(client("127.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
	/* Garbage stops the walk at the last address believed. */
	assert_string_equal(client("127.0.0.1", "evil, 10.0.0.2"), "10.0.0.2");
	assert_string_equal(client("127.0.0.1", "<script>"), "127.0.0.1");
	assert_string_equal(client("127.0.0.1", ""), "127.0.0.1");
	assert_null(client("nonsense", "1.1.1.1"));
	assert_null(client(NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_list),
	    cmocka_unit_test(test_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
