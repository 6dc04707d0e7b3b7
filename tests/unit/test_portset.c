// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/portset.c on the memory port I/O with a state file
 * in a scratch directory: every change is persisted before it counts, a
 * state file that cannot be written undoes the change (create, delete,
 * patch, put), PUT keeps or replaces the port as needed, and restore
 * recreates ports, refuses corrupt files with a clear detail and keeps
 * ports whose device is missing in state "error".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../service/bindcfg.h"
#include "../../service/events.h"
#include "../../service/log.h"
#include "../../service/portset.h"
#include "../fakes/portio_mem.h"
#include "../../service/stack.h"
#include "../../service/state.h"
#include "support.h"

static int setup(void **state)
{
	*state = ps_fx_new();
	return 0;
}

static int teardown(void **state)
{
	ps_fx_free(*state);
	return 0;
}

static struct port_config cfg_json(const char *text)
{
	struct port_config c;
	struct fault f = FAULT_INIT;
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);

	assert_non_null(doc);
	if (portcfg_from_json(doc, PORTCFG_CREATE, NULL, &c, &f) != 0)
		fail_msg("%s: %s", text, f.detail);
	json_decref(doc);
	return c;
}

static struct port_config patch_json(const char *text)
{
	struct port_config c;
	struct fault f = FAULT_INIT;
	json_t *doc = json_loads(text, 0, NULL);

	assert_non_null(doc);
	assert_int_equal(portcfg_from_json(doc, PORTCFG_PATCH, NULL, &c, &f), 0);
	json_decref(doc);
	return c;
}

static struct port *create_ok(struct ps_fx *fx, const char *text)
{
	struct port_config c = cfg_json(text);
	struct fault f = FAULT_INIT;
	struct port *p = NULL;

	if (portset_create(fx->ps, &c, &p, &f) != 0)
		fail_msg("create %s: %s", text, f.detail);
	assert_non_null(p);
	return p;
}

/* The state file as JSON; fails the test if it does not parse. */
static json_t *state_doc(const struct ps_fx *fx)
{
	json_error_t jerr;
	json_t *doc = json_load_file(fx->path, JSON_REJECT_DUPLICATES, &jerr);

	if (!doc)
		fail_msg("state file: %s", jerr.text);
	assert_int_equal(json_integer_value(json_object_get(doc, "format")), STATE_FORMAT);
	assert_true(json_is_array(json_object_get(doc, "ports")));
	return doc;
}

/* The state file's entry for @name (borrowed from @doc), or NULL. */
static json_t *state_port(json_t *doc, const char *name)
{
	json_t *ports = json_object_get(doc, "ports"), *p;
	size_t i;

	json_array_foreach(ports, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
			return p;
	return NULL;
}

static size_t state_count(const struct ps_fx *fx)
{
	json_t *doc = state_doc(fx);
	size_t n = json_array_size(json_object_get(doc, "ports"));

	json_decref(doc);
	return n;
}

/* From now on, writing the state file fails (its temp file's name is a directory). */
static void break_state(struct ps_fx *fx)
{
	assert_int_equal(mkdir(fx->tmp, 0700), 0);
}

static void mend_state(struct ps_fx *fx)
{
	assert_int_equal(rmdir(fx->tmp), 0);
}

static void assert_internal(const struct fault *f)
{
	assert_int_equal(f->kind, FAULT_INTERNAL);
	assert_true(strlen(f->detail) > 0);
}

/* --- persistence --- */

static void test_restore_missing_file(void **state)
{
	struct ps_fx *fx = *state;
	json_t *doc;

	ps_fx_start(fx, 0);
	assert_int_equal(portset_count(fx->ps), 0);
	doc = state_doc(fx);
	assert_int_equal(json_array_size(json_object_get(doc, "ports")), 0);
	assert_int_equal(json_object_size(doc), 2);
	json_decref(doc);
}

static void test_create_persists(void **state)
{
	struct ps_fx *fx = *state;
	struct port *p0, *p1;
	json_t *doc, *e;

	ps_fx_start(fx, 0);
	p0 = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000,"
			   "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	p1 = create_ok(fx, "{\"name\":\"p1\",\"type\":\"tun\"}");
	assert_int_equal(portset_count(fx->ps), 2);
	assert_ptr_equal(portset_at(fx->ps, 0), p0);
	assert_ptr_equal(portset_at(fx->ps, 1), p1);
	assert_null(portset_at(fx->ps, 2));
	assert_ptr_equal(portset_find(fx->ps, "p1"), p1);
	assert_null(portset_find(fx->ps, "p2"));
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 9000);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 2);

	doc = state_doc(fx);
	assert_int_equal(json_array_size(json_object_get(doc, "ports")), 2);
	e = json_array_get(json_object_get(doc, "ports"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "p0");
	assert_string_equal(json_string_value(json_object_get(e, "type")), "tap");
	assert_int_equal(json_integer_value(json_object_get(e, "mtu")), 9000);
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "addresses"), 1)),
			    "2001:db8::1/64");
	e = json_array_get(json_object_get(doc, "ports"), 1);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "p1");
	assert_string_equal(json_string_value(json_object_get(e, "type")), "tun");
	json_decref(doc);
	assert_false(file_exists(fx->tmp));
}

