#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Multi-queue ports (issue 11, "queues"): a tun opened twice with
# IFF_MULTI_QUEUE, queue 1 read by a worker thread. Datagrams of many flows
# (one UDP source port each) from a kernel socket are spread by the kernel
# over both queues by flow hash; the count binding sees every one, the
# capture keeps every one (the same set of flows as sent), and status shows
# each queue's frames; a long poll wakes for a frame a worker read. The
# port is deleted and made again while traffic flows, and paird's threads
# come back to their number before the port; the interface deleted behind
# paird makes the port gone with its threads joined and its counts kept;
# paird stops cleanly. "queues" is create-only (PATCH: 422; PUT with another
# count: a new device) and shown in the canonical config.
#
# Topology (one private network namespace):
#   kernel mq0 198.18.50.1/24 ==tun (2 queues)== paird (count + capture on UDP 9)
# Datagrams go to 198.18.50.2:9, routed into the tun.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is missing"
sysctl -qw net.ipv6.conf.default.disable_ipv6=1
start_paird

# threads: paird's thread count now.
threads() {
	ls "/proc/$PAIRD_PID/task" | wc -l
}
BASE_THREADS=$(threads)

# send COUNT FLOWS SECONDS: COUNT datagrams to 198.18.50.2:9 round-robin over
# FLOWS source ports (40000..), stopping after SECONDS at most; prints how
# many were sent (a send the kernel refuses, e.g. while the port is being
# made again, is not counted).
send() {
	"$PY" - "$1" "$2" "$3" <<'EOF'
import errno, socket, sys, time
count, flows, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.50.1", 40000 + i))
    socks.append(s)
sent, end = 0, time.monotonic() + secs
for i in range(count):
    if i % 256 == 0 and time.monotonic() > end:
        break
    try:
        socks[i % flows].sendto(b"paird-mq %08d" % i, ("198.18.50.2", 9))
        sent += 1
    except OSError as e:
        if e.errno not in (errno.ENETUNREACH, errno.ENOBUFS, errno.EHOSTUNREACH,
                           errno.EINVAL, errno.ENODEV, errno.EADDRNOTAVAIL):
            raise
        time.sleep(0.001)
print(sent)
EOF
}

make_port() {
	api POST /api/v1/ports '{"name":"mq0","type":"tun","queues":2,"addresses":["198.18.50.1/24"]}'
	expect_status 201
	api POST /api/v1/ports/mq0/bindings '{"name":"cnt","match":{"ip_protocol":17,"udp_port":9},"handler":"count"}'
	expect_status 201
	api POST /api/v1/ports/mq0/bindings '{"name":"cap","match":{"ip_protocol":17,"udp_port":9},"handler":"capture","options":{"snaplen":64}}'
	expect_status 201
}

note "queues is validated and create-only"
api POST /api/v1/ports '{"name":"bad0","type":"tun","queues":9}'
expect_problem 422 queues
api POST /api/v1/ports '{"name":"bad0","type":"tun","queues":0}'
expect_problem 422 queues
make_port
api GET /api/v1/ports/mq0
expect_json .config.queues 2
expect_json '.status.queues | length' 2
expect_json '.status.flags | index("IFF_MULTI_QUEUE") != null' true
expect_eq "$(threads)" $((BASE_THREADS + 1)) "threads with a 2-queue port"
api PATCH /api/v1/ports/mq0 '{"queues":1}'
expect_problem 422 queues
api GET /api/v1/config
expect_json '.ports.mq0.queues' 2

# tx_dropped: what the kernel dropped on mq0 before paird could read it (a
# queue's ring of 500 frames full while paird had no CPU: a loaded machine).
tx_dropped() {
	ip -s -j link show dev mq0 | jq '.[0].stats64.tx.dropped'
}

note "many flows: both queues read, every datagram counted and captured"
N=3000
d0=$(tx_dropped)
sent=$(send $N 64 20)
expect_eq "$sent" "$N" "datagrams sent"
# Every datagram the kernel handed over, which is all of them unless it dropped some.
counted() {
	api GET /api/v1/ports/mq0/bindings/cnt
	[ "$(jqb .counters.packets)" -ge $((N - ($(tx_dropped) - d0))) ]
}
wait_until 10 counted || fail "the count binding saw $(jqb .counters.packets) of $N ($(($(tx_dropped) - d0)) dropped by the kernel)"
dropped=$(($(tx_dropped) - d0))
[ "$dropped" -le $((N / 2)) ] || fail "the kernel dropped $dropped of $N datagrams: paird hardly read"
[ "$dropped" -eq 0 ] || note "the kernel dropped $dropped datagrams (full queue rings: a loaded machine)"
N=$((N - dropped))
expect_json .counters.packets "$N"
api GET /api/v1/ports/mq0/bindings/cap
expect_json .counters.captured "$N"
expect_json .counters.errors 0
api GET /api/v1/ports/mq0
q0=$(jqb '.status.queues[0].rx_frames')
q1=$(jqb '.status.queues[1].rx_frames')
note "queue 0 read $q0 frames, queue 1 read $q1"
[ "$q0" -gt 0 ] && [ "$q1" -gt 0 ] || fail "the kernel did not use both queues: $q0 / $q1"
expect_json '.counters.rx_frames == (.status.queues | map(.rx_frames) | add)' true
expect_json '.counters.rx_frames >= '"$N" true
expect_json '[.status.queues[].handoff_dropped] | add' 0

