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
#   echo-vnet the same on a vnet_hdr port: the replies of a read turn go out
#             as UDP GSO super-frames (coalesce.h), fewer writes than replies
#   forward   every frame forwarded to a second port paird creates
#   host      the simulated host (ARP reply on tap, ICMP echo, UDP echo at
#             port 7), fed UDP datagrams to port 7 (a rate against the limit)
#   ping      the same host under `ping -f` from the kernel side (request and
#             reply in turn: a rate, no limit to compare with)
#   many-N    N count bindings on distinct UDP ports (N in MANY), frames spread
#             over min(N, 4096) ports; 64 B
#   limit     also runs the bare read-and-write loop (tests/bench/rwloop.c)
#             for echo and forward: what a program that writes a frame per
#             frame read can reach, beside the read-only limit
#   gso       (case g) the count binding on a vnet_hdr tun fed UDP_SEGMENT
#             super-frames (gen -m udp -g, up to 64 KiB a send): logical
#             datagrams/s against the limit's reads/s of the same payload
#   gso-forward the same super-frames forwarded to a second vnet_hdr tun:
#             each one's datagrams go out as one super-frame (coalesce.h)
#   twisted   the Twisted Pair peer on the count chain
#             (../shared/bench/peers/twisted_peer.py) and on every other
#             case in CASES (tests/bench/twisted_cases.py)
#   mq        (h) a count binding over every UDP port of a tun read by one
#             queue (mq-1, atun0) and by two (mq-2, atunmq0: "queues": 2, a
#             worker thread for queue 1), the generator sending MQ_FLOWS
#             flows (destination ports) the kernel spreads over the queues
#             by flow hash; paird may use every CPU here (tun only)
#   callgrind paird's instructions per frame for each case on the memory I/O
#             harness (tests/bench/callgrind.sh; no kernel, deterministic),
#             and its time per frame there in ns and TSC ticks (memio_bench
#             -t: CYC_PASSES passes of CYC_N frames, the median)
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
#      1400 B), GSO_SCALE (6: case g drains that many times as many
#      datagrams, 1 in quick mode), N_PY (30000, Twisted), N_PING (10000),
#      CG_N (10000 frames under callgrind), CYC_N (200000), CYC_PASSES (7),
#      MANY ("1 16 256 4096"),
#      DEVS ("tun tap"), SIZES ("64 1400"), CASES (all of the above),
#      BENCH_QUICK=1 (3,000 frames per case, one rep, 64 B, many-1 and
#      many-4096, callgrind on tap only: proves every case produces a row;
#      tests/integration/test_bench_smoke.sh),
#      BENCH_SRC (../shared/bench), PAIRD (build/paird), MEMIO_BENCH
#      (build/tests/memio_bench), OUT (build/bench), READ_CPU (1), GEN_CPU (0),
#      PAIRD_ARGS (more flags for the paird of every drain, split on blanks:
#      "--capture-ring 256K" shows what the ring's size costs capture).
# The API, memory and syscalls (cases http, memory, strace; http on HTTP_DEVS,
#      "tun tap" (tap in quick mode); memory and strace on API_DEV, tap):
#      HTTP_DUR (3 s a wrk run and a quiet window), HTTP_CONNS (16: wrk
#      connections; "1 16" is a run each), HTTP_REPS (3), LIGHT_N (60 requests of the
#      light client) at LIGHT_RATE (10 a second), N_FOLLOW (16 followers),
#      N_CAPREC (2000 records in the ring they read), MEM_REPS (3),
#      MEM_PORTS (32), MEM_BINDINGS (1024), MEM_RING (4M, the ring filled with
#      N_MEMFILL 60000 frames), MEM_CLIENTS (128 connections of each kind),
#      N_STRACE (20000 frames).
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
	REPS=1 N_DRAIN=3000 N_DRAIN_BIG=3000 N_PY=2000 N_PING=300 CG_N=1000 IDLE_MS=100 GSO_SCALE=1
	CYC_N=2000 CYC_PASSES=3
	MANY=${MANY:-"1 4096"} SIZES=${SIZES:-64}
	HTTP_REPS=1 HTTP_DUR=1 N_FOLLOW=4 N_CAPREC=300 MEM_PORTS=4 MEM_CLIENTS=16
	HTTP_CONNS=${HTTP_CONNS:-8} HTTP_DEVS=${HTTP_DEVS:-tap} LIGHT_N=10 LIGHT_RATE=20 MEM_REPS=1
	MEM_RING=256K N_MEMFILL=4000 N_STRACE=2000 MEM_BINDINGS=128
else
	REPS=${REPS:-3} N_DRAIN=${N_DRAIN:-100000} N_DRAIN_BIG=${N_DRAIN_BIG:-50000}
	# 50,000 datagrams as super-frames drain in ~15 ms: 15 samples of paird's
	# CPU clock, and a run in three read a tenth of the others' rate.
	GSO_SCALE=${GSO_SCALE:-6}
	N_PY=${N_PY:-30000} N_PING=${N_PING:-10000} CG_N=${CG_N:-10000}
	CYC_N=${CYC_N:-200000} CYC_PASSES=${CYC_PASSES:-7}
	IDLE_MS=200
	HTTP_REPS=${HTTP_REPS:-3} HTTP_DUR=${HTTP_DUR:-3} N_FOLLOW=${N_FOLLOW:-16}
	LIGHT_N=${LIGHT_N:-60} LIGHT_RATE=${LIGHT_RATE:-10} MEM_REPS=${MEM_REPS:-3}
	N_CAPREC=${N_CAPREC:-2000} MEM_PORTS=${MEM_PORTS:-32} MEM_CLIENTS=${MEM_CLIENTS:-128}
	MEM_RING=${MEM_RING:-4M} N_MEMFILL=${N_MEMFILL:-60000} N_STRACE=${N_STRACE:-20000}
	MEM_BINDINGS=${MEM_BINDINGS:-1024}
