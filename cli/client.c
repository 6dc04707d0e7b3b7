// SPDX-License-Identifier: MIT
/*
 * The HTTP side of pairctl (client.h), on libcurl's easy interface: one
 * handle, reset before each request. libcurl speaks HTTP over a Unix
 * socket (CURLOPT_UNIX_SOCKET_PATH), decodes chunked streams and does TLS
 * for a remote --url, so pairctl needs no HTTP code of its own. What
 * libcurl reports as "could not connect" is not enough for a user, so on
 * that failure the socket is probed once more with connect(2) to name the
 * cause.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client.h"

/* An answer bigger than this is not from paird's API (pages are <= ~1 MiB). */
#define BODY_MAX (64u << 20)

struct client {
	CURL *curl;
	struct client_cfg cfg;
	char auth[1024];
	char errbuf[CURL_ERROR_SIZE];
};

struct sink {
	struct response *r;
	CURL *curl;
	int fd;		/* stream 2xx bodies here; -1 to keep them */
	bool streaming; /* decided on the first byte: status is 2xx */
	bool decided;
	bool reader_gone; /* EPIPE on fd */
	bool too_big;
	int write_err; /* -errno of the failed write to fd */
};

struct client *client_new(const struct client_cfg *cfg)
{
	struct client *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errno = EIO;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	if (cfg->url && cfg->token && cfg->token[0])
		snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", cfg->token);
	return c;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
	curl_global_cleanup();
}

void response_fini(struct response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static int keep(struct sink *s, const char *data, size_t n)
{
	struct response *r = s->r;
	char *nb;

	if (r->len + n > BODY_MAX) {
		s->too_big = true;
		return -EFBIG;
	}
	nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + r->len, data, n);
	r->body = nb;
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

static int write_all(int fd, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (!s->decided) {
		long status = 0;

		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
		s->streaming = s->fd >= 0 && status >= 200 && status < 300;
		s->decided = true;
	}
	if (s->streaming) {
		int ret = write_all(s->fd, data, n);

		s->write_err = ret;
		if (ret == -EPIPE)
			s->reader_gone = true;
		return ret ? 0 : n;
	}
	return keep(s, data, n) ? 0 : n;
}

/* Copies header value (after "name:") into dst when the line is that header. */
static void header_value(const char *line, size_t n, const char *name, char *dst, size_t len)
{
	size_t nl = strlen(name), vlen;
	const char *v;

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	vlen = n - nl - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= len)
		vlen = len - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	char changed[16] = "";

	/* A status line starts a new answer (after a 100 Continue): forget the old. */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		s->r->content_type[0] = '\0';
		s->r->etag[0] = '\0';
		s->r->changed = -1;
	}
	header_value(line, n, "Content-Type", s->r->content_type, sizeof(s->r->content_type));
	header_value(line, n, "ETag", s->r->etag, sizeof(s->r->etag));
	header_value(line, n, "Paird-Changed", changed, sizeof(changed));
	if (changed[0])
		s->r->changed = strcasecmp(changed, "true") == 0;
	return n;
}

/* Why connecting to the socket failed, probed directly. */
static void explain_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"pairctl: cannot connect to %s: the path is too long for a socket\n", path);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	switch (err) {
	case ENOENT:
		fprintf(stderr,
			"pairctl: cannot connect to %s: the socket does not exist "
			"(is paird running? give its socket with --socket or PAIRD_SOCKET)\n",
			path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"pairctl: cannot connect to %s: permission denied (the socket's owner "
			"and group decide who may drive paird: run as root or join its group)\n",
			path);
		break;
	case ECONNREFUSED:
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			fprintf(stderr, "pairctl: cannot connect to %s: not a socket\n", path);
		else
			fprintf(stderr,
				"pairctl: cannot connect to %s: nobody is listening "
				"(paird is not running; the socket file is left over)\n",
				path);
		break;
	default:
		fprintf(stderr, "pairctl: cannot connect to %s: %s\n", path,
			err ? strerror(err) : "the connection failed");
		break;
	}
}

static int add_header(struct curl_slist **hdrs, const char *line)
{
	struct curl_slist *h = curl_slist_append(*hdrs, line);

	if (!h)
		return -ENOMEM;
	*hdrs = h;
	return 0;
}

/* The request's headers: the token, the body's type, If-Match, If-None-Match. */
static int request_headers(const struct client *c, const struct request *rq,
			   struct curl_slist **hdrs)
{
	char line[1024];

