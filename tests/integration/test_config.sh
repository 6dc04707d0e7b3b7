#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole desired state (GET/PUT /api/v1/config, paird --config, SIGHUP):
# an apply creates ports, addresses and bindings (checked with ip); a second
# apply answers changed:false with the same ETag; ?dry_run=true answers the
# plan and changes nothing (ip -o link / ip -o addr before and after); a
# kernel refusal halfway (a device squatting the name of the second port
# the document creates) rolls back the first port and names the item; a
# stale If-Match is 412; every invalid item is listed at once; --config
# applies at start after --state, a bad file stops the start (exit 2);
# SIGHUP re-applies a changed file, and a bad file or a kernel refusal on
# SIGHUP changes nothing; a FIFO in the file's place is refused, not waited on.
#
# Topology: one private network namespace with lo, the ports paird creates
# (cf0 tap, cf1 tun, cf2 tap, cf5 tap, cf4 and cf6 that the kernel refuses
# an IPv6 address with IPv6 off for new links), a squatter device (cf3: a
# dummy or a bridge, no tun/tap) made with ip link, and devices to attach to
# of the wrong type or queue count (cf8 tun, cf9 multi-queue tap).
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
STATE=$W/state.json

# No duplicate address detection: an address's "tentative" flag would
# otherwise go away between two views of an unchanged kernel.
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0

# What the kernel holds, for before/after comparisons: links (name, flags,
# mtu) and addresses, without what moves on its own (lifetimes, flags of
# address autoconfiguration, the operational state).
kernel_view() {
	{
		ip -o link show | sed 's/ state [A-Z]*//; s/ *$//'
		ip -o addr show | sed 's/\\ *valid_lft.*//; s/ tentative//; s/ *$//'
	} >"$W/kernel.$1"
}

put_config() {
	api PUT "/api/v1/config$2" "$1" application/json -- ${IF_MATCH:+-H "If-Match: $IF_MATCH"}
}

DOC='{"ports":{
	"cf0":{"type":"tap","mtu":1400,"addresses":["198.18.0.1/24","2001:db8::1/64"],
		"bindings":{"dns":{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},
			"handler":"capture"},
			"ping":{"match":{"ethertype":2048,"ip_protocol":1},"handler":"echo"}}},
	"cf1":{"type":"tun","addresses":["198.18.1.1/24"]}}}'

start_paird --state "$STATE"

note "GET: an empty document with the version as ETag"
api GET /api/v1/config
expect_status 200
expect_json '.ports | length' 0
ETAG0=$(header ETag)
# Read as text: the version is beyond 2^53, where jq 1.6's doubles round.
expect_eq "$ETAG0" "\"$(sed -n 's/^{"version":\([0-9]*\),.*/\1/p' "$W/body")\"" \
	"ETag of GET /api/v1/config"

note "dry run: the plan, and nothing changes (ip, state file, version)"
kernel_view before
cp "$STATE" "$W/state.before"
put_config "$DOC" "?dry_run=true"
expect_status 200
expect_json .dry_run true
expect_json .changed false
expect_json '[.actions[].op] | join(",")' create_port,create_port,add_binding,add_binding
expect_json '.actions[0].kernel | join(",")' \
	"create tap cf0,set mtu 1400,add address 198.18.0.1/24,add address 2001:db8::1/64,set up"
expect_eq "$(header ETag)" "$ETAG0" "ETag after a dry run"
expect_eq "$(header Paird-Changed)" false "Paird-Changed of a dry run"
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a dry run changed the kernel"
cmp -s "$STATE" "$W/state.before" || fail "a dry run wrote the state file"

note "apply: ports, addresses and bindings made, one state write"
put_config "$DOC" ""
expect_status 200
expect_json .changed true
expect_json .dry_run false
expect_json '.actions | length' 4
expect_eq "$(header Paird-Changed)" true "Paird-Changed of an apply"
ETAG1=$(header ETag)
[ "$ETAG1" != "$ETAG0" ] || fail "the ETag did not change with the configuration"
ip -o link show dev cf0 | grep -q "mtu 1400" || fail "cf0 not made with mtu 1400"
ip -o link show dev cf0 | grep -q "UP" || fail "cf0 is not up"
ip -o addr show dev cf0 | grep -q "198.18.0.1/24" || fail "cf0 lacks 198.18.0.1/24"
ip -o addr show dev cf0 | grep -q "2001:db8::1/64" || fail "cf0 lacks 2001:db8::1/64"
ip -o addr show dev cf1 | grep -q "198.18.1.1/24" || fail "cf1 lacks 198.18.1.1/24"
jq -e '[.ports[].name] == ["cf0","cf1"] and
	([.ports[0].bindings[].name] | sort) == ["dns","ping"]' "$STATE" >/dev/null ||
	fail "the state file does not hold the document: $(cat "$STATE")"
