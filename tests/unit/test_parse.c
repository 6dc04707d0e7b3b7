// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/parse.c and the cursor getters of service/wire.h.
 * Every fixture frame of tests/fixtures/frames (FIXTURES_DIR, or that path
 * from the current directory) becomes one test: parsed whole, every
 * `# expect:` line checked, then replayed truncated at every length, each
 * copy in a buffer of exactly its size so that ASan sees any over-read.
 * Hand-built frames then walk each length rule of DESIGN.md one by one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/csum.h"
#include "../../service/netaddr.h"
#include "../../service/parse.h"
#include "frame_check.h"
#include "../../service/wire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURE_MAX   65600
#define EXPECT_MAX    64
#define MSG_MAX	      4096

/* ------------------------------------------------------------------ */
/* Properties every parse result must have, whatever the input.        */
/* ------------------------------------------------------------------ */

static void parse_copy(const uint8_t *frame, size_t len, enum frame_link link, bool strict,
		       struct frame_info *fi)
{
	/* Exactly @len bytes on the heap, so that ASan catches a read past them. */
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	if (len)
		memcpy(copy, frame, len);
	frame_parse(copy, len, link, strict ? PARSE_STRICT : 0, fi);
	free(copy);
}

static void assert_consistent(const struct frame_info *fi, size_t len, bool strict,
			      const char *what)
{
	const char *why = frame_check(fi, len, strict);

	if (why)
		fail_msg("%s, %zu bytes, %s: %s (malformed %s)", what, len,
			 strict ? "strict" : "not strict", why, malformed_name(fi->malformed));
}

/* ------------------------------------------------------------------ */
/* Fixture files.                                                       */
/* ------------------------------------------------------------------ */

struct fixture {
	char name[256];
	char path[4096];
	char error[256]; /* a format error found while loading */
	enum frame_link link;
	bool has_link, strict;
	uint8_t *frame;
	size_t len;
	size_t n_expect;
	char key[EXPECT_MAX][32];
	char value[EXPECT_MAX][160];
};