static void test_create_duplicate(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tun\"}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	char *before, *after;
	unsigned opens;

	ps_fx_start(fx, 0);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	before = file_read(fx->path, NULL);
	opens = memio_calls(fx->m, MEMIO_OPEN);
	assert_true(portset_create(fx->ps, &c, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_string_equal(f.field, "name");
	assert_null(p);
	assert_int_equal(memio_calls(fx->m, MEMIO_OPEN), opens);
	assert_int_equal(portset_count(fx->ps), 1);
	assert_int_equal(port_config(portset_find(fx->ps, "p0"))->type, PORT_TAP);
	after = file_read(fx->path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_limit(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p2\",\"type\":\"tun\"}");
	struct fault f = FAULT_INIT;
	bool created;
	struct port *p;

	ps_fx_start(fx, 2);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tun\"}");
	create_ok(fx, "{\"name\":\"p1\",\"type\":\"tun\"}");
	/* The limit's own errno, not a taken name's EEXIST. */
	assert_int_equal(portset_create(fx->ps, &c, &p, &f), -ENOSPC);
	assert_int_equal(f.kind, FAULT_LIMIT);
	assert_int_equal(f.err, ENOSPC);
	assert_false(memio_device_exists(fx->m, "p2"));
	assert_int_equal(portset_count(fx->ps), 2);
	f = (struct fault)FAULT_INIT;
	assert_true(portset_put(fx->ps, &c, &created, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_LIMIT);
	assert_int_equal(state_count(fx), 2);

	/* Replacing an existing port at the limit is fine. */
	c = cfg_json("{\"name\":\"p1\",\"type\":\"tap\"}");
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_put(fx->ps, &c, &created, &p, &f), 0);
	assert_false(created);
}

static void test_put(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tun\",\"mtu\":1500,"
					"\"addresses\":[\"198.18.0.1/24\"]}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL, *q = NULL;
	unsigned link_sets, addr_sets;
	char *before, *after;
	uint8_t frame[40] = { 0x45 };
	bool created = false;
	json_t *doc;

	ps_fx_start(fx, 0);
	assert_int_equal(portset_put(fx->ps, &c, &created, &p, &f), 0);
	assert_true(created);
	assert_non_null(p);
	assert_int_equal(state_count(fx), 1);

	/* Traffic, so we can tell whether the port object survives. */
	assert_int_equal(memio_push(fx->m, "p0", frame, sizeof(frame)), 0);
	port_read_ready(p);
	assert_int_equal(port_counters(p)->rx_frames, 1);

	/* The same configuration again: nothing changes. */
	link_sets = memio_calls(fx->m, MEMIO_LINK_SET);
	addr_sets = memio_calls(fx->m, MEMIO_ADDR_SET);
	before = file_read(fx->path, NULL);
	assert_int_equal(portset_put(fx->ps, &c, &created, &q, &f), 0);
	assert_false(created);
	assert_ptr_equal(q, p);
	assert_int_equal(memio_calls(fx->m, MEMIO_LINK_SET), link_sets);
	assert_int_equal(memio_calls(fx->m, MEMIO_ADDR_SET), addr_sets);
	after = file_read(fx->path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Only the MTU: the same port, its counters intact. */
	c.mtu = 9000;
	assert_int_equal(portset_put(fx->ps, &c, &created, &q, &f), 0);
	assert_false(created);
	assert_ptr_equal(q, p);
	assert_int_equal(port_counters(q)->rx_frames, 1);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 9000);
	doc = state_doc(fx);
	assert_int_equal(json_integer_value(json_object_get(state_port(doc, "p0"), "mtu")), 9000);
	json_decref(doc);

	/* Another type is another device: a new port, counters from zero. */
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000}");
	assert_int_equal(portset_put(fx->ps, &c, &created, &q, &f), 0);
	assert_false(created);
	assert_int_equal(port_counters(q)->rx_frames, 0);
	assert_int_equal(port_config(q)->type, PORT_TAP);
	assert_true(memio_link(fx->m, "p0")->has_mac); /* a tap device now */
	assert_int_equal(memio_addr_count(fx->m, "p0"), 0);
	assert_int_equal(portset_count(fx->ps), 1);
	assert_ptr_equal(portset_find(fx->ps, "p0"), q);
	doc = state_doc(fx);
	assert_string_equal(json_string_value(json_object_get(state_port(doc, "p0"), "type")),
			    "tap");
	json_decref(doc);
	assert_int_equal(memio_open_fds(fx->m), 1);
}

static void test_put_replaces_addresses(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\"}");
	struct fault f = FAULT_INIT;
	struct port *p;
	bool created;
	json_t *doc;

	ps_fx_start(fx, 0);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"198.18.0.1/24\"]}");
	assert_int_equal(memio_addr_count(fx->m, "p0"), 1);
	/* PUT replaces: a body without addresses means none. */
	assert_int_equal(portset_put(fx->ps, &c, &created, &p, &f), 0);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 0);
	assert_int_equal(port_config(p)->n_addrs, 0);
	doc = state_doc(fx);
	assert_int_equal(json_array_size(json_object_get(state_port(doc, "p0"), "addresses")), 0);
	json_decref(doc);
}

static void test_patch_persists(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config patch = patch_json("{\"mtu\":9000,\"up\":false}");
	struct fault f = FAULT_INIT;
	struct port *p;
	json_t *doc, *e;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"198.18.0.1/24\"]}");
	assert_int_equal(portset_patch(fx->ps, p, &patch, &f), 0);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 9000);
	assert_false(memio_link(fx->m, "p0")->flags & IFF_UP);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 1); /* untouched by the patch */
	doc = state_doc(fx);
	e = state_port(doc, "p0");
	assert_int_equal(json_integer_value(json_object_get(e, "mtu")), 9000);
	assert_true(json_is_false(json_object_get(e, "up")));
	assert_int_equal(json_array_size(json_object_get(e, "addresses")), 1);
	json_decref(doc);

	/* A patch the whole configuration refuses (a MAC on tun) changes nothing. */
	p = create_ok(fx, "{\"name\":\"t0\",\"type\":\"tun\"}");
	patch = patch_json("{\"mac\":\"02:00:00:00:00:01\"}");
	assert_true(portset_patch(fx->ps, p, &patch, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "mac");
	assert_false(port_config(p)->has_mac);
}

static void test_delete_persists(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;

	ps_fx_start(fx, 0);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	create_ok(fx, "{\"name\":\"p1\",\"type\":\"tap\"}");
	assert_int_equal(portset_delete(fx->ps, "p0", &f), 0);
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(portset_count(fx->ps), 1);
	assert_int_equal(state_count(fx), 1);
	assert_true(portset_delete(fx->ps, "p0", &f) < 0);
	assert_int_equal(f.kind, FAULT_NOT_FOUND);
	assert_int_equal(portset_count(fx->ps), 1);
}

static void test_delete_attached_keeps_device(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;

	ps_fx_start(fx, 0);
	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	create_ok(fx, "{\"name\":\"pre0\",\"type\":\"tap\",\"attach\":true}");
	assert_int_equal(portset_delete(fx->ps, "pre0", &f), 0);
	assert_true(memio_device_exists(fx->m, "pre0"));
	assert_int_equal(memio_open_fds(fx->m), 0);
}

/* --- the state file cannot be written --- */

static void test_create_save_fails(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\"}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	char *before, *after;

	ps_fx_start(fx, 0);
	before = file_read(fx->path, NULL);
	break_state(fx);
	assert_true(portset_create(fx->ps, &c, &p, &f) < 0);
	assert_internal(&f);
	assert_null(portset_find(fx->ps, "p0"));
	assert_int_equal(portset_count(fx->ps), 0);
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(memio_open_fds(fx->m), 0);
	after = file_read(fx->path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Once the file is writable again, the same request succeeds. */
	mend_state(fx);
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_create(fx->ps, &c, &p, &f), 0);
	assert_int_equal(state_count(fx), 1);
}

