# SPDX-License-Identifier: MIT
# Shared helpers for the integration tests (sourced, not run).
#
# A test calls `netns_enter "$@"` first: it re-executes the script inside a
# private network namespace (unshare -n), so every device and address it
# makes vanishes with the namespace when the script ends. paird is started
# with its control socket at $SOCK ($W/run/paird.sock) and TCP on
# 127.0.0.1:0 inside it; the port it picked is read from its log, the TCP
# token (generated into $W/run/token, or the caller's --token-file) is in
# $TOKEN. `api METHOD PATH [BODY [CONTENT-TYPE]]` calls the API with curl
# over the Unix socket (API_VIA=tcp: over TCP at $BASE, adding no token:
# put -H "Authorization: Bearer $TOKEN" in CURL_EXTRA), records the
# exchange for the contract check (tests/contract/validate.mjs) when
# $EXCHANGES is set, and leaves STATUS and the body in $W/body. Direct curl
# calls use the same socket: curl --unix-socket "$SOCK" "$UBASE/api/...".
#
# Safety: traffic only on loopback or on devices inside the namespace;
# addresses only from 198.18.0.0/15 and 2001:db8::/32; only processes
# this script started are killed, by PID.

set -eu

PAIRD=${PAIRD:-$(cd "$(dirname "$0")/../.." && pwd)/build/paird}
TEST_NAME=$(basename "$0" .sh)

fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	if [ -n "${PAIRD_LOG:-}" ] && [ -f "$PAIRD_LOG" ]; then
		echo "--- paird log (last 30 lines) ---" >&2
		tail -n 30 "$PAIRD_LOG" >&2
	fi
	exit 1
}

skip() {
	echo "SKIP [$TEST_NAME]: $*" >&2
	exit 77
}

note() {
	echo "  [$TEST_NAME] $*"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN) for network namespaces and tun/tap"
	[ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
}

# tun_usable_by UID: lets UID open /dev/net/tun, as the unit's user must.
# Debian's node is 0666; where a host's is not (0600 has been seen), a 0666
# node of our own is bound over it in this test's private mount namespace
# (NETNS_MOUNT=1): the host's node is never touched.
tun_usable_by() {
	setpriv --reuid="$1" --regid="$1" --clear-groups test -r /dev/net/tun -a -w /dev/net/tun &&
		return 0
	[ "${NETNS_MOUNT:-}" = 1 ] || fail "tun_usable_by needs NETNS_MOUNT=1 (a private mount namespace)"
	mknod -m 666 "$W/tun" c 10 200
	mount --bind "$W/tun" /dev/net/tun
}

# Re-runs the calling script in a new network namespace (and, with
# NETNS_MOUNT=1, a private mount namespace). Call as: netns_enter "$@".
netns_enter() {
	need_root
	if [ "${IN_NETNS:-}" != "$TEST_NAME" ]; then
		unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n)"
		local flags=-n
		[ "${NETNS_MOUNT:-}" = 1 ] && flags="-n -m --propagation private"
		IN_NETNS=$TEST_NAME exec unshare $flags -- bash "$0" "$@"
	fi
	ip link set lo up
	setup_workdir
}

PAIRD_PID=
PAIRD_LOG=
NREQ=0
W=
SOCK=
TOKEN=
UBASE=http://localhost
API_VIA=${API_VIA:-unix}

cleanup() {
	local rc=$?
	if [ -n "$PAIRD_PID" ] && kill -0 "$PAIRD_PID" 2>/dev/null; then
		kill -TERM "$PAIRD_PID" 2>/dev/null || true
		wait "$PAIRD_PID" 2>/dev/null || true
	fi
	[ -n "${EXTRA_CLEANUP:-}" ] && eval "$EXTRA_CLEANUP"
	[ -n "$W" ] && rm -rf "$W"
	exit $rc
}

# The work directory and the cleanup trap; netns_enter calls this once it
# runs inside the namespace.
setup_workdir() {
	W=$(mktemp -d /tmp/paird-it.XXXXXX)
	chmod 755 "$W"
	trap cleanup EXIT INT TERM HUP
}

