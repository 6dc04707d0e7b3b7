#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Resources that converge (issue 10), as an orchestration tool drives them:
# a PUT repeated is a no-op (200, Paird-Changed: false, the same ETag, no
# link flap, no counter reset, no state write, no event); GET's "config"
# PUT back is a no-op too; If-Match with a stale ETag is 412 and changes
# nothing; If-None-Match: * makes a PUT create-only; GET with the ETag in
# If-None-Match is 304; a named binding PUT twice is one binding, found and
# deleted by name; names survive a restart through the state file; PUT and
# PATCH log what they changed.
#
# Topology: one private network namespace with lo and the ports paird
# creates (cv0 tap with 198.18.40.1/24 and 2001:db8:40::1/64, cvmark tap
# as an event marker); no traffic beyond what the kernel sends on its own.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
STATE=$W/state.json
start_paird --state "$STATE"

STREAM_PID=
EXTRA_CLEANUP='[ -n "$STREAM_PID" ] && kill "$STREAM_PID" 2>/dev/null || true'

# What a no-op must leave as it is: the link (flags, MTU, ifindex, carrier
# changes), its addresses, the state file (a write replaces its inode), the
# port's version and its counters' epoch.
world() {
	ip -o link show dev cv0 | sed 's/ *$//'
	ip -s -s -j link show dev cv0 | jq '.[0].stats64.tx.carrier_changes'
	ip -br addr show dev cv0 | sed 's/ *$//'
	stat -c '%i %Y' "$STATE"
	curl -s --max-time 5 --unix-socket "$SOCK" "$UBASE/api/v1/ports/cv0" |
		jq -c '{version, config, since: .counters.since, state: .status.state}'
}

BODY='{"type":"tap","mtu":1400,"addresses":["198.18.40.1/24","2001:db8:40::1/64"]}'