grep -q "config: create_port ports.cf0: create tap cf0, set mtu 1400" "$PAIRD_LOG" ||
	fail "no log line per action"
grep -q "config applied: 4 created, 0 changed, 0 deleted (version " "$PAIRD_LOG" ||
	fail "no summary line"
api GET /api/v1/config
expect_json '.ports.cf0.bindings | keys | join(",")' dns,ping
expect_json '.ports.cf0.bindings.dns.handler' capture

note "the same document again: changed false, no actions, same ETag"
cp "$STATE" "$W/state.before"
put_config "$DOC" ""
expect_status 200
expect_json .changed false
expect_json '.actions | length' 0
expect_eq "$(header ETag)" "$ETAG1" "ETag after an unchanged apply"
expect_eq "$(header Paird-Changed)" false "Paird-Changed of an unchanged apply"
cmp -s "$STATE" "$W/state.before" || fail "an unchanged apply wrote the state file"

note "GET's document put back changes nothing; If-None-Match with the ETag is 304"
api_binary GET /api/v1/config -H "If-None-Match: $ETAG1"
expect_status 304
api GET /api/v1/config
expect_eq "$(header ETag)" "$ETAG1" "ETag of GET"
put_config "$(body)" ""
expect_status 200
expect_json .changed false

note "an address added outside paird to a port it created: drift the dry run shows, an apply removes, then converged"
ip addr add 198.18.77.1/24 dev cf0
wait_until 5 sh -c "$(printf 'curl -s --unix-socket %q http://localhost/api/v1/ports/cf0' "$SOCK") |
	jq -e '.status.drift | index(\"addresses\")' >/dev/null" || fail "the extra address is not drift"
put_config "$DOC" "?dry_run=true"
expect_json '[.actions[].op] | join(",")' update_port
expect_json '.actions[0].kernel | join(",")' "remove address 198.18.77.1/24"
ip -o addr show dev cf0 | grep -q "198.18.77.1/24" || fail "a dry run removed the address"
put_config "$DOC" ""
expect_json .changed true
! ip -o addr show dev cf0 | grep -q "198.18.77.1/24" || fail "the apply left 198.18.77.1/24 on cf0"
ip -o addr show dev cf0 | grep -q "198.18.0.1/24" || fail "the apply removed cf0's own address"
put_config "$DOC" ""
expect_json .changed false
expect_json '.actions | length' 0
ETAG1=$(header ETag)

note "an address with a lifetime (SLAAC, a lease) is the kernel's or its client's: not listed, not drift, not removed"
ip addr add 198.18.78.1/24 dev cf0 valid_lft 600 preferred_lft 600
ip -6 addr add 2001:db8:78::1/64 dev cf0 valid_lft 600 preferred_lft 600 nodad
# A permanent address added after them: once it shows as drift, the
# lifetime ones have had their events too.
ip addr add 198.18.79.1/24 dev cf0
wait_until 5 sh -c "$(printf 'curl -s --unix-socket %q http://localhost/api/v1/ports/cf0' "$SOCK") |
	jq -e '.status.addresses | index(\"198.18.79.1/24\")' >/dev/null" || fail "the permanent address is not listed"
ip addr del 198.18.79.1/24 dev cf0
wait_until 5 sh -c "$(printf 'curl -s --unix-socket %q http://localhost/api/v1/ports/cf0' "$SOCK") |
	jq -e '.status.drift == []' >/dev/null" || fail "lifetime addresses are drift: $(body)"
api GET /api/v1/ports/cf0
expect_json '.status.addresses | map(select(startswith("198.18.78.") or startswith("2001:db8:78:"))) | length' 0
put_config "$DOC" "?dry_run=true"
expect_json '.actions | length' 0
put_config "$DOC" ""
expect_json .changed false
ip -o addr show dev cf0 | grep -q "198.18.78.1/24" || fail "an apply removed an address with a lifetime"
ip -o addr show dev cf0 | grep -q "2001:db8:78::1/64" || fail "an apply removed an IPv6 address with a lifetime"
ip addr del 198.18.78.1/24 dev cf0
ip -6 addr del 2001:db8:78::1/64 dev cf0