static const char *fixtures_dir(void)
{
	const char *d = getenv("FIXTURES_DIR");

	return d && *d ? d : "tests/fixtures/frames";
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static bool fixture_comment(struct fixture *fx, char *text)
{
	char *v;

	if (strncmp(text, "link:", 5) == 0) {
		v = trim(text + 5);
		fx->has_link = true;
		if (strcmp(v, "ethernet") == 0)
			fx->link = LINK_ETHERNET;
		else if (strcmp(v, "ip") == 0)
			fx->link = LINK_IP;
		else if (strcmp(v, "ip_pi") == 0)
			fx->link = LINK_IP_PI;
		else
			return false;
	} else if (strncmp(text, "strict:", 7) == 0) {
		v = trim(text + 7);
		if (strcmp(v, "true") == 0)
			fx->strict = true;
		else if (strcmp(v, "false") == 0)
			fx->strict = false;
		else
			return false;
	} else if (strncmp(text, "expect:", 7) == 0) {
		char *k = trim(text + 7);
		size_t klen = strcspn(k, " \t");

		if (fx->n_expect == EXPECT_MAX || klen == 0 || klen >= sizeof(fx->key[0]))
			return false;
		v = trim(k + klen);
		if (strlen(v) >= sizeof(fx->value[0]))
			return false;
		memcpy(fx->key[fx->n_expect], k, klen);
		fx->key[fx->n_expect][klen] = '\0';
		strcpy(fx->value[fx->n_expect], v);
		fx->n_expect++;
	}
	return true;
}

static void fixture_load(struct fixture *fx)
{
	char line[1024];
	unsigned int lineno = 0;
	int hi = -1;
	FILE *f;

	fx->frame = malloc(FIXTURE_MAX);
	assert_non_null(fx->frame);
	f = fopen(fx->path, "r");
	if (!f) {
		snprintf(fx->error, sizeof(fx->error), "cannot open: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line);

		lineno++;
		if (*s == '#') {
			if (!fixture_comment(fx, trim(s + 1))) {
				snprintf(fx->error, sizeof(fx->error), "line %u: bad header",
					 lineno);
				break;
			}
			continue;
		}
		for (; *s; s++) {
			int v;

			if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
				continue;
			v = hex_digit((char)*s);
			if (v < 0 || (hi >= 0 && fx->len == FIXTURE_MAX)) {
				snprintf(fx->error, sizeof(fx->error), "line %u: not hex", lineno);
				goto out;
			}
			if (hi < 0) {
				hi = v;
			} else {
				fx->frame[fx->len++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
	}
	if (!fx->error[0] && hi >= 0)
		snprintf(fx->error, sizeof(fx->error), "odd number of hex digits");
	if (!fx->error[0] && !fx->has_link)
		snprintf(fx->error, sizeof(fx->error), "no `# link:` line");
	if (!fx->error[0] && fx->n_expect == 0)
		snprintf(fx->error, sizeof(fx->error), "no `# expect:` line");
out:
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* Expectations.                                                        */
/* ------------------------------------------------------------------ */

enum vtype { V_NUM, V_BOOL, V_STR, V_IP4, V_IP6, V_MAC, V_HEX };

struct actual {
	enum vtype type;
	bool known; /* V_NUM: false prints as "none" */
	unsigned long num;
	char str[128];
	const uint8_t *bytes;
	size_t n;
};

static const char *l3_names[] = { "none", "arp", "ipv4", "ipv6", "other" };
static const char *l4_names[] = { "none", "udp", "icmp", "icmpv6", "other" };
static const char *csum_names[] = { "unchecked", "ok", "bad", "none" };

static void dispatch_path(const struct frame_info *fi, char *buf, size_t size)
{
	int n;

	if (!fi->has_ethertype) {
		snprintf(buf, size, "-");
		return;
	}
	n = snprintf(buf, size, "ethertype=%u", fi->ethertype);
	if (fi->has_ip_protocol)
		n += snprintf(buf + n, size - (size_t)n, ",ip_protocol=%u", fi->ip_protocol);
	if (fi->has_ip_protocol && fi->l4 == L4_UDP && !fi->fragment &&
	    fi->malformed == MALFORMED_NONE)
		snprintf(buf + n, size - (size_t)n, ",udp_port=%u", fi->udp.dport);
}

/* Fills @a with the actual value of @key; false for an unknown key. */
static bool actual_of(const char *key, const struct frame_info *fi, const uint8_t *frame,
		      struct actual *a)
{
	memset(a, 0, sizeof(*a));
	a->known = true;
#define NUM(k, expr)               \
	if (strcmp(key, k) == 0) { \
		a->type = V_NUM;   \
		a->num = (expr);   \
		return true;       \
	}
#define OPT(k, has, expr)          \
	if (strcmp(key, k) == 0) { \
		a->type = V_NUM;   \
		a->known = (has);  \
		a->num = (expr);   \
		return true;       \
	}
#define BOOL(k, expr)              \
	if (strcmp(key, k) == 0) { \
		a->type = V_BOOL;  \
		a->num = (expr);   \
		return true;       \
	}
#define STR(k, expr)                                          \
	if (strcmp(key, k) == 0) {                            \
		a->type = V_STR;                              \
		snprintf(a->str, sizeof(a->str), "%s", expr); \
		return true;                                  \
	}
#define BYTES(k, t, p, len)        \
	if (strcmp(key, k) == 0) { \
		a->type = t;       \
		a->bytes = (p);    \
		a->n = (len);      \
		return true;       \
	}
	STR("malformed", malformed_name(fi->malformed));
	OPT("ethertype", fi->has_ethertype, fi->ethertype);
	STR("l3", (unsigned int)fi->l3 < ARRAY_SIZE(l3_names) ? l3_names[fi->l3] : "?");
	OPT("ip_protocol", fi->has_ip_protocol, fi->ip_protocol);
	BOOL("fragment", fi->fragment);
	STR("l4", (unsigned int)fi->l4 < ARRAY_SIZE(l4_names) ? l4_names[fi->l4] : "?");
	NUM("udp_sport", fi->udp.sport);
	NUM("udp_dport", fi->udp.dport);
	NUM("udp_length", fi->udp.length);
	STR("udp_checksum", csum_names[fi->udp.checksum_status & 3]);
	STR("ipv4_checksum", csum_names[fi->ip4.checksum_status & 3]);
	STR("icmp_checksum", csum_names[fi->icmp.checksum_status & 3]);
	NUM("icmp_type", fi->icmp.type);
	NUM("icmp_code", fi->icmp.code);
	NUM("ipv4_version", fi->ip4.version);
	NUM("ipv4_ihl", fi->ip4.ihl);
	NUM("ipv4_tos", fi->ip4.tos);
	NUM("ipv4_total_length", fi->ip4.total_length);
	NUM("ipv4_id", fi->ip4.id);
	NUM("ipv4_ttl", fi->ip4.ttl);
	BOOL("ipv4_df", fi->ip4.df);
	BOOL("ipv4_mf", fi->ip4.mf);
	NUM("ipv4_fragment_offset", fi->ip4.fragment_offset);
	BYTES("ipv4_src", V_IP4, fi->ip4.src, 4);
	BYTES("ipv4_dst", V_IP4, fi->ip4.dst, 4);
	BYTES("ipv6_src", V_IP6, fi->ip6.src, 16);
	BYTES("ipv6_dst", V_IP6, fi->ip6.dst, 16);
	BYTES("eth_src", V_MAC, fi->eth_src, 6);
	BYTES("eth_dst", V_MAC, fi->eth_dst, 6);
	OPT("eth_type", fi->has_eth, fi->eth_type);
	NUM("payload_len", fi->payload_len);
	BYTES("payload_hex", V_HEX, frame + fi->payload_off, fi->payload_len);
	NUM("arp_op", fi->arp.op);
	if (strcmp(key, "dispatch") == 0) {
		a->type = V_STR;
		dispatch_path(fi, a->str, sizeof(a->str));
		return true;
	}
#undef NUM
#undef OPT
#undef BOOL
#undef STR
#undef BYTES
	return false;
}

static void actual_format(const struct actual *a, char *buf, size_t size)
{
	size_t i, n = 0;

	switch (a->type) {
	case V_NUM:
		if (a->known)
			snprintf(buf, size, "%lu", a->num);
		else
			snprintf(buf, size, "none");
		break;
	case V_BOOL:
		snprintf(buf, size, "%s", a->num ? "true" : "false");
		break;
	case V_STR:
		snprintf(buf, size, "%s", a->str);
		break;
	case V_IP4:
	case V_IP6:
		inet_ntop(a->type == V_IP4 ? AF_INET : AF_INET6, a->bytes, buf, (socklen_t)size);
		break;
	case V_MAC:
		snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", a->bytes[0], a->bytes[1],
			 a->bytes[2], a->bytes[3], a->bytes[4], a->bytes[5]);
		break;
	case V_HEX:
		buf[0] = '\0';
		for (i = 0; i < a->n && n + 3 < size; i++)
			n += (size_t)snprintf(buf + n, size - n, "%02x", a->bytes[i]);
		if (a->n == 0)
			snprintf(buf, size, "-");
		break;
	}
}

static bool actual_matches(const struct actual *a, const char *want)
{
	uint8_t b[16];
	char *end;

	switch (a->type) {
	case V_NUM: {
		unsigned long v;

		if (strcmp(want, "none") == 0)
			return !a->known;
		errno = 0;
		v = strtoul(want, &end, 0);
		return a->known && errno == 0 && *want && !*end && v == a->num;
	}
	case V_BOOL:
		return strcmp(want, a->num ? "true" : "false") == 0;
	case V_STR:
		return strcmp(want, a->str) == 0;
	case V_IP4:
		return inet_pton(AF_INET, want, b) == 1 && memcmp(b, a->bytes, 4) == 0;
	case V_IP6:
		return inet_pton(AF_INET6, want, b) == 1 && memcmp(b, a->bytes, 16) == 0;
	case V_MAC: {
		unsigned int m[6];
		int used = 0;

		if (sscanf(want, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5], &used) != 6 ||
		    want[used])
			return false;
		for (int i = 0; i < 6; i++)
			if (a->bytes[i] != m[i])
				return false;
		return true;
	}
	case V_HEX: {
		size_t n = 0;

		if (strcmp(want, "-") == 0)
			return a->n == 0;
		for (const char *s = want; *s; s += 2) {
			if (hex_digit((char)s[0]) < 0 || hex_digit((char)s[1]) < 0)
				return false;
			if (n >= a->n ||
			    a->bytes[n] != (hex_digit((char)s[0]) << 4 | hex_digit((char)s[1])))
				return false;
			n++;
		}
		return n == a->n;
	}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* One fixture: the whole frame, then every truncation.                 */
/* ------------------------------------------------------------------ */

static void test_fixture(void **state)
{
	struct fixture *fx = *state;
	struct frame_info full, fi;
	char msg[MSG_MAX], got[160];
	size_t m = 0, l3_end;

	if (fx->error[0])
		fail_msg("%s: %s", fx->path, fx->error);

	frame_parse(fx->frame, fx->len, fx->link, fx->strict ? PARSE_STRICT : 0, &full);
	parse_copy(fx->frame, fx->len, fx->link, fx->strict, &fi);
	assert_memory_equal(&full, &fi, sizeof(fi));
	assert_consistent(&full, fx->len, fx->strict, fx->name);

	msg[0] = '\0';
	for (size_t i = 0; i < fx->n_expect; i++) {
		struct actual a;

		if (!actual_of(fx->key[i], &full, fx->frame, &a)) {
			m += (size_t)snprintf(msg + m, sizeof(msg) - m, "\n  unknown key %s",
					      fx->key[i]);
		} else if (!actual_matches(&a, fx->value[i])) {
			actual_format(&a, got, sizeof(got));
			m += (size_t)snprintf(msg + m, sizeof(msg) - m, "\n  %s: want %s, got %s",
					      fx->key[i], fx->value[i], got);
		}
		if (m >= sizeof(msg))
			break;
	}
	if (msg[0])
		fail_msg("%s:%s", fx->path, msg);

	/* The other strictness must hold together too. */
	parse_copy(fx->frame, fx->len, fx->link, !fx->strict, &fi);
	assert_consistent(&fi, fx->len, !fx->strict, fx->name);

	l3_end = full.l3_off + full.l3_len;
	for (size_t n = 0; n < fx->len; n++) {
		for (int s = 0; s < 2; s++) {
			parse_copy(fx->frame, n, fx->link, s, &fi);
			assert_consistent(&fi, n, s, fx->name);
			if (s != fx->strict || full.malformed != MALFORMED_NONE ||
			    (full.l3 != L3_ARP && full.l3 != L3_IPV4 && full.l3 != L3_IPV6))
				continue;
			/*
			 * A cut into a length-checked network layer is always a
			 * malformation; a cut into the link padding only changes
			 * nothing at all.
			 */
			if (n < l3_end && fi.malformed == MALFORMED_NONE)
				fail_msg("%s cut at %zu of %zu parses clean", fx->name, n, fx->len);
			if (n >= l3_end && memcmp(&fi, &full, sizeof(fi)) != 0)
				fail_msg("%s cut at %zu (padding only) parses differently",
					 fx->name, n);
		}
	}
}

static int fixture_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fixture *)a)->name, ((const struct fixture *)b)->name);
}

/* Loads every *.hex of the fixture directory; NULL with *n == 0 if there are none. */
static struct fixture *fixtures_load(size_t *n)
{
	const char *dir = fixtures_dir();
	struct fixture *fxs = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*n = 0;
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "test_parse: cannot open fixture directory %s: %s\n", dir,
			strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct fixture *fx;

		if (len < 5 || strcmp(de->d_name + len - 4, ".hex") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			fxs = realloc(fxs, cap * sizeof(*fxs));
			assert_non_null(fxs);
		}
		fx = &fxs[(*n)++];
		memset(fx, 0, sizeof(*fx));
		snprintf(fx->name, sizeof(fx->name), "%.*s", (int)(len - 4), de->d_name);
		snprintf(fx->path, sizeof(fx->path), "%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(fxs, *n, sizeof(*fxs), fixture_name_cmp);
	for (size_t i = 0; i < *n; i++)
		fixture_load(&fxs[i]);
	return fxs;
}

static struct fixture *all_fixtures;
static size_t n_fixtures;

/* The fixtures cover every reason the parser can give, and every link kind. */
static void test_fixture_coverage(void **state)
{
	bool reason[MALFORMED_COUNT] = { false }, link[3] = { false };
	const char *missing = NULL;

	(void)state;
	if (n_fixtures < 30)
		fail_msg("only %zu fixtures in %s", n_fixtures, fixtures_dir());
	for (size_t i = 0; i < n_fixtures; i++) {
		const struct fixture *fx = &all_fixtures[i];

		if ((unsigned int)fx->link < ARRAY_SIZE(link))
			link[fx->link] = true;
		for (size_t k = 0; k < fx->n_expect; k++) {
			if (strcmp(fx->key[k], "malformed") != 0)
				continue;
			for (int r = 0; r < MALFORMED_COUNT; r++)
				if (strcmp(fx->value[k], malformed_name(r)) == 0)
					reason[r] = true;
		}
	}
	for (int r = MALFORMED_NONE; r < MALFORMED_COUNT; r++)
		if (!reason[r] && r != MAL_truncated)
			missing = malformed_name(r);
	if (missing)
		fail_msg("no fixture expects malformed %s", missing);
	assert_true(link[LINK_ETHERNET] && link[LINK_IP] && link[LINK_IP_PI]);
}

/* ------------------------------------------------------------------ */
/* The cursor getters.                                                  */
/* ------------------------------------------------------------------ */

static void test_cursor_bounds(void **state)
{
	static const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct cursor c = cur_init(b, sizeof(b)), sub, empty = cur_init(NULL, 99);
	uint8_t v8 = 0, buf[8];
	uint16_t v16 = 0;
	uint32_t v32 = 0;

	(void)state;
	assert_true(cur_has(&c, 0, 5));
	assert_true(cur_has(&c, 5, 0));
	assert_false(cur_has(&c, 6, 0));
	assert_false(cur_has(&c, 0, 6));
	assert_false(cur_has(&c, 1, SIZE_MAX)); /* off + n wraps around */
	assert_false(cur_has(&c, SIZE_MAX, 1));
	assert_false(cur_has(&c, SIZE_MAX, SIZE_MAX));

	assert_true(cur_u8(&c, 4, &v8));
	assert_int_equal(v8, 0x9a);
	assert_false(cur_u8(&c, 5, &v8));
	assert_int_equal(v8, 0x9a); /* untouched on failure */

	assert_true(cur_be16(&c, 0, &v16));
	assert_int_equal(v16, 0x1234);
	assert_true(cur_be16(&c, 3, &v16));
	assert_int_equal(v16, 0x789a);
	assert_false(cur_be16(&c, 4, &v16));
	assert_false(cur_be16(&c, SIZE_MAX, &v16));

	assert_true(cur_be32(&c, 1, &v32));
	assert_int_equal(v32, 0x3456789a);
	assert_false(cur_be32(&c, 2, &v32));
	assert_int_equal(v32, 0x3456789a);

	assert_true(cur_he16(&c, 0, &v16));
	assert_memory_equal(&v16, b, 2);
	assert_false(cur_he16(&c, 4, &v16));

	memset(buf, 0xee, sizeof(buf));
	assert_true(cur_bytes(&c, 1, buf, 3));
	assert_memory_equal(buf, b + 1, 3);
	assert_int_equal(buf[3], 0xee);
	assert_true(cur_bytes(&c, 5, buf, 0));
	assert_false(cur_bytes(&c, 3, buf, 3));
	assert_false(cur_bytes(&c, 2, buf, SIZE_MAX));

	assert_true(cur_sub(&c, 1, 3, &sub));
	assert_int_equal(sub.len, 3);
	assert_true(cur_be16(&sub, 1, &v16));
	assert_int_equal(v16, 0x5678);
	assert_false(cur_u8(&sub, 3, &v8)); /* the sub-cursor ends before its parent */
	assert_false(cur_sub(&c, 4, 2, &sub));
	assert_false(cur_sub(&c, 2, SIZE_MAX - 1, &sub));
	assert_true(cur_sub(&c, 5, 0, &sub));
	assert_int_equal(sub.len, 0);

	assert_true(cur_tail(&c, 2, &sub));
	assert_int_equal(sub.len, 3);
	assert_true(cur_tail(&c, 5, &sub));
	assert_int_equal(sub.len, 0);
	assert_false(cur_tail(&c, 6, &sub));

	assert_int_equal(empty.len, 0);
	assert_false(cur_u8(&empty, 0, &v8));
	assert_true(cur_sub(&empty, 0, 0, &sub));
	assert_null(sub.p);
	assert_true(cur_bytes(&empty, 0, buf, 0));
}

/* ------------------------------------------------------------------ */
/* Hand-built frames, one rule at a time.                               */
/* ------------------------------------------------------------------ */

static const uint8_t ip4_a[4] = { 198, 18, 0, 1 }, ip4_b[4] = { 198, 18, 0, 2 };
static const uint8_t ip6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t ip6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ip4_fix(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
}

/*
 * IPv4 (IHL @ihl_words, options zero) + UDP + @plen bytes of payload at
 * @buf, checksums right. Returns the packet length.
 */
static size_t build_ip4_udp(uint8_t *buf, unsigned int ihl_words, size_t plen)
{
	size_t hlen = (size_t)ihl_words * 4, ulen = 8 + plen;
	uint8_t *u = buf + hlen;

	memset(buf, 0, hlen + ulen);
	buf[0] = (uint8_t)(0x40 | ihl_words);
	put16(buf + 2, (unsigned int)(hlen + ulen));
	buf[8] = 64;
	buf[9] = IPPROTO_UDP_;
	memcpy(buf + 12, ip4_a, 4);
	memcpy(buf + 16, ip4_b, 4);
	ip4_fix(buf);
	put16(u, 1111);
	put16(u + 2, 2222);
	put16(u + 4, (unsigned int)ulen);
	for (size_t i = 0; i < plen; i++)
		u[8 + i] = (uint8_t)(0xa0 + i);
	put16(u + 6, csum_fold(csum_add(csum_pseudo4(ip4_a, ip4_b, IPPROTO_UDP_, (uint32_t)ulen), u,
					ulen)));
	return hlen + ulen;
}

static void parse_ip(const uint8_t *p, size_t len, struct frame_info *fi)
{
	parse_copy(p, len, LINK_IP, false, fi);
	assert_consistent(fi, len, false, "hand-built");
}

static void test_ipv4_nibbles(void **state)
{
	uint8_t p[64], f[80] = { 0 };
	struct frame_info fi;
	size_t len = build_ip4_udp(p, 5, 4);

	(void)state;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.ip4.version, 4);
	assert_int_equal(fi.ip4.ihl, 20);
	assert_int_equal(fi.l4_off, 20);

	/* Swapped nibbles (0x54) on an Ethernet frame: version 5, not IPv4. */
	f[12] = 0x08;
	memcpy(f + 14, p, len);
	f[14] = 0x54;
	parse_copy(f, 14 + len, LINK_ETHERNET, false, &fi);
	assert_int_equal(fi.malformed, MAL_ipv4_bad_version);
	assert_int_equal(fi.ip4.version, 5);
	assert_false(fi.has_ip_protocol);
}

static void test_ipv4_ihl(void **state)
{
	uint8_t p[128];
	struct frame_info fi;
	size_t len;

	(void)state;
	for (unsigned int ihl = 0; ihl < 5; ihl++) {
		len = build_ip4_udp(p, 5, 40);
		p[0] = (uint8_t)(0x40 | ihl);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MAL_ipv4_bad_ihl);
		assert_int_equal(fi.ip4.ihl, ihl * 4);
	}

	/* Options: the UDP header is at IHL * 4 for every IHL up to 15. */
	for (unsigned int ihl = 5; ihl <= 15; ihl++) {
		len = build_ip4_udp(p, ihl, 3);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MALFORMED_NONE);
		assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
		assert_int_equal(fi.l4_off, ihl * 4);
		assert_int_equal(fi.udp.checksum_status, CSUM_OK);
		assert_int_equal(fi.payload_off, ihl * 4 + 8);
		assert_int_equal(fi.payload_len, 3);
		assert_int_equal(p[fi.payload_off], 0xa0);
	}

	/* IHL * 4 beyond the bytes received: 60 bytes claimed, 40 there. */
	len = build_ip4_udp(p, 5, 12);
	p[0] = 0x4f;
	put16(p + 2, 40);
	ip4_fix(p);
	parse_ip(p, len, &fi);
	assert_int_equal(len, 40);
	assert_int_equal(fi.malformed, MAL_ipv4_bad_ihl);
}

