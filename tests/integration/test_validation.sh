#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every bad input answers the right status with a problem+json body that
# names the cause, and changes nothing (the API's ports and the kernel's
# links and addresses are compared before and after each request).
#
# Topology: one private network namespace with lo, the port vtap0 paird
# creates, and two devices paird did not create: held0 (a persistent tap
# held open by another program) and ptun9 (a persistent tun).
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
start_paird

api POST /api/v1/ports '{"name":"vtap0","type":"tap","addresses":["198.18.0.1/24"]}'
expect_status 201

# refused STATUS FIELD METHOD PATH [BODY [CONTENT-TYPE]]
refused() {
	local status=$1 field=$2
	shift 2
	snapshot before
	api "$@"
	if [ "$field" = - ]; then
		expect_problem "$status"
		jq -e 'has("field") | not' "$W/body" >/dev/null ||
			fail "$M $P: unexpected field in $(body)"
	else
		expect_problem "$status" "$field"
	fi
	expect_unchanged
}

note "names"
refused 422 name POST /api/v1/ports '{"name":"abcdefghijklmnop","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":"","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":".","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":"..","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":"tap%d","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":"a b","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":"a/b","type":"tap"}'
refused 400 - POST /api/v1/ports '{"name":"a\u0000b","type":"tap"}'
refused 422 name POST /api/v1/ports '{"name":"tåp","type":"tap"}'
refused 422 name POST /api/v1/ports '{"type":"tap"}'
refused 422 name PUT /api/v1/ports/vtap1 '{"name":"vtap2","type":"tap"}'
refused 422 name PUT /api/v1/ports/abcdefghijklmnop '{"type":"tap"}'
refused 404 - GET /api/v1/ports/abcdefghijklmnop
refused 404 - DELETE /api/v1/ports/nosuch

note "types and ranges"
refused 422 type POST /api/v1/ports '{"name":"v1","type":"tuntap"}'
refused 422 type POST /api/v1/ports '{"name":"v1"}'
refused 422 type POST /api/v1/ports '{"name":"v1","type":1}'
refused 422 mtu POST /api/v1/ports '{"name":"v1","type":"tap","mtu":67}'
refused 422 mtu POST /api/v1/ports '{"name":"v1","type":"tap","mtu":65536}'
refused 422 mtu POST /api/v1/ports '{"name":"v1","type":"tap","mtu":"1500"}'
refused 422 mtu POST /api/v1/ports '{"name":"v1","type":"tap","mtu":1500.5}'
refused 422 mtu POST /api/v1/ports '{"name":"v1","type":"tap","mtu":-1}'
refused 422 up POST /api/v1/ports '{"name":"v1","type":"tap","up":"yes"}'
refused 422 packet_info POST /api/v1/ports '{"name":"v1","type":"tap","packet_info":1}'
refused 422 mac POST /api/v1/ports '{"name":"v1","type":"tap","mac":"02:00:00:00:00"}'
refused 422 mac POST /api/v1/ports '{"name":"v1","type":"tap","mac":"03:00:00:00:00:01"}'
refused 422 mac POST /api/v1/ports '{"name":"v1","type":"tap","mac":"00:00:00:00:00:00"}'
refused 422 mac POST /api/v1/ports '{"name":"v1","type":"tap","mac":"02-00-00-00-00-01"}'
refused 422 mac POST /api/v1/ports '{"name":"v1","type":"tun","mac":"02:00:00:00:00:01"}'
refused 422 'addresses[0]' POST /api/v1/ports '{"name":"v1","type":"tap","addresses":["198.18.0.1"]}'
refused 422 'addresses[0]' POST /api/v1/ports '{"name":"v1","type":"tap","addresses":["198.18.0.1/33"]}'
refused 422 'addresses[0]' POST /api/v1/ports '{"name":"v1","type":"tap","addresses":["2001:db8::1/129"]}'
refused 422 'addresses[0]' POST /api/v1/ports '{"name":"v1","type":"tap","addresses":["198.18.0.256/24"]}'
refused 422 'addresses[1]' POST /api/v1/ports '{"name":"v1","type":"tap","addresses":["198.18.9.1/24","198.18.9.1/24"]}'
refused 422 'addresses[0]' POST /api/v1/ports '{"name":"v1","type":"tap","addresses":[1]}'
refused 422 addresses POST /api/v1/ports '{"name":"v1","type":"tap","addresses":"198.18.0.1/24"}'
many=$(seq 1 17 | sed 's|.*|"198.18.3.&/32"|' | paste -sd,)
refused 422 addresses POST /api/v1/ports "{\"name\":\"v1\",\"type\":\"tap\",\"addresses\":[$many]}"
refused 422 colour POST /api/v1/ports '{"name":"v1","type":"tap","colour":"red"}'
refused 422 type PATCH /api/v1/ports/vtap0 '{"type":"tun"}'
refused 422 mtu PATCH /api/v1/ports/vtap0 '{"mtu":10}'
refused 422 colour PATCH /api/v1/ports/vtap0 '{"colour":"red"}'
refused 422 mac PUT /api/v1/ports/vtap0 '{"type":"tun","mac":"02:00:00:00:00:01"}'