/* A fault recorded before a failed save stays the one reported: the first error wins. */
static void test_save_fails_first_fault_wins(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\"}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL;

	ps_fx_start(fx, 0);
	break_state(fx);
	fault_set(&f, FAULT_CONFLICT, EBUSY, "up", "recorded first");
	assert_true(portset_create(fx->ps, &c, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_int_equal(f.err, EBUSY);
	assert_string_equal(f.field, "up");
	assert_string_equal(f.detail, "recorded first");
	assert_int_equal(portset_count(fx->ps), 0);
	mend_state(fx);
}

static void test_state_dir_removed(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\"}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL;

	char *lock = path_join(fx->dir, "state.json.lock");

	ps_fx_start(fx, 0);
	assert_int_equal(unlink(fx->path), 0);
	/* The lock file stays (state_lock()): removed here so the directory can go. */
	assert_int_equal(unlink(lock), 0);
	free(lock);
	assert_int_equal(rmdir(fx->dir), 0);
	assert_true(portset_create(fx->ps, &c, &p, &f) < 0);
	assert_internal(&f);
	assert_int_equal(f.err, ENOENT);
	assert_int_equal(portset_count(fx->ps), 0);
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(mkdir(fx->dir, 0700), 0);
}

/*
 * A second port set on the same state file is refused before it touches
 * anything beside it: TARGET.tmp may be the running one's save in flight
 * (written, not yet renamed), which the writable check used to remove and
 * make again, empty.
 */
static void test_state_lock_before_tmp(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;
	struct portset *second;
	char *tmp = path_join(fx->dir, "state.json.tmp");
	char buf[32] = "";
	struct stat before, after;
	FILE *fp;

	ps_fx_start(fx, 0);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fputs("in flight", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(stat(tmp, &before), 0);
	second = portset_new(NULL, memio_io(fx->m), fx->path, 0);
	assert_non_null(second);
	assert_int_equal(portset_restore(second, &f), -EBUSY);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	portset_free(second);
	assert_int_equal(stat(tmp, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	fp = fopen(tmp, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "in flight");
	unlink(tmp);
	free(tmp);
}

static void test_delete_save_fails(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;
	struct port *p;

	ps_fx_start(fx, 0);
	create_ok(fx, "{\"name\":\"a0\",\"type\":\"tun\"}");
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	create_ok(fx, "{\"name\":\"z0\",\"type\":\"tun\"}");
	break_state(fx);
	assert_true(portset_delete(fx->ps, "p0", &f) < 0);
	assert_internal(&f);
	assert_ptr_equal(portset_find(fx->ps, "p0"), p);
	assert_ptr_equal(portset_at(fx->ps, 1), p); /* in its old place */
	assert_true(memio_device_exists(fx->m, "p0"));
	assert_int_equal(port_state(p), PORT_STATE_UP);
	mend_state(fx);
	assert_int_equal(state_count(fx), 3);
}

static void test_patch_save_fails(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config patch = patch_json("{\"mtu\":9000}");
	struct fault f = FAULT_INIT;
	struct port *p;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":1500}");
	break_state(fx);
	assert_true(portset_patch(fx->ps, p, &patch, &f) < 0);
	assert_internal(&f);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_int_equal(port_config(p)->mtu, 1500);
}

static void test_patch_save_fails_unset_fields(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config patch = patch_json("{\"mtu\":9000,\"mac\":\"02:00:00:00:00:42\","
					      "\"addresses\":[\"198.18.0.1/24\"]}");
	struct fault f = FAULT_INIT;
	uint8_t mac0[6];
	struct port *p;
	json_t *before, *after;

	ps_fx_start(fx, 0);
	/* Created without mtu, mac or addresses: the undo must still restore them. */
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	memcpy(mac0, memio_link(fx->m, "p0")->mac, 6);
	before = portcfg_to_json(port_config(p));
	break_state(fx);
	assert_true(portset_patch(fx->ps, p, &patch, &f) < 0);
	assert_internal(&f);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_memory_equal(memio_link(fx->m, "p0")->mac, mac0, 6);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 0);
	assert_int_equal(port_link(p)->mtu, 1500);
	after = portcfg_to_json(port_config(p));
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
}

static void test_put_save_fails_same_device(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000,"
					"\"up\":false,\"addresses\":[\"198.18.0.1/24\"]}");
	struct fault f = FAULT_INIT;
	struct port *p, *q = NULL;
	bool created;
	json_t *before, *after;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	before = portcfg_to_json(port_config(p));
	break_state(fx);
	assert_true(portset_put(fx->ps, &c, &created, &q, &f) < 0);
	assert_internal(&f);
	assert_ptr_equal(portset_find(fx->ps, "p0"), p);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_true(memio_link(fx->m, "p0")->flags & IFF_UP);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 0);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	after = portcfg_to_json(port_config(p));
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
}

static void test_put_save_fails_replace(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\"}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	bool created;

	ps_fx_start(fx, 0);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tun\",\"mtu\":1400}");
	break_state(fx);
	assert_true(portset_put(fx->ps, &c, &created, &p, &f) < 0);
	assert_internal(&f);
	p = portset_find(fx->ps, "p0");
	assert_non_null(p);
	assert_int_equal(port_config(p)->type, PORT_TUN);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_false(memio_link(fx->m, "p0")->has_mac); /* a tun device again */
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1400);
	assert_int_equal(portset_count(fx->ps), 1);
	assert_int_equal(memio_open_fds(fx->m), 1);
}

static void test_state_unwritable_at_restore(void **state)
{
	struct ps_fx *fx = *state;
	char *file = path_join(fx->dir, "plain");
	char *path = path_join(file, "state.json");
	struct fault f = FAULT_INIT;

	/* The state path's parent is a regular file: refused at start. */
	file_write(file, "not a directory\n");
	fx->ps = portset_new(NULL, memio_io(fx->m), path, 0);
	assert_non_null(fx->ps);
	assert_true(portset_restore(fx->ps, &f) < 0);
	assert_int_equal(f.err, ENOTDIR);
	assert_non_null(strstr(f.detail, path));
	portset_free(fx->ps);
	free(file);
	free(path);

	/*
	 * No state file yet, and it cannot be written: found at start, not at
	 * the first request, with a message about the directory (not the
	 * "change undone" a client gets).
	 */
	break_state(fx);
	f = (struct fault)FAULT_INIT;
	fx->ps = portset_new(NULL, memio_io(fx->m), fx->path, 0);
	assert_non_null(fx->ps);
	assert_true(portset_restore(fx->ps, &f) < 0);
	assert_int_equal(f.err, EISDIR);
	assert_non_null(strstr(f.detail, fx->tmp));
	assert_non_null(strstr(f.detail, "writable"));
	assert_null(strstr(f.detail, "was not made"));
	portset_free(fx->ps);

	/* The same with a state file to restore: refused before any port is made. */
	mend_state(fx);
	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\"}]}");
	break_state(fx);
	f = (struct fault)FAULT_INIT;
	fx->ps = portset_new(NULL, memio_io(fx->m), fx->path, 0);
	assert_non_null(fx->ps);
	assert_true(portset_restore(fx->ps, &f) < 0);
	assert_non_null(strstr(f.detail, "writable"));
	assert_int_equal(portset_count(fx->ps), 0);
	assert_int_equal(memio_calls(fx->m, MEMIO_OPEN), 0);
}

static void test_no_state_path(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;

	fx->ps = portset_new(NULL, memio_io(fx->m), NULL, 0);
	assert_non_null(fx->ps);
	assert_int_equal(portset_restore(fx->ps, &f), 0);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	assert_int_equal(portset_delete(fx->ps, "p0", &f), 0);
	assert_int_equal(dir_count(fx->dir), 0);
}

/* --- restore --- */

static void test_restore_recreates(void **state)
{
	struct ps_fx *fx = *state;
	struct port *p;
	json_t *doc;

	file_write(fx->path, "{\"format\":1,\"ports\":["
			     "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000,\"up\":false,"
			     "\"mac\":\"02:00:00:00:00:42\","
			     "\"addresses\":[\"198.18.0.1/24\",\"2001:DB8::1/64\"]},"
			     "{\"name\":\"p1\",\"type\":\"tun\",\"packet_info\":true}]}");
	ps_fx_start(fx, 0);
	assert_int_equal(portset_count(fx->ps), 2);
	p = portset_at(fx->ps, 0);
	assert_string_equal(port_name(p), "p0");
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 9000);
	assert_int_equal(memio_link(fx->m, "p0")->mac[5], 0x42);
	assert_false(memio_link(fx->m, "p0")->flags & IFF_UP);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	p = portset_at(fx->ps, 1);
	assert_string_equal(port_name(p), "p1");
	assert_true(port_config(p)->packet_info);
	assert_int_equal(port_state(p), PORT_STATE_UP);

	/* Written back in canonical form. */
	doc = state_doc(fx);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(state_port(doc, "p0"), "addresses"), 1)),
			    "2001:db8::1/64");
	json_decref(doc);
}

static void test_restore_round_trip(void **state)
{
	struct ps_fx *fx = *state;
	json_t *want[3], *got;

	ps_fx_start(fx, 0);
	create_ok(fx,
		  "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000,\"mac\":\"02:00:00:00:00:42\","
		  "\"addresses\":[\"198.18.0.1/24\"]}");
	create_ok(fx, "{\"name\":\"p1\",\"type\":\"tun\",\"up\":false}");
	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	create_ok(fx, "{\"name\":\"pre0\",\"type\":\"tap\",\"attach\":true}");
	for (size_t i = 0; i < 3; i++)
		want[i] = portcfg_to_json(port_config(portset_at(fx->ps, i)));

	/* A restart: created devices vanish with paird, the attached one stays. */
	portset_free(fx->ps);
	fx->ps = NULL;
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_true(memio_device_exists(fx->m, "pre0"));
	ps_fx_start(fx, 0);
	assert_int_equal(portset_count(fx->ps), 3);
	for (size_t i = 0; i < 3; i++) {
		struct port *p = portset_at(fx->ps, i);

		got = portcfg_to_json(port_config(p));
		assert_true(json_equal(want[i], got));
		assert_true(port_state(p) == PORT_STATE_UP || port_state(p) == PORT_STATE_DOWN);
		json_decref(got);
		json_decref(want[i]);
	}
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 9000);
}

