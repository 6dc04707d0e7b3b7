#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's shell snippets are pasted into users' shells: a function they
# define must not shadow a shell builtin or keyword (a `bind()` helper
# replaced bash's own `bind` for the rest of the session), and every block
# must at least parse as bash. No paird, no namespace: this reads the file.
. "$(dirname "$0")/lib.sh"
README=$(cd "$(dirname "$0")/../.." && pwd)/README.md
[ -f "$README" ] || fail "no README.md at $README"
W=$(mktemp -d /tmp/paird-it.XXXXXX)
trap 'rm -rf "$W"' EXIT

# Each ```sh block to its own file.
awk -v dir="$W" '/^```(sh|bash)$/ { n++; f = dir "/block" n ".sh"; on = 1; next }
	/^```/ { on = 0; next } on { print > f }' "$README"
ls "$W"/block*.sh >/dev/null 2>&1 || fail "no sh blocks found in README.md"

for b in "$W"/block*.sh; do
	bash -n "$b" 2>"$W/err" || fail "a README shell block does not parse: $(cat "$W/err")"
	# "name() {" and "function name {" definitions.
	names=$(sed -n -e 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_-]*\)[[:space:]]*()[[:space:]]*{.*/\1/p' \
		-e 's/^[[:space:]]*function[[:space:]]\+\([A-Za-z_][A-Za-z0-9_-]*\).*/\1/p' "$b")
	for name in $names; do
		kind=$(type -t "$name" 2>/dev/null || true)
		case "$kind" in
		builtin | keyword)
			fail "README defines a shell function '$name', a bash $kind:" \
				"pasting it breaks that command in the user's shell" ;;
		esac
	done
done
note "README shell blocks parse and define no function named after a builtin"