static void test_ipv4_total_length(void **state)
{
	uint8_t p[128];
	struct frame_info fi;
	size_t len;

	(void)state;
	len = build_ip4_udp(p, 6, 4);
	for (unsigned int tl = 0; tl < 24; tl++) {
		put16(p + 2, tl);
		ip4_fix(p);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MAL_ipv4_bad_total_length);
	}
	put16(p + 2, (unsigned int)len + 1);
	ip4_fix(p);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv4_bad_total_length);

	/* Exactly the header: a protocol node with an empty payload, so UDP is short. */
	put16(p + 2, 24);
	ip4_fix(p);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_udp_short);
	assert_true(fi.has_ip_protocol);
	assert_int_equal(fi.l3_len, 24);
	assert_int_equal(fi.l4_len, 0);

	/* Too short for any header at all. */
	for (size_t n = 1; n < 20; n++) {
		parse_ip(p, n, &fi);
		assert_int_equal(fi.malformed, MAL_ipv4_short);
	}
}

static void test_ipv4_checksum_strict(void **state)
{
	uint8_t p[64];
	struct frame_info fi;
	size_t len = build_ip4_udp(p, 5, 4);

	(void)state;
	p[10] ^= 1;
	parse_copy(p, len, LINK_IP, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.ip4.checksum_status, CSUM_BAD);
	assert_int_equal(fi.l4, L4_UDP);
	parse_copy(p, len, LINK_IP, true, &fi);
	assert_int_equal(fi.malformed, MAL_ipv4_bad_checksum);
	assert_false(fi.has_ip_protocol);
	assert_int_equal(fi.l4, L4_NONE);
}