static void restore_refused(struct ps_fx *fx, const char *text, const char *field,
			    const char *needle)
{
	unsigned opens = memio_calls(fx->m, MEMIO_OPEN);
	struct fault f = FAULT_INIT;
	char *before, *after;

	file_write(fx->path, text);
	before = file_read(fx->path, NULL);
	portset_free(fx->ps);
	fx->ps = portset_new(NULL, memio_io(fx->m), fx->path, 0);
	assert_non_null(fx->ps);
	if (portset_restore(fx->ps, &f) >= 0)
		fail_msg("restored: %s", text);
	assert_true(f.kind == FAULT_SYNTAX || f.kind == FAULT_INVALID);
	if (!strstr(f.detail, fx->path) || !strstr(f.detail, needle))
		fail_msg("%s: detail \"%s\" lacks the path or \"%s\"", text, f.detail, needle);
	if (field && strcmp(f.field, field) != 0)
		fail_msg("%s: field \"%s\", expected \"%s\"", text, f.field, field);
	/* The whole file is read before a port is made: a refused one makes none. */
	assert_int_equal(portset_count(fx->ps), 0);
	assert_int_equal(memio_calls(fx->m, MEMIO_OPEN), opens);
	/* The operator's file is never overwritten by a failed start. */
	after = file_read(fx->path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	portset_free(fx->ps);
	fx->ps = NULL;
	assert_int_equal(memio_open_fds(fx->m), 0);
}

static void test_restore_corrupt(void **state)
{
	struct ps_fx *fx = *state;

	restore_refused(fx, "{\"format\":1,\"ports\":[", NULL, "corrupt");
	restore_refused(fx, "", NULL, "corrupt");
	restore_refused(fx, "{\"format\":1,\"format\":1,\"ports\":[]}", NULL, "corrupt");
	restore_refused(fx, "[]", NULL, "not a JSON object");
	restore_refused(fx, "{\"format\":1,\"ports\":[],\"extra\":true}", "extra", "extra");
	restore_refused(fx, "{\"format\":2,\"ports\":[]}", "format", "format must be 1");
	restore_refused(fx, "{\"format\":\"1\",\"ports\":[]}", "format", "format must be 1");
	restore_refused(fx, "{\"format\":1}", NULL, "required");
	restore_refused(fx, "{\"ports\":[]}", NULL, "required");
	restore_refused(fx, "{\"format\":1,\"ports\":{}}", "ports", "must be an array");
	restore_refused(fx,
			"{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\"},"
			"{\"name\":\"p0\",\"type\":\"tun\"}]}",
			"name", "already exists");
	restore_refused(fx,
			"{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\","
			"\"mtu\":10}]}",
			"mtu", "ports[0]");
	restore_refused(fx,
			"{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\"},"
			"{\"name\":\"p1\",\"type\":\"tap\",\"bogus\":1}]}",
			"bogus", "ports[1]");
	restore_refused(fx, "{\"format\":1,\"ports\":[{\"name\":\"../x\",\"type\":\"tap\"}]}",
			"name", "ports[0]");
	restore_refused(fx, "{\"format\":1,\"ports\":[{\"type\":\"tap\"}]}", "name", "ports[0]");
	restore_refused(fx, "{\"format\":1,\"ports\":[\"p0\"]}", NULL, "ports[0]");
	restore_refused(fx,
			"{\"format\":1,\"ports\":[{\"name\":\"t0\",\"type\":\"tun\","
			"\"mac\":\"02:00:00:00:00:01\"}]}",
			"mac", "ports[0]");
}

static void test_restore_limit(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;

	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\"},"
			     "{\"name\":\"p1\",\"type\":\"tap\"}]}");
	fx->ps = portset_new(NULL, memio_io(fx->m), fx->path, 1);
	assert_true(portset_restore(fx->ps, &f) < 0);
	assert_non_null(strstr(f.detail, "ports[1]"));
}

/* --max-bindings holds for a state file too, at the first binding past it. */
static void test_restore_bindings_limit(void **state)
{
	struct ps_fx *fx = *state;
	struct fault f = FAULT_INIT;

	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\","
			     "\"bindings\":[{\"id\":1,\"match\":{},\"handler\":\"count\"},"
			     "{\"id\":2,\"match\":{},\"handler\":\"count\"}],"
			     "\"next_binding_id\":3}]}");
	fx->ps = portset_new(NULL, memio_io(fx->m), fx->path, 0);
	assert_int_equal(portset_set_dataplane(fx->ps, 1 << 20, 1 << 16, 1), 0);
	assert_true(portset_restore(fx->ps, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_non_null(strstr(f.detail, "ports[0].bindings[1]"));
	assert_non_null(strstr(f.detail, "--max-bindings"));
}

/*
 * A binding with the largest id wraps the next id to 0, which a restored
 * next_binding_id of 1 then raises to 1: the binding must still be saved,
 * not taken for a port that never had one.
 */
static void test_restore_keeps_bindings_next_id_1(void **state)
{
	struct ps_fx *fx = *state;
	json_t *doc, *b;

	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\","
			     "\"bindings\":[{\"id\":4294967295,\"match\":{},"
			     "\"handler\":\"count\"}],\"next_binding_id\":1}]}");
	ps_fx_start(fx, 0);
	doc = state_doc(fx);
	b = json_object_get(state_port(doc, "p0"), "bindings");
	assert_int_equal(json_array_size(b), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 0), "id")),
			 4294967295LL);
	json_decref(doc);
	/* And again after a second restart. */
	ps_fx_start(fx, 0);
	doc = state_doc(fx);
	assert_int_equal(json_array_size(json_object_get(state_port(doc, "p0"), "bindings")), 1);
	json_decref(doc);
}

/* After id UINT32_MAX the next id wraps: what paird writes then must restore again. */
static void test_restore_wrapped_next_id(void **state)
{
	struct ps_fx *fx = *state;
	json_t *doc, *pj;

	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\","
			     "\"bindings\":[{\"id\":4294967295,\"match\":{},"
			     "\"handler\":\"count\"}]}]}");
	ps_fx_start(fx, 0);
	ps_fx_start(fx, 0);
	doc = state_doc(fx);
	pj = state_port(doc, "p0");
	assert_int_equal(json_array_size(json_object_get(pj, "bindings")), 1);
	assert_int_equal(json_integer_value(json_object_get(pj, "next_binding_id")), 1);
	json_decref(doc);
}

