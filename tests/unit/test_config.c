// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/config.c on the memory port I/O with a state file
 * in a scratch directory: a document's every invalid item listed at once,
 * the plan (actions in order, the kernel operations they imply), GET's
 * document put back changing nothing, a second apply changing nothing (no
 * kernel call, no state write, same version), and the rollback of a
 * failed apply (a kernel refusal halfway, a state file that cannot be
 * written): the state file, the memory kernel and the counters exactly as
 * before.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../service/bindcfg.h"
#include "../../service/config.h"
#include "../../service/log.h"
#include "../../service/port.h"
#include "../../service/portset.h"
#include "../../service/stack.h"
#include "../fakes/portio_mem.h"
#include "support.h"

static int setup(void **state)
{
	struct ps_fx *fx = ps_fx_new();

	ps_fx_start(fx, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	ps_fx_free(*state);
	return 0;
}

/* Decodes @text; fails the test when it is invalid. */
static void decode_ok(const char *text, struct state_doc *d)
{
	struct fault f = FAULT_INIT;
	json_error_t je;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!doc)
		fail_msg("%s: %s", text, je.text);
	if (config_decode(doc, NULL, d, &f) != 0)
		fail_msg("%s: %s: %s", text, f.field, f.detail);
	json_decref(doc);
}

/* Plans @text against the port set; *@plan for the caller to free. */
static struct config_plan *plan_of(struct ps_fx *fx, const char *text)
{
	struct config_plan *plan = NULL;
	struct fault f = FAULT_INIT;
	struct state_doc d;

	decode_ok(text, &d);
	if (config_plan_new(fx->ps, &d, &plan, &f) != 0)
		fail_msg("plan: %s: %s", f.field, f.detail);
	state_doc_free(&d);
	return plan;
}

/* Applies @text; returns config_apply()'s result with @f filled, @plan_out (may be NULL) kept. */
static int apply(struct ps_fx *fx, const char *text, struct fault *f, struct config_plan **plan_out)
{
	struct config_plan *plan = plan_of(fx, text);
	int ret = config_apply(fx->ps, plan, f);

	if (plan_out)
		*plan_out = plan;
	else
		config_plan_free(plan);
	return ret;
}

static void apply_ok(struct ps_fx *fx, const char *text)
{
	struct fault f = FAULT_INIT;

	if (apply(fx, text, &f, NULL) != 0)
		fail_msg("apply: %s: %s", f.field, f.detail);
}

/* The plan as compact JSON text, for comparison; free()d by the caller. */
static char *plan_text(const struct config_plan *plan, bool rolled_back)
{
	json_t *j = config_plan_json(plan, rolled_back);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	assert_non_null(s);
	return s;
}

/* GET's document without its version: what must be unchanged after a rollback. */
static char *running_text(const struct ps_fx *fx)
{
	json_t *j = config_to_json(fx->ps);
	char *s;

	json_object_del(j, "version");
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

/* What an apply that changes nothing, or is rolled back, leaves as it was. */
struct snap {
	char *file, *run; /* the state file, running_text() */
	uint64_t version;
	unsigned calls[MEMIO_OP_COUNT];
};

static void snap_take(const struct ps_fx *fx, struct snap *s)
{
	s->file = file_read(fx->path, NULL);
	assert_non_null(s->file);
	s->run = running_text(fx);
	s->version = portset_version(fx->ps);
	for (int op = 0; op < MEMIO_OP_COUNT; op++)
		s->calls[op] = memio_calls(fx->m, (enum memio_op)op);
}

/*
 * Asserts that the state file and the running document are as @s took them
 * and, when @untouched, the version and the memory kernel's call counts too
 * (a rollback calls the kernel to undo). Frees what @s holds.
 */
static void snap_expect(const struct ps_fx *fx, struct snap *s, bool untouched)
{
	char *file = file_read(fx->path, NULL), *run = running_text(fx);

	assert_non_null(file);
	assert_string_equal(s->file, file);
	assert_string_equal(s->run, run);
	if (untouched) {
		assert_true(portset_version(fx->ps) == s->version);
		/* But for asking whether a new port's name is taken (a plan does). */
		for (int op = 0; op < MEMIO_OP_COUNT; op++)
			if (op != MEMIO_LINK_INDEX)
				assert_int_equal(memio_calls(fx->m, (enum memio_op)op),
						 s->calls[op]);
	}
	free(file);
	free(run);
	free(s->file);
	free(s->run);
}

static const char base_doc[] =
	"{\"ports\":{"
	"\"p0\":{\"type\":\"tap\",\"mtu\":1400,\"addresses\":[\"198.18.0.1/24\"],"
	"\"bindings\":{\"cap\":{\"match\":{},\"handler\":\"capture\"},"
	"\"old\":{\"match\":{\"ethertype\":2054},\"handler\":\"count\"}}},"
	"\"p9\":{\"type\":\"tap\",\"bindings\":{\"c9\":{\"match\":{},\"handler\":\"count\"}}}}}";

/* --- the document --- */

static bool fault_lists(const struct fault *f, const char *field)
{
	if (strcmp(f->field, field) == 0)
		return true;
	for (unsigned i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].field, field) == 0)
			return true;
	return false;
}

