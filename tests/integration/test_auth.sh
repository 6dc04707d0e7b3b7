#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No local user borrows paird's root (DESIGN.md, "Security"). With paird's
# defaults (control socket /run/paird/paird.sock, TCP 127.0.0.1:8080 with a
# generated token in /run/paird/token), the user nobody is refused every
# route that changes something or reads captured traffic, over both
# endpoints, and nothing changes; root succeeds; a member of --socket-group
# succeeds over the socket; the generated token is unreadable to nobody; the
# one-time login URL opens one dashboard session (its id a bearer secret,
# never a cookie); --no-auth warns; SIGHUP
# never stops paird and re-reads --token-file.
#
# Topology: one private network namespace (lo, and au0, a tap paird creates,
# 198.18.0.1/24) and a private mount namespace with a fresh tmpfs on /run,
# so paird's default paths are its own.
NETNS_MOUNT=1
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
mount -t tmpfs -o mode=755 tmpfs /run

U=nobody
G=$(id -gn $U)
# as_user [setpriv options] -- COMMAND...: runs COMMAND as nobody.
as_user() {
	local opts=(--clear-groups)
	if [ "$1" != -- ]; then
		opts=("$1")
		shift
	fi
	shift
	setpriv --reuid=$U --regid="$G" "${opts[@]}" -- "$@"
}

PAIRD_DEFAULTS=1 start_paird
expect_eq "$PORT" 8080 "the default TCP port"
expect_eq "$SOCK" /run/paird/paird.sock "the default socket"
expect_eq "$(stat -c '%F %a %U %G' "$SOCK")" "socket 660 root root" "the socket's type, mode, owner"
expect_eq "$(stat -c '%a %U' /run/paird/token)" "600 root" "the generated token file's mode"
[ "${#TOKEN}" -ge 32 ] || fail "the generated token is short: ${#TOKEN} characters"
! grep -q "$TOKEN" "$PAIRD_LOG" || fail "the generated token appears in the log"

note "root sets up a port with a capture that holds a frame (over the socket)"
api POST /api/v1/ports '{"name":"au0","type":"tap","addresses":["198.18.0.1/24"]}'
expect_status 201
api POST /api/v1/ports/au0/bindings '{"handler":"capture"}'
expect_status 201
ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1 || true # an ARP request goes out through au0
wait_until 3 sh -c "curl -s --unix-socket $SOCK $UBASE/api/v1/ports/au0/captures |
	jq -e '.records | length > 0' >/dev/null" || fail "nothing was captured on au0"
api GET /api/v1/ports/au0
tx_before=$(jqb .counters.tx_frames)

# Every route that changes something or reads what paird saw (api/api.c's
# table): method | path | body | content type.
ROUTES=$(
	cat <<'EOF'
POST|/api/v1/ports|{"name":"evil0","type":"tap"}|application/json
PUT|/api/v1/ports/evil1|{"type":"tap"}|application/json
PUT|/api/v1/ports/au0|{"type":"tap","mtu":1300}|application/json
PATCH|/api/v1/ports/au0|{"mtu":1300}|application/merge-patch+json
DELETE|/api/v1/ports/au0||
POST|/api/v1/ports/au0/bindings|{"handler":"count"}|application/json
DELETE|/api/v1/ports/au0/bindings/1||
DELETE|/api/v1/ports/au0/captures||
POST|/api/v1/ports/au0/transmit|{"udp":{"src":"198.18.0.2","dst":"198.18.0.1","src_port":7,"dst_port":9,"payload":"x"}}|application/json
GET|/api/v1/ports/au0/captures||
GET|/api/v1/ports/au0/captures.pcap||
GET|/metrics||
GET|/api/v1/ports||
GET|/api/v1/ports/au0||
GET|/api/v1/ports/au0/bindings||
GET|/api/v1/ports/au0/bindings/1||
EOF
)
# user_call VIA METHOD PATH BODY TYPE [CURL-ARGS...]: curl as nobody; prints "curl-exit http-code".
user_call() {
	local via=$1 m=$2 path=$3 body=$4 type=$5 rc=0 code
	shift 5
	local args=(-s -o "$W/ubody" -w '%{http_code}' -X "$m" --max-time 5 "$@")
	[ -n "$body" ] && args+=(-H "Content-Type: $type" --data-binary "$body")
	if [ "$via" = unix ]; then
		args+=(--unix-socket "$SOCK" "$UBASE$path")
	else
		args+=("$BASE$path")
	fi
	: >"$W/ubody"
	chmod 666 "$W/ubody"
	code=$(as_user -- curl "${args[@]}") || rc=$?
	echo "$rc $code"
}

