#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pairctl config / diff / apply over /api/v1/config, end to end: the
# document pairctl config prints applies back as a no-op; diff lists the
# plan and exits 3 while changes are pending (0 when none), changing
# nothing; apply --dry-run changes nothing; apply makes every change (seen
# with `ip`) and a second apply changes nothing; a file from stdin; a
# refused document (exit 1, the field named) and a bad JSON file (its line
# and column) change nothing; --if-match with a stale version is a 412.
#
# Topology: one private network namespace; paird holds tap0
# (198.18.0.1/24) and the documents add tap1 (198.18.1.1/24).
. "$(dirname "$0")/lib.sh"
netns_enter "$@"

need_pairctl
start_paird

mtu_of() {
	ip -o link show dev "$1" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}
# What the kernel holds, for "nothing changed" checks.
kernel_state() {
	{
		ip -br link show | sed 's/ *$//'
		ip -br addr show | sed 's/ *$//'
		ip -o link show | sed -n 's/^[0-9]*: \([^:@]*\).* mtu \([0-9]*\) .*/\1 \2/p'
	} | sort
}

pc port add tap0 --type tap --addr 198.18.0.1/24
expect_rc 0
pc bind tap0 udp/53 capture --name dns
expect_rc 0

note "config prints the document; applied back it changes nothing"
pc config
expect_rc 0
cp "$W/out" "$W/current.json"
jq -e '.ports.tap0.type == "tap" and .ports.tap0.addresses == ["198.18.0.1/24"] and
	.ports.tap0.bindings.dns.handler == "capture"' "$W/current.json" >/dev/null ||
	fail "pairctl config: $(cat "$W/current.json")"
pc diff "$W/current.json"
expect_rc 0
out_has "^no changes"

note "diff: the plan, exit 3, nothing changed"
jq '.ports.tap0.mtu = 1400
	| .ports.tap0.bindings.echo = {"match": {"ethertype": 2048, "ip_protocol": 1}, "handler": "echo"}
	| .ports.tap1 = (.ports.tap0 | .mtu = 1500 | .addresses = ["198.18.1.1/24"] | .bindings = {})' \
	"$W/current.json" >"$W/desired.json"
kernel_state >"$W/k.before"
pc diff "$W/desired.json"
expect_rc 3
out_has "^~ port tap0 (update_port): mtu$"
out_has "^+ port tap1 (create_port)$"
out_has "^+ binding tap0/echo (add_binding)$"
out_has "^    .*198.18.1.1/24"
out_has "^3 changes pending"
pc --json diff "$W/desired.json"
expect_rc 3
jq -e '.dry_run == true and (.actions | length == 3)' "$W/out" >/dev/null ||
	fail "$LAST: $(cat "$W/out")"
pc apply "$W/desired.json" --dry-run
expect_rc 0
out_has "^3 changes pending"
kernel_state >"$W/k.after"
diff -u "$W/k.before" "$W/k.after" >&2 || fail "diff or apply --dry-run changed the kernel's links"
pc bindings tap0 --quiet
expect_eq "$(tr '\n' ' ' <"$W/out")" "dns " "the bindings after a dry run"

note "apply makes every change; a second apply makes none"
pc apply "$W/desired.json"
expect_rc 0
out_has "^applied 3 changes"
expect_eq "$(mtu_of tap0)" 1400 "tap0's MTU after apply"
ip -br addr show dev tap1 | grep -q "198.18.1.1/24" || fail "apply did not make tap1 with 198.18.1.1/24"
pc bindings tap0 --quiet
expect_eq "$(tr '\n' ' ' <"$W/out")" "dns echo " "the bindings after apply"
pc diff "$W/desired.json"
expect_rc 0
out_has "^no changes"
kernel_state >"$W/k.before"
pc apply "$W/desired.json"
expect_rc 0
out_has "^no changes"
kernel_state >"$W/k.after"
diff -u "$W/k.before" "$W/k.after" >&2 || fail "a second apply changed the kernel's links"

note "apply - reads stdin: back to the first document"
RC=0
timeout 20 "$PAIRCTL" --socket "$SOCK" apply - <"$W/current.json" >"$W/out" 2>"$W/err" || RC=$?
LAST="pairctl apply - <current.json"
expect_rc 0
out_has "^- port tap1 (delete_port)$"
out_has "^- binding tap0/echo (remove_binding)$"
ip link show dev tap1 >/dev/null 2>&1 && fail "apply - did not delete tap1"
expect_eq "$(mtu_of tap0)" 1500 "tap0's MTU after apply -"

note "refusals change nothing: the API's (exit 1, field), a bad file, a stale version"
kernel_state >"$W/k.before"
jq '.ports.tap0.mtu = 5 | .ports.tap2 = (.ports.tap0 | .bindings = {})' "$W/current.json" \
	>"$W/bad.json"
pc apply "$W/bad.json"
expect_rc 1
err_has "^pairctl: .*(field ports.tap0.mtu)$"
printf '{"ports": {\n  "tap0": }\n' >"$W/broken.json"
pc apply "$W/broken.json"
expect_rc 1
err_has "^pairctl: $W/broken.json:2:[0-9]*: "
pc diff "$W/nope.json"
expect_rc 1
err_has "cannot read $W/nope.json"
echo '[1, 2]' >"$W/array.json"
pc apply "$W/array.json"
expect_rc 1
err_has "not a JSON object"
pc apply "$W/desired.json" --if-match 1
expect_rc 1
err_has "^pairctl: Precondition Failed: "
kernel_state >"$W/k.after"
diff -u "$W/k.before" "$W/k.after" >&2 || fail "a refused apply changed the kernel's links"
ip link show dev tap2 >/dev/null 2>&1 && fail "a refused apply made tap2"
# The current version is accepted.
pc --json config
VERSION=$(jq -r .version "$W/out")
pc apply "$W/desired.json" --if-match "$VERSION"
expect_rc 0
out_has "^applied 3 changes"

note "usage errors exit 2"
pc apply
expect_rc 2
pc diff a b
expect_rc 2
pc config extra
expect_rc 2
pc apply "$W/desired.json" --dry-runn
expect_rc 2
note "pairctl config, diff and apply: plan, exit 3, all changes, idempotent, refusals"
