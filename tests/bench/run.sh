#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: paird measured side by side with the bare-read limit (a C
# libevent loop that only read()s the device) and the Twisted Pair peer, in
# one run of ../shared/bench/run-anchors.sh on a scratch copy, with the same
# generator. Frames go through paird's whole path: read loop, parser,
# dispatch to a count binding at UDP port 9000 (Twisted's chain). Figures
# are medians of REPS runs, reported as ratios to the limit of the same run.
# Measured, never pass/fail. Needs root (the bench's network namespaces);
# every load is bounded in packets and seconds by run-anchors.sh.
#
# Env: REPS (3), SECTIONS ("limit twisted"; add http, tcpdump, ...),
#      BENCH_SRC (../shared/bench), PAIRD (build/paird), OUT (build/bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${BENCH_SRC:-$root/../shared/bench}
paird=${PAIRD:-$root/build/paird}
out=${OUT:-$root/build/bench}
[ -d "$src" ] || { echo "bench: $src is missing" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root for network namespaces" >&2; exit 77; }

scratch=$(mktemp -d /tmp/paird-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cp -r "$src/." "$scratch/"
# svc_drive.py walks the counter key through objects only; paird's port list
# is an array, so let it index lists too (a scratch copy; shared/ is untouched).
sed -i 's/                v = v\[part\]/                v = v[int(part)] if isinstance(v, list) else v[part]/' \
	"$scratch/tools/svc_drive.py"
grep -q 'isinstance(v, list)' "$scratch/tools/svc_drive.py" ||
	{ echo "bench: could not adapt svc_drive.py" >&2; exit 1; }
make -s -C "$scratch" >/dev/null

mkdir -p "$out"
SERVICE_CMD="$root/tests/bench/paird-service.sh $paird {if} {dev} {port} $scratch" \
SERVICE_NAME="paird $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo dev)" \
SERVICE_STATS_PATH=/api/v1/ports SERVICE_RX_KEY=ports.0.counters.rx_frames \
SECTIONS=${SECTIONS:-"limit twisted"} REPS=${REPS:-3} CALLGRIND=0 \
OUT="$scratch/results/run" "$scratch/run-anchors.sh" | tee "$out/anchors-table.txt"
cp "$scratch/results/run/runs.tsv" "$out/runs.tsv"
cp "$scratch/anchors.md" "$out/anchors.md" 2>/dev/null || true
python3 "$root/tests/bench/ratios.py" "$out/runs.tsv" | tee "$out/ratios.md"
echo "bench: results in $out"