note "as $U, every mutating and capture-reading route is refused on both endpoints"
snapshot before
while IFS='|' read -r m path body type; do
	[ -n "$m" ] || continue
	out=$(user_call unix "$m" "$path" "$body" "$type")
	# curl exit 7: the socket's permissions refused the connection.
	expect_eq "$out" "7 000" "$U: $m $path over the Unix socket"
	out=$(user_call tcp "$m" "$path" "$body" "$type")
	expect_eq "$out" "0 401" "$U: $m $path over TCP without a token"
	jq -e '.type == "urn:paird:problem:unauthorized"' "$W/ubody" >/dev/null ||
		fail "$U: $m $path over TCP: not an unauthorized problem: $(cat "$W/ubody")"
	! grep -q '"records"\|PAIRD\|paird_port' "$W/ubody" || fail "$m $path leaked data to $U"
	out=$(user_call tcp "$m" "$path" "$body" "$type" -H "Authorization: Bearer ${TOKEN%?}x")
	expect_eq "$out" "0 401" "$U: $m $path over TCP with a wrong token"
	out=$(user_call tcp "$m" "$path" "$body" "$type" -H "Cookie: paird_session=${TOKEN}")
	expect_eq "$out" "0 401" "$U: $m $path over TCP with the token as a cookie"
done <<<"$ROUTES"
M="$U's requests" P="(all)" expect_unchanged
api GET /api/v1/ports/au0
expect_eq "$(jqb .counters.tx_frames)" "$tx_before" "tx_frames after $U's transmits"
api GET /api/v1/ports/au0/captures
jq -e '.records | length > 0' "$W/body" >/dev/null || fail "$U cleared au0's captures"
api GET /api/v1/ports/au0/bindings
expect_json '.bindings | length' 1
as_user -- cat /run/paird/token >/dev/null 2>&1 && fail "$U can read the generated token"

note "root succeeds over TCP with the token"
API_VIA=tcp
CURL_EXTRA=(-H "Authorization: Bearer $TOKEN")
api GET /api/v1/ports/au0/captures
expect_status 200
api_binary GET /api/v1/ports/au0/captures.pcap
expect_status 200
api GET /metrics
expect_status 200
api PATCH /api/v1/ports/au0 '{"mtu":1300}' application/merge-patch+json
expect_status 200
CURL_EXTRA=()

