// SPDX-License-Identifier: MIT
/*
 * Robustness on real traffic: every capture file of the shared corpus
 * (CORPUS_DIR, default ../shared/corpus/tcpdump-ethernet: tcpdump's test
 * suite, crash reproducers and bogus lengths included) is read by a small
 * classic-pcap reader of its own (both byte orders, microsecond and
 * nanosecond magics; pcapng and non-Ethernet files are counted and left
 * out). Every frame is parsed as a tap would, strict and not, and the
 * result must be consistent (offsets inside the frame, the payload inside
 * its layer, no UDP fields on a fragment, strictness changing only what
 * checksums decide), for the frame whole and cut at every length of its
 * headers and its end. Every frame then goes through the read loop of
 * three tap ports of the memory I/O: one with bindings of every kind, the
 * same strict, one with a few deep bindings only; after each file their
 * counters must add up, and every reply a handler wrote must parse
 * strictly clean. Without the corpus the test is skipped, saying why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/bindcfg.h"
#include "../../service/log.h"
#include "../../service/parse.h"
#include "frame_check.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "../../service/stack.h"
#include "support.h"

#define PCAP_MAGIC_US	  0xa1b2c3d4u
#define PCAP_MAGIC_NS	  0xa1b23c4du
#define PCAPNG_MAGIC	  0x0a0d0d0au
#define LINKTYPE_ETHERNET 1

struct totals {
	unsigned files, pcap, pcapng, other_link, not_pcap, cut_files;
	unsigned long frames, bytes, truncated, prefixes, replies;
};

/* --- a classic pcap reader (pcap-savefile(5)) --- */

struct pcap {
	const uint8_t *p;
	size_t len, off;
	bool swap;
	uint32_t linktype;
};

static uint32_t u32(const struct pcap *pc, size_t off)
{
	uint32_t v;

	memcpy(&v, pc->p + off, 4);
	return pc->swap ? __builtin_bswap32(v) : v;
}

/* 0, or -EPROTONOSUPPORT for pcapng, -EINVAL for anything else. */
static int pcap_open(struct pcap *pc, const uint8_t *p, size_t len)
{
	uint32_t magic;

	memset(pc, 0, sizeof(*pc));
	pc->p = p;
	pc->len = len;
	if (len < 24)
		return -EINVAL;
	memcpy(&magic, p, 4);
	if (magic == PCAPNG_MAGIC)
		return -EPROTONOSUPPORT;
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
		pc->swap = false;
	else if (__builtin_bswap32(magic) == PCAP_MAGIC_US ||
		 __builtin_bswap32(magic) == PCAP_MAGIC_NS)
		pc->swap = true;
	else
		return -EINVAL;
	/* The link type's upper bits may carry FCS information: the type is the low 16. */
	pc->linktype = u32(pc, 20) & 0xffff;
	pc->off = 24;
	return 0;
}

/* The next record's bytes; false at the end or at a record cut short (counted by the caller). */
static bool pcap_next(struct pcap *pc, const uint8_t **frame, size_t *len, bool *cut)
{
	uint32_t incl;

	*cut = false;
	if (pc->off == pc->len)
		return false;
	if (pc->len - pc->off < 16) {
		*cut = true;
		return false;
	}
	incl = u32(pc, pc->off + 8);
	if (incl > pc->len - pc->off - 16) {
		*cut = true;
		return false;
	}
	*frame = pc->p + pc->off + 16;
	*len = incl;
	pc->off += 16 + (size_t)incl;
	return true;
}

/* --- parser consistency --- */

static void fail_frame(const char *file, unsigned long n, size_t len, const char *why)
{
	fail_msg("%s frame %lu (%zu bytes): %s", file, n, len, why);
}

/* What every frame_info must satisfy (frame_check.h), and an Ethernet frame besides. */
static void check_consistent(const struct frame_info *fi, size_t len, bool strict, const char *file,
			     unsigned long n)
{
	const char *why = frame_check(fi, len, strict);

	if (why)
		fail_frame(file, n, len, why);
	if (fi->link != LINK_ETHERNET)
		fail_frame(file, n, len, "link kind changed");
	if (!fi->has_eth && (fi->malformed != MAL_eth_short || len >= 14 || fi->has_ethertype))
		fail_frame(file, n, len, "no Ethernet header without eth_short");
}

