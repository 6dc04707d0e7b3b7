// SPDX-License-Identifier: MIT
/*
 * Who may use the API over TCP (DESIGN.md, "Security"). The Unix socket
 * needs nothing here: its file mode and group decide who connects. On TCP
 * a guarded request (/api/, /metrics) carries a bearer secret: the token,
 * or the id of a dashboard session. A session is opened by GET
 * /login?code=CODE with the one-time code paird logs at start (Jupyter's
 * login URL), never with the token itself in a URL; the answer sends the
 * browser to /#session=ID, a fragment no browser sends anywhere, and the
 * dashboard keeps the id in its origin's storage. Not a cookie: a browser
 * sends a cookie for 127.0.0.1 to every port of 127.0.0.1, so any local
 * user's web server would receive it. Tokens, codes and session ids are
 * compared in constant time and never logged. api.c calls auth_ok() from
 * its prechecks; main() sets the token and asks for codes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../service/log.h"
#include "internal.h"

/* A code's life in words, for messages; the assertion keeps it true. */
#define LOGIN_CODE_LIFE "15 minutes"
_Static_assert(API_LOGIN_CODE_MINUTES == 15, "LOGIN_CODE_LIFE names another life");

/* A dashboard session ends this long after login (or at the next token change). */
#define SESSION_SECONDS (12 * 3600)

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static api_clock_fn now_s = mono_s;

void api_set_clock(api_clock_fn fn)
{
	now_s = fn ? fn : mono_s;
}

int api_set_token(struct api *api, const char *token)
{
	char *copy = NULL;

	if (token) {
		copy = strdup(token);
		if (!copy)
			return -ENOMEM;
	}
	if (api->token) {
		explicit_bzero(api->token, strlen(api->token));
		free(api->token);
	}
	api->token = copy;
	/* Whoever logged in under the old token must not outlive it. */
	explicit_bzero(api->sessions, sizeof(api->sessions));
	explicit_bzero(api->login_code, sizeof(api->login_code));
	return 0;
}

int api_login_code(struct api *api, char *out, size_t size)
{
	int ret;

	if (!api->token)
		return -EPERM; /* nothing to log in to: TCP auth is off */
	if (size < sizeof(api->login_code))
		return -ENOSPC;
	ret = secret_hex(api->login_code, SECRET_BYTES);
	if (ret < 0) {
		api->login_code[0] = '\0';
		return ret;
	}
	api->login_code_expires = now_s() + API_LOGIN_CODE_SECONDS;
	memcpy(out, api->login_code, sizeof(api->login_code));
	return 0;
}

/* The secret of an "Authorization: Bearer SECRET" header, with its length; NULL if none. */
static const char *bearer(const char *auth, size_t *len)
{
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	*len = strcspn(auth, " \t");
	return auth[*len] == '\0' ? auth : NULL;
}

static bool session_ok(struct api *api, const char *id, size_t len)
{
	double now = now_s();
	bool found = false;

	/* Every slot is compared, so the time does not say which one matched. */
	for (size_t i = 0; i < API_SESSIONS; i++) {
		struct api_session *s = &api->sessions[i];

		if (!s->id[0])
			continue;
		if (s->expires < now) {
			explicit_bzero(s, sizeof(*s));
			continue;
		}
		found |= secret_equal(id, len, s->id);
	}
	return found;
}

bool auth_ok(struct api *api, const struct request *rq)
{
	const char *secret;
	bool token, session;
	size_t len;

	if (rq->via == REQ_VIA_UNIX || !api->token)
		return true;
	if (!rq->header)
		return false;
	secret = bearer(rq->header(rq->lookup_ctx, "Authorization"), &len);
	if (!secret)
		return false;
	/* Both compared, so the time does not say which kind of secret it was. */
	token = secret_equal(secret, len, api->token);
	session = session_ok(api, secret, len);
	return token || session;
}

/* Opens a session in a free slot, or in place of the one closest to its end. */
static int session_new(struct api *api, struct api_session **out)
{
	struct api_session *s = &api->sessions[0];
	int ret;

	for (size_t i = 1; i < API_SESSIONS && s->id[0]; i++)
		if (!api->sessions[i].id[0] || api->sessions[i].expires < s->expires)
			s = &api->sessions[i];
	ret = secret_hex(s->id, SECRET_BYTES);
	if (ret < 0) {
		s->id[0] = '\0';
		return ret;
	}
	s->expires = now_s() + SESSION_SECONDS;
	*out = s;
	return 0;
}

