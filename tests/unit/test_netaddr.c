// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/netaddr.c: IP prefixes and MAC addresses as text.
 * Parsing is strict (the whole string, digits only in the length, unicast
 * non-zero MACs) and formatting round-trips through parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "../../service/netaddr.h"
#include "support.h"

static void test_prefix_round_trip(void **state)
{
	static const char *const ok[] = {
		"198.18.0.1/24",
		"198.18.0.0/15",
		"198.19.255.255/32",
		"10.0.0.1/1",
		"2001:db8::1/64",
		"2001:db8::/32",
		"::1/128",
		"fe80::1/10",
		"::/1",
		"2001:db8:0:1:2:3:4:5/127",
		"::ffff:198.18.0.1/96",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct ip_prefix p, q;
		char buf[PREFIX_STR_MAX];
		const char *why = NULL;

		if (prefix_parse(ok[i], &p, &why) != 0)
			fail_msg("\"%s\" refused: %s", ok[i], why);
		prefix_format(&p, buf);
		assert_string_equal(buf, ok[i]);
		assert_int_equal(prefix_parse(buf, &q, &why), 0);
		assert_true(prefix_equal(&p, &q));
	}
}

static void test_prefix_fields(void **state)
{
	struct ip_prefix p;
	const char *why;
	char buf[PREFIX_STR_MAX];
	uint8_t v4[4] = { 198, 18, 0, 1 };
	uint8_t v6[16];

	(void)state;
	assert_int_equal(prefix_parse("198.18.0.1/24", &p, &why), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr, v4, 4);

	assert_int_equal(prefix_parse("2001:DB8::1/64", &p, &why), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 64);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", v6), 1);
	assert_memory_equal(p.addr, v6, 16);
	/* The canonical text form is lower case and compressed. */
	prefix_format(&p, buf);
	assert_string_equal(buf, "2001:db8::1/64");

	assert_int_equal(prefix_parse("2001:0db8:0000:0000:0000:0000:0000:0001/128", &p, &why), 0);
	prefix_format(&p, buf);
	assert_string_equal(buf, "2001:db8::1/128");
}