static void test_ipv4_fragments(void **state)
{
	static const unsigned int frag[] = { 0x2000, 0x0001, 0x1fff, 0x6000, 0x2010 };
	uint8_t p[64];
	struct frame_info fi;
	size_t len;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(frag); i++) {
		len = build_ip4_udp(p, 5, 4);
		put16(p + 6, frag[i]);
		ip4_fix(p);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MALFORMED_NONE);
		assert_true(fi.fragment);
		assert_true(fi.has_ip_protocol);
		assert_int_equal(fi.ip_protocol, IPPROTO_UDP_);
		assert_int_equal(fi.l4, L4_NONE);
		assert_int_equal(fi.udp.dport, 0);
		assert_int_equal(fi.l4_len, 12);
	}
	/* DF alone (and the reserved bit) is no fragment. */
	len = build_ip4_udp(p, 5, 4);
	put16(p + 6, 0xc000);
	ip4_fix(p);
	parse_ip(p, len, &fi);
	assert_false(fi.fragment);
	assert_true(fi.ip4.df);
	assert_int_equal(fi.l4, L4_UDP);
}

static void test_udp_length(void **state)
{
	uint8_t p[64];
	struct frame_info fi;
	size_t len;

	(void)state;
	for (unsigned int ul = 0; ul < 8; ul++) {
		len = build_ip4_udp(p, 5, 10);
		put16(p + 24, ul);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MAL_udp_bad_length);
		assert_int_equal(fi.udp.length, ul);
		assert_int_equal(fi.payload_len, 0);
	}
	len = build_ip4_udp(p, 5, 10);
	put16(p + 24, 19);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_udp_bad_length);

	/* A UDP length below the IP payload trims the payload (checksum then over 12). */
	len = build_ip4_udp(p, 5, 10);
	put16(p + 24, 12);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_BAD);
	assert_int_equal(fi.payload_len, 4);
	assert_int_equal(fi.l4_len, 18);

	/* Fewer than 8 bytes of IP payload. */
	for (size_t n = 0; n < 8; n++) {
		len = build_ip4_udp(p, 5, 0);
		put16(p + 2, (unsigned int)(20 + n));
		ip4_fix(p);
		parse_ip(p, 20 + n, &fi);
		assert_int_equal(fi.malformed, MAL_udp_short);
		assert_int_equal(fi.l4, L4_UDP);
	}
}

