#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pairctl end to end: every command against a real paird over its Unix
# socket (and TCP with a token), checked with `ip` in the namespace, with
# tshark on the pcap it streams, and with jq on its --json output; the
# exit statuses scripts rely on (0 ok, 1 API error or no paird, 2 usage);
# the bash completion (complete -p, COMP_WORDS, compgen) and the man page.
#
# Topology: one private network namespace; paird holds tap0
# (198.18.0.1/24 and 2001:db8::1/64 on the kernel side). An arp_reply
# binding made with pairctl answers for 198.18.0.2, so the kernel sends
# its UDP datagrams to 198.18.0.2 port 9 into tap0, where a capture
# binding keeps them.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
need_pairctl
for tool in jq tshark script setpriv groff; do
	command -v $tool >/dev/null || fail "$tool is missing (make test-deps)"
done
start_paird

# The API's own view, to check pairctl against (curl over the socket).
apiq() {
	curl -s --max-time 5 --unix-socket "$SOCK" "$UBASE$1"
}

note "version and help"
pc --version
expect_rc 0
out_has "^pairctl [0-9]"
pc --help
expect_rc 0
out_has "^usage: pairctl"
for c in ports "port show" "port add" "port set" "port del" bind unbind bindings captures \
	counters apply diff config; do
	out_has "^  $c"
done
pc bind --help
expect_rc 0
out_has "^usage: pairctl bind PORT MATCH HANDLER"
out_has "--opt KEY=VALUE"
pc help port
expect_rc 0
out_has "Sub-commands"

note "usage errors exit 2 and say why"
usage() {
	local want=$1
	shift
	pc "$@"
	expect_rc 2
	err_has "$want"
}
usage "usage: pairctl"
usage "unknown command 'frob'" frob
usage "unknown option '--frob'" ports --frob
usage "too many operands" ports extra
usage "unknown sub-command 'frob'" port frob
usage "which one: show, add, set or del" port
usage "missing operands" port add
usage "--type tun|tap is required" port add tap9
usage "--mtu 'big' is not a number" port add tap9 --type tap --mtu big
usage "--up and --down contradict" port add tap9 --type tap --up --down
usage "nothing to change" port set tap0
usage "needs a value" port add tap9 --type
usage "--queues 'two' is not a number" port add tap9 --type tun --queues two
usage "unknown MATCH 'dns'" bind tap0 dns capture
usage "not a number 0..65535" bind tap0 udp/65536 capture
usage "expected KEY=VALUE" bind tap0 udp/9 capture --opt limit
usage "missing operands" bind tap0 udp/9
usage "--after 'x' is not a number" captures tap0 --after x
usage "give the base URL without a trailing" ports --url http://127.0.0.1:1/
# Nothing was sent for any of them.
expect_eq "$(apiq /api/v1/ports | jq -c .ports)" "[]" "ports after the usage errors"

note "no paird: a missing socket, a permission denied, nobody listening (exit 1)"
RC=0
"$PAIRCTL" --socket "$W/nope.sock" ports >"$W/out" 2>"$W/err" || RC=$?
LAST="pairctl --socket $W/nope.sock ports"
expect_rc 1
err_has "cannot connect to $W/nope.sock: the socket does not exist"
RC=0
PAIRD_SOCKET=$W/nope2.sock "$PAIRCTL" ports >"$W/out" 2>"$W/err" || RC=$?
expect_rc 1
err_has "$W/nope2.sock: the socket does not exist"
# paird's socket is 0660 root: nobody may not connect.
cp "$PAIRCTL" "$W/pairctl"
chmod 755 "$W/pairctl"
RC=0
setpriv --reuid=65534 --regid=65534 --clear-groups -- "$W/pairctl" --socket "$SOCK" ports \
	>"$W/out" 2>"$W/err" || RC=$?
LAST="pairctl ports as nobody"
expect_rc 1
err_has "cannot connect to $SOCK: permission denied"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$W/stale.sock"
RC=0
"$PAIRCTL" --socket "$W/stale.sock" ports >"$W/out" 2>"$W/err" || RC=$?
expect_rc 1
err_has "cannot connect to $W/stale.sock: nobody is listening"