static void test_prefix_rejections(void **state)
{
	static const char *const bad[] = {
		"198.18.0.1",	     /* no slash */
		"2001:db8::1",	     /* no slash */
		"/24",		     /* no address */
		"",		     /* nothing */
		"198.18.0.256/24",   /* bad octet */
		"198.18.0/24",	     /* short dotted quad */
		"198.18.0.1.2/24",   /* long dotted quad */
		"hello/24",	     /* not an address */
		" 198.18.0.1/24",    /* leading space */
		"198.18.0.1 /24",    /* space before the slash */
		"2001:db8::1::2/64", /* two "::" */
		"2001:db8::g/64",    /* bad hex */
		"198.18.0.1/0",	     /* /0 */
		"198.18.0.1/33",     /* /33 */
		"2001:db8::1/0",     /* /0 */
		"2001:db8::1/129",   /* /129 */
		"198.18.0.1/+24",    /* sign */
		"198.18.0.1/-1",     /* sign */
		"198.18.0.1/ 24",    /* space */
		"198.18.0.1/24 ",    /* trailing space */
		"198.18.0.1/0x18",   /* hex */
		"198.18.0.1/24x",    /* trailing junk */
		"198.18.0.1/24/24",  /* two lengths */
		"198.18.0.1/",	     /* empty length */
		"198.18.0.1/1000",   /* too many digits */
		"198.18.0.1/2e1",    /* exponent */
		"0000000000000000000000000000000000000000000000000001.2.3.4/24", /* too long */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ip_prefix p;
		const char *why = NULL;

		if (prefix_parse(bad[i], &p, &why) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(why);
		assert_true(strlen(why) > 0);
	}
}

static void test_prefix_length_reasons(void **state)
{
	struct ip_prefix p;
	const char *why;

	(void)state;
	assert_int_equal(prefix_parse("198.18.0.1/33", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "1..32"));
	assert_int_equal(prefix_parse("198.18.0.1/0", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "1..32"));
	assert_int_equal(prefix_parse("2001:db8::1/129", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "1..128"));
	assert_int_equal(prefix_parse("198.18.0.1", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "ADDRESS/LENGTH"));
	assert_int_equal(prefix_parse("bogus/24", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "not an IPv4 or IPv6 address"));
	assert_int_equal(prefix_parse("198.18.0.1/+24", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "decimal"));
	/* The upper bounds themselves are fine. */
	assert_int_equal(prefix_parse("198.18.0.1/32", &p, &why), 0);
	assert_int_equal(prefix_parse("2001:db8::1/128", &p, &why), 0);
}

static void test_prefix_equal(void **state)
{
	struct ip_prefix a, b;
	const char *why;

	(void)state;
	assert_int_equal(prefix_parse("198.18.0.1/24", &a, &why), 0);
	assert_int_equal(prefix_parse("198.18.0.1/24", &b, &why), 0);
	assert_true(prefix_equal(&a, &b));
	assert_int_equal(prefix_parse("198.18.0.1/25", &b, &why), 0);
	assert_false(prefix_equal(&a, &b));
	assert_int_equal(prefix_parse("198.18.0.2/24", &b, &why), 0);
	assert_false(prefix_equal(&a, &b));
	/* The same 32 bits as an IPv4-mapped IPv6 address are another family. */
	assert_int_equal(prefix_parse("::ffff:198.18.0.1/24", &b, &why), 0);
	assert_false(prefix_equal(&a, &b));
	assert_int_equal(prefix_parse("2001:db8::1/64", &a, &why), 0);
	assert_int_equal(prefix_parse("2001:db8::2/64", &b, &why), 0);
	assert_false(prefix_equal(&a, &b));
}

static void test_mac_parse_ok(void **state)
{
	static const uint8_t want[6] = { 0x02, 0xab, 0xcd, 0xef, 0x00, 0x01 };
	uint8_t mac[6];
	char buf[MAC_STR_MAX];
	const char *why;

	(void)state;
	assert_int_equal(mac_parse("02:ab:cd:ef:00:01", mac, &why), 0);
	assert_memory_equal(mac, want, 6);
	/* Case does not matter on input; output is lower case. */
	assert_int_equal(mac_parse("02:AB:Cd:eF:00:01", mac, &why), 0);
	assert_memory_equal(mac, want, 6);
	mac_format(mac, buf);
	assert_string_equal(buf, "02:ab:cd:ef:00:01");
	/* Unicast with a zero first octet, and locally administered ones. */
	assert_int_equal(mac_parse("00:00:00:00:00:01", mac, &why), 0);
	assert_int_equal(mac_parse("fe:ff:ff:ff:ff:ff", mac, &why), 0);
	mac_format(mac, buf);
	assert_string_equal(buf, "fe:ff:ff:ff:ff:ff");
}

static void test_mac_rejections(void **state)
{
	static const struct {
		const char *text, *reason;
	} bad[] = {
		{ "01:00:5e:00:00:01", "unicast" }, /* IPv4 multicast */
		{ "33:33:00:00:00:01", "unicast" }, /* IPv6 multicast */
		{ "ff:ff:ff:ff:ff:ff", "unicast" }, /* broadcast */
		{ "03:00:00:00:00:01", "unicast" }, /* low bit set */
		{ "00:00:00:00:00:00", "zeros" },	{ "02-00-00-00-00-01", "hex octets" },
		{ "02.00.00.00.00.01", "hex octets" },	{ "02:00:00:00:00-01", "hex octets" },
		{ "02:00:00:00:00 01", "hex octets" },	{ "0200:00:00:00:001", "hex octets" },
		{ "02:00:00:00:00:0g", "hex octets" },	{ "x2:00:00:00:00:01", "hex octets" },
		{ "2:00:00:00:00:01", "hex octets" },	{ "02:00:00:00:00:01:", "hex octets" },
		{ "02:00:00:00:00:001", "hex octets" }, { " 02:00:00:00:00:01", "hex octets" },
		{ "02:00:00:00:00", "hex octets" },	{ "", "hex octets" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t mac[6];
		const char *why = NULL;

		if (mac_parse(bad[i].text, mac, &why) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i].text);
		assert_non_null(why);
		if (!strstr(why, bad[i].reason))
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", bad[i].text, why,
				 bad[i].reason);
	}
}

static void test_mac_round_trip(void **state)
{
	(void)state;
	for (unsigned seed = 0; seed < 64; seed++) {
		uint8_t mac[6], back[6];
		char buf[MAC_STR_MAX];
		const char *why;

		frame_fill(mac, 6, seed);
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, local */
		mac_format(mac, buf);
		assert_int_equal(strlen(buf), 17);
		assert_int_equal(mac_parse(buf, back, &why), 0);
		assert_memory_equal(mac, back, 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_round_trip),
		cmocka_unit_test(test_prefix_fields),
		cmocka_unit_test(test_prefix_rejections),
		cmocka_unit_test(test_prefix_length_reasons),
		cmocka_unit_test(test_prefix_equal),
		cmocka_unit_test(test_mac_parse_ok),
		cmocka_unit_test(test_mac_rejections),
		cmocka_unit_test(test_mac_round_trip),
	};

	return cmocka_run_group_tests_name("netaddr", tests, NULL, NULL);
}
