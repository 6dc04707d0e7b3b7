#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The data plane against the kernel: a tap made into a simulated host by
# bindings (ARP/NDP replies + ICMP/ICMPv6/UDP echo) answers ping and UDP;
# datagrams sent from kernel sockets are captured with the fields that were
# sent, as JSON pages and as a pcap tshark decodes to the same frames;
# transmitted datagrams reach kernel sockets; counters add up; /metrics
# passes promtool; bindings survive a restart; a tun works the same way.
#
# Topology (one private network namespace):
#   kernel dp0 198.18.30.1/24, 2001:db8:30::1/64 ==tap== paird: simulated
#          host 198.18.30.2 / 2001:db8:30::2 (MAC 02:00:00:00:30:02)
#   kernel dt0 198.18.31.1/24 ==tun== paird: simulated host 198.18.31.2
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
command -v ping >/dev/null || fail "ping is missing (iputils-ping)"
command -v tshark >/dev/null || fail "tshark is missing"
PY=/usr/bin/python3
STATE=$W/state.json
start_paird --state "$STATE"

bind() { # bind PORT JSON -> prints the id
	api POST "/api/v1/ports/$1/bindings" "$2"
	expect_status 201
	jqb .id
}
sum_buckets() {
	curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/$1" | jq '.counters | [.matched, (.unmatched | add),
		(.malformed | add), .rx_frames] | "\(.[0] + .[1] + .[2]) \(.[3])"' -r
}
adds_up() { set -- $(sum_buckets "$1"); [ "$1" = "$2" ]; }

api POST /api/v1/ports '{"name":"dp0","type":"tap","mac":"02:00:00:00:30:01",
	"addresses":["198.18.30.1/24","2001:db8:30::1/64"]}'
expect_status 201

note "binding requests are validated; a refused one changes nothing"
bad_binding() { # STATUS FIELD JSON
	local before
	before=$(curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/dp0/bindings")
	api POST /api/v1/ports/dp0/bindings "$3"
	if [ "$2" = - ]; then expect_problem "$1"; else expect_problem "$1" "$2"; fi
	expect_eq "$(curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/dp0/bindings")" "$before" "bindings after a refusal"
}
bad_binding 422 match.ethertype '{"match":{"ethertype":65536},"handler":"count"}'
# Below 1536 the Ethernet type/length field is an IEEE 802.3 length, not an EtherType.
bad_binding 422 match.ethertype '{"match":{"ethertype":1500},"handler":"count"}'
bad_binding 422 match.ethertype '{"match":{"ethertype":1535},"handler":"count"}'
expect_json '.detail | test("802.3")' true
bad_binding 422 match.ip_protocol '{"match":{"ethertype":2048,"ip_protocol":256},"handler":"count"}'
bad_binding 422 match.udp_port '{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":-1},"handler":"count"}'
bad_binding 422 match.udp_port '{"match":{"ethertype":2048,"ip_protocol":6,"udp_port":80},"handler":"count"}'
bad_binding 422 match.ethertype '{"match":{"ip_protocol":17},"handler":"count"}'
bad_binding 422 match.ethertype '{"match":{"ethertype":2054,"ip_protocol":17},"handler":"count"}'
bad_binding 422 match.vlan '{"match":{"vlan":1},"handler":"count"}'
bad_binding 422 handler '{"match":{},"handler":"teleport"}'
bad_binding 422 handler '{"match":{},"handler":"echo"}'
bad_binding 422 handler '{"match":{"ethertype":2048},"handler":"arp_reply","options":{"addresses":["198.18.30.2"]}}'
bad_binding 422 options.filter '{"handler":"capture","options":{"filter":"udp port x"}}'
bad_binding 422 options.snaplen '{"handler":"capture","options":{"snaplen":0}}'
bad_binding 422 'options.addresses[0]' '{"match":{"ethertype":2054},"handler":"arp_reply","options":{"addresses":["2001:db8::2"]}}'
bad_binding 422 options.port '{"handler":"forward","options":{"port":"nosuch"}}'
bad_binding 422 colour '{"handler":"count","colour":"red"}'
bad_binding 400 - '{"handler":"count"'
api POST /api/v1/ports/nosuch/bindings '{"handler":"count"}'
expect_problem 404
api GET /api/v1/ports/dp0/bindings/0
expect_problem 404
api GET /api/v1/ports/dp0/bindings/abc
expect_problem 404

