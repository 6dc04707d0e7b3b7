#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's walk-through works when pasted: its shell blocks (from "A
# walk-through with curl" up to "The API in short") run, as root, against a
# paird started the way `make run` starts it (the Makefile's own run line),
# with paird's default socket and generated token.
#
# Topology: one private network namespace (the walk-through makes tap0,
# tun0, tap1 and sim0 with 198.18.0.0/15 and 2001:db8::/32 addresses) and a
# private mount namespace with a fresh tmpfs on /run for /run/paird.
NETNS_MOUNT=1
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
mount -t tmpfs -o mode=755 tmpfs /run
# Addresses are usable at once (no duplicate address detection delay), as
# they would be by the time a person types the next command.
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for tool in jq tshark ping; do
	command -v $tool >/dev/null || fail "$tool is missing (make test-deps)"
done

# paird's arguments in `make run`, from the Makefile itself.
run_args=$(sed -n 's/^\t$(Q)exec $(BUILD)\/paird \(.*\) $(ARGS)$/\1/p' "$ROOT/Makefile")
[ -n "$run_args" ] || fail "no run recipe found in the Makefile"
note "paird as make run starts it: paird $run_args"
# shellcheck disable=SC2086
PAIRD_DEFAULTS=1 start_paird $run_args
expect_eq "$PORT" 8080 "the port of make run"

awk '/^## A walk-through with curl/ { on = 1 } /^## The API in short/ { on = 0 }
	on && /^```sh$/ { code = 1; next } on && /^```$/ { code = 0; next } on && code' \
	"$ROOT/README.md" >"$W/walk.sh"
[ "$(grep -c 'unix-socket' "$W/walk.sh")" -ge 2 ] || fail "the walk-through does not use the socket"
note "running $(wc -l <"$W/walk.sh") lines of the README's walk-through"
rc=0
(cd "$W" && timeout 60 bash "$W/walk.sh") >"$W/walk.out" 2>"$W/walk.err" || rc=$?
[ "$rc" = 0 ] || fail "the walk-through failed ($rc): $(tail -n 20 "$W/walk.err")"

out() { grep -c -- "$1" "$W/walk.out" || true; }
expect_eq "$(out '^HTTP/1.1 201 Created')" 2 "the first POST's and the first PUT's status lines"
expect_eq "$(grep -ci '^paird-changed: false' "$W/walk.out" || true)" 1 "the repeated PUT"
expect_eq "$(out 'urn:paird:problem:precondition-failed')" 1 "the PATCH with a stale ETag"
expect_eq "$(grep -c '^{"id":1,"name":"dns","version":' "$W/walk.out" | tr -d ' ')" 2 \
	"the named binding PUT twice"
expect_eq "$(grep '^{"id":1,"name":"dns","version":' "$W/walk.out" | sort -u | wc -l | tr -d ' ')" 1 \
	"the named binding's version after the repeated PUT"
expect_eq "$(out '^204$')" 4 "the DELETEs (three in the loop, then sim0)"
expect_eq "$(out 'urn:paird:problem:invalid-field')" 1 "the problem for mtu 20"
expect_eq "$(out '"ports":\[')" 1 "the TCP call with the token"
expect_eq "$(out '"status":"ok"')" 1 "the health check"
expect_eq "$(out ' 2 received')" 2 "the pings of the simulated host (IPv4, IPv6)"
[ "$(out 'paird_port_rx_frames_total{')" -ge 1 ] || fail "no metrics line: $(cat "$W/walk.out")"
grep -q 'ICMP' "$W/walk.out" || fail "tshark showed no ICMP from the pcap: $(cat "$W/walk.out")"
! grep -q 'unauthorized\|curl: (' "$W/walk.out" "$W/walk.err" ||
	fail "a walk-through call was refused: $(cat "$W/walk.out" "$W/walk.err")"
for dev in tap0 tun0 tap1 sim0; do
	! ip link show dev $dev >/dev/null 2>&1 || fail "$dev outlived the walk-through"
done
stop_paird
expect_eq "$PAIRD_RC" 0 "exit status"
