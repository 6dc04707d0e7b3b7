// SPDX-License-Identifier: MIT
/*
 * Shared unit test helpers (see support.h): fake requests for api_handle(),
 * response and problem+json checks, the API and port set fixtures, scratch
 * directories and file helpers, JSON with ' for ", hex and frame builders.
 * Every unit test binary links this file.
 */
#include "support.h"

#include "../../service/netaddr.h"

#include "../../service/capture.h"
#include "../../service/csum.h"
#include "../../service/log.h"
#include "../../service/port.h"
#include "../../service/portset.h"
#include "../../service/stack.h"
#include "../fakes/portio_mem.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- fake requests --- */

static const char *table_lookup(const char *const *names, const char *const *values, unsigned n,
				const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

static const char *fake_header(void *ctx, const char *name)
{
	struct fake_req *fr = ctx;

	return table_lookup(fr->hdr_name, fr->hdr_value, fr->n_hdr, name);
}

static const char *fake_query(void *ctx, const char *name)
{
	struct fake_req *fr = ctx;

	return table_lookup(fr->q_name, fr->q_value, fr->n_query, name);
}

static void fake_query_each(void *ctx, query_visit_fn fn, void *arg)
{
	struct fake_req *fr = ctx;

	for (unsigned i = 0; i < fr->n_query; i++)
		fn(arg, fr->q_name[i], fr->q_value[i]);
}

void freq_init(struct fake_req *fr, enum http_method method, const char *path)
{
	memset(fr, 0, sizeof(*fr));
	fr->rq.method = method;
	fr->rq.path = path;
	fr->rq.header = fake_header;
	fr->rq.query = fake_query;
	fr->rq.query_each = fake_query_each;
	fr->rq.lookup_ctx = fr;
}

void freq_header(struct fake_req *fr, const char *name, const char *value)
{
	for (unsigned i = 0; i < fr->n_hdr; i++) {
		if (strcasecmp(fr->hdr_name[i], name) != 0)
			continue;
		if (value) {
			fr->hdr_value[i] = value;
		} else {
			fr->n_hdr--;
			fr->hdr_name[i] = fr->hdr_name[fr->n_hdr];
			fr->hdr_value[i] = fr->hdr_value[fr->n_hdr];
		}
		return;
	}
	if (!value)
		return;
	assert_true(fr->n_hdr < FAKE_HEADERS_MAX);
	fr->hdr_name[fr->n_hdr] = name;
	fr->hdr_value[fr->n_hdr++] = value;
}

void freq_query(struct fake_req *fr, const char *name, const char *value)
{
	assert_true(fr->n_query < FAKE_QUERY_MAX);
	fr->q_name[fr->n_query] = name;
	fr->q_value[fr->n_query++] = value;
}

void freq_body(struct fake_req *fr, const char *ct, const char *body)
{
	if (ct)
		freq_header(fr, "Content-Type", ct);
	fr->rq.body = body;
	fr->rq.body_len = body ? strlen(body) : 0;
}

/* --- responses --- */

const char *resp_header(const struct response *rs, const char *name)
{
	for (unsigned i = 0; i < rs->n_headers; i++)
		if (strcasecmp(rs->headers[i].name, name) == 0)
			return rs->headers[i].value;
	return NULL;
}

const char *resp_text(const struct response *rs)
{
	if (rs->body)
		return rs->body;
	if (rs->static_body)
		return rs->static_body;
	return "";
}

json_t *resp_json(const struct response *rs)
{
	json_error_t jerr;
	const char *text = rs->body ? rs->body : rs->static_body;
	json_t *doc;

	assert_non_null(text);
	doc = json_loadb(text, rs->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		fail_msg("response body is not JSON (%s): %.*s", jerr.text, (int)rs->len, text);
	assert_true(json_is_object(doc));
	return doc;
}

json_t *assert_problem(const struct response *rs, int status, const char *field)
{
	json_t *doc, *v;

	if (rs->status != status)
		fail_msg("status %d, expected %d; body: %.*s", rs->status, status, (int)rs->len,
			 resp_text(rs));
	assert_non_null(rs->content_type);
	assert_string_equal(rs->content_type, "application/problem+json");
	doc = resp_json(rs);
	v = json_object_get(doc, "type");
	assert_true(json_is_string(v));
	assert_true(strncmp(json_string_value(v), "urn:paird:problem:", 18) == 0);
	v = json_object_get(doc, "title");
	assert_true(json_is_string(v));
	assert_true(json_string_length(v) > 0);
	v = json_object_get(doc, "status");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), status);
	v = json_object_get(doc, "detail");
	assert_true(json_is_string(v));
	assert_true(json_string_length(v) > 0);
	if (field) {
		v = json_object_get(doc, "field");
		if (field[0] == '\0') {
			assert_null(v);
		} else {
			if (!json_is_string(v))
				fail_msg("problem has no field member, expected \"%s\": %.*s",
					 field, (int)rs->len, resp_text(rs));
			assert_string_equal(json_string_value(v), field);
		}
	}
	return doc;
}

