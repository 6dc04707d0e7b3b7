#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An interface deleted behind paird's back (ip link del) turns its port
# "gone" within a second, with an event logged and no CPU spin; deleting
# the port then works.
#
# Topology: one private network namespace with lo, ports gtap0 and gtun0
# created by paird, and gper0, a persistent tap paird attaches to.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
start_paird

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PAIRD_PID/stat"; }
is_gone() { curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/$1" | jq -e '.status.state == "gone"' >/dev/null; }

ip tuntap add dev gper0 mode tap
api POST /api/v1/ports '{"name":"gtap0","type":"tap","addresses":["198.18.0.1/24"]}'
expect_status 201
api POST /api/v1/ports '{"name":"gtun0","type":"tun"}'
expect_status 201
api POST /api/v1/ports '{"name":"gper0","type":"tap","attach":true}'
expect_status 201

for dev in gtap0 gtun0 gper0; do
	note "ip link del $dev"
	ip link del dev "$dev"
	wait_until 1 is_gone "$dev" || fail "$dev is not gone a second after ip link del"
	grep -q "port $dev: interface deleted outside paird" "$PAIRD_LOG" ||
		fail "no event logged for $dev"
done

note "no CPU spin once the ports are gone"
before=$(cpu_ticks)
sleep 2
after=$(cpu_ticks)
[ $((after - before)) -le 10 ] || fail "paird used $((after - before)) ticks in 2 s idle"

note "/healthz counts the failing ports for anyone, names them only for an authenticated client"
curl -s --max-time 10 "$BASE/healthz" >"$W/health" || fail "GET /healthz over TCP failed"
jq -e '.status == "degraded" and .failed == 3 and (has("failed_ports") | not)' "$W/health" \
	>/dev/null || fail "unauthenticated /healthz: $(cat "$W/health")"
grep -q gtap0 "$W/health" && fail "unauthenticated /healthz names a port: $(cat "$W/health")"
api GET /healthz
expect_json '.failed_ports | map(.name) | join(",")' gtap0,gtun0,gper0

api GET /api/v1/ports/gtap0
expect_json .status.ifindex null
expect_json .status.last_error.errno_name ENODEV
api PATCH /api/v1/ports/gtap0 '{"mtu":1400}'
expect_problem 409

for dev in gtap0 gtun0 gper0; do
	api DELETE /api/v1/ports/$dev
	expect_status 204
done
api GET /api/v1/ports
expect_json '.ports | length' 0
api GET /healthz
expect_status 200
