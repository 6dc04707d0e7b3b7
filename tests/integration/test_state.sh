#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Persistence and shutdown: every acknowledged change is in the state file
# before the 2xx; SIGTERM releases the ports and leaves the file intact; a
# restart recreates the ports as they were; a corrupt or unreadable state
# file stops paird at start with a reason and is never overwritten; a port
# that cannot be restored is not counted as restored and makes /healthz
# say degraded; a state directory other users may change (or a link they
# planted there) stops the start, and a FIFO at the temp name blocks nothing.
#
# Topology: one private network namespace with lo and the ports paird
# creates (st0 tap, st1 tun).
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
STATE=$W/state.json

start_paird --state "$STATE"
jq -e '.format == 1 and .ports == []' "$STATE" >/dev/null || fail "no empty state file at start"

note "each acknowledged change is already in the file when the answer arrives"
api POST /api/v1/ports '{"name":"st0","type":"tap","mtu":1400,"mac":"02:00:00:00:00:21",
	"addresses":["198.18.0.1/24","2001:db8::21/64"]}'
expect_status 201
jq -e '.ports[0] | .name == "st0" and .mtu == 1400 and .mac == "02:00:00:00:00:21"' \
	"$STATE" >/dev/null || fail "POST not in the state file: $(cat "$STATE")"
api POST /api/v1/ports '{"name":"st1","type":"tun","packet_info":true}'
expect_status 201
api PATCH /api/v1/ports/st1 '{"mtu":1280,"up":false}'
expect_status 200
jq -e '.ports[1] | .mtu == 1280 and .up == false' "$STATE" >/dev/null ||
	fail "PATCH not in the state file: $(cat "$STATE")"
api POST /api/v1/ports '{"name":"st2","type":"tap"}'
expect_status 201
api DELETE /api/v1/ports/st2
expect_status 204
jq -e '[.ports[].name] == ["st0","st1"]' "$STATE" >/dev/null ||
	fail "DELETE not in the state file: $(cat "$STATE")"
[ ! -e "$STATE.tmp" ] || fail "a temp file was left behind"

note "SIGTERM: exit 0, ports released, state file intact"
cp "$STATE" "$W/state.before"
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "exit status"
grep -q "shutting down" "$PAIRD_LOG" || fail "shutdown not logged"
! ip link show dev st0 >/dev/null 2>&1 || fail "st0 survived paird"
! ip link show dev st1 >/dev/null 2>&1 || fail "st1 survived paird"
cmp -s "$STATE" "$W/state.before" || fail "shutdown changed the state file"

note "restart restores the ports"
start_paird --state "$STATE"
grep -q "2 port(s) restored" "$PAIRD_LOG" || fail "restore not logged"
api GET /api/v1/ports/st0
expect_status 200
expect_json .status.mtu 1400
expect_json .status.mac 02:00:00:00:00:21
expect_json '.config.addresses | join(",")' 198.18.0.1/24,2001:db8::21/64
expect_json .status.state up
ip -d link show dev st0 | grep -q "mtu 1400" || fail "st0 MTU not restored"
ip -br addr show dev st0 | grep -q "198.18.0.1/24" || fail "st0 address not restored"
ip -br addr show dev st0 | grep -q "2001:db8::21/64" || fail "st0 IPv6 address not restored"
api GET /api/v1/ports/st1
expect_json .config.mtu 1280
expect_json .config.up false
expect_json .config.packet_info true
ip -d link show dev st1 | grep -q "pi on" || fail "st1 packet info not restored"
stop_paird INT
expect_eq "$PAIRD_RC" 0 "exit status on SIGINT"

note "a corrupt state file stops the start and is left as it was"
for bad in '{"format":1,"ports":[' '{"format":2,"ports":[]}' '{"format":1}' \
	'{"format":1,"ports":[{"name":"x","type":"tap","mtu":5}]}' \
	'{"format":1,"ports":[{"name":"x","type":"tap"},{"name":"x","type":"tap"}]}' \
	'{"format":1,"ports":[],"extra":true}' '[]'; do
	printf '%s' "$bad" >"$STATE"
	rc=0
	timeout 10 "$PAIRD" --listen 127.0.0.1:0 --no-auth --socket none --state "$STATE" 2>"$W/corrupt.log" || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "paird started on a corrupt state file: $bad"
	grep -q "$STATE" "$W/corrupt.log" || fail "the error does not name the file: $(cat "$W/corrupt.log")"
	expect_eq "$(cat "$STATE")" "$bad" "the corrupt state file after the failed start"
	! ip link show dev x >/dev/null 2>&1 || fail "a port was created from a corrupt file"