json_t *assert_problem_of(const struct response *rs, int status, const char *slug,
			  const char *field)
{
	json_t *doc = assert_problem(rs, status, field);
	const char *type = json_string_value(json_object_get(doc, "type"));

	if (slug && strcmp(type + strlen("urn:paird:problem:"), slug) != 0)
		fail_msg("type %s, expected slug %s: %.*s", type, slug, (int)rs->len,
			 resp_text(rs));
	return doc;
}

bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	while (list && *list) {
		while (*list == ' ' || *list == ',')
			list++;
		if (strncmp(list, item, n) == 0 &&
		    (list[n] == '\0' || list[n] == ',' || list[n] == ' '))
			return true;
		list = strchr(list, ',');
	}
	return false;
}

void expect_status(const struct response *rs, int status)
{
	if (rs->status != status)
		fail_msg("status %d, expected %d: %.*s", rs->status, status, (int)rs->len,
			 resp_text(rs));
}

/* --- the API and port set fixtures --- */

/* Quiets the log; a memory I/O and a scratch directory, and its state.json's path. */
static void scratch_new(struct memio **m, char **dir, char **path)
{
	log_set_level(LOG_ERROR);
	*m = memio_new();
	assert_non_null(*m);
	*dir = tmpdir_new();
	*path = path_join(*dir, "state.json");
}

/* Asserts no device fd is left open on @m; frees it and @path, removes @dir. */
static void scratch_free(struct memio *m, char *dir, char *path)
{
	assert_int_equal(memio_open_fds(m), 0);
	memio_free(m);
	tmpdir_remove(dir);
	free(path);
}

/* A port set on @m restored from @path; fails the test when the file is refused. */
static struct portset *portset_restored(struct memio *m, const char *path, unsigned max)
{
	struct fault f = FAULT_INIT;
	struct portset *ps = portset_new(NULL, memio_io(m), path, max);

	assert_non_null(ps);
	if (portset_restore(ps, &f) != 0)
		fail_msg("restore: %s", f.detail);
	return ps;
}

void api_fx_init(struct api_fx *fx, unsigned max_ports)
{
	scratch_new(&fx->m, &fx->dir, &fx->path);
	fx->max_ports = max_ports;
	fx->cfg.listen_host = "127.0.0.1";
	fx->cfg.listen_port = 8080;
}

void api_fx_start(struct api_fx *fx)
{
	fx->ps = portset_restored(fx->m, fx->path, fx->max_ports);
	fx->cfg.ports = fx->ps;
	fx->api = api_new(&fx->cfg);
	assert_non_null(fx->api);
}

void api_fx_restart(struct api_fx *fx)
{
	api_free(fx->api);
	fx->api = api_new(&fx->cfg);
	assert_non_null(fx->api);
}

void api_fx_stop(struct api_fx *fx)
{
	/* The last response may hold a stream on the port set: it goes first. */
	response_fini(&fx->rs);
	api_free(fx->api);
	portset_free(fx->ps);
	fx->api = NULL;
	fx->ps = NULL;
}

void api_fx_fini(struct api_fx *fx)
{
	api_fx_stop(fx);
	scratch_free(fx->m, fx->dir, fx->path);
}

struct response *api_fx_run(struct api_fx *fx, struct fake_req *fr)
{
	response_fini(&fx->rs);
	api_handle(fx->api, &fr->rq, &fx->rs);
	/* Capture and event bodies are streamed: read them to the end. */
	assert_int_equal(response_drain(&fx->rs), 0);
	return &fx->rs;
}

