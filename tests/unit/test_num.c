// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/num.c, the one decimal parser: digits only (no
 * sign, space, "0x" or empty string, all of which strtoul() takes), at
 * most 20 digits, overflow of 64 bits and the [min, max] range told apart
 * (-ERANGE) from bad syntax (-EINVAL), and the output untouched on error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "../../service/num.h"
#include "support.h"

static void test_accepts(void **state)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "0", 0 },
		{ "7", 7 },
		{ "0042", 42 },
		{ "4294967295", UINT32_MAX },
		{ "18446744073709551615", UINT64_MAX },
		{ "00000000000000000001", 1 }, /* 20 digits */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 99;

		assert_int_equal(num_parse_u64(ok[i].s, 0, UINT64_MAX, &v), 0);
		assert_true(v == ok[i].want);
	}
}

static void test_refuses_syntax(void **state)
{
	static const char *const bad[] = {
		"",
		"+1",
		"-1",
		" 1",
		"1 ",
		"0x10",
		"1e3",
		"1.0",
		"12a",
		"٣",
		"000000000000000000001", /* 21 digits */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 99;

		assert_int_equal(num_parse_u64(bad[i], 0, UINT64_MAX, &v), -EINVAL);
		assert_true(v == 99);
	}
}

static void test_range(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(num_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(num_parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(num_parse_u64("0", 1, 10, &v), -ERANGE);
	assert_int_equal(num_parse_u64("11", 1, 10, &v), -ERANGE);
	assert_true(v == 99);
	assert_int_equal(num_parse_u64("10", 1, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(num_parse_u64("1", 1, 10, &v), 0);
	assert_true(v == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses_syntax),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests_name("num", tests, NULL, NULL);
}