static void test_udp_checksum(void **state)
{
	uint8_t p[64];
	struct frame_info fi;
	size_t len;
	bool found = false;

	(void)state;
	len = build_ip4_udp(p, 5, 2);
	put16(p + 26, 0);
	parse_copy(p, len, LINK_IP, true, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_NONE);

	/* A computed checksum of 0 is sent as 0xffff (RFC 768), and verifies. */
	for (unsigned int v = 0; v < 0x10000 && !found; v++) {
		len = build_ip4_udp(p, 5, 2);
		put16(p + 28, v);
		put16(p + 26, 0);
		if (csum_fold(csum_add(csum_pseudo4(ip4_a, ip4_b, IPPROTO_UDP_, 10), p + 20, 10)))
			continue;
		put16(p + 26, 0xffff);
		found = true;
	}
	assert_true(found);
	parse_copy(p, len, LINK_IP, true, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum, 0xffff);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);

	p[28] ^= 0x80;
	parse_copy(p, len, LINK_IP, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_BAD);
	assert_int_equal(fi.payload_len, 2);
	parse_copy(p, len, LINK_IP, true, &fi);
	assert_int_equal(fi.malformed, MAL_udp_bad_checksum);
	assert_int_equal(fi.payload_len, 0);

	/* PARSE_L4_CSUM_OK: a non-zero checksum is taken as good, unread, even when strict. */
	frame_parse(p, len, LINK_IP, PARSE_STRICT | PARSE_L4_CSUM_OK, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.payload_len, 2);
	/* ... but no checksum is still none: the hint says nothing of a zero. */
	put16(p + 26, 0);
	frame_parse(p, len, LINK_IP, PARSE_L4_CSUM_OK, &fi);
	assert_int_equal(fi.udp.checksum_status, CSUM_NONE);
}