note "a simulated host: ARP, NDP, ICMP and UDP echo"
HOSTMAC=02:00:00:00:30:02
arp=$(bind dp0 "{\"match\":{\"ethertype\":2054},\"handler\":\"arp_reply\",\"options\":{\"addresses\":[\"198.18.30.2\"],\"mac\":\"$HOSTMAC\"}}")
ndp=$(bind dp0 "{\"match\":{\"ethertype\":34525,\"ip_protocol\":58},\"handler\":\"ndp_reply\",\"options\":{\"addresses\":[\"2001:db8:30::2\"],\"mac\":\"$HOSTMAC\"}}")
echo4=$(bind dp0 '{"match":{"ethertype":2048,"ip_protocol":1},"handler":"echo"}')
echo6=$(bind dp0 '{"match":{"ethertype":34525,"ip_protocol":58},"handler":"echo"}')
echou=$(bind dp0 '{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":7},"handler":"echo"}')
cap9=$(bind dp0 '{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":9},"handler":"capture"}')
cnt9=$(bind dp0 '{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":9},"handler":"count"}')
capall=$(bind dp0 '{"match":{},"handler":"capture","options":{"snaplen":256}}')
api GET /api/v1/ports/dp0/bindings/$cap9
expect_json .config.options.snaplen 65557
expect_json .config.options.filter ""

ping -c 3 -i 0.2 -W 2 198.18.30.2 >"$W/ping4" || fail "IPv4 ping of the simulated host: $(cat "$W/ping4")"
ping -6 -c 3 -i 0.2 -W 2 2001:db8:30::2 >"$W/ping6" ||
	fail "IPv6 ping of the simulated host: $(cat "$W/ping6")"
ip neigh show 198.18.30.2 dev dp0 | grep -q "$HOSTMAC" || fail "ARP did not learn $HOSTMAC"
api GET /api/v1/ports/dp0/bindings/$echo4
expect_json '.counters.replies >= 3' true
api GET /api/v1/ports/dp0/bindings/$arp
expect_json '.counters.replies >= 1' true

note "a UDP datagram from a kernel socket is captured with the fields sent"
$PY - <<'PY' || fail "sending the UDP datagram"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.30.1", 40000))
s.sendto(b"twisted pair", ("198.18.30.2", 9))
PY
wait_until 3 sh -c "curl -s --unix-socket $SOCK '$UBASE/api/v1/ports/dp0/captures?binding=$cap9' | jq -e '.records | length == 1' >/dev/null" ||
	fail "the datagram was not captured"
api GET "/api/v1/ports/dp0/captures?binding=$cap9"
expect_status 200
expect_json '.records[0].binding' "$cap9"
expect_json '.records[0].headers.ethernet.src' 02:00:00:00:30:01
expect_json '.records[0].headers.ethernet.dst' "$HOSTMAC"
expect_json '.records[0].headers.ethernet.type' 2048
expect_json '.records[0].headers.ipv4.version' 4
expect_json '.records[0].headers.ipv4.ihl' 20
expect_json '.records[0].headers.ipv4.src' 198.18.30.1
expect_json '.records[0].headers.ipv4.dst' 198.18.30.2
expect_json '.records[0].headers.ipv4.protocol' 17
expect_json '.records[0].headers.ipv4.total_length' 40
expect_json '.records[0].headers.ipv4.checksum_status' ok
expect_json '.records[0].headers.ipv4.mf' false
expect_json '.records[0].headers.udp.src_port' 40000
expect_json '.records[0].headers.udp.dst_port' 9
expect_json '.records[0].headers.udp.length' 20
expect_json '.records[0].headers.udp.checksum_status' ok
expect_json '.records[0].headers.payload' "$(printf 'twisted pair' | od -An -tx1 | tr -d ' \n')"
expect_json '.records[0].len' 54
api GET /api/v1/ports/dp0/bindings/$cnt9
expect_json .counters.packets 1