fi
API_DEV=${API_DEV:-tap}
RT=$(command -v chrt >/dev/null && echo "chrt -f 1")
HTTP_DEVS=${HTTP_DEVS:-"tun tap"}
HTTP_CONNS=${HTTP_CONNS:-16}
MANY=${MANY:-"1 16 256 4096"}
DEVS=${DEVS:-"tun tap"}
SIZES=${SIZES:-"64 1400"}
CASES=${CASES:-"limit count capture echo echo-vnet forward host ping many gso gso-forward mq twisted callgrind http memory strace"}
MQ_FLOWS=${MQ_FLOWS:-1024}
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
has() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }
for t in ip curl taskset ping valgrind; do
	command -v "$t" >/dev/null || die "$t is missing"
done
has http && { command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"; }
has strace && { command -v strace >/dev/null || die "strace is missing (apt-get install strace)"; }
if has twisted && ! "$PY_TWISTED" -c 'import twisted.pair.tuntap' 2>/dev/null; then
	die "$PY_TWISTED cannot import twisted.pair (apt-get install python3-twisted), or leave twisted out of CASES"
fi

scratch=$(mktemp -d /tmp/paird-bench.XXXXXX)
export NS_PREFIX=pb$$
NS_TUN=$NS_PREFIX-tun
NS_TAP=$NS_PREFIX-tap
PIDS=()
RGEN=()
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
# The bare read-and-write loop the writing cases are also set beside.
cc -O2 -o "$scratch/bin/rwloop" "$root/tests/bench/rwloop.c" -levent ||
	die "building tests/bench/rwloop.c failed"
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
# Case h: mq-2 runs on netns.sh's multi-queue tun, mq-1 on the plain one.
mq_if() { [ "$1" = mq-2 ] && echo atunmq0 || echo atun0; }
mq_dst() { [ "$1" = mq-2 ] && echo 198.18.1.2 || echo 198.18.0.2; }

# The state file paird starts from for CASE on DEV: the port attached to the
# bench's device, and the case's bindings.
state_for() { # case dev
	local c=$1 dev=$2 ifn b='' udp='"ethertype":2048,"ip_protocol":17' ports extra='' id=0 vnet='' q=
	ifn=$(dev_if "$dev")
	bind() { # the rest of a binding's JSON after its id
		id=$((id + 1))
		b=$b${b:+,}'{"id":'$id,$1'}'
	}
	case $c in
	count) bind '"match":{'$udp',"udp_port":9000},"handler":"count"' ;;
	gso)
		bind '"match":{'$udp',"udp_port":9000},"handler":"count"'
		vnet=',"vnet_hdr":true'
		;;
	gso-forward)
		bind '"handler":"forward","options":{"port":"fwd0"}'
		vnet=',"vnet_hdr":true'
		extra=',{"name":"fwd0","type":"'$dev'","up":true,"vnet_hdr":true}'
		;;
	capture) bind '"handler":"capture"' ;;
	echo) bind '"match":{'$udp',"udp_port":9000},"handler":"echo"' ;;
	echo-vnet)
		bind '"match":{'$udp',"udp_port":9000},"handler":"echo"'
		vnet=',"vnet_hdr":true'
		;;
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
	mq-*)
		bind '"match":{'$udp'},"handler":"count"'
		ifn=$(mq_if "$c")
		q=',"queues":'${c#mq-}
		;;
	many-*)
		# awk: appending 4,096 bindings to a shell string one by one takes ~20 s.
		b=$(awk -v n="${c#many-}" -v m="$udp" 'BEGIN {
			for (i = 0; i < n; i++)
				printf "%s{\"id\":%d,\"match\":{%s,\"udp_port\":%d},\"handler\":\"count\"}",
					i ? "," : "", i + 1, m, 9000 + i }')
		;;
	esac
	ports='{"name":"'$ifn'","type":"'$dev'","attach":true'$vnet$q',"bindings":['$b']}'$extra
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

# wait_ready CMD...: polls CMD (5 s at most) while paird ($SP) runs; 1, paird
# stopped, when it never succeeds.
wait_ready() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		kill -0 "$SP" 2>/dev/null || break
		sleep 0.05
	done
	stop_pid "$SP"
	return 1
}

# Starts paird for CASE on DEV in its namespace, pinned to READ_CPU; sets SP.
paird_start() { # case dev log
	local ns state args=() cpus=$READ_CPU
	ns=$(dev_ns "$2")
	state=$(state_for "$1" "$2")
	read -ra args <<<"${PAIRD_ARGS:-}"
	case $1 in many-*) args+=(--max-bindings 4096) ;; esac
	# Case h measures what a second core brings: every CPU (the generator is done by then).
	case $1 in mq-*) cpus=0-$(($(nproc) - 1)) ;; esac
	ip netns exec "$ns" taskset -c "$cpus" "$paird" --listen "127.0.0.1:$HTTP_PORT" \
		--no-auth --socket none --state "$state" --log-level error "${args[@]}" >"$3" 2>&1 &
	SP=$!
	PIDS+=("$SP")
	wait_ready ip netns exec "$ns" curl -s -m 1 -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/v1/ports"
}

