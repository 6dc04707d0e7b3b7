#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench` must not rot (issue 11): its quick mode (BENCH_QUICK=1: 3,000
# frames per case, one repetition) runs every case on tun and tap, and each
# produces a row with frames counted: the bare-read limit, count, capture,
# echo, forward, the simulated host (drained and under ping -f), 1 and 4,096
# count bindings, count on a vnet_hdr tun fed GSO super-frames (tun only),
# the Twisted Pair peer, and callgrind's instructions per frame on the
# memory I/O harness; the API for a light client, under wrk and followers
# with the data plane idle and saturated, resident memory per item and the syscalls
# of a drain (strace -c); the report prints them. Nothing is timed
# or judged here: the figures are the bench's business, the rows are ours.
# The bench makes its own namespaces (198.18.0.0/15, bounded loads) and
# removes them; this script runs it from a private one of its own.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

root=$(cd "$(dirname "$0")/../.." && pwd)
src=${BENCH_SRC:-$root/../shared/bench}
memio=${MEMIO_BENCH:-$root/build/tests/memio_bench}
[ -d "$src" ] || skip "the bench's generator and limit reader ($src) are missing"
[ -x "$memio" ] || fail "$memio is missing (make build/tests/memio_bench)"
/usr/bin/python3 -c 'import twisted.pair.tuntap' 2>/dev/null ||
	skip "python3-twisted is missing (the Twisted Pair peer)"
command -v valgrind >/dev/null || skip "valgrind is missing (instructions per frame)"
command -v wrk >/dev/null || skip "wrk is missing (the API under load)"
command -v strace >/dev/null || skip "strace is missing (syscalls per frame)"
cases="limit count capture echo echo-vnet forward host ping many gso gso-forward mq twisted http memory strace callgrind"
# callgrind cannot run a sanitized harness (make asan): the other cases still run.
if nm "$memio" 2>/dev/null | grep -q __asan_init; then
	cases=${cases% callgrind}
	note "the harness is built with ASan: callgrind's figures are left out"
fi

out=$W/bench
BENCH_QUICK=1 CASES=$cases OUT=$out PAIRD=$PAIRD MEMIO_BENCH=$memio BENCH_SRC=$src \
	"$root/tests/bench/run.sh" >"$W/bench.log" 2>&1 || {
	tail -n 40 "$W/bench.log" >&2
	fail "tests/bench/run.sh failed"
}
runs=$out/runs.tsv
[ -s "$runs" ] || fail "no runs.tsv"
if grep -E '^fig=.* error=' "$runs" >&2; then
	fail "runs with errors (above)"
fi

# One row per figure with frames read: rx_pkts for the rates, ir_per_frame
# for callgrind, ns_per_frame for the harness timed.
row() { # fig key
	local v
	v=$(grep -m1 "^fig=$1 " "$runs" | grep -o " $2=[0-9.]*" | cut -d= -f2)
	[ -n "$v" ] || fail "no row for $1 (or no $2 in it)"
	awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "$1: $2=$v"
}
for dev in tun tap; do
	for c in limit count capture echo echo-vnet forward host ping many-1 many-4096 twisted \
		twisted-capture twisted-echo twisted-forward twisted-host rw-echo rw-forward; do
		row "$c/$dev/64" rx_pkts
	done
	# The writing references wrote what they read.
	for c in rw-echo rw-forward; do
		row "$c/$dev/64" rx_writes
	done
	# paird's drains count every frame the generator queued.
	for c in count capture echo echo-vnet forward host many-1 many-4096; do
		n=$(grep -m1 "^fig=$c/$dev/64 " "$runs" | grep -o ' rx_pkts=[0-9]*' | cut -d= -f2)
		[ "$n" -ge 3000 ] || fail "$c/$dev/64: paird read $n of 3000 frames"
	done
	# echo-vnet answered every frame, and in fewer writes (USO, Linux 6.2 and later).
	n=$(grep -m1 "^fig=echo-vnet/$dev/64 " "$runs" | grep -o ' tx_frames=[0-9]*' | cut -d= -f2)
	[ "${n:-0}" -ge 3000 ] || fail "echo-vnet/$dev/64: paird answered ${n:-no} of 3000 frames"
	[ "$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')" -lt 6002 ] ||
		row "echo-vnet/$dev/64" tx_gso_frames
done
# Case g: the datagrams of UDP GSO super-frames, all counted, super-frames seen.
row gso/tun/64 rx_pkts
# USO (Linux 6.2 and later); before, the kernel segments and paird reads datagrams.
if [ "$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')" -ge 6002 ]; then
	row gso/tun/64 rx_gso_frames
else
	note "kernel $(uname -r) has no USO: case gso read the kernel's segments"
