#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/seeds.sh NAME DIR: writes the seed inputs of fuzz target NAME
# into DIR, for `make fuzz`. fuzz_parse gets every fixture frame of
# tests/fixtures/frames as a binary file (comment lines and whitespace
# stripped, hex decoded with sed, awk and printf only: no xxd, no python).
# Any other NAME has no seeds here; that is not an error.
set -eu

name=${1:?usage: seeds.sh NAME DIR}
dir=${2:?usage: seeds.sh NAME DIR}
frames=$(cd "$(dirname "$0")/../fixtures/frames" && pwd)

[ "$name" = fuzz_parse ] || exit 0
mkdir -p "$dir"

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
