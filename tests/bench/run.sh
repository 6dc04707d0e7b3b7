#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench (issue 11): paird measured case by case, side by side with the
# bare-read limit (the C libevent loop of ../shared/bench that only read()s
# the device) and, for the chain it implements, the Twisted Pair peer, in one
# run with the same generator, on the same persistent devices. Built from
# ../shared/bench on a scratch copy (netns.sh, gen, tunread, twisted_peer.py);
# shared/ is never written.
#
# Cases, tun and tap, 64 and 1,400 bytes of UDP payload:
#   count     a count binding at UDP port 9000 (Twisted's chain)
#   capture   a capture binding at the root: every frame into the ring
#   echo      UDP echo at port 9000: a reply written per datagram
#   forward   every frame forwarded to a second port paird creates
#   host      the simulated host (ARP reply on tap, ICMP echo, UDP echo at
#             port 7), fed UDP datagrams to port 7 (a rate against the limit)
#   ping      the same host under `ping -f` from the kernel side (request and
#             reply in turn: a rate, no limit to compare with)
#   many-N    N count bindings on distinct UDP ports (N in MANY), frames spread
#             over min(N, 4096) ports; 64 B
#   twisted   the Twisted Pair peer on the count chain
#   callgrind paird's instructions per frame for each case on the memory I/O
#             harness (tests/bench/callgrind.sh; no kernel, deterministic)
# Each rate is a drain: the reader is stopped, the generator pre-fills the
# device queue, the reader is let go; paird is timed through its counters
# (tests/bench/drain.py: its CPU time sampled every millisecond, the counters
# read before and after), the limit and Twisted by themselves. CPU per frame
# is each process's own CPU time (user + system) over the frames it read.
# Figures are medians of REPS runs, interleaved (rep 1 of everything, then
# rep 2, ...), reported as ratios to the limit of the same run: measured,
# never pass/fail. Every load is bounded in frames and seconds; everything
# runs in namespaces made here (198.18.0.0/15), removed on exit.
#
# Env: REPS (3), N_DRAIN (100000 frames at 64 B), N_DRAIN_BIG (50000 at
#      1400 B), N_PY (30000, Twisted), N_PING (10000), MANY ("1 16 256 4096"),
#      DEVS ("tun tap"), SIZES ("64 1400"), CASES (all of the above),
#      BENCH_QUICK=1 (3,000 frames per case, one rep, 64 B, many-1 and
#      many-4096, callgrind on tap only: proves every case produces a row;
#      tests/integration/test_bench_smoke.sh),
#      BENCH_SRC (../shared/bench), PAIRD (build/paird), MEMIO_BENCH
#      (build/tests/memio_bench), OUT (build/bench), READ_CPU (1), GEN_CPU (0).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${BENCH_SRC:-$root/../shared/bench}
paird=${PAIRD:-$root/build/paird}
memio=${MEMIO_BENCH:-$root/build/tests/memio_bench}
out=${OUT:-$root/build/bench}
quick=${BENCH_QUICK:-0}
READ_CPU=${READ_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
if [ "$quick" = 1 ]; then
	# Every case on both devices, 64 B only (1400 B takes the same paths).
	REPS=1 N_DRAIN=3000 N_DRAIN_BIG=3000 N_PY=2000 N_PING=300 CG_N=1000 IDLE_MS=100
	MANY=${MANY:-"1 4096"} SIZES=${SIZES:-64}
else
	REPS=${REPS:-3} N_DRAIN=${N_DRAIN:-100000} N_DRAIN_BIG=${N_DRAIN_BIG:-50000}
	N_PY=${N_PY:-30000} N_PING=${N_PING:-10000} CG_N=${CG_N:-10000}
	IDLE_MS=200
fi
MANY=${MANY:-"1 16 256 4096"}
DEVS=${DEVS:-"tun tap"}
SIZES=${SIZES:-"64 1400"}
CASES=${CASES:-"limit count capture echo forward host ping many twisted callgrind"}
PY_TWISTED=${PY_TWISTED:-/usr/bin/python3}
RING_MAX=524288 # the largest txqueuelen the tun ptr_ring accepts
HTTP_PORT=18090

die() {
	echo "bench: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || { echo "SKIP bench: needs root for network namespaces" >&2; exit 77; }
[ -d "$src" ] || die "$src is missing (../shared/bench: the generator and the limit reader)"
[ -x "$paird" ] || die "$paird is missing (make all)"
for t in ip curl taskset ping valgrind; do
	command -v "$t" >/dev/null || die "$t is missing"
done
has() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }
if has twisted && ! "$PY_TWISTED" -c 'import twisted.pair.tuntap' 2>/dev/null; then
	die "$PY_TWISTED cannot import twisted.pair (apt-get install python3-twisted), or leave twisted out of CASES"
fi

scratch=$(mktemp -d /tmp/paird-bench.XXXXXX)
export NS_PREFIX=pb$$
NS_TUN=$NS_PREFIX-tun
NS_TAP=$NS_PREFIX-tap
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] || continue
		kill -0 "$p" 2>/dev/null && { kill -CONT "$p"; kill -TERM "$p"; } 2>/dev/null
	done
	sleep 0.2
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	[ -x "$scratch/netns.sh" ] && "$scratch/netns.sh" down 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