# Every captured record, page by page: one per datagram, every flow there.
after=0
: >"$W/ports"
for _ in $(seq 1 20); do
	api GET "/api/v1/ports/mq0/captures?after=$after&limit=1000"
	expect_status 200
	[ "$(jqb '.records | length')" -gt 0 ] || break
	jq -r '.records[].headers.udp.src_port' "$W/body" >>"$W/ports"
	after=$(jqb .next_after)
done
expect_eq "$(wc -l <"$W/ports")" "$N" "captured records"
expect_eq "$(sort -u "$W/ports" | wc -l)" 64 "flows in the capture"

note "a long poll wakes for a frame a worker read (handed to the main loop)"
# One datagram per flow until one takes queue 1: each is awaited by a long
# poll started before it is sent, which must answer with it.
woke=
for k in $(seq 0 31); do
	api GET /api/v1/ports/mq0
	q1=$(jqb '.status.queues[1].rx_frames')
	curl -s --max-time 15 --unix-socket "$SOCK" \
		"$UBASE/api/v1/ports/mq0/captures?after=$after&wait=10" >"$W/poll" &
	POLL=$!
	sleep 0.2
	"$PY" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.50.1", 41000 + int(__import__("sys").argv[1])))
s.sendto(b"paird-mq poll", ("198.18.50.2", 9))' "$k"
	wait "$POLL" || fail "the long poll failed"
	expect_eq "$(jq '.records | length' "$W/poll")" 1 "records the long poll answered"
	after=$(jq .next_after "$W/poll")
	api GET /api/v1/ports/mq0
	if [ "$(jqb '.status.queues[1].rx_frames')" -gt "$q1" ]; then
		woke=$k
		break
	fi
done
[ -n "$woke" ] || fail "no datagram of 32 flows took queue 1"
note "flow $k took queue 1 and woke the long poll"

note "delete and make the port again while traffic flows"
send 2000000 64 6 >"$W/bg" &
SENDER=$!
for i in 1 2 3; do
	sleep 0.5
	api DELETE /api/v1/ports/mq0
	expect_status 204
	expect_eq "$(threads)" "$BASE_THREADS" "threads after delete $i"
	make_port
done
wait "$SENDER" || fail "the sender failed"
note "sent $(cat "$W/bg") datagrams meanwhile"
api GET /api/v1/ports/mq0
expect_json .status.state up
api GET /healthz
expect_status 200

note "PUT with another queue count replaces the device"
api PUT /api/v1/ports/mq0 '{"type":"tun","queues":1,"addresses":["198.18.50.1/24"]}'
expect_status 200
expect_json .config.queues 1
expect_json '.status.queues | length' 1
expect_eq "$(threads)" "$BASE_THREADS" "threads with one queue"
api PUT /api/v1/ports/mq0 '{"type":"tun","queues":2,"addresses":["198.18.50.1/24"]}'
expect_status 200
expect_eq "$(threads)" $((BASE_THREADS + 1)) "threads with two queues again"
sent=$(send 500 16 10)
counted() {
	api GET /api/v1/ports/mq0/bindings/cnt
	[ "$(jqb .counters.packets)" -ge "$sent" ]
}
wait_until 10 counted || fail "after the replace the count binding saw $(jqb .counters.packets) of $sent"

note "the interface deleted behind paird: gone, its workers joined, its counts kept"
api GET /api/v1/ports/mq0
rx=$(jqb .counters.rx_frames)
ip link del mq0
gone() {
	api GET /api/v1/ports/mq0
	[ "$(jqb .status.state)" = gone ]
}
wait_until 5 gone || fail "mq0 is $(jqb .status.state) after ip link del"
expect_eq "$(threads)" "$BASE_THREADS" "threads of a gone port"
expect_json '.counters.rx_frames >= '"$rx" true
expect_json '.status.queues | length' 1
api DELETE /api/v1/ports/mq0
expect_status 204
make_port

note "a persistent multi-queue device another program holds a queue of: attach refused, nothing shared"
ip tuntap add dev mqh0 mode tun multi_queue
# The device stays down: the carrier says a queue is held either way.
"$PY" - "$W/held" <<'EOF' &
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
# TUNSETIFF: IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, one queue held for 30 s at most.
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH22x", b"mqh0", 0x0001 | 0x1000 | 0x0100))
open(sys.argv[1], "w").close()
time.sleep(30)
EOF
HOLDER=$!
EXTRA_CLEANUP="kill $HOLDER 2>/dev/null || true"
wait_until 5 test -e "$W/held" || fail "the holder did not attach to mqh0"
for q in 2 1; do
	api POST /api/v1/ports "{\"name\":\"mqh0\",\"type\":\"tun\",\"attach\":true,\"queues\":$q}"
	expect_problem 409
	expect_json .field name
	expect_json '.detail | test("in use by another program")' true
done
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true # 143: the kill
EXTRA_CLEANUP=
note "released, the same attach succeeds"
api POST /api/v1/ports '{"name":"mqh0","type":"tun","attach":true,"queues":2}'
expect_status 201
api DELETE /api/v1/ports/mqh0
expect_status 204
ip link show dev mqh0 >/dev/null || fail "detaching removed the persistent mqh0"
ip tuntap del dev mqh0 mode tun multi_queue

note "paird stops cleanly with the workers running"
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "paird's exit status"
