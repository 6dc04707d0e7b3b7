// SPDX-License-Identifier: MIT
/*
 * POST /api/v1/ports/{name}/transmit: writes one frame to the port, either
 * given as raw bytes ("hex") or built by paird from a structured UDP
 * datagram ("udp") or ICMP/ICMPv6 echo ("icmp_echo") with the port's
 * framing (Ethernet on tap, packet info on a tun that has it) and every
 * checksum filled in. The frame counts as tx; a write error comes back as
 * a problem naming the errno (EIO: the link is down).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/build.h"
#include "../service/jsonobj.h"
#include "../service/netaddr.h"
#include "../service/port.h"
#include "../service/portset.h"
#include "internal.h"

struct tx_common {
	struct build_link link;
	struct build_ip ip;
	const uint8_t *payload;
	size_t plen;
	uint8_t *decoded; /* payload_hex's bytes, malloc'ed; h_transmit() frees them */
};

/* Decodes the hex string @v into @out (at most @cap bytes). */
static int hex_decode(const json_t *v, const char *field, uint8_t *out, size_t cap, size_t *len,
		      struct fault *f)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must be a string of hex digits");
	s = json_string_value(v);
	n = json_string_length(v);
	if (n % 2)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "must have an even number of hex digits");
	if (n / 2 > cap)
		return fault_set(f, FAULT_INVALID, 0, field, "is longer than %zu bytes", cap);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return fault_set(f, FAULT_INVALID, 0, field,
					 "must hold only hex digits (offset %zu)", i);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

#define TX_KEYS_MAX 16

/*
 * Refuses a member of @o not in @allowed (NULL-terminated, at most
 * TX_KEYS_MAX names), naming it under @prefix; the members' types are
 * checked by their getters below, in their own words.
 */
static int check_keys(const json_t *o, const char *prefix, const char *const *allowed,
		      struct fault *f)
{
	struct jfield fields[TX_KEYS_MAX];
	struct jobj spec = { prefix, fields, 0, "unknown field", NULL };

	for (; allowed[spec.n_fields]; spec.n_fields++) {
		if (spec.n_fields == TX_KEYS_MAX)
			return fault_set(f, FAULT_INTERNAL, 0, NULL, "too many keys for %s",
					 prefix);
		fields[spec.n_fields] = (struct jfield){ .key = allowed[spec.n_fields] };
	}
	return jsonobj_read(o, &spec, NULL, f);
}