static void test_restore_missing_device(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct port *p;
	bool created;
	json_t *doc, *e;

	file_write(fx->path, "{\"format\":1,\"ports\":["
			     "{\"name\":\"gone0\",\"type\":\"tap\",\"attach\":true,\"mtu\":9000},"
			     "{\"name\":\"p1\",\"type\":\"tun\"}]}");
	ps_fx_start(fx, 0);
	assert_int_equal(portset_count(fx->ps), 2);
	p = portset_find(fx->ps, "gone0");
	assert_non_null(p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_int_equal(port_last_error(p)->err, ENODEV);
	assert_non_null(strstr(port_last_error(p)->message, "gone0"));
	assert_true(port_config(p)->attach);
	assert_int_equal(port_config(p)->mtu, 9000);
	assert_int_equal(port_state(portset_find(fx->ps, "p1")), PORT_STATE_UP);

	/* Kept in the file as it was, not dropped. */
	doc = state_doc(fx);
	e = state_port(doc, "gone0");
	assert_non_null(e);
	assert_true(json_is_true(json_object_get(e, "attach")));
	assert_int_equal(json_integer_value(json_object_get(e, "mtu")), 9000);
	json_decref(doc);

	/* Patching a port with no device is a conflict, not a crash. */
	c = patch_json("{\"mtu\":1400}");
	assert_true(portset_patch(fx->ps, p, &c, &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);

	/* Once the administrator creates the device, PUT brings the port back. */
	assert_int_equal(memio_device_add(fx->m, "gone0", true, true), 0);
	c = cfg_json("{\"name\":\"gone0\",\"type\":\"tap\",\"attach\":true,\"mtu\":9000}");
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_put(fx->ps, &c, &created, &p, &f), 0);
	assert_false(created);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	assert_int_equal(memio_link(fx->m, "gone0")->mtu, 9000);
	assert_ptr_equal(portset_at(fx->ps, 0), p);

	/* And DELETE of a broken port just forgets it. */
	assert_int_equal(portset_delete(fx->ps, "gone0", &f), 0);
	assert_int_equal(state_count(fx), 1);
}

/* --- link events --- */

static void test_link_events(void **state)
{
	struct ps_fx *fx = *state;
	struct port *p;
	struct link_state ls;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	create_ok(fx, "{\"name\":\"p1\",\"type\":\"tap\"}");
	ls = *port_link(p);
	ls.flags &= ~(unsigned)IFF_UP;
	portset_link_event(fx->ps, &ls, false);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	assert_int_equal(port_state(portset_find(fx->ps, "p1")), PORT_STATE_UP);
	portset_link_event(fx->ps, &ls, true);
	assert_int_equal(port_state(p), PORT_STATE_GONE);
	assert_int_equal(port_state(portset_find(fx->ps, "p1")), PORT_STATE_UP);
	assert_int_equal(memio_open_fds(fx->m), 1);
}

/* --- IPv6 addresses and the MTU; refused and failed requests leave the kernel alone --- */

static void test_patch_mtu_below_ipv6(void **state)
{
	struct ps_fx *fx = *state;
	struct port *p;
	struct port_config c;
	struct fault f = FAULT_INIT;
	unsigned sets;
	char *before, *after;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"2001:db8::1/64\"]}");
	before = file_read(fx->path, NULL);
	sets = memio_calls(fx->m, MEMIO_LINK_SET);
	c = patch_json("{\"mtu\":576}");
	assert_true(portset_patch(fx->ps, p, &c, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "mtu");
	assert_non_null(strstr(f.detail, "addresses"));
	assert_int_equal(memio_calls(fx->m, MEMIO_LINK_SET), sets);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	after = file_read(fx->path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Bringing an IPv6 address to a port at MTU 1000 names "addresses". */
	p = create_ok(fx, "{\"name\":\"p1\",\"type\":\"tap\",\"mtu\":1000}");
	c = patch_json("{\"addresses\":[\"2001:db8:1::1/64\"]}");
	f = (struct fault)FAULT_INIT;
	assert_true(portset_patch(fx->ps, p, &c, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "addresses");
	assert_int_equal(memio_addr_count(fx->m, "p1"), 0);
}

static void test_create_put_mtu_below_ipv6(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":576,"
					"\"addresses\":[\"2001:db8::1/64\"]}");
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	bool created;

	ps_fx_start(fx, 0);
	assert_true(portset_create(fx->ps, &c, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "mtu");
	assert_false(memio_device_exists(fx->m, "p0"));
	f = (struct fault)FAULT_INIT;
	assert_true(portset_put(fx->ps, &c, &created, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_false(memio_device_exists(fx->m, "p0"));

	/* PUT over an existing port: refused before the link is touched. */
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"2001:db8::1/64\"]}");
	f = (struct fault)FAULT_INIT;
	assert_true(portset_put(fx->ps, &c, &created, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "mtu");
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
}

/* A state file from before the rule: the port is kept, in state error, with the rule as reason. */
static void test_restore_mtu_below_ipv6(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct port *p;
	bool created;

	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\","
			     "\"mtu\":576,\"addresses\":[\"2001:db8::1/64\"]},"
			     "{\"name\":\"p1\",\"type\":\"tun\"}]}");
	ps_fx_start(fx, 0);
	p = portset_find(fx->ps, "p0");
	assert_non_null(p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_non_null(strstr(port_last_error(p)->message, "1280"));
	assert_non_null(strstr(port_last_error(p)->message, "addresses"));
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(port_state(portset_find(fx->ps, "p1")), PORT_STATE_UP);

	/* PUT with a valid configuration brings it back. */
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"2001:db8::1/64\"]}");
	assert_int_equal(portset_put(fx->ps, &c, &created, &p, &f), 0);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
}

/* PUT "attach" over paird's own device: refused before the device is released. */
static void test_put_attach_own_device(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct port *p, *q;
	bool created;
	int ifindex;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\","
			  "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	ifindex = port_ifindex(p);
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"attach\":true,"
		     "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	q = NULL;
	assert_true(portset_put(fx->ps, &c, &created, &q, &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_string_equal(f.field, "attach");
	assert_ptr_equal(portset_find(fx->ps, "p0"), p);
	assert_int_equal(memio_link(fx->m, "p0")->ifindex, ifindex);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
}

/*
 * A port in state error with no device, replaced by PUT while the state
 * file cannot be written: no device is left behind, and the port keeps
 * its record.
 */
static void test_put_error_port_save_fails(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct port *p, *q = NULL;
	bool created;

	/* Someone else held the name at start: p0 could not be created. */
	assert_int_equal(memio_device_add(fx->m, "p0", true, false), 0);
	file_write(fx->path, "{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\"}]}");
	ps_fx_start(fx, 0);
	p = portset_find(fx->ps, "p0");
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_int_equal(memio_device_delete(fx->m, "p0"), 0);

	break_state(fx);
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000}");
	assert_true(portset_put(fx->ps, &c, &created, &q, &f) < 0);
	assert_internal(&f);
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_ptr_equal(portset_find(fx->ps, "p0"), p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_int_equal(port_last_error(p)->err, EEXIST);
}

/* A capture binding whose state write fails gives its ring back to --capture-memory. */
static void test_bind_save_fails_releases_ring(void **state)
{
	struct ps_fx *fx = *state;
	struct binding_config bc;
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;
	struct port *p;
	json_t *doc;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	doc = json_loads("{\"handler\":\"capture\"}", 0, NULL);
	assert_int_equal(bindcfg_from_json(doc, PORT_TAP, false, &bc, &f), 0);
	json_decref(doc);
	break_state(fx);
	assert_true(portset_bind(fx->ps, p, &bc, &b, &f) < 0);
	assert_internal(&f);
	assert_int_equal(stack_count(portset_stack(fx->ps, p)), 0);
	assert_null(stack_ring(portset_stack(fx->ps, p)));
	assert_int_equal(capture_budget_used(portset_budget(fx->ps)), 0);

	/* Once the file is writable, the ring is reserved and kept. */
	mend_state(fx);
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_bind(fx->ps, p, &bc, &b, &f), 0);
	assert_true(capture_budget_used(portset_budget(fx->ps)) > 0);
}

/* ENXIO while reopening is the kernel's failure, not "no such port"; the old port comes back whole. */
static void test_put_kernel_errno_not_404(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	bool created;

	ps_fx_start(fx, 0);
	create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\","
		      "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tap\",\"packet_info\":true,"
		     "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	memio_inject(fx->m, MEMIO_IOCTL, ENXIO); /* TUNSETIFF of the new device */
	assert_true(portset_put(fx->ps, &c, &created, &p, &f) < 0);
	assert_int_equal(f.kind, FAULT_KERNEL);
	assert_int_equal(f.err, ENXIO);
	p = portset_find(fx->ps, "p0");
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_false(port_config(p)->packet_info);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
}

/* An address event puts back a configured address removed outside paird. */
static void test_link_event_readds(void **state)
{
	struct ps_fx *fx = *state;
	struct link_state ls = { .addr_event = true };
	struct port *p;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"2001:db8::1/64\"]}");
	assert_int_equal(memio_addr_remove(fx->m, "p0", "2001:db8::1/64"), 0);
	ls.ifindex = port_ifindex(p);
	portset_link_event(fx->ps, &ls, false);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_int_equal(port_drift(p), 0);
}

/* An attach whose creation cannot be saved gives the administrator's link back as it was. */
static void test_attach_save_fails_link_back(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct link_change ch = { .up = 0, .mtu = 1400 };
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	const struct link_state *ls;
	uint8_t mac0[6];

	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	assert_int_equal(memio_link_change(fx->m, "pre0", &ch), 0);
	/* The administrator's own address, which paird lists too. */
	admin_addr_add(fx->m, "pre0", "198.18.0.1/24");
	ps_fx_start(fx, 0);
	c = cfg_json("{\"name\":\"pre0\",\"type\":\"tap\",\"attach\":true,\"mtu\":9000,"
		     "\"up\":true,\"mac\":\"02:00:00:00:00:42\","
		     "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	memcpy(mac0, memio_link(fx->m, "pre0")->mac, 6);
	break_state(fx);
	assert_true(portset_create(fx->ps, &c, &p, &f) < 0);
	assert_internal(&f);
	ls = memio_link(fx->m, "pre0");
	assert_non_null(ls);
	assert_int_equal(ls->mtu, 1400);
	assert_false(ls->flags & IFF_UP);
	assert_memory_equal(ls->mac, mac0, 6);
	assert_int_equal(memio_addr_count(fx->m, "pre0"), 1);
	assert_true(memio_has_addr(fx->m, "pre0", "198.18.0.1/24"));
	assert_int_equal(memio_open_fds(fx->m), 0);
}

/* Lost notifications (ENOBUFS): every link is read again and lost addresses come back. */
static void test_link_events_lost(void **state)
{
	struct ps_fx *fx = *state;
	struct link_state all = { .ifindex = 0, .addr_event = true };
	struct link_change down = { .up = 0 };
	struct port *p, *q;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"198.18.0.1/24\"]}");
	q = create_ok(fx, "{\"name\":\"p1\",\"type\":\"tap\"}");
	assert_int_equal(memio_link_change(fx->m, "p0", &down), 0);
	assert_int_equal(memio_addr_remove(fx->m, "p0", "198.18.0.1/24"), 0);
	assert_int_equal(memio_device_delete(fx->m, "p1"), 0);
	portset_link_event(fx->ps, &all, false);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_int_equal(port_drift(p), PORT_DRIFT_UP);
	assert_int_equal(port_state(q), PORT_STATE_GONE);
}

/* --- named bindings, PUT of a binding, versions (issue 10) --- */

static struct binding_config bind_json(enum port_type t, const char *text)
{
	struct binding_config bc;
	struct fault f = FAULT_INIT;
	json_t *doc = json_loads(text, 0, NULL);

	assert_non_null(doc);
	if (bindcfg_from_json(doc, t, false, &bc, &f) != 0)
		fail_msg("%s: %s", text, f.detail);
	json_decref(doc);
	return bc;
}

static struct binding *bind_ok(struct ps_fx *fx, struct port *p, const char *text)
{
	struct binding_config bc = bind_json(PORT_TAP, text);
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;

	if (portset_bind(fx->ps, p, &bc, &b, &f) != 0)
		fail_msg("bind %s: %s", text, f.detail);
	return b;
}

/* The state file's text, to show that a call did not write it. */
static char *state_text(const struct ps_fx *fx)
{
	json_t *doc = state_doc(fx);
	char *t = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);

	json_decref(doc);
	return t;
}

static void test_binding_names(void **state)
{
	struct ps_fx *fx = *state;
	struct binding_config bc;
	struct fault f = FAULT_INIT;
	struct binding *b;
	struct port *p;
	json_t *doc, *bs;
	uint32_t id;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	bind_ok(fx, p, "{\"handler\":\"count\"}");
	b = bind_ok(fx, p,
		    "{\"name\":\"dns\",\"match\":{\"ethertype\":2048,"
		    "\"ip_protocol\":17,\"udp_port\":53},\"handler\":\"capture\"}");
	id = b->cfg.id;
	assert_int_equal(id, 2);
	bind_ok(fx, p, "{\"handler\":\"count\"}");
	/* A second binding of that name on the port is a conflict, and nothing is added. */
	bc = bind_json(PORT_TAP, "{\"name\":\"dns\",\"handler\":\"count\"}");
	assert_true(portset_bind(fx->ps, p, &bc, &b, &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_string_equal(f.field, "name");
	assert_int_equal(stack_count(portset_stack(fx->ps, p)), 3);
	/* The same name on another port is another binding. */
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_bind(fx->ps,
				      create_ok(fx, "{\"name\":\"p1\",\"type\":"
						    "\"tap\"}"),
				      &bc, NULL, &f),
			 0);

	/* Found by name and by id, and never by an all-digit name. */
	assert_ptr_equal(portset_find_binding(fx->ps, p, "dns"),
			 stack_find(portset_stack(fx->ps, p), id));
	assert_ptr_equal(portset_find_binding(fx->ps, p, "2"),
			 portset_find_binding(fx->ps, p, "dns"));
	assert_ptr_equal(stack_find_name(portset_stack(fx->ps, p), "dns"),
			 portset_find_binding(fx->ps, p, "dns"));
	assert_null(portset_find_binding(fx->ps, p, "dnx"));
	assert_null(portset_find_binding(fx->ps, p, "0"));
	assert_null(portset_find_binding(fx->ps, p, "99999999999"));
	assert_null(portset_find_binding(fx->ps, p, ""));
	assert_null(stack_find_name(portset_stack(fx->ps, p), ""));

	/* In the state file, and only on the named one. */
	doc = state_doc(fx);
	bs = json_object_get(state_port(doc, "p0"), "bindings");
	assert_null(json_object_get(json_array_get(bs, 0), "name"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(bs, 1), "name")),
			    "dns");
	json_decref(doc);

	/* A restart brings the name back with its id. */
	ps_fx_start(fx, 0);
	p = portset_find(fx->ps, "p0");
	b = portset_find_binding(fx->ps, p, "dns");
	assert_non_null(b);
	assert_int_equal(b->cfg.id, id);
	assert_int_equal(b->cfg.kind, HANDLER_CAPTURE);
	assert_string_equal(portset_find_binding(fx->ps, p, "1")->cfg.name, "");
}

/* A state file of an older paird (no names) loads; one with a name twice on a port does not. */
static void test_restore_binding_names(void **state)
{
	struct ps_fx *fx = *state;
	struct portset *ps;
	struct fault f = FAULT_INIT;
	FILE *fp;

	fp = fopen(fx->path, "w");
	assert_non_null(fp);
	fputs("{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\",\"bindings\":"
	      "[{\"id\":1,\"match\":{},\"handler\":\"count\",\"options\":{}}],"
	      "\"next_binding_id\":2}]}",
	      fp);
	fclose(fp);
	ps_fx_start(fx, 0);
	assert_int_equal(stack_count(portset_stack(fx->ps, portset_find(fx->ps, "p0"))), 1);

	portset_free(fx->ps);
	fx->ps = NULL;
	fp = fopen(fx->path, "w");
	assert_non_null(fp);
	fputs("{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\",\"bindings\":"
	      "[{\"id\":1,\"name\":\"a\",\"handler\":\"count\"},"
	      "{\"id\":2,\"name\":\"a\",\"handler\":\"drop\"}]}]}",
	      fp);
	fclose(fp);
	ps = portset_new(NULL, memio_io(fx->m), fx->path, 0);
	assert_non_null(ps);
	assert_true(portset_restore(ps, &f) < 0);
	assert_non_null(strstr(f.detail, "bindings[1]"));
	assert_non_null(strstr(f.detail, "named a"));
	portset_free(ps);
}

/*
 * A replaced binding keeps its place in dispatch order, not only in the
 * list: two capture bindings on every frame record in creation order, and
 * after the first is replaced it still records first (as it will after a
 * restart, which recreates bindings in list order).
 */
static void test_bind_put_keeps_dispatch_order(void **state)
{
	struct ps_fx *fx = *state;
	struct binding_config bc;
	struct fault f = FAULT_INIT;
	struct binding *a = NULL, *b;
	struct capture_record rec;
	uint8_t frame[60] = { 0 };
	bool created, changed;
	struct stack *s;
	struct port *p;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"up\":true}");
	bc = bind_json(PORT_TAP, "{\"handler\":\"capture\"}");
	memcpy(bc.name, "first", 6);
	assert_int_equal(portset_bind_put(fx->ps, p, &bc, &created, &changed, &a, &f), 0);
	b = bind_ok(fx, p, "{\"handler\":\"capture\"}");
	bc = bind_json(PORT_TAP, "{\"handler\":\"capture\",\"options\":{\"snaplen\":32}}");
	memcpy(bc.name, "first", 6);
	assert_int_equal(portset_bind_put(fx->ps, p, &bc, &created, &changed, &a, &f), 0);
	assert_true(changed);

	s = portset_stack(fx->ps, p);
	assert_ptr_equal(stack_at(s, 0), a);
	frame[12] = 0x88; /* an ethertype no binding names: every-frame bindings only */
	frame[13] = 0xb5;
	assert_int_equal(memio_push(fx->m, "p0", frame, sizeof(frame)), 0);
	port_read_ready(p);
	assert_true(capture_ring_next(stack_ring(s), 0, 0, &rec));
	assert_int_equal(rec.binding_id, a->cfg.id);
	assert_true(capture_ring_next(stack_ring(s), rec.seq, 0, &rec));
	assert_int_equal(rec.binding_id, b->cfg.id);
}

static void test_bind_put(void **state)
{
	struct ps_fx *fx = *state;
	struct binding_config bc;
	struct fault f = FAULT_INIT;
	struct binding *b = NULL, *b2 = NULL;
	bool created, changed;
	uint64_t v, gv;
	char *before, *after;
	struct port *p;

	ps_fx_start(fx, 0);
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	bind_ok(fx, p, "{\"handler\":\"count\"}");
	bc = bind_json(PORT_TAP, "{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,"
				 "\"udp_port\":53},\"handler\":\"capture\"}");
	memcpy(bc.name, "dns", 4);
	assert_int_equal(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b, &f), 0);
	assert_true(created);
	assert_true(changed);
	assert_int_equal(b->cfg.id, 2);
	bind_ok(fx, p, "{\"handler\":\"drop\"}");
	v = b->version;
	assert_true(v > 0);
	assert_int_equal(v + 1, portset_version(fx->ps));

	/* The same again: nothing done, counters kept, no state write, same versions. */
	b->c.packets = 7;
	before = state_text(fx);
	break_state(fx); /* any write would now fail */
	gv = portset_version(fx->ps);
	assert_int_equal(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b2, &f), 0);
	assert_false(created);
	assert_false(changed);
	assert_ptr_equal(b2, b);
	assert_int_equal(b->c.packets, 7);
	assert_int_equal(b->version, v);
	assert_int_equal(portset_version(fx->ps), gv);
	assert_int_equal(stack_count(portset_stack(fx->ps, p)), 3);

	/* A replace whose state write fails leaves the old one in place, counters and all. */
	bc = bind_json(PORT_TAP, "{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,"
				 "\"udp_port\":53},\"handler\":\"capture\",\"options\":"
				 "{\"limit\":4}}");
	memcpy(bc.name, "dns", 4);
	assert_true(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b2, &f) < 0);
	assert_internal(&f);
	assert_false(changed);
	assert_ptr_equal(stack_at(portset_stack(fx->ps, p), 1), b);
	assert_int_equal(b->c.packets, 7);
	assert_int_equal(portset_version(fx->ps), gv);
	mend_state(fx);
	after = state_text(fx);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Replaced: same id, name and place; new version, fresh counters. */
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b2, &f), 0);
	assert_false(created);
	assert_true(changed);
	assert_int_equal(b2->cfg.id, 2);
	assert_string_equal(b2->cfg.name, "dns");
	assert_int_equal(b2->cfg.o.capture.limit, 4);
	assert_int_equal(b2->c.packets, 0);
	assert_true(b2->version > v);
	assert_int_equal(b2->version, portset_version(fx->ps));
	assert_ptr_equal(stack_at(portset_stack(fx->ps, p), 1), b2);
	assert_int_equal(stack_count(portset_stack(fx->ps, p)), 3);
	assert_int_equal(stack_next_id(portset_stack(fx->ps, p)), 4);

	/* A replace the handler refuses changes nothing either. */
	bc = bind_json(PORT_TAP, "{\"handler\":\"forward\",\"options\":{\"port\":\"p9\"}}");
	memcpy(bc.name, "dns", 4);
	f = (struct fault)FAULT_INIT;
	assert_true(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b, &f) < 0);
	assert_string_equal(f.field, "options.port");
	assert_ptr_equal(stack_at(portset_stack(fx->ps, p), 1), b2);

	/* An unnamed binding by its id: replaced in place; an absent id is not found. */
	bc = bind_json(PORT_TAP, "{\"handler\":\"drop\"}");
	bc.id = 1;
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b, &f), 0);
	assert_true(changed);
	assert_int_equal(b->cfg.kind, HANDLER_DROP);
	assert_ptr_equal(stack_at(portset_stack(fx->ps, p), 0), b);
	bc.id = 77;
	assert_true(portset_bind_put(fx->ps, p, &bc, &created, &changed, &b, &f) < 0);
	assert_int_equal(f.kind, FAULT_NOT_FOUND);

	/* The replace survives a restart. */
	ps_fx_start(fx, 0);
	p = portset_find(fx->ps, "p0");
	b = portset_find_binding(fx->ps, p, "dns");
	assert_int_equal(b->cfg.id, 2);
	assert_int_equal(b->cfg.o.capture.limit, 4);
}

