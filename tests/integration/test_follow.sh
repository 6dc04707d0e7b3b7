#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Captures that follow (issue 8), against the kernel and tshark: tshark
# reads a followed pcap and a followed pcapng stream live
# (curl -N ... | tshark -i -) while datagrams are sent from kernel sockets,
# and sees each within 1 s of its sending; a two-port pcapng stream decodes
# with both interfaces; a long poll answers when a frame arrives; cursors
# of another generation or beyond the newest record are refused; 64
# followers of which half never read leave paird's RSS within a bound and
# the API and the data plane working (figures printed), and what the stalled
# ones missed is counted once they read again; --max-streams holds; a
# stream's own capture (?filter=) needs no binding and leaves nothing; paird
# stops cleanly with a follower waiting.
#
# Topology (one private network namespace):
#   kernel fl0 198.18.40.1/24 ==tap== paird (capture binding)
#   kernel fl1 198.18.41.1/24 ==tap== paird (capture binding)
# Datagrams go to 198.18.40.2 / 198.18.41.2, whose neighbour entries are
# static, so the kernel sends them at once.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
command -v tshark >/dev/null || fail "tshark is missing"
PY=/usr/bin/python3
# 64 followers and the test's own calls fit; a 1 MiB ring keeps the RSS figure readable.
start_paird --max-streams 66 --max-connections 100 --capture-ring 1M
# The capture bindings take every frame, and the long polls below expect the
# test's own datagram first: no IPv6 on the ports of this private namespace,
# so no router solicitation or MLD report of the kernel's comes in between.
sysctl -qw net.ipv6.conf.default.disable_ipv6=1

for i in 0 1; do
	api POST /api/v1/ports "{\"name\":\"fl$i\",\"type\":\"tap\",\"mac\":\"02:00:00:00:4$i:01\",
		\"addresses\":[\"198.18.4$i.1/24\"]}"
	expect_status 201
	ip neigh replace "198.18.4$i.2" lladdr "02:00:00:00:4$i:02" dev "fl$i" nud permanent
	api POST "/api/v1/ports/fl$i/bindings" '{"handler":"capture"}'
	expect_status 201
done

# live URL N: follows URL with curl -N | tshark -i - -l, sends N datagrams to
# UDP ports 7001.. from a kernel socket one at a time, and waits for tshark to
# print each one; prints the worst delay. Fails when one takes over 1 s.
live() {
	"$PY" - "$SOCK" "$UBASE$1" "$2" "${LIVE_ADDR:-198.18.40.2}" <<'EOF'
import os, select, signal, socket, subprocess, sys, time
sock, url, n, addr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
curl = subprocess.Popen(["curl", "-sN", "--max-time", "60", "--unix-socket", sock, url],
                        stdout=subprocess.PIPE)
tshark = subprocess.Popen(["tshark", "-n", "-i", "-", "-l", "-T", "fields", "-e", "udp.dstport"],
                          stdin=curl.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
curl.stdout.close()
out = tshark.stdout.fileno()
os.set_blocking(out, False)
buf = b""
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def seen(port, deadline):
    global buf
    while time.monotonic() < deadline:
        r, _, _ = select.select([out], [], [], max(0, deadline - time.monotonic()))
        if r:
            chunk = os.read(out, 65536)
            if not chunk:
                return False
            buf += chunk
        if str(port).encode() in buf.split(b"\n")[:-1]:
            return True
    return False
try:
    # tshark takes a while to start: a warm-up datagram until it shows (at most 20 s).
    end = time.monotonic() + 20
    while True:
        s.sendto(b"warm-up", (addr, 7000))
        if seen(7000, time.monotonic() + 0.5):
            break
        if time.monotonic() > end:
            sys.exit("tshark never showed the warm-up datagram")
    worst = 0.0
    for i in range(1, n + 1):
        buf = b""
        t0 = time.monotonic()
        s.sendto(b"live %d" % i, (addr, 7000 + i))
        if not seen(7000 + i, t0 + 1.0):
            sys.exit("datagram %d to port %d not seen within 1 s" % (i, 7000 + i))
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.1)  # idle between frames: the stream must wake from its wait
    print("%d datagrams, each seen by tshark within %.0f ms" % (n, worst * 1000))
finally:
    for p in (tshark, curl):
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
EOF
}

send_udp() { # send_udp ADDR PORT COUNT
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"x" * 64, (sys.argv[1], int(sys.argv[2])))' "$@"
}

