#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ratios.py RUNS.TSV: the tables of `make bench` (tests/bench/run.sh) from
one run: for every case, paird's drain rate as a median of the run's
repetitions and as a ratio to the bare-read limit of the same run, CPU per
frame beside it (the limit's, paird's, and their difference: paird's own
user-space work), and callgrind's instructions per frame on the memory I/O
harness with its time per frame there in TSC ticks; then paird against the Twisted Pair peer on the count chain; the
API under load (wrk, followers) with the data plane idle and saturated;
resident memory per item; the syscalls of a drain (strace -c) and their
count per frame. Medians, never pass/fail."""
import os
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


# gso (case g, tun only): logical datagrams/s read as UDP GSO super-frames, set
# against the limit's reads/s of the same payload size.
CASES = ["count", "capture", "echo", "echo-vnet", "forward", "host", "ping", "gso",
         "gso-forward"]


def main():
    runs, meta = parse(sys.argv[1])
    figs = {r["fig"] for r in runs}
    many = sorted({f.split("/")[0] for f in figs if f.startswith("many-")},
                  key=lambda c: int(c.split("-")[1]))
    print("Run %s, commit %s, %s CPUs (%s), kernel %s, %s repetitions, load %s at start.\n" % (
        meta.get("date", "?"), meta.get("commit", "?"), meta.get("cpus", "?"),
        meta.get("model", "?").replace("_", " "), meta.get("kernel", "?"), meta.get("reps", "?"),
        meta.get("load", "?")))
    if meta.get("paird_args"):
        print("paird started with %s (PAIRD_ARGS).\n" % meta["paird_args"].replace(",", " "))
    print("| case | dev | payload | limit pps | paird pps (min..max) | paird / limit "
          "| paird / bare read+write | CPU ns/frame limit | CPU ns/frame paird | paird - limit "
          "| Ir/frame | TSC ticks/frame | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
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
                tsc = med(runs, "cyc/%s/%s/%s" % (case, dev, size), "tsc_per_frame")
                ratio = "%.2f" % (svc[0] / lim[0]) if lim and lim[0] and case != "ping" else "n/a"
                rw = med(runs, "rw-%s/%s/%s" % ("forward" if case == "forward" else "echo",
                                                dev, size), "rx_pps")
                rwr = "%.2f" % (svc[0] / rw[0]) if rw and rw[0] and case in (
                    "echo", "echo-vnet", "forward", "host") else "n/a"
                own = cpu[0] - lcpu[0] if cpu and lcpu and case != "ping" else None
                print("| %s | %s | %s B | %s | %s (%s..%s) | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                    case, dev, size, rate(lim and lim[0]) if case != "ping" else "n/a",
                    rate(svc[0]), rate(svc[1]), rate(svc[2]), ratio, rwr,
                    num(lcpu and lcpu[0]) if case != "ping" else "n/a", num(cpu and cpu[0]),
                    num(own), num(ir and ir[0]), num(tsc and tsc[0]), svc[3]))
    rw_table(runs)
    twisted_table(runs)
    mq_table(runs)
    http_table(runs)
    mem_table(runs)
    strace_table(runs, os.path.join(os.path.dirname(sys.argv[1]), "raw"))


def rw_table(runs):
    """The bare read-and-write loop against the read-only limit."""
    rows = []
    for mode in ("echo", "forward"):
        for dev in ("tun", "tap"):
            for size in ("64", "1400"):
                rw = med(runs, "rw-%s/%s/%s" % (mode, dev, size), "rx_pps")
                lim = med(runs, "limit/%s/%s" % (dev, size), "rx_pps")
                if not rw:
                    continue
                cpu = med(runs, "rw-%s/%s/%s" % (mode, dev, size), "rx_cpu_ns_per_pkt")
                rows.append("| %s | %s | %s B | %s | %s | %s | %d |" % (
                    mode, dev, size, rate(rw[0]),
                    "%.2f" % (rw[0] / lim[0]) if lim and lim[0] else "n/a",
                    num(cpu and cpu[0]), rw[3]))
    if rows:
        print("\nThe bare read-and-write loop (tests/bench/rwloop.c: read, turn the frame "
              "around or not, write it back or to a second device). On tun/tap the kernel "
              "runs its receive path for a written frame inside write(), so this is the "
              "ceiling of every case that writes a frame per frame read:\n")
        print("| mode | dev | payload | pps | / limit | CPU ns/frame | runs |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))


def mq_table(runs):
    """Case h: a count binding on a tun read by one queue and by two (a worker thread)."""
    rows = []
    for size in ("64", "1400"):
        one = med(runs, "mq-1/tun/%s" % size, "rx_pps")
        two = med(runs, "mq-2/tun/%s" % size, "rx_pps")
        if one is None and two is None:
            continue
        c1 = med(runs, "mq-1/tun/%s" % size, "cpu_ns")
        c2 = med(runs, "mq-2/tun/%s" % size, "cpu_ns")
        ratio = "%.2f" % (two[0] / one[0]) if one and two and one[0] else "n/a"
        rows.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            size, rate(one and one[0]), rate(two and two[0]), ratio, num(c1 and c1[0]),
            num(c2 and c2[0]),
            (one or two)[3] if (one or two) else 0))
    if rows:
        print("\n(h) Count over every UDP port of a tun, one queue against two (\"queues\": 2, "
              "a worker thread per extra queue), the generator sending many flows the kernel "
              "spreads by flow hash; paird may use every CPU (target: 2 queues >= 1.5 x 1 queue "
              "on two cores; CPU ns/frame sums every thread):\n")
        print("| payload | 1 queue pps | 2 queues pps | 2 / 1 | CPU ns/frame 1 queue "
              "| CPU ns/frame 2 queues | runs |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))


def own_ratio(twc, cpu, base):
    """Twisted's CPU per frame over paird's, each less the bare loop's (@base)."""
    if not (twc and cpu and base):
        return "n/a"
    if cpu[0] - base[0] <= 0:
        return "paird's CPU within the bare loop's"
    return "%.0fx" % ((twc[0] - base[0]) / (cpu[0] - base[0]))