static bool has_bad_checksum(const struct frame_info *fi)
{
	return fi->ip4.checksum_status == CSUM_BAD || fi->udp.checksum_status == CSUM_BAD ||
	       fi->icmp.checksum_status == CSUM_BAD;
}

static bool checksum_reason(enum malformed m)
{
	return m == MAL_ipv4_bad_checksum || m == MAL_udp_bad_checksum ||
	       m == MAL_icmp_bad_checksum || m == MAL_icmpv6_bad_checksum;
}

/* One frame, lax and strict: each consistent, and strictness only adds checksum verdicts. */
static void parse_check(const uint8_t *frame, size_t len, const char *file, unsigned long n)
{
	struct frame_info lax, strict, again;

	frame_parse(frame, len, LINK_ETHERNET, 0, &lax);
	frame_parse(frame, len, LINK_ETHERNET, PARSE_STRICT, &strict);
	check_consistent(&lax, len, false, file, n);
	check_consistent(&strict, len, true, file, n);
	frame_parse(frame, len, LINK_ETHERNET, 0, &again);
	if (memcmp(&lax, &again, sizeof(lax)) != 0)
		fail_frame(file, n, len, "two parses of the same bytes differ");
	if (checksum_reason(lax.malformed))
		fail_frame(file, n, len, "a checksum malformation on a lax parse");
	/* Alike but for the options each was parsed with, which the frame_info records. */
	strict.opts = lax.opts;
	if (!has_bad_checksum(&lax)) {
		if (memcmp(&lax, &strict, sizeof(lax)) != 0)
			fail_frame(file, n, len, "strict and lax differ without a bad checksum");
	} else if (strict.malformed == MALFORMED_NONE) {
		fail_frame(file, n, len, "a bad checksum that strict parsing let through");
	} else if (!checksum_reason(strict.malformed) && strict.malformed != lax.malformed) {
		fail_frame(file, n, len, "strict stopped for another reason than lax");
	}
}

/* --- replay through ports --- */

#define RIG_PORTS 3

/* lax0 and strict0 have every binding; sparse0 only a few deep ones, so frames go unmatched. */
struct rig {
	struct memio *m;
	struct port_env penv;
	struct stack_env senv;
	struct port *p[RIG_PORTS];
	struct stack *s[RIG_PORTS];
	size_t written_seen[RIG_PORTS];
};

static const char *const rig_names[RIG_PORTS] = { "lax0", "strict0", "sparse0" };

static const char *const rig_bindings[] = {
	"{'handler':'capture','options':{'filter':'udp or icmp or icmp6 or arp','snaplen':256}}",
	"{'handler':'count'}",
	"{'match':{'ethertype':2048},'handler':'count'}",
	"{'match':{'ethertype':34525},'handler':'count'}",
	"{'match':{'ethertype':2048,'ip_protocol':17},'handler':'count'}",
	"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},'handler':'capture'}",
	"{'match':{'ethertype':2048,'ip_protocol':6},'handler':'drop'}",
	"{'match':{'ethertype':2048,'ip_protocol':1},'handler':'echo'}",
	"{'match':{'ethertype':34525,'ip_protocol':58},'handler':'echo'}",
	"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':7},'handler':'echo'}",
	"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},'handler':'echo'}",
	"{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':547},'handler':'echo'}",
	"{'match':{'ethertype':2054},'handler':'arp_reply','options':{'addresses':"
	"['10.0.0.1','10.0.0.2','192.168.1.1','192.168.1.254','172.16.1.1','10.1.1.1']}}",
	"{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply','options':"
	"{'addresses':['fe80::1','2001:db8::1','3ffe:507:0:1:200:86ff:fe05:80da']}}",
	"{'handler':'forward','options':{'port':'elsewhere'}}",
};

static const char *const sparse_bindings[] = {
	"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},'handler':'capture'}",
	"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':123},'handler':'count'}",
	"{'match':{'ethertype':34525,'ip_protocol':58},'handler':'echo'}",
	"{'match':{'ethertype':2054},'handler':'arp_reply','options':{'addresses':['10.0.0.1']}}",
};

