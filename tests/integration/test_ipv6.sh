#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The kernel and the API tell the same story about a port's addresses.
#
# Topology: one private network namespace holding lo and the taps paird
# creates (v6a, v6b, v6c); paird listens on 127.0.0.1:<free port> with a
# state file. The kernel flushes a link's IPv6 addresses when it goes down
# (unless keep_addr_on_down) and when its MTU drops below 1280: paird sets
# keep_addr_on_down, adds lost addresses back, refuses an MTU below 1280
# with an IPv6 address (POST, PUT, PATCH, restore), shows the kernel's
# addresses in `link.addresses` and the difference in `drift`, and a
# refused PUT leaves the link as it was.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
[ -d /proc/sys/net/ipv6/conf/default ] || skip "IPv6 is disabled on this host (no /proc/sys/net/ipv6)"
start_paird --state "$W/state.json"

# The link's global addresses as the kernel lists them, sorted, one line.
addrs() { ip -br addr show dev "$1" | awk '{ $1 = ""; $2 = ""; print }' | tr -s ' ' '\n' | grep -v '^fe80' | grep . | sort | tr '\n' ' '; }
has_v6() { [ "$(addrs "$1")" = "198.18.6.1/24 2001:db8:6::1/64 " ]; }
get_has_drift() { api GET /api/v1/ports/"$1" && [ "$(jqb '.status.drift | join(",")')" = "$2" ]; }

body_a='{"name":"v6a","type":"tap","addresses":["198.18.6.1/24","2001:db8:6::1/64"]}'

note "create: keep_addr_on_down is set, link.addresses and an empty drift are shown"
api POST /api/v1/ports "$body_a"
expect_status 201
expect_eq "$(cat /proc/sys/net/ipv6/conf/v6a/keep_addr_on_down)" 1 "keep_addr_on_down of v6a"
expect_json '.status.addresses | sort | join(",")' 198.18.6.1/24,2001:db8:6::1/64
expect_json '.status.drift | length' 0
has_v6 v6a || fail "v6a addresses: $(addrs v6a)"

note "PATCH up:false then up:true keeps the IPv6 address"
api PATCH /api/v1/ports/v6a '{"up":false}'
expect_status 200
has_v6 v6a || fail "v6a lost addresses going down: $(addrs v6a)"
api PATCH /api/v1/ports/v6a '{"up":true}'
expect_status 200
has_v6 v6a || fail "v6a lost addresses after down/up: $(addrs v6a)"
expect_json '.status.addresses | sort | join(",")' 198.18.6.1/24,2001:db8:6::1/64
expect_json '.status.drift | length' 0

note "an outside ip link set down/up (keep_addr_on_down cleared) loses nothing for long"
echo 0 >/proc/sys/net/ipv6/conf/v6a/keep_addr_on_down
ip link set dev v6a down
ip link set dev v6a up
wait_until 2 has_v6 v6a || fail "v6a addresses not added back after an outside down/up: $(addrs v6a)"
wait_until 2 get_has_drift v6a "" || fail "drift after the outside down/up: $(body)"

note "an outside ip addr del is put back"
ip addr del 2001:db8:6::1/64 dev v6a
wait_until 2 has_v6 v6a || fail "v6a address not added back after ip addr del: $(addrs v6a)"

note "an outside MTU below 1280 shows as drift; the MTU back restores the address"
ip link set dev v6a mtu 1000
# Created without "mtu", v6a is configured with 1500: the outside MTU is drift too.
wait_until 2 get_has_drift v6a mtu,addresses || fail "no drift after an outside MTU 1000: $(body)"
expect_json '.status.addresses | join(",")' 198.18.6.1/24
ip link set dev v6a mtu 1500
wait_until 2 has_v6 v6a || fail "v6a IPv6 address not back after MTU 1500: $(addrs v6a)"
wait_until 2 get_has_drift v6a "" || fail "drift after the MTU came back: $(body)"
expect_eq "$(cat /proc/sys/net/ipv6/conf/v6a/keep_addr_on_down)" 1 "keep_addr_on_down after MTU back"

note "re-PATCHing the same address list restores what is missing (not a no-op)"
ip link set dev v6a mtu 1000
ip link set dev v6a mtu 1500
# paird may already have put it back from the link event; take it away once more.
wait_until 2 has_v6 v6a || fail "v6a not restored: $(addrs v6a)"
api PATCH /api/v1/ports/v6a '{"addresses":["198.18.6.1/24","2001:db8:6::1/64"]}'
expect_status 200
has_v6 v6a || fail "re-PATCH did not restore: $(addrs v6a)"

