#!/bin/sh
# SPDX-License-Identifier: MIT
# SERVICE_CMD of ../shared/bench/run-anchors.sh: paird attached to the bench's
# persistent device with the same chain as the Twisted Pair peer (Ethernet
# [tap] -> IPv4 -> UDP port 9000 -> a counter), from a state file.
#   paird-service.sh PAIRD IFNAME tun|tap HTTP-PORT STATE-DIR
# The bench's driver reads the counters over plain HTTP on loopback inside
# the bench's namespace, so TCP auth is off (--no-auth) and no control
# socket is made (it would land in the host's /run/paird).
set -eu
paird=$1 ifn=$2 dev=$3 port=$4 dir=$5
state=$dir/state-$ifn.json
printf '{"format":1,"ports":[{"name":"%s","type":"%s","attach":true,"bindings":[{"id":1,"match":{"ethertype":2048,"ip_protocol":17,"udp_port":9000},"handler":"count"}]}]}\n' \
	"$ifn" "$dev" >"$state"
exec "$paird" --listen "127.0.0.1:$port" --no-auth --socket none --state "$state" --log-level error
