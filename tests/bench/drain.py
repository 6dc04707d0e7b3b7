#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""drain.py --pid PID --port HTTP_PORT --name PORT -- GEN...: one drain of
paird, timed by its CPU instead of by polling its HTTP counters.

svc_drive.py (../shared/bench) polls the counters every 2 ms; with 4,096
bindings one GET of the port list costs paird ~14 ms, so the polling would
be most of what is measured. Here paird is asked over HTTP twice, before and
after: its rx_frames and the frames nobody bound. In between paird is
stopped (SIGSTOP), the generator fills the device queue, paird is let go
(SIGCONT) and /proc/PID/schedstat (CPU time in ns) is sampled every
millisecond: the drain lasts until the last sample where paird ran for more
than 5 % of the interval (idle timers cost microseconds). Prints
  RESULT drain pkts=N span_s=S pps=P cpu_ns=C steal_s=T gen_...
pkts counts every frame read, cpu_ns is paird's CPU (user + system) per
frame over the drain, steal_s the time the hypervisor took from this VM's
CPUs from the start of the drain to the end of its idle tail (/proc/stat,
10 ms ticks): a drain whose span is long for its CPU time, with steal, lost
its CPU to another tenant, not to paird. Every wait is bounded (--max-s).
Standard library.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request


def frames(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/ports/%s" % (port, name),
                                timeout=30) as r:
        return int(json.load(r)["counters"]["rx_frames"])


def cpu_ns(pid):
    # Every thread's: a multi-queue port's workers are paird's CPU too.
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total


def steal_s():
    # The aggregate "cpu" line: user nice system idle iowait irq softirq steal ...
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--idle-ms", type=float, default=300.0)
    ap.add_argument("--max-s", type=float, default=30.0)
    ap.add_argument("gen", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    gen = a.gen[1:] if a.gen and a.gen[0] == "--" else a.gen
    if not gen:
        print("drain: generator command missing", file=sys.stderr)
        return 2
    f0 = frames(a.port, a.name)
    os.kill(a.pid, signal.SIGSTOP)
    try:
        out = subprocess.run(gen, capture_output=True, text=True, timeout=a.max_s).stdout
        time.sleep(0.1)
    finally:
        c0 = cpu_ns(a.pid)
        s0 = steal_s()
        t0 = time.monotonic()
        os.kill(a.pid, signal.SIGCONT)
    t_last, c_prev, t_prev = t0, c0, t0
    deadline = t0 + a.max_s
    while True:
        time.sleep(0.001)
        now, c = time.monotonic(), cpu_ns(a.pid)
        # Busy: more than 5 % of the interval; idle timers cost microseconds,
        # and a drain sharing its CPU with other tenants still gets more.
        if c - c_prev > (now - t_prev) * 1e9 / 20:
            t_last = now
        c_prev, t_prev = c, now
        if now - t_last >= a.idle_ms / 1000.0 or now > deadline:
            break
    c1 = c_prev
    stolen = steal_s() - s0
    f1 = frames(a.port, a.name)
    n = f1 - f0
    span = t_last - t0
    gen_kv = ""
    for line in out.splitlines():
        if line.startswith("RESULT gen "):
            gen_kv = " ".join("gen_" + t for t in line[len("RESULT gen "):].split())
    print("RESULT drain pkts=%d span_s=%.6f pps=%.0f cpu_ns=%.0f steal_s=%.2f %s" % (
        n, span, n / span if span > 0 else 0, (c1 - c0) / n if n > 0 else 0, stolen, gen_kv),
        flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
