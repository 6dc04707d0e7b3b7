// SPDX-License-Identifier: MIT
/*
 * The port registry and its transactions: kernel first, state file second,
 * undo on failure. Ports are kept in a small array in creation order (a few
 * dozen at most, looked up by name on the control path only).
 */
#include "portset.h"

#include <errno.h>
#include <linux/if.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"

struct portset {
	struct port_env env;
	char *state_path;
	unsigned max_ports;
	size_t n;
	struct port **ports;
};

struct portset *portset_new(struct event_base *base, struct port_io io, const char *state_path,
			    unsigned max_ports)
{
	struct portset *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->env.base = base;
	ps->env.io = io;
	ps->max_ports = max_ports ? max_ports : PORTSET_DEFAULT_MAX;
	ps->ports = calloc(ps->max_ports, sizeof(*ps->ports));
	if (!ps->ports || (state_path && !(ps->state_path = strdup(state_path)))) {
		free(ps->ports);
		free(ps);
		return NULL;
	}
	return ps;
}

void portset_free(struct portset *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		port_free(ps->ports[i]);
	free(ps->ports);
	free(ps->state_path);
	free(ps);
}

size_t portset_count(const struct portset *ps)
{
	return ps->n;
}

struct port *portset_at(const struct portset *ps, size_t i)
{
	return i < ps->n ? ps->ports[i] : NULL;
}

static ssize_t index_of(const struct portset *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(port_name(ps->ports[i]), name) == 0)
			return (ssize_t)i;
	return -1;
}

struct port *portset_find(const struct portset *ps, const char *name)
{
	ssize_t i = index_of(ps, name);

	return i < 0 ? NULL : ps->ports[i];
}

static void insert_at(struct portset *ps, size_t i, struct port *p)
{
	memmove(&ps->ports[i + 1], &ps->ports[i], (ps->n - i) * sizeof(*ps->ports));
	ps->ports[i] = p;
	ps->n++;
}

static struct port *remove_at(struct portset *ps, size_t i)
{
	struct port *p = ps->ports[i];

	memmove(&ps->ports[i], &ps->ports[i + 1], (ps->n - i - 1) * sizeof(*ps->ports));
	ps->n--;
	return p;
}

static int save(struct portset *ps, struct fault *f)
{
	json_t *doc, *arr;
	int ret;

	if (!ps->state_path)
		return 0;
	doc = json_object();
	arr = json_array();
	if (!doc || !arr) {
		json_decref(doc);
		json_decref(arr);
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	}
	json_object_set_new(doc, "format", json_integer(STATE_FORMAT));
	json_object_set_new(doc, "ports", arr);
	for (size_t i = 0; i < ps->n; i++) {
		json_t *pj = portcfg_to_json(port_config(ps->ports[i]));

		if (!pj || json_array_append_new(arr, pj) < 0) {
			json_decref(doc);
			return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		}
	}
	ret = state_save(ps->state_path, doc, f);
	json_decref(doc);
	if (ret < 0) {
		/* The client hears "internal error"; the log says which file and why. */
		log_error("state file not written, change undone: %s", f->detail);
		f->kind = FAULT_INTERNAL;
	}
	return ret;
}

static int check_room(const struct portset *ps, const char *name, struct fault *f)
{
	if (index_of(ps, name) >= 0)
		return fault_set(f, FAULT_CONFLICT, EEXIST, "name", "port %s already exists", name);
	if (ps->n >= ps->max_ports)
		return fault_set(f, FAULT_LIMIT, ENOSPC, NULL,
				 "paird holds %u ports, its limit (--max-ports)", ps->max_ports);
	return 0;
}

int portset_create(struct portset *ps, const struct port_config *cfg, struct port **out,
		   struct fault *f)
{
	struct port *p;

	if (check_room(ps, cfg->name, f) < 0)
		return -EEXIST;
	p = port_open(&ps->env, cfg, f);
	if (!p)
		return f->err ? -f->err : -EINVAL;
	insert_at(ps, ps->n, p);
	if (save(ps, f) < 0) {
		remove_at(ps, ps->n - 1);
		port_free(p);
		return -EIO;
	}
	if (out)
		*out = p;
	return 0;
}

