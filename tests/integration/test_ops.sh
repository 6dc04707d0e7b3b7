#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# paird as an operator runs it (issue 10, "ops"): unknown and repeated query
# parameters refused on every kind of route over real HTTP, a validation
# problem listing every invalid field, the request log (--log-format json
# and text: client, method, route, path, status, duration), sd_notify
# READY=1 only once the state file's ports are back and STOPPING=1 on stop,
# paird working as the systemd unit runs it (an unprivileged user with
# CAP_NET_ADMIN alone, no new privileges), and the packaging: `make
# install` with DESTDIR, `systemd-analyze verify` of the installed unit,
# its `systemd-analyze security` score (printed), and a man page listing
# every flag of `paird --help`.
#
# Topology: one private network namespace with lo and the ports paird makes
# (otap0, otap1, otun0: 198.18.7.0/24, 2001:db8:7::/64).
NETNS_MOUNT=1
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v python3 >/dev/null || fail "python3 is missing (make test-deps)"

# notify_listener FILE: a datagram socket at $W/notify like systemd's; each
# datagram goes to FILE as one line, and on READY=1 the links of the
# namespace are written after it (what existed when paird said ready).
notify_listener() {
	rm -f "$W/notify"
	python3 - "$W/notify" "$1" <<'EOF' &
import socket, subprocess, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as out:
    while True:
        d = s.recv(4096).decode()
        out.write(d.replace("\n", "|") + "\n")
        if "READY=1" in d:
            links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
            out.write("LINKS " + " ".join(l.split()[0] for l in links.splitlines()) + "\n")
        out.flush()
        if "STOPPING=1" in d:
            break
EOF
	NOTIFY_PID=$!
	wait_until 5 test -S "$W/notify" || fail "the notify listener did not start"
}
EXTRA_CLEANUP='[ -n "${NOTIFY_PID:-}" ] && kill "$NOTIFY_PID" 2>/dev/null; true'

note "sd_notify: READY=1 after the state file's ports are back, STOPPING=1 on stop"
start_paird --state "$W/state.json"
api POST /api/v1/ports '{"name":"otap0","type":"tap","addresses":["198.18.7.1/24"]}'
expect_status 201
stop_paird
ip link show otap0 >/dev/null 2>&1 && fail "otap0 outlived paird"
notify_listener "$W/notified"
NOTIFY_SOCKET=$W/notify start_paird --state "$W/state.json" --log-format json --log-level debug
wait_until 5 grep -q '^READY=1' "$W/notified" || fail "no READY=1: $(cat "$W/notified")"
grep -q '^LINKS .*otap0' "$W/notified" ||
	fail "READY=1 came before the state file's port otap0 was back: $(cat "$W/notified")"
grep -c '^READY=1' "$W/notified" | grep -qx 1 || fail "READY=1 sent more than once"

note "unknown query parameters: 400 naming each, nothing done"
snapshot before
api POST '/api/v1/ports?dry_run=true' '{"name":"otap1","type":"tap"}'
expect_problem 400 query.dry_run
expect_json .type urn:paird:problem:unknown-query-parameter
expect_unchanged
ip link show otap1 >/dev/null 2>&1 && fail "?dry_run=true created otap1"
api GET '/api/v1/ports?foo=1&bar&%62az=3'
expect_problem 400 query.foo
expect_json '[.errors[].field] | join(",")' query.foo,query.bar,query.baz
for path in /api/v1/ports/otap0 /api/v1/ports/otap0/bindings /api/v1/ports/otap0/captures \
	/api/v1/ports/otap0/captures.pcap /api/v1/captures.pcapng /api/v1/events /metrics \
	/healthz /login / /index.html /openapi.yaml; do
	api GET "$path?colour=red"
	expect_problem 400 query.colour
	expect_json '.errors | length' 1
done
snapshot before
api PATCH '/api/v1/ports/otap0?force=1' '{"mtu":1400}' application/merge-patch+json
expect_problem 400 query.force
api DELETE '/api/v1/ports/otap0?force=1'
expect_problem 400 query.force
expect_unchanged
note "repeated parameters: 400; a route's own parameters still work"
api GET '/api/v1/ports/otap0/captures?after=0&after=1'
expect_problem 400 query.after
expect_json .type urn:paird:problem:repeated-query-parameter
api GET '/api/v1/ports/otap0/captures?after=0&limit=5'
expect_status 200
api_binary GET '/api/v1/ports/otap0/captures.pcap?after=0'
expect_status 200
api GET '/api/v1/ports/otap0/captures?limit=0'
expect_problem 400 limit

note "a validation problem lists every invalid field"
snapshot before
api POST /api/v1/ports '{"name":"a b","type":"tuntap","mtu":5,"addresses":["x","198.18.7.9/24",1]}'
expect_problem 422 name
expect_json '[.errors[].field] | join(",")' 'name,type,mtu,addresses[0],addresses[2]'
jq -e '.errors | all(.detail | length > 0)' "$W/body" >/dev/null || fail "an error without detail"
expect_json '.detail == .errors[0].detail' true
api POST /api/v1/ports/otap0/bindings '{"match":{"ethertype":"ip"},"handler":"capture","colour":1}'
expect_problem 422
expect_json '[.errors[].field] | sort | join(",")' colour,match.ethertype
expect_unchanged