note "ports (empty), then port add: the link as ip sees it"
pc ports
expect_rc 0
out_has "^NAME  *TYPE  *STATE"
pc --json ports
expect_rc 0
expect_eq "$(jq -c .ports "$W/out")" "[]" "pairctl --json ports"
pc port add tap0 --type tap --addr 198.18.0.1/24 --addr 2001:db8::1/64 --mtu 1400 \
	--mac 02:00:00:00:00:01 --up
expect_rc 0
out_has "created port tap0 (tap)"
ip -o link show dev tap0 >"$W/link" || fail "pairctl port add: no tap0 in the namespace"
grep -q "mtu 1400" "$W/link" || fail "tap0 MTU: $(cat "$W/link")"
grep -q "<.*UP.*>" "$W/link" || fail "tap0 not up: $(cat "$W/link")"
grep -q "link/ether 02:00:00:00:00:01" "$W/link" || fail "tap0 MAC: $(cat "$W/link")"
ip -br addr show dev tap0 | grep -q "198.18.0.1/24" || fail "tap0 has no 198.18.0.1/24"
ip -br addr show dev tap0 | grep -q "2001:db8::1/64" || fail "tap0 has no 2001:db8::1/64"
pc port add tap1 --type tun --down
expect_rc 0
ip -o link show dev tap1 | grep -q "<.*UP.*>" && fail "tap1 is up after --down"
pc --json port add mq1 --type tun --queues 2
expect_rc 0
expect_eq "$(jq -c '[.config.queues, (.status.queues | length)]' "$W/out")" "[2,2]" \
	"pairctl port add --queues 2"
ip -d link show dev mq1 | grep -q multi_queue || fail "mq1 is not a multi-queue tun"
pc port del mq1
expect_rc 0

pc ports
expect_rc 0
grep -q "^tap0  *tap  *up  *1400  *02:00:00:00:00:01  *198.18.0.1/24,2001:db8::1/64 " "$W/out" ||
	fail "the ports table: $(cat "$W/out")"
grep -q "^tap1  *tun  *down " "$W/out" || fail "the ports table: $(cat "$W/out")"
pc ports --quiet
expect_rc 0
expect_eq "$(tr '\n' ' ' <"$W/out")" "tap0 tap1 " "pairctl ports --quiet"
# --json is the API's document, global options anywhere on the line.
pc ports --json
expect_rc 0
jq -e '.ports | length == 2 and .[0].name == "tap0"' "$W/out" >/dev/null ||
	fail "pairctl ports --json: $(cat "$W/out")"
pc port show tap0
expect_rc 0
out_has "^port tap0"
out_has "rx_frames"
pc --json port show tap0
expect_rc 0
expect_eq "$(jq -r .name "$W/out")" tap0 "pairctl --json port show tap0"

note "an API error exits 1 with the problem's text"
pc port add tap0 --type tap
expect_rc 1
grep -q "^pairctl: [A-Z][^:]*: .*tap0.* (field name)$" "$W/err" ||
	fail "$LAST: stderr: $(cat "$W/err")"
pc --json port add tap0 --type tap
expect_rc 1
jq -e '.status == 409 and .field == "name"' "$W/out" >/dev/null ||
	fail "$LAST: stdout is not the problem: $(cat "$W/out")"
pc port add tap2 --type tap --mtu 10 --mac 01:00:00:00:00:01
expect_rc 1
err_has "(field mtu)"
ip link show dev tap2 >/dev/null 2>&1 && fail "a refused port add made tap2"
# Every field the problem lists (paird lists each invalid field in errors).
api POST /api/v1/ports '{"name":"tap2","type":"tap","mtu":10,"mac":"01:00:00:00:00:01"}'
jq -r '(.errors // [])[] | "  \(.field): \(.detail)"' "$W/body" >"$W/expected"
while IFS= read -r line; do
	grep -qxF -- "$line" "$W/err" || fail "$LAST: stderr lacks the errors entry '$line'"