note "If-Match: a stale version is 412 and changes nothing; the current one applies"
kernel_view before
IF_MATCH=$ETAG0 put_config '{"ports":{}}' ""
expect_problem 412
expect_json .type urn:paird:problem:precondition-failed
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a 412 changed the kernel"
IF_MATCH=$ETAG1 put_config "$DOC" ""
expect_status 200
IF_MATCH='"1", *' put_config "$DOC" ""
expect_status 200

note "every invalid item listed at once, nothing changed"
put_config '{"ports":{"cf0":{"type":"tap","mtu":5},"bad name":{"type":"tap"},
	"cf9":{"type":"tap","bindings":{"f":{"match":{},"handler":"forward",
	"options":{"port":"nowhere"}}}}}}' ""
expect_problem 422
jq -e '[.errors[].field] as $f | ($f | index("ports.cf0.mtu")) != null and
	($f | index("ports.bad name")) != null and
	($f | index("ports.cf9.bindings.f.options.port")) != null' "$W/body" >/dev/null ||
	fail "not every invalid item listed: $(body)"
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a 422 changed the kernel"

note "a document larger than other bodies' 64 KiB limit is taken (GET's answer must PUT back)"
# The applied document plus 700 named count bindings on cf0: ~80 KiB.
python3 - "$DOC" >"$W/big.json" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
b = doc["ports"]["cf0"]["bindings"]
for i in range(700):
    b["n%d" % i] = {"match": {"ethertype": 2048, "ip_protocol": 17, "udp_port": 1000 + i},
                    "handler": "count"}
json.dump(doc, sys.stdout)
PY
[ "$(stat -c %s "$W/big.json")" -gt 65536 ] || fail "the large document is not over 64 KiB"
api_binary PUT '/api/v1/config?dry_run=true' -H 'Content-Type: application/json' \
	--data-binary "@$W/big.json"
expect_status 200
expect_json '[.actions[] | select(.op == "add_binding")] | length' 700
expect_json '.actions | length' 700
api_binary POST /api/v1/ports -H 'Content-Type: application/json' --data-binary "@$W/big.json"
expect_status 413
# Over the config document's own limit (16 MiB): 413, judged from Content-Length.
{ cat "$W/big.json"; head -c $((16 << 20)) /dev/zero | tr '\0' ' '; } >"$W/huge.json"
api_binary PUT /api/v1/config -H 'Content-Type: application/json' --data-binary "@$W/huge.json"
expect_status 413
expect_json .detail "request bodies to this resource are limited to 16777216 bytes"
rm -f "$W/huge.json"

note "a port a staying forward needs cannot be deleted (422)"
put_config '{"ports":{"cf0":{"type":"tap","bindings":{"fw":{"match":{},"handler":"forward",
	"options":{"port":"cf2"}}}}}}' ""
expect_problem 422 ports.cf0.bindings.fw.options.port

note "unknown query parameters are refused"
put_config "$DOC" "?dryrun=true"
expect_problem 400
put_config "$DOC" "?dry_run=maybe"
expect_problem 400 query.dry_run
put_config "$DOC" "?dry_run"
expect_status 200
expect_json .dry_run true

note "a new port's name taken by another interface: refused before any step, dry run too"
# cf3's name is taken by a device that is no tun/tap.
ip link add cf3 type dummy 2>/dev/null || ip link add cf3 type bridge
kernel_view before
cp "$STATE" "$W/state.before"
for q in "?dry_run=true" ""; do
	put_config '{"ports":{
	"cf0":{"type":"tap","mtu":1300,"addresses":["198.18.0.1/24","2001:db8::1/64"]},
	"cf1":{"type":"tun","packet_info":true,"addresses":["198.18.1.1/24"]},
	"cf3":{"type":"tap"}}}' "$q"
	expect_problem 409
	expect_json .field ports.cf3.name
	expect_json '.detail | startswith("an interface named cf3 already exists")' true
	expect_json 'has("rolled_back")' false
done
put_config '{"ports":{"cf0":{"type":"tap","mtu":1300},"cf7":{"type":"tap","attach":true}}}' ""
expect_problem 422
expect_json .field ports.cf7.name
note "an attach to a device that is no tun/tap, or of another type or queue count: refused when planned"
ip tuntap add dev cf8 mode tun
ip tuntap add dev cf9 mode tap multi_queue
for q in "?dry_run=true" ""; do
	put_config '{"ports":{"cf0":{"type":"tap","mtu":1300},"cf3":{"type":"tap","attach":true}}}' "$q"
	expect_problem 422 ports.cf3.name
	expect_json '.detail | contains("not a tun/tap device (its kind is ")' true
	put_config '{"ports":{"cf0":{"type":"tap","mtu":1300},"cf8":{"type":"tap","attach":true}}}' "$q"
	expect_problem 422 ports.cf8.type
	put_config '{"ports":{"cf0":{"type":"tap","mtu":1300},"cf9":{"type":"tap","attach":true}}}' "$q"
	expect_problem 422 ports.cf9.queues
	expect_json 'has("rolled_back")' false