static void test_versions(void **state)
{
	struct ps_fx *fx = *state;
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct binding *b;
	struct port *p;
	uint64_t v0, v1, v2;

	ps_fx_start(fx, 0);
	v0 = portset_version(fx->ps);
	/* Seeded from the clock (µs): far above any count of changes, exact as a JS number. */
	assert_true(v0 > 1000000000ull * 1000000ull);
	assert_true(v0 < (1ull << 53));
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tap\"}");
	v1 = portset_port_version(fx->ps, p);
	assert_int_equal(v1, v0 + 1);
	assert_int_equal(portset_version(fx->ps), v1);
	b = bind_ok(fx, p, "{\"handler\":\"count\"}");
	assert_int_equal(b->version, v1 + 1);
	/* A binding is not its port: the port's version stays. */
	assert_int_equal(portset_port_version(fx->ps, p), v1);
	c = patch_json("{\"mtu\":1400}");
	assert_int_equal(portset_patch(fx->ps, p, &c, &f), 0);
	v2 = portset_port_version(fx->ps, p);
	assert_int_equal(v2, v1 + 2);
	/* Observed state does not count. */
	port_read_ready(p);
	assert_int_equal(portset_port_version(fx->ps, p), v2);
	assert_int_equal(portset_unbind(fx->ps, p, b->cfg.id, &f), 0);
	assert_int_equal(portset_version(fx->ps), v2 + 1);
	assert_int_equal(portset_delete(fx->ps, "p0", &f), 0);
	assert_int_equal(portset_version(fx->ps), v2 + 2);
	assert_int_equal(portset_port_version(fx->ps, p), 0);

	/* Restored ports and bindings get versions of their own, above the new seed. */
	p = create_ok(fx, "{\"name\":\"p1\",\"type\":\"tap\"}");
	bind_ok(fx, p, "{\"handler\":\"count\"}");
	v2 = portset_version(fx->ps);
	ps_fx_start(fx, 0);
	p = portset_find(fx->ps, "p1");
	assert_true(portset_port_version(fx->ps, p) > v2);
	assert_true(stack_at(portset_stack(fx->ps, p), 0)->version >
		    portset_port_version(fx->ps, p));
}