# start_paird [ARGS...]: starts paird (as $PAIRD_AS user when set) and waits
# until it listens. Unless ARGS say otherwise, paird gets --listen
# 127.0.0.1:0, --socket $W/run/paird.sock and, without --token-file or
# --no-auth, --token-out $W/run/token ($W/run belongs to $PAIRD_AS).
# PAIRD_DEFAULTS=1 adds nothing: paird's own defaults (/run/paird/paird.sock,
# /run/paird/token, 127.0.0.1:8080), only in a private mount namespace
# (NETNS_MOUNT=1) with a tmpfs on /run. Sets PAIRD_PID, PORT, BASE, SOCK, TOKEN.
start_paird() {
	local i a extra=(--listen 127.0.0.1:0) token_file= own_socket= own_token=
	PAIRD_LOG=$W/paird.$((NSTART = ${NSTART:-0} + 1)).log
	# Made here, so the wait below never reads it before the background job opens it.
	: >"$PAIRD_LOG"
	mkdir -p "$W/run"
	[ -n "${PAIRD_AS:-}" ] && chown "$PAIRD_AS" "$W/run"
	for a in "$@"; do
		case "$token_file" in -) token_file=$a ;; esac
		case "$a" in
		--socket | --socket=*) own_socket=1 ;;
		--token-file) token_file=- own_token=1 ;;
		--token-file=*) token_file=${a#--token-file=} own_token=1 ;;
		--no-auth | --token-out | --token-out=*) own_token=1 ;;
		esac
	done
	[ -n "$own_socket" ] || extra+=(--socket "$W/run/paird.sock")
	[ -n "$own_token" ] || extra+=(--token-out "$W/run/token")
	SOCK=$W/run/paird.sock
	TOKEN_OUT=$W/run/token
	if [ "${PAIRD_DEFAULTS:-}" = 1 ]; then
		mountpoint -q /run && [ "$(stat -f -c %T /run)" = tmpfs ] ||
			fail "PAIRD_DEFAULTS=1 needs NETNS_MOUNT=1 and a tmpfs on /run"
		extra=()
		SOCK=/run/paird/paird.sock
		TOKEN_OUT=/run/paird/token
	fi
	if [ -n "${PAIRD_AS:-}" ]; then
		setpriv --reuid="$PAIRD_AS" --regid="$PAIRD_AS" --clear-groups \
			--inh-caps=-all --bounding-set=-all -- \
			"$PAIRD" "${extra[@]}" "$@" 2>"$PAIRD_LOG" &
	else
		"$PAIRD" "${extra[@]}" "$@" 2>"$PAIRD_LOG" &
	fi
	PAIRD_PID=$!
	for i in $(seq 100); do
		PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$PAIRD_LOG")
		[ -n "$PORT" ] && break
		kill -0 "$PAIRD_PID" 2>/dev/null || fail "paird exited at start: $(cat "$PAIRD_LOG")"
		sleep 0.05
	done
	[ -n "$PORT" ] || fail "paird did not report a listening port"
	BASE=http://127.0.0.1:$PORT
	TOKEN=
	if [ -n "$token_file" ]; then
		TOKEN=$(head -n 1 "$token_file")
	elif [ -z "$own_token" ]; then
		TOKEN=$(cat "$TOKEN_OUT")
	fi
}

# The curl arguments that reach paird for PATH the way API_VIA says.
via_args() {
	if [ "$API_VIA" = tcp ]; then
		VIA=("$BASE$1")
	else
		VIA=(--unix-socket "$SOCK" "$UBASE$1")
	fi
}

# stop_paird [SIGNAL]: stops paird and sets PAIRD_RC.
stop_paird() {
	kill -"${1:-TERM}" "$PAIRD_PID"
	PAIRD_RC=0
	wait "$PAIRD_PID" || PAIRD_RC=$?
	PAIRD_PID=
}

# Extra curl arguments for every api call (e.g. a token header).
CURL_EXTRA=()

headers_json() {
	tr -d '\r' <"$W/headers" | awk 'NR > 1 && index($0, ":") {
		name = tolower(substr($0, 1, index($0, ":") - 1))
		value = substr($0, index($0, ":") + 1)
		sub(/^[ \t]+/, "", value)
		print name "\t" value }' |
		jq -R -s 'split("\n") | map(select(length > 0) | split("\t") |
			{(.[0]): .[1]}) | add // {}'
}

record() {
	[ -n "${EXCHANGES:-}" ] || return 0
	mkdir -p "$EXCHANGES"
	NREQ=$((NREQ + 1))
	local file
	file=$EXCHANGES/$TEST_NAME-$(printf %04d "$NREQ").json
	if [ "${1:-}" = nobody ]; then
		jq -n --arg method "$M" --arg url "$P" --argjson status "$STATUS" \
			--argjson headers "$(headers_json)" \
			'{method: $method, url: $url, status: $status, headers: $headers}' >"$file"
	else
		jq -n --arg method "$M" --arg url "$P" --argjson status "$STATUS" \
			--argjson headers "$(headers_json)" --rawfile body "$W/body" \
			'{method: $method, url: $url, status: $status, headers: $headers,
			  body: $body}' >"$file"
	fi
}