note "PUT creates (201, Paird-Changed: true, an ETag)"
api PUT /api/v1/ports/cv0 "$BODY"
expect_status 201
expect_eq "$(header Paird-Changed)" true "Paird-Changed on create"
E1=$(header ETag)
[[ "$E1" =~ ^\"[0-9]+\"$ ]] || fail "ETag is not a quoted decimal: '$E1'"
expect_json '"\"" + (.version | tostring) + "\""' "$E1"
expect_json .config.mtu 1400
expect_json .status.mtu 1400
# Let the kernel's own start-up chatter (IPv6 router solicitations) pass into the counters.
sleep 1
world >"$W/world.before"

note "the stream of events, from now on"
curl -s -N --max-time 60 --unix-socket "$SOCK" "$UBASE/api/v1/events" >"$W/events" &
STREAM_PID=$!
wait_until 5 grep -q '^event: snapshot' "$W/events" || fail "no event stream: $(cat "$W/events")"

note "the same PUT again: 200, unchanged, same ETag"
api PUT /api/v1/ports/cv0 "$BODY"
expect_status 200
expect_eq "$(header Paird-Changed)" false "Paird-Changed on a repeated PUT"
expect_eq "$(header ETag)" "$E1" "ETag after a repeated PUT"

note "GET's config PUT back, and a PATCH to what is there: no-ops too"
api GET /api/v1/ports/cv0
expect_eq "$(header ETag)" "$E1" "ETag of GET"
CONFIG=$(jq -c .config "$W/body")
api PUT /api/v1/ports/cv0 "$CONFIG"
expect_status 200
expect_eq "$(header Paird-Changed)" false "Paird-Changed on PUT of GET's config"
api PATCH /api/v1/ports/cv0 '{"mtu":1400,"up":true}' application/merge-patch+json
expect_status 200
expect_eq "$(header Paird-Changed)" false "Paird-Changed on a no-op PATCH"
expect_eq "$(header ETag)" "$E1" "ETag after a no-op PATCH"

note "GET with If-None-Match of the current ETag: 304"
: >"$W/body" # curl leaves the file alone when no body arrives
api GET /api/v1/ports/cv0 -- -H "If-None-Match: $E1"
expect_status 304
expect_eq "$(header ETag)" "$E1" "ETag of 304"
[ ! -s "$W/body" ] || fail "304 with a body: $(body)"

note "a named binding PUT twice is one binding"
DNS='{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},"handler":"capture"}'
api PUT /api/v1/ports/cv0/bindings/dns "$DNS"
expect_status 201
expect_eq "$(header Location)" /api/v1/ports/cv0/bindings/dns "Location of a named binding"
expect_eq "$(header Paird-Changed)" true "Paird-Changed on binding create"
B1=$(header ETag)
BID=$(jqb .id)
expect_json .name dns
expect_json .config.handler capture
world >"$W/world.bound"
api PUT /api/v1/ports/cv0/bindings/dns "$DNS"
expect_status 200
expect_eq "$(header Paird-Changed)" false "Paird-Changed on a repeated binding PUT"
expect_eq "$(header ETag)" "$B1" "binding ETag after a repeated PUT"
api GET /api/v1/ports/cv0/bindings
expect_json '.bindings | length' 1
expect_json '[.bindings[].name] | join(",")' dns
world >"$W/world.after"
diff -u "$W/world.bound" "$W/world.after" >&2 || fail "a repeated binding PUT changed something"

note "the marker: a real change, so that everything before it is in the stream"
api POST /api/v1/ports '{"name":"cvmark","type":"tap"}'
expect_status 201
wait_until 5 grep -q '"port":"cvmark"' "$W/events" || fail "no event for the marker"
kill "$STREAM_PID" 2>/dev/null || true
wait "$STREAM_PID" 2>/dev/null || true
STREAM_PID=
# Up to the marker, for cv0: exactly the binding's creation (no port_changed of a flap).
events=$(awk '/^event: / { e = $2 } /^data: / && index($0, "\"port\":\"cvmark\"") { exit }
	/^data: / && index($0, "\"port\":\"cv0\"") && e != "snapshot" && e != "heartbeat" &&
	e != "counters" { print e }' "$W/events" | tr '\n' ' ')
expect_eq "$events" "binding_created " "events of cv0 during the repeated requests"

note "If-Match with a stale ETag: 412 and nothing changed; with the current one: done"
api PATCH /api/v1/ports/cv0 '{"mtu":1300}' application/merge-patch+json
expect_status 200
expect_eq "$(header Paird-Changed)" true "Paird-Changed on a real PATCH"
E2=$(header ETag)
[ "$E2" != "$E1" ] || fail "a change kept the ETag $E1"
grep -q "port cv0 updated: mtu 1400 -> 1300" "$PAIRD_LOG" ||
	fail "the PATCH did not log what changed: $(grep cv0 "$PAIRD_LOG")"
world >"$W/world.before"
snapshot before
api PUT /api/v1/ports/cv0 "$BODY" application/json -- -H "If-Match: $E1"
expect_problem 412
expect_json .type urn:paird:problem:precondition-failed
expect_eq "$(header ETag)" "$E2" "the current ETag on 412"
api PATCH /api/v1/ports/cv0 '{"mtu":1280}' application/merge-patch+json -- -H "If-Match: $E1"
expect_problem 412
api DELETE /api/v1/ports/cv0 -- -H "If-Match: $E1"
expect_problem 412
api PUT /api/v1/ports/cv0/bindings/dns '{"handler":"count"}' application/json -- -H "If-Match: $E1"
expect_problem 412
api DELETE /api/v1/ports/cv0/bindings/dns -- -H "If-Match: $E1"
expect_problem 412
note "If-None-Match: * on what exists: 412 (create-only)"
api PUT /api/v1/ports/cv0 "$BODY" application/json -- -H "If-None-Match: *"
expect_problem 412
api PUT /api/v1/ports/cv0/bindings/dns "$DNS" application/json -- -H "If-None-Match: *"
expect_problem 412
note "If-Match on what does not exist: 412, nothing created"
api PUT /api/v1/ports/cv9 "$BODY" application/json -- -H "If-Match: *"
expect_problem 412
api PUT /api/v1/ports/cv0/bindings/dns2 "$DNS" application/json -- -H "If-Match: *"
expect_problem 412
expect_unchanged
world >"$W/world.after"
diff -u "$W/world.before" "$W/world.after" >&2 || fail "a refused conditional request changed something"
! ip link show dev cv9 >/dev/null 2>&1 || fail "cv9 was created despite If-Match"

api PATCH /api/v1/ports/cv0 '{"mtu":1400}' application/merge-patch+json -- -H "If-Match: $E2"
expect_status 200
expect_eq "$(header Paird-Changed)" true "Paird-Changed with the current ETag"
ip -o link show dev cv0 | grep -q "mtu 1400" || fail "the PATCH with If-Match was not made"
api PUT /api/v1/ports/cv1 "$BODY" application/json -- -H "If-None-Match: *"
expect_status 201

note "GET and DELETE by name; names survive a restart"
api GET /api/v1/ports/cv0/bindings/dns
expect_status 200
expect_json .id "$BID"
api GET "/api/v1/ports/cv0/bindings/$BID"
expect_json .name dns
api POST /api/v1/ports/cv0/bindings '{"name":"echo7","match":{"ethertype":2048,"ip_protocol":17,"udp_port":7},"handler":"echo"}'
expect_status 201
api POST /api/v1/ports/cv0/bindings '{"name":"echo7","handler":"count"}'
expect_problem 409 name
jq -e '[.ports[] | select(.name == "cv0") | .bindings[].name] == ["dns","echo7"]' "$STATE" >/dev/null ||
	fail "names not in the state file: $(cat "$STATE")"
stop_paird
start_paird --state "$STATE"
api GET /api/v1/ports/cv0/bindings/dns
expect_status 200
expect_json .id "$BID"
expect_json .config.match.udp_port 53
api PUT /api/v1/ports/cv0/bindings/dns "$DNS"
expect_status 200
expect_eq "$(header Paird-Changed)" false "Paird-Changed of a repeated PUT after a restart"
api PUT /api/v1/ports/cv0 "$BODY"
expect_status 200
expect_eq "$(header Paird-Changed)" false "Paird-Changed of a repeated port PUT after a restart"
api DELETE /api/v1/ports/cv0/bindings/dns
expect_status 204
expect_eq "$(header Paird-Changed)" true "Paird-Changed on DELETE"
api GET /api/v1/ports/cv0/bindings/dns
expect_problem 404
api GET /api/v1/ports/cv0/bindings
expect_json '[.bindings[].name] | join(",")' echo7

note "converged: no-op PUT, stale ETag, create-only and named bindings behave"