note "syntax, media type and size"
refused 400 - POST /api/v1/ports '{"name":"v1","type":"tap"'
refused 400 name POST /api/v1/ports '{"name":"v1","name":"v2","type":"tap"}'
refused 400 - POST /api/v1/ports '["v1"]'
refused 400 - POST /api/v1/ports '"v1"'
refused 400 - POST /api/v1/ports 'null'
refused 400 - PATCH /api/v1/ports/vtap0 '{"mtu":1400}{"mtu":1300}'
refused 415 - POST /api/v1/ports '{"name":"v1","type":"tap"}' text/plain
refused 415 - POST /api/v1/ports 'name=v1&type=tap' application/x-www-form-urlencoded
refused 415 - PATCH /api/v1/ports/vtap0 '{"mtu":1400}' application/json-patch+json
snapshot before
api POST /api/v1/ports -- -H 'Content-Type: application/json'
expect_problem 400
expect_unchanged
snapshot before
api POST /api/v1/ports -- --data-binary '{"name":"v1","type":"tap"}'
expect_problem 415
expect_unchanged
head -c 70000 /dev/zero | tr '\0' ' ' >"$W/big"
printf '{"name":"v1","type":"tap"}' >>"$W/big"
snapshot before
api POST /api/v1/ports -- -H 'Content-Type: application/json' --data-binary @"$W/big"
expect_problem 413
expect_unchanged
# The same body without a Content-Length (chunked): dropped while it arrives.
snapshot before
api POST /api/v1/ports -- -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
	--data-binary @"$W/big"
expect_problem 413
expect_unchanged

note "unknown paths and methods"
refused 404 - GET /api/v1/nothing
refused 404 - GET /api/v1/ports/vtap0/nothing
refused 404 - GET /api/v2/ports
refused 404 - GET /nothing.html
refused 405 - POST /api/v1/ports/vtap0 '{"mtu":1400}'
expect_eq "$(header Allow)" "GET, HEAD, PUT, PATCH, DELETE, OPTIONS" "Allow of /api/v1/ports/{name}"
refused 405 - DELETE /api/v1/ports
expect_eq "$(header Allow)" "GET, HEAD, POST, OPTIONS" "Allow of /api/v1/ports"
refused 405 - POST /healthz
refused 405 - PUT /openapi.yaml '{}'
api OPTIONS /api/v1/ports
expect_status 204
expect_eq "$(header Allow)" "GET, HEAD, POST, OPTIONS" "OPTIONS Allow"