static void rig_bind(struct rig *r, int i, const char *spec)
{
	struct binding_config cfg;
	struct fault f = FAULT_INIT;
	json_t *doc = json_sq(spec);

	if (bindcfg_from_json(doc, PORT_TAP, false, &cfg, &f) < 0 ||
	    stack_bind(r->s[i], &cfg, NULL, &f) < 0)
		fail_msg("%s: %s: %s", spec, f.field, f.detail);
	json_decref(doc);
}

static void rig_open(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->m = memio_new();
	assert_non_null(r->m);
	r->penv.io = memio_io(r->m);
	senv_init(&r->senv, 1 << 20, 256 << 10, 32); /* small rings: eviction happens */
	for (int i = 0; i < RIG_PORTS; i++) {
		struct port_config c = { .type = PORT_TAP };
		struct fault f = FAULT_INIT;

		snprintf(c.name, sizeof(c.name), "%s", rig_names[i]);
		c.strict = c.has_strict = i == 1;
		r->p[i] = port_open(&r->penv, &c, &f);
		if (!r->p[i])
			fail_msg("port_open: %s", f.detail);
		r->s[i] = stack_new(&r->senv, r->p[i]);
		assert_non_null(r->s[i]);
		if (i == 2) {
			for (size_t b = 0; b < sizeof(sparse_bindings) / sizeof(sparse_bindings[0]);
			     b++)
				rig_bind(r, i, sparse_bindings[b]);
			continue;
		}
		for (size_t b = 0; b < sizeof(rig_bindings) / sizeof(rig_bindings[0]); b++)
			rig_bind(r, i, rig_bindings[b]);
	}
}

static void rig_close(struct rig *r)
{
	for (int i = 0; i < RIG_PORTS; i++) {
		stack_free(r->s[i]);
		port_free(r->p[i]);
	}
	senv_fini(&r->senv);
	assert_int_equal(memio_open_fds(r->m), 0);
	memio_free(r->m);
}

/* After a file: every frame in one bucket, and every reply parses strictly clean. */
static void rig_check(struct rig *r, const char *file, struct totals *t)
{
	for (int i = 0; i < RIG_PORTS; i++) {
		const struct stack_counters *c = stack_counters(r->s[i]);
		const struct port_counters *pc = port_counters(r->p[i]);
		uint64_t sum = c->matched;
		size_t nw = memio_written_count(r->m, rig_names[i]);

		for (int lv = 0; lv < LEVEL_COUNT; lv++)
			sum += c->unmatched[lv];
		for (int m = 0; m < MALFORMED_COUNT; m++)
			sum += c->malformed[m];
		if (sum != pc->rx_frames)
			fail_msg("%s: %s: matched + unmatched + malformed = %llu, rx_frames = %llu",
				 file, rig_names[i], (unsigned long long)sum,
				 (unsigned long long)pc->rx_frames);
		assert_int_equal(c->malformed[MAL_truncated], pc->truncated);
		assert_int_equal(c->unmatched[LEVEL_ROOT], 0);
		/* The root count binding saw every frame that was not truncated. */
		if (i < 2)
			assert_int_equal(stack_at(r->s[i], 1)->c.packets,
					 pc->rx_frames - pc->truncated);
		for (size_t w = r->written_seen[i]; w < nw; w++) {
			struct frame_info fi;
			size_t len;
			const uint8_t *frame = memio_written(r->m, rig_names[i], w, &len);

			frame_parse(frame, len, LINK_ETHERNET, PARSE_STRICT, &fi);
			if (fi.malformed != MALFORMED_NONE)
				fail_msg("%s: %s wrote a reply that is malformed (%s)", file,
					 rig_names[i], malformed_name(fi.malformed));
			t->replies++;
		}
		r->written_seen[i] = nw;
	}
}

/* --- the test --- */

static const char *corpus_dir(void)
{
	const char *d = getenv("CORPUS_DIR");

	return d && *d ? d : "../shared/corpus/tcpdump-ethernet";
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of @dir, sorted so that runs are alike. */
static char **list_files(const char *dir, size_t *n)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL;

	*n = 0;
	if (!dp)
		return NULL;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (*n + 1) * sizeof(*names));
		assert_non_null(names);
		names[(*n)++] = strdup(de->d_name);
	}
	closedir(dp);
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_names);
	return names;
}

