#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ratios.py RUNS.TSV: paird against the bare-read limit and Twisted Pair,
from one run of ../shared/bench/run-anchors.sh (same machine, same run,
same generator). Prints a Markdown table of medians and ratios."""
import statistics
import sys


def parse(path):
    runs = []
    for line in open(path):
        kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "fig" in kv and "skipped" not in kv and "error" not in kv:
            runs.append(kv)
    return runs


def median(runs, fig, key="rx_pps"):
    xs = [float(r[key]) for r in runs if r.get("fig") == fig and r.get(key) not in (None, "")]
    return (statistics.median(xs), len(xs), min(xs), max(xs)) if xs else None


def fmt(x):
    return "n/a" if x is None else ("%.2fM" % (x / 1e6) if x >= 1e6 else "%.0fk" % (x / 1e3))


def main():
    runs = parse(sys.argv[1])
    print("| dev | payload | mode | limit (libevent read) pps | paird pps | paird/limit "
          "| Twisted Pair pps | paird/Twisted | paird CPU ns/frame | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dev in ("tun", "tap"):
        for size in ("64", "1400"):
            for kind in ("drain", "over"):
                lim = median(runs, "limit/event/%s/%s/%s" % (dev, size, kind))
                svc = median(runs, "service/%s/%s/%s" % (dev, size, kind))
                tw = median(runs, "twisted/%s/%s/%s" % (dev, size, kind))
                cpu = median(runs, "service/%s/%s/%s" % (dev, size, kind), "rx_cpu_ns_per_pkt")
                if not svc:
                    continue
                r_lim = "%.2f" % (svc[0] / lim[0]) if lim else "n/a"
                r_tw = "%.1fx" % (svc[0] / tw[0]) if tw else "n/a"
                print("| %s | %s B | %s | %s | %s (%s..%s) | %s | %s | %s | %s | %d |" % (
                    dev, size, kind, fmt(lim and lim[0]), fmt(svc[0]), fmt(svc[2]),
                    fmt(svc[3]), r_lim, fmt(tw and tw[0]), r_tw,
                    "%.0f" % cpu[0] if cpu else "n/a", svc[1]))


if __name__ == "__main__":
    main()