done
ip link del cf8
ip link del cf9
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a refused apply changed the kernel"
cmp -s "$STATE" "$W/state.before" || fail "a refused apply wrote the state file"

note "a kernel refusal halfway: the first new port is rolled back, the item named"
# With IPv6 off for new links, the kernel refuses cf6's IPv6 address once
# cf6 exists (EACCES): nothing in the document tells beforehand.
sysctl -qw net.ipv6.conf.default.disable_ipv6=1
kernel_view before
cp "$STATE" "$W/state.before"
api GET /api/v1/config
cp "$W/body" "$W/config.before"
put_config '{"ports":{
	"cf0":{"type":"tap","mtu":1300,"addresses":["198.18.0.1/24","2001:db8::1/64"],
		"bindings":{"dns":{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},
			"handler":"capture"}}},
	"cf1":{"type":"tun","addresses":["198.18.1.1/24"]},
	"cf2":{"type":"tap"},"cf6":{"type":"tap","addresses":["2001:db8:6::1/64"]}}}' ""
[ "$STATUS" -ge 400 ] || fail "an IPv6 address on a link without IPv6 was taken: $(body)"
expect_json '.field | startswith("ports.cf6")' true
jq -e '[.rolled_back[] | .op + ":" + .port + ":" + (.binding // "")] ==
	["create_port:cf2:", "update_port:cf0:", "remove_binding:cf0:ping"]' "$W/body" \
	>/dev/null || fail "rolled_back does not list the steps undone: $(body)"
! ip link show dev cf2 >/dev/null 2>&1 || fail "cf2 was not rolled back"
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "the rollback left the kernel changed"
cmp -s "$STATE" "$W/state.before" || fail "a failed apply wrote the state file"
api GET /api/v1/config
jq -e --slurpfile b "$W/config.before" '.ports == $b[0].ports' "$W/body" >/dev/null ||
	fail "the configuration changed: $(body)"
grep -q "config not applied: ports.cf6" "$PAIRD_LOG" || fail "the failure is not logged"
! ip link show dev cf6 >/dev/null 2>&1 || fail "cf6 was left behind"
sysctl -qw net.ipv6.conf.default.disable_ipv6=0
ip link del cf3

note "a deleted port's name taken by another interface: refused before any step, dry run too"
api GET /api/v1/config
cp "$W/body" "$W/config.now"
ip link del cf0
wait_until 5 sh -c "curl -s --unix-socket '$SOCK' $UBASE/api/v1/ports/cf0 |
	jq -e '.status.state == \"gone\"' >/dev/null" || fail "cf0 did not go to state gone"
ip link add cf0 type dummy 2>/dev/null || ip link add cf0 type bridge
kernel_view before
cp "$STATE" "$W/state.before"
for q in "?dry_run=true" ""; do
	put_config "$(cat "$W/config.now")" "$q"
	expect_problem 409 ports.cf0.name
	expect_json 'has("rolled_back")' false
done
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a refused apply changed the kernel"
cmp -s "$STATE" "$W/state.before" || fail "a refused apply wrote the state file"
ip link del cf0
put_config "$(cat "$W/config.now")" ""
expect_status 200
expect_json '[.actions[] | .op + ":" + .port + ":" + (.fields | join(","))] | join(" ")' \
	"update_port:cf0:state"
ip -d link show dev cf0 | grep -q "tun type tap" || fail "cf0 was not made again"
put_config "$(cat "$W/config.now")" ""
expect_json .changed false

note "--config at start: applied after --state; the result equals the file"
cat >"$W/config.json" <<'EOF'
{"ports":{"cf0":{"type":"tap","mtu":1500,"addresses":["198.18.0.1/24"]},
	"cf2":{"type":"tap","bindings":{"c":{"match":{},"handler":"count"}}}}}