# drain_run NS IFN OUT GEN-ARGS...: tests/bench/drain.py follows paird ($SP)
# on IFN while ./bin/gen GEN-ARGS sends from NS, both writing to OUT; IFN's tx
# queue is RING_MAX meanwhile, so frames wait for paird instead of dropping.
drain_run() {
	local ns=$1 ifn=$2 out=$3 q0
	shift 3
	q0=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/tx_queue_len")
	ip -n "$ns" link set "$ifn" txqueuelen "$RING_MAX"
	ip netns exec "$ns" python3 "$root/tests/bench/drain.py" --port "$HTTP_PORT" --name "$ifn" \
		--pid "$SP" --idle-ms "$IDLE_MS" --max-s 30 -- \
		ip netns exec "$ns" ./bin/gen "$@" >"$out" 2>&1
	ip -n "$ns" link set "$ifn" txqueuelen "$q0"
}

# service_run CASE REP DEV SIZE: paird drains N pre-filled datagrams.
service_run() {
	local c=$1 rep=$2 dev=$3 size=$4 ns ifn n log genargs=() dst txg=
	ns=$(dev_ns "$dev")
	ifn=$(dev_if "$dev")
	dst=$(dev_dst "$dev")
	n=$(frames_for "$size")
	log=results/raw/$c-$dev-$size.r$rep
	case $c in
	host) genargs=(-p 7) ;;
	many-*) genargs=(-F "$((${c#many-} < 4096 ? ${c#many-} : 4096))") ;;
	mq-*) genargs=(-F "$MQ_FLOWS") ifn=$(mq_if "$c") dst=$(mq_dst "$c") ;;
	esac
	if ! paird_start "$c" "$dev" "$log.paird"; then
		rec "fig=$c/$dev/$size rep=$rep error=paird_not_ready"
		return
	fi
	drain_run "$ns" "$ifn" "$log.drive" -d "$dst" -m packet -i "$ifn" -s "$size" \
		-n "$n" -c "$GEN_CPU" -t 20 "${genargs[@]}"
	if [ "$c" = echo-vnet ]; then
		# How many writes the replies took: super-frames (tx_gso_frames) and replies.
		txg=$(ip netns exec "$ns" curl -s -m 2 "http://127.0.0.1:$HTTP_PORT/api/v1/ports/$ifn" |
			python3 -c 'import json,sys; c = json.load(sys.stdin)["counters"]
print("tx_frames=%d tx_gso_frames=%d" % (c["tx_frames"], c["tx_gso_frames"]))' \
				2>/dev/null || echo "tx_frames=0 tx_gso_frames=0")
	fi
	stop_pid "$SP"
	[ "$c" = echo-vnet ] && offloads_off "$ns" "$ifn" "$dev"
	rec "fig=$c/$dev/$size rep=$rep case=$c dev=$dev size=$size ${txg:-}" \
		"$(grep -m1 '^RESULT drain ' "$log.drive" |
			sed -E 's/^RESULT drain //; s/(^| )([a-z_]+)=/\1rx_\2=/g; s/rx_cpu_ns=/cpu_ns=/')"
}

# offloads_off NS IF DEV: offloads outlive their owner (a vnet_hdr port asks for
# them); the other cases read the device without a header.
offloads_off() {
	local flags
	flags=$([ "$3" = tap ] && echo 0x1002 || echo 0x1001) # IFF_TAP or IFF_TUN, | IFF_NO_PI
	ip netns exec "$1" python3 -c 'import fcntl, os, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH22x", sys.argv[1].encode(), int(sys.argv[2], 16)))
fcntl.ioctl(fd, 0x400454D0, 0)' "$2" "$flags" || progress "could not switch the offloads of $2 off"
}

# gso_run CASE REP SIZE (case g): paird's count binding (gso), or a forward to
# a second vnet_hdr tun (gso-forward), on a vnet_hdr tun drains N
# datagrams the kernel hands over as UDP GSO super-frames (SIZE-byte segments,
# up to 64 a send and 64 KiB). Its rx_frames count the datagrams, so the rate
# is logical datagrams/s, set against limit/tun/SIZE: one read per datagram.
gso_run() {
	local c=$1 rep=$2 size=$3 ns=$NS_TUN ifn=atun0 n log per gso txg
	n=$(($(frames_for "$size") * GSO_SCALE))
	per=$((64000 / size < 64 ? 64000 / size : 64))
	log=results/raw/$c-tun-$size.r$rep
	if ! paird_start "$c" tun "$log.paird"; then
		rec "fig=$c/tun/$size rep=$rep error=paird_not_ready"
		return
	fi
	drain_run "$ns" "$ifn" "$log.drive" -d "$(dev_dst tun)" -m udp -g "$per" -s "$size" \
		-n "$n" -c "$GEN_CPU" -t 20
	gso=$(ip netns exec "$ns" curl -s -m 2 "http://127.0.0.1:$HTTP_PORT/api/v1/ports/$ifn" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["rx_gso_frames"])' \
			2>/dev/null || echo 0)
	# gso-forward: the writes fwd0 took (super-frames, tx_gso_frames) for the datagrams.
	[ "$c" = gso-forward ] &&
		txg=$(ip netns exec "$ns" curl -s -m 2 "http://127.0.0.1:$HTTP_PORT/api/v1/ports/fwd0" |
			python3 -c 'import json,sys; c = json.load(sys.stdin)["counters"]
print("tx_frames=%d tx_gso_frames=%d" % (c["tx_frames"], c["tx_gso_frames"]))' \
				2>/dev/null || echo "tx_frames=0 tx_gso_frames=0")
	stop_pid "$SP"
	offloads_off "$ns" "$ifn" tun
	rec "fig=$c/tun/$size rep=$rep case=$c dev=tun size=$size per=$per rx_gso_frames=${gso:-0} ${txg:-}" \
		"$(grep -m1 '^RESULT drain ' "$log.drive" |
			sed -E 's/^RESULT drain //; s/(^| )([a-z_]+)=/\1rx_\2=/g; s/rx_cpu_ns=/cpu_ns=/')"
}