int api_fx_setup(void **state)
{
	const struct api_fx_spec *spec = *state;
	struct api_fx *fx;

	assert_non_null(spec);
	assert_true(spec->size >= sizeof(*fx));
	fx = calloc(1, spec->size);
	assert_non_null(fx);
	api_fx_init(fx, spec->max_ports);
	api_fx_start(fx);
	*state = fx;
	return 0;
}

int api_fx_teardown(void **state)
{
	api_fx_fini(*state);
	free(*state);
	return 0;
}

struct ps_fx *ps_fx_new(void)
{
	struct ps_fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	scratch_new(&fx->m, &fx->dir, &fx->path);
	fx->tmp = path_join(fx->dir, "state.json.tmp");
	return fx;
}

void ps_fx_start(struct ps_fx *fx, unsigned max)
{
	portset_free(fx->ps);
	fx->ps = portset_restored(fx->m, fx->path, max);
}

void ps_fx_free(struct ps_fx *fx)
{
	portset_free(fx->ps);
	scratch_free(fx->m, fx->dir, fx->path);
	free(fx->tmp);
	free(fx);
}

/* --- files and directories --- */

char *tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (!base || !*base)
		base = "/tmp";
	assert_true(asprintf(&dir, "%s/paird-unit-XXXXXX", base) > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *path_join(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

char *file_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!fp)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *stderr_of(void (*fn)(void *arg), void *arg)
{
	char *dir = tmpdir_new(), *path = path_join(dir, "stderr"), *text;
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	fn(arg);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	text = file_read(path, NULL);
	assert_non_null(text);
	free(path);
	tmpdir_remove(dir);
	return text;
}

void file_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

bool file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

unsigned dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* --- JSON --- */

char *text_dq(const char *text)
{
	char *dq = strdup(text);

	assert_non_null(dq);
	for (char *c = dq; *c; c++)
		if (*c == '\'')
			*c = '"';
	return dq;
}

json_t *json_sq(const char *text)
{
	char *dq = text_dq(text);
	json_error_t jerr;
	json_t *doc = json_loads(dq, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);

	if (!doc)
		fail_msg("bad test JSON %s: %s", dq, jerr.text);
	free(dq);
	return doc;
}

/* --- bytes --- */

size_t hex_decode(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex == ' ' || *hex == '\t' || *hex == '\n' || *hex == ':')
			continue;
		v = hex_digit(*hex);
		if (v < 0)
			fail_msg("not a hex digit: '%c'", *hex);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < max);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_true(hi < 0);
	return n;
}

void frame_fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

void ipv4_checksum_fix(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t sum;

	ip[10] = ip[11] = 0;
	sum = csum_fold(csum_add(0, ip, hlen));
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

struct memio *memio_env_new(struct port_env *env)
{
	struct memio *m;

	log_set_level(LOG_ERROR);
	m = memio_new();
	assert_non_null(m);
	env->io = memio_io(m);
	return m;
}

void admin_addr_add(struct memio *m, const char *name, const char *prefix)
{
	const struct link_state *ls = memio_link(m, name);
	struct port_io io = memio_io(m);
	struct ip_prefix p;
	const char *why;

	assert_non_null(ls);
	assert_int_equal(prefix_parse(prefix, &p, &why), 0);
	assert_int_equal(io.ops->addr_set(io.ctx, ls->ifindex, &p, true), 0);
}

void senv_init(struct stack_env *env, size_t budget, size_t ring_bytes, unsigned max_bindings)
{
	memset(env, 0, sizeof(*env));
	env->budget = capture_budget_new(budget);
	assert_non_null(env->budget);
	env->ring_bytes = ring_bytes;
	env->max_bindings = max_bindings;
	env->scratch = malloc(PORT_FRAME_MAX);
	assert_non_null(env->scratch);
}

void senv_fini(struct stack_env *env)
{
	assert_int_equal(capture_budget_used(env->budget), 0);
	capture_budget_free(env->budget);
	free(env->scratch);
}

void frame_feed(struct memio *m, struct port *port, const void *frame, size_t len)
{
	const char *name = port_name(port);

	assert_int_equal(memio_push(m, name, frame, len), 0);
	/* A frame costs at least one byte of the read budget: a few turns drain the queue. */
	for (unsigned turn = 0; memio_queued(m, name) && turn < 1024; turn++)
		port_read_ready(port);
	assert_int_equal(memio_queued(m, name), 0);
}
