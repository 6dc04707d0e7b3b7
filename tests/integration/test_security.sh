#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Security of the TCP listener (DESIGN.md, "Security"): bearer token on
# /api/, cross-site and DNS-rebinding refusals, no network listen without a
# token, the machine's own names as Host beyond loopback, start-up errors in
# one format with one exit status, connection limits and idle timeouts; a
# FIFO as the token file on SIGHUP, socket and token directories another
# user may change, and a token file replaced behind paird's back.
# (The Unix socket, the generated token, login and SIGHUP: test_auth.sh.)
#
# Topology: one private network namespace with lo and a persistent tap
# dum0 (198.18.7.1/24) standing for a non-loopback address.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
API_VIA=tcp

TOK=0123456789abcdef0123456789abcdef
printf '%s\n' "$TOK" >"$W/token"
chmod 600 "$W/token"
start_paird --token-file "$W/token" --allow-host paird.test

note "the token guards /api/ (401 + WWW-Authenticate), not /healthz or the dashboard"
api GET /api/v1/ports
expect_problem 401
case "$(header WWW-Authenticate)" in Bearer*) ;; *) fail "no WWW-Authenticate: Bearer" ;; esac
for bad in "Bearer wrong" "Bearer ${TOK%?}" "Bearer ${TOK}0" "Basic $TOK" "$TOK" "Bearer"; do
	api GET /api/v1/ports -- -H "Authorization: $bad"
	expect_problem 401
done
api POST /api/v1/ports '{"name":"s0","type":"tap"}'
expect_problem 401
ip link show dev s0 >/dev/null 2>&1 && fail "an unauthorized POST created s0"
api GET /healthz
expect_status 200
api GET /
expect_status 200
CURL_EXTRA=(-H "Authorization: Bearer $TOK")
api GET /api/v1/ports
expect_status 200
api GET /api/v1/ports -- -H "Authorization: bearer   $TOK"
expect_status 200

note "cross-site requests are refused; same-origin ones pass"
for origin in http://evil.example "http://127.0.0.1:$((PORT + 1))" https://127.0.0.1:$PORT null \
	"http://127.0.0.1:${PORT}.evil.example"; do
	api GET /api/v1/ports -- -H "Origin: $origin"
	expect_problem 403
done
snapshot before
api POST /api/v1/ports '{"name":"s0","type":"tap"}' -- -H "Origin: http://evil.example"
expect_problem 403
expect_unchanged
for site in cross-site same-site; do
	api GET /api/v1/ports -- -H "Sec-Fetch-Site: $site"
	expect_problem 403
done
api GET /api/v1/ports -- -H "Origin: http://127.0.0.1:$PORT" -H "Sec-Fetch-Site: same-origin"
expect_status 200
api GET /api/v1/ports -- -H "Origin: http://localhost:$PORT"
expect_status 200
api GET /api/v1/ports -- -H "Sec-Fetch-Site: none"
expect_status 200

note "Host must be on the allow-list (DNS rebinding)"
for host in evil.example "evil.example:$PORT" "127.0.0.1.evil.example:$PORT" "[::2]:$PORT"; do
	api GET /api/v1/ports -- -H "Host: $host"
	expect_problem 403
	api GET / -- -H "Host: $host"
	expect_problem 403
done
for host in "localhost:$PORT" "127.0.0.1:$PORT" "[::1]:$PORT" "paird.test:$PORT" LOCALHOST; do
	api GET /api/v1/ports -- -H "Host: $host"
	expect_status 200
done

note "the token never reaches the log"
! grep -q "$TOK" "$PAIRD_LOG" || fail "the token appears in the log"
stop_paird
expect_eq "$PAIRD_RC" 0 "paird exit status on SIGTERM"
CURL_EXTRA=()

note "without a token the Host check stays: --no-auth with --allow-host '*' is refused"
rc=0
timeout 10 "$PAIRD" --socket none --listen 127.0.0.1:0 --no-auth --allow-host '*' \
	2>"$W/refused.log" || rc=$?
expect_eq "$rc" 2 "exit status of --no-auth with --allow-host '*'"
grep -q "error cannot start: --no-auth with --allow-host '\*' lets any web page" "$W/refused.log" ||
	fail "no reason given: $(cat "$W/refused.log")"

note "a non-loopback listen address needs a token: --no-auth is refused there"
ip tuntap add dev dum0 mode tap
ip addr add 198.18.7.1/24 dev dum0
ip link set dum0 up
rc=0
timeout 10 "$PAIRD" --socket none --listen 198.18.7.1:0 --no-auth 2>"$W/refused.log" || rc=$?
expect_eq "$rc" 2 "exit status of --no-auth beyond loopback"
grep -q "error cannot start: --no-auth is only for a loopback listener" "$W/refused.log" ||
	fail "no reason given: $(cat "$W/refused.log")"

