#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The dashboard in a real browser: Debian's headless chromium driven by
# playwright-core (tests/browser/dashboard.mjs) against paird over TCP with
# a token. The page asks for the token; a tap is made from the form; a
# capture binding on a UDP port from the port page; datagrams sent from a
# kernel socket show in the live capture list with their decoded fields and
# the counters rise without a reload; the pcap downloaded through the page
# decodes in tshark; a bad input's error stays beside its field; a stopped
# paird shows the stale mark and a restarted one clears it; the port is
# deleted; a payload of HTML shows as text (no dialog fires); a double
# click on a form's button makes one port, one binding, one frame (the form
# sends one request at a time). Besides: the
# title names the host (GET /api/v1/info, which needs the token; /healthz
# does not carry the name); the capture list's pause, clear, filter by
# binding and its recovery after a restart; a port made with curl shows up
# in the forward form's target list without a reload; the network view
# shows a forward's live rate (not its total) while datagrams flow through
# it; drift and gone with their reasons; the edit form; the keyboard (the
# focus stays on a row's button, a node of the network view, across
# refreshes); a
# deep link in a new tab, and one with a malformed escape (no such port,
# the page still works); 60 KB frames arriving keep the page answering
# and the list within its bound; no page-wide horizontal scrolling at 420 px; the
# one-time login URL of a generated token opens a session kept in the
# origin's storage (no cookie, the id gone from the address bar, every API
# request sending it, a reload keeping it, the code refused a second time;
# when the session ends, a login URL opened in another tab lets this one
# carry on with its event stream).
# Screenshots of each page at 1280x800 and 420x800 go to build/browser/.
#
# The browser script asks this shell for what only root in the namespace
# can do (send datagrams, stop/start paird) on its stdout, one command a
# line, and waits for "ok" on its stdin: paird stays this shell's child.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ -x /usr/bin/chromium ] || fail "chromium is missing (apt-get install chromium)"
[ -d "$ROOT/tests/browser/node_modules/playwright-core" ] ||
	fail "tests/browser/node_modules is missing (make tests/browser/node_modules)"
command -v tshark >/dev/null || fail "tshark is missing"
SHOTS=${SHOTS:-$ROOT/build/browser}
mkdir -p "$SHOTS"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/token"
echo >>"$W/token"
chmod 600 "$W/token"
STATE=$W/state.json
start_paird --token-file "$W/token" --state "$STATE"
LISTEN=$PORT
HOST=$(uname -n)

# The host name for the title: on an authenticated route only.
api GET /api/v1/info
expect_status 200
expect_json .hostname "$HOST"
API_VIA=tcp api GET /api/v1/info
expect_problem 401
CURL_EXTRA=(-H "Authorization: Bearer $TOKEN")
API_VIA=tcp api GET /api/v1/info
expect_status 200
expect_json .hostname "$HOST"
CURL_EXTRA=()
api GET /healthz
expect_json 'has("hostname")' false

send() { # send DST_PORT PAYLOAD COUNT
	/usr/bin/python3 - "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.40.1", 40000))
for _ in range(int(sys.argv[3])):
    s.sendto(sys.argv[2].encode(), ("198.18.40.2", int(sys.argv[1])))
PY
}

# big DST_PORT SIZE COUNT: datagrams of SIZE bytes, 40 a second; each
# payload starts with its number (00000, 00001, ...).
big() {
	/usr/bin/python3 - "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.40.1", 40002))
size, count = int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    s.sendto(b"%05d" % i + b"<b>" * ((size - 5) // 3), ("198.18.40.2", int(sys.argv[1])))
    time.sleep(0.025)
PY
}

# flow DST_PORT COUNT: datagrams through br0, one per 40 ms, in the background.
flow() {
	/usr/bin/python3 - "$@" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.40.1", 40001))
for _ in range(int(sys.argv[2])):
    s.sendto(b"through the wire", ("198.18.40.2", int(sys.argv[1])))
    time.sleep(0.04)
PY
	FLOW_PID=$!
}
FLOW_PID=

coproc BROWSER { BASE=$BASE TOKEN=$TOKEN SHOTS=$SHOTS DL=$W PAIRD_HOST=$HOST \
	timeout 240 node "$ROOT/tests/browser/dashboard.mjs"; }
BPID=$BROWSER_PID
set -f # commands carry payloads such as <img src=x onerror=alert(1)>
EXTRA_CLEANUP='kill $BPID ${FLOW_PID:-} 2>/dev/null || true'
while IFS= read -r line <&"${BROWSER[0]}"; do
	set -- $line
	case "$1" in
	NEIGH)
		wait_until 10 ip link show dev "$2" >/dev/null 2>&1 || fail "no link $2"
		ip neigh replace 198.18.40.2 lladdr 02:00:00:00:40:02 dev "$2" || fail "neigh on $2"
		;;
	MKPORT) # a port made behind the page's back, with curl
		api POST /api/v1/ports "{\"name\":\"$2\",\"type\":\"tap\",\"mtu\":1500,\"up\":true}"
		expect_status 201
		;;
	SETMTU) # a change behind the page's back
		api PATCH "/api/v1/ports/$2" "{\"mtu\":$3}"
		expect_status 200
		;;
	FLOW) flow "$2" "$3" ;;
	FLOWWAIT) wait "$FLOW_PID" || fail "the datagram flow failed" ;;
	LINK) ip link "${@:2}" || fail "ip link ${*:2}" ;;
	SEND) send "$2" "${*:4}" "$3" || fail "sending datagrams" ;;
	BIG) big "$2" "$3" "$4" || fail "sending big datagrams" ;;
	STOP) stop_paird ;;
	START) start_paird --token-file "$W/token" --state "$STATE" --listen "127.0.0.1:$LISTEN" ;;
	GENTOKEN) # paird with a generated token: the login URL it logs, for the page
		stop_paird
		start_paird --state "$STATE" --listen "127.0.0.1:$LISTEN"
		wait_until 5 grep -q 'dashboard login URL' "$PAIRD_LOG" || true
		sed -n 's|.*dashboard login URL (works once, for 15 minutes): \(http://[^ ]*\)$|\1|p' "$PAIRD_LOG" >"$W/login-url"
		[ -s "$W/login-url" ] || fail "no login URL in the log: $(cat "$PAIRD_LOG")"
		;;
	TSHARK)
		tshark -r "$2" -T fields -e udp.dstport -e udp.payload 2>&1 >"$W/tshark.out" ||
			fail "tshark could not read the downloaded pcap: $(cat "$W/tshark.out")"
		;;
	PASS) break ;;
	*) note "browser: $line"; continue ;;
	esac
	echo ok >&"${BROWSER[1]}"
done
wait "$BPID" || fail "the browser test failed (exit $?)"
[ "${1:-}" = PASS ] || fail "the browser test stopped before it passed"
note "pass (screenshots in $SHOTS)"