EOF
stop_paird TERM
start_paird --state "$STATE" --config "$W/config.json"
api GET /api/v1/config
expect_json '.ports | keys | join(",")' cf0,cf2
expect_json '.ports.cf0.bindings | length' 0
expect_json '.ports.cf2.bindings | keys | join(",")' c
ip -o link show dev cf0 | grep -q "mtu 1500" || fail "cf0 not at the file's mtu"
! ip link show dev cf1 >/dev/null 2>&1 || fail "cf1 (not in the file) still exists"
ip -o addr show dev cf0 | grep -q "2001:db8::1/64" && fail "cf0 kept an address the file drops"
jq -e '[.ports[].name] == ["cf0","cf2"]' "$STATE" >/dev/null ||
	fail "the state file does not record the applied file: $(cat "$STATE")"

note "SIGHUP re-applies the changed file"
cat >"$W/config.json" <<'EOF'
{"ports":{"cf0":{"type":"tap","mtu":1450,"addresses":["198.18.0.1/24"]},
	"cf2":{"type":"tap","bindings":{"c":{"match":{},"handler":"count"}}},
	"cf1":{"type":"tun"}}}
EOF
kill -HUP "$PAIRD_PID"
wait_until 5 sh -c 'ip -o link show dev cf1 >/dev/null 2>&1' || fail "SIGHUP did not create cf1"
wait_until 5 sh -c 'ip -o link show dev cf0 | grep -q "mtu 1450"' ||
	fail "SIGHUP did not set cf0's mtu"
kill -0 "$PAIRD_PID" || fail "SIGHUP stopped paird"

note "a bad file on SIGHUP is logged and changes nothing"
kernel_view before
cp "$STATE" "$W/state.before"
echo '{"ports":{"cf0":{"type":"tap","mtu":1}}}' >"$W/config.json"
kill -HUP "$PAIRD_PID"
wait_until 5 grep -q "SIGHUP received: --config $W/config.json: ports.cf0.mtu" "$PAIRD_LOG" ||
	fail "the bad file was not logged"
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a bad file on SIGHUP changed the kernel"
cmp -s "$STATE" "$W/state.before" || fail "a bad file on SIGHUP wrote the state file"
kill -0 "$PAIRD_PID" || fail "a bad file on SIGHUP stopped paird"

note "a FIFO in the file's place on SIGHUP is refused at once, never waited on"
rm "$W/config.json"
mkfifo "$W/config.json"
kill -HUP "$PAIRD_PID"
if ! wait_until 5 grep -q "SIGHUP received: --config $W/config.json: not a regular file" \
	"$PAIRD_LOG"; then
	# paird waits in open() for a writer: be one, so that it (and this test) can end.
	timeout 2 sh -c ': <>"$1"' _ "$W/config.json" || true
	fail "the FIFO was not refused (paird blocked on it?)"
fi
api GET /api/v1/ports
expect_status 200
rm "$W/config.json"

note "a kernel refusal on SIGHUP is logged, undone, and changes nothing"
sysctl -qw net.ipv6.conf.default.disable_ipv6=1
cat >"$W/config.json" <<'EOF2'
{"ports":{"cf0":{"type":"tap","mtu":1300,"addresses":["198.18.0.1/24"]},
	"cf2":{"type":"tap","bindings":{"c":{"match":{},"handler":"count"}}},
	"cf1":{"type":"tun"},"cf5":{"type":"tap"},"cf4":{"type":"tap","addresses":["2001:db8:4::1/64"]}}}
EOF2
kernel_view before
cp "$STATE" "$W/state.before"
kill -HUP "$PAIRD_PID"
wait_until 5 grep -q "SIGHUP received: --config $W/config.json not applied: ports.cf4" \
	"$PAIRD_LOG" || fail "the refusal on SIGHUP was not logged"
kernel_view after
diff -u "$W/kernel.before" "$W/kernel.after" >&2 || fail "a refused SIGHUP apply changed the kernel"
cmp -s "$STATE" "$W/state.before" || fail "a refused SIGHUP apply wrote the state file"
sysctl -qw net.ipv6.conf.default.disable_ipv6=0

note "a bad file at start: exit 2 with one line, no port made"
stop_paird TERM
echo '{"ports":{"cf0":' >"$W/config.json"
rc=0
"$PAIRD" --listen none --socket "$W/run/s2.sock" --state "$STATE" --config "$W/config.json" \
	2>"$W/start.log" || rc=$?
expect_eq "$rc" 2 "exit status with a bad --config"
expect_eq "$(grep -c "cannot start: --config $W/config.json" "$W/start.log")" 1 \
	"start error lines"
! ip link show dev cf0 >/dev/null 2>&1 || fail "a bad --config left a port behind"
echo ok