done
mkdir "$W/dir.json"
rc=0
timeout 10 "$PAIRD" --listen 127.0.0.1:0 --no-auth --socket none --state "$W/dir.json" 2>"$W/dir.log" || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "paird started with a directory as its state file"

note "a port that cannot be restored is kept in state error, not dropped"
printf '{"format":1,"ports":[{"name":"gone9","type":"tap","attach":true},{"name":"st0","type":"tap"}]}' \
	>"$STATE"
start_paird --state "$STATE"
grep -q "1 of 2 port(s) restored, 1 in error: gone9 (ENODEV" "$PAIRD_LOG" ||
	fail "the start-up log does not tell the failed restore: $(grep restored "$PAIRD_LOG")"
! grep -q ": 2 port(s) restored" "$PAIRD_LOG" || fail "a failed restore was counted as restored"
api GET /api/v1/ports/gone9
expect_status 200
expect_json .status.state error
expect_json .status.last_error.errno_name ENODEV
note "/healthz says degraded (still 200) and names the broken port"
api GET /healthz
expect_status 200
expect_json .status degraded
expect_json '[.failed_ports[] | .name + ":" + .state + ":" + .last_error.errno_name] | join(",")' \
	gone9:error:ENODEV
jq -e '[.ports[].name] == ["gone9","st0"]' "$STATE" >/dev/null ||
	fail "the broken port was dropped from the state file"
note "PUT recreates it once the device exists"
ip tuntap add dev gone9 mode tap
api PUT /api/v1/ports/gone9 '{"type":"tap","attach":true}'
expect_status 200
expect_json .status.state down
api GET /healthz
expect_json .status ok
expect_json '.failed_ports | length' 0
api DELETE /api/v1/ports/gone9
expect_status 204
ip link show dev gone9 >/dev/null || fail "DELETE removed gone9, which paird did not create"
stop_paird TERM

note "--state through a symbolic link writes through to its target; the link stays"
mkdir "$W/real"
printf '{"format":1,"ports":[]}\n' >"$W/real/state.json"
ln -s real/state.json "$W/link.json"
start_paird --state "$W/link.json"
api POST /api/v1/ports '{"name":"sl0","type":"tap"}'
expect_status 201
[ -L "$W/link.json" ] || fail "the symbolic link was replaced by a file"
expect_eq "$(readlink "$W/link.json")" real/state.json "the link's target"
jq -e '[.ports[].name] == ["sl0"]' "$W/real/state.json" >/dev/null ||
	fail "the change did not reach the link's target: $(cat "$W/real/state.json")"
[ ! -e "$W/link.json.tmp" ] && [ ! -e "$W/real/state.json.tmp" ] || fail "a temp file was left"
stop_paird TERM
start_paird --state "$W/link.json"
api GET /api/v1/ports/sl0
expect_status 200
stop_paird TERM

note "a symbolic link to nothing stops the start, naming the file; the link stays"
ln -s nowhere/state.json "$W/dangling.json"
rc=0
timeout 10 "$PAIRD" --listen 127.0.0.1:0 --no-auth --socket none --state "$W/dangling.json" 2>"$W/dangling.log" || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "paird started on a dangling state link"
grep -q "$W/dangling.json is a symbolic link to nowhere/state.json, which does not exist" \
	"$W/dangling.log" || fail "the error does not explain the link: $(cat "$W/dangling.log")"
! grep -q "starting with no ports" "$W/dangling.log" || fail "an empty start was announced"
[ -L "$W/dangling.json" ] && [ ! -e "$W/nowhere" ] || fail "the dangling link was replaced"

note "an unwritable state directory has its own message at start"
# As nobody (root writes anywhere), from a copy of the binary nobody can run.
uid=$(id -u nobody)
cp "$PAIRD" "$W/paird.copy"
chmod 755 "$W/paird.copy"
mkdir -m 755 "$W/ro"
for pre in none file; do
	[ "$pre" = file ] && printf '{"format":1,"ports":[]}\n' >"$W/ro/state.json" &&
		chmod 644 "$W/ro/state.json"
	rc=0
	timeout 10 setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$W/paird.copy" \
		--socket none --no-auth --listen 127.0.0.1:0 --state "$W/ro/state.json" 2>"$W/ro.log" || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "paird started with an unwritable state directory"
	grep -q "cannot create $W/ro/state.json.tmp, so no change could be saved; make the directory $W/ro writable" \
		"$W/ro.log" || fail "no clear message for an unwritable directory ($pre): $(cat "$W/ro.log")"
	! grep -q "change undone\|could not be saved to the state file" "$W/ro.log" ||
		fail "the start-up error speaks of a client's change: $(cat "$W/ro.log")"
