#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/seeds.sh NAME DIR: writes the seed inputs of fuzz target NAME
# into DIR, for `make fuzz`. fuzz_parse gets every fixture frame of
# tests/fixtures/frames as a binary file (comment lines and whitespace
# stripped, hex decoded with sed, awk and printf only: no xxd, no python).
# fuzz_json gets request bodies, each prefixed by the byte that picks its
# route in fuzz_json.c. Every target also gets its past crash inputs
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
[ "$name" = fuzz_parse ] || exit 0

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
	printf "$esc" >"$out"
done