/*
 * IPv6 + @n_ext Destination Options headers (8 bytes each) + UDP with @plen
 * bytes of payload; returns the packet length.
 */
static size_t build_ip6_udp(uint8_t *buf, unsigned int n_ext, size_t plen)
{
	size_t ulen = 8 + plen, off = 40;
	uint8_t *u;

	memset(buf, 0, 40 + 8 * n_ext + ulen);
	buf[0] = 0x60;
	put16(buf + 4, (unsigned int)(8 * n_ext + ulen));
	buf[6] = n_ext ? 60 : IPPROTO_UDP_;
	buf[7] = 64;
	memcpy(buf + 8, ip6_a, 16);
	memcpy(buf + 24, ip6_b, 16);
	for (unsigned int i = 0; i < n_ext; i++, off += 8) {
		buf[off] = i + 1 < n_ext ? 60 : IPPROTO_UDP_;
		buf[off + 2] = 1; /* PadN, 4 bytes */
		buf[off + 3] = 4;
	}
	u = buf + off;
	put16(u, 3333);
	put16(u + 2, 4444);
	put16(u + 4, (unsigned int)ulen);
	put16(u + 6, csum_fold(csum_add(csum_pseudo6(ip6_a, ip6_b, IPPROTO_UDP_, (uint32_t)ulen), u,
					ulen)));
	return off + ulen;
}

/* RFC 8200 4.1: any number of extension headers, bounded only by the packet. */
static void test_ipv6_ext_chain(void **state)
{
	static uint8_t p[40 + 65535];
	struct frame_info fi;
	unsigned int most;
	size_t len;

	(void)state;
	for (unsigned int n = 0; n <= 12; n++) {
		len = build_ip6_udp(p, n, 5);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MALFORMED_NONE);
		assert_int_equal(fi.l4, L4_UDP);
		assert_int_equal(fi.l4_off, 40 + 8 * n);
		assert_int_equal(fi.udp.checksum_status, CSUM_OK);
		assert_int_equal(fi.payload_len, 5);
	}
	/* As many 8-byte headers as a 65535-byte payload holds, then UDP. */
	most = (65535 - 8) / 8;
	len = build_ip6_udp(p, most, 65535 - 8 - 8 * most);
	assert_int_equal(len, 40 + 65535);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l4_off, 40 + 8 * most);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	/* The same with the last header cut: the walk ends at the packet's end. */
	put16(p + 4, 8 * most - 1);
	parse_ip(p, 40 + 8 * most - 1, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);

	/* A header cut short by the payload length: both bytes, and its body. */
	len = build_ip6_udp(p, 1, 0);
	for (unsigned int pl = 1; pl < 8; pl++) {
		put16(p + 4, pl);
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);
	}
	put16(p + 4, 16);
	p[41] = 2; /* 24 bytes claimed, 16 there */
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);
}

/* RFC 8200 4.3: next header 0 is Hop-by-Hop only in the IPv6 header itself. */
static void test_ipv6_hbh_not_first(void **state)
{
	uint8_t p[256];
	struct frame_info fi;
	size_t len;

	(void)state;
	/* First: fine. */
	len = build_ip6_udp(p, 2, 3);
	p[6] = 0;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l4, L4_UDP);

	/* Second, after Hop-by-Hop or Destination Options, or after a Fragment header. */
	for (int first = 0; first < 2; first++) {
		len = build_ip6_udp(p, 2, 3);
		p[6] = first ? 0 : 60;
		p[40] = 0;
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MAL_ipv6_hbh_not_first);
		assert_false(fi.has_ip_protocol);
	}
	for (unsigned int frag = 0; frag < 2; frag++) {
		len = build_ip6_udp(p, 2, 3);
		p[6] = 44;
		p[40] = 0;
		p[41] = 0;
		put16(p + 42, frag ? 3 << 3 : 0); /* a non-first one ends the walk right there */
		parse_ip(p, len, &fi);
		assert_int_equal(fi.malformed, MAL_ipv6_hbh_not_first);
		assert_false(fi.fragment);
	}
}

/*
 * RFC 2675 3: a Jumbo Payload option with a Payload Length other than 0 is a
 * format error; Payload Length 0 with one is a jumbogram, which paird's
 * frames cannot hold. Options are TLVs: 0xc2 inside another's data is not one.
 */
static void test_ipv6_jumbo(void **state)
{
	uint8_t p[256];
	struct frame_info fi;
	size_t len;

	(void)state;
	len = build_ip6_udp(p, 1, 3);
	p[6] = 0;
	p[42] = 0xc2; /* Jumbo Payload, 4 bytes of length */
	p[43] = 4;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_jumbo);
	assert_false(fi.has_ip_protocol);

	/* After Pad1 and after a PadN. */
	len = build_ip6_udp(p, 1, 3);
	p[6] = 0;
	p[42] = 0;
	p[43] = 0xc2;
	p[44] = 2; /* ends exactly at the header's end */
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_jumbo);
	len = build_ip6_udp(p, 2, 3);
	p[6] = 0;
	p[40] = IPPROTO_UDP_;
	p[41] = 1; /* 16 bytes, swallowing the second header: PadN of 4, then Jumbo */
	p[48] = 0xc2;
	p[49] = 4;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_jumbo);

	/* 0xc2 as PadN data, or in a Destination Options header, is not a Jumbo option. */
	len = build_ip6_udp(p, 1, 3);
	p[6] = 0;
	p[44] = 0xc2;
	p[45] = 0xc2;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	len = build_ip6_udp(p, 1, 3);
	p[42] = 0xc2;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);

	/* Payload Length 0 with a Jumbo option in the bytes received: a jumbogram. */
	len = build_ip6_udp(p, 1, 3);
	p[6] = 0;
	p[42] = 0xc2;
	put16(p + 4, 0);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_payload_length);
	/* Without one, Hop-by-Hop does not fit in the empty payload. */
	p[42] = 1;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);
}

