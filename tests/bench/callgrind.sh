#!/bin/sh
# SPDX-License-Identifier: MIT
# Instructions per frame of paird's per-frame path (issue 11), counted by
# callgrind on the memory I/O harness (tests/bench/memio_bench.c): two runs
# of N1 and N2 frames, (Ir2 - Ir1) / (N2 - N1), so start-up and teardown
# cancel out. The harness's read (a memcpy of the frame, the kernel's work
# on a real device) is not collected (--toggle-collect), so the figure is
# paird's own: read loop, parser, dispatch, handlers, and the write call
# up to the device. Deterministic to a few instructions; needs no root.
#   callgrind.sh [memio_bench options: -c CASE -T tun|tap -s PAYLOAD -b N]
# Env: MEMIO_BENCH (build/tests/memio_bench), N1 (2000), N2 (12000).
set -eu
bin=${MEMIO_BENCH:-$(dirname "$0")/../../build/tests/memio_bench}
n1=${N1:-2000} n2=${N2:-12000}
tmp=$(mktemp -d /tmp/paird-callgrind.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ir() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out.$1" \
		--toggle-collect=main --toggle-collect=fast_read --toggle-collect=fast_write "$bin" "$@" -n "$1" \
		>"$tmp/stdout.$1" 2>"$tmp/stderr.$1" ||
		{ cat "$tmp/stderr.$1" >&2; exit 1; }
	sed -n 's/.*Collected : //p' "$tmp/stderr.$1"
}
a=$(ir "$n1" "$@")
b=$(ir "$n2" "$@")
echo "RESULT callgrind $(sed -n 's/^RESULT memio //p' "$tmp/stdout.$n2" | sed 's/ frames=[0-9]*//') \
ir_per_frame=$(( (b - a) / (n2 - n1) ))"
