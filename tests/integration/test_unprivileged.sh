#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The non-root setup: an administrator pre-creates a persistent tap owned by
# paird's user (ip tuntap add ... user U); paird, running as U without any
# capability, attaches to it, reads and writes frames, refuses link changes
# with a clear 403, and on DELETE only detaches (the device stays).
#
# Topology: one private network namespace (and a private mount namespace,
# so /dev/net/tun can be made usable by U without touching the host's) with
# lo and utap0, a persistent tap owned by nobody, 198.18.0.1/24, up.
NETNS_MOUNT=1
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

U=nobody
uid=$(id -u $U)
tun_usable_by "$uid"
# The checkout may lie under a directory U cannot search (a mktemp -d clone,
# a 0700 home): run a copy from the work directory (0755) instead.
mkdir -m 755 "$W/bin"
install -m 755 "$PAIRD" "$W/bin/paird"
PAIRD=$W/bin/paird
setpriv --reuid="$uid" --regid="$uid" --clear-groups test -x "$PAIRD" ||
	fail "$U cannot execute the copy $PAIRD (is $W on a noexec mount?)"

ip tuntap add dev utap0 mode tap user $U
ip addr add 198.18.0.1/24 dev utap0
ip link set utap0 up
mkdir "$W/u"
chown $U "$W/u"
PAIRD_AS=$uid start_paird --state "$W/u/state.json"
grep -q CapEff:.0000000000000000 "/proc/$PAIRD_PID/status" || fail "paird runs with capabilities"

note "creating a device needs CAP_NET_ADMIN: 403 naming the cause, nothing left"
snapshot before
api POST /api/v1/ports '{"name":"unew0","type":"tap"}'
expect_problem 403
expect_json .errno_name EPERM
body | grep -q "CAP_NET_ADMIN" || fail "the 403 does not say what is missing: $(body)"
expect_unchanged

note "attaching to the pre-created device works"
api POST /api/v1/ports '{"name":"utap0","type":"tap","attach":true}'
expect_status 201
expect_json .config.attach true
expect_json .status.state up
expect_json '.status.flags | index("IFF_PERSIST") != null' true

note "link changes need CAP_NET_ADMIN: 403, nothing changed"
for patch in '{"mtu":1400}' '{"up":false}' '{"addresses":["198.18.9.1/24"]}'; do
	snapshot before
	api PATCH /api/v1/ports/utap0 "$patch"
	expect_problem 403
	expect_json .errno_name EPERM
	expect_unchanged
done
snapshot before
api PUT /api/v1/ports/utap0 '{"type":"tap","attach":true,"mtu":1400}'
expect_problem 403
expect_unchanged

note "frames the kernel sends into the tap are read"
# An ARP request for a neighbour on the tap's subnet goes out through utap0.
ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1 ||
	/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("198.18.0.2", 9))'
wait_until 3 sh -c "curl -s --unix-socket $SOCK $UBASE/api/v1/ports/utap0 | jq -e '.counters.rx_frames > 0' >/dev/null" ||
	fail "paird read no frame from utap0"

note "frames written by paird reach the kernel (transmit, as the unprivileged user)"
/usr/bin/python3 - "$W/rx" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.1", 5555))
s.settimeout(5)
open(sys.argv[1] + ".ready", "w").close()
data, peer = s.recvfrom(100)
open(sys.argv[1], "w").write("%s %s" % (data.decode(), peer[0]))
PY
rxpid=$!
wait_until 3 test -e "$W/rx.ready" || fail "the receiving socket did not start"
api POST /api/v1/ports/utap0/transmit '{"udp":{"src":"198.18.0.2","dst":"198.18.0.1",
	"src_port":7,"dst_port":5555,"payload":"unprivileged"}}'
expect_status 200
wait $rxpid || fail "the kernel did not receive paird's datagram"
expect_eq "$(cat "$W/rx")" "unprivileged 198.18.0.2" "datagram received"

note "DELETE detaches; the device stays"
api DELETE /api/v1/ports/utap0
expect_status 204
ip link show dev utap0 >/dev/null || fail "DELETE removed utap0, which paird did not create"
jq -e '.ports == []' "$W/u/state.json" >/dev/null || fail "the state file still lists utap0"
stop_paird
expect_eq "$PAIRD_RC" 0 "exit status"
ip link show dev utap0 >/dev/null || fail "paird's exit removed utap0"