cp -r "$src/." "$scratch/"
# gen spreads at most 256 flows; the 4,096-binding case wants as many ports
# (a scratch copy; shared/ is untouched).
sed -i 's/^#define MAX_FLOWS 256$/#define MAX_FLOWS 4096/' "$scratch/src/gen.c"
grep -q 'MAX_FLOWS 4096' "$scratch/src/gen.c" || die "could not adapt gen.c"
make -s -C "$scratch" >/dev/null || die "building ../shared/bench failed"
cd "$scratch" || die "no scratch directory"
./netns.sh up >/dev/null || die "netns.sh up failed"
# Frames paird forwards or echoes go into these namespaces' stacks: never routed on.
for ns in "$NS_TUN" "$NS_TAP"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0 || die "sysctl in $ns"
done

mkdir -p "$out" results/raw
RUNS=$scratch/results/runs.tsv
: >"$RUNS"
rec() { echo "$*" >>"$RUNS"; }
T0=$(date +%s)
progress() { printf '[%4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

dev_ns() { [ "$1" = tap ] && echo "$NS_TAP" || echo "$NS_TUN"; }
dev_if() { [ "$1" = tap ] && echo atap0 || echo atun0; }
dev_dst() { [ "$1" = tap ] && echo 198.19.0.2 || echo 198.18.0.2; }
frames_for() { [ "$1" = 64 ] && echo "$N_DRAIN" || echo "$N_DRAIN_BIG"; }

# The state file paird starts from for CASE on DEV: the port attached to the
# bench's device, and the case's bindings.
state_for() { # case dev
	local c=$1 dev=$2 ifn b='' udp='"ethertype":2048,"ip_protocol":17' ports extra='' id=0
	ifn=$(dev_if "$dev")
	bind() { # the rest of a binding's JSON after its id
		id=$((id + 1))
		b=$b${b:+,}'{"id":'$id,$1'}'
	}
	case $c in
	count) bind '"match":{'$udp',"udp_port":9000},"handler":"count"' ;;
	capture) bind '"handler":"capture"' ;;
	echo) bind '"match":{'$udp',"udp_port":9000},"handler":"echo"' ;;
	forward)
		bind '"handler":"forward","options":{"port":"fwd0"}'
		extra=',{"name":"fwd0","type":"'$dev'","up":true}'
		;;
	host | ping)
		[ "$dev" = tap ] &&
			bind '"match":{"ethertype":2054},"handler":"arp_reply","options":{"addresses":["198.19.0.2"]}'
		bind '"match":{"ethertype":2048,"ip_protocol":1},"handler":"echo"'
		bind '"match":{'$udp',"udp_port":7},"handler":"echo"'
		;;
	many-*)
		# awk: appending 4,096 bindings to a shell string one by one takes ~20 s.
		b=$(awk -v n="${c#many-}" -v m="$udp" 'BEGIN {
			for (i = 0; i < n; i++)
				printf "%s{\"id\":%d,\"match\":{%s,\"udp_port\":%d},\"handler\":\"count\"}",
					i ? "," : "", i + 1, m, 9000 + i }')
		;;
	esac
	ports='{"name":"'$ifn'","type":"'$dev'","attach":true,"bindings":['$b']}'$extra
	printf '{"format":1,"ports":[%s]}\n' "$ports" >"$scratch/state-$c-$dev.json"
	echo "$scratch/state-$c-$dev.json"
}

stop_pid() { # pid: TERM, then KILL after 3 s
	local p=$1 i
	kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
	kill -CONT "$p" 2>/dev/null
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat" 2>/dev/null || echo 0; }
rx_frames() { # ns: paird's rx_frames on its first port
	ip netns exec "$1" curl -s -m 2 "http://127.0.0.1:$HTTP_PORT/api/v1/ports" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["ports"][0]["counters"]["rx_frames"])' 2>/dev/null ||
		echo 0
}

