#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two taps joined by forward bindings are a wire: a ping crosses from one
# network namespace to another through paird.
#
# Topology:
#   [fwa: fwa0 198.18.20.1/24] ==tap== paird ==tap== [fwb: fwb0 198.18.20.2/24]
# paird runs in its own namespace (unshare -n) and creates fwa0 and fwb0,
# which are then moved into the namespaces fwa-$$ and fwb-$$ (ip netns add,
# deleted by the trap). paird keeps reading and writing their fds.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
command -v ping >/dev/null || fail "ping is missing (iputils-ping)"

NSA=fwa-$$ NSB=fwb-$$
ip netns add "$NSA"
ip netns add "$NSB"
EXTRA_CLEANUP="ip netns del $NSA 2>/dev/null; ip netns del $NSB 2>/dev/null; true"
start_paird

api POST /api/v1/ports '{"name":"fwa0","type":"tap","mac":"02:00:00:00:20:01"}'
expect_status 201
api POST /api/v1/ports '{"name":"fwb0","type":"tap","mac":"02:00:00:00:20:02"}'
expect_status 201

note "forward refuses what cannot work"
api POST /api/v1/ports/fwa0/bindings '{"handler":"forward","options":{"port":"nosuch"}}'
expect_problem 422 options.port
api POST /api/v1/ports/fwa0/bindings '{"handler":"forward","options":{"port":"fwa0"}}'
expect_problem 422 options.port
api POST /api/v1/ports '{"name":"fwt0","type":"tun"}'
expect_status 201
api POST /api/v1/ports/fwa0/bindings '{"handler":"forward","options":{"port":"fwt0"}}'
expect_problem 422 options.port
api POST /api/v1/ports/fwa0/bindings '{"handler":"forward"}'
expect_problem 422 options.port

note "wire fwa0 <-> fwb0"
forward_wire fwa0 fwb0
netns_move "$NSA" fwa0 198.18.20.1/24
netns_move "$NSB" fwb0 198.18.20.2/24
wait_until 2 grep -q "port fwa0: the interface moved" "$PAIRD_LOG" || fail "the move was not seen"

note "ping from $NSA to $NSB across paird"
ip netns exec "$NSA" ping -c 3 -i 0.2 -W 2 198.18.20.2 >"$W/ping" ||
	fail "no ping across the forward bindings: $(cat "$W/ping")"
api GET /api/v1/ports/fwa0/bindings
expect_json '.bindings[0].counters.forwarded >= 4' true
api GET /api/v1/ports/fwb0
expect_json '.counters.tx_frames >= 4' true

note "link changes of a moved port are refused; the wire still works"
api PATCH /api/v1/ports/fwa0 '{"mtu":1400}'
expect_problem 409

note "deleting the target: forwarding counts errors, nothing breaks"
api DELETE /api/v1/ports/fwb0
expect_status 204
api GET /api/v1/ports/fwa0/bindings
errors=$(jqb '.bindings[0].counters.errors')
ip netns exec "$NSA" ping -c 2 -i 0.2 -W 1 198.18.20.2 >/dev/null 2>&1 || true
api GET /api/v1/ports/fwa0/bindings
expect_json ".bindings[0].counters.errors > $errors" true
api GET /healthz
expect_status 200
