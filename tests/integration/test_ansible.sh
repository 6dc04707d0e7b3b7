#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fleet example (examples/ansible: site.yml and the paird_config role)
# driven by Debian's ansible-core against three paird instances, each in a
# network namespace of its own (ip netns add) with its own control socket,
# as a three-host inventory (ansible_connection: local: the uri module runs
# here, so each host's socket path is what tells the hosts apart; each paird
# runs inside its namespace, so the ports it creates are made there).
#
# The first run makes every change (ip in each namespace, bindings through
# GET /api/v1/config) and reports changed on every host; the second reports
# changed=0 everywhere (PLAY RECAP); one host's variable changed changes only
# that host; a link changed behind paird's back is mended by the next run,
# changed on that host only; --check --diff changes nothing anywhere (ip before and after)
# but reports the host that would change, with the actions; a document paird
# refuses fails that host with paird's problem text and every invalid field,
# and changes nothing. A host's GET /api/v1/config made into its variables
# (the example README's recipe) changes nothing, and the example inventory's
# own documents are accepted by paird (a check run against one of them).
# Every ansible-playbook run is under a timeout, and
# Ansible's files (ANSIBLE_HOME, temp directories) stay in the test's own
# directory.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
command -v ansible-playbook >/dev/null ||
	skip "ansible-playbook is missing (Debian package ansible-core; make test-deps installs it)"
EXAMPLE=$(cd "$(dirname "$0")/../../examples/ansible" && pwd)
[ -f "$EXAMPLE/site.yml" ] || fail "no site.yml in $EXAMPLE"

# lib.sh's fail, with the three paird logs.
fail() {
	local n
	echo "FAIL [$TEST_NAME]: $*" >&2
	for n in 1 2 3; do
		[ -f "$W/h$n/paird.log" ] || continue
		echo "--- h$n: paird log (last 15 lines) ---" >&2
		tail -n 15 "$W/h$n/paird.log" >&2
	done
	exit 1
}

NS=()
PIDS=()
# lib.sh's cleanup runs this: the three paird (by PID) stop, their devices go
# with them, then the namespaces.
ans_cleanup() {
	local p n
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for n in ${NS[@]+"${NS[@]}"}; do
		ip netns del "$n" 2>/dev/null
	done
	return 0
}
EXTRA_CLEANUP=ans_cleanup

# Ansible keeps nothing outside $W: its home, temp directories and a config
# file of its own (so no /etc/ansible/ansible.cfg or ./ansible.cfg is read).
HOME_ANSIBLE_BEFORE=$([ -e "${HOME:-/nonexistent}/.ansible" ] && echo yes || echo no)
mkdir -p "$W/ansible/tmp" "$W/ansible/remote-tmp"
printf '[defaults]\ninterpreter_python = auto_silent\n' >"$W/ansible/ansible.cfg"
export ANSIBLE_CONFIG=$W/ansible/ansible.cfg ANSIBLE_HOME=$W/ansible \
	ANSIBLE_LOCAL_TEMP=$W/ansible/tmp ANSIBLE_REMOTE_TEMP=$W/ansible/remote-tmp \
	ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
	ANSIBLE_STDOUT_CALLBACK=default \
	ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_SYSTEM_WARNINGS=0

# start_host N: namespace N with lo up, and paird in it on $W/hN/paird.sock.
start_host() {
	local ns=paird-ans$$-h$1 dir=$W/h$1
	ip netns add "$ns" || fail "ip netns add $ns"
	NS+=("$ns")
	ip netns exec "$ns" ip link set lo up
	mkdir -p "$dir"
	# ip netns exec execs paird, so $! is paird's PID.
	ip netns exec "$ns" "$PAIRD" --listen none --socket "$dir/paird.sock" \
		--state "$dir/state.json" 2>"$dir/paird.log" &
	PIDS+=($!)
	wait_until 5 curl -sf --max-time 2 -o /dev/null --unix-socket "$dir/paird.sock" \
		http://localhost/healthz || fail "paird in $ns did not answer on its socket"
	[ "$(cat "/proc/${PIDS[-1]}/comm")" = paird ] || fail "PID ${PIDS[-1]} is not paird"
}

# in_ns N COMMAND...: COMMAND in host N's namespace.
in_ns() {
	local n=$1
	shift
	ip netns exec "paird-ans$$-h$n" "$@"
}