# Starts paird for CASE on DEV in its namespace, pinned to READ_CPU; sets SP.
paird_start() { # case dev log
	local ns state i args=()
	ns=$(dev_ns "$2")
	state=$(state_for "$1" "$2")
	case $1 in many-*) args=(--max-bindings 4096) ;; esac
	ip netns exec "$ns" taskset -c "$READ_CPU" "$paird" --listen "127.0.0.1:$HTTP_PORT" \
		--no-auth --socket none --state "$state" --log-level error "${args[@]}" >"$3" 2>&1 &
	SP=$!
	PIDS+=("$SP")
	for i in $(seq 100); do
		ip netns exec "$ns" curl -s -m 1 -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/v1/ports" && return 0
		kill -0 "$SP" 2>/dev/null || break
		sleep 0.05
	done
	stop_pid "$SP"
	return 1
}

# service_run CASE REP DEV SIZE: paird drains N pre-filled datagrams.
service_run() {
	local c=$1 rep=$2 dev=$3 size=$4 ns ifn n log q0 genargs=()
	ns=$(dev_ns "$dev")
	ifn=$(dev_if "$dev")
	n=$(frames_for "$size")
	log=results/raw/$c-$dev-$size.r$rep
	case $c in
	host) genargs=(-p 7) ;;
	many-*) genargs=(-F "$((${c#many-} < 4096 ? ${c#many-} : 4096))") ;;
	esac
	if ! paird_start "$c" "$dev" "$log.paird"; then
		rec "fig=$c/$dev/$size rep=$rep error=paird_not_ready"
		return
	fi
	q0=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/tx_queue_len")
	ip -n "$ns" link set "$ifn" txqueuelen "$RING_MAX"
	ip netns exec "$ns" python3 "$root/tests/bench/drain.py" --port "$HTTP_PORT" --name "$ifn" \
		--pid "$SP" --idle-ms "$IDLE_MS" --max-s 30 -- \
		ip netns exec "$ns" ./bin/gen -d "$(dev_dst "$dev")" -m packet -i "$ifn" -s "$size" \
		-n "$n" -c "$GEN_CPU" -t 20 "${genargs[@]}" >"$log.drive" 2>&1
	ip -n "$ns" link set "$ifn" txqueuelen "$q0"
	stop_pid "$SP"
	rec "fig=$c/$dev/$size rep=$rep case=$c dev=$dev size=$size" \
		"$(grep -m1 '^RESULT drain ' "$log.drive" |
			sed -E 's/^RESULT drain //; s/(^| )([a-z_]+)=/\1rx_\2=/g; s/rx_cpu_ns=/cpu_ns=/')"
}