# api METHOD PATH [BODY [CONTENT-TYPE]] [-- CURL-ARGS...]
api() {
	M=$1 P=$2
	shift 2
	local args=(-s -o "$W/body" -D "$W/headers" -w '%{http_code}' -X "$M" --max-time 10)
	if [ $# -gt 0 ] && [ "$1" != -- ]; then
		args+=(-H "Content-Type: ${2:-application/json}" --data-binary "$1")
		shift
		[ $# -gt 0 ] && [ "$1" != -- ] && shift
	fi
	[ "${1:-}" = -- ] && shift
	via_args "$P"
	STATUS=$(curl "${args[@]}" ${CURL_EXTRA[@]+"${CURL_EXTRA[@]}"} "$@" "${VIA[@]}") ||
		fail "$M $P: curl failed"
	record
}

# api_binary: like api, but the body is not recorded (pcap and the like).
api_binary() {
	M=$1 P=$2
	shift 2
	via_args "$P"
	STATUS=$(curl -s -o "$W/body" -D "$W/headers" -w '%{http_code}' -X "$M" --max-time 10 \
		${CURL_EXTRA[@]+"${CURL_EXTRA[@]}"} "$@" "${VIA[@]}") || fail "$M $P: curl failed"
	record nobody
}

header() {
	tr -d '\r' <"$W/headers" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" \
		'index($0, ":") && tolower(substr($0, 1, index($0, ":") - 1)) == n {
			v = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", v); print v; exit }'
}

body() {
	cat "$W/body"
}

# jqb FILTER: the last response body through jq -r.
jqb() {
	jq -r "$1" "$W/body"
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "$M $P: expected status $1, got $STATUS: $(body)"
}

# expect_json FILTER VALUE: the last body's FILTER equals VALUE.
expect_json() {
	local v
	v=$(jq -r "$1" "$W/body" 2>/dev/null) || fail "$M $P: body is not JSON: $(body)"
	[ "$v" = "$2" ] || fail "$M $P: $1 is '$v', expected '$2' (body: $(body))"
}

# expect_problem STATUS [FIELD]: an RFC 9457 problem with that status (and field).
expect_problem() {
	expect_status "$1"
	case "$(header Content-Type)" in
	application/problem+json*) ;;
	*) fail "$M $P: expected application/problem+json, got '$(header Content-Type)'" ;;
	esac
	jq -e --argjson s "$1" '(.type | startswith("urn:paird:problem:")) and .title != null
		and .status == $s and (.detail | length > 0)' "$W/body" >/dev/null ||
		fail "$M $P: not a complete problem body: $(body)"
	if [ $# -ge 2 ]; then
		expect_json .field "$2"
	fi
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms.
wait_until() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# The part of the world a rejected request must not change: the ports'
# configuration and state as the API reports them, and every link and
# address in the namespace.
snapshot() {
	via_args /api/v1/ports
	{
		curl -s --max-time 5 ${CURL_EXTRA[@]+"${CURL_EXTRA[@]}"} "${VIA[@]}" |
			jq -S '.ports | map(del(.counters, .status.last_error, .status.queues))'
		ip -d -br link show | sed 's/ *$//'
		ip -br addr show | sed 's/ *$//'
	} >"$W/snapshot.$1"
}

expect_unchanged() {
	snapshot after
	diff -u "$W/snapshot.before" "$W/snapshot.after" >&2 ||
		fail "$M $P was refused but changed something"
}

# need_pairctl: PAIRCTL, the pairctl built next to $PAIRD unless already set.
need_pairctl() {
	PAIRCTL=${PAIRCTL:-$(dirname "$PAIRD")/pairctl}
	[ -x "$PAIRCTL" ] || fail "no pairctl at $PAIRCTL (make all builds it)"
}

# pc ARGS...: pairctl on paird's socket with an empty stdin; LAST names the
# call, RC is its exit status, $W/out and $W/err its output.
pc() {
	LAST="pairctl $*"
	RC=0
	timeout 20 "$PAIRCTL" --socket "$SOCK" "$@" >"$W/out" 2>"$W/err" </dev/null || RC=$?
}

# expect_rc RC: the last pc exited RC.
expect_rc() {
	[ "$RC" = "$1" ] ||
		fail "$LAST: exit $RC, expected $1 (stdout: $(head -c 3000 "$W/out"); stderr: $(cat "$W/err"))"
}

# out_has PATTERN, err_has PATTERN: a line of the last pc's stdout (stderr) matches.
out_has() {
	grep -q -e "$1" "$W/out" || fail "$LAST: stdout lacks '$1': $(cat "$W/out")"
}
err_has() {
	grep -q -e "$1" "$W/err" || fail "$LAST: stderr lacks '$1': $(cat "$W/err")"
}

# forward_wire A B: a forward binding on each of the ports A and B to the
# other, so that together they are a wire.
forward_wire() {
	api POST "/api/v1/ports/$1/bindings" "{\"handler\":\"forward\",\"options\":{\"port\":\"$2\"}}"
	expect_status 201
	api POST "/api/v1/ports/$2/bindings" "{\"handler\":\"forward\",\"options\":{\"port\":\"$1\"}}"
	expect_status 201
}

# netns_move NS DEV PREFIX: moves DEV into the network namespace NS (which
# the caller made and deletes) with the address PREFIX; lo and DEV up.
netns_move() {
	ip link set "$2" netns "$1"
	ip -n "$1" link set lo up
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" link set "$2" up
}
