#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Persistence and shutdown: every acknowledged change is in the state file
# before the 2xx; SIGTERM releases the ports and leaves the file intact; a
# restart recreates the ports as they were; a corrupt or unreadable state
# file stops paird at start with a reason and is never overwritten.
#
# Topology: one private network namespace with lo and the ports paird
# creates (st0 tap, st1 tun).
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
STATE=$W/state.json

start_paird --state "$STATE"
jq -e '.format == 1 and .ports == []' "$STATE" >/dev/null || fail "no empty state file at start"

note "each acknowledged change is already in the file when the answer arrives"
api POST /api/v1/ports '{"name":"st0","type":"tap","mtu":1400,"mac":"02:00:00:00:00:21",
	"addresses":["198.18.0.1/24","2001:db8::21/64"]}'
expect_status 201
jq -e '.ports[0] | .name == "st0" and .mtu == 1400 and .mac == "02:00:00:00:00:21"' \
	"$STATE" >/dev/null || fail "POST not in the state file: $(cat "$STATE")"
api POST /api/v1/ports '{"name":"st1","type":"tun","packet_info":true}'
expect_status 201
api PATCH /api/v1/ports/st1 '{"mtu":1280,"up":false}'
expect_status 200
jq -e '.ports[1] | .mtu == 1280 and .up == false' "$STATE" >/dev/null ||
	fail "PATCH not in the state file: $(cat "$STATE")"
api POST /api/v1/ports '{"name":"st2","type":"tap"}'
expect_status 201
api DELETE /api/v1/ports/st2
expect_status 204
jq -e '[.ports[].name] == ["st0","st1"]' "$STATE" >/dev/null ||
	fail "DELETE not in the state file: $(cat "$STATE")"
[ ! -e "$STATE.tmp" ] || fail "a temp file was left behind"

note "SIGTERM: exit 0, ports released, state file intact"
cp "$STATE" "$W/state.before"
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "exit status"
grep -q "shutting down" "$PAIRD_LOG" || fail "shutdown not logged"
! ip link show dev st0 >/dev/null 2>&1 || fail "st0 survived paird"
! ip link show dev st1 >/dev/null 2>&1 || fail "st1 survived paird"
cmp -s "$STATE" "$W/state.before" || fail "shutdown changed the state file"

note "restart restores the ports"
start_paird --state "$STATE"
grep -q "2 port(s) restored" "$PAIRD_LOG" || fail "restore not logged"
api GET /api/v1/ports/st0
expect_status 200
expect_json .mtu 1400
expect_json .mac 02:00:00:00:00:21
expect_json '.addresses | join(",")' 198.18.0.1/24,2001:db8::21/64
expect_json .state up
ip -d link show dev st0 | grep -q "mtu 1400" || fail "st0 MTU not restored"
ip -br addr show dev st0 | grep -q "198.18.0.1/24" || fail "st0 address not restored"
ip -br addr show dev st0 | grep -q "2001:db8::21/64" || fail "st0 IPv6 address not restored"
api GET /api/v1/ports/st1
expect_json .mtu 1280
expect_json .up false
expect_json .packet_info true
ip -d link show dev st1 | grep -q "pi on" || fail "st1 packet info not restored"
stop_paird INT
expect_eq "$PAIRD_RC" 0 "exit status on SIGINT"

note "a corrupt state file stops the start and is left as it was"
for bad in '{"format":1,"ports":[' '{"format":2,"ports":[]}' '{"format":1}' \
	'{"format":1,"ports":[{"name":"x","type":"tap","mtu":5}]}' \
	'{"format":1,"ports":[{"name":"x","type":"tap"},{"name":"x","type":"tap"}]}' \
	'{"format":1,"ports":[],"extra":true}' '[]'; do
	printf '%s' "$bad" >"$STATE"
	rc=0
	timeout 10 "$PAIRD" --listen 127.0.0.1:0 --no-auth --socket none --state "$STATE" 2>"$W/corrupt.log" || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "paird started on a corrupt state file: $bad"
	grep -q "$STATE" "$W/corrupt.log" || fail "the error does not name the file: $(cat "$W/corrupt.log")"
	expect_eq "$(cat "$STATE")" "$bad" "the corrupt state file after the failed start"
	! ip link show dev x >/dev/null 2>&1 || fail "a port was created from a corrupt file"
done
mkdir "$W/dir.json"
rc=0
timeout 10 "$PAIRD" --listen 127.0.0.1:0 --no-auth --socket none --state "$W/dir.json" 2>"$W/dir.log" || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "paird started with a directory as its state file"

note "a port that cannot be restored is kept in state error, not dropped"
printf '{"format":1,"ports":[{"name":"gone9","type":"tap","attach":true},{"name":"st0","type":"tap"}]}' \
	>"$STATE"
start_paird --state "$STATE"
api GET /api/v1/ports/gone9
expect_status 200
expect_json .state error
expect_json .last_error.errno_name ENODEV
jq -e '[.ports[].name] == ["gone9","st0"]' "$STATE" >/dev/null ||
	fail "the broken port was dropped from the state file"
note "PUT recreates it once the device exists"
ip tuntap add dev gone9 mode tap
api PUT /api/v1/ports/gone9 '{"type":"tap","attach":true}'
expect_status 200
expect_json .state down
api DELETE /api/v1/ports/gone9
expect_status 204
ip link show dev gone9 >/dev/null || fail "DELETE removed gone9, which paird did not create"