/*
 * Undoes a successful port_reconfigure() away from @old. port_reconfigure()
 * leaves alone what its target does not mention, and @old may not mention
 * what the change set (a port created without "mtu" whose MTU a PATCH set):
 * those go back to the link as it was @before, then @old is the
 * configuration again.
 */
static void reconfigure_back(struct port *p, const struct port_config *old,
			     const struct link_state *before)
{
	struct port_config back = *old;
	struct fault ignored = FAULT_INIT;

	if (!back.has_up) {
		back.has_up = true;
		back.up = before->flags & IFF_UP;
	}
	if (!back.has_mtu) {
		back.has_mtu = true;
		back.mtu = before->mtu;
	}
	if (!back.has_mac && before->has_mac) {
		back.has_mac = true;
		memcpy(back.mac, before->mac, 6);
	}
	if (!back.has_addresses) {
		back.has_addresses = true;
		back.n_addrs = 0;
	}
	if (port_reconfigure(p, &back, &ignored) < 0)
		log_error("port %s: could not undo a link change: %s", old->name, ignored.detail);
	port_reconfigure(p, old, &ignored);
}

/* The full configuration a PUT asks for, given what the port has now. */
static void put_target(const struct port_config *old, const struct port_config *cfg,
		       struct port_config *want)
{
	*want = *cfg;
	if (!want->attach && !want->has_up) {
		want->has_up = true;
		want->up = true;
	}
	/*
	 * A device paird creates starts at MTU 1500; a PUT without "mtu" asks
	 * for that, and says so in the state file, so a restart brings back
	 * the MTU the client was told about.
	 */
	if (!want->attach && !want->has_mtu) {
		want->has_mtu = true;
		want->mtu = 1500;
	}
	/* PUT replaces: addresses paird added and the new body omits go away. */
	if (!want->has_addresses && old->has_addresses) {
		want->has_addresses = true;
		want->n_addrs = 0;
	}
}

int portset_put(struct portset *ps, const struct port_config *cfg, bool *created,
		struct port **out, struct fault *f)
{
	ssize_t i = index_of(ps, cfg->name);
	struct port_config old, want;
	struct link_state before;
	struct port *p, *fresh;

	*created = i < 0;
	if (i < 0)
		return portset_create(ps, cfg, out, f);
	p = ps->ports[i];
	old = *port_config(p);
	before = *port_link(p);
	put_target(&old, cfg, &want);

	if (portcfg_same_device(&old, &want) && port_state(p) != PORT_STATE_GONE &&
	    port_state(p) != PORT_STATE_ERROR) {
		if (port_reconfigure(p, &want, f) < 0)
			return f->err ? -f->err : -EINVAL;
		if (save(ps, f) < 0) {
			reconfigure_back(p, &old, &before);
			return -EIO;
		}
		if (out)
			*out = p;
		return 0;
	}

	/*
	 * Another device (type, packet info, attach) or a broken port: the old
	 * device must be released first, since the new one takes its name.
	 */
	remove_at(ps, (size_t)i);
	port_free(p);
	fresh = port_open(&ps->env, cfg, f);
	if (fresh) {
		insert_at(ps, (size_t)i, fresh);
		if (save(ps, f) == 0) {
			if (out)
				*out = fresh;
			log_info("port %s: replaced", cfg->name);
			return 0;
		}
		remove_at(ps, (size_t)i);
		port_free(fresh);
	}
	/* Put the old port back as well as we can; its counters start again. */
	{
		struct fault again = FAULT_INIT;

		p = port_open(&ps->env, &old, &again);
		if (!p)
			p = port_new_failed(&ps->env, &old, &again);
		if (p)
			insert_at(ps, (size_t)i, p);
		else
			log_error("port %s: lost while undoing a failed replace", old.name);
	}
	return f->err ? -f->err : -EIO;
}

int portset_patch(struct portset *ps, struct port *p, const struct port_config *patch,
		  struct fault *f)
{
	struct port_config old = *port_config(p);
	struct port_config want = old;
	struct link_state before = *port_link(p);

