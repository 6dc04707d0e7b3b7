// SPDX-License-Identifier: MIT
/*
 * pairctl login: a fresh one-time dashboard login URL (POST
 * /api/v1/login-codes), for whoever may use the control socket. The URL
 * goes to stdout alone, so that `xdg-open "$(pairctl login)"` works.
 */
#include <stdio.h>

#include "pairctl.h"

static int run_login(struct ctx *ctx, const struct args *a)
{
	json_t *doc = NULL;
	const char *url;
	int ret;

	(void)a;
	ret = api_call(ctx, "POST", "/api/v1/login-codes", NULL, &doc, NULL);
	if (ret)
		return ret;
	url = json_string_value(json_object_get(doc, "url"));
	if (ctx->json) {
		print_json(doc);
	} else if (url) {
		printf("%s\n", url);
		fprintf(stderr,
			"pairctl: the URL opens one dashboard session, within %lld minutes\n",
			(long long)json_integer_value(json_object_get(doc, "expires_in")) / 60);
	} else {
		fprintf(stderr, "pairctl: login: paird's answer has no url\n");
		ret = EXIT_ERROR;
	}
	json_decref(doc);
	return ret;
}

const struct command login_command = {
	.name = "login",
	.operands = "",
	.summary = "print a new one-time dashboard login URL",
	.help = "Asks paird (on its control socket: not with --url) for a new one-time login\n"
		"code and prints the dashboard URL that uses it. It replaces any unused\n"
		"code, the one paird logged at start included, and opens one session\n"
		"within 15 minutes.",
	.max_ops = 0,
	.run = run_login,
};