done

note "a state directory other users may change stops the start, saying why"
mkdir -m 777 "$W/open"
chmod 777 "$W/open"
printf '{"format":1,"ports":[]}' >"$W/victim"
ln -s ../victim "$W/open/state.json"
# refused_start WHAT: paird on $W/open/state.json exits 2 at start, its log in $W/open.log.
refused_start() {
	local rc=0
	timeout 10 "$PAIRD" --listen none --socket "$W/run/o.sock" --state "$W/open/state.json" \
		2>"$W/open.log" || rc=$?
	expect_eq "$rc" 2 "exit status with $1"
}
refused_start "a world-writable state directory"
grep -q "cannot start: state file $W/open/state.json: the directory $W/open is writable by other users (mode 0777) and not sticky" \
	"$W/open.log" || fail "no clear message for a world-writable directory: $(cat "$W/open.log")"
expect_eq "$(cat "$W/victim")" '{"format":1,"ports":[]}' "the file the planted link names"
chown nobody "$W/open"
chmod 755 "$W/open"
refused_start "a state directory of another user"
grep -q "the directory $W/open belongs to uid $(id -u nobody), neither root nor paird's user" \
	"$W/open.log" || fail "no clear message for another user's directory: $(cat "$W/open.log")"
expect_eq "$(cat "$W/victim")" '{"format":1,"ports":[]}' "the file the planted link names"

note "a FIFO another user puts at the temp name in a sticky directory blocks nothing"
mkdir -m 1777 "$W/sticky"
chmod 1777 "$W/sticky"
start_paird --state "$W/sticky/state.json"
setpriv --reuid=nobody --regid=nogroup --clear-groups mkfifo "$W/sticky/state.json.tmp"
api POST /api/v1/ports '{"name":"ff0","type":"tap"}'
expect_status 201
jq -e '[.ports[].name] == ["ff0"]' "$W/sticky/state.json" >/dev/null ||
	fail "the change is not in the state file: $(cat "$W/sticky/state.json")"
[ ! -e "$W/sticky/state.json.tmp" ] || fail "the FIFO or a temp file was left"
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "exit status"

note "a second paird on the same state file is refused; the first keeps the file"
rm -f "$STATE"
start_paird --state "$STATE"
api POST /api/v1/ports '{"name":"lk0","type":"tap"}'
expect_status 201
cp "$STATE" "$W/state.before"
ln -s state.json "$W/other-name.json"
for s in "$STATE" "$W/other-name.json"; do
	rc=0
	timeout 10 "$PAIRD" --listen none --socket "$W/run/second.sock" --state "$s" \
		2>"$W/second.log" || rc=$?
	expect_eq "$rc" 2 "exit status of a second paird on $s"
	grep -q "cannot start: state file $s is in use by another paird (pid $PAIRD_PID," \
		"$W/second.log" || fail "no clear refusal of a second paird: $(cat "$W/second.log")"
	cmp -s "$STATE" "$W/state.before" || fail "a second paird rewrote the state file"
done
note "nor, with a TCP listener and its socket beside the running one's, is its token file touched"
cp "$TOKEN_OUT" "$W/token.before"
rc=0
timeout 10 "$PAIRD" --listen 127.0.0.1:0 --socket "$W/run/second.sock" --state "$STATE" \
	2>"$W/second.log" || rc=$?
expect_eq "$rc" 2 "exit status of a second paird with a TCP listener on $STATE"
grep -q "is in use by another paird" "$W/second.log" || fail "no refusal: $(cat "$W/second.log")"
cmp -s "$TOKEN_OUT" "$W/token.before" ||
	fail "a refused second paird replaced or removed the running one's token file"
api POST /api/v1/ports '{"name":"lk1","type":"tap"}'
expect_status 201
jq -e '[.ports[].name] == ["lk0","lk1"]' "$STATE" >/dev/null ||
	fail "the first paird's change is not in the state file: $(cat "$STATE")"
note "the lock goes with the process, however it ends (SIGKILL)"
stop_paird KILL
start_paird --state "$STATE"
api GET /api/v1/ports/lk1
expect_status 200
stop_paird TERM
expect_eq "$PAIRD_RC" 0 "exit status"