note "the one-time login URL opens a session once; its id, a bearer secret, then grants TCP access"
url=$(sed -n 's|.*dashboard login URL (works once, for 15 minutes): \(http://[^ ]*\)$|\1|p' "$PAIRD_LOG")
case "$url" in "$BASE/login?code="*) ;; *) fail "no login URL in the log: $(cat "$PAIRD_LOG")" ;; esac
code=${url#*code=}
# A wrong code: the real one with its last digit changed (never equal to it).
case "$code" in *0) wrong=${code%?}1 ;; *) wrong=${code%?}0 ;; esac
api GET "/login?code=$wrong"
expect_problem 403
api HEAD "/login?code=$code" # a preview does not use the code up
expect_status 303
expect_eq "$(header Location)" / "Location of a HEAD (no session)"
api GET "/login?code=$code"
expect_status 303
# The id goes in the fragment, which the browser keeps to itself; no cookie,
# which a browser would also send to every other server on 127.0.0.1.
loc=$(header Location)
case "$loc" in "/#session="*) ;; *) fail "Location after login: $loc" ;; esac
sid=${loc#/#session=}
[[ "$sid" =~ ^[0-9a-f]{64}$ ]] || fail "not a session id: $sid"
expect_eq "$(header Set-Cookie)" "" "Set-Cookie after login"
! grep -q "$sid" "$PAIRD_LOG" || fail "the session id is in the log"
api GET "/login?code=$code"
expect_problem 403
expect_eq "$(header Location)" "" "Location on a used code"
out=$(user_call tcp GET /api/v1/ports "" "" -H "Cookie: paird_session=$sid")
expect_eq "$out" "0 401" "the session id as a cookie"
out=$(user_call tcp GET /api/v1/ports "" "" -H "Authorization: Bearer ${sid%?}x")
expect_eq "$out" "0 401" "a forged session id"
CURL_EXTRA=(-H "Authorization: Bearer $sid")
api GET /api/v1/ports
expect_status 200
api POST /api/v1/ports '{"name":"web0","type":"tun"}' application/json -- -H "Origin: $BASE" \
	-H "Sec-Fetch-Site: same-origin"
expect_status 201
note "a session-authenticated request still passes the cross-site and Host checks"
api POST /api/v1/ports '{"name":"web1","type":"tun"}' application/json -- -H "Origin: http://evil.example" \
	-H "Sec-Fetch-Site: cross-site"
expect_problem 403
api GET /api/v1/ports -- -H "Host: evil.example:8080"
expect_problem 403
ip link show dev web1 >/dev/null 2>&1 && fail "a cross-site request with the session created web1"
out=$(user_call tcp GET /api/v1/ports "" "" -H "Authorization: Bearer $sid")
expect_eq "$out" "0 200" "the session id, whoever sends it (it is the browser's secret)"
CURL_EXTRA=()
API_VIA=unix

note "pairctl login gives a fresh URL on the socket; it replaces the logged code and opens one session"
api POST /api/v1/login-codes
expect_status 200
expect_json .expires_in 900
code2=$(jq -r .code "$W/body")
expect_eq "$(jq -r .url "$W/body")" "$BASE/login?code=$code2" "the login-codes URL"
! grep -q "$code2" "$PAIRD_LOG" || fail "a login code given on the socket is in the log"
need_pairctl
pc login
expect_rc 0
url3=$(cat "$W/out")
case "$url3" in "$BASE/login?code="*) ;; *) fail "pairctl login printed: $url3" ;; esac
API_VIA=tcp
api GET "/login?code=$code2"
expect_problem 403 # replaced by pairctl's
api GET "${url3#"$BASE"}"
expect_status 303
note "over TCP the route is refused, whatever the credentials: a session must not renew itself"
CURL_EXTRA=(-H "Authorization: Bearer $TOKEN")
api POST /api/v1/login-codes
expect_problem 403
expect_json .type urn:paird:problem:unix-socket-only
CURL_EXTRA=()
api POST /api/v1/login-codes
expect_problem 401
API_VIA=unix

note "SIGHUP with a generated token logs a new login URL and never stops paird"
stop_paird_hup() {
	kill -HUP "$PAIRD_PID"
	wait_until 3 grep -q "SIGHUP received" "$PAIRD_LOG" || fail "SIGHUP was not logged"
	kill -0 "$PAIRD_PID" 2>/dev/null || fail "SIGHUP stopped paird"
}
stop_paird_hup
api GET /api/v1/ports/au0
expect_status 200
ip link show dev au0 >/dev/null || fail "au0 is gone after SIGHUP"
url2=$(sed -n 's|.*SIGHUP received: dashboard login URL (works once, for 15 minutes): \(http://[^ ]*\)$|\1|p' \
	"$PAIRD_LOG")
[ -n "$url2" ] && [ "$url2" != "$url" ] || fail "no new login URL after SIGHUP"
stop_paird
expect_eq "$PAIRD_RC" 0 "exit status"
[ ! -e /run/paird/paird.sock ] || fail "the socket outlived paird"
[ ! -e /run/paird/token ] || fail "the generated token outlived paird"