note "the request log (json): one object per line, every request with its fields"
api GET /api/v1/ports/otap0
expect_status 200
curl -s -o /dev/null --unix-socket "$SOCK" "$UBASE/api/v1/ports/%0a%22x%ff"
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -X POST -H 'Content-Type: application/json' \
	--data '{"name":"otap1","type":"tap"}' "$BASE/api/v1/ports"
curl -s -o /dev/null "$BASE/api/v1/ports"
wait_until 5 grep -q '"status":401' "$PAIRD_LOG" || fail "the 401 was not logged"
jq -e . "$PAIRD_LOG" >/dev/null || fail "a log line is not JSON: $(cat "$PAIRD_LOG")"
jq -e -s 'all(has("ts") and has("level") and has("msg"))' "$PAIRD_LOG" >/dev/null ||
	fail "a log line lacks ts, level or msg"
reqs() { jq -c "select(.route != null) | $1" "$PAIRD_LOG"; }
[ "$(reqs 'select(.method == "GET" and .path == "/api/v1/ports/otap0" and .status == 200
	and .client == "unix" and .route == "/api/v1/ports/{}" and .level == "debug"
	and (.duration_ms | type) == "number")' | wc -l)" -ge 1 ] ||
	fail "no debug line for GET /api/v1/ports/otap0: $(cat "$PAIRD_LOG")"
[ "$(reqs 'select(.method == "POST" and .path == "/api/v1/ports" and .status == 201
	and .client == "127.0.0.1" and .level == "info")' | wc -l)" = 1 ] ||
	fail "no info line for the TCP POST: $(cat "$PAIRD_LOG")"
[ "$(reqs 'select(.status == 401 and .client == "127.0.0.1" and .route == "/api/v1/ports")' |
	wc -l)" = 1 ] || fail "the refused (401) request is not logged once"
[ "$(reqs 'select(.path == "/api/v1/ports/\\x0a\"x\\xff" and .status == 404)' | wc -l)" = 1 ] ||
	fail "the path with a newline is not logged escaped: $(grep 404 "$PAIRD_LOG")"
[ "$(reqs 'select(.status == 400 and .route == "/{asset}" and .path == "/index.html")' |
	wc -l)" = 1 ] || fail "the asset's 400 is not logged under /{asset}"
# Every request made so far is in the log: those of api (counted) and the three above.
[ "$(reqs 'select(.method == "PATCH" and .status == 400)' | wc -l)" = 1 ] ||
	fail "the refused PATCH is not logged"

stop_paird
expect_eq "$PAIRD_RC" 0 "paird's exit status"
wait_until 5 grep -q '^STOPPING=1' "$W/notified" || fail "no STOPPING=1: $(cat "$W/notified")"
wait "$NOTIFY_PID" 2>/dev/null || true
NOTIFY_PID=

note "the request log (text): key=value after the message; reads at info are not logged"
start_paird --log-format text
api GET /api/v1/ports
api POST /api/v1/ports/nosuch/bindings '{}'
expect_status 404
grep -q ' info  POST /api/v1/ports/nosuch/bindings -> 404 client=unix method=POST route=/api/v1/ports/{}/bindings path=/api/v1/ports/nosuch/bindings status=404 duration_ms=[0-9.]*$' \
	"$PAIRD_LOG" || fail "no text line for the POST: $(cat "$PAIRD_LOG")"
grep -q 'GET /api/v1/ports -> 200' "$PAIRD_LOG" && fail "a successful GET logged at info"
stop_paird
"$PAIRD" --log-format yaml 2>"$W/bad.log" && fail "--log-format yaml accepted"
grep -q 'cannot start: --log-format takes text or json' "$W/bad.log" ||
	fail "no start error for --log-format yaml: $(cat "$W/bad.log")"

note "as the unit runs it: non-root, CAP_NET_ADMIN only, no new privileges"
U=nobody
uid=$(id -u $U)
tun_usable_by "$uid"
mkdir -m 755 "$W/bin" "$W/svc"
install -m 755 "$PAIRD" "$W/bin/paird"
chown $U "$W/svc"
notify_listener "$W/notified2"
chmod 777 "$W/notify"
NOTIFY_SOCKET=$W/notify setpriv --reuid="$uid" --regid="$uid" --clear-groups \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
	--no-new-privs -- "$W/bin/paird" --socket "$W/svc/paird.sock" --listen none \
	--state "$W/svc/state.json" 2>"$W/svc.log" &
PAIRD_PID=$!
PAIRD_LOG=$W/svc.log
wait_until 5 grep -q '^READY=1' "$W/notified2" || fail "no READY=1 from the unprivileged paird"
grep -q 'CapEff:.0000000000001000' "/proc/$PAIRD_PID/status" ||
	fail "paird has other capabilities than CAP_NET_ADMIN: $(grep Cap "/proc/$PAIRD_PID/status")"