note "UDP echo answers a kernel socket"
$PY - <<'PY' || fail "no UDP echo"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"echo me", ("198.18.30.2", 7))
data, peer = s.recvfrom(100)
assert data == b"echo me" and peer == ("198.18.30.2", 7), (data, peer)
PY

note "every frame read is matched, unmatched or malformed"
wait_until 2 adds_up dp0 || fail "counters do not add up: $(sum_buckets dp0)"

note "captures page by seq, and the pcap decodes in tshark to the same frames"
api GET "/api/v1/ports/dp0/captures?binding=$capall&limit=1000"
total=$(jqb '.records | length')
[ "$total" -ge 8 ] || fail "expected the ping and UDP traffic in the capture, got $total"
api GET "/api/v1/ports/dp0/captures?binding=$capall&limit=3"
expect_json '.records | length' 3
next=$(jqb .next_after)
api GET "/api/v1/ports/dp0/captures?binding=$capall&limit=3&after=$next"
expect_json '.records[0].seq > '"$next" true
api GET "/api/v1/ports/dp0/captures?limit=0"
expect_problem 400 limit
api GET "/api/v1/ports/dp0/captures?after=x"
expect_problem 400 after
api_binary GET "/api/v1/ports/dp0/captures.pcap?binding=$capall"
expect_status 200
expect_eq "$(header Content-Type)" application/vnd.tcpdump.pcap "pcap media type"
cp "$W/body" "$W/dp0.pcap"
tshark -r "$W/dp0.pcap" -T fields -e frame.len -e eth.src -e ip.src -e ipv6.src \
	>"$W/tshark.out" 2>"$W/tshark.err" || fail "tshark cannot read the pcap: $(cat "$W/tshark.err")"
grep -v 'Running as user "root"' "$W/tshark.err" | grep -q . &&
	fail "tshark warned: $(cat "$W/tshark.err")"
# The kernel may add frames (MLD, ND) between the two reads: compare what both hold.
frames=$(wc -l <"$W/tshark.out")
[ "$frames" -ge "$total" ] || fail "the pcap holds $frames frames, the JSON $total"
curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/dp0/captures?binding=$capall&limit=$frames" |
	jq -r '.records[] | [.len, .headers.ethernet.src, (.headers.ipv4.src // ""),
		(.headers.ipv6.src // "")] | @tsv' >"$W/json.out"
diff <(tr -d '\r' <"$W/tshark.out") "$W/json.out" >&2 || fail "tshark and the JSON disagree"
tshark -r "$W/dp0.pcap" -Y 'udp.dstport == 9 && udp.srcport == 40000' 2>/dev/null | grep -q . ||
	fail "tshark does not see the UDP datagram to port 9"

note "transmit: a structured UDP datagram and the same bytes as hex reach a kernel socket"
$PY - "$W/rx" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.30.1", 5555))
s.settimeout(8)
got = []
with open(sys.argv[1] + ".ready", "w"):
    pass
for _ in range(2):
    data, peer = s.recvfrom(100)
    got.append("%s %s:%d" % (data.decode(), peer[0], peer[1]))
open(sys.argv[1], "w").write("\n".join(got) + "\n")
PY
rxpid=$!
wait_until 3 test -e "$W/rx.ready" || fail "the receiving socket did not start"
api POST /api/v1/ports/dp0/transmit '{"udp":{"src":"198.18.30.2","dst":"198.18.30.1",
	"src_port":7777,"dst_port":5555,"payload":"from paird"}}'