# expect_addr N DEV PREFIX: host N's DEV has PREFIX (ip -o addr).
expect_addr() {
	in_ns "$1" ip -o addr show dev "$2" | grep -qF " $3 " || fail "h$1: $2 lacks $3"
}

# expect_mtu N DEV MTU: host N's DEV is up at MTU (ip -o link).
expect_mtu() {
	local l
	l=$(in_ns "$1" ip -o link show dev "$2") || fail "h$1: no $2"
	echo "$l" | grep -q "[<,]UP[,>].* mtu $3 " || fail "h$1: $2 is not up at mtu $3: $l"
}

# config N: host N's GET /api/v1/config (over its socket) into $W/config.N.
config() {
	curl -sf --max-time 10 --unix-socket "$W/h$1/paird.sock" \
		http://localhost/api/v1/config >"$W/config.$1" || fail "GET /api/v1/config on h$1"
}

# bindings N: host N's binding names per port, as compact sorted JSON.
bindings() {
	config "$1"
	jq -cS '.ports | map_values(.bindings | keys)' "$W/config.$1"
}

# view N TAG: what host N's namespace and paird hold (links with their
# ifindex, MTU and flags, global addresses, the config document without its
# version) into $W/view.N.TAG. Operational state and link-local addresses
# are left out: they move on their own (carrier, DAD) without a change.
view() {
	{
		in_ns "$1" ip -o link show | sed -e 's/ state [A-Z]*//' -e 's/ *$//'
		in_ns "$1" ip -o addr show scope global | sed 's/ *$//'
		config "$1"
		jq -S 'del(.version)' "$W/config.$1"
	} >"$W/view.$1.$2"
}

views() {
	local n
	for n in 1 2 3; do view "$n" "$1"; done
}

# expect_same_view N A B: host N did not change between views A and B.
expect_same_view() {
	diff -u "$W/view.$1.$2" "$W/view.$1.$3" >&2 || fail "h$1 changed between '$2' and '$3'"
}

# play NAME [ARGS...]: runs the example playbook with the test's inventory
# (or $INVENTORY), bounded, output in $W/play.NAME, exit status in PLAY_RC.
play() {
	local name=$1
	shift
	PLAY_RC=0
	(cd "$W" && timeout --kill-after=10 120 ansible-playbook -i "${INVENTORY:-$W/inv/hosts.yml}" \
		"$EXAMPLE/site.yml" "$@") >"$W/play.$name" 2>&1 || PLAY_RC=$?
	case $PLAY_RC in
	124 | 137) fail "ansible-playbook ($name) timed out: $(tail -n 20 "$W/play.$name")" ;;
	esac
}

# recap NAME HOST FIELD: FIELD's count for HOST in run NAME's PLAY RECAP.
recap() {
	awk -v h="$2" -v f="$3" '/^PLAY RECAP/ { r = 1; next }
		r && $1 == h { for (i = 3; i <= NF; i++) { split($i, kv, "=")
			if (kv[1] == f) print kv[2] } }' "$W/play.$1"
}

# expect_recap NAME HOST changed=N failed=N ...
expect_recap() {
	local name=$1 h=$2 kv got
	shift 2
	for kv in "$@"; do
		got=$(recap "$name" "$h" "${kv%%=*}")
		[ "$got" = "${kv#*=}" ] ||
			fail "ansible-playbook ($name): $h has ${kv%%=*}='$got', expected ${kv#*=}:
$(cat "$W/play.$name")"
	done
}

expect_play_ok() {
	[ "$PLAY_RC" = 0 ] || fail "ansible-playbook ($1) exited $PLAY_RC:
$(cat "$W/play.$1")"
}

# expect_output NAME TEXT: run NAME's output has TEXT (fixed string).
expect_output() {
	grep -qF -- "$2" "$W/play.$1" || fail "ansible-playbook ($1) does not say '$2':
$(cat "$W/play.$1")"
}

# --- the inventory: three hosts, the sockets as per-host variables ---

mkdir -p "$W/inv/group_vars" "$W/inv/host_vars"
cat >"$W/inv/hosts.yml" <<EOF
paird:
  hosts:
    h1:
    h2:
    h3:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    paird_become: false