fi
n=$(grep -m1 "^fig=gso/tun/64 " "$runs" | grep -o ' rx_pkts=[0-9]*' | cut -d= -f2)
[ "$n" -ge 3000 ] || fail "gso/tun/64: paird read $n of 3000 datagrams"
grep -q "^| gso | tun | 64 B | " "$out/ratios.md" || fail "ratios.md has no gso/tun row"
# gso-forward: every datagram forwarded; with USO, in fewer writes than datagrams.
n=$(grep -m1 "^fig=gso-forward/tun/64 " "$runs" | grep -o ' tx_frames=[0-9]*' | cut -d= -f2)
[ "${n:-0}" -ge 3000 ] || fail "gso-forward/tun/64: paird forwarded ${n:-no} of 3000 datagrams"
[ "$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')" -lt 6002 ] ||
	row gso-forward/tun/64 tx_gso_frames
# Case h: both queue counts drained every frame, and the report has its table.
for c in mq-1 mq-2; do
	n=$(grep -m1 "^fig=$c/tun/64 " "$runs" | grep -o ' rx_pkts=[0-9]*' | cut -d= -f2)
	[ "${n:-0}" -ge 3000 ] || fail "$c/tun/64: paird read ${n:-no} of 3000 frames"
done
grep -q "^| 64 | .* | .* | [0-9.]* | " "$out/ratios.md" || fail "ratios.md has no (h) row"
if [ "${cases%callgrind}" != "$cases" ]; then
	for c in count capture echo forward host ping many-1 many-4096; do
		row "cg/$c/tap/64" ir_per_frame
		# The same case timed natively: paird's part of the loop, the harness's beside it.
		row "cyc/$c/tap/64" ns_per_frame
		row "cyc/$c/tap/64" harness_ns_per_frame
		[ "$(uname -m)" != x86_64 ] || row "cyc/$c/tap/64" tsc_per_frame
	done
fi

# The report has a line per case and device, and the Twisted comparison.
for c in count capture echo echo-vnet forward host ping many-1 many-4096; do
	for dev in tun tap; do
		grep -q "^| $c | $dev | 64 B | " "$out/ratios.md" || fail "ratios.md has no $c/$dev row"
	done
done
for c in count capture echo forward host; do
	for dev in tun tap; do
		grep -q "^| $c | $dev | 64 B | .*x |" <(sed -n '/Twisted Pair peer doing the same work/,$p' \
			"$out/ratios.md") || fail "ratios.md has no Twisted row for $c/$dev"
	done
done
grep -q "^| echo | tap | 64 B | .* | 1 |" <(sed -n '/bare read-and-write loop/,$p' "$out/ratios.md") ||
	fail "ratios.md has no bare read-and-write table"

# The API (on tap in quick mode): the light client got every answer on each
# path, wrk answered every request (rps > 0, no errors) on each path (8
# connections in quick mode), the data plane idle and saturated; while
# saturated paird counted frames in every window; every follower got every
# record.
for load in idle sat; do
	for c in light-ports light-captures light-follow; do
		row "http/tap/$c/$load" p99_ms
		grep -m1 "^fig=http/tap/$c/$load " "$runs" | grep -q ' errors=0 ' ||
			fail "http/tap/$c/$load: the light client saw errors"
	done
	for c in ports@8 captures@8; do
		row "http/tap/$c/$load" requests
		row "http/tap/$c/$load" p99_us
		grep -m1 "^fig=http/tap/$c/$load " "$runs" | grep -q ' errors=0 ' ||
			fail "http/tap/$c/$load: wrk saw errors"
		[ "$load" = sat ] && row "http/tap/$c/$load" dp_pps
	done
	row "http/tap/follow/$load" agg_rps
	grep -m1 "^fig=http/tap/follow/$load " "$runs" | grep -q ' done=4 ' ||
		fail "http/tap/follow/$load: not every follower got every record"
done
row http/tap/noapi/sat dp_pps
# Memory: a figure for every item.
for m in port binding captured-frame client-idle client-stalled; do
	row "mem/$m" n
	grep -q "^fig=mem/$m .* bytes_per=-\?[0-9]" "$runs" || fail "mem/$m: no bytes_per"
done
# Syscalls: strace saw the drain's reads (at least one per frame).
for c in count echo; do
	row "strace/$c" sc_read
	n=$(grep -m1 "^fig=strace/$c " "$runs" | grep -o ' frames=[0-9]*' | cut -d= -f2)
	r=$(grep -m1 "^fig=strace/$c " "$runs" | grep -o ' sc_read=[0-9]*' | cut -d= -f2)
	[ "${n:-0}" -ge 2000 ] && [ "$r" -ge "$n" ] || fail "strace/$c: $r reads for $n frames"
done
for t in "light client" "The API under load" "Followers:" "Resident memory" "Syscalls of paird" \
	"strace -c -f, count"; do
	grep -q "$t" "$out/ratios.md" || fail "ratios.md has no '$t' table"
done
note "every bench case produced its row ($(grep -c '^fig=' "$runs") runs)"