/* RFC 8200 3: Payload Length 0 without a Jumbo Payload option is an empty payload. */
static void test_ipv6_empty_payload(void **state)
{
	uint8_t p[128];
	struct frame_info fi;
	size_t len;

	(void)state;
	len = build_ip6_udp(p, 0, 4);
	put16(p + 4, 0);
	p[6] = 59;
	parse_ip(p, len, &fi); /* 12 bytes past the packet: link padding */
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l3_len, 40);
	assert_true(fi.has_ip_protocol);
	assert_int_equal(fi.ip_protocol, 59);
	assert_int_equal(fi.l4_off, 40);
	assert_int_equal(fi.l4_len, 0);
	parse_ip(p, 40, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);

	/* Like IPv4 with total length 20: the protocol node, then too short for it. */
	p[6] = IPPROTO_UDP_;
	parse_ip(p, 40, &fi);
	assert_int_equal(fi.malformed, MAL_udp_short);
	assert_int_equal(fi.ip_protocol, IPPROTO_UDP_);
	p[6] = IPPROTO_ICMPV6_;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_icmpv6_short);
	p[6] = 6;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l4, L4_OTHER);
	/* An extension header needs bytes the empty payload does not have. */
	p[6] = 60;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);
}

/*
 * A Fragment header followed by a bad extension header: malformed, and not
 * a fragment too (fuzz_parse found the old parser counting both).
 */
static void test_ipv6_fragment_then_bad_header(void **state)
{
	uint8_t p[256];
	struct frame_info fi;
	size_t len;

	(void)state;
	len = build_ip6_udp(p, 2, 3);
	p[6] = 44;
	p[41] = 0;
	put16(p + 42, 1); /* offset 0, M set: a first fragment */
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_true(fi.fragment);
	assert_int_equal(fi.ip_protocol, IPPROTO_UDP_);

	p[49] = 9; /* the Destination Options header now claims 80 bytes */
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);
	assert_false(fi.fragment);
	assert_true(fi.ip6.mf); /* decoded, as everything before the malformation */
}

static void test_ipv6_ah_and_payload_length(void **state)
{
	uint8_t p[256];
	struct frame_info fi;
	size_t len;

	(void)state;
	/* The first Destination Options header becomes an AH of (Payload Len + 2) * 4. */
	len = build_ip6_udp(p, 2, 0);
	p[6] = 51;
	p[41] = 2; /* 16 bytes: swallows the second header, UDP follows */
	p[40] = IPPROTO_UDP_;
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l4_off, 56);
	assert_int_equal(fi.l4, L4_UDP);
	p[41] = 0; /* 8 bytes: no room for SPI and sequence number */
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_ext_header);

	len = build_ip6_udp(p, 0, 4);
	put16(p + 4, (unsigned int)len - 39);
	parse_ip(p, len, &fi);
	assert_int_equal(fi.malformed, MAL_ipv6_bad_payload_length);

	/* Trailing bytes past the payload length are not the packet's. */
	len = build_ip6_udp(p, 0, 4);
	p[len] = 0xee;
	p[len + 1] = 0xee;
	parse_ip(p, len + 2, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l3_len, len);
	assert_int_equal(fi.payload_len, 4);

	/* UDP checksum 0 over IPv6 (RFC 8200 8.1). */
	len = build_ip6_udp(p, 0, 4);
	put16(p + 46, 0);
	parse_copy(p, len, LINK_IP, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_BAD);
	parse_copy(p, len, LINK_IP, true, &fi);
	assert_int_equal(fi.malformed, MAL_udp_bad_checksum);

	for (size_t n = 1; n < 40; n++) {
		parse_ip(p, n, &fi);
		assert_int_equal(fi.malformed, MAL_ipv6_short);
	}
}