static void test_decode_lists_every_error(void **state)
{
	struct fault f = FAULT_INIT;
	struct state_doc d;
	json_t *doc = json_loads(
		"{\"ports\":{\"bad name\":{\"type\":\"tap\"},"
		"\"t\":{\"type\":\"x\",\"mtu\":5},"
		"\"u\":{\"type\":\"tap\",\"bindings\":{\"dns\":{\"match\":{\"udp_port\":53},"
		"\"handler\":\"echo\"},\"f\":{\"match\":{},\"handler\":\"forward\","
		"\"options\":{\"port\":\"zz\"}},\"0\":{\"match\":{},\"handler\":\"count\"}}}},"
		"\"extra\":1}",
		0, NULL);

	(void)state;
	assert_non_null(doc);
	assert_true(config_decode(doc, NULL, &d, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_true(fault_lists(&f, "extra"));
	assert_true(fault_lists(&f, "ports.bad name"));
	assert_true(fault_lists(&f, "ports.t.type"));
	assert_true(fault_lists(&f, "ports.t.mtu"));
	assert_true(fault_lists(&f, "ports.u.bindings.dns.match.udp_port"));
	assert_true(fault_lists(&f, "ports.u.bindings.f.options.port"));
	assert_true(fault_lists(&f, "ports.u.bindings.0"));
	assert_int_equal(d.n_ports, 0);
	json_decref(doc);
}

/*
 * An IPv6 address twice, with two prefix lengths: the kernel holds it once,
 * so the apply "added" the second every time and never converged (changed
 * true and drift "addresses" on every run). IPv4's may repeat.
 */
static void test_decode_refuses_ipv6_address_twice(void **state)
{
	struct fault f = FAULT_INIT;
	struct state_doc d;
	json_t *doc = json_loads("{\"ports\":{\"w0\":{\"type\":\"tap\",\"addresses\":["
				 "\"2001:db8:9::1/64\",\"198.18.9.1/24\",\"198.18.9.1/25\","
				 "\"2001:db8:9::1/80\"]}}}",
				 0, NULL);

	(void)state;
	assert_non_null(doc);
	assert_true(config_decode(doc, NULL, &d, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "ports.w0.addresses[3]");
	assert_int_equal(f.n_extra, 0);
	json_decref(doc);
	decode_ok("{\"ports\":{\"w0\":{\"type\":\"tap\",\"addresses\":[\"2001:db8:9::1/64\","
		  "\"198.18.9.1/24\",\"198.18.9.1/25\",\"2001:db8:9::2/80\"]}}}",
		  &d);
	state_doc_free(&d);
}

/* A link-local address: the kernel gives it scope link, so every apply added it again. */
static void test_decode_refuses_link_local(void **state)
{
	struct fault f = FAULT_INIT;
	struct state_doc d;
	json_t *doc = json_loads("{\"ports\":{\"w0\":{\"type\":\"tap\",\"addresses\":["
				 "\"fe80::5/64\"]}}}",
				 0, NULL);

	(void)state;
	assert_non_null(doc);
	assert_true(config_decode(doc, NULL, &d, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "ports.w0.addresses[0]");
	json_decref(doc);
}

/* A tap's MTU above the kernel's 65521: the dry run said yes, the apply failed at the step. */
static void test_decode_refuses_tap_mtu_over_kernel_max(void **state)
{
	struct fault f = FAULT_INIT;
	struct state_doc d;
	json_t *doc = json_loads("{\"ports\":{\"w0\":{\"type\":\"tap\",\"mtu\":65522},"
				 "\"w1\":{\"type\":\"tun\",\"mtu\":65535}}}",
				 0, NULL);

	(void)state;
	assert_non_null(doc);
	assert_true(config_decode(doc, NULL, &d, &f) < 0);
	assert_string_equal(f.field, "ports.w0.mtu");
	assert_int_equal(f.n_extra, 0);
	json_decref(doc);
	decode_ok("{\"ports\":{\"w0\":{\"type\":\"tap\",\"mtu\":65521},"
		  "\"w1\":{\"type\":\"tun\",\"mtu\":65535}}}",
		  &d);
	state_doc_free(&d);
}

static void test_decode_requires_ports(void **state)
{
	struct fault f = FAULT_INIT;
	struct state_doc d;
	json_t *doc = json_loads("{\"version\":3}", 0, NULL);

	(void)state;
	assert_true(config_decode(doc, NULL, &d, &f) < 0);
	assert_string_equal(f.field, "ports");
	json_decref(doc);
}

/* --- plan and apply --- */

static void test_plan_order_and_kernel_ops(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan;
	char *text;

	apply_ok(fx, base_doc);
	plan = plan_of(fx,
		       "{\"ports\":{"
		       "\"p0\":{\"type\":\"tap\",\"mtu\":1300,\"addresses\":[\"198.18.1.1/24\"],"
		       "\"bindings\":{\"cap\":{\"match\":{},\"handler\":\"count\"},"
		       "\"new\":{\"match\":{},\"handler\":\"forward\","
		       "\"options\":{\"port\":\"p1\"}}}},"
		       "\"p1\":{\"type\":\"tap\",\"up\":false}}}");
	text = plan_text(plan, false);
	assert_string_equal(
		text,
		"[{\"op\":\"remove_binding\",\"port\":\"p0\",\"binding\":\"old\",\"kernel\":[]},"
		"{\"op\":\"update_port\",\"port\":\"p0\",\"fields\":[\"mtu\",\"addresses\"],"
		"\"kernel\":[\"set mtu 1300\",\"remove address 198.18.0.1/24\","
		"\"add address 198.18.1.1/24\"]},"
		"{\"op\":\"create_port\",\"port\":\"p1\",\"kernel\":[\"create tap p1\"]},"
		"{\"op\":\"replace_binding\",\"port\":\"p0\",\"binding\":\"cap\",\"kernel\":[]},"
		"{\"op\":\"add_binding\",\"port\":\"p0\",\"binding\":\"new\",\"kernel\":[]},"
		"{\"op\":\"delete_port\",\"port\":\"p9\",\"kernel\":[\"delete tap p9\"]}]");
	free(text);
	config_plan_free(plan);
}

/* A plan changes nothing: no kernel call, no state write, same version. */
static void test_plan_changes_nothing(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan;
	struct snap before;

	apply_ok(fx, base_doc);
	snap_take(fx, &before);
	plan = plan_of(fx, "{\"ports\":{\"p1\":{\"type\":\"tun\"}}}");
	assert_int_equal(config_plan_count(plan), 3); /* create p1, delete p0 and p9 */
	config_plan_free(plan);
	snap_expect(fx, &before, true);
	assert_false(memio_device_exists(fx->m, "p1"));
}

/*
 * A new port whose name another interface holds (or, to attach, none
 * does): no plan, as its creation would be refused halfway, and nothing
 * done; a port paird has by that name is planned as usual.
 */
static void test_plan_refuses_taken_names(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan = NULL;
	struct fault f = FAULT_INIT;
	struct state_doc want;
	struct snap before;
	json_t *doc;

	apply_ok(fx, base_doc);
	assert_int_equal(memio_device_add(fx->m, "x1", false, true), 0);
	snap_take(fx, &before);
	doc = json_loads("{\"ports\":{\"p0\":{\"type\":\"tap\"},\"x1\":{\"type\":\"tap\"},"
			 "\"x2\":{\"type\":\"tun\",\"attach\":true}}}",
			 0, NULL);
	assert_non_null(doc);
	assert_int_equal(config_decode(doc, NULL, &want, &f), 0);
	json_decref(doc);
	assert_true(config_plan_new(fx->ps, &want, &plan, &f) < 0);
	assert_null(plan);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_string_equal(f.field, "ports.x1.name");
	/* x1 free now; then x2, to attach to, is missing. */
	assert_int_equal(memio_device_delete(fx->m, "x1"), 0);
	f = (struct fault)FAULT_INIT;
	assert_true(config_plan_new(fx->ps, &want, &plan, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "ports.x2.name");
	state_doc_free(&want);
	snap_expect(fx, &before, true);
}

/*
 * A port that lost its device (gone) is opened again by the plan: when
 * another interface took its name meanwhile, the plan refuses it as it
 * refuses a new port's, instead of promising a create the apply fails.
 */
static void test_plan_refuses_taken_name_of_gone_port(void **state)
{
	struct link_state all = { .ifindex = 0, .addr_event = true };
	struct ps_fx *fx = *state;
	struct config_plan *plan = NULL;
	struct fault f = FAULT_INIT;
	struct state_doc want;
	struct snap before;

	apply_ok(fx, base_doc);
	assert_int_equal(memio_device_delete(fx->m, "p9"), 0);
	portset_link_event(fx->ps, &all, false);
	assert_int_equal(port_state(portset_find(fx->ps, "p9")), PORT_STATE_GONE);
	/* Its name free: the plan opens it again. */
	plan = plan_of(fx, base_doc);
	assert_int_equal(config_plan_count(plan), 1);
	config_plan_free(plan);
	plan = NULL;
	/* Someone else's interface of that name: refused, nothing done. */
	assert_int_equal(memio_device_add(fx->m, "p9", true, false), 0);
	snap_take(fx, &before);
	decode_ok(base_doc, &want);
	assert_true(config_plan_new(fx->ps, &want, &plan, &f) < 0);
	assert_null(plan);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_string_equal(f.field, "ports.p9.name");
	state_doc_free(&want);
	snap_expect(fx, &before, true);
}

/* Plans @text, expecting a refusal of @kind naming @field; nothing is touched. */
static void plan_refused(struct ps_fx *fx, const char *text, enum fault_kind kind,
			 const char *field)
{
	struct config_plan *plan = NULL;
	struct fault f = FAULT_INIT;
	struct state_doc want;
	struct snap before;

	snap_take(fx, &before);
	decode_ok(text, &want);
	if (config_plan_new(fx->ps, &want, &plan, &f) == 0)
		fail_msg("planned: %s", text);
	assert_null(plan);
	assert_int_equal(f.kind, kind);
	assert_string_equal(f.field, field);
	state_doc_free(&want);
	snap_expect(fx, &before, true);
}

/*
 * The limits an apply meets at its peak are met by the plan, before any
 * step and in a dry run: ports are deleted last, so a document that swaps
 * ports holds the old and the new at once (--max-ports), and each port
 * that gains a capture ring takes --capture-ring of --capture-memory. The
 * apply refused both halfway and undid its steps, the dry run said yes.
 */
static void test_plan_refuses_what_the_limits_refuse(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan;

	ps_fx_start(fx, 3);
	assert_int_equal(portset_set_dataplane(fx->ps, 2 * 65536, 65536, 16), 0);
	apply_ok(fx, "{\"ports\":{\"a\":{\"type\":\"tap\"},\"b\":{\"type\":\"tap\"}}}");
	/* Two ports out, two in: four at once, over 3. */
	plan_refused(fx, "{\"ports\":{\"c\":{\"type\":\"tap\"},\"d\":{\"type\":\"tap\"}}}",
		     FAULT_LIMIT, "ports.d");
	/* One out, one in: three at once. */
	plan = plan_of(fx, "{\"ports\":{\"a\":{\"type\":\"tap\"},\"c\":{\"type\":\"tap\"}}}");
	config_plan_free(plan);
	/* Three rings of 64 KiB in 128 KiB: the third port's capture is refused. */
	plan_refused(fx,
		     "{\"ports\":{\"a\":{\"type\":\"tap\",\"bindings\":{\"k\":{\"match\":{},"
		     "\"handler\":\"capture\"}}},\"b\":{\"type\":\"tap\",\"bindings\":{\"k\":{"
		     "\"match\":{},\"handler\":\"capture\"},\"k2\":{\"match\":{},\"handler\":"
		     "\"capture\"}}},\"c\":{\"type\":\"tap\",\"bindings\":{\"k\":{\"match\":{},"
		     "\"handler\":\"capture\"}}}}}",
		     FAULT_LIMIT, "ports.c.bindings.k");
	/* Two fit; a port that holds its ring takes no other. */
	apply_ok(fx, "{\"ports\":{\"a\":{\"type\":\"tap\",\"bindings\":{\"k\":{\"match\":{},"
		     "\"handler\":\"capture\"}}},\"b\":{\"type\":\"tap\",\"bindings\":{\"k\":{"
		     "\"match\":{},\"handler\":\"capture\"}}}}}");
	plan = plan_of(fx,
		       "{\"ports\":{\"a\":{\"type\":\"tap\",\"bindings\":{\"k\":{\"match\":{},"
		       "\"handler\":\"capture\",\"options\":{\"limit\":5}},\"k2\":{\"match\":{},"
		       "\"handler\":\"capture\"}}},\"b\":{\"type\":\"tap\",\"bindings\":{\"k\":{"
		       "\"match\":{},\"handler\":\"capture\"}}}}}");
	assert_int_equal(config_plan_count(plan), 2);
	config_plan_free(plan);
}

static void test_apply_then_again_changes_nothing(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan;
	struct fault f = FAULT_INIT;
	struct port *p0;
	struct snap before;

	apply_ok(fx, base_doc);
	p0 = portset_find(fx->ps, "p0");
	assert_non_null(p0);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1400);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_int_equal(stack_count(portset_stack(fx->ps, p0)), 2);
	assert_non_null(portset_find_binding(fx->ps, p0, "cap"));

	snap_take(fx, &before);
	assert_int_equal(apply(fx, base_doc, &f, &plan), 0);
	assert_int_equal(config_plan_count(plan), 0);
	config_plan_free(plan);
	snap_expect(fx, &before, true);
}

/* GET's document (nulls, effective options, all) put back is no change. */
static void test_get_document_round_trips(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan;
	struct port_config c = { .name = "p5", .type = PORT_TUN };
	struct fault f = FAULT_INIT;
	struct binding_config b = { 0 };
	json_t *doc;
	char *text;

	apply_ok(fx, base_doc);
	/* A port made by POST without mtu or up, and an unnamed binding (keyed by id). */
	assert_int_equal(portset_create(fx->ps, &c, NULL, &f), 0);
	b.kind = HANDLER_COUNT;
	assert_int_equal(portset_bind(fx->ps, portset_find(fx->ps, "p5"), &b, NULL, &f), 0);
	doc = config_to_json(fx->ps);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	plan = plan_of(fx, text);
	assert_int_equal(config_plan_count(plan), 0);
	config_plan_free(plan);
	free(text);
}

/* Every step done before a kernel refusal is undone: file, kernel and counters as before. */
static void test_rollback_after_kernel_refusal(void **state)
{
	struct ps_fx *fx = *state;
	static const uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2,
					   0,	 0,    0,    0,	   1,	 0x08, 0x06 };
	struct config_plan *plan;
	struct fault f = FAULT_INIT;
	struct port *p0;
	struct binding *cap, *old;
	uint64_t cap_packets, old_packets, rx;
	struct snap before;
	char *undone;

	apply_ok(fx, base_doc);
	p0 = portset_find(fx->ps, "p0");
	frame_feed(fx->m, p0, frame, sizeof(frame));
	cap = portset_find_binding(fx->ps, p0, "cap");
	old = portset_find_binding(fx->ps, p0, "old");
	cap_packets = cap->c.packets;
	old_packets = old->c.packets;
	rx = port_counters(p0)->rx_frames;
	assert_true(cap_packets == 1 && old_packets == 1 && rx == 1);
	snap_take(fx, &before);

	/* p2's device cannot be opened (p1's, just before, was): its creation is refused. */
	memio_inject(fx->m, MEMIO_OPEN, 0);
	memio_inject(fx->m, MEMIO_OPEN, EMFILE);
	assert_true(apply(fx,
			  "{\"ports\":{"
			  "\"p0\":{\"type\":\"tap\",\"mtu\":1300,\"addresses\":[\"198.18.1.1/24\"],"
			  "\"bindings\":{\"cap\":{\"match\":{},\"handler\":\"capture\"},"
			  "\"new\":{\"match\":{},\"handler\":\"count\"}}},"
			  "\"p1\":{\"type\":\"tap\"},\"p2\":{\"type\":\"tap\"}}}",
			  &f, &plan) < 0);
	assert_int_not_equal(f.kind, FAULT_NONE);
	assert_string_equal(f.field, "ports.p2");
	assert_non_null(strstr(f.detail, "rolled back"));
	undone = plan_text(plan, true);
	assert_string_equal(
		undone, "[{\"op\":\"create_port\",\"port\":\"p1\",\"kernel\":[\"create tap p1\","
			"\"set up\"]},{\"op\":\"update_port\",\"port\":\"p0\",\"fields\":"
			"[\"mtu\",\"addresses\"],\"kernel\":[\"set mtu 1300\",\"remove address "
			"198.18.0.1/24\",\"add address 198.18.1.1/24\"]},{\"op\":"
			"\"remove_binding\",\"port\":\"p0\",\"binding\":\"old\",\"kernel\":[]}]");
	free(undone);
	config_plan_free(plan);

	/* The state file, the running document, the kernel and the counters: as before. */
	snap_expect(fx, &before, false);
	assert_false(memio_device_exists(fx->m, "p1"));
	assert_true(memio_device_exists(fx->m, "p9"));
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1400);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_false(memio_has_addr(fx->m, "p0", "198.18.1.1/24"));
	assert_true(portset_find(fx->ps, "p0") == p0);
	assert_true(portset_find_binding(fx->ps, p0, "cap") == cap);
	assert_true(portset_find_binding(fx->ps, p0, "old") == old);
	assert_true(stack_at(portset_stack(fx->ps, p0), 1) == old);
	assert_true(cap->c.packets == cap_packets && old->c.packets == old_packets);
	assert_true(port_counters(p0)->rx_frames == rx);
}

/*
 * A rollback that undoes a replaced device opens it again: the document is
 * as it was, but the problem does not say "nothing was changed" then.
 */
static void test_rollback_says_devices_opened_anew(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;

	apply_ok(fx, base_doc);
	/* p0 becomes a tun (a new device), then p1's open fails. */
	memio_inject(fx->m, MEMIO_OPEN, 0);
	memio_inject(fx->m, MEMIO_OPEN, EMFILE);
	assert_true(apply(fx,
			  "{\"ports\":{\"p0\":{\"type\":\"tun\"},\"p1\":{\"type\":\"tap\"},"
			  "\"p9\":{\"type\":\"tap\",\"bindings\":{\"c9\":{\"match\":{},"
			  "\"handler\":\"count\"}}}}}",
			  &f, NULL) < 0);
	assert_string_equal(f.field, "ports.p1");
	assert_null(strstr(f.detail, "nothing was changed"));
	assert_non_null(strstr(f.detail, "the devices of p0 were opened anew"));
	assert_int_equal(port_config(portset_find(fx->ps, "p0"))->type, PORT_TAP);
}

/*
 * An address added outside paird to a port it created goes with the next
 * apply (drift); when a later step fails, the rollback puts it back with
 * the rest.
 */
static void test_rollback_restores_stray_addresses(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;
	struct port *p0;

	apply_ok(fx, base_doc);
	p0 = portset_find(fx->ps, "p0");
	assert_int_equal(memio_addr_add(fx->m, "p0", "198.18.77.1/24"), 0);
	assert_int_equal(port_resync(p0), 0);
	assert_true(port_drift(p0) & PORT_DRIFT_ADDRESSES);
	/* p0's MTU changes and its stray goes; then p1's open fails. */
	memio_inject(fx->m, MEMIO_OPEN, EMFILE);
	assert_true(apply(fx,
			  "{\"ports\":{\"p0\":{\"type\":\"tap\",\"mtu\":1300,"
			  "\"addresses\":[\"198.18.0.1/24\"],\"bindings\":{\"cap\":{\"match\":{},"
			  "\"handler\":\"capture\"},\"old\":{\"match\":{\"ethertype\":2054},"
			  "\"handler\":\"count\"}}},\"p1\":{\"type\":\"tap\"},"
			  "\"p9\":{\"type\":\"tap\",\"bindings\":{\"c9\":{\"match\":{},"
			  "\"handler\":\"count\"}}}}}",
			  &f, NULL) < 0);
	assert_string_equal(f.field, "ports.p1");
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1400);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.77.1/24"));
	/* Applied in full, it goes for good. */
	apply_ok(fx, base_doc);
	assert_false(memio_has_addr(fx->m, "p0", "198.18.77.1/24"));
	assert_false(port_drift(p0) & PORT_DRIFT_ADDRESSES);
}

/* A state file that cannot be written: even deleted ports and removed bindings come back. */
static void test_rollback_when_state_cannot_be_written(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;
	struct snap before;
	struct port *p9;

	apply_ok(fx, base_doc);
	snap_take(fx, &before);
	assert_int_equal(mkdir(fx->tmp, 0700), 0);
	assert_true(apply(fx,
			  "{\"ports\":{\"p0\":{\"type\":\"tap\",\"mtu\":1400,"
			  "\"addresses\":[\"198.18.0.1/24\"],"
			  "\"bindings\":{\"cap\":{\"match\":{},\"handler\":\"capture\"}}}}}",
			  &f, NULL) < 0);
	assert_int_equal(f.kind, FAULT_INTERNAL);
	assert_int_equal(rmdir(fx->tmp), 0);
	snap_expect(fx, &before, false);
	p9 = portset_find(fx->ps, "p9");
	assert_non_null(p9);
	assert_true(memio_device_exists(fx->m, "p9"));
	assert_non_null(portset_find_binding(fx->ps, p9, "c9"));
	/* The next binding id is kept, so no id is handed out twice. */
	assert_int_equal(stack_next_id(portset_stack(fx->ps, p9)), 2);
}

/* A digit key names an existing unnamed binding; a new one needs a name. */
static void test_digit_key_must_exist(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan = NULL;
	struct fault f = FAULT_INIT;
	struct state_doc d;

	decode_ok("{\"ports\":{\"p0\":{\"type\":\"tap\",\"bindings\":{\"7\":{\"match\":{},"
		  "\"handler\":\"count\"}}}}}",
		  &d);
	assert_true(config_plan_new(fx->ps, &d, &plan, &f) < 0);
	assert_null(plan);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "ports.p0.bindings.7");
	state_doc_free(&d);
}

