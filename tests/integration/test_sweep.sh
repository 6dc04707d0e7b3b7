#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every route answers the HTTP-level refusals the contract documents for it:
# OPTIONS (204 + Allow), a method it lacks (405 + Allow), no token (401 on
# /api/ and /metrics), a Host off the allow-list (403), a body over 64 KiB
# (16 MiB on /api/v1/config, whose document holds everything) (413), and HEAD like GET, over TCP (where the token and Host checks
# apply). The exchanges are recorded, so the contract step checks each
# answer against openapi.yaml.
#
# Topology: one private network namespace with lo and one tap, sw0, with a
# binding (id 1), so every templated path names something that exists.
. "$(dirname "$0")/lib.sh"
netns_enter "$@"
API_VIA=tcp
TOK=sweep-token-0123456789abcdef
printf '%s\n' "$TOK" >"$W/token"
chmod 600 "$W/token"
start_paird --token-file "$W/token"
AUTH=(-H "Authorization: Bearer $TOK")

CURL_EXTRA=("${AUTH[@]}")
api POST /api/v1/ports '{"name":"sw0","type":"tap"}'
expect_status 201
api POST /api/v1/ports/sw0/bindings '{"handler":"capture"}'
expect_status 201
CURL_EXTRA=()

head -c 70000 /dev/zero | tr '\0' ' ' >"$W/big"
head -c $(((16 << 20) + 1)) /dev/zero | tr '\0' ' ' >"$W/huge"
# path | methods it has | a method it lacks | guarded
while IFS='|' read -r path methods lacks guarded; do
	[ -n "$path" ] || continue
	CURL_EXTRA=("${AUTH[@]}")
	api OPTIONS "$path"
	expect_status 204
	expect_eq "$(header Allow)" "$methods" "Allow of $path"
	api "$lacks" "$path"
	expect_problem 405
	expect_eq "$(header Allow)" "$methods" "Allow of a 405 on $path"
	api GET "$path" -- -H "Host: evil.example"
	expect_problem 403
	big=$W/big
	[ "$path" != /api/v1/config ] || big=$W/huge
	api POST "$path" -- -H 'Content-Type: application/json' --data-binary @"$big"
	expect_problem 413
	case "$methods" in
	GET*)
		code=$(curl -s -o /dev/null -w '%{http_code}' -I "${AUTH[@]}" "$BASE$path")
		[ "$code" = 200 ] || fail "HEAD $path answered $code"
		;;
	esac
	CURL_EXTRA=()
	if [ "$guarded" = yes ]; then
		api GET "$path"
		expect_problem 401
		api OPTIONS "$path"
		expect_problem 401
	fi
done <<'ROUTES'
/api/v1/ports|GET, HEAD, POST, OPTIONS|DELETE|yes
/api/v1/ports/sw0|GET, HEAD, PUT, PATCH, DELETE, OPTIONS|POST|yes
/api/v1/ports/sw0/bindings|GET, HEAD, POST, OPTIONS|PUT|yes
/api/v1/ports/sw0/bindings/1|GET, HEAD, PUT, DELETE, OPTIONS|PATCH|yes
/api/v1/ports/sw0/captures|GET, HEAD, DELETE, OPTIONS|POST|yes
/api/v1/ports/sw0/captures.pcap|GET, HEAD, OPTIONS|DELETE|yes
/api/v1/ports/sw0/transmit|POST, OPTIONS|GET|yes
/api/v1/config|GET, HEAD, PUT, OPTIONS|POST|yes
/metrics|GET, HEAD, OPTIONS|POST|yes
/healthz|GET, HEAD, OPTIONS|DELETE|no
ROUTES

note "404s on every templated route"
CURL_EXTRA=("${AUTH[@]}")
for path in /api/v1/ports/nope /api/v1/ports/nope/bindings /api/v1/ports/sw0/bindings/9 \
	/api/v1/ports/nope/captures /api/v1/ports/nope/captures.pcap; do
	api GET "$path"
	expect_problem 404
done
api POST /api/v1/ports/nope/transmit '{"hex":"00"}'
expect_problem 404
api DELETE /api/v1/ports/sw0/bindings/9
expect_problem 404
api PATCH /api/v1/ports/nope '{"mtu":1400}'
expect_problem 404
