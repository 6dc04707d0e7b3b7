// SPDX-License-Identifier: MIT
/*
 * Unit tests of cli/match.c, the MATCH shorthand of `pairctl bind`: every
 * keyword gives the match object the API documents for that node, numbers
 * are range-checked, junk is refused with a message naming it, and
 * match_format gives back a shorthand that match_parse turns into the same
 * object (so the bindings table shows what a user can type).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/match.h"

/* text parses to exactly the JSON object want. */
static void expect_match(const char *text, const char *want)
{
	json_t *got = NULL, *exp = json_loads(want, 0, NULL);
	char err[512] = "";
	int ret = match_parse(text, &got, err, sizeof(err));

	if (ret != 0)
		fail_msg("'%s' refused: %s", text, err);
	assert_non_null(exp);
	if (!json_equal(got, exp)) {
		char *s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("'%s' gave %s, expected %s", text, s, want);
	}
	json_decref(got);
	json_decref(exp);
}

/* text is refused, with a message that contains needle. */
static void expect_refused(const char *text, const char *needle)
{
	json_t *got = (json_t *)0x1;
	char err[512] = "";

	assert_int_equal(match_parse(text, &got, err, sizeof(err)), -EINVAL);
	assert_null(got);
	if (!strstr(err, needle))
		fail_msg("'%s': message '%s' does not say '%s'", text, err, needle);
}

static void test_keywords(void **state)
{
	(void)state;
	expect_match("any", "{}");
	expect_match("arp", "{\"ethertype\":2054}");
	expect_match("ipv4", "{\"ethertype\":2048}");
	expect_match("ip", "{\"ethertype\":2048}");
	expect_match("ipv6", "{\"ethertype\":34525}");
	expect_match("ip6", "{\"ethertype\":34525}");
	expect_match("icmp", "{\"ethertype\":2048,\"ip_protocol\":1}");
	expect_match("icmp6", "{\"ethertype\":34525,\"ip_protocol\":58}");
	expect_match("udp", "{\"ethertype\":2048,\"ip_protocol\":17}");
	expect_match("udp6", "{\"ethertype\":34525,\"ip_protocol\":17}");
	expect_match("tcp", "{\"ethertype\":2048,\"ip_protocol\":6}");
	expect_match("tcp6", "{\"ethertype\":34525,\"ip_protocol\":6}");
	/* Keywords are case-insensitive. */
	expect_match("UDP/53", "{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":53}");
	expect_match("ICMP6", "{\"ethertype\":34525,\"ip_protocol\":58}");
}

static void test_numbers(void **state)
{
	(void)state;
	expect_match("udp/53", "{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":53}");
	expect_match("udp6/53", "{\"ethertype\":34525,\"ip_protocol\":17,\"udp_port\":53}");
	expect_match("udp/0", "{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":0}");
	expect_match("udp/65535", "{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":65535}");
	expect_match("ethertype/0x88cc", "{\"ethertype\":35020}");
	expect_match("ethertype/0X88CC", "{\"ethertype\":35020}");
	expect_match("ethertype/2054", "{\"ethertype\":2054}");
	expect_match("ethertype/65535", "{\"ethertype\":65535}");
	expect_match("ip/47", "{\"ethertype\":2048,\"ip_protocol\":47}");
	expect_match("ip/255", "{\"ethertype\":2048,\"ip_protocol\":255}");
	expect_match("ip6/58", "{\"ethertype\":34525,\"ip_protocol\":58}");
	expect_match("ip/0x2f", "{\"ethertype\":2048,\"ip_protocol\":47}");
}

static void test_json(void **state)
{
	(void)state;
	expect_match("{}", "{}");
	expect_match("{\"ip_protocol\":17,\"udp_port\":9}", "{\"ip_protocol\":17,\"udp_port\":9}");
	expect_refused("{\"a\":1,\"a\":2}", "not a JSON object");
	expect_refused("{nope", "not a JSON object");
	expect_refused("[1]", "unknown MATCH");
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("", "unknown MATCH");
	expect_refused("dns", "unknown MATCH 'dns'");
	expect_refused("udp53", "unknown MATCH");
	expect_refused("udp/", "not a number");
	expect_refused("udp/65536", "not a number 0..65535");
	expect_refused("udp/-1", "not a number");
	expect_refused("udp/+1", "not a number");
	expect_refused("udp/ 53", "not a number");
	expect_refused("udp/53x", "not a number");
	expect_refused("udp/53/54", "not a number");
	expect_refused("udp/99999999999999999999", "not a number");
	expect_refused("ip/256", "not a number 0..255");
	expect_refused("ip6/256", "not a number 0..255");
	expect_refused("ethertype/0x10000", "not a number 0..65535");
	expect_refused("ethertype/0x", "not a number");
	expect_refused("ethertype", "unknown MATCH");
	/* A keyword without a number takes none. */
	expect_refused("arp/1", "unknown MATCH");
	expect_refused("any/0", "unknown MATCH");
	expect_refused("icmp/8", "unknown MATCH");
	expect_refused("/53", "unknown MATCH");
}

/* format(parse(text)) == canonical, and parse(canonical) is the same object. */
static void round_trip(const char *text, const char *canonical)
{
	json_t *m = NULL, *again = NULL;
	char err[256], buf[256];

	assert_int_equal(match_parse(text, &m, err, sizeof(err)), 0);
	assert_int_equal(match_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, canonical);
	assert_int_equal(match_parse(buf, &again, err, sizeof(err)), 0);
	assert_true(json_equal(m, again));
	json_decref(m);
	json_decref(again);
}

static void test_format(void **state)
{
	json_t *m;
	char buf[64];

	(void)state;
	round_trip("any", "any");
	round_trip("arp", "arp");
	round_trip("ip", "ipv4");
	round_trip("ip6", "ipv6");
	round_trip("icmp", "icmp");
	round_trip("icmp6", "icmp6");
	round_trip("udp", "udp");
	round_trip("udp6/53", "udp6/53");
	round_trip("UDP/7", "udp/7");
	round_trip("tcp6", "tcp6");
	round_trip("ip/47", "ip/47");
	round_trip("ip6/0", "ip6/0");
	round_trip("ethertype/0x88cc", "ethertype/0x88cc");
	round_trip("ethertype/2048", "ipv4");

	/* No keyword for it: the JSON itself, which match_parse also takes. */
	m = json_pack("{s:i, s:i}", "ip_protocol", 17, "udp_port", 9);
	assert_int_equal(match_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "{\"ip_protocol\":17,\"udp_port\":9}");
	json_decref(m);
	m = json_pack("{s:i, s:s}", "ethertype", 2048, "x", "y");
	assert_int_equal(match_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "{\"ethertype\":2048,\"x\":\"y\"}");
	json_decref(m);
	assert_int_equal(match_format(NULL, buf, sizeof(buf)), -ENOMEM);

	/* A buffer too small is said, never overrun. */
	m = json_pack("{s:i, s:i, s:i}", "ethertype", 34525, "ip_protocol", 17, "udp_port", 53);
	assert_int_equal(match_format(m, buf, 5), -ENOSPC);
	assert_int_equal(strlen(buf), 4);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords), cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_json),	 cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