static void test_links(void **state)
{
	uint8_t p[128] = { 0 }, f[160] = { 0 };
	struct frame_info fi;
	size_t len = build_ip4_udp(p, 5, 4);

	(void)state;
	for (size_t n = 0; n < 14; n++) {
		parse_copy(f, n, LINK_ETHERNET, false, &fi);
		assert_int_equal(fi.malformed, MAL_eth_short);
		assert_false(fi.has_eth);
		assert_false(fi.has_ethertype);
	}
	f[12] = 0x88;
	f[13] = 0xb5;
	parse_copy(f, 14, LINK_ETHERNET, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l3, L3_OTHER);
	assert_int_equal(fi.l3_len, 0);

	/* Packet information: 4 bytes, flags in host order, then the ethertype. */
	for (size_t n = 0; n < 4; n++) {
		parse_copy(f, n, LINK_IP_PI, false, &fi);
		assert_int_equal(fi.malformed, MAL_pi_short);
		assert_false(fi.has_pi);
	}
	f[0] = 0;
	f[1] = 0;
	f[2] = 0x08;
	f[3] = 0x00;
	parse_copy(f, 4, LINK_IP_PI, false, &fi);
	assert_true(fi.has_pi);
	assert_int_equal(fi.pi_proto, ETHERTYPE_IPV4);
	assert_int_equal(fi.malformed, MAL_ipv4_short);
	memcpy(f + 4, p, len);
	parse_copy(f, 4 + len, LINK_IP_PI, true, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.l3_off, 4);
	assert_int_equal(fi.l4, L4_UDP);
	assert_int_equal(fi.payload_off, 4 + 28);

	/* A bare tun packet: only versions 4 and 6 are known. */
	parse_copy(p, 0, LINK_IP, false, &fi);
	assert_int_equal(fi.malformed, MAL_ip_bad_version);
	for (unsigned int v = 0; v < 16; v++) {
		p[0] = (uint8_t)(v << 4 | 5);
		parse_copy(p, len, LINK_IP, false, &fi);
		if (v == 4) {
			assert_int_equal(fi.ethertype, ETHERTYPE_IPV4);
			assert_int_equal(fi.malformed, MALFORMED_NONE);
		} else if (v == 6) {
			/* The 32-byte IPv4 packet is too short for an IPv6 header. */
			assert_int_equal(fi.ethertype, ETHERTYPE_IPV6);
			assert_int_equal(fi.malformed, MAL_ipv6_short);
		} else {
			assert_int_equal(fi.malformed, MAL_ip_bad_version);
			assert_false(fi.has_ethertype);
		}
	}

	/* A link kind the parser does not know decodes nothing, and does not crash. */
	parse_copy(p, len, (enum frame_link)42, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_false(fi.has_ethertype);
	frame_parse(NULL, 0, LINK_ETHERNET, 0, &fi);
	assert_int_equal(fi.malformed, MAL_eth_short);
}

/*
 * IEEE 802.3 3.2.6: a type/length field below 1536 is a length (1501..1535
 * undefined, taken the same way): no ethertype, so no ethertype node, and
 * not a malformation either.
 */
static void test_ieee8023(void **state)
{
	uint8_t f[64] = { 0 };
	struct frame_info fi;

	(void)state;
	for (unsigned int t = 0; t <= 0x0600; t++) {
		put16(f + 12, t);
		parse_copy(f, sizeof(f), LINK_ETHERNET, false, &fi);
		assert_consistent(&fi, sizeof(f), false, "802.3");
		assert_int_equal(fi.malformed, MALFORMED_NONE);
		assert_true(fi.has_eth);
		assert_int_equal(fi.eth_type, t);
		if (t < ETHERTYPE_MIN) {
			assert_true(fi.ieee8023);
			assert_false(fi.has_ethertype);
			assert_int_equal(fi.l3, L3_NONE);
		} else {
			assert_false(fi.ieee8023);
			assert_true(fi.has_ethertype);
			assert_int_equal(fi.ethertype, t);
			assert_int_equal(fi.l3, L3_OTHER);
		}
	}
	/* 0x0800 above it is IPv4 as ever. */
	put16(f + 12, ETHERTYPE_IPV4);
	parse_copy(f, sizeof(f), LINK_ETHERNET, false, &fi);
	assert_false(fi.ieee8023);
	assert_int_equal(fi.malformed, MAL_ipv4_bad_version);
}

static void test_arp(void **state)
{
	uint8_t f[64] = { 0 };
	struct frame_info fi;

	(void)state;
	f[12] = 0x08;
	f[13] = 0x06;
	put16(f + 14, 1);
	put16(f + 16, ETHERTYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	f[22] = 0x02;
	memcpy(f + 28, ip4_a, 4);
	memcpy(f + 38, ip4_b, 4);
	for (size_t n = 14; n < 42; n++) {
		parse_copy(f, n, LINK_ETHERNET, false, &fi);
		assert_int_equal(fi.malformed, MAL_arp_short);
		assert_int_equal(fi.l3, L3_ARP);
		/* The fixed part is whole from 8 bytes on; the addresses are not. */
		assert_int_equal(fi.arp.fixed, n >= 14 + 8);
		assert_false(fi.arp.ether_ipv4);
	}
	parse_copy(f, 60, LINK_ETHERNET, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_true(fi.arp.ether_ipv4);
	assert_int_equal(fi.arp.op, 1);
	assert_int_equal(fi.arp.sha[0], 0x02);
	assert_memory_equal(fi.arp.spa, ip4_a, 4);
	assert_memory_equal(fi.arp.tpa, ip4_b, 4);
	assert_int_equal(fi.l3_len, 28);

	/* Other address sizes: lengths honoured, addresses not decoded. */
	f[18] = 255;
	f[19] = 255;
	parse_copy(f, 60, LINK_ETHERNET, false, &fi);
	assert_int_equal(fi.malformed, MAL_arp_short);
	f[18] = 8;
	f[19] = 8;
	parse_copy(f, 14 + 8 + 32, LINK_ETHERNET, false, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_false(fi.arp.ether_ipv4);
	assert_int_equal(fi.arp.spa[0], 0);
}

static void test_malformed_names(void **state)
{
	static const char *const names[] = {
#define X(name) #name,
		MALFORMED_REASONS(X)
#undef X
	};

	(void)state;
	assert_string_equal(malformed_name(MALFORMED_NONE), "none");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(malformed_name((enum malformed)(i + 1)), names[i]);
	assert_string_equal(malformed_name(MAL_ipv4_bad_ihl), "ipv4_bad_ihl");
	assert_string_equal(malformed_name(MALFORMED_COUNT), "unknown");
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_bounds),
		cmocka_unit_test(test_malformed_names),
		cmocka_unit_test(test_ipv4_nibbles),
		cmocka_unit_test(test_ipv4_ihl),
		cmocka_unit_test(test_ipv4_total_length),
		cmocka_unit_test(test_ipv4_checksum_strict),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_udp_length),
		cmocka_unit_test(test_udp_checksum),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_hbh_not_first),
		cmocka_unit_test(test_ipv6_jumbo),
		cmocka_unit_test(test_ipv6_empty_payload),
		cmocka_unit_test(test_ipv6_fragment_then_bad_header),
		cmocka_unit_test(test_ieee8023),
		cmocka_unit_test(test_ipv6_ah_and_payload_length),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_fixture_coverage),
	};
	struct CMUnitTest *fx_tests;
	int failed;

	all_fixtures = fixtures_load(&n_fixtures);
	failed = cmocka_run_group_tests_name("parse", tests, NULL, NULL);

	fx_tests = calloc(n_fixtures + 1, sizeof(*fx_tests));
	if (!fx_tests)
		return 1;
	for (size_t i = 0; i < n_fixtures; i++) {
		fx_tests[i].name = all_fixtures[i].name;
		fx_tests[i].test_func = test_fixture;
		fx_tests[i].initial_state = &all_fixtures[i];
	}
	if (n_fixtures)
		failed +=
			_cmocka_run_group_tests("parse_fixtures", fx_tests, n_fixtures, NULL, NULL);
	else
		failed++;

	for (size_t i = 0; i < n_fixtures; i++)
		free(all_fixtures[i].frame);
	free(all_fixtures);
	free(fx_tests);
	return failed ? 1 : 0;
}