done <"$W/expected"
# A name that would reach another resource once paird decodes and resolves the
# path is refused before anything is sent ("unbind tap0 .." is DELETE /ports/tap0
# to a client that resolves dot segments).
usage "'..' is not a binding id or name" unbind tap0 ..
usage "'tap0/bindings/1' is not a port name" port del tap0/bindings/1
usage "'..' is not a port name" port del ..
usage "'a%2Fb' is not a binding name" bind tap0 any count --name a%2Fb
ip link show dev tap0 >/dev/null 2>&1 || fail "a refused name deleted tap0"
pc port show nosuch
expect_rc 1
err_has "^pairctl: .*nosuch"
pc port del nosuch
expect_rc 1

note "port set: a merge patch, seen by ip"
pc port set tap0 --mtu 1300
expect_rc 0
out_has "port tap0: changed"
ip -o link show dev tap0 | grep -q "mtu 1300" || fail "pairctl port set --mtu: $(ip -o link show dev tap0)"
pc port set tap0 --addr 198.18.0.1/24 --addr 2001:db8::1/64 --mtu 1400
expect_rc 0
ip -o link show dev tap0 | grep -q "mtu 1400" || fail "pairctl port set --mtu 1400"
# A patch that changes nothing says so; a stale ETag is refused (412) and changes nothing.
pc port set tap0 --mtu 1400
expect_rc 0
out_has "port tap0: unchanged"
pc port set tap0 --mtu 1200 --if-match '"1"'
expect_rc 1
err_has "^pairctl: Precondition Failed: "
ip -o link show dev tap0 | grep -q "mtu 1400" || fail "a refused pairctl port set changed the MTU"
# The version port show prints is an ETag --if-match takes as it is.
pc --json port show tap0
expect_rc 0
VERSION=$(jq -r .version "$W/out")
pc port set tap0 --mtu 1400 --strict --if-match "$VERSION"
expect_rc 0
out_has "port tap0: changed"
pc port set tap0 --no-strict --if-match "\"$VERSION\""
expect_rc 1
err_has "^pairctl: Precondition Failed: "
pc port set tap0 --no-strict
expect_rc 0

note "bind: MATCH shorthand, --opt, the bindings table"
pc bind tap0 arp arp_reply --opt addresses=198.18.0.2
expect_rc 0
out_has "bound arp_reply at arp on tap0: binding 1"
pc bind tap0 udp/9 capture --opt snaplen=200 --opt "filter=udp dst port 9"
expect_rc 0
out_has "binding 2"
pc bind tap0 icmp echo
expect_rc 0
pc bind tap0 ethertype/0x88cc count
expect_rc 0
apiq /api/v1/ports/tap0/bindings >"$W/b.json"
jq -e '[.bindings[] | (.config.match // .match)] ==
	[{"ethertype":2054}, {"ethertype":2048,"ip_protocol":17,"udp_port":9},
	 {"ethertype":2048,"ip_protocol":1}, {"ethertype":35020}]' "$W/b.json" >/dev/null ||
	fail "the matches pairctl bound: $(cat "$W/b.json")"
jq -e '.bindings[1] | (.config.options // .options) |
	.snaplen == 200 and .filter == "udp dst port 9"' "$W/b.json" >/dev/null ||
	fail "the options pairctl bound: $(cat "$W/b.json")"
pc bindings tap0
expect_rc 0
out_has "^ID  *NAME  *MATCH  *HANDLER"
grep -q "^1  .*  arp  *arp_reply " "$W/out" || fail "bindings table: $(cat "$W/out")"
grep -q "^2  .*  udp/9  *capture " "$W/out" || fail "bindings table: $(cat "$W/out")"
grep -q "^3  .*  icmp  *echo " "$W/out" || fail "bindings table: $(cat "$W/out")"
grep -q "^4  .*  ethertype/0x88cc  *count " "$W/out" || fail "bindings table: $(cat "$W/out")"
pc --json bindings tap0
expect_rc 0
expect_eq "$(jq '.bindings | length' "$W/out")" 4 "pairctl --json bindings"
pc bind tap0 udp/9 frobnicate
expect_rc 1
err_has "(field handler)"