# net_paird LOG ARGS...: paird on 198.18.7.1 (or what ARGS say); sets netpid, netport.
net_paird() {
	local log=$1
	shift
	"$PAIRD" --socket none "$@" 2>"$log" &
	netpid=$!
	EXTRA_CLEANUP="kill $netpid 2>/dev/null || true"
	wait_until 5 grep -q "listening on http://" "$log" ||
		fail "paird did not listen: $(cat "$log")"
	netport=$(sed -n 's|.*listening on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$log")
}
net_code() { # net_code URL [CURL-ARGS...]: the status of GET URL with the token
	local url=$1
	shift
	curl -s -o "$W/net.body" -w '%{http_code}' -H "Authorization: Bearer $TOK" "$@" "$url"
}
net_paird "$W/net.log" --listen 198.18.7.1:0 --token-file "$W/token"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://198.18.7.1:$netport/api/v1/ports")
expect_eq "$code" 401 "network API without the token"
expect_eq "$(net_code "http://198.18.7.1:$netport/api/v1/ports")" 200 \
	"network API with the token (Host is the listen address)"

note "beyond loopback, the machine's own names are Hosts paird serves"
hn=$(hostname)
for host in "198.18.7.1" "198.18.7.1:$netport" "$hn" "$hn:$netport"; do
	expect_eq "$(net_code "http://198.18.7.1:$netport/api/v1/ports" -H "Host: $host")" 200 \
		"Host: $host on a 198.18.7.1 listener"
done
expect_eq "$(net_code "http://198.18.7.1:$netport/api/v1/ports" -H "Host: evil.example")" 403 \
	"Host: evil.example on a 198.18.7.1 listener"
grep -q "for any other name clients use (a DNS name), add --allow-host NAME" "$W/net.log" ||
	fail "the start-up log does not say which flag serves another name: $(cat "$W/net.log")"
grep -q "warn  the TCP API on 198.18.7.1:[0-9]* is plain HTTP: the token and session ids cross" \
	"$W/net.log" || fail "no warning that the token crosses the network in clear: $(cat "$W/net.log")"
kill $netpid
wait $netpid || fail "paird did not exit 0 on SIGTERM"

note "a wildcard listen serves the machine's addresses as Host"
ip -6 addr add 2001:db8:7::1/64 dev dum0 nodad
net_paird "$W/any.log" --listen "[::]:0" --token-file "$W/token"
for host in "198.18.7.1:$netport" "[2001:db8:7::1]:$netport" "[2001:db8:7:0::1]" "$hn"; do
	expect_eq "$(net_code "http://198.18.7.1:$netport/api/v1/ports" -H "Host: $host")" 200 \
		"Host: $host on a [::] listener"
done
for host in "198.18.7.2:$netport" "[2001:db8:7::2]:$netport" "paird.example"; do
	expect_eq "$(net_code "http://198.18.7.1:$netport/api/v1/ports" -H "Host: $host")" 403 \
		"Host: $host on a [::] listener"
done
kill $netpid
wait $netpid || fail "paird did not exit 0 on SIGTERM"
EXTRA_CLEANUP=

note "bad flags and values are refused at start: one format, exit status 2"
printf 'short\n' >"$W/short"
chmod 600 "$W/short"
: >"$W/notasocket"
while IFS= read -r args; do
	[ -n "$args" ] || continue
	rc=0
	# shellcheck disable=SC2086
	timeout 10 "$PAIRD" --socket "$W/bad.sock" $args 2>"$W/bad.log" >/dev/null || rc=$?
	[ "$rc" = 2 ] || fail "paird answered '$args' with exit status $rc, not 2: $(cat "$W/bad.log")"
	[ "$(grep -c ' error ' "$W/bad.log")" = 1 ] ||
		fail "'$args' gave other than one error line: $(cat "$W/bad.log")"
	tail -n 1 "$W/bad.log" | grep -Eq '^[0-9T:.-]+Z error cannot start: .+' ||
		fail "'$args' was refused in another format: $(cat "$W/bad.log")"
	[ ! -e "$W/bad.sock" ] || fail "'$args' left its socket behind"
done <<ARGS
--token-file $W/short
--token-file $W/missing
--listen 127.0.0.1
--listen 127.0.0.1:99999
--listen nosuchhost.invalid:80
--listen 198.18.99.1:0
--log-level loud
--max-ports 0
--max-ports 4096x
--max-bindings 4097
--max-connections 0
--http-timeout 3601
--request-timeout -1
--capture-memory 2000G
--capture-ring 1K
--capture-ring 64Kb
--bogus
-x
--listen
stray
--socket $W/notasocket
--socket /nonexistent-dir/sub/paird.sock
--socket-group no-such-group-here
--no-auth --token-file $W/token
--listen none --socket none
--token-out $W/t --token-file $W/token
ARGS
"$PAIRD" --help | grep -q -- "--token-file" || fail "--help does not list the flags"
"$PAIRD" --version | grep -q "^paird " || fail "--version"

note "connection limit and idle timeout"
start_paird --max-connections 2 --http-timeout 1
/usr/bin/python3 - "$PORT" <<'PY' || fail "connection limit / idle timeout not enforced"
import socket, sys, time
port = int(sys.argv[1])
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
def answered(s, wait=3.0):
    """Sends one request and reads one whole response; False if none came."""
    s.settimeout(wait)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return False
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length:")][0])
        while len(rest) < length:
            rest += s.recv(4096)
    except OSError:
        return False
    return head.startswith(b"HTTP/1.1 200")
def closed(s, wait=2.0):
    """True once the server closed @s (whatever it said first)."""
    s.settimeout(wait)
    try:
        while s.recv(4096):
            pass
        return True
    except OSError as e:
        return not isinstance(e, socket.timeout)
a, b = conn(), conn()
assert answered(a) and answered(b), "the first two connections were not served"
# At the limit, a new client displaces the connection that has waited
# longest for a request (a, idle since its answer): never three at once.
c = conn()
assert answered(c, wait=1.0), "a waiting client was not served at the limit"
assert closed(a), "the idle connection was not let go for the new client"
# Idle connections are closed after --http-timeout (1 s).
time.sleep(1.5)
assert closed(b, wait=0.5), "an idle connection was kept past --http-timeout"
PY
stop_paird INT
expect_eq "$PAIRD_RC" 0 "paird exit status on SIGINT"

note "a FIFO in the token file's place on SIGHUP is refused at once; the old token stays"
printf '%s\n' "$TOK" >"$W/tokf"
chmod 600 "$W/tokf"
start_paird --token-file "$W/tokf"
rm "$W/tokf"
mkfifo -m 600 "$W/tokf"
kill -HUP "$PAIRD_PID"
if ! wait_until 5 grep -q "SIGHUP received: the token file $W/tokf is not a regular file; keeping the old token" \
	"$PAIRD_LOG"; then
	# paird waits in open() for a writer: be one, so that it (and this test) can end.
	timeout 2 sh -c ': <>"$1"' _ "$W/tokf" || true
	fail "the FIFO was not refused (paird blocked on it?)"
fi
CURL_EXTRA=(-H "Authorization: Bearer $TOK")
api GET /api/v1/ports
expect_status 200
CURL_EXTRA=()
stop_paird
expect_eq "$PAIRD_RC" 0 "paird exit status on SIGTERM"

note "a socket or token directory another user may change is refused at start"
nobody=$(id -u nobody)
mkdir -m 755 "$W/theirs"
chown nobody "$W/theirs"
mkdir -m 777 "$W/open"
chmod 777 "$W/open"
mkdir -m 1777 "$W/sticky"
chmod 1777 "$W/sticky"
# A stale socket of nobody's in the sticky directory: root must not take its name over.
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c \
	'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$W/sticky/paird.sock"
while IFS='|' read -r args why; do
	rc=0
	# shellcheck disable=SC2086
	timeout 10 "$PAIRD" $args 2>"$W/dir.log" || rc=$?
	[ "$rc" = 2 ] || fail "paird answered '$args' with exit status $rc, not 2: $(cat "$W/dir.log")"
	grep -q "error cannot start: $why" "$W/dir.log" ||
		fail "'$args': not refused for '$why': $(cat "$W/dir.log")"
done <<ARGS
--listen none --socket $W/theirs/paird.sock|--socket $W/theirs/paird.sock: the directory $W/theirs belongs to uid $nobody, neither root nor paird's user
--listen none --socket $W/open/paird.sock|--socket $W/open/paird.sock: the directory $W/open is writable by other users (mode 0777) and not sticky
--listen none --socket $W/sticky/paird.sock|--socket $W/sticky/paird.sock: $W/sticky/paird.sock, in the shared directory $W/sticky, belongs to uid $nobody
--socket none --listen 127.0.0.1:0 --token-out $W/theirs/token|--token-out $W/theirs/token: the directory $W/theirs belongs to uid $nobody
--socket none --listen 127.0.0.1:0 --token-out $W/open/token|--token-out $W/open/token: the directory $W/open is writable by other users
ARGS
left=$(find "$W/theirs" "$W/open" -mindepth 1)
[ -z "$left" ] || fail "a refused start left files: $left"
[ "$(stat -c %u "$W/sticky/paird.sock")" = "$nobody" ] || fail "nobody's socket was replaced"
note "a sticky directory is fine for paird's own socket and token"
start_paird --socket "$W/sticky/own.sock" --token-out "$W/sticky/token"
api GET /healthz
expect_status 200
stop_paird
[ ! -e "$W/sticky/own.sock" ] && [ ! -e "$W/sticky/token" ] || fail "the socket or token outlived paird"

note "the generated token file is removed at exit only if it is still the one paird wrote"
start_paird
printf 'not paird%ss\n' "'" >"$W/other"
mv "$W/other" "$W/run/token"
stop_paird
expect_eq "$PAIRD_RC" 0 "paird exit status on SIGTERM"
[ -e "$W/run/token" ] || fail "paird removed a token file it did not write"