note "pcap follow: tshark sees each datagram live"
out=$(live "/api/v1/ports/fl0/captures.pcap?follow=true" 10) || fail "pcap follow: $out"
note "$out"
note "pcapng follow: the same"
out=$(live "/api/v1/ports/fl0/captures.pcapng?follow=true" 10) || fail "pcapng follow: $out"
note "$out"
note "a stream's own capture (?filter=, no binding needed): the same, and nothing stays"
api POST /api/v1/ports '{"name":"fl2","type":"tap","addresses":["198.18.42.1/24"]}'
expect_status 201
ip neigh replace 198.18.42.2 lladdr 02:00:00:00:42:02 dev fl2 nud permanent
LIVE_ADDR=198.18.42.2
out=$(live "/api/v1/ports/fl2/captures.pcapng?follow=true&filter=udp%20dst%20portrange%207000-7100&snaplen=200" 5) ||
	fail "own capture follow: $out"
note "$out"
LIVE_ADDR=198.18.40.2
api GET /api/v1/ports/fl2/bindings
expect_json '.bindings | length' 0
api GET /api/v1/ports/fl2
expect_json '.counters.capture.records' 0
api GET /metrics
expect_status 200
grep -q '^paird_capture_stream_tap_frames_total [1-9]' "$W/body" || fail "tap frames not counted"
# Both followers are gone, and their streams with them.
wait_until 3 sh -c "curl -s --unix-socket $SOCK $UBASE/metrics | grep -qx 'paird_capture_streams 0'" ||
	fail "follow streams still counted after their clients went"

note "two ports in one pcapng stream: both interfaces decode"
curl -sN --max-time 4 --unix-socket "$SOCK" \
	"$UBASE/api/v1/captures.pcapng?ports=fl0,fl1&follow=true" -o "$W/two.pcapng" &
CURL_PID=$!
sleep 1
send_udp 198.18.40.2 8001 3
send_udp 198.18.41.2 8002 3
wait "$CURL_PID" || true # cut by --max-time: the stream never ends by itself
tshark -r "$W/two.pcapng" -T fields -e frame.interface_name -e udp.dstport -e frame.comment \
	>"$W/two.txt" 2>/dev/null || true
grep -q "^fl0	8001	binding 1" "$W/two.txt" || fail "no fl0 frame to 8001: $(cat "$W/two.txt")"
grep -q "^fl1	8002	binding 1" "$W/two.txt" || fail "no fl1 frame to 8002: $(cat "$W/two.txt")"
note "$(wc -l <"$W/two.txt") frames from $(cut -f1 "$W/two.txt" | sort -u | tr '\n' ' ')"

note "a long poll answers when a frame arrives, or empty at its deadline"
api GET /api/v1/ports/fl1/captures
gen=$(jqb .generation)
newest=$(jqb .newest_seq)
t0=$(date +%s%N)
api GET "/api/v1/ports/fl1/captures?after=$newest&wait=1"
expect_status 200
expect_json '.records | length' 0
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -ge 900 ] || fail "an empty long poll answered before its deadline"
(sleep 0.5; send_udp 198.18.41.2 8003 1) &
t0=$(date +%s%N)
api GET "/api/v1/ports/fl1/captures?after=$newest&wait=20&generation=$gen"
t1=$(date +%s%N)
expect_status 200
expect_json '.records[0].headers.udp.dst_port' 8003
[ $(((t1 - t0) / 1000000)) -lt 10000 ] || fail "the long poll did not answer on the frame"
note "long poll answered after $(((t1 - t0) / 1000000)) ms (frame sent at ~500 ms)"

note "cursors: beyond the newest record, or of another generation, are refused"
api GET "/api/v1/ports/fl1/captures?after=999999"
expect_problem 409
expect_json .type urn:paird:problem:cursor-ahead
api DELETE /api/v1/ports/fl1/captures
expect_status 204
api GET "/api/v1/ports/fl1/captures?after=1&generation=$gen"
expect_problem 409
expect_json .type urn:paird:problem:cursor-generation
[ "$(jqb .generation)" != "$gen" ] || fail "a clear kept the generation"

note "64 followers, half never read: bounded memory, API and data plane unhurt"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PAIRD_PID/status"; }
frames() { curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/fl0" | jq .counters.rx_frames; }
rss0=$(rss)
# rate N: N datagrams from a kernel socket in bursts of 100 (a 1000-frame tap
# queue would drop the rest of one unpaced burst), until paird counted them
# or 5 s; prints "sent received milliseconds".
rate() {
	local before t0 t1
	before=$(frames)
	t0=$(date +%s%N)
	"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"x" * 64, ("198.18.40.2", 9000))
    if i % 100 == 99:
        time.sleep(0.002)' "$1"
	wait_until 5 sh -c "[ \$(curl -s --unix-socket $SOCK $UBASE/api/v1/ports/fl0 | jq .counters.rx_frames) -ge $((before + $1)) ]" || true
	t1=$(date +%s%N)
	echo "$1 $(($(frames) - before)) $(((t1 - t0) / 1000000))"
}
api_calls() { # prints the average milliseconds of 20 GETs
	local t0 t1
	t0=$(date +%s%N)
	for i in $(seq 20); do
		api GET /api/v1/ports/fl0
		expect_status 200
	done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 20000000))
}
set -- $(rate 20000)
note "alone: $2 of $1 frames received in $3 ms; an API call $(api_calls) ms"
base_got=$2
for i in $(seq 32); do
	curl -sN --max-time 60 --unix-socket "$SOCK" \
		"$UBASE/api/v1/ports/fl0/captures.pcap?follow=true" -o /dev/null &
	READERS="${READERS:-} $!"