static void replay_file(struct rig *r, const char *dir, const char *name, struct totals *t)
{
	char *path = path_join(dir, name);
	size_t len = 0, flen;
	uint8_t *data = (uint8_t *)file_read(path, &len);
	const uint8_t *frame;
	struct pcap pc;
	unsigned long n = 0;
	bool cut;
	int ret;

	assert_non_null(data);
	t->files++;
	ret = pcap_open(&pc, data, len);
	if (ret == -EPROTONOSUPPORT) {
		t->pcapng++;
		goto out;
	}
	if (ret < 0) {
		t->not_pcap++;
		goto out;
	}
	if (pc.linktype != LINKTYPE_ETHERNET) {
		t->other_link++;
		goto out;
	}
	t->pcap++;
	while (pcap_next(&pc, &frame, &flen, &cut)) {
		n++;
		t->frames++;
		t->bytes += flen;
		parse_check(frame, flen, name, n);
		/*
		 * Cut at every length, as a shorter read would have delivered it:
		 * the headers (the first 512 bytes) and the end, where length
		 * fields meet the bytes received. (Every length of a 64 KiB frame
		 * would cost its square in checksum work.)
		 */
		for (size_t cutlen = 0; cutlen < flen; cutlen++) {
			if (cutlen == 512 && flen > 512 + 64)
				cutlen = flen - 64;
			parse_check(frame, cutlen, name, n);
			t->prefixes++;
		}
		for (int i = 0; i < RIG_PORTS; i++)
			frame_feed(r->m, r->p[i], frame, flen);
		if (flen > PORT_FRAME_MAX)
			t->truncated++;
	}
	if (cut)
		t->cut_files++;
	rig_check(r, name, t);
out:
	free(data);
	free(path);
}

static void test_corpus_replay(void **state)
{
	const char *dir = corpus_dir();
	struct totals t = { 0 };
	struct rig rig;
	size_t n;
	char **names = list_files(dir, &n);

	(void)state;
	if (!names || n == 0) {
		print_message("corpus directory %s is absent or empty (set CORPUS_DIR, or run "
			      "from the repository root next to ../shared): skipped\n",
			      dir);
		free(names);
		skip();
		return;
	}
	log_set_level(LOG_ERROR);
	rig_open(&rig);
	for (size_t i = 0; i < n; i++) {
		replay_file(&rig, dir, names[i], &t);
		free(names[i]);
	}
	free(names);
	print_message("corpus %s: %u files, %u classic Ethernet pcaps replayed: %lu frames "
		      "(%lu bytes, %lu longer than the read buffer), %lu prefixes parsed, %lu "
		      "replies written; left out: %u pcapng, %u other link types, %u not pcap; "
		      "%u files end in a cut record\n",
		      dir, t.files, t.pcap, t.frames, t.bytes, t.truncated, t.prefixes, t.replies,
		      t.pcapng, t.other_link, t.not_pcap, t.cut_files);
	for (int i = 0; i < RIG_PORTS; i++) {
		const struct stack_counters *c = stack_counters(rig.s[i]);
		unsigned long mal = 0;

		for (int m = 0; m < MALFORMED_COUNT; m++)
			mal += c->malformed[m];
		print_message("%s: matched %llu, unmatched %llu/%llu/%llu, malformed %lu, "
			      "fragments %llu\n",
			      rig_names[i], (unsigned long long)c->matched,
			      (unsigned long long)c->unmatched[LEVEL_ETHERTYPE],
			      (unsigned long long)c->unmatched[LEVEL_IP_PROTOCOL],
			      (unsigned long long)c->unmatched[LEVEL_UDP_PORT], mal,
			      (unsigned long long)c->fragments);
	}
	assert_true(t.pcap > 0);
	assert_true(t.frames > 0);
	assert_int_equal(port_counters(rig.p[0])->rx_frames, t.frames);
	rig_close(&rig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_replay),
	};

	return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
