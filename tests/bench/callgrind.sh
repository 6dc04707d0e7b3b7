#!/bin/sh
# SPDX-License-Identifier: MIT
# Instructions per frame of paird's per-frame path (issue 11), counted by
# callgrind on the memory I/O harness (tests/bench/memio_bench.c): only what
# runs inside port_read_ready() is collected (the read loop, parser,
# dispatch, handlers, up to the write call), minus the harness's own read
# and write (a memcpy of the frame: the kernel's work on a real device),
# divided by the frames read. Start-up and set-up are not collected, so one
# run does. Deterministic to a few instructions; needs no root.
#   callgrind.sh [memio_bench options: -c CASE -T tun|tap -s PAYLOAD -b N]
# Env: MEMIO_BENCH (build/tests/memio_bench), N (10000 frames).
set -eu
bin=${MEMIO_BENCH:-$(dirname "$0")/../../build/tests/memio_bench}
n=${N:-10000}
tmp=$(mktemp -d /tmp/paird-callgrind.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=port_read_ready \
	--toggle-collect=fast_read --toggle-collect=fast_write "$bin" "$@" -n "$n" \
	>"$tmp/stdout" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; exit 1; }
ir=$(sed -n 's/.*Collected : //p' "$tmp/stderr")
[ -n "$ir" ] || { cat "$tmp/stderr" >&2; exit 1; }
echo "RESULT callgrind $(sed -n 's/^RESULT memio //p' "$tmp/stdout") ir_per_frame=$((ir / n))"
