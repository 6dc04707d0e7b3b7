#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Security of the control plane (DESIGN.md, "Security"): bearer token on
# /api/, cross-site and DNS-rebinding refusals, no network listen without a
# token, connection limits and idle timeouts.
#
# Topology: one private network namespace with lo and a persistent tap
# dum0 (198.18.7.1/24) standing for a non-loopback address.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

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

note "a non-loopback listen address needs a token"
ip tuntap add dev dum0 mode tap
ip addr add 198.18.7.1/24 dev dum0
ip link set dum0 up
rc=0
"$PAIRD" --listen 198.18.7.1:0 2>"$W/refused.log" || rc=$?
[ "$rc" != 0 ] || fail "paird listened on 198.18.7.1 without a token"
grep -q "without --token-file" "$W/refused.log" || fail "no reason given: $(cat "$W/refused.log")"
"$PAIRD" --listen 198.18.7.1:0 --token-file "$W/token" 2>"$W/net.log" &
netpid=$!
EXTRA_CLEANUP="kill $netpid 2>/dev/null || true"
wait_until 5 grep -q "listening on http://198.18.7.1:" "$W/net.log" ||
	fail "paird with a token did not listen on 198.18.7.1: $(cat "$W/net.log")"
netport=$(sed -n 's|.*listening on http://198\.18\.7\.1:\([0-9]*\)/.*|\1|p' "$W/net.log")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://198.18.7.1:$netport/api/v1/ports")
expect_eq "$code" 401 "network API without the token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
	"http://198.18.7.1:$netport/api/v1/ports")
expect_eq "$code" 200 "network API with the token (Host is the listen address)"
kill $netpid
wait $netpid || fail "paird did not exit 0 on SIGTERM"

note "bad flags and token files are refused at start with a reason"
printf 'short\n' >"$W/short"
for args in "--token-file $W/short" "--token-file $W/missing" "--listen 127.0.0.1" \
	"--listen 127.0.0.1:99999" "--log-level loud" "--max-ports 0" "stray"; do
	rc=0
	# shellcheck disable=SC2086
	"$PAIRD" $args 2>"$W/bad.log" >/dev/null || rc=$?
	[ "$rc" != 0 ] || fail "paird accepted: $args"
	[ -s "$W/bad.log" ] || fail "paird refused '$args' without saying why"
done
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