expect_status 200
hex=$(jqb .data)
expect_json .length $((14 + 20 + 8 + 10))
api POST /api/v1/ports/dp0/transmit "{\"hex\":\"$hex\"}"
expect_status 200
wait $rxpid || fail "the kernel socket did not receive both datagrams"
expect_eq "$(cat "$W/rx")" "from paird 198.18.30.2:7777
from paird 198.18.30.2:7777" "datagrams received"
api GET /api/v1/ports/dp0
expect_json '.counters.tx_frames >= 2' true

note "transmit: an ICMP echo request gets the kernel's reply"
api POST /api/v1/ports/dp0/transmit '{"icmp_echo":{"src":"198.18.30.2","dst":"198.18.30.1",
	"id":4660,"seq":7,"payload_hex":"0102030405"}}'
expect_status 200
wait_until 3 sh -c "curl -s --unix-socket $SOCK '$UBASE/api/v1/ports/dp0/captures?binding=$capall&limit=1000' |
	jq -e '[.records[].headers | select(.icmp.type == 0 and .icmp.id == 4660 and
		.icmp.seq == 7 and .ipv4.src == \"198.18.30.1\")] | length == 1' >/dev/null" ||
	fail "no echo reply from the kernel was captured"

note "transmit: a broadcast (ARP request) from the simulated host gets the kernel's answer"
api POST /api/v1/ports/dp0/transmit "{\"hex\":\"ffffffffffff${HOSTMAC//:/}08060001080006040001${HOSTMAC//:/}c6121e02000000000000c6121e01\"}"
expect_status 200
wait_until 3 sh -c "curl -s --unix-socket $SOCK '$UBASE/api/v1/ports/dp0/captures?binding=$capall&limit=1000' |
	jq -e '[.records[].headers.arp | select(. != null and .op == 2 and .spa == \"198.18.30.1\")] | length >= 1' >/dev/null" ||
	fail "the kernel did not answer the transmitted ARP request"
api POST /api/v1/ports/dp0/transmit '{"udp":{"src":"198.18.30.2","dst":"198.18.30.255","src_port":7777,
	"dst_port":5556,"payload":"to all","dst_mac":"ff:ff:ff:ff:ff:ff"}}'
expect_status 200
expect_json '.data | startswith("ffffffffffff")' true

note "transmit errors are problems"
api POST /api/v1/ports/dp0/transmit '{"udp":{"src":"198.18.30.2","dst":"2001:db8::1","src_port":1,"dst_port":2}}'
expect_problem 422 udp.dst
api POST /api/v1/ports/dp0/transmit '{"hex":"abc"}'
expect_problem 422 hex
api POST /api/v1/ports/dp0/transmit '{"hex":"00","udp":{}}'
expect_problem 422
api PATCH /api/v1/ports/dp0 '{"up":false}'
expect_status 200
api POST /api/v1/ports/dp0/transmit "{\"hex\":\"$hex\"}"
expect_problem 409
expect_json .errno_name EIO
api PATCH /api/v1/ports/dp0 '{"up":true}'
expect_status 200
api GET /api/v1/ports/dp0
expect_json .counters.write_errors.EIO 1

note "/metrics passes promtool and agrees with the JSON"
if command -v promtool >/dev/null; then
	curl -s --unix-socket "$SOCK" "$UBASE/metrics" >"$W/metrics"
	promtool check metrics <"$W/metrics" >"$W/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$W/promtool.out")"
	grep -q "paird_binding_packets_total{port=\"dp0\",binding=\"$cnt9\",handler=\"count\"} 1\$" \
		"$W/metrics" || fail "the count binding's metric disagrees with its JSON"
	grep -q '^paird_port_malformed_frames_total{port="dp0",reason="ipv4_bad_ihl"} 0$' "$W/metrics" ||
		fail "malformed counters missing from /metrics"
	replies=$(curl -s --unix-socket "$SOCK" "$UBASE/api/v1/ports/dp0/bindings/$echo4" | jq .counters.replies)
	grep -q "^paird_binding_replies_total{port=\"dp0\",binding=\"$echo4\",handler=\"echo\"} $replies\$" \
		"$W/metrics" || fail "the echo binding's replies are not in /metrics as in its JSON"