/*
 * A refused login: a browser that followed the link (Accept: text/html)
 * gets a page saying what to do; any other client the problem document.
 */
static void login_refused(const struct request *rq, struct response *rs, const char *detail)
{
	static const char page[] =
		"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>paird: login link refused</title></head><body>"
		"<h1>This login link does not open a session</h1>"
		"<p>A login link works once, within " LOGIN_CODE_LIFE ". For a new one, run "
		"<code>pairctl login</code> as root on paird's machine, or paste the API token "
		"into the <a href=\"/\">dashboard</a>'s form.</p></body></html>\n";
	const char *accept = rq->header ? rq->header(rq->lookup_ctx, "Accept") : NULL;

	if (accept && strstr(accept, "text/html")) {
		reply_static(rs, 403, "text/html; charset=utf-8", page, sizeof(page) - 1);
		return;
	}
	reply_problem(rs, 403, "login-refused", detail, rq->path);
}

int h_login(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	const char *code = rq->query ? rq->query(rq->lookup_ctx, "code") : NULL;
	struct api_session *s = NULL;
	int ret;

	if (!api->login_code[0] || !code || !secret_equal(code, strlen(code), api->login_code)) {
		login_refused(rq, rs,
			      "this login code is not valid: each code works once (run 'pairctl "
			      "login' as root for a new one, or give the dashboard the API token)");
		return 0;
	}
	if (api->login_code_expires < now_s()) {
		explicit_bzero(api->login_code, sizeof(api->login_code));
		login_refused(rq, rs,
			      "this login code has expired: a code works for " LOGIN_CODE_LIFE
			      " (run 'pairctl login' as root for a new one)");
		return 0;
	}
	/* HEAD (a link preview, a prefetch) sees the answer but leaves the code unused. */
	if (rq->method == HTTP_HEAD) {
		reply_empty(rs, 303);
		response_header(rs, "Location", "/");
		return 0;
	}
	ret = session_new(api, &s);
	if (ret < 0)
		return fault_set(f, FAULT_UNAVAILABLE, -ret, NULL,
				 "no randomness for a session id");
	explicit_bzero(api->login_code, sizeof(api->login_code));
	reply_empty(rs, 303);
	/* The dashboard takes the id from the fragment and clears the address bar. */
	response_header(rs, "Location", "/#session=%s", s->id);
	log_info("dashboard login: the one-time code was used, a session is open");
	return 0;
}

/*
 * POST /api/v1/login-codes: a new one-time login URL for whoever may use
 * the control socket (root, --socket-group), so that the one logged at
 * start need not be kept or searched for. Not over TCP: a session could
 * then renew itself for ever.
 */
int h_login_codes(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	char code[API_LOGIN_CODE_SIZE];
	json_t *o;
	int ret;

	if (rq->via != REQ_VIA_UNIX) {
		reply_problem(rs, 403, "unix-socket-only",
			      "login codes are given out on paird's control socket only", rq->path);
		return 0;
	}
	if (!api->cfg.url_base)
		return fault_set(f, FAULT_CONFLICT, 0, NULL,
				 "paird has no TCP listener: the dashboard is not served");
	ret = api_login_code(api, code, sizeof(code));
	if (ret == -EPERM)
		return fault_set(f, FAULT_CONFLICT, 0, NULL,
				 "authentication is off on TCP (--no-auth): the dashboard needs no "
				 "login");
	if (ret < 0)
		return fault_set(f, FAULT_UNAVAILABLE, -ret, NULL,
				 "no randomness for a login code");
	o = json_pack("{s:s, s:s++, s:i}", "code", code, "url", api->cfg.url_base,
		      "/login?code=", code, "expires_in", API_LOGIN_CODE_SECONDS);
	explicit_bzero(code, sizeof(code));
	if (!o)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	log_info("dashboard login: a new one-time code was given out on the control socket");
	return reply_json(rs, 200, o);
}