	if (c->auth[0] && add_header(hdrs, c->auth) < 0)
		return -ENOMEM;
	if (!rq)
		return 0;
	if (rq->body) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 rq->content_type ? rq->content_type : "application/json");
		/* No "Expect: 100-continue" round trip for small bodies. */
		if (add_header(hdrs, line) < 0 || add_header(hdrs, "Expect:") < 0)
			return -ENOMEM;
	}
	if (rq->if_match) {
		/* A bare version (as `port show` prints it) is the strong ETag "VERSION". */
		bool bare = strspn(rq->if_match, "0123456789") == strlen(rq->if_match);

		snprintf(line, sizeof(line), bare ? "If-Match: \"%s\"" : "If-Match: %s",
			 rq->if_match);
		if (add_header(hdrs, line) < 0)
			return -ENOMEM;
	}
	if (rq->if_none_match) {
		snprintf(line, sizeof(line), "If-None-Match: %s", rq->if_none_match);
		if (add_header(hdrs, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* What curl's answer @rc means for the caller, said on stderr: 0 or -errno. */
static int outcome(const struct client *c, CURLcode rc, const struct sink *s, const char *method,
		   const char *path)
{
	if ((rc == CURLE_WRITE_ERROR && s->reader_gone) ||
	    (rc == CURLE_PARTIAL_FILE && s->streaming)) {
		/*
		 * The reader went away (tshark -c 1, head), or paird ended a
		 * stream (its port was deleted) without the last chunk: the end.
		 */
		return 0;
	}
	if (rc == CURLE_COULDNT_CONNECT && !c->cfg.url) {
		explain_socket(c->cfg.socket);
		return -ECONNREFUSED;
	}
	if (rc == CURLE_WRITE_ERROR && s->too_big) {
		fprintf(stderr, "pairctl: %s %s: the answer is over %u bytes\n", method, path,
			BODY_MAX);
		return -EFBIG;
	}
	if (rc == CURLE_WRITE_ERROR && s->streaming) {
		fprintf(stderr, "pairctl: writing the stream failed: %s\n",
			strerror(-s->write_err));
		return -EIO;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "pairctl: %s %s: %s\n", method,
			c->cfg.url ? c->cfg.url : c->cfg.socket,
			c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		return rc == CURLE_COULDNT_CONNECT	? -ECONNREFUSED
		       : rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
							: -EIO;
	}
	return 0;
}

static int perform(struct client *c, const char *method, const char *path, const struct request *rq,
		   struct response *r, int fd)
{
	struct curl_slist *hdrs = NULL;
	struct sink s = { .r = r, .curl = c->curl, .fd = fd };
	char url[4096];
	CURLcode rc;
	int ret;

	memset(r, 0, sizeof(*r));
	r->changed = -1;
	snprintf(url, sizeof(url), "%s%s", c->cfg.url ? c->cfg.url : "http://localhost", path);
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	/* "." and ".." in a name go to paird as they are, never resolved here. */
	curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L);
	if (!c->cfg.url)
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->cfg.socket);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A stream lasts as long as the user wants; a request should not. */
	if (fd < 0)
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "pairctl/" PAIRD_VERSION);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	if (rq && rq->body) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	c->errbuf[0] = '\0';

	ret = request_headers(c, rq, &hdrs);
	if (ret < 0) {
		fprintf(stderr, "pairctl: out of memory\n");
		goto out;
	}
	if (hdrs)
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	ret = outcome(c, rc, &s, method, path);
	if (!r->body && ret == 0 && !s.streaming) {
		/* An empty body is still a string for the callers. */
		r->body = strdup("");
		if (!r->body)
			ret = -ENOMEM;
	}
out:
	curl_slist_free_all(hdrs);
	return ret;
}

int client_request(struct client *c, const char *method, const char *path, const struct request *rq,
		   struct response *r)
{
	return perform(c, method, path, rq, r, -1);
}

int client_stream(struct client *c, const char *path, int fd, struct response *r)
{
	return perform(c, "GET", path, NULL, r, fd);
}

json_t *response_json(const struct response *r)
{
	json_error_t jerr;
	json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, &jerr);

	if (!j)
		fprintf(stderr, "pairctl: the answer (HTTP %ld) is not JSON: %s\n", r->status,
			jerr.text);
	return j;
}

/* Prints s with control characters escaped: a server's text is not trusted. */
static void put_clean(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

void response_report(const struct response *r, bool json)
{
	json_t *p = NULL, *errors, *e;
	const char *title, *detail, *field;
	size_t i;

	if (strncasecmp(r->content_type, "application/problem+json", 24) == 0 ||
	    strncasecmp(r->content_type, "application/json", 16) == 0)
		p = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	if (!json_is_object(p)) {
		char first[256];
		size_t n = r->body ? strcspn(r->body, "\r\n") : 0;

		snprintf(first, sizeof(first), "%.*s", (int)(n < 200 ? n : 200),
			 r->body ? r->body : "");
		fprintf(stderr, "pairctl: HTTP %ld", r->status);
		if (first[0]) {
			fputs(": ", stderr);
			put_clean(stderr, first);
		}
		fputc('\n', stderr);
		goto out;
	}
	if (json) {
		json_dumpf(p, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	title = json_string_value(json_object_get(p, "title"));
	detail = json_string_value(json_object_get(p, "detail"));
	field = json_string_value(json_object_get(p, "field"));
	fputs("pairctl: ", stderr);
	put_clean(stderr, title ? title : "error");
	if (detail) {
		fputs(": ", stderr);
		put_clean(stderr, detail);
	}
	if (field) {
		fputs(" (field ", stderr);
		put_clean(stderr, field);
		fputc(')', stderr);
	}
	fputc('\n', stderr);
	errors = json_object_get(p, "errors");
	json_array_foreach(errors, i, e) {
		const char *ef = json_string_value(json_object_get(e, "field"));
		const char *ed = json_string_value(json_object_get(e, "detail"));

		fputs("  ", stderr);
		put_clean(stderr, ef ? ef : "-");
		fputs(": ", stderr);
		put_clean(stderr, ed ? ed : "");
		fputc('\n', stderr);
	}
out:
	json_decref(p);
}

int client_escape(const char *seg, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *seg; seg++) {
		unsigned char ch = (unsigned char)*seg;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			     ch == '~';

		if (o + (plain ? 1 : 3) >= len)
			return -ENOSPC;
		if (plain) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	if (o >= len)
		return -ENOSPC;
	buf[o] = '\0';
	return 0;
}