note "a member of --socket-group may use the socket; others still may not"
PAIRD_DEFAULTS=1 start_paird --socket-group 4242
expect_eq "$(stat -c '%a %g' "$SOCK")" "660 4242" "the socket's mode and group"
out=$(user_call unix POST /api/v1/ports '{"name":"grp0","type":"tap"}' application/json)
expect_eq "$out" "7 000" "$U outside the group"
out=$(as_user --groups=4242 -- curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
	-X POST -H 'Content-Type: application/json' -d '{"name":"grp0","type":"tap"}' \
	"$UBASE/api/v1/ports")
expect_eq "$out" 201 "$U in group 4242: POST over the socket"
ip link show dev grp0 >/dev/null || fail "grp0 was not created"
as_user --groups=4242 -- cat /run/paird/token >/dev/null 2>&1 &&
	fail "the socket group can read the token file"
stop_paird

note "--no-auth turns TCP auth off on loopback, with a warning"
start_paird --no-auth
grep -q "warn  WARNING: --no-auth" "$PAIRD_LOG" || fail "no --no-auth warning: $(cat "$PAIRD_LOG")"
[ ! -e "$W/run/token" ] || fail "--no-auth wrote a token"
API_VIA=tcp
api GET /api/v1/ports
expect_status 200
API_VIA=unix
stop_paird

note "SIGHUP re-reads --token-file: the new token works, the old one not; a bad file is kept out"
printf 'first-token-0123456789\n' >"$W/tok"
chmod 600 "$W/tok"
start_paird --token-file "$W/tok"
tcp_code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$BASE/api/v1/ports"; }
expect_eq "$(tcp_code first-token-0123456789)" 200 "the first token"
printf 'second-token-0123456789\n' >"$W/tok"
stop_paird_hup
wait_until 3 grep -q "re-read the token file $W/tok: new token in use" "$PAIRD_LOG" ||
	fail "the reload was not logged"
expect_eq "$(tcp_code first-token-0123456789)" 401 "the old token after SIGHUP"
expect_eq "$(tcp_code second-token-0123456789)" 200 "the new token after SIGHUP"
printf 'bad\n' >"$W/tok"
kill -HUP "$PAIRD_PID"
wait_until 3 grep -q "error SIGHUP received: .*keeping the old token" "$PAIRD_LOG" ||
	fail "a bad token file on SIGHUP was not reported"
kill -0 "$PAIRD_PID" || fail "a bad token file on SIGHUP stopped paird"
expect_eq "$(tcp_code second-token-0123456789)" 200 "the kept token after a bad reload"
expect_eq "$(tcp_code bad)" 401 "the bad file's content"
! grep -q "second-token" "$PAIRD_LOG" || fail "a token reached the log"
stop_paird
expect_eq "$PAIRD_RC" 0 "exit status"

note "a live server's socket is never taken over; a stale one (paird killed) is replaced"
start_paird
rc=0
timeout 10 "$PAIRD" --listen none --socket "$SOCK" 2>"$W/second.log" || rc=$?
expect_eq "$rc" 2 "exit status of a second paird on a live socket"
grep -q "cannot start: $SOCK is in use" "$W/second.log" || fail "no reason: $(cat "$W/second.log")"
note "nor is its generated token file (beside the socket) replaced or removed"
cp "$TOKEN_OUT" "$W/token.before"
rc=0
timeout 10 "$PAIRD" --listen 127.0.0.1:0 --socket "$SOCK" 2>"$W/second.log" || rc=$?
expect_eq "$rc" 2 "exit status of a second paird with a TCP listener on a live socket"
grep -q "cannot start: $SOCK is in use" "$W/second.log" || fail "no reason: $(cat "$W/second.log")"
cmp -s "$TOKEN_OUT" "$W/token.before" ||
	fail "a refused second paird replaced or removed the running one's token file"
expect_eq "$(tcp_code "$TOKEN")" 200 "the running paird's token"
api GET /healthz
expect_status 200
stop_paird KILL
[ -S "$SOCK" ] || fail "the killed paird left no socket to test with"
start_paird
api GET /api/v1/ports
expect_status 200
stop_paird
expect_eq "$PAIRD_RC" 0 "exit status"