# reader_run FIG REP DEV SIZE N -- CMD: a reader that times itself (limit, Twisted).
reader_run() {
	local fig=$1 rep=$2 dev=$3 size=$4 n=$5 ns ifn log q0 rp i r
	shift 6
	ns=$(dev_ns "$dev")
	ifn=$(dev_if "$dev")
	log=results/raw/${fig//\//-}.r$rep
	ip netns exec "$ns" "$@" >"$log.reader" 2>&1 &
	rp=$!
	PIDS+=("$rp")
	for i in $(seq 200); do grep -q READY "$log.reader" && break; sleep 0.05; done
	if ! grep -q READY "$log.reader"; then
		stop_pid "$rp"
		rec "fig=$fig rep=$rep error=reader_not_ready"
		return
	fi
	q0=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/tx_queue_len")
	ip -n "$ns" link set "$ifn" txqueuelen "$RING_MAX"
	kill -STOP "$rp"
	ip netns exec "$ns" ./bin/gen -d "$(dev_dst "$dev")" -m packet -i "$ifn" -s "$size" -n "$n" \
		-c "$GEN_CPU" -t 20 >"$log.gen" 2>&1
	sleep 0.1
	kill -CONT "$rp"
	for i in $(seq 600); do kill -0 "$rp" 2>/dev/null || break; sleep 0.05; done
	stop_pid "$rp"
	ip -n "$ns" link set "$ifn" txqueuelen "$q0"
	r=$(grep -m1 -E '^RESULT (read|twisted) ' "$log.reader" |
		sed -E 's/^RESULT [a-z]+ //; s/(^| )([a-z_]+)=/\1rx_\2=/g')
	rec "fig=$fig rep=$rep dev=$dev size=$size $r"
}

# ping_run REP DEV SIZE: the simulated host under ping -f (16 in flight).
ping_run() {
	local rep=$1 dev=$2 size=$3 ns log cpu0 cpu1 f0 f1 got ms
	ns=$(dev_ns "$dev")
	log=results/raw/ping-$dev-$size.r$rep
	if ! paird_start ping "$dev" "$log.paird"; then
		rec "fig=ping/$dev/$size rep=$rep error=paird_not_ready"
		return
	fi
	f0=$(rx_frames "$ns")
	cpu0=$(cpu_ns "$SP")
	ip netns exec "$ns" timeout 30 ping -q -f -l 16 -c "$N_PING" -s "$size" -w 20 \
		"$(dev_dst "$dev")" >"$log.ping" 2>&1
	cpu1=$(cpu_ns "$SP")
	f1=$(rx_frames "$ns")
	stop_pid "$SP"
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$log.ping")
	ms=$(sed -n 's/.* time \([0-9]*\)ms.*/\1/p' "$log.ping")
	rec "fig=ping/$dev/$size rep=$rep case=ping dev=$dev size=$size rx_pkts=$((f1 - f0))" \
		"replies=${got:-0} rx_pps=$(awk -v g="${got:-0}" -v m="${ms:-0}" \
			'BEGIN { if (m > 0) printf "%.0f", g / m * 1000; else print 0 }')" \
		"cpu_ns=$(awk -v a="$cpu0" -v b="$cpu1" -v p="$((f1 - f0))" \
			'BEGIN { if (p > 0) printf "%.0f", (b - a) / p; else print 0 }')"
}

svc_cases=()
for c in count capture echo forward host; do has "$c" && svc_cases+=("$c"); done
many=()
has many && for m in $MANY; do many+=("many-$m"); done

progress "paird $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo dev): REPS=$REPS quick=$quick -> $out"
rec "meta=1 date=$(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) cpus=$(nproc)" \
	"model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/ /_/g')" \
	"commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo dev) reps=$REPS quick=$quick" \
	"load=$(cut -d' ' -f1 /proc/loadavg)"
for rep in $(seq "$REPS"); do
	for dev in $DEVS; do
		for size in $SIZES; do
			n=$(frames_for "$size")
			progress "rep $rep: $dev ${size} B"
			has limit && reader_run "limit/$dev/$size" "$rep" "$dev" "$size" "$n" -- \
				./bin/tunread -w 300 -t 30 -C "$READ_CPU" -i "$(dev_if "$dev")" -T "$dev" -m event
			for c in "${svc_cases[@]}"; do service_run "$c" "$rep" "$dev" "$size"; done
			has ping && ping_run "$rep" "$dev" "$size"
			if has twisted; then
				reader_run "twisted/$dev/$size" "$rep" "$dev" "$size" "$N_PY" -- \
					"$PY_TWISTED" peers/twisted_peer.py -w 400 -t 40 -C "$READ_CPU" \
					-i "$(dev_if "$dev")" -T "$dev"
			fi
			if [ "$size" = 64 ]; then
				for c in "${many[@]}"; do service_run "$c" "$rep" "$dev" "$size"; done
			fi
		done
	done
done

if has callgrind; then
	progress "callgrind: instructions per frame on the memory I/O harness"
	for dev in $DEVS; do
		for size in $SIZES; do
			# Quick: one device and size, enough to prove the figure comes out.
			[ "$quick" = 1 ] && [ "$dev$size" != tap64 ] && continue
			for c in "${svc_cases[@]}" ping; do
				[ "$c" = ping ] && continue
				N=$CG_N MEMIO_BENCH=$memio "$root/tests/bench/callgrind.sh" \
					-c "$c" -T "$dev" -s "$size" >results/raw/cg.out 2>&1 ||
					{ rec "fig=cg/$c/$dev/$size error=callgrind"; continue; }
				rec "fig=cg/$c/$dev/$size $(sed -n 's/^RESULT callgrind //p' results/raw/cg.out)"
			done
			[ "$size" = 64 ] || continue
			for c in "${many[@]}"; do
				N=$CG_N MEMIO_BENCH=$memio "$root/tests/bench/callgrind.sh" \
					-c countN -b "${c#many-}" -T "$dev" -s "$size" >results/raw/cg.out 2>&1 ||
					{ rec "fig=cg/$c/$dev/$size error=callgrind"; continue; }
				rec "fig=cg/$c/$dev/$size $(sed -n 's/^RESULT callgrind //p' results/raw/cg.out)"
			done
		done
	done
fi

progress "done"
cp "$RUNS" "$out/runs.tsv"
rm -rf "$out/raw"
cp -r results/raw "$out/raw"
python3 "$root/tests/bench/ratios.py" "$out/runs.tsv" | tee "$out/ratios.md"
echo "bench: results in $out (runs.tsv, ratios.md, raw/)"