EOF
# Common to every host: a monitor tap that captures everything.
cat >"$W/inv/group_vars/paird.yml" <<'EOF'
paird_ports_common:
  mon0:
    type: tap
    addresses: [198.18.254.1/24]
    bindings:
      all: {match: {}, handler: capture, options: {snaplen: 128}}
EOF
cat >"$W/inv/host_vars/h1.yml" <<EOF
paird_socket: $W/h1/paird.sock
paird_ports:
  tap0:
    type: tap
    mtu: 1400
    addresses: [198.18.1.1/24, "2001:db8:1::1/64"]
    bindings:
      ping: {match: {ethertype: 2048, ip_protocol: 1}, handler: echo}
      dns:
        match: {ethertype: 2048, ip_protocol: 17, udp_port: 53}
        handler: capture
  tun0:
    type: tun
    addresses: [198.18.11.1/24]
EOF
h2_vars() {
	cat >"$W/inv/host_vars/h2.yml" <<EOF
paird_socket: $W/h2/paird.sock
paird_ports:
  tap0:
    type: tap
    mtu: $1
    addresses: [198.18.2.1/24$2]
    bindings:
      ping: {match: {ethertype: 2048, ip_protocol: 1}, handler: echo}$3
EOF
}
h2_vars 1400 "" ""
h3_vars() {
	cat >"$W/inv/host_vars/h3.yml" <<EOF
paird_socket: $W/h3/paird.sock
paird_ports:
  tap0:
    type: tap
    addresses: [$1]
$2
EOF
}
h3_vars 198.18.3.1/24 ""

start_host 1
start_host 2
start_host 3

note "first run: every change made, changed on every host"
play first
expect_play_ok first
for h in h1 h2 h3; do expect_recap first "$h" changed=1 failed=0 unreachable=0; done
expect_mtu 1 tap0 1400
expect_addr 1 tap0 198.18.1.1/24
expect_addr 1 tap0 2001:db8:1::1/64
expect_addr 1 tun0 198.18.11.1/24
expect_mtu 2 tap0 1400
expect_addr 2 tap0 198.18.2.1/24
expect_mtu 3 tap0 1500
expect_addr 3 tap0 198.18.3.1/24
for n in 1 2 3; do
	expect_addr "$n" mon0 198.18.254.1/24 # the group's port
	# Each host's ports are its own, in its own namespace.
	[ "$(in_ns "$n" ip -o addr show scope global | grep -c ' 198\.18\.[123]\.1/24 ')" = 1 ] ||
		fail "h$n holds another host's address: $(in_ns "$n" ip -o addr show scope global)"
done
in_ns 2 ip link show dev tun0 >/dev/null 2>&1 && fail "h2 has h1's tun0"
in_ns 3 ip link show dev tun0 >/dev/null 2>&1 && fail "h3 has h1's tun0"
ip link show dev tap0 >/dev/null 2>&1 && fail "a port landed in the controller's namespace"
expect_eq "$(bindings 1)" '{"mon0":["all"],"tap0":["dns","ping"],"tun0":[]}' "h1 bindings"
expect_eq "$(bindings 2)" '{"mon0":["all"],"tap0":["ping"]}' "h2 bindings"
expect_eq "$(bindings 3)" '{"mon0":["all"],"tap0":[]}' "h3 bindings"

note "second run: changed=0 on every host, nothing touched"
views first
play second
expect_play_ok second
for h in h1 h2 h3; do expect_recap second "$h" changed=0 failed=0; done
views second
for n in 1 2 3; do expect_same_view "$n" first second; done

note "one host's variable changed: only that host changes"
h2_vars 1280 ', "2001:db8:2::1/64"' '
      dns:
        match: {ethertype: 2048, ip_protocol: 17, udp_port: 53}
        handler: capture'
play third
expect_play_ok third
expect_recap third h1 changed=0 failed=0
expect_recap third h2 changed=1 failed=0
expect_recap third h3 changed=0 failed=0
views third
expect_same_view 1 second third
expect_same_view 3 second third
expect_mtu 2 tap0 1280
expect_addr 2 tap0 2001:db8:2::1/64
expect_addr 2 tap0 198.18.2.1/24
expect_eq "$(bindings 2)" '{"mon0":["all"],"tap0":["dns","ping"]}' "h2 bindings after the change"

note "check mode: changes nothing anywhere, reports the host that would change (--diff: actions)"
h3_vars 198.18.3.2/24 '  tun0:
    type: tun'