note "named bindings: --name is an idempotent PUT"
pc bind tap0 udp/7 echo --name echo7
expect_rc 0
out_has "(name echo7)"
pc bind tap0 udp/7 echo --name echo7
expect_rc 0
out_has "unchanged"
pc bindings tap0 --quiet
expect_rc 0
expect_eq "$(grep -c '^echo7$' "$W/out")" 1 "echo7 bound twice with --name"
pc bind tap0 udp/7 echo --name echo7 --create-only
expect_rc 1

note "captures: a datagram from the kernel side, read by tshark from the pipe"
echo -n hello-pairctl >/dev/udp/198.18.0.2/9
got_capture() { [ "$(apiq /api/v1/ports/tap0/captures | jq '.records | length')" -ge 1 ]; }
wait_until 5 got_capture || fail "the datagram was not captured: $(apiq /api/v1/ports/tap0)"
RC=0
timeout 20 "$PAIRCTL" --socket "$SOCK" captures tap0 2>"$W/err" |
	tshark -n -r - -T fields -e udp.dstport -e data.data >"$W/tshark.out" 2>"$W/tshark.err" ||
	RC=$?
expect_rc 0
grep -q "^9	$(echo -n hello-pairctl | od -An -tx1 | tr -d ' \n')$" "$W/tshark.out" ||
	fail "tshark -r - did not see the datagram: $(cat "$W/tshark.out" "$W/tshark.err")"
RC=0
timeout 20 "$PAIRCTL" --socket "$SOCK" captures tap0 --pcapng 2>"$W/err" >"$W/cap.pcapng" || RC=$?
LAST="pairctl captures tap0 --pcapng"
expect_rc 0
expect_eq "$(head -c 4 "$W/cap.pcapng" | od -An -tx1 | tr -d ' ')" 0a0d0d0a "the pcapng magic"
tshark -n -r - -T fields -e udp.dstport <"$W/cap.pcapng" 2>/dev/null | grep -qx 9 ||
	fail "tshark did not read the datagram from pairctl captures --pcapng"
pc captures tap0 --pcapng --json
expect_rc 2
pc --json captures tap0
expect_rc 0
jq -e '.records | length >= 1' "$W/out" >/dev/null || fail "captures --json: $(cat "$W/out")"
SEQ=$(jq -r .next_after "$W/out")
# To a terminal: refused, nothing written.
RC=0
script -qec "$PAIRCTL --socket $SOCK captures tap0" /dev/null >"$W/tty.out" 2>&1 </dev/null || RC=$?
LAST="pairctl captures tap0 on a terminal"
expect_rc 2
grep -q "refusing to write a binary capture file to a terminal" "$W/tty.out" ||
	fail "$LAST: $(cat "$W/tty.out")"
pc captures nosuch
expect_rc 1

note "captures --follow into a pipe sees a datagram sent after it started"
mkfifo "$W/fifo"
"$PAIRCTL" --socket "$SOCK" captures tap0 --follow --after "$SEQ" >"$W/fifo" 2>"$W/follow.err" &
FOLLOW_PID=$!
tshark -l -n -r - -T fields -e udp.dstport -e data.data <"$W/fifo" >"$W/follow.out" \
	2>"$W/follow.tshark" &
TSHARK_PID=$!
EXTRA_CLEANUP='kill $FOLLOW_PID $TSHARK_PID 2>/dev/null || true'
following() { apiq /metrics | grep -q '^paird_capture_streams 1$'; }
wait_until 5 following || fail "the follow stream did not start: $(cat "$W/follow.err")"
echo -n after-follow >/dev/udp/198.18.0.2/9
want="^9	$(echo -n after-follow | od -An -tx1 | tr -d ' \n')$"
seen() { grep -q "$want" "$W/follow.out"; }
wait_until 5 seen || fail "captures --follow | tshark did not see the datagram within 5 s:" \
	"$(cat "$W/follow.out" "$W/follow.err" "$W/follow.tshark")"