note "conflicts and kernel refusals name the cause and leave nothing behind"
refused 409 name POST /api/v1/ports '{"name":"vtap0","type":"tap"}'
# An interface paird did not create: never taken over without attach.
refused 409 name POST /api/v1/ports '{"name":"lo","type":"tap"}'
refused 404 name POST /api/v1/ports '{"name":"nodev0","type":"tap","attach":true}'
ip tuntap add dev ptun9 mode tun
refused 422 type POST /api/v1/ports '{"name":"ptun9","type":"tap","attach":true}'
expect_json .errno_name EINVAL
# A persistent tap held open by another program: EBUSY.
ip tuntap add dev held0 mode tap
export W
/usr/bin/python3 - <<'PY' &
import fcntl, os, struct, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"held0", 0x0002 | 0x1000))
open(os.environ.get("W", "/tmp") + "/held", "w").close()
time.sleep(30)
PY
holder=$!
EXTRA_CLEANUP="kill $holder 2>/dev/null || true"
wait_until 5 test -e "$W/held" || fail "the holder did not attach to held0"
refused 409 name POST /api/v1/ports '{"name":"held0","type":"tap","attach":true}'
expect_json .errno_name EBUSY
body | grep -q "in use by another program" || fail "EBUSY detail: $(body)"
ip link show dev held0 >/dev/null || fail "held0 disappeared"
kill $holder
# A tap's largest MTU is 65521 (the kernel's): refused before a device is made.
refused 422 mtu POST /api/v1/ports '{"name":"v2","type":"tap","mtu":65535,"addresses":["198.18.5.1/24"]}'
expect_json 'has("errno_name")' false
# A refusal after the device was made (IPv6 disabled on new links, so its
# IPv6 address is refused): the half-made interface and its addresses must
# not stay.
sysctl -qw net.ipv6.conf.default.disable_ipv6=1
refused 403 addresses POST /api/v1/ports \
	'{"name":"v2","type":"tap","addresses":["198.18.5.1/24","2001:db8:5::1/64"]}'
expect_json .errno_name EACCES
sysctl -qw net.ipv6.conf.default.disable_ipv6=0

note "no fd leaks: paird holds exactly one tun fd per open port"
api POST /api/v1/ports '{"name":"held0","type":"tap","attach":true}'
expect_status 201
api DELETE /api/v1/ports/held0
expect_status 204
ip link show dev held0 >/dev/null || fail "DELETE removed held0, which paird did not create"
tunfds=$(ls -l /proc/$PAIRD_PID/fd | grep -c /dev/net/tun || true)
expect_eq "$tunfds" 1 "tun fds held by paird (only vtap0 is open)"

api GET /healthz
expect_status 200

note "bytes from the URL cannot forge a log line"
# MHD percent-decodes the path: %0a arrives as a newline. Non-GET requests
# are logged at info.
api DELETE '/api/v1/ports/x%0aFAKE%20paird%20line%0d%1b%5b2J'
expect_problem 404
api PATCH '/api/v1/ports/y%0aFAKE2' '{"mtu":1400}'
expect_problem 404
! grep -q '^FAKE' "$PAIRD_LOG" || fail "a URL forged a log line: $(grep '^FAKE' "$PAIRD_LOG")"
! grep -q $'\x1b' "$PAIRD_LOG" || fail "an escape character from a URL reached the log"
grep -qF 'DELETE /api/v1/ports/x\x0aFAKE paird line\x0d\x1b[2J -> 404' "$PAIRD_LOG" ||
	fail "the escaped request line is not in the log: $(tail -n 3 "$PAIRD_LOG")"

note "problem bodies stay valid UTF-8 whatever the URL holds"
for enc in %ff caf%c3%a9%c3 %ed%a0%80 %c0%af; do
	api GET "/api/v1/ports/$enc"
	expect_problem 404
	jq -e '.instance | startswith("/api/v1/ports/")' "$W/body" >/dev/null ||
		fail "GET /api/v1/ports/$enc: no instance in $(body)"
done
api GET /api/v1/ports/%ff
expect_json '.detail | startswith("no port named \\xff")' true
expect_json .instance '/api/v1/ports/\xff'

note "JSON bodies end with a newline, counted in Content-Length"
for p in /healthz /api/v1/ports /api/v1/ports/vtap0 /api/v1/ports/nope9; do
	api GET "$p"
	[ "$(tail -c 1 "$W/body" | od -An -tx1 | tr -d ' ')" = 0a ] ||
		fail "GET $p: the body does not end with a newline"
	expect_eq "$(header Content-Length)" "$(stat -c %s "$W/body")" "GET $p: Content-Length"
done