# reader_run FIG REP DEV SIZE N -- CMD: a reader that times itself (limit, Twisted);
# RGEN holds extra arguments for the generator (host: -p 7).
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
		-c "$GEN_CPU" -t 20 ${RGEN[@]+"${RGEN[@]}"} >"$log.gen" 2>&1
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

# fwd0_up NS DEV: the persistent second device a forwarding reference writes to
# (paird's own forward case creates its fwd0 itself); removed with `ip link del`.
fwd0_up() { ip -n "$1" tuntap add dev fwd0 mode "$2" && ip -n "$1" link set fwd0 up; }

# twisted_case CASE REP DEV SIZE: the Twisted Pair peer doing CASE's work
# (tests/bench/twisted_cases.py); forward gets a persistent second device
# for the run only (paird's own forward case creates fwd0 itself).
twisted_case() {
	local c=$1 rep=$2 dev=$3 size=$4 ns
	ns=$(dev_ns "$dev")
	RGEN=()
	[ "$c" = host ] && RGEN=(-p 7)
	[ "$c" = forward ] && ! fwd0_up "$ns" "$dev" &&
		{ rec "fig=twisted-$c/$dev/$size rep=$rep error=no_fwd0"; return; }
	reader_run "twisted-$c/$dev/$size" "$rep" "$dev" "$size" "$N_PY" -- \
		"$PY_TWISTED" "$root/tests/bench/twisted_cases.py" -c "$c" -w 400 -t 40 \
		-C "$READ_CPU" -i "$(dev_if "$dev")" -T "$dev" --to fwd0 --addr "$(dev_dst "$dev")"
	[ "$c" = forward ] && ip -n "$ns" link del fwd0
	RGEN=()
}

# rw_run MODE REP DEV SIZE: the bare read-and-write loop (tests/bench/rwloop.c)
# echoing or forwarding, the least a writing case can cost.
rw_run() {
	local c=$1 rep=$2 dev=$3 size=$4 ns
	ns=$(dev_ns "$dev")
	[ "$c" = forward ] && ! fwd0_up "$ns" "$dev" &&
		{ rec "fig=rw-$c/$dev/$size rep=$rep error=no_fwd0"; return; }
	reader_run "rw-$c/$dev/$size" "$rep" "$dev" "$size" "$(frames_for "$size")" -- \
		./bin/rwloop -m "$c" -w 300 -t 30 -C "$READ_CPU" -i "$(dev_if "$dev")" -T "$dev" \
		-o fwd0
	[ "$c" = forward ] && ip -n "$ns" link del fwd0
}

svc_cases=()
for c in count capture echo echo-vnet forward host; do has "$c" && svc_cases+=("$c"); done
many=()
has many && for m in $MANY; do many+=("many-$m"); done

progress "paird $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo dev): REPS=$REPS quick=$quick -> $out"
rec "meta=1 date=$(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) cpus=$(nproc)" \
	"model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/ /_/g')" \
	"commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo dev) reps=$REPS quick=$quick" \
	"load=$(cut -d' ' -f1 /proc/loadavg) paird_args=$(printf %s "${PAIRD_ARGS:-}" | tr -s ' \t' ,)"
for rep in $(seq "$REPS"); do
	for dev in $DEVS; do
		for size in $SIZES; do
			n=$(frames_for "$size")
			progress "rep $rep: $dev ${size} B"
			has limit && reader_run "limit/$dev/$size" "$rep" "$dev" "$size" "$n" -- \
				./bin/tunread -w 300 -t 30 -C "$READ_CPU" -i "$(dev_if "$dev")" -T "$dev" -m event
			if has limit; then
				for c in echo forward; do has "$c" && rw_run "$c" "$rep" "$dev" "$size"; done
			fi
			for c in "${svc_cases[@]}"; do service_run "$c" "$rep" "$dev" "$size"; done
			has ping && ping_run "$rep" "$dev" "$size"
			if has twisted; then
				reader_run "twisted/$dev/$size" "$rep" "$dev" "$size" "$N_PY" -- \
					"$PY_TWISTED" peers/twisted_peer.py -w 400 -t 40 -C "$READ_CPU" \
					-i "$(dev_if "$dev")" -T "$dev"
				for c in "${svc_cases[@]}"; do
					[ "$c" = count ] || [ "$c" = echo-vnet ] ||
						twisted_case "$c" "$rep" "$dev" "$size"
				done
			fi
			if [ "$size" = 64 ]; then
				for c in "${many[@]}"; do service_run "$c" "$rep" "$dev" "$size"; done
			fi
			if [ "$dev" = tun ]; then
				has gso && gso_run gso "$rep" "$size"
				has gso-forward && gso_run gso-forward "$rep" "$size"
			fi
			if has mq && [ "$dev" = tun ]; then
				for c in mq-1 mq-2; do service_run "$c" "$rep" "$dev" "$size"; done
			fi
		done
	done
