#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ratios.py RUNS.TSV: the tables of `make bench` (tests/bench/run.sh) from
one run: for every case, paird's drain rate as a median of the run's
repetitions and as a ratio to the bare-read limit of the same run, CPU per
frame beside it (the limit's, paird's, and their difference: paird's own
user-space work), and callgrind's instructions per frame on the memory I/O
harness; then paird against the Twisted Pair peer on the count chain.
Medians, never pass/fail."""
import statistics
import sys


def parse(path):
    runs, meta = [], {}
    for line in open(path):
        kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "meta" in kv:
            meta = kv
        elif "fig" in kv and "error" not in kv:
            runs.append(kv)
    return runs, meta


def med(runs, fig, key):
    xs = [float(r[key]) for r in runs if r.get("fig") == fig and r.get(key) not in (None, "")]
    return (statistics.median(xs), min(xs), max(xs), len(xs)) if xs else None


def rate(x):
    if x is None:
        return "n/a"
    return "%.2fM" % (x / 1e6) if x >= 1e6 else "%.0fk" % (x / 1e3) if x >= 1e3 else "%.0f" % x


def num(x, fmt="%.0f"):
    return "n/a" if x is None else fmt % x


CASES = ["count", "capture", "echo", "forward", "host", "ping"]


def main():
    runs, meta = parse(sys.argv[1])
    figs = {r["fig"] for r in runs}
    many = sorted({f.split("/")[0] for f in figs if f.startswith("many-")},
                  key=lambda c: int(c.split("-")[1]))
    print("Run %s, commit %s, %s CPUs (%s), kernel %s, %s repetitions, load %s at start.\n" % (
        meta.get("date", "?"), meta.get("commit", "?"), meta.get("cpus", "?"),
        meta.get("model", "?").replace("_", " "), meta.get("kernel", "?"), meta.get("reps", "?"),
        meta.get("load", "?")))
    print("| case | dev | payload | limit pps | paird pps (min..max) | paird / limit "
          "| CPU ns/frame limit | CPU ns/frame paird | paird - limit | Ir/frame | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for case in CASES + many:
        for dev in ("tun", "tap"):
            for size in ("64", "1400"):
                fig = "%s/%s/%s" % (case, dev, size)
                svc = med(runs, fig, "rx_pps")
                if not svc:
                    continue
                lim = med(runs, "limit/%s/%s" % (dev, size), "rx_pps")
                lcpu = med(runs, "limit/%s/%s" % (dev, size), "rx_cpu_ns_per_pkt")
                cpu = med(runs, fig, "cpu_ns")
                ir = med(runs, "cg/%s/%s/%s" % (case, dev, size), "ir_per_frame")
                ratio = "%.2f" % (svc[0] / lim[0]) if lim and lim[0] and case != "ping" else "n/a"
                own = cpu[0] - lcpu[0] if cpu and lcpu and case != "ping" else None
                print("| %s | %s | %s B | %s | %s (%s..%s) | %s | %s | %s | %s | %s | %d |" % (
                    case, dev, size, rate(lim and lim[0]) if case != "ping" else "n/a",
                    rate(svc[0]), rate(svc[1]), rate(svc[2]), ratio,
                    num(lcpu and lcpu[0]) if case != "ping" else "n/a", num(cpu and cpu[0]),
                    num(own), num(ir and ir[0]), svc[3]))
    rows = []
    for dev in ("tun", "tap"):
        for size in ("64", "1400"):
            tw = med(runs, "twisted/%s/%s" % (dev, size), "rx_pps")
            svc = med(runs, "count/%s/%s" % (dev, size), "rx_pps")
            if not tw or not svc:
                continue
            twc = med(runs, "twisted/%s/%s" % (dev, size), "rx_cpu_ns_per_pkt")
            cpu = med(runs, "count/%s/%s" % (dev, size), "cpu_ns")
            lcpu = med(runs, "limit/%s/%s" % (dev, size), "rx_cpu_ns_per_pkt")
            user = "n/a"
            if twc and cpu and lcpu:
                if cpu[0] - lcpu[0] > 0:
                    user = "%.0fx" % ((twc[0] - lcpu[0]) / (cpu[0] - lcpu[0]))
                else:
                    user = "paird's CPU within the limit's"
            rows.append("| %s | %s B | %s | %s | %.1fx | %s | %s | %s | %d |" % (
                dev, size, rate(tw[0]), rate(svc[0]), svc[0] / tw[0], num(twc and twc[0]),
                num(cpu and cpu[0]), user, tw[3]))
    if rows:
        print("\nCount at UDP port 9000 against the Twisted Pair peer (same chain):\n")
        print("| dev | payload | Twisted pps | paird pps | paird / Twisted | CPU ns/frame Twisted "
              "| CPU ns/frame paird | user-space CPU, Twisted / paird | runs |")
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