/* A port that changes type loses its bindings first and gets the document's. */
static void test_type_change_with_bindings(void **state)
{
	struct ps_fx *fx = *state;
	struct config_plan *plan;
	struct port *p;

	apply_ok(fx, "{\"ports\":{\"p0\":{\"type\":\"tap\",\"bindings\":{\"a\":{\"match\":"
		     "{\"ethertype\":2054},\"handler\":\"count\"}}}}}");
	apply_ok(fx, "{\"ports\":{\"p0\":{\"type\":\"tun\",\"bindings\":{\"b\":{\"match\":"
		     "{\"ip_protocol\":1},\"handler\":\"echo\"}}}}}");
	p = portset_find(fx->ps, "p0");
	assert_int_equal(port_config(p)->type, PORT_TUN);
	assert_null(portset_find_binding(fx->ps, p, "a"));
	assert_non_null(portset_find_binding(fx->ps, p, "b"));
	plan = plan_of(fx, "{\"ports\":{\"p0\":{\"type\":\"tun\",\"bindings\":{\"b\":{\"match\":"
			   "{\"ip_protocol\":1},\"handler\":\"echo\"}}}}}");
	assert_int_equal(config_plan_count(plan), 0);
	config_plan_free(plan);
}

/* An attached device is never deleted: the port goes, the device stays. */
static void test_attached_port_detached(void **state)
{
	struct ps_fx *fx = *state;

	assert_int_equal(memio_device_add(fx->m, "pa", true, true), 0);
	apply_ok(fx, "{\"ports\":{\"pa\":{\"type\":\"tap\",\"attach\":true}}}");
	assert_non_null(portset_find(fx->ps, "pa"));
	apply_ok(fx, "{\"ports\":{}}");
	assert_null(portset_find(fx->ps, "pa"));
	assert_true(memio_device_exists(fx->m, "pa"));
}