def twisted_table(runs):
    """paird against the Twisted Pair peer doing the same case's work."""
    rows = []
    # echo-vnet is set beside Twisted's echo: the same work, which Twisted
    # Pair can only do a write per reply (it has no vnet_hdr).
    for case in [c for c in CASES if not c.startswith("gso")]:
        twfig = {"count": "twisted", "echo-vnet": "twisted-echo"}.get(case, "twisted-" + case)
        for dev in ("tun", "tap"):
            for size in ("64", "1400"):
                tw = med(runs, "%s/%s/%s" % (twfig, dev, size), "rx_pps")
                svc = med(runs, "%s/%s/%s" % (case, dev, size), "rx_pps")
                if not tw or not svc:
                    continue
                twc = med(runs, "%s/%s/%s" % (twfig, dev, size), "rx_cpu_ns_per_pkt")
                cpu = med(runs, "%s/%s/%s" % (case, dev, size), "cpu_ns")
                lcpu = med(runs, "limit/%s/%s" % (dev, size), "rx_cpu_ns_per_pkt")
                user = own_ratio(twc, cpu, lcpu)
                # A writing case's bare loop reads and writes (rwloop.c): its write()
                # carries the kernel's receive path, which is nobody's user-space work.
                rw = None
                if case in ("echo", "echo-vnet", "forward", "host"):
                    rw = med(runs, "rw-%s/%s/%s" % ("forward" if case == "forward" else "echo",
                                                    dev, size), "rx_cpu_ns_per_pkt")
                rows.append("| %s | %s | %s B | %s | %s | %.1fx | %s | %s | %s | %s | %d |" % (
                    case, dev, size, rate(tw[0]), rate(svc[0]), svc[0] / tw[0],
                    num(twc and twc[0]), num(cpu and cpu[0]), user,
                    own_ratio(twc, cpu, rw) if rw else "n/a", tw[3]))
    if rows:
        print("\nAgainst the Twisted Pair peer doing the same work (count: "
              "../shared/bench/peers/twisted_peer.py; the others: tests/bench/twisted_cases.py). "
              "Targets: >= 5x in rate where a bare read costs <= 0.7 us, >= 10x in user-space "
              "CPU (CPU per frame minus the limit's) on any host; for the cases that write, "
              "also less the bare read-and-write loop's CPU per frame:\n")
        print("| case | dev | payload | Twisted pps | paird pps | paird / Twisted "
              "| CPU ns/frame Twisted | CPU ns/frame paird | user-space CPU, Twisted / paird "
              "| the same, less the bare read+write loop's | runs |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))


LAT_TARGET_MS = 5.0  # issue 11: API p99 below 5 ms with the data plane saturated
DP_TARGET = 0.9  # issue 11: the data plane keeps >= 90 % of its rate while the API is loaded


def neighbour_ratio(runs, r, per_cpu=False):
    """A window's frames/s over the mean of the quiet windows just before and after it;
    per_cpu: frames per second of paird's CPU time instead (what other processes took
    from paird's CPU cancels out)."""
    def val(x):
        v = float(x.get("dp_pps", 0))
        if per_cpu:
            c = float(x.get("cpu_pct", 0))
            return v / c if c > 0 else 0
        return v
    near = [x for x in runs if x["fig"] == "http/%s/noapi/sat" % r["dev"]
            and x.get("rep") == r.get("rep") and x.get("seq")
            and abs(int(x["seq"]) - int(r["seq"])) == 1 and val(x) > 0]
    if not near or "dp_pps" not in r or (per_cpu and "cpu_pct" not in r):
        return None
    return val(r) / statistics.mean(val(x) for x in near)


def verdict(ok):
    return "pass" if ok else "**fail**"


def http_table(runs):
    figs = {r["fig"] for r in runs}
    if not any(f.startswith("http/") for f in figs):
        return
    devs = [d for d in ("tun", "tap") if any(f.startswith("http/%s/" % d) for f in figs)]
    one = next(r for r in runs if r["fig"].startswith("http/"))
    lat = {"light-ports": "GET /api/v1/ports/{name}",
           "light-captures": "GET .../captures?limit=100",
           "light-follow": "captures.pcap?follow=true, first record"}
    rows = []
    for dev in devs:
        for what in ("light-ports", "light-captures", "light-follow"):
            for load in ("idle", "sat"):
                fig = "http/%s/%s/%s" % (dev, what, load)
                p99 = med(runs, fig, "p99_ms")
                if not p99:
                    continue
                p50 = med(runs, fig, "p50_ms")
                dp = med(runs, fig, "dp_pps")
                target = ("p99 < %.0f ms: %s" % (LAT_TARGET_MS, verdict(p99[0] < LAT_TARGET_MS))
                          if load == "sat" else "")
                rows.append("| %s | %s | %s | %.2f | %.2f (%.2f..%.2f) | %s | %s | %d |" % (
                    dev, lat[what], "saturated" if load == "sat" else "idle", p50[0], p99[0],
                    p99[1], p99[2], target, rate(dp and dp[0]) if load == "sat" else "n/a",
                    p99[3]))
    if rows:
        r = next((x for x in runs if x["fig"].startswith("http/") and "light" in x["fig"]), one)
        print("\nThe API's latency for a light client (one request at a time, %s a second, "
              "%s requests a run; each timed from its request to its last byte, or to the first "
              "record of a followed stream on a new connection), the data plane idle or "
              "saturated (the generator at full speed into a count binding); medians over the "
              "runs of each run's p50 and p99 (min..max of the p99s):\n" % (
                  r.get("rate", "25"), r.get("n", "?")))
        print("| dev | request | data plane | p50 ms | p99 ms | target | paird frames/s "
              "meanwhile | runs |")
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    print("\nThe API under load over TCP (wrk, one thread, C connections, on a ring of %s "
          "records), the data plane idle or saturated; paird's frames/s in the same window, "
          "as a ratio to the windows with no requests just before and after it (median over "
          "the runs of each run's ratio; 'per CPU s': the same ratio of frames per second of "
          "paird's own CPU time, which other processes taking paird's CPU do not move), "
          "paird's CPU time over the window's, and the frames the device dropped for want "
          "of a reader (> 0: the data plane was saturated):\n" % one.get("ring_records", "?"))
    print("| dev | request | C | data plane | requests/s | p50 ms | p99 ms | errors "
          "| paird frames/s meanwhile | / no API load | target | per CPU s | paird CPU % "
          "| dropped/s | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    names = {"ports": "GET /api/v1/ports/{name}", "captures": "GET .../captures?limit=100"}
    conns = sorted({f.split("/")[2].split("@")[1] for f in figs if "@" in f}, key=int)
    for dev in devs:
        for what, c, load in ((w, c, l) for w in ("ports", "captures") for c in conns
                              for l in ("idle", "sat")):
            fig = "http/%s/%s@%s/%s" % (dev, what, c, load)
            rps = med(runs, fig, "rps")
            if not rps:
                continue
            p50, p99 = med(runs, fig, "p50_us"), med(runs, fig, "p99_us")
            err = med(runs, fig, "errors")
            dp = drop = ratio = cratio = cpu = None
            if load == "sat":
                dp = med(runs, fig, "dp_pps")
                drop = med(runs, fig, "drop_pps")
                cpu = med(runs, fig, "cpu_pct")
                rs = [x for x in (neighbour_ratio(runs, r) for r in runs if r["fig"] == fig)
                      if x is not None]
                ratio = statistics.median(rs) if rs else None
                rs = [x for x in (neighbour_ratio(runs, r, True) for r in runs
                                  if r["fig"] == fig) if x is not None]
                cratio = statistics.median(rs) if rs else None
            print("| %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s "
                  "| %d |" % (
                      dev, names[what], c, "saturated" if load == "sat" else "idle",
                      rate(rps[0]), p50[0] / 1e3, p99[0] / 1e3, num(err and err[0]),
                      rate(dp and dp[0]), "%.2f" % ratio if ratio is not None else "n/a",
                      ">= %.1f: %s" % (DP_TARGET, verdict(ratio >= DP_TARGET))
                      if ratio is not None else "",
                      "%.2f" % cratio if cratio is not None else "n/a",
                      num(cpu and cpu[0]), rate(drop and drop[0]), rps[3]))
        base = med(runs, "http/%s/noapi/sat" % dev, "dp_pps")
        if base:
            drop = med(runs, "http/%s/noapi/sat" % dev, "drop_pps")
            cpu = med(runs, "http/%s/noapi/sat" % dev, "cpu_pct")
            print("| %s | (no requests) | | saturated | | | | | %s | 1.00 | | 1.00 | %s | %s "
                  "| %d |" % (dev, rate(base[0]), num(cpu and cpu[0]), rate(drop and drop[0]),
                              base[3]))
    rows = []
    for dev in devs:
        for load in ("idle", "sat"):
            fig = "http/%s/follow/%s" % (dev, load)
            agg = med(runs, fig, "agg_rps")
            if not agg:
                continue
            r = next(x for x in runs if x["fig"] == fig)
            dp = med(runs, fig, "dp_pps") if load == "sat" else None
            rs = [x for x in (neighbour_ratio(runs, y) for y in runs if y["fig"] == fig)
                  if x is not None] if load == "sat" else []
            rows.append("| %s | %s | %s | %s | %.2f | %.2f | %s of %s | %s | %s | %d |" % (
                dev, r.get("n", "?"), "saturated" if load == "sat" else "idle", rate(agg[0]),
                med(runs, fig, "ttfb_p50_ms")[0], med(runs, fig, "ttfb_p99_ms")[0],
                r.get("done", "?"), r.get("n", "?"), rate(dp and dp[0]),
                "%.2f" % statistics.median(rs) if rs else "n/a", agg[3]))
    if rows:
        print("\nFollowers: N streams opened at once, each reading the ring's records; "
              "time to the first record (p50, p99 over the N), records/s delivered to all of "
              "them together (first request to last record):\n")
        print("| dev | followers | data plane | records/s | first record p50 ms | p99 ms "
              "| finished | paird frames/s meanwhile | / no API load | runs |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))


def mem_table(runs):
    names = [("port", "port (a tap device paird made, no bindings)"),
             ("binding", "binding (count, on one port)"),
             ("captured-frame", "captured frame (ring filled; includes the ring)"),
             ("client-idle", "HTTP client, idle keep-alive connection"),
             ("client-stalled", "HTTP client, follower that never reads")]
    rows = []
    for key, label in names:
        fig = "mem/" + key
        b = med(runs, fig, "bytes_per")
        if not b:
            continue
        r = next(x for x in runs if x["fig"] == fig)
        extra = ""
        if key == "captured-frame" and r.get("ring_bytes"):
            extra = " (ring %s KiB: %.0f B of ring a record)" % (
                int(r["ring_bytes"]) // 1024, int(r["ring_bytes"]) / int(r["n"]))
        rows.append("| %s | %s | %s | %s | %s (%s..%s)%s | %d |" % (
            label, r["n"], r["rss0_kb"], r["rss1_kb"], num(b[0]), num(b[1]), num(b[2]), extra,
            b[3]))
    if rows:
        print("\nResident memory (VmRSS of paird, before and after adding N of an item, "
              "from the first run; bytes each = the difference / N, rounded to pages by the "
              "kernel: the median over the runs, min..max):\n")
        print("| item | N | RSS before, KiB | RSS after, KiB | bytes each | runs |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))


def strace_table(runs, raw):
    rows, notes = [], []
    for r in runs:
        if not r["fig"].startswith("strace/"):
            continue
        c = r["fig"].split("/")[1]
        fr = int(r.get("frames", 0))
        sc = {k[3:]: int(v) for k, v in r.items() if k.startswith("sc_")}
        reads = sc.get("read", 0) + sc.get("readv", 0)
        rerr = sc.get("read_err", 0) + sc.get("readv_err", 0)
        writes = sc.get("write", 0) + sc.get("writev", 0)
        clock = sc.get("clock_gettime", 0) + sc.get("gettimeofday", 0)
        other = sc.get("total", 0) - reads - writes - sc.get("epoll_wait", 0) - clock
        rows.append("| %s | %d | %d | %d | %+d | %d | %d | %d | %d | %d |" % (
            c, fr, reads, rerr, reads - rerr - fr, writes, sc.get("epoll_wait", 0), clock,
            other, sc.get("total", 0)))
        if fr:
            notes.append("%s: %.3f reads per frame besides the EAGAINs, %.3f writes and "
                         "%.4f epoll_wait per frame; %d clock_gettime syscalls in all" % (
                             c, (reads - rerr) / fr, writes / fr, sc.get("epoll_wait", 0) / fr,
                             clock))
    if not rows:
        return
    print("\nSyscalls of paird over a drain (strace -c -f attached, the device queue "
          "pre-raised; a few HTTP calls that read the counters are in `other`). Per frame "
          "there should be one read, plus one EAGAIN per burst, and one write where the "
          "handler writes; an epoll_wait per 256 frames at most (a read turn's cap); "
          "clock_gettime only around the API's runs and where the ports' backlog begins or "
          "ends (paird's CPU clock), never per frame:\n")
    print("| case | frames | read | read EAGAIN | read - EAGAIN - frames | write | epoll_wait "
          "| clock_gettime | other | total |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n" + "\n".join("- " + n for n in notes))
    for r in runs:
        if r["fig"].startswith("strace/"):
            c = r["fig"].split("/")[1]
            path = os.path.join(raw, "strace-%s.strace" % c)
            if os.path.exists(path):
                print("\nstrace -c -f, %s drain:\n\n```\n%s```" % (c, open(path).read()))


if __name__ == "__main__":
    main()