note "MTU below 1280 with an IPv6 address: 422 on PATCH, POST and PUT, nothing changed"
snapshot before
api PATCH /api/v1/ports/v6a '{"mtu":576}'
expect_problem 422 mtu
jqb .detail | grep -q addresses || fail "the detail does not name addresses: $(body)"
api POST /api/v1/ports '{"name":"v6b","type":"tap","mtu":576,"addresses":["2001:db8:7::1/64"]}'
expect_problem 422 mtu
api PUT /api/v1/ports/v6a '{"type":"tap","mtu":1000,"addresses":["198.18.6.1/24","2001:db8:6::1/64"]}'
expect_problem 422 mtu
expect_unchanged
api POST /api/v1/ports '{"name":"v6b","type":"tap","mtu":1000}'
expect_status 201
api PATCH /api/v1/ports/v6b '{"addresses":["2001:db8:7::1/64"]}'
expect_problem 422 addresses
expect_eq "$(addrs v6b)" "" "v6b addresses after a refused PATCH"

note "a PUT that would attach to paird's own device is refused before anything changes"
snapshot before
ifindex=$(ip -o link show dev v6a | cut -d: -f1)
api PUT /api/v1/ports/v6a '{"type":"tap","attach":true,"addresses":["198.18.6.1/24","2001:db8:6::1/64"]}'
expect_problem 409 attach
expect_unchanged
expect_eq "$(ip -o link show dev v6a | cut -d: -f1)" "$ifindex" "v6a ifindex after a refused PUT"
has_v6 v6a || fail "refused PUT removed addresses: $(addrs v6a)"

note "after an outside MTU below 1280, dropping the IPv6 address succeeds (was 404 ENXIO)"
api POST /api/v1/ports '{"name":"v6d","type":"tap","addresses":["198.18.9.1/24","2001:db8:9::1/64"]}'
expect_status 201
ip link set dev v6d mtu 1000
api PATCH /api/v1/ports/v6d '{"addresses":["198.18.9.1/24"]}'
expect_status 200
expect_json '.status.drift | length' 0
expect_eq "$(addrs v6d)" "198.18.9.1/24 " "v6d addresses after PATCH"
api PUT /api/v1/ports/v6d '{"type":"tap","addresses":["198.18.9.1/24","2001:db8:9::1/64"]}'
expect_status 200
ip link set dev v6d mtu 1000
api PUT /api/v1/ports/v6d '{"type":"tap","addresses":["198.18.9.1/24"]}'
expect_status 200
expect_json .status.mtu 1500
expect_json '.status.drift | length' 0
expect_eq "$(addrs v6d)" "198.18.9.1/24 " "v6d addresses after PUT"

note "a failed state write leaves no device and no capture ring behind"
mkdir "$W/state.json.tmp"
snapshot before
api POST /api/v1/ports '{"name":"v6e","type":"tap","addresses":["2001:db8:a::1/64"]}'
expect_problem 500
api POST /api/v1/ports/v6a/bindings '{"handler":"capture"}'
expect_problem 500
expect_unchanged
ip link show dev v6e >/dev/null 2>&1 && fail "v6e left behind by a failed state write"
api GET /api/v1/ports/v6a
expect_json .counters.capture.capacity 0
rmdir "$W/state.json.tmp"
api DELETE /api/v1/ports/v6d
expect_status 204

note "restore of a state file holding MTU 576 with IPv6: the port is in state error with the reason"
stop_paird
jq '.ports += [{"name":"v6c","type":"tap","mtu":576,"addresses":["2001:db8:8::1/64"]}]' \
	"$W/state.json" >"$W/state.new"
mv "$W/state.new" "$W/state.json"
start_paird --state "$W/state.json"
api GET /api/v1/ports/v6c
expect_status 200
expect_json .status.state error
jqb .status.last_error.message | grep -q 1280 || fail "no reason in last_error: $(body)"
ip link show dev v6c >/dev/null 2>&1 && fail "v6c was created half-configured"
api GET /api/v1/ports/v6a
expect_json .status.state up
expect_json '.status.drift | length' 0
has_v6 v6a || fail "v6a after restart: $(addrs v6a)"
api PUT /api/v1/ports/v6c '{"type":"tap","addresses":["2001:db8:8::1/64"]}'
expect_status 200
expect_json .status.state up
expect_eq "$(addrs v6c)" "2001:db8:8::1/64 " "v6c addresses after PUT"

note "ok"
