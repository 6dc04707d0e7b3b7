#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The event stream, GET /api/v1/events (Server-Sent Events), read by curl
# -N over the Unix socket: it opens with the current state (snapshot), then
# shows the events of a scripted sequence of API calls in order (port
# created, binding created and deleted, the link set down from outside as
# a port_changed with drift, port deleted; an interface deleted outside as
# a port_changed to gone); a client that reconnects with
# Last-Event-ID gets exactly the events it missed; after more changes than
# the ring holds (--event-ring 16) it gets a reset with the current state;
# heartbeats (--event-heartbeat 1) arrive on an idle stream; a client
# beyond --max-event-clients gets 503; over TCP the stream needs the token;
# ?captures=PORT/ID adds a capture event per record the binding keeps.
#
# Topology: one private network namespace with lo and the taps paird
# creates (taps ev0, ev1, evN; tuns ev2, ev3); addresses from 198.18.0.0/15
# only; the ARP requests of a ping from the kernel side to 198.18.0.2 are
# what ?captures= summarizes.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
start_paird --event-ring 16 --event-heartbeat 1 --max-event-clients 2

STREAMS=()
EXTRA_CLEANUP='for s in ${STREAMS[@]+"${STREAMS[@]}"}; do kill "$s" 2>/dev/null || true; done'

# stream FILE [LAST-EVENT-ID]: reads the stream into FILE in the background
# (at most 60 s); its PID in STREAM_PID.
stream() {
	local extra=()
	[ -n "${2:-}" ] && extra=(-H "Last-Event-ID: $2")
	timeout 60 curl -sN -D "$1.headers" --unix-socket "$SOCK" ${extra[@]+"${extra[@]}"} \
		"$UBASE/api/v1/events" >"$1" &
	STREAM_PID=$!
	STREAMS+=("$STREAM_PID")
}

stop_stream() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# record_stream FILE: the stream read into FILE as an exchange for the
# contract check, which validates each event against its schema.
record_stream() {
	M=GET P=/api/v1/events STATUS=200
	cp "$1" "$W/body"
	cp "$1.headers" "$W/headers"
	record
}

# sse_json FILE: each complete event of FILE as a JSON line
# {"event", "id", "data"} (comments as {"comment"}).
sse_json() {
	python3 -c '
import json, sys
ev = {}
for line in open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]:
    if line == "":
        if ev:
            print(json.dumps(ev))
        ev = {}
    elif line.startswith(":"):
        ev["comment"] = line[1:].strip()
    else:
        k, _, v = line.partition(": ")
        ev[k] = json.loads(v) if k == "data" else v
' "$1"
}

# has FILE JQ-FILTER: some event of FILE matches.
has() { sse_json "$1" | jq -e -s "map(select($2)) | length > 0" >/dev/null; }
# types FILE: the event types of FILE in order, without counters and port_changed.
types() {
	sse_json "$1" | jq -r -s '[.[] | select(.event and .event != "counters" and
		.event != "port_changed") | .event] | join(" ")'
}
# The numbers of FILE's event ids, in order, one per line.
seqs() { sse_json "$1" | jq -r 'select(.id) | .id | sub("^[0-9a-f]+-"; "")'; }
last_id() { sse_json "$1" | jq -r -s '[.[] | select(.id)] | last | .id'; }

api POST /api/v1/ports '{"name":"ev0","type":"tap","addresses":["198.18.0.1/24"]}'
expect_status 201

note "a new stream opens with the current state"
stream "$W/a"
A=$STREAM_PID
wait_until 5 has "$W/a" '.event == "snapshot"' || fail "no snapshot: $(cat "$W/a")"
sse_json "$W/a" | jq -e -s '.[0] as $s | $s.event == "snapshot" and
	($s.data.ports | map(.name) == ["ev0"]) and $s.data.bindings == {"ev0": []} and
	($s.data.run | test("^[0-9a-f]{16}$")) and ($s.id | startswith($s.data.run + "-"))' \
	>/dev/null || fail "snapshot is not the current state: $(head -c 600 "$W/a")"