/* The document is the whole state: a file on disk loads the same. */
static void test_load_file(void **state)
{
	struct ps_fx *fx = *state;
	char *path = path_join(fx->dir, "config.json");
	struct fault f = FAULT_INIT;
	struct state_doc d;

	file_write(path, base_doc);
	assert_int_equal(config_load(path, &d, &f), 0);
	assert_int_equal(d.n_ports, 2);
	state_doc_free(&d);
	file_write(path, "{\"ports\":{\"p0\":{\"type\":\"tap\"},\"p0\":{}}}");
	assert_true(config_load(path, &d, &f) < 0);
	assert_non_null(strstr(f.detail, path));
	f = (struct fault)FAULT_INIT;
	file_write(path, "{\"ports\":{\"p0\":{\"type\":\"tap\",\"mtu\":1}}}");
	assert_true(config_load(path, &d, &f) < 0);
	assert_string_equal(f.field, "ports.p0.mtu");
	assert_non_null(strstr(f.detail, path));
	free(path);
}

/*
 * Anything but a regular file of at most CONFIG_FILE_MAX bytes is refused at
 * once, naming the file: a FIFO put in its place blocked the open (SIGHUP
 * hung paird for good; the alarm ends the test instead), a character device
 * is endless.
 */
static void test_load_not_regular(void **state)
{
	struct ps_fx *fx = *state;
	char *path = path_join(fx->dir, "config.json");
	struct fault f = FAULT_INIT;
	struct state_doc d;
	int fd;

	alarm(10);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_true(config_load(path, &d, &f) < 0);
	assert_non_null(strstr(f.detail, path));
	assert_non_null(strstr(f.detail, "not a regular file"));
	assert_int_equal(d.n_ports, 0);
	f = (struct fault)FAULT_INIT;
	assert_true(config_load("/dev/zero", &d, &f) < 0);
	assert_non_null(strstr(f.detail, "not a regular file"));
	assert_int_equal(unlink(path), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, CONFIG_FILE_MAX + 1), 0); /* sparse */
	close(fd);
	f = (struct fault)FAULT_INIT;
	assert_true(config_load(path, &d, &f) < 0);
	assert_non_null(strstr(f.detail, "at most"));
	assert_int_equal(unlink(path), 0);
	f = (struct fault)FAULT_INIT;
	assert_true(config_load(path, &d, &f) < 0);
	assert_int_equal(f.err, ENOENT);
	assert_non_null(strstr(f.detail, path));
	alarm(0);
	free(path);
}

