// SPDX-License-Identifier: MIT
/*
 * Unit tests for service/secret.c: random hex secrets (length, alphabet,
 * no repeats) and the constant-time comparison (prefixes, extensions and
 * single-byte differences are all unequal).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../service/secret.h"

static void test_hex(void **state)
{
	char a[SECRET_HEX_LEN + 1], b[SECRET_HEX_LEN + 1];

	(void)state;
	assert_int_equal(secret_hex(a, SECRET_BYTES), 0);
	assert_int_equal(secret_hex(b, SECRET_BYTES), 0);
	assert_int_equal(strlen(a), SECRET_HEX_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), SECRET_HEX_LEN);
	assert_string_not_equal(a, b);
	assert_true(SECRET_BYTES * 8 >= 128);
	assert_int_equal(secret_hex(a, 65), -EINVAL);
}

static void test_equal(void **state)
{
	const char *want = "0123456789abcdef";

	(void)state;
	assert_true(secret_equal(want, 16, want));
	assert_true(secret_equal("0123456789abcdefXYZ", 16, want)); /* only @glen bytes count */
	assert_false(secret_equal(want, 15, want));
	assert_false(secret_equal("0123456789abcdef0", 17, want));
	assert_false(secret_equal("1123456789abcdef", 16, want));
	assert_false(secret_equal("0123456789abcdeF", 16, want));
	assert_false(secret_equal("", 0, want));
	assert_true(secret_equal("", 0, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