# Only what came after --after: the first datagram is not in the stream.
grep -q "$(echo -n hello-pairctl | od -An -tx1 | tr -d ' \n')" "$W/follow.out" &&
	fail "captures --follow --after $SEQ repeated an older record"
kill "$FOLLOW_PID"
wait "$FOLLOW_PID" 2>/dev/null || true
wait "$TSHARK_PID" 2>/dev/null || true
EXTRA_CLEANUP=

note "captures --json --follow: one JSON record a line, as they are captured"
"$PAIRCTL" --socket "$SOCK" --json captures tap0 --follow --after "$SEQ" >"$W/lines" \
	2>"$W/lines.err" &
LINES_PID=$!
EXTRA_CLEANUP='kill $LINES_PID 2>/dev/null || true'
echo -n json-follow >/dev/udp/198.18.0.2/9
hex=$(echo -n json-follow | od -An -tx1 | tr -d ' \n')
lines_seen() { grep -qi "$hex" "$W/lines"; }
wait_until 5 lines_seen || fail "captures --json --follow did not print the datagram within 5 s:" \
	"$(cat "$W/lines" "$W/lines.err")"
kill "$LINES_PID"
wait "$LINES_PID" 2>/dev/null || true
EXTRA_CLEANUP=
jq -s -e --argjson s "$SEQ" 'length >= 2 and all(.[]; .seq > $s and .len > 0)' "$W/lines" \
	>/dev/null || fail "captures --json --follow lines: $(cat "$W/lines")"
usage "--limit is for one --json page" --json captures tap0 --follow --limit 5

# The port deleted while the long poll waits: the follower ends (exit 0) and
# paird lives on (it used to read the freed ring and crash).
pc port add gone0 --type tap
expect_rc 0
pc bind gone0 udp/9 capture
expect_rc 0
"$PAIRCTL" --socket "$SOCK" --json captures gone0 --follow >"$W/gone.out" 2>"$W/gone.err" &
GONE_PID=$!
EXTRA_CLEANUP='kill $GONE_PID 2>/dev/null || true'
polling() { apiq /metrics | grep -q '^paird_http_streams 1$'; }
wait_until 5 polling || fail "captures --json --follow on gone0 is not waiting: $(cat "$W/gone.err")"
pc port del gone0
expect_rc 0
ended() { ! kill -0 "$GONE_PID" 2>/dev/null; }
wait_until 5 ended || fail "captures --json --follow did not end when its port was deleted"
RC=0
wait "$GONE_PID" || RC=$?
EXTRA_CLEANUP=
LAST="pairctl --json captures gone0 --follow, its port deleted"
kill -0 "$PAIRD_PID" 2>/dev/null || fail "paird died when a port was deleted under a long poll"
expect_rc 0
[ -s "$W/gone.err" ] && fail "$LAST: $(cat "$W/gone.err")"

note "counters"
pc counters tap0
expect_rc 0
out_has "^  rx_frames  *[1-9]"
out_has "capture  *[0-9]"
pc --json counters tap0
expect_rc 0
jq -e '.rx_frames >= 2 and (.bindings | length == 5)' "$W/out" >/dev/null ||
	fail "pairctl --json counters: $(cat "$W/out")"

note "TCP with a token: --url and --token-file, PAIRD_TOKEN"
RC=0
"$PAIRCTL" --url "$BASE" --token-file "$W/run/token" ports --quiet >"$W/out" 2>"$W/err" || RC=$?
LAST="pairctl --url --token-file ports"
expect_rc 0
out_has "^tap0$"
RC=0
PAIRD_TOKEN=$TOKEN PAIRD_URL=$BASE "$PAIRCTL" ports --quiet >"$W/out" 2>"$W/err" || RC=$?
expect_rc 0
RC=0
"$PAIRCTL" --url "$BASE" ports >"$W/out" 2>"$W/err" </dev/null || RC=$?
LAST="pairctl --url ports without a token"
expect_rc 1
err_has "^pairctl: Unauthorized"