/* A kernel changed behind paird's back (and not mended by itself) differs from the document. */
static void test_drift_is_a_difference(void **state)
{
	struct ps_fx *fx = *state;
	static const char doc[] = "{\"ports\":{\"p0\":{\"type\":\"tap\",\"mtu\":1400,"
				  "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}}}";
	const struct link_change ch = { .up = -1, .mtu = 1200 };
	struct link_state ls;
	struct config_plan *plan;
	char *text;

	apply_ok(fx, doc);
	/* An MTU below 1280 takes the IPv6 address with it, and it cannot come back. */
	assert_int_equal(memio_link_change(fx->m, "p0", &ch), 0);
	ls = *memio_link(fx->m, "p0");
	portset_link_event(fx->ps, &ls, false);
	assert_false(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_int_not_equal(port_drift(portset_find(fx->ps, "p0")), 0);

	plan = plan_of(fx, doc);
	text = plan_text(plan, false);
	assert_string_equal(text, "[{\"op\":\"update_port\",\"port\":\"p0\",\"fields\":"
				  "[\"mtu\",\"addresses\"],\"kernel\":[\"set mtu 1400\","
				  "\"add address 2001:db8::1/64\"]}]");
	free(text);
	config_plan_free(plan);
	apply_ok(fx, doc);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1400);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_int_equal(port_drift(portset_find(fx->ps, "p0")), 0);
	plan = plan_of(fx, doc);
	assert_int_equal(config_plan_count(plan), 0);
	config_plan_free(plan);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode_lists_every_error),
		T(test_decode_refuses_ipv6_address_twice),
		T(test_decode_refuses_link_local),
		T(test_decode_refuses_tap_mtu_over_kernel_max),
		T(test_decode_requires_ports),
		T(test_plan_order_and_kernel_ops),
		T(test_plan_changes_nothing),
		T(test_plan_refuses_taken_names),
		T(test_plan_refuses_taken_name_of_gone_port),
		T(test_plan_refuses_what_the_limits_refuse),
		T(test_apply_then_again_changes_nothing),
		T(test_get_document_round_trips),
		T(test_rollback_after_kernel_refusal),
		T(test_rollback_says_devices_opened_anew),
		T(test_rollback_restores_stray_addresses),
		T(test_rollback_when_state_cannot_be_written),
		T(test_digit_key_must_exist),
		T(test_type_change_with_bindings),
		T(test_attached_port_detached),
		T(test_load_file),
		T(test_load_not_regular),
		T(test_drift_is_a_difference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