SOCK=$W/svc/paird.sock
api POST /api/v1/ports '{"name":"otun0","type":"tun","mtu":1400,"addresses":["198.18.7.33/28","2001:db8:7::1/64"]}'
expect_status 201
ip -br addr show otun0 | grep -q '198.18.7.33/28' || fail "otun0 has no IPv4 address"
ip -br addr show otun0 | grep -q '2001:db8:7::1/64' || fail "otun0 has no IPv6 address"
ip link show otun0 | grep -q 'mtu 1400' || fail "otun0's MTU was not set"
stop_paird
wait_until 5 grep -q '^STOPPING=1' "$W/notified2" || fail "no STOPPING=1 from the unprivileged paird"
NOTIFY_PID=

note "make install: binary, unit and man page under PREFIX, DESTDIR honoured"
BUILD_DIR=$(dirname "$PAIRD")
make -s -C "$ROOT" BUILD="$BUILD_DIR" install DESTDIR="$W/dest" >"$W/install.log" 2>&1 ||
	fail "make install failed: $(cat "$W/install.log")"
(cd "$W/dest" && find . -type f | sort) >"$W/installed"
for f in ./usr/local/sbin/paird ./usr/local/lib/systemd/system/paird.service \
	./usr/local/share/man/man8/paird.8; do
	grep -qx "$f" "$W/installed" || fail "make install did not install $f: $(cat "$W/installed")"
done
make -s -C "$ROOT" BUILD="$BUILD_DIR" install-list | tr ' ' '\n' | sed '/^$/d; s|^|.|' | sort \
	>"$W/listed"
diff -u "$W/listed" "$W/installed" >&2 || fail "make install installed other files than it lists"
grep -qx 'ExecStart=/usr/local/sbin/paird .*' "$W/dest/usr/local/lib/systemd/system/paird.service" ||
	fail "the installed unit does not run /usr/local/sbin/paird"
[ "$(stat -c %a "$W/dest/usr/local/sbin/paird")" = 755 ] || fail "paird is not mode 755"
make -s -C "$ROOT" BUILD="$BUILD_DIR" uninstall DESTDIR="$W/dest" >/dev/null
[ -z "$(cd "$W/dest" && find . -type f)" ] || fail "make uninstall left files behind"

note "the unit: systemd-analyze verify and security"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (make test-deps: systemd)"
make -s -C "$ROOT" BUILD="$BUILD_DIR" install PREFIX="$W/prefix" >"$W/install.log" 2>&1 ||
	fail "make install PREFIX=... failed: $(cat "$W/install.log")"
UNIT=$W/prefix/lib/systemd/system/paird.service
for key in Type=notify DynamicUser=yes AmbientCapabilities=CAP_NET_ADMIN \
	CapabilityBoundingSet=CAP_NET_ADMIN RuntimeDirectory=paird StateDirectory=paird \
	NoNewPrivileges=yes ProtectSystem=strict 'DeviceAllow=/dev/net/tun rw' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK'; do
	grep -qx "$key" "$UNIT" || fail "the unit lacks $key"
done
# The unit's own flags are paird's: it starts with them (here as root, briefly).
args=$(sed -n 's|^ExecStart=[^ ]* ||p' "$UNIT" | sed "s|/run/paird|$W/unitrun|g; s|/var/lib/paird|$W|g; s|127.0.0.1:8080|127.0.0.1:0|")
# shellcheck disable=SC2086 # the unit's words
start_paird $args --token-out "$W/unitrun/token"
stop_paird
MANPATH=$W/prefix/share/man systemd-analyze verify "$UNIT" >"$W/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$W/verify.log")"
systemd-analyze security --offline=true "$UNIT" >"$W/security.log" 2>&1 ||
	fail "systemd-analyze security failed: $(tail -n 5 "$W/security.log")"
score=$(sed -n 's/.*Overall exposure level for paird.service: \([0-9.]*\).*/\1/p' "$W/security.log")
[ -n "$score" ] || fail "no exposure level: $(tail -n 3 "$W/security.log")"
note "systemd-analyze security: overall exposure level $score (0 best, 10 worst)"
echo "$score" | awk '{ exit !($1 <= 3.0) }' || fail "exposure level $score is above 3.0"

note "the man page lists every flag of paird --help"
"$PAIRD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$W/flags"
[ -s "$W/flags" ] || fail "paird --help lists no flags"
while read -r flag; do
	grep -q -- "$(echo "$flag" | sed 's/-/\\\\-/g')" "$ROOT/dist/paird.8" ||
		fail "paird.8 does not document $flag"
done <"$W/flags"
MANWIDTH=80 man --warnings -l "$ROOT/dist/paird.8" >"$W/man.txt" 2>"$W/man.err" ||
	fail "man cannot render paird.8: $(cat "$W/man.err")"
[ ! -s "$W/man.err" ] || fail "man warns about paird.8: $(cat "$W/man.err")"
grep -q 'log-format' "$W/man.txt" || fail "the rendered man page lacks --log-format"
note "ok"