done

# cg_case FIG MEMIO-ARGS...: instructions per frame (callgrind) and time per
# frame (the harness natively, -t: nanoseconds and TSC ticks, the median of
# CYC_PASSES passes of CYC_N frames, pinned like paird) of one case.
cg_case() {
	local fig=$1
	shift
	if N=$CG_N MEMIO_BENCH=$memio "$root/tests/bench/callgrind.sh" "$@" >results/raw/cg.out 2>&1; then
		rec "fig=cg/$fig $(sed -n 's/^RESULT callgrind //p' results/raw/cg.out)"
	else
		rec "fig=cg/$fig error=callgrind"
	fi
	if taskset -c "$READ_CPU" "$memio" "$@" -n "$CYC_N" -t "$CYC_PASSES" >results/raw/cyc.out 2>&1; then
		rec "fig=cyc/$fig $(sed -n 's/^RESULT memio //p' results/raw/cyc.out)"
	else
		rec "fig=cyc/$fig error=memio"
	fi
}

if has callgrind; then
	progress "callgrind: instructions per frame on the memory I/O harness, and its time per frame"
	for dev in $DEVS; do
		for size in $SIZES; do
			# Quick: one device and size, enough to prove the figure comes out.
			[ "$quick" = 1 ] && [ "$dev$size" != tap64 ] && continue
			for c in "${svc_cases[@]}" $(has ping && echo ping); do
				# The memory I/O harness has no vnet_hdr: echo-vnet's user-space path is echo's.
				[ "$c" = echo-vnet ] && continue
				cg_case "$c/$dev/$size" -c "$c" -T "$dev" -s "$size"
			done
			[ "$size" = 64 ] || continue
			for c in "${many[@]}"; do
				cg_case "$c/$dev/$size" -c countN -b "${c#many-}" -T "$dev" -s "$size"
			done
		done
	done
fi

