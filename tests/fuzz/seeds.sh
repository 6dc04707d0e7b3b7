#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/seeds.sh NAME DIR: writes the seed inputs of fuzz target NAME
# into DIR, for `make fuzz`. fuzz_parse gets every fixture frame of
# tests/fixtures/frames as a binary file (comment lines and whitespace
# stripped, hex decoded with sed, awk and printf only: no xxd, no python).
# fuzz_json gets request bodies, each prefixed by the byte that picks its
# route in fuzz_json.c; fuzz_api requests in its own format (fuzz_api.c);
# fuzz_state state files, fuzz_gso super-frames, fuzz_coalesce runs of datagrams,
# fuzz_dispatch the fixture frames behind the byte that picks a port. Every target also gets its past crash inputs
# (tests/fixtures/crashes/NAME/). Any other NAME has no seeds; that is not an
# error.
set -eu

name=${1:?usage: seeds.sh NAME DIR}
dir=${2:?usage: seeds.sh NAME DIR}
frames=$(cd "$(dirname "$0")/../fixtures/frames" && pwd)

mkdir -p "$dir"
# Every input a target ever failed on seeds it again (tests/fixtures/crashes/).
crashes=$(cd "$(dirname "$0")/../fixtures" && pwd)/crashes/$name
if [ -d "$crashes" ]; then
	for f in "$crashes"/*; do
		case "$(basename "$f")" in README*) continue ;; esac
		[ -f "$f" ] && cp "$f" "$dir/crash-$(basename "$f")"
	done
fi
if [ "$name" = fuzz_json ]; then
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s' "$line" >"$dir/body$n"
	done <<'BODIES'
0{"name":"fz2","type":"tap","mtu":1400,"mac":"02:00:00:00:00:05","addresses":["198.18.0.1/24","2001:db8::1/64"],"up":false,"strict":true}
0{"name":"fz3","type":"tun","packet_info":true}
0{"name":"fzun","type":"tap","attach":true}
1{"type":"tap","mtu":9000}
2{"mtu":1280,"addresses":null,"up":true,"mac":"02:00:00:00:00:09"}
3{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},"handler":"capture","options":{"limit":10,"snaplen":128,"filter":"udp port 53"}}
3{"match":{"ethertype":2054},"handler":"arp_reply","options":{"addresses":["198.18.0.2"],"mac":"02:00:00:00:00:02"}}
3{"match":{"ethertype":34525,"ip_protocol":58},"handler":"ndp_reply","options":{"addresses":["2001:db8::2"]}}
3{"match":{"ethertype":2048,"ip_protocol":1},"handler":"echo"}
3{"handler":"forward","options":{"port":"fz0"}}
4{"udp":{"src":"198.18.0.2","dst":"198.18.0.1","src_port":7,"dst_port":9,"payload":"hi","ttl":3,"src_mac":"02:00:00:00:00:02"}}
4{"icmp_echo":{"src":"2001:db8::2","dst":"2001:db8::1","id":1,"seq":2,"payload_hex":"00ff","reply":true}}
4{"hex":"ffffffffffff020000000002080600010800060400010200000000020000000000000000000000"}
5{"match":{},"handler":"count"}
BODIES
	exit 0
fi
if [ "$name" = fuzz_api ]; then
	# The first byte: method (0 GET, 1 HEAD, 2 POST, 3 PUT, 4 PATCH, 5 DELETE,
	# 6 OPTIONS, 7 other), 010 body too large, 020 no body, 040 the API with a
	# token; then the path line, header lines, an empty line and the body.
	n=0
	req() { n=$((n + 1)); printf "$1" >"$dir/req$n"; }
	json='Content-Type: application/json'
	tok='Authorization: Bearer fuzz-token-0123456789abcdef'
	req '\000/api/v1/ports\nHost: 127.0.0.1:8080\n\n'
	req '\000/api/v1/ports/fz0\n\n'
	req "\\002/api/v1/ports\\n$json\\n\\n"'{"name":"fz2","type":"tap","mtu":1400,"mac":"02:00:00:00:00:05","addresses":["198.18.0.1/24","2001:db8::1/64"],"up":false,"strict":true}'
	req "\\002/api/v1/ports\\n$json\\n\\n"'{"name":"fzpre","type":"tap","attach":true}'
	req "\\003/api/v1/ports/fz3\\n$json\\n\\n"'{"type":"tun","packet_info":true}'
	req '\004/api/v1/ports/fz0\nContent-Type: application/merge-patch+json\n\n{"mtu":1280,"addresses":null,"up":false}'
	req '\005/api/v1/ports/fz1\n\n'
	req "\\002/api/v1/ports/fz0/bindings\\n$json\\n\\n"'{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},"handler":"capture","options":{"limit":10,"snaplen":128,"filter":"udp port 53"}}'
	req "\\002/api/v1/ports/fz0/bindings\\n$json\\n\\n"'{"match":{"ethertype":2054},"handler":"arp_reply","options":{"addresses":["198.18.0.2"]}}'
	req "\\002/api/v1/ports/fz1/bindings\\n$json\\n\\n"'{"match":{"ip_protocol":1},"handler":"echo"}'
	req '\000/api/v1/ports/fz0/bindings/1\n\n'
	req '\005/api/v1/ports/fz0/bindings/1\n\n'
	req '\000/api/v1/ports/fz0/captures?after=0&limit=10\n\n'
	req '\000/api/v1/ports/fz0/captures.pcap\n\n'
	req '\005/api/v1/ports/fz0/captures\n\n'
	req "\\002/api/v1/ports/fz0/transmit\\n$json\\n\\n"'{"udp":{"src":"198.18.0.2","dst":"198.18.0.1","src_port":7,"dst_port":9,"payload":"hi"}}'
	req '\000/api/v1/config\n\n'
	req "\\003/api/v1/config?dry_run=true\\n$json\\n\\n"'{"ports":{"fz0":{"type":"tap","mtu":1400,"addresses":["198.18.0.1/24"],"bindings":{"dns":{"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},"handler":"capture"}}},"fz9":{"type":"tun"}}}'
	req "\\003/api/v1/config\\n$json\\n\\n"'{"ports":{"fz0":{"type":"tap","bindings":{"1":{"match":{},"handler":"count"},"fw":{"match":{},"handler":"forward","options":{"port":"fz8"}}}},"fz8":{"type":"tap","attach":false,"mtu":null,"mac":null,"up":null}}}'
	req '\000/metrics\n\n'
	req '\000/healthz\n\n'
	req '\001/\n\n'
	req '\000/openapi.yaml\n\n'
	req '\006/api/v1/ports/fz0/bindings\n\n'
	req '\007/api/v1/ports\n\n'
	req "\\040/api/v1/ports\\n$tok\\n\\n"
	req "\\042/api/v1/ports\\n$tok\\n$json\\nOrigin: http://127.0.0.1:8080\\nSec-Fetch-Site: same-origin\\n\\n"'{"name":"fz4","type":"tap"}'
	req '\000/api/v1/ports/%%ff\nHost: evil.example\n\n'
	req "\\012/api/v1/ports\\n$json\\nContent-Length: 99999\\n\\n{}"
	req '\002/api/v1/ports\nContent-Type: text/plain\n\nname=x'
	exit 0
fi
if [ "$name" = fuzz_state ]; then
	# State files as paird writes them (format 1), and near misses.
	n=0
	st() { n=$((n + 1)); printf '%s\n' "$1" >"$dir/state$n"; }
	st '{"format":1,"ports":[]}'
	st '{"format":1,"ports":[{"name":"fz0","type":"tap","packet_info":false,"attach":false,"mtu":1500,"mac":"02:00:00:00:00:01","up":true,"addresses":["198.18.0.1/24","2001:db8::1/64"],"strict":false,"bindings":[{"id":1,"match":{"ethertype":2054},"handler":"arp_reply","options":{"addresses":["198.18.0.2"],"mac":"02:00:00:00:00:02"}},{"id":2,"match":{"ethertype":2048,"ip_protocol":17,"udp_port":53},"handler":"capture","options":{"limit":10,"snaplen":128,"filter":"udp"}}],"next_binding_id":3}]}'
	st '{"format":1,"ports":[{"name":"fz1","type":"tun","packet_info":true,"bindings":[{"id":7,"match":{"ethertype":2048,"ip_protocol":1},"handler":"echo","options":{}}],"next_binding_id":4294967295}]}'
	st '{"format":1,"ports":[{"name":"pre0","type":"tap","attach":true},{"name":"fz2","type":"tap","bindings":[{"id":1,"handler":"forward","options":{"port":"pre0"}}]}]}'
	st '{"format":1,"ports":[{"name":"fz3","type":"tap","bindings":[{"id":1,"match":{"ethertype":1500},"handler":"count"}]}]}'
	st '{"format":2,"ports":[]}'
	st '{"format":1,"ports":[{"name":"a","type":"tap"},{"name":"a","type":"tap"}]}'
	exit 0
fi
if [ "$name" = fuzz_gso ]; then
	# A link byte (0 tap, 1 tun, 2 tun with packet information), a virtio-net
	# header (little-endian, as on x86) and a frame: TCPv4 and UDP super-frames
	# on tun, a UDPv6 one on tap, a partial checksum to complete.
	gseed() { # NAME HEX
		printf "$(printf '%s' "$2" | awk '{
			for (i = 1; i < length($0); i += 2) {
				v = 0
				for (j = i; j < i + 2; j++)
					v = v * 16 + index("0123456789abcdef", substr($0, j, 1)) - 1
				printf "\\%03o", v
			}
		}')" >"$dir/$1"
	}
	pay=$(printf '%0600d' 0)
	gseed tcp4 "0101012800640014001000450001540001400040060000c6120001c61200029c40005000000001000000005018ffff00000000$pay"
	gseed udp4-pi "020105""1c00""6400""1400""0600""00000800450001480001400040110000c6120001c61200029c4023280134""0000$pay"
	gseed udp6-tap "000105""3e00""6400""3600""0600""020000000002020000000001""86dd600000000134114020010db800000000000000000000000120010db80000000000000000000000029c4023280134""0000$pay"
	gseed needs-csum "010100""1c00""0000""1400""0600""450001480001400040110000c6120001c61200029c4023280134""0000$pay"
	exit 0
fi
if [ "$name" = fuzz_coalesce ]; then
	# A link byte, a family byte and steps [op][a][b] (fuzz_coalesce.c): runs
	# of 64- and 1,400-byte datagrams, a short last one, a jump, another port.
	cseed() { # NAME LINK FAMILY STEPS...
		f=$dir/$1
		shift
		printf "$(printf '\\%03o' "$@")" >"$f"
	}
	for l in 0 1 2; do
		for fam in 0 1; do
			cseed "run64-$l-$fam" "$l" "$fam" 0 64 0 0 64 0 0 64 0 0 40 0 0 64 0 4 9 0 0 64 0
			cseed "run1400-$l-$fam" "$l" "$fam" 0 120 5 0 120 5 0 120 5 5 1 0 0 120 5 8 3 4 0 10 0
		done
	done
	exit 0
fi
case $name in fuzz_parse | fuzz_dispatch) ;; *) exit 0 ;; esac

for f in "$frames"/*.hex; do
	[ -e "$f" ] || continue
	out="$dir/$(basename "$f" .hex)"
	# Hex digits only, then each pair as a three-digit octal escape for printf.
	esc=$(sed -e '/^[[:space:]]*#/d' "$f" | tr -d ' \t\r\n' |
		awk '{
			for (i = 1; i < length($0); i += 2) {
				v = 0
				for (j = i; j < i + 2; j++)
					v = v * 16 + index("0123456789abcdef", tolower(substr($0, j, 1))) - 1
				printf "\\%03o", v
			}
		}')
	# shellcheck disable=SC2059 # the escapes are the format, by design
	if [ "$name" = fuzz_parse ]; then
		printf "$esc" >"$out"
		continue
	fi
	# fuzz_dispatch: the port first (fuzz_dispatch.c): the tap, the strict
	# tap, and a tun fed the frame without its Ethernet header.
	{ printf '\000'; printf "$esc"; } >"$out-tap"
	{ printf '\001'; printf "$esc"; } >"$out-strict"
	{ printf '\002'; printf "$esc" | tail -c +15; } >"$out-tun"
done
