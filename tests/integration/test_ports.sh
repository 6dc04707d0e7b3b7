#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ports through the API, checked against the kernel.
#
# Topology: one private network namespace holding lo and the tun/tap
# devices paird creates (ptap0, ptun0, ptunpi, pput0). paird listens on
# 127.0.0.1:<free port>. Checked with `ip -d link` / `ip addr`: type,
# flags (pi), MTU, MAC, addresses, up; PATCH and PUT change the link;
# DELETE removes the interface.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
start_paird

link() { ip -d link show dev "$1"; }
addrs() { ip -br addr show dev "$1" | awk '{ $1 = ""; $2 = ""; print }' | tr -s ' ' '\n' | grep -v '^fe80' | grep . | sort | tr '\n' ' '; }

note "create a tap with MTU, MAC and IPv4 + IPv6 addresses"
api POST /api/v1/ports '{"name":"ptap0","type":"tap","mtu":1400,"mac":"02:00:00:00:00:11",
	"addresses":["198.18.0.1/24","2001:db8::1/64"]}'
expect_status 201
expect_eq "$(header Location)" /api/v1/ports/ptap0 "Location"
expect_json .name ptap0
expect_json .config.type tap
expect_json .status.state up
expect_json .status.up true
expect_json .status.mtu 1400
expect_json .status.mac 02:00:00:00:00:11
expect_json '.status.flags | join(",")' IFF_TAP,IFF_NO_PI
expect_json '.config.addresses | join(",")' 198.18.0.1/24,2001:db8::1/64
expect_json .counters.rx_frames 0
ifindex=$(jqb .status.ifindex)
link ptap0 | grep -q "tun type tap pi off" || fail "ptap0 is not a tap without pi: $(link ptap0)"
link ptap0 | grep -q "mtu 1400" || fail "ptap0 MTU: $(link ptap0)"
link ptap0 | grep -q "link/ether 02:00:00:00:00:11" || fail "ptap0 MAC: $(link ptap0)"
link ptap0 | grep -q "<.*UP.*>" || fail "ptap0 is not up: $(link ptap0)"
link ptap0 | grep -q "persist off" || fail "ptap0 must not be persistent: $(link ptap0)"
expect_eq "$(ip -o link show dev ptap0 | cut -d: -f1)" "$ifindex" "ifindex"
expect_eq "$(addrs ptap0)" "198.18.0.1/24 2001:db8::1/64 " "ptap0 addresses"

note "create a tun (defaults: up, no packet info) and a tun with packet info, down"
api POST /api/v1/ports '{"name":"ptun0","type":"tun"}'
expect_status 201
expect_json .status.mac null
link ptun0 | grep -q "tun type tun pi off" || fail "ptun0: $(link ptun0)"
link ptun0 | grep -q "<.*UP.*>" || fail "ptun0 is not up"
api POST /api/v1/ports '{"name":"ptunpi","type":"tun","packet_info":true,"up":false}'
expect_status 201
expect_json .status.state down
expect_json '.status.flags | join(",")' IFF_TUN
link ptunpi | grep -q "tun type tun pi on" || fail "ptunpi: $(link ptunpi)"
link ptunpi | grep -q "state DOWN" || fail "ptunpi should be down: $(link ptunpi)"

note "list and read"
api GET /api/v1/ports
expect_status 200
expect_json '[.ports[].name] | join(",")' ptap0,ptun0,ptunpi
api GET /api/v1/ports/ptun0
expect_status 200
expect_json .config.type tun

note "PATCH changes the link: MTU, down, addresses replaced"
api PATCH /api/v1/ports/ptap0 '{"mtu":9000,"up":false,"addresses":["198.18.1.1/25"]}' \
	application/merge-patch+json
expect_status 200
expect_json .config.mtu 9000
expect_json .config.up false
expect_json .status.state down
link ptap0 | grep -q "mtu 9000" || fail "PATCH mtu: $(link ptap0)"
link ptap0 | grep -q "state DOWN" || fail "PATCH up=false: $(link ptap0)"
expect_eq "$(addrs ptap0)" "198.18.1.1/25 " "addresses after PATCH"
api PATCH /api/v1/ports/ptap0 '{"up":true,"addresses":null}'
expect_status 200
expect_json .config.addresses '[]'
expect_eq "$(addrs ptap0)" "" "addresses after PATCH null"
link ptap0 | grep -q "<.*UP.*>" || fail "PATCH up=true: $(link ptap0)"

note "the kernel's view is reported: a change behind paird's back shows up"
ip link set dev ptun0 mtu 1300
wait_until 2 sh -c "curl -s --unix-socket $SOCK $UBASE/api/v1/ports/ptun0 | jq -e '.status.mtu == 1300' >/dev/null" ||
	fail "GET does not report the MTU set behind paird's back"

note "PUT creates (201), is idempotent (200, same device), updates in place, replaces"
api PUT /api/v1/ports/pput0 '{"type":"tap","mtu":1280,"addresses":["198.18.2.1/24"]}'
expect_status 201
expect_eq "$(header Location)" /api/v1/ports/pput0 "Location"
put_ifindex=$(jqb .status.ifindex)
api PUT /api/v1/ports/pput0 '{"type":"tap","mtu":1280,"addresses":["198.18.2.1/24"]}'
expect_status 200
expect_json .status.ifindex "$put_ifindex"
api PUT /api/v1/ports/pput0 '{"name":"pput0","type":"tap","mtu":1500}'
expect_status 200
expect_json .status.ifindex "$put_ifindex"
expect_json .config.mtu 1500
expect_json .config.addresses '[]'
expect_eq "$(addrs pput0)" "" "PUT without addresses removes them"
api PUT /api/v1/ports/pput0 '{"type":"tun"}'
expect_status 200
expect_json .config.type tun
link pput0 | grep -q "tun type tun" || fail "PUT did not replace the tap by a tun: $(link pput0)"

note "DELETE removes the interface; a second DELETE is 404"
for name in ptap0 ptun0 ptunpi pput0; do
	api DELETE /api/v1/ports/$name
	expect_status 204
	[ -z "$(body)" ] || fail "204 with a body"
	! ip link show dev $name >/dev/null 2>&1 || fail "$name still exists after DELETE"
done
api DELETE /api/v1/ports/ptap0
expect_problem 404
api GET /api/v1/ports
expect_json '.ports | length' 0

note "healthz, openapi.yaml and the dashboard are served"
api GET /healthz
expect_status 200
expect_json .status ok
api GET /openapi.yaml
expect_status 200
grep -q '^openapi: 3\.1' "$W/body" || fail "/openapi.yaml is not the contract"
api GET /
expect_status 200
grep -q '<title>paird</title>' "$W/body" || fail "/ is not the dashboard"
case "$(header Content-Security-Policy)" in
*"default-src 'self'"*) ;;
*) fail "the dashboard has no strict Content-Security-Policy" ;;
esac