note "the events of a scripted sequence, in order"
api POST /api/v1/ports '{"name":"ev1","type":"tap","addresses":["198.18.1.1/24"]}'
expect_status 201
api POST /api/v1/ports/ev1/bindings '{"match":{"ethertype":2048,"ip_protocol":1},"handler":"count"}'
expect_status 201
api DELETE /api/v1/ports/ev1/bindings/1
expect_status 204
wait_until 5 has "$W/a" '.event == "binding_deleted"' || fail "no binding_deleted: $(cat "$W/a")"
ip link set ev1 down
wait_until 5 has "$W/a" '.event == "port_changed" and .data.port == "ev1" and
	.data.state == "down" and (.data.drift | index("up"))' ||
	fail "no port_changed (down, drift up) after ip link set down: $(tail -c 800 "$W/a")"
api DELETE /api/v1/ports/ev1
expect_status 204
wait_until 5 has "$W/a" '.event == "port_deleted"' || fail "no port_deleted: $(cat "$W/a")"
expect_eq "$(types "$W/a")" "snapshot port_created binding_created binding_deleted port_deleted" \
	"event types of the sequence"
sse_json "$W/a" | jq -e -s '
	(map(select(.event == "port_created")) | .[0].data | .port == "ev1" and .type == "tap") and
	(map(select(.event == "binding_created")) | .[0].data | .port == "ev1" and
		.binding.id == 1 and .binding.handler == "count" and .binding.match.ip_protocol == 1) and
	(map(select(.event == "binding_deleted")) | .[0].data | .port == "ev1" and .id == 1) and
	(map(select(.event == "port_deleted")) | .[0].data.port == "ev1")' >/dev/null ||
	fail "event data do not match the calls: $(cat "$W/a")"
# The down event comes after the binding's deletion and before the port's.
sse_json "$W/a" | jq -e -s '[.[] | select(.event) | select(.event == "binding_deleted" or
	.event == "port_deleted" or (.event == "port_changed" and .data.state == "down" and
	.data.port == "ev1"))] | map(.event) | .[-3:] ==
	["binding_deleted", "port_changed", "port_deleted"]' >/dev/null ||
	fail "the down event is out of order: $(cat "$W/a")"
seqs "$W/a" | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' ||
	fail "event ids are not consecutive: $(seqs "$W/a" | tr '\n' ' ')"

note "an interface deleted outside paird: port_changed to gone"
api POST /api/v1/ports '{"name":"ev3","type":"tun"}'
expect_status 201
wait_until 5 has "$W/a" '.event == "port_created" and .data.port == "ev3"' || fail "no ev3"
ip link del ev3
wait_until 5 has "$W/a" '.event == "port_changed" and .data.port == "ev3" and
	.data.state == "gone" and .data.last_error.errno_name == "ENODEV" and .data.ifindex == null' ||
	fail "no port_changed to gone: $(tail -c 800 "$W/a")"
api DELETE /api/v1/ports/ev3
expect_status 204
wait_until 5 has "$W/a" '.event == "port_deleted" and .data.port == "ev3"' || fail "ev3 not deleted"

note "heartbeats on an idle stream"
wait_until 5 has "$W/a" '.comment == "keepalive"' || fail "no keepalive within 5 s"

note "disconnect, change, reconnect with Last-Event-ID: exactly the missed events"
stop_stream "$A"
L=$(last_id "$W/a")
record_stream "$W/a"
api POST /api/v1/ports '{"name":"ev2","type":"tun"}'
expect_status 201
api POST /api/v1/ports/ev2/bindings '{"match":{},"handler":"count"}'
expect_status 201
api DELETE /api/v1/ports/ev2/bindings/1
expect_status 204
api DELETE /api/v1/ports/ev2
expect_status 204
stream "$W/b" "$L"
B=$STREAM_PID
wait_until 5 has "$W/b" '.event == "port_deleted"' || fail "no port_deleted on resume: $(cat "$W/b")"
expect_eq "$(types "$W/b")" "port_created binding_created binding_deleted port_deleted" \
	"event types after the resume"
expect_eq "$(seqs "$W/b" | head -n 1)" "$((${L##*-} + 1))" "the first id after the resume"
seqs "$W/b" | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' ||
	fail "resumed ids are not consecutive: $(seqs "$W/b" | tr '\n' ' ')"
has "$W/b" '.event == "port_created" and .data.port == "ev2"' || fail "ev2 missing"

note "more changes than the ring holds while away: reset with the current state"
stop_stream "$B"
L=$(last_id "$W/b")
record_stream "$W/b"
for i in $(seq 1 10); do
	api POST /api/v1/ports '{"name":"evN","type":"tap"}'
	expect_status 201
	api DELETE /api/v1/ports/evN
	expect_status 204
