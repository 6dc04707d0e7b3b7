// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/text.c: the UTF-8 check against RFC 3629's edges
 * (overlongs, surrogates, above U+10FFFF, truncated sequences), escaping
 * of ill-formed bytes and, for the log, of control characters, and cuts
 * that never split an escape or a character.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../service/text.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		bool ok;
	} cases[] = {
		{ S(""), true },
		{ S("plain ascii"), true },
		{ S("caf\xc3\xa9"), true },	 /* U+00E9 */
		{ S("\xe2\x82\xac"), true },	 /* U+20AC */
		{ S("\xf0\x9f\x98\x80"), true }, /* U+1F600 */
		{ S("\xf4\x8f\xbf\xbf"), true }, /* U+10FFFF */
		{ S("\xed\x9f\xbf"), true },	 /* U+D7FF, just below the surrogates */
		{ S("\xff"), false },
		{ S("\x80"), false },	  /* a lone continuation byte */
		{ S("\xc0\xaf"), false }, /* overlong "/" */
		{ S("\xc1\xbf"), false },
		{ S("\xe0\x80\xaf"), false },	  /* overlong, three bytes */
		{ S("\xf0\x80\x80\xaf"), false }, /* overlong, four bytes */
		{ S("\xed\xa0\x80"), false },	  /* U+D800, a surrogate */
		{ S("\xf4\x90\x80\x80"), false }, /* U+110000 */
		{ S("\xf5\x80\x80\x80"), false },
		{ S("\xc3"), false }, /* truncated */
		{ S("\xe2\x82"), false },
		{ S("ab\xf0\x9f\x98"), false },
		{ S("a\0b"), false }, /* jansson's strings cannot hold NUL */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (text_utf8_valid(cases[i].s, cases[i].n) != cases[i].ok)
			fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
}

static void expect_escape(const char *in, size_t len, unsigned flags, const char *want)
{
	char out[256];
	size_t n = text_escape(out, sizeof(out), in, len, flags);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	assert_true(text_utf8_valid(out, n));
}

static void test_escape_json(void **state)
{
	(void)state;
	/* Only what is not UTF-8 changes; control characters are JSON's business. */
	expect_escape(S("/api/v1/ports/\xff"), 0, "/api/v1/ports/\\xff");
	expect_escape(S("caf\xc3\xa9 \xc3"), 0, "caf\xc3\xa9 \\xc3");
	expect_escape(S("\xed\xa0\x80"), 0, "\\xed\\xa0\\x80");
	expect_escape(S("a\nb\\c"), 0, "a\nb\\c");
	expect_escape(S("a\0b"), 0, "a\\x00b");
}

static void test_escape_log(void **state)
{
	(void)state;
	expect_escape(S("GET /api/v1/ports/x\nFAKE line"), TEXT_ESC_CONTROL,
		      "GET /api/v1/ports/x\\x0aFAKE line");
	expect_escape(S("\r\t\x1b[2J\x7f"), TEXT_ESC_CONTROL, "\\x0d\\x09\\x1b[2J\\x7f");
	/* U+009B is CSI to a terminal; U+00A0 and above are text. */
	expect_escape(S("\xc2\x9b\xc2\xa0"), TEXT_ESC_CONTROL, "\\xc2\\x9b\xc2\xa0");
	/* A literal backslash cannot pass for an escape. */
	expect_escape(S("a\\x0ab"), TEXT_ESC_CONTROL, "a\\\\x0ab");
	expect_escape(S("\xff\xfe ok \xe2\x82\xac"), TEXT_ESC_CONTROL,
		      "\\xff\\xfe ok \xe2\x82\xac");
}

static void test_escape_cut(void **state)
{
	char out[8];

	(void)state;
	/* Room for 7 bytes: "ab" and one 4-byte escape fit, the second does not. */
	assert_int_equal(text_escape(out, sizeof(out), S("ab\n\n"), TEXT_ESC_CONTROL), 6);
	assert_string_equal(out, "ab\\x0a");
	/* A character is never split: the euro sign (3 bytes) does not fit after 5. */
	assert_int_equal(text_escape(out, sizeof(out), S("abcde\xe2\x82\xac"), 0), 5);
	assert_string_equal(out, "abcde");
	assert_int_equal(text_escape(out, 1, S("abc"), 0), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_escape_log),
		cmocka_unit_test(test_escape_cut),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