/* An integer member in [min, max]; @def when absent unless @required. */
static int get_int(const json_t *o, const char *prefix, const char *key, bool required,
		   json_int_t min, json_int_t max, json_int_t def, json_int_t *out, struct fault *f)
{
	const json_t *v = json_object_get(o, key);
	char field[80];

	snprintf(field, sizeof(field), "%s.%s", prefix, key);
	if (!v) {
		if (required)
			return fault_set(f, FAULT_INVALID, 0, field, "is required");
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must be an integer");
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return fault_set(f, FAULT_INVALID, 0, field, "must be %lld..%lld", (long long)min,
				 (long long)max);
	return 0;
}

static int get_addr(const json_t *o, const char *prefix, const char *key, int *family,
		    uint8_t addr[16], struct fault *f)
{
	const json_t *v = json_object_get(o, key);
	char field[80];

	snprintf(field, sizeof(field), "%s.%s", prefix, key);
	if (!v)
		return fault_set(f, FAULT_INVALID, 0, field, "is required");
	if (!json_is_string(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must be an IPv4 or IPv6 address");
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, json_string_value(v), addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, json_string_value(v), addr) == 1)
		*family = AF_INET6;
	else
		return fault_set(f, FAULT_INVALID, 0, field, "must be an IPv4 or IPv6 address");
	return 0;
}

/* A MAC member; a destination (!@unicast) may be a group address (broadcast, multicast). */
static int get_mac(const json_t *o, const char *prefix, const char *key, bool tap, bool unicast,
		   uint8_t mac[6], struct fault *f)
{
	const json_t *v = json_object_get(o, key);
	char field[80];
	const char *why = "must be a MAC address string";
	int ret = -EINVAL;

	if (!v)
		return 0;
	snprintf(field, sizeof(field), "%s.%s", prefix, key);
	if (!tap)
		return fault_set(f, FAULT_INVALID, 0, field, "a tun port has no Ethernet header");
	if (json_is_string(v))
		ret = unicast ? mac_parse(json_string_value(v), mac, &why)
			      : mac_parse_any(json_string_value(v), mac, &why);
	if (ret < 0)
		return fault_set(f, FAULT_INVALID, 0, field, "%s", why);
	return 0;
}

/* The parts "udp" and "icmp_echo" share: addresses, TTL, payload, MACs. */
static int parse_common(const struct port *p, const json_t *o, const char *prefix,
			struct tx_common *c, struct fault *f)
{
	const struct link_state *ls = port_link(p);
	const json_t *text = json_object_get(o, "payload");
	const json_t *hex = json_object_get(o, "payload_hex");
	bool tap = port_config(p)->type == PORT_TAP;
	int fam_dst = 0;
	uint8_t dst[16];
	json_int_t ttl = 64;
	char field[80];

	memset(c, 0, sizeof(*c));
	c->link.link = port_frame_link(p);
	if (get_addr(o, prefix, "src", &c->ip.family, c->ip.src, f) < 0 ||
	    get_addr(o, prefix, "dst", &fam_dst, dst, f) < 0)
		return -EINVAL;
	if (fam_dst != c->ip.family) {
		snprintf(field, sizeof(field), "%s.dst", prefix);
		return fault_set(f, FAULT_INVALID, 0, field,
				 "src and dst must both be IPv4 or both IPv6");
	}
	memcpy(c->ip.dst, dst, 16);
	if (get_int(o, prefix, "ttl", false, 1, 255, 64, &ttl, f) < 0)
		return -EINVAL;
	c->ip.ttl = (uint8_t)ttl;
	if (text && hex) {
		snprintf(field, sizeof(field), "%s.payload", prefix);
		return fault_set(f, FAULT_INVALID, 0, field,
				 "give payload or payload_hex, not both");
	}
	if (text) {
		snprintf(field, sizeof(field), "%s.payload", prefix);
		if (!json_is_string(text))
			return fault_set(f, FAULT_INVALID, 0, field, "must be a string");
		c->payload = (const uint8_t *)json_string_value(text);
		c->plen = json_string_length(text);
	} else if (hex) {
		size_t n = json_string_length(hex) / 2;

		snprintf(field, sizeof(field), "%s.payload_hex", prefix);
		/* Its own buffer: the frame is built from it into the scratch. */
		c->decoded = malloc(n < PORT_FRAME_MAX ? n + 1 : PORT_FRAME_MAX);
		if (!c->decoded)
			return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		if (hex_decode(hex, field, c->decoded, PORT_FRAME_MAX, &c->plen, f) < 0)
			return -EINVAL;
		c->payload = c->decoded;
	}
	/*
	 * The frame enters the kernel as if from a host on the wire: by
	 * default to the tap's own MAC, from a locally administered MAC
	 * derived from it (so the two never collide).
	 */
	if (tap) {
		memcpy(c->link.dst, ls->mac, 6);
		port_peer_mac(p, c->link.src);
	}
	if (get_mac(o, prefix, "src_mac", tap, true, c->link.src, f) < 0 ||
	    get_mac(o, prefix, "dst_mac", tap, false, c->link.dst, f) < 0)
		return -EINVAL;
	return 0;
}

static ssize_t build_from_udp(const struct port *p, const json_t *o, uint8_t *frame,
			      struct tx_common *c, struct fault *f)
{
	static const char *const keys[] = { "src",	   "dst", "src_port", "dst_port", "payload",
					    "payload_hex", "ttl", "src_mac",  "dst_mac",  NULL };
	json_int_t sport = 0, dport = 0;
	ssize_t n;

	if (!json_is_object(o))
		return fault_set(f, FAULT_INVALID, 0, "udp", "must be an object");
	if (check_keys(o, "udp", keys, f) < 0 || parse_common(p, o, "udp", c, f) < 0 ||
	    get_int(o, "udp", "src_port", true, 0, 65535, 0, &sport, f) < 0 ||
	    get_int(o, "udp", "dst_port", true, 0, 65535, 0, &dport, f) < 0)
		return -EINVAL;
	n = build_udp(frame, PORT_FRAME_MAX, &c->link, &c->ip, (uint16_t)sport, (uint16_t)dport,
		      c->payload, c->plen);
	if (n < 0)
		return fault_set(f, FAULT_INVALID, EMSGSIZE, "udp.payload",
				 "the datagram does not fit in a frame");
	return n;
}

static ssize_t build_from_icmp(const struct port *p, const json_t *o, uint8_t *frame,
			       struct tx_common *c, struct fault *f)
{
	static const char *const keys[] = { "src",     "dst",	  "id",		 "seq",
					    "reply",   "payload", "payload_hex", "ttl",
					    "src_mac", "dst_mac", NULL };
	const json_t *reply = json_object_get(o, "reply");
	json_int_t id = 0, seq = 0;
	ssize_t n;

	if (!json_is_object(o))
		return fault_set(f, FAULT_INVALID, 0, "icmp_echo", "must be an object");
	if (check_keys(o, "icmp_echo", keys, f) < 0 || parse_common(p, o, "icmp_echo", c, f) < 0 ||
	    get_int(o, "icmp_echo", "id", false, 0, 65535, 0, &id, f) < 0 ||
	    get_int(o, "icmp_echo", "seq", false, 0, 65535, 0, &seq, f) < 0)
		return -EINVAL;
	if (reply && !json_is_boolean(reply))
		return fault_set(f, FAULT_INVALID, 0, "icmp_echo.reply", "must be a boolean");
	n = build_icmp_echo(frame, PORT_FRAME_MAX, &c->link, &c->ip, json_is_true(reply),
			    (uint16_t)id, (uint16_t)seq, c->payload, c->plen);
	if (n < 0)
		return fault_set(f, FAULT_INVALID, EMSGSIZE, "icmp_echo.payload",
				 "the echo does not fit in a frame");
	return n;
}

int h_transmit(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	static const char *const keys[] = { "hex", "udp", "icmp_echo", NULL };
	struct port *p = api_find_port(api, rq, f);
	struct tx_common c = { 0 };
	json_t *doc = NULL, *v, *o;
	uint8_t *frame;
	ssize_t n = -1;
	size_t len = 0;
	int ret;

	if (!p)
		return -1;
	/*
	 * The frame is built in the data plane's scratch, as a handler builds
	 * its reply: one loop thread, and nothing here dispatches a frame.
	 */
	frame = portset_scratch(api->cfg.ports);
	if (body_json(rq, false, &doc, f) < 0)
		return -1;
	if (check_keys(doc, "", keys, f) < 0)
		goto out;
	if (json_object_size(doc) != 1) {
		fault_set(f, FAULT_INVALID, 0, NULL,
			  "give exactly one of \"hex\", \"udp\" or \"icmp_echo\"");
		goto out;
	}
	if ((v = json_object_get(doc, "hex"))) {
		if (hex_decode(v, "hex", frame, PORT_FRAME_MAX, &len, f) == 0) {
			if (len == 0)
				fault_set(f, FAULT_INVALID, 0, "hex", "the frame is empty");
			else
				n = (ssize_t)len;
		}
	} else if ((v = json_object_get(doc, "udp"))) {
		n = build_from_udp(p, v, frame, &c, f);
	} else {
		n = build_from_icmp(p, json_object_get(doc, "icmp_echo"), frame, &c, f);
	}
	if (n < 0)
		goto out;
	ret = port_write(p, frame, (size_t)n);
	if (ret == -EIO) {
		fault_set(f, FAULT_CONFLICT, EIO, NULL,
			  "the link of %s is down: the kernel refused the frame (EIO)",
			  port_name(p));
		goto out;
	}
	if (ret == -ENODEV || ret == -EBADF) {
		fault_set(f, FAULT_CONFLICT, -ret, NULL, "port %s has no open device (state %s)",
			  port_name(p), port_state_name(port_state(p)));
		goto out;
	}
	if (ret < 0) {
		fault_errno(f, -ret, NULL, "writing to %s failed", port_name(p));
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "length", json_integer(n));
	json_object_set_new(o, "data", json_hex_bytes(frame, (size_t)n));
	free(c.decoded);
	json_decref(doc);
	return reply_json(rs, 200, o);
out:
	free(c.decoded);
	json_decref(doc);
	return -1;
}