# --- The API, memory and syscalls (issue 11). The API on HTTP_DEVS, memory
# and syscalls on API_DEV (tap by default), 64 B frames; paird on READ_CPU,
# the generator and the clients on GEN_CPU (2 CPUs: the clients share the
# generator's).
TOKF=$scratch/token
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKF"
echo >>"$TOKF"
AUTH="Authorization: Bearer $(head -n 1 "$TOKF")"
acurl() { # ns path [curl args]: paird's API over TCP with the token
	local ns=$1 p=$2
	shift 2
	ip netns exec "$ns" curl -s -m 10 -H "$AUTH" "$@" "http://127.0.0.1:$HTTP_PORT$p"
}
port_json() { # ns name filter: a field of GET /api/v1/ports/NAME
	acurl "$1" "/api/v1/ports/$2" | python3 -c \
		'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$3" \
		2>/dev/null || echo 0
}
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kb() { sed -n 's/^Pss:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

# api_start DEV STATE LOG [ARGS]: paird with the token on TCP; sets SP.
api_start() {
	local ns
	ns=$(dev_ns "$1")
	ip netns exec "$ns" taskset -c "$READ_CPU" "$paird" --listen "127.0.0.1:$HTTP_PORT" \
		--token-file "$TOKF" --socket none --state "$2" --log-level error "${@:4}" >"$3" 2>&1 &
	SP=$!
	PIDS+=("$SP")
	wait_ready acurl "$ns" /api/v1/ports -o /dev/null -f
}

# wrk_run NS PATH LOG CONNS: wrk for HTTP_DUR seconds; prints the RESULT fields.
wrk_run() {
	ip netns exec "$1" timeout $((HTTP_DUR + 10)) taskset -c "$GEN_CPU" wrk -t1 \
		-c "$4" -d "${HTTP_DUR}s" -H "$AUTH" -s "$root/tests/bench/wrk_report.lua" \
		"http://127.0.0.1:$HTTP_PORT$2" >"$3" 2>&1
	sed -n 's/^RESULT wrk //p' "$3"
}

# http_run REP DEV: the API with the data plane idle, then saturated (the
# generator at full speed into a count binding, bounded by frames and
# seconds):
#  - a light client (clients.py latency: LIGHT_N requests, LIGHT_RATE a
#    second, one at a time) on GET /api/v1/ports/{name}, on a page of 100
#    captured records and on the first record of a followed pcap stream: the
#    API's latency as a dashboard sees it (the p99 < 5 ms target);
#  - wrk (HTTP_CONNS connections) on the port and on the page: requests/s,
#    and paird's frames/s meanwhile against the windows with no requests
#    just before and after (the >= 0.9 target);
#  - N_FOLLOW followers of the capture stream opened at once.
# Every window records paird's frames/s and the frames the device dropped
# for want of a reader (drop_pps > 0: the data plane was saturated), in
# order (seq), so ratios.py can pair each window with its neighbours.
http_run() {
	local rep=$1 dev=$2 ns ifn dst log state load gp r w c seq=0 nwin newest
	ns=$(dev_ns "$dev")
	ifn=$(dev_if "$dev")
	dst=$(dev_dst "$dev")
	log=results/raw/http-$dev.r$rep
	state=$scratch/state-http.json
	printf '{"format":1,"ports":[{"name":"%s","type":"%s","attach":true,"bindings":[%s,%s]}]}\n' \
		"$ifn" "$dev" '{"id":1,"match":{"ethertype":2048,"ip_protocol":17,"udp_port":9000},"handler":"count"}' \
		'{"id":2,"match":{"ethertype":2048,"ip_protocol":17,"udp_port":9001},"handler":"capture"}' \
		>"$state"
	if ! api_start "$dev" "$state" "$log.paird" --max-streams 128 --max-connections 256; then
		rec "fig=http/$dev/ports@1/idle rep=$rep error=paird_not_ready"
		return
	fi
	# The ring the pages and the followers read: N_CAPREC records at UDP 9001.
	ip netns exec "$ns" ./bin/gen -d "$dst" -m packet -i "$ifn" -p 9001 -n "$N_CAPREC" \
		-r 200000 -c "$GEN_CPU" -t 10 >"$log.fill" 2>&1
	for w in $(seq 50); do
		[ "$(port_json "$ns" "$ifn" 'd["counters"]["capture"]["records"]')" -ge "$N_CAPREC" ] && break
		sleep 0.1
	done
	r=$(port_json "$ns" "$ifn" 'd["counters"]["capture"]["records"]')
	# The light follower starts after the newest record but one: one record to send.
	newest=$(acurl "$ns" "/api/v1/ports/$ifn/captures?limit=1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["newest_seq"])' 2>/dev/null || echo 1)
	# Windows while saturated: wrk and its quiet neighbours, the light clients, the followers.
	nwin=$((4 * $(wc -w <<<"$HTTP_CONNS") + 3))
	for load in idle sat; do
		gp=
		if [ "$load" = sat ]; then
			# UDP GSO through the route: the fastest ordinary-frame source.
			ip netns exec "$ns" ./bin/gen -d "$dst" -g 64 -s 64 -n 2000000000 \
				-t $((nwin * HTTP_DUR + 3 * LIGHT_N / LIGHT_RATE + 40)) \
				-c "$GEN_CPU" >"$log.gen-$load" 2>&1 &
			gp=$!
			PIDS+=("$gp")
			sleep 0.5
		fi
		# win NAME CMD...: CMD's run is a window; records paird's frames/s in it.
		win() {
			local name=$1 res f0 f1 d0 d1 t0 t1 c0 c1
			shift
			seq=$((seq + 1))
			f0=$(port_json "$ns" "$ifn" 'd["counters"]["rx_frames"]')
			d0=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/statistics/tx_dropped")
			c0=$(cpu_ns "$SP")
			t0=$(date +%s.%N)
			res=$("$@")
			t1=$(date +%s.%N)
			c1=$(cpu_ns "$SP")
			d1=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/statistics/tx_dropped")
			f1=$(port_json "$ns" "$ifn" 'd["counters"]["rx_frames"]')
			# cpu_pct: paird's CPU time over the window's (under 100: others took its CPU).
			rec "fig=http/$dev/$name/$load rep=$rep seq=$seq dev=$dev ring_records=$r $res" \
				"$(awk -v a="$f0" -v b="$f1" -v c="$d0" -v d="$d1" -v s="$t0" -v e="$t1" \
					-v x="$c0" -v y="$c1" 'BEGIN { printf "dp_pps=%.0f drop_pps=%.0f cpu_pct=%.1f",
					(b - a) / (e - s), (d - c) / (e - s), (y - x) / (e - s) / 1e7 }')"
		}
		quiet() { [ "$load" = sat ] && win noapi sleep "$HTTP_DUR"; }
		# The light client shares GEN_CPU with the generator, a CPU hog: at a
		# real-time priority it runs as soon as an answer comes, instead of
		# waiting up to a scheduler slice (~3 ms), which would be its own
		# latency, not paird's.
		light() { # kind path
			ip netns exec "$ns" taskset -c "$GEN_CPU" $RT python3 "$root/tests/bench/clients.py" \
				latency --port "$HTTP_PORT" --token-file "$TOKF" --kind "$1" -n "$LIGHT_N" \
				--rate "$LIGHT_RATE" --max-s $((LIGHT_N / LIGHT_RATE + 20)) --path "$2" \
				2>>"$log.light" | sed -n 's/^RESULT latency //p'
		}
		quiet
		win light-ports light get "/api/v1/ports/$ifn"
		win light-captures light get "/api/v1/ports/$ifn/captures?limit=100"
		win light-follow light stream "/api/v1/ports/$ifn/captures.pcap?follow=true&after=$((newest - 1))"
		quiet
		for c in $HTTP_CONNS; do
			win "ports@$c" wrk_run "$ns" "/api/v1/ports/$ifn" "$log.ports-$c-$load" "$c"
			quiet
		done
		for c in $HTTP_CONNS; do
			win "captures@$c" wrk_run "$ns" "/api/v1/ports/$ifn/captures?limit=100" \
				"$log.captures-$c-$load" "$c"
			quiet
		done
		win follow sh -c "ip netns exec $ns taskset -c $GEN_CPU python3 \
			$root/tests/bench/clients.py follow --port $HTTP_PORT --token-file $TOKF \
			-n $N_FOLLOW --records $N_CAPREC --max-s 20 \
			--path '/api/v1/ports/$ifn/captures.pcap?follow=true' 2>&1 |
			sed -n 's/^RESULT follow //p'"
		quiet
		[ -n "$gp" ] && stop_pid "$gp"
	done
	stop_pid "$SP"
}

# mem_run REP: paird's resident memory (VmRSS, and Pss) per port, per
# binding (1,024 on one port), per captured frame (a ring of known size
# filled), per idle keep-alive HTTP connection and per stalled follower.
mem_run() {
	local rep=$1 dev=$API_DEV ns ifn dst log state r0 r1 p0 p1 doc i recs
	ns=$(dev_ns "$dev")
	ifn=$(dev_if "$dev")
	dst=$(dev_dst "$dev")
	log=results/raw/mem.r$rep
	state=$scratch/state-mem.json
	echo '{"format":1,"ports":[]}' >"$state"
	if ! api_start "$dev" "$state" "$log.paird" --capture-ring "$MEM_RING" \
		--max-connections $((MEM_CLIENTS + 16)) --max-streams $((MEM_CLIENTS + 16)) \
		--max-ports $((MEM_PORTS + 8)); then
		rec "fig=mem/port rep=$rep error=paird_not_ready"
		return
	fi
	# step FIG N METHOD PATH [BODY-FILE]: one request, RSS before and after.
	step() {
		local fig=$1 n=$2 m=$3 p=$4 body=${5:-} st
		sleep 0.2
		r0=$(rss_kb "$SP") p0=$(pss_kb "$SP")
		st=$(acurl "$ns" "$p" -o "$log.$fig.body" -w '%{http_code}' -X "$m" \
			${body:+-H 'Content-Type: application/json' --data-binary @"$body"})
		sleep 0.2
		r1=$(rss_kb "$SP") p1=$(pss_kb "$SP")
		case $st in 2*) ;; *)
			rec "fig=mem/$fig rep=$rep error=http_$st"
			return 1
			;;
		esac
		memrec "$fig" "$n"
	}
	memrec() { # fig n [fields]: the record of r0/r1 (and p0/p1) over n items
		rec "fig=mem/$1 rep=$rep n=$2 ${3:-} rss0_kb=$r0 rss1_kb=$r1 pss0_kb=$p0 pss1_kb=$p1" \
			"bytes_per=$(((r1 - r0) * 1024 / $2)) pss_bytes_per=$(((p1 - p0) * 1024 / $2))"
	}
	# Ports: MEM_PORTS tap ports made by paird, no bindings.
	doc=$scratch/mem-ports.json
	awk -v n="$MEM_PORTS" 'BEGIN { printf "{\"ports\":{"
		for (i = 0; i < n; i++) printf "%s\"mp%d\":{\"type\":\"tap\"}", i ? "," : "", i
		print "}}" }' >"$doc"
	step port "$MEM_PORTS" PUT /api/v1/config "$doc" || { stop_pid "$SP"; return; }
	# Bindings: MEM_BINDINGS (1,024) count bindings on mp0 on distinct UDP ports, POSTed by
	# one curl over one kept-alive connection (a config document holding
	# them all is over the 64 KiB body limit).
	doc=$scratch/mem-bind.curl
	awk -v n="$MEM_BINDINGS" -v url="http://127.0.0.1:$HTTP_PORT/api/v1/ports/mp0/bindings" -v auth="$AUTH" 'BEGIN {
		for (j = 0; j < n; j++) {
			if (j) print "next"
			printf "url = \"%s\"\nheader = \"%s\"\nheader = \"Content-Type: application/json\"\n", url, auth
			printf "data = \"{\\\"match\\\":{\\\"ethertype\\\":2048,\\\"ip_protocol\\\":17,\\\"udp_port\\\":%d},\\\"handler\\\":\\\"count\\\"}\"\n", 10000 + j
			print "output = \"/dev/null\"\nwrite-out = \"%{http_code}\\n\""
		}
	}' >"$doc"
	sleep 0.2
	r0=$(rss_kb "$SP") p0=$(pss_kb "$SP")
	ip netns exec "$ns" curl -s -m 120 -K "$doc" >"$log.bind" 2>&1
	sleep 0.2
	r1=$(rss_kb "$SP") p1=$(pss_kb "$SP")
	if [ "$(grep -c '^201$' "$log.bind")" = "$MEM_BINDINGS" ]; then
		memrec binding "$MEM_BINDINGS"
	else
		rec "fig=mem/binding rep=$rep error=$(grep -vc '^201$' "$log.bind")_not_created"
	fi
	# Captured frames: a capture binding on the bench's device, its ring
	# (MEM_RING) filled past full by the generator; over the records it holds.
	printf '{"type":"%s","attach":true}' "$dev" >"$scratch/mem-cap.json"
	sleep 0.2
	r0=$(rss_kb "$SP") p0=$(pss_kb "$SP")
	acurl "$ns" "/api/v1/ports/$ifn" -o /dev/null -X PUT -H 'Content-Type: application/json' \
		--data-binary @"$scratch/mem-cap.json" &&
		acurl "$ns" "/api/v1/ports/$ifn/bindings" -o /dev/null -f -X POST \
			-H 'Content-Type: application/json' --data-binary '{"handler":"capture"}' ||
		{ rec "fig=mem/captured-frame rep=$rep error=capture_binding"; stop_pid "$SP"; return; }
	ip netns exec "$ns" ./bin/gen -d "$dst" -m packet -i "$ifn" -n "$N_MEMFILL" -r 200000 \
		-c "$GEN_CPU" -t 20 >"$log.fill" 2>&1
	for i in $(seq 50); do
		[ "$(port_json "$ns" "$ifn" 'd["counters"]["rx_frames"]')" -ge "$N_MEMFILL" ] && break
		sleep 0.1
	done
	r1=$(rss_kb "$SP") p1=$(pss_kb "$SP")
	recs=$(port_json "$ns" "$ifn" 'd["counters"]["capture"]["records"]')
	[ "${recs:-0}" -gt 0 ] && memrec captured-frame "$recs" \
		"ring_bytes=$(port_json "$ns" "$ifn" 'd["counters"]["capture"]["capacity"]')"
	# HTTP clients: MEM_CLIENTS idle keep-alive connections, then as many
	# followers of the full ring that never read.
	for kind in idle stalled; do
		local path=/api/v1/ports/$ifn
		[ "$kind" = stalled ] && path="/api/v1/ports/$ifn/captures.pcap?follow=true"
		sleep 0.2
		r0=$(rss_kb "$SP") p0=$(pss_kb "$SP")
		coproc HOLD { ip netns exec "$ns" python3 "$root/tests/bench/clients.py" hold \
			--port "$HTTP_PORT" --token-file "$TOKF" -n "$MEM_CLIENTS" --kind "$kind" \
			--path "$path" --max-s 30 2>&1; }
		local hp=$HOLD_PID hin=${HOLD[1]} line=
		PIDS+=("$hp")
		read -r -t 20 line <&"${HOLD[0]}"
		case $line in READY*) ;; *)
			rec "fig=mem/client-$kind rep=$rep error=clients_${line// /_}"
			exec {hin}>&-
			stop_pid "$hp"
			continue
			;;
		esac
		sleep 0.3
		r1=$(rss_kb "$SP") p1=$(pss_kb "$SP")
		memrec "client-$kind" "$MEM_CLIENTS"
		exec {hin}>&- # the clients see EOF on stdin and close
		stop_pid "$hp"
	done
	stop_pid "$SP"
}

