#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Out of file descriptors: paird with RLIMIT_NOFILE 40 and a client holding
# 60 idle TCP connections (all it can get). While the descriptors are gone,
# a client of the Unix socket waits in its backlog: paird neither spins the
# CPU retrying the accept nor floods the log with a line per try; once the
# connections close, both listeners accept again (the TCP one stayed deaf
# for good: MHD had put its listening socket aside and nothing woke it).
# Then ports are made until the descriptors run out: each refusal names
# EMFILE, and the API, the state file and the kernel agree on what exists.
# Last, with its address space limited, paird answers the bodies it has no
# memory for with 503 instead of closing their connections unanswered.
#
# Topology: one private network namespace with lo and the taps ex0..ex8.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

STATE=$W/state.json
start_paird --no-auth --max-connections 200 --state "$STATE"
prlimit --pid "$PAIRD_PID" --nofile=40:40

# cpu_ticks: paird's user and system time so far, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$PAIRD_PID/stat"
}

note "a client takes every descriptor paird has left"
# It holds them until told (holder.release), at most 30 s: a fixed sleep let
# them go while the checks below still ran, before paird was stopped.
python3 - "$PORT" "$W/holder.ready" "$W/holder.release" <<'PY' &
import os, socket, sys, time
held = []
for _ in range(60):
    s = socket.socket()
    s.connect(("127.0.0.1", int(sys.argv[1])))
    held.append(s)
open(sys.argv[2], "w").close()
for _ in range(300):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.1)
PY
HOLDER=$!
EXTRA_CLEANUP='kill $HOLDER 2>/dev/null || true'
wait_until 10 test -e "$W/holder.ready" || fail "the holder did not connect"
wait_until 5 grep -q "out of file descriptors\\|Too many open files" "$PAIRD_LOG" ||
	fail "paird did not say it ran out of descriptors: $(tail -n 5 "$PAIRD_LOG")"

note "a Unix socket client waits in the backlog: no busy loop, no log flood"
curl -s -o /dev/null --max-time 1 --unix-socket "$SOCK" "$UBASE/healthz" || true
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
[ $((t1 - t0)) -lt 40 ] ||
	fail "paird spent $((t1 - t0)) ticks of CPU in 2 s while out of descriptors"
lines=$(wc -l <"$PAIRD_LOG")
[ "$lines" -lt 50 ] || fail "$lines log lines while out of descriptors: $(sed -n 10,14p "$PAIRD_LOG")"

note "once the connections close, both listeners accept again"
# Stopped meanwhile, paird sees every close in one run, as a busy paird would.
kill -STOP "$PAIRD_PID"
kill -0 "$HOLDER" 2>/dev/null || fail "the holder let its connections go before paird was stopped"
touch "$W/holder.release"
wait "$HOLDER"
kill -CONT "$PAIRD_PID"
EXTRA_CLEANUP=
ok_now() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" "${@:2}")" = 200 ]
}
wait_until 5 ok_now "$BASE/healthz" || fail "the TCP listener stays deaf after the descriptors came back"
wait_until 5 ok_now --unix-socket "$SOCK" "$UBASE/healthz" ||
	fail "the Unix socket stays deaf after the descriptors came back"
api POST /api/v1/ports '{"name":"ex0","type":"tap"}'
expect_status 201

note "ports until the descriptors run out: each refusal says EMFILE, nothing is left behind"
prlimit --pid "$PAIRD_PID" --nofile=$(($(ls "/proc/$PAIRD_PID/fd" | wc -l) + 5))
refused=0
for i in 1 2 3 4 5 6 7 8; do
	api POST /api/v1/ports "{\"name\":\"ex$i\",\"type\":\"tap\",\"addresses\":[\"198.18.$i.1/24\"]}"
	[ "$STATUS" = 201 ] && continue
	refused=$((refused + 1))
	# if_nametoindex() opened a socket of its own, and failed with ENOENT for a device just made.
	expect_json .errno_name EMFILE
done
[ "$refused" -gt 0 ] || fail "no creation was refused for want of descriptors"
api GET /api/v1/ports
names=$(jqb '[.ports[].name] | join(" ")')
expect_eq "$(jq -r '[.ports[].name] | join(" ")' "$STATE")" "$names" "the state file's ports"
expect_eq "$(ip -br link | awk '$1 ~ /^ex/ { print $1 }' | tr '\n' ' ' | sed 's/ $//')" "$names" \
	"the devices in the kernel"
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "exit status"

note "out of memory for request bodies: 503 problems, not connections closed unanswered"
start_paird --no-auth
vm=$(awk '/^VmSize/ { print $2 }' "/proc/$PAIRD_PID/status")
prlimit --pid "$PAIRD_PID" --as=$(((vm + 40000) * 1024))
# A 16 MB document (the limit), mostly blanks; six at once need more than 40 MB.
# Each client sends all of its body but the last byte, and only once all six
# have, the last bytes: the six bodies are in paird at once however slowly
# the machine runs (six curls started together could be served one by one).
python3 - "$SOCK" "$W" <<'PY'
import socket, sys
body = b'{"ports": {}' + b" " * 16000000 + b"}"
head = (b"PUT /api/v1/config HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
conns = []
for i in range(6):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sys.argv[1])
    s.sendall(head + body[:-1])
    conns.append(s)
for i, s in enumerate(conns, 1):
    try:
        s.sendall(body[-1:])
    except OSError:
        pass  # answered (and closed) before the last byte: the answer is read below
    data = b""
    try:
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + int(
                [l for l in data.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1]):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, IndexError, ValueError):
        pass
    code = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "none"
    open("%s/code.%d" % (sys.argv[2], i), "w").write(code)
    open("%s/big.%d" % (sys.argv[2], i), "wb").write(data.split(b"\r\n\r\n", 1)[-1] if data else b"")
PY
n503=0
for i in 1 2 3 4 5 6; do
	code=$(cat "$W/code.$i")
	case $code in
	200) ;;
	503)
		n503=$((n503 + 1))
		jq -e '.type == "urn:paird:problem:unavailable"' "$W/big.$i" >/dev/null ||
			fail "503 without its problem: $(head -c 300 "$W/big.$i")"
		;;
	*) fail "a body paird had no memory for was answered '$code' (none: closed unanswered)" ;;
	esac
done
[ "$n503" -gt 0 ] || fail "six 16 MB bodies within 40 MB: none refused for memory"
api GET /healthz
expect_status 200
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "exit status"
