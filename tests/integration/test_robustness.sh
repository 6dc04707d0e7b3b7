#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real-world frames into a live port: every Ethernet capture of tcpdump's
# test suite (../shared/corpus/tcpdump-ethernet) is replayed into a tap
# through an AF_PACKET socket; paird must stay up, and its counters must
# account for every frame the kernel delivered: rx_frames equals the tap's
# tx_packets, and matched + unmatched + malformed equals rx_frames.
#
# Topology: one private network namespace holding lo and rb0, a tap with
# no address and IPv6 off (so the kernel adds no frames of its own). The
# replayed frames only leave the kernel through rb0 towards paird; nothing
# answers them (no echo or reply handlers are bound).
. "$(dirname "$0")/lib.sh"
CORPUS=${CORPUS_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/corpus/tcpdump-ethernet}
[ -d "$CORPUS" ] || skip "the corpus is absent ($CORPUS)"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || fail "scapy is missing (python3-scapy)"
netns_enter "$@"
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
start_paird

api POST /api/v1/ports '{"name":"rb0","type":"tap","mtu":65521}'
expect_status 201
# Bindings only at leaves of the tree, so that frames also end up unmatched
# at every level (a binding at a node takes every frame below it).
for b in '{"match":{"ethertype":2048,"ip_protocol":1},"handler":"capture","options":{"snaplen":128,"filter":"not icmp[icmptype] == icmp-echoreply"}}' \
	'{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},"handler":"capture"}' \
	'{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":123},"handler":"count"}' \
	'{"match":{"ethertype":2048,"ip_protocol":6},"handler":"drop"}' \
	'{"match":{"ethertype":34525,"ip_protocol":58},"handler":"capture","options":{"snaplen":128}}' \
	'{"match":{"ethertype":34525,"ip_protocol":17,"udp_port":547},"handler":"count"}' \
	'{"match":{"ethertype":2054},"handler":"count"}'; do
	api POST /api/v1/ports/rb0/bindings "$b"
	expect_status 201
done

note "replaying $(ls "$CORPUS" | wc -l) capture files from $CORPUS"
/usr/bin/python3 - "$CORPUS" rb0 "$BASE" >"$W/replay" <<'PY' || fail "the replay failed: $(cat "$W/replay")"
import os, socket, sys, time, urllib.request
from scapy.utils import RawPcapReader
corpus, dev, base = sys.argv[1:4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
files = sent = refused = unreadable = 0
deadline = time.monotonic() + 240        # bounded in time as well as in frames
for name in sorted(os.listdir(corpus)):
    if time.monotonic() > deadline:
        break
    try:
        frames = [data for data, _ in RawPcapReader(os.path.join(corpus, name))]
    except Exception:
        unreadable += 1
        continue
    files += 1
    for i, data in enumerate(frames[:5000]):
        try:
            s.send(data)
            sent += 1
        except OSError:
            refused += 1         # shorter than a header, or over the MTU
        if i % 64 == 63:
            time.sleep(0.002)    # let paird keep up with the tap's queue
    # paird must still answer after every file
    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
        assert r.status == 200
print(files, sent, refused, unreadable)
PY
read -r files sent refused unreadable <"$W/replay"
note "files $files, frames sent $sent, refused by the kernel $refused, unreadable files $unreadable"
[ "$files" -gt 400 ] || fail "only $files capture files were replayed"
[ "$sent" -gt 5000 ] || fail "only $sent frames were sent"

kernel_tx() { ip -s -j link show dev rb0 | jq '.[0].stats64.tx.packets'; }
paird_rx() { curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/rb0" | jq .counters.rx_frames; }
settled() { [ "$(kernel_tx)" = "$(paird_rx)" ]; }
wait_until 10 settled || fail "paird read $(paird_rx) frames, the kernel delivered $(kernel_tx)"
note "kernel delivered $(kernel_tx), dropped $(ip -s -j link show dev rb0 | jq '.[0].stats64.tx.dropped')"

api GET /api/v1/ports/rb0
expect_json .status.state up
jq -e '.counters | .matched + (.unmatched | add) + (.malformed | add) == .rx_frames' \
	"$W/body" >/dev/null || fail "counters do not add up: $(jq -c '.counters' "$W/body")"
jq -e '.counters | (.malformed | add) > 0 and .matched > 0 and .unmatched.ethertype > 0 and
	.unmatched.ip_protocol > 0 and .unmatched.udp_port > 0' "$W/body" >/dev/null ||
	fail "the corpus should reach every bucket: $(jq -c '.counters' "$W/body")"
note "$(jq -c '.counters | {rx_frames, matched, unmatched, fragments, bad_checksum,
	malformed: (.malformed | with_entries(select(.value > 0)))}' "$W/body")"
api GET "/api/v1/ports/rb0/captures?limit=1000"
expect_status 200
api_binary GET /api/v1/ports/rb0/captures.pcap
expect_status 200
tshark -r "$W/body" -c 1 >/dev/null 2>&1 || fail "tshark cannot read the capture of the corpus"
kill -0 "$PAIRD_PID" || fail "paird died"