# strace_run CASE: the syscalls paird makes over a drain of N_STRACE frames
# (strace -c -f attached around it; the device queue raised so none is
# dropped while strace slows paird down).
strace_run() {
	local c=$1 dev=$API_DEV ns ifn log q0 f0 f1 stp i prev=-1 cur
	ns=$(dev_ns "$dev")
	ifn=$(dev_if "$dev")
	log=results/raw/strace-$c
	if ! paird_start "$c" "$dev" "$log.paird"; then
		rec "fig=strace/$c rep=1 error=paird_not_ready"
		return
	fi
	q0=$(ip netns exec "$ns" cat "/sys/class/net/$ifn/tx_queue_len")
	ip -n "$ns" link set "$ifn" txqueuelen "$RING_MAX"
	f0=$(rx_frames "$ns")
	strace -c -f -q -p "$SP" -o "$log.strace" &
	stp=$!
	PIDS+=("$stp")
	sleep 0.5
	ip netns exec "$ns" ./bin/gen -d "$(dev_dst "$dev")" -m packet -i "$ifn" -n "$N_STRACE" \
		-c "$GEN_CPU" -t 20 >"$log.gen" 2>&1
	# Until paird has read them all (bounded); these polls are a few
	# accept/recv/send calls of their own, not per frame.
	for i in $(seq 100); do
		sleep 0.2
		cur=$(rx_frames "$ns")
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	kill -INT "$stp" 2>/dev/null
	for i in $(seq 100); do kill -0 "$stp" 2>/dev/null || break; sleep 0.05; done
	stop_pid "$stp"
	f1=$(rx_frames "$ns")
	stop_pid "$SP"
	ip -n "$ns" link set "$ifn" txqueuelen "$q0"
	rec "fig=strace/$c rep=1 case=$c dev=$dev frames=$((f1 - f0))" \
		"$(python3 "$root/tests/bench/strace_sum.py" "$log.strace")"
}

if has http; then
	for rep in $(seq "$HTTP_REPS"); do
		for dev in $HTTP_DEVS; do
			progress "http rep $rep, $dev: light clients, wrk, followers; data plane idle and saturated"
			http_run "$rep" "$dev"
		done
	done
fi
if has memory; then
	for rep in $(seq "$MEM_REPS"); do
		progress "memory rep $rep: per port, binding, captured frame, HTTP client"
		mem_run "$rep"
	done
fi
if has strace; then
	for c in count echo; do
		progress "strace -c: $c drain of $N_STRACE frames"
		strace_run "$c"
	done
fi

progress "done"
cp "$RUNS" "$out/runs.tsv"
rm -rf "$out/raw"
cp -r results/raw "$out/raw"
python3 "$root/tests/bench/ratios.py" "$out/runs.tsv" | tee "$out/ratios.md"
echo "bench: results in $out (runs.tsv, ratios.md, raw/)"