done
# Half never read: they send the request and sit (bounded: 60 s at most)
# until $W/drain appears; then they read for a second, so paird finds out
# what they missed, and go.
"$PY" - "$SOCK" "$W/drain" <<'EOF' &
import os, socket, sys, time
conns = []
for i in range(32):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(sys.argv[1])
    c.sendall(b"GET /api/v1/ports/fl0/captures.pcap?follow=true HTTP/1.1\r\nHost: localhost\r\n\r\n")
    conns.append(c)
end = time.monotonic() + 60
while not os.path.exists(sys.argv[2]) and time.monotonic() < end:
    time.sleep(0.1)
end = time.monotonic() + 1
for c in conns:
    c.setblocking(False)
while time.monotonic() < end:
    for c in conns:
        try:
            c.recv(65536)
        except BlockingIOError:
            pass
    time.sleep(0.01)
EOF
STALL_PID=$!
EXTRA_CLEANUP='kill $READERS $STALL_PID 2>/dev/null || true'
wait_until 10 sh -c "curl -s --unix-socket $SOCK $UBASE/metrics | grep -qx 'paird_capture_streams 64'" ||
	fail "64 followers did not all connect: $(curl -s --unix-socket "$SOCK" "$UBASE/metrics" | grep streams)"
# The 65th and 66th are admitted (--max-streams 66)... a 67th is refused.
curl -sN --max-time 3 --unix-socket "$SOCK" "$UBASE/api/v1/ports/fl0/captures.pcap?follow=true" -o /dev/null &
curl -sN --max-time 3 --unix-socket "$SOCK" "$UBASE/api/v1/ports/fl0/captures.pcap?follow=true" -o /dev/null &
wait_until 5 sh -c "curl -s --unix-socket $SOCK $UBASE/metrics | grep -qx 'paird_capture_streams 66'" ||
	fail "the 65th and 66th followers were not admitted"
api GET "/api/v1/ports/fl0/captures.pcap?follow=true"
expect_problem 503
expect_json .type urn:paird:problem:too-many-streams
set -- $(rate 20000)
note "with 64 followers: $2 of $1 frames received in $3 ms; an API call $(api_calls) ms"
# The kernel side may drop a few from its tap queue on a busy machine; paird must not lose more.
[ "$2" -ge $((base_got * 95 / 100)) ] || fail "the data plane lost frames with followers: $2 of $1 (alone: $base_got)"
rss1=$(rss)
note "paird RSS: $rss0 KiB before, $rss1 KiB with 64 followers (+$((rss1 - rss0)) KiB)"
# Documented bound (README): a follower holds at most one record block and
# MHD's connection buffer; 64 x 256 KiB + the 1 MiB ring = 17 MiB.
[ $((rss1 - rss0)) -le $((17 * 1024)) ] || fail "RSS grew by $((rss1 - rss0)) KiB with 64 followers"
# The stalled ones read again: the records the ring evicted meanwhile are skipped and counted.
touch "$W/drain"
wait "$STALL_PID" || true
api GET /metrics
expect_status 200
missed=$(grep '^paird_capture_stream_missed_total ' "$W/body" | cut -d' ' -f2)
note "records the stalled followers missed (evicted from the 1 MiB ring before they read): $missed"
[ "$missed" -gt 0 ] || fail "the stalled followers missed no record: nothing counted"
kill $READERS 2>/dev/null || true
wait_until 10 sh -c "curl -s --unix-socket $SOCK $UBASE/metrics | grep -qx 'paird_capture_streams 0'" ||
	fail "streams still counted after their clients went: $(curl -s --unix-socket "$SOCK" "$UBASE/metrics" | grep streams)"
note "all followers gone, no stream left"

note "stopping paird with a follower waiting: a clean exit (MHD refuses to stop with suspended connections)"
curl -sN --max-time 20 --unix-socket "$SOCK" "$UBASE/api/v1/ports/fl0/captures.pcap?follow=true" \
	-o "$W/last.pcap" &
CURL_PID=$!
wait_until 5 sh -c "curl -s --unix-socket $SOCK $UBASE/metrics | grep -qx 'paird_capture_streams 1'" ||
	fail "the last follower did not connect"
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "paird's exit status with a follower waiting"
wait "$CURL_PID" || true
[ "$(head -c 4 "$W/last.pcap" | od -An -tx1 | tr -d ' ')" = d4c3b2a1 ] || fail "the last follower got no pcap header"
note "paird stopped cleanly; the follower got its stream and its end"