play check --check --diff
expect_play_ok check
expect_recap check h1 changed=0 failed=0
expect_recap check h2 changed=0 failed=0
expect_recap check h3 changed=1 failed=0
expect_output check "+ create_port tun0: create tun tun0; set up"
expect_output check \
	"~ update_port tap0 (addresses): remove address 198.18.3.1/24; add address 198.18.3.2/24"
views check
for n in 1 2 3; do expect_same_view "$n" third check; done

note "the same run without --check does what check mode said"
play apply
expect_play_ok apply
expect_recap apply h1 changed=0 failed=0
expect_recap apply h2 changed=0 failed=0
expect_recap apply h3 changed=1 failed=0
in_ns 3 ip -o link show dev tun0 >/dev/null || fail "h3: tun0 was not created"
expect_addr 3 tap0 198.18.3.2/24
in_ns 3 ip -o addr show dev tap0 | grep -q " 198.18.3.1/" && fail "h3: tap0 kept 198.18.3.1/24"
views apply
expect_same_view 1 check apply
expect_same_view 2 check apply

note "a link changed behind paird's back (h2's MTU): the next run mends it, changed on h2 only"
in_ns 2 ip link set dev tap0 mtu 1300
play drift
expect_play_ok drift
expect_recap drift h1 changed=0 failed=0
expect_recap drift h2 changed=1 failed=0
expect_recap drift h3 changed=0 failed=0
expect_mtu 2 tap0 1280
views drift
expect_same_view 1 apply drift
expect_same_view 2 apply drift
expect_same_view 3 apply drift

note "h1's GET /api/v1/config turned into its variables (as the example's README does): no change"
cp "$W/inv/host_vars/h1.yml" "$W/h1.yml.saved"
{
	echo "paird_socket: $W/h1/paird.sock"
	curl -s --max-time 10 --unix-socket "$W/h1/paird.sock" http://localhost/api/v1/config |
		python3 -c 'import json, sys, yaml
print(yaml.safe_dump({"paird_ports": json.load(sys.stdin)["ports"]}, sort_keys=False))'
} >"$W/inv/host_vars/h1.yml"
play roundtrip
expect_play_ok roundtrip
for h in h1 h2 h3; do expect_recap roundtrip "$h" changed=0 failed=0; done
views roundtrip
for n in 1 2 3; do expect_same_view "$n" drift roundtrip; done
cp "$W/h1.yml.saved" "$W/inv/host_vars/h1.yml"

note "a document paird refuses: that host fails with paird's problem, nothing changes"
cat >>"$W/inv/host_vars/h1.yml" <<'EOF'
  tap1:
    type: tap
    addresses: [198.18.1.300/24]
    bindings:
      odd: {match: {ethertype: 2048}, handler: nosuch}
EOF
play refused
[ "$PLAY_RC" = 2 ] || fail "ansible-playbook (refused) exited $PLAY_RC, expected 2 (a host failed):
$(cat "$W/play.refused")"
expect_recap refused h1 changed=0 failed=1
expect_recap refused h2 changed=0 failed=0
expect_recap refused h3 changed=0 failed=0
expect_output refused "refused the configuration: 422"
expect_output refused \
	"ports.tap1.addresses[0]: \\\"198.18.1.300/24\\\": not an IPv4 or IPv6 address"
expect_output refused "ports.tap1.bindings.odd.handler"
views refused
for n in 1 2 3; do expect_same_view "$n" roundtrip refused; done
in_ns 1 ip link show dev tap1 >/dev/null 2>&1 && fail "h1: a refused document created tap1"

note "the example inventory's documents are ones paird accepts (h1 checks them, unchanged)"
INVENTORY=$EXAMPLE/inventory/hosts.yml play example --check -e ansible_connection=local \
	-e paird_become=false -e 'ansible_python_interpreter={{ ansible_playbook_python }}' \
	-e "paird_socket=$W/h1/paird.sock"
expect_play_ok example
for h in edge1 edge2 edge3; do
	expect_recap example "$h.example.net" changed=1 failed=0 unreachable=0
done
view 1 example
expect_same_view 1 refused example

if [ "$HOME_ANSIBLE_BEFORE" = no ] && [ -e "${HOME:-/nonexistent}/.ansible" ]; then
	fail "ansible-playbook left $HOME/.ansible behind"
fi
note "ok"