	portcfg_merge(&want, patch);
	if (portcfg_check(&want, f) < 0)
		return -EINVAL;
	if (port_reconfigure(p, &want, f) < 0)
		return f->err ? -f->err : -EINVAL;
	if (save(ps, f) < 0) {
		reconfigure_back(p, &old, &before);
		return -EIO;
	}
	return 0;
}

int portset_delete(struct portset *ps, const char *name, struct fault *f)
{
	ssize_t i = index_of(ps, name);
	struct port *p;

	if (i < 0)
		return fault_set(f, FAULT_NOT_FOUND, ENOENT, NULL, "no port named %s", name);
	p = remove_at(ps, (size_t)i);
	if (save(ps, f) < 0) {
		insert_at(ps, (size_t)i, p);
		return -EIO;
	}
	log_info("port %s: deleted (%s)", name,
		 port_config(p)->attach ? "detached; the device stays" : "device removed");
	port_free(p);
	return 0;
}

int portset_restore(struct portset *ps, struct fault *f)
{
	const char *key;
	json_t *doc = NULL, *ports = NULL, *v;
	size_t i;
	int ret;

	if (!ps->state_path)
		return 0;
	ret = state_load(ps->state_path, &doc, f);
	if (ret == -ENOENT) {
		log_info("state file %s does not exist yet; starting with no ports",
			 ps->state_path);
		return save(ps, f);
	}
	if (ret < 0)
		return ret;
	if (!json_is_object(doc)) {
		ret = fault_set(f, FAULT_SYNTAX, EINVAL, NULL, "state file %s: not a JSON object",
				ps->state_path);
		goto out;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "format") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) != STATE_FORMAT) {
				ret = fault_set(f, FAULT_INVALID, EINVAL, "format",
						"state file %s: format must be %d", ps->state_path,
						STATE_FORMAT);
				goto out;
			}
		} else if (strcmp(key, "ports") == 0) {
			if (!json_is_array(v)) {
				ret = fault_set(f, FAULT_INVALID, EINVAL, "ports",
						"state file %s: \"ports\" must be an array",
						ps->state_path);
				goto out;
			}
			ports = v;
		} else {
			ret = fault_set(f, FAULT_INVALID, EINVAL, key,
					"state file %s: unexpected field \"%s\"", ps->state_path,
					key);
			goto out;
		}
	}
	if (!ports || !json_object_get(doc, "format")) {
		ret = fault_set(f, FAULT_INVALID, EINVAL, NULL,
				"state file %s: \"format\" and \"ports\" are required",
				ps->state_path);
		goto out;
	}
	json_array_foreach(ports, i, v) {
		struct port_config cfg;
		struct fault pf = FAULT_INIT;
		struct port *p;

		if (portcfg_from_json(v, PORTCFG_CREATE, NULL, &cfg, &pf) < 0) {
			ret = fault_set(f, FAULT_INVALID, EINVAL, pf.field,
					"state file %s: ports[%zu]: %s %s", ps->state_path, i,
					pf.field, pf.detail);
			goto out;
		}
		if (check_room(ps, cfg.name, &pf) < 0) {
			ret = fault_set(f, FAULT_INVALID, EINVAL, "name",
					"state file %s: ports[%zu]: %s", ps->state_path, i,
					pf.detail);
			goto out;
		}
		p = port_open(&ps->env, &cfg, &pf);
		if (!p) {
			log_error("port %s: cannot be restored: %s", cfg.name, pf.detail);
			p = port_new_failed(&ps->env, &cfg, &pf);
			if (!p) {
				ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
				goto out;
			}
		}
		insert_at(ps, ps->n, p);
	}
	log_info("state file %s: %zu port(s) restored", ps->state_path, ps->n);
	ret = save(ps, f);
out:
	json_decref(doc);
	return ret;
}

void portset_link_event(struct portset *ps, const struct link_state *ls, bool deleted)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct port *p = ps->ports[i];

		if (port_ifindex(p) != ls->ifindex || port_state(p) == PORT_STATE_GONE)
			continue;
		if (deleted)
			port_mark_gone(p);
		else
			port_link_update(p, ls);
	}
}