done
stream "$W/c" "$L"
C=$STREAM_PID
wait_until 5 has "$W/c" '.event' || fail "nothing after an overflow: $(cat "$W/c")"
sse_json "$W/c" | jq -e -s '[.[] | select(.event)][0] | .event == "reset" and
	.data.reason == "last-event-id" and (.data.ports | map(.name) == ["ev0"])' >/dev/null ||
	fail "expected a reset with the current state: $(head -c 600 "$W/c")"
note "and an id of another paird run gets a reset too"
stream "$W/d" "0123456789abcdef-3"
D=$STREAM_PID
wait_until 5 has "$W/d" '.event == "reset"' || fail "no reset for a foreign id: $(cat "$W/d")"

note "capture summaries for the bindings a client names (?captures=PORT/ID)"
stop_stream "$D"
api POST /api/v1/ports/ev0/bindings '{"match":{"ethertype":2054},"handler":"capture"}'
expect_status 201
CID=$(jqb .id)
api GET "/api/v1/events?captures=ev0/999"
expect_problem 404 captures
api GET "/api/v1/events?captures=ev0"
expect_problem 400 captures
timeout 60 curl -sN -D "$W/e.headers" --unix-socket "$SOCK" \
	"$UBASE/api/v1/events?captures=ev0/$CID" >"$W/e" &
E=$!
STREAMS+=("$E")
wait_until 5 has "$W/e" '.event == "snapshot"' || fail "no snapshot with captures"
# The kernel asks for 198.18.0.2 on ev0: ARP requests, captured by the binding.
ping -c 2 -i 0.2 -W 1 198.18.0.2 >/dev/null 2>&1 || true
wait_until 5 has "$W/e" '.event == "capture"' || fail "no capture event: $(tail -c 600 "$W/e")"
sse_json "$W/e" | jq -e -s --argjson id "$CID" '[.[] | select(.event == "capture")][0].data |
	.port == "ev0" and .binding == $id and .seq >= 1 and .len >= 42 and
	.headers.ethernet.type == 2054' >/dev/null ||
	fail "capture event does not summarize the ARP request: $(grep -A2 'event: capture' "$W/e" | head -3)"
stop_stream "$E"
record_stream "$W/e"
stream "$W/d" "0123456789abcdef-3"
D=$STREAM_PID
wait_until 5 has "$W/d" '.event == "reset"' || fail "no reset: $(cat "$W/d")"

note "a third stream is beyond --max-event-clients 2"
api GET /api/v1/events
expect_problem 503
[ -n "$(header Retry-After)" ] || fail "503 without Retry-After"
stop_stream "$C"
stop_stream "$D"
record_stream "$W/c"

note "the stream as the contract records it (headers and the first events)"
M=GET P=/api/v1/events
curl -s -o "$W/body" -D "$W/headers" --max-time 2 --unix-socket "$SOCK" "$UBASE$P" || true
STATUS=$(tr -d '\r' <"$W/headers" | awk 'NR == 1 { print $2 }')
expect_status 200
case "$(header Content-Type)" in text/event-stream*) ;; *) fail "Content-Type $(header Content-Type)" ;; esac
head -n 1 "$W/body" | grep -qx 'event: snapshot' || fail "the stream starts with $(head -n 1 "$W/body")"
record

note "over TCP the stream needs the token like every API route"
API_VIA=tcp api GET /api/v1/events
expect_problem 401
curl -s -o "$W/tcp" --max-time 2 -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/events" || true
head -n 1 "$W/tcp" | grep -qx 'event: snapshot' || fail "no snapshot over TCP with the token"

note "a browser page's stream: fetch() with the dashboard session's id, sent the way a browser does"
url=$(sed -n 's|.*dashboard login URL (works once, for 15 minutes): \(http://[^ ]*\)$|\1|p' "$PAIRD_LOG")
case "$url" in "$BASE/login?code="*) ;; *) fail "no login URL in the log" ;; esac
API_VIA=tcp api GET "/login?code=${url#*code=}"
expect_status 303
sid=$(header Location)
sid=${sid#/#session=}
curl -s -o "$W/session" --max-time 2 -H "Authorization: Bearer $sid" -H "Accept: text/event-stream" \
	-H "Sec-Fetch-Site: same-origin" -H "Sec-Fetch-Mode: cors" "$BASE/api/v1/events" || true
head -n 1 "$W/session" | grep -qx 'event: snapshot' ||
	fail "no snapshot over TCP with the session id: $(head -c 300 "$W/session")"

api GET /healthz
expect_status 200