note "unbind by name and id, port del"
pc unbind tap0 echo7
expect_rc 0
pc unbind tap0 4
expect_rc 0
pc unbind tap0 4
expect_rc 1
err_has "^pairctl: .*"
pc bindings tap0 --quiet
expect_eq "$(tr '\n' ' ' <"$W/out")" "1 2 3 " "the bindings left"
pc port del tap1
expect_rc 0
pc port del tap0
expect_rc 0
out_has "deleted port tap0"
ip link show dev tap0 >/dev/null 2>&1 && fail "tap0 is still there after pairctl port del"
pc ports --quiet
expect_eq "$(cat "$W/out")" "" "ports after port del"

note "bash completion: complete -p and COMP_WORDS"
cat >"$W/complete.sh" <<EOF
set -u
. "$ROOT/dist/pairctl.bash-completion"
complete -p pairctl | grep -q -- "-F _pairctl pairctl" || { echo "not registered"; exit 1; }
# comp WORDS...: what completing the last word offers, sorted, on one line.
comp() {
	COMP_WORDS=("\$@")
	COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_pairctl
	printf '%s\n' "\${COMPREPLY[@]}" | sort | tr '\n' ' '
	echo
}
EOF
cat >>"$W/complete.sh" <<'EOF'
check() {
	local want=$1
	shift
	local got
	got=$(comp "$@")
	[ "$got" = "$want" ] || { echo "completing '$*': got '$got', expected '$want'"; exit 1; }
}
check "port ports " pairctl po
check "add del set show " pairctl port ""
check "--type " pairctl port add tap5 --ty
check "tap tun " pairctl port add tap5 --type ""
check "udp udp/ udp6 udp6/ " pairctl bind tap5 ud
check "capture count " pairctl bind tap5 udp/53 c
check "--filter --follow " pairctl captures tap5 --f
check "--dry-run " pairctl apply x --dr
check "--json " pairctl --js
EOF
bash "$W/complete.sh" || fail "bash completion"
# Every command pairctl --help lists is completed, and no other.
"$PAIRCTL" --help | sed -n 's/^  \([a-z]*\) .*/\1/p' | sort -u >"$W/cmds.help"
printf '%s\n' $(bash -c ". '$ROOT/dist/pairctl.bash-completion'; COMP_WORDS=(pairctl ''); \
	COMP_CWORD=1; _pairctl; printf '%s\n' \"\${COMPREPLY[@]}\"") | grep -v '^help$' |
	sort >"$W/cmds.comp"
diff -u "$W/cmds.help" "$W/cmds.comp" >&2 || fail "the completion's commands differ from --help's"
# Names come from paird, over the socket given on the line.
pc port add sim0 --type tap
expect_rc 0
pc bind sim0 icmp echo --name pong
expect_rc 0
cat >>"$W/complete.sh" <<EOF
check "sim0 " "$PAIRCTL" --socket "$SOCK" bindings s
check "sim0 " "$PAIRCTL" --socket "$SOCK" port show ""
check "pong " "$PAIRCTL" --socket "$SOCK" unbind sim0 ""
EOF
bash "$W/complete.sh" || fail "bash completion of names"

note "the man page: renders without warnings, documents every command and option"
groff -t -man -ww -z "$ROOT/dist/pairctl.1" 2>"$W/groff.err" || fail "groff failed"
[ -s "$W/groff.err" ] && fail "pairctl.1 has groff warnings: $(cat "$W/groff.err")"
MANWIDTH=200 man -l "$ROOT/dist/pairctl.1" 2>/dev/null >"$W/man.txt" || fail "man -l pairctl.1"
while read -r c; do
	grep -q "^   $c" "$W/man.txt" || fail "pairctl.1 has no section for '$c'"
done <"$W/cmds.help"
for c in ports "port show" "port add" "port set" "port del" bind unbind bindings captures \
	counters apply diff config; do
	# shellcheck disable=SC2086
	for o in $("$PAIRCTL" $c --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p'); do
		grep -q -- "$o" "$W/man.txt" || fail "pairctl.1 does not document $c $o"
	done
done
note "pairctl: every command end to end, exit statuses, completion and man page"