/*
 * A PUT or PATCH to what is already there: no kernel operation, no counter
 * reset, no state write, no event, the same version (issue 10).
 */
static void test_put_patch_noop(void **state)
{
	struct ps_fx *fx = *state;
	struct events *ev = events_new(64);
	struct port_config c, patch;
	struct fault f = FAULT_INIT;
	uint8_t frame[40] = { 0x45 };
	unsigned calls[MEMIO_OP_COUNT];
	struct port *p, *q;
	uint64_t v, gv, newest;
	bool created;

	assert_non_null(ev);
	ps_fx_start(fx, 0);
	assert_int_equal(portset_set_events(fx->ps, ev, 0), 0);
	/* POST without mtu: the same configuration as a PUT without one. */
	p = create_ok(fx, "{\"name\":\"p0\",\"type\":\"tun\",\"addresses\":"
			  "[\"198.18.0.1/24\"]}");
	assert_true(port_config(p)->has_mtu);
	assert_int_equal(port_config(p)->mtu, 1500);
	assert_int_equal(memio_push(fx->m, "p0", frame, sizeof(frame)), 0);
	port_read_ready(p);
	v = portset_port_version(fx->ps, p);
	gv = portset_version(fx->ps);
	newest = events_newest(ev);
	for (int i = 0; i < MEMIO_OP_COUNT; i++)
		calls[i] = memio_calls(fx->m, (enum memio_op)i);
	break_state(fx); /* a write would fail the call */

	c = cfg_json("{\"name\":\"p0\",\"type\":\"tun\",\"addresses\":[\"198.18.0.1/24\"]}");
	assert_int_equal(portset_put(fx->ps, &c, &created, &q, &f), 0);
	assert_false(created);
	assert_ptr_equal(q, p);
	/* The canonical form, every field spelled out, is the same request. */
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tun\",\"mtu\":1500,\"mac\":null,"
		     "\"up\":true,\"addresses\":[\"198.18.0.1/24\"],\"attach\":false,"
		     "\"packet_info\":false,\"strict\":false}");
	assert_int_equal(portset_put(fx->ps, &c, &created, &q, &f), 0);
	patch = patch_json("{\"mtu\":1500,\"up\":true,\"addresses\":[\"198.18.0.1/24\"]}");
	assert_int_equal(portset_patch(fx->ps, p, &patch, &f), 0);
	patch = patch_json("{}");
	assert_int_equal(portset_patch(fx->ps, p, &patch, &f), 0);

	assert_int_equal(f.kind, FAULT_NONE);
	for (int i = 0; i < MEMIO_OP_COUNT; i++)
		if (i != MEMIO_READ && memio_calls(fx->m, (enum memio_op)i) != calls[i])
			fail_msg("memio op %d called %u times, was %u", i,
				 memio_calls(fx->m, (enum memio_op)i), calls[i]);
	assert_int_equal(port_counters(p)->rx_frames, 1);
	assert_int_equal(portset_port_version(fx->ps, p), v);
	assert_int_equal(portset_version(fx->ps), gv);
	assert_int_equal(events_newest(ev), newest);

	/* A real change still is one: and it would have been refused had it been written. */
	patch = patch_json("{\"mtu\":1400}");
	assert_true(portset_patch(fx->ps, p, &patch, &f) < 0);
	assert_int_equal(portset_port_version(fx->ps, p), v);
	mend_state(fx);
	f = (struct fault)FAULT_INIT;
	assert_int_equal(portset_patch(fx->ps, p, &patch, &f), 0);
	assert_true(portset_port_version(fx->ps, p) > v);
	assert_int_equal(port_counters(p)->rx_frames, 1);

	/* Drift is something to do: the same configuration brings the link back. */
	v = portset_port_version(fx->ps, p);
	{
		struct link_change ch = { .up = -1, .mtu = 1300 };

		assert_int_equal(memio_link_change(fx->m, "p0", &ch), 0);
		port_link_update(p, memio_link(fx->m, "p0"));
	}
	assert_true(port_drift(p) & PORT_DRIFT_MTU);
	c = cfg_json("{\"name\":\"p0\",\"type\":\"tun\",\"mtu\":1400,\"addresses\":"
		     "[\"198.18.0.1/24\"]}");
	assert_int_equal(portset_put(fx->ps, &c, &created, &q, &f), 0);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1400);
	assert_int_equal(port_drift(p), 0);
	assert_true(portset_port_version(fx->ps, p) > v);
	portset_set_events(fx->ps, NULL, 0);
	events_free(ev);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_restore_missing_file),
		T(test_create_persists),
		T(test_create_duplicate),
		T(test_limit),
		T(test_put),
		T(test_put_replaces_addresses),
		T(test_patch_persists),
		T(test_delete_persists),
		T(test_delete_attached_keeps_device),
		T(test_create_save_fails),
		T(test_save_fails_first_fault_wins),
		T(test_restore_bindings_limit),
		T(test_restore_keeps_bindings_next_id_1),
		T(test_restore_wrapped_next_id),
		T(test_state_dir_removed),
		T(test_state_lock_before_tmp),
		T(test_delete_save_fails),
		T(test_patch_save_fails),
		T(test_patch_save_fails_unset_fields),
		T(test_put_save_fails_same_device),
		T(test_put_save_fails_replace),
		T(test_state_unwritable_at_restore),
		T(test_no_state_path),
		T(test_restore_recreates),
		T(test_restore_round_trip),
		T(test_restore_corrupt),
		T(test_restore_limit),
		T(test_restore_missing_device),
		T(test_link_events),
		T(test_patch_mtu_below_ipv6),
		T(test_create_put_mtu_below_ipv6),
		T(test_restore_mtu_below_ipv6),
		T(test_put_attach_own_device),
		T(test_put_error_port_save_fails),
		T(test_bind_save_fails_releases_ring),
		T(test_put_kernel_errno_not_404),
		T(test_link_event_readds),
		T(test_attach_save_fails_link_back),
		T(test_link_events_lost),
		T(test_binding_names),
		T(test_restore_binding_names),
		T(test_bind_put),
		T(test_bind_put_keeps_dispatch_order),
		T(test_versions),
		T(test_put_patch_noop),
	};

	return cmocka_run_group_tests_name("portset", tests, NULL, NULL);
}