else
	fail "promtool is missing (Debian package prometheus)"
fi

note "bindings survive a restart with their ids; counters start again"
stop_paird
expect_eq "$PAIRD_RC" 0 "exit status"
jq -e '.ports[0].bindings | length == 8' "$STATE" >/dev/null ||
	fail "the state file does not hold the bindings: $(cat "$STATE")"
start_paird --state "$STATE"
api GET /api/v1/ports/dp0/bindings
expect_json '[.bindings[].id] | join(",")' "$arp,$ndp,$echo4,$echo6,$echou,$cap9,$cnt9,$capall"
expect_json '.bindings[6].counters.packets' 0
ping -c 1 -W 2 198.18.30.2 >/dev/null || fail "no ping after the restart"
api GET /api/v1/ports/dp0/captures
expect_json '.records | length > 0' true

note "DELETE a binding and the captures"
api DELETE /api/v1/ports/dp0/bindings/$cnt9
expect_status 204
api GET /api/v1/ports/dp0/bindings/$cnt9
expect_problem 404
api GET /api/v1/ports/dp0/captures
last=$(jqb .newest_seq)
api DELETE /api/v1/ports/dp0/captures
expect_status 204
# The kernel may send (MLD, ND) at any time: what is left is newer than the clear.
api GET /api/v1/ports/dp0/captures
expect_json "[.records[] | select(.seq <= $last)] | length" 0
ping -c 1 -W 2 198.18.30.2 >/dev/null || fail "no ping after clearing"
api GET /api/v1/ports/dp0/captures
expect_json "(.records | length > 0) and .records[0].seq > $last" true

note "a capture filter keeps only what it matches"
icmpcap=$(bind dp0 '{"handler":"capture","options":{"filter":"icmp[icmptype] == icmp-echo"}}')
ping -c 2 -i 0.2 -W 2 198.18.30.2 >/dev/null || fail "ping"
$PY -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.18.30.2", 9))'
wait_until 2 sh -c "curl -s --unix-socket $SOCK $UBASE/api/v1/ports/dp0/bindings/$icmpcap | jq -e '.counters.filtered_out > 0' >/dev/null" ||
	fail "the filter did not reject the UDP datagram"
api GET "/api/v1/ports/dp0/captures?binding=$icmpcap"
expect_json '.records | length' 2
expect_json '[.records[].headers.icmp.type] | unique | join(",")' 8

note "a tun: the IP layer only, ethertype implied; pcap is LINKTYPE_RAW"
api POST /api/v1/ports '{"name":"dt0","type":"tun","addresses":["198.18.31.1/24"]}'
expect_status 201
api POST /api/v1/ports/dt0/bindings '{"match":{"ethertype":2054},"handler":"count"}'
expect_problem 422 match.ethertype
tunecho=$(bind dt0 '{"match":{"ip_protocol":1},"handler":"echo"}')
api GET /api/v1/ports/dt0/bindings/$tunecho
expect_json .config.match.ethertype 2048
bind dt0 '{"handler":"capture"}' >/dev/null
ping -c 2 -i 0.2 -W 2 198.18.31.2 >"$W/ping-tun" || fail "ping over the tun: $(cat "$W/ping-tun")"
api_binary GET /api/v1/ports/dt0/captures.pcap
cp "$W/body" "$W/dt0.pcap"
tshark -r "$W/dt0.pcap" -T fields -e frame.encap_type -e ip.src -e icmp.type 2>/dev/null |
	grep -q "^7	198.18.31.1	8" || fail "tshark does not decode the tun capture as raw IP: $(tshark -r "$W/dt0.pcap" 2>&1 | head -3)"
wait_until 2 adds_up dt0 || fail "tun counters do not add up: $(sum_buckets dt0)"
