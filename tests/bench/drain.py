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
millisecond: a sample is busy where paird ran for more than 5 % of the
interval, busy samples less than 10 ms apart make one stretch, and the
drain lasts from SIGCONT to the end of the last stretch that holds at
least 1 % of the CPU of the stretches before it. A stretch under that, in
the idle tail, is one of paird's idle timers or the kernel's work charged
to it (tens of microseconds), not frames: counted in cpu_ns, not in the
span, so that one blip 150 ms after a 50 ms drain does not make it a 200 ms
drain (it did, a drain in three at 1,400 B). Prints
  RESULT drain pkts=N span_s=S pps=P cpu_ns=C steal_s=T stretches=K
               tail_cpu_us=U gen_...
pkts counts every frame read, cpu_ns is paird's CPU (user + system) per
frame over the drain and its idle tail, stretches and tail_cpu_us the busy
stretches and the CPU of those left out of the span, steal_s the time the hypervisor took from this VM's
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


# Busy samples closer than this are one stretch; a later stretch with less
# than this fraction of the CPU before it is a blip of the idle tail.
GAP_S = 0.010
TAIL_FRACTION = 0.01


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
    stretches = []  # [start, end, cpu_ns] of busy samples less than GAP_S apart
    deadline = t0 + a.max_s
    while True:
        time.sleep(0.001)
        now, c = time.monotonic(), cpu_ns(a.pid)
        # Busy: more than 5 % of the interval; idle timers cost microseconds,
        # and a drain sharing its CPU with other tenants still gets more.
        if c - c_prev > (now - t_prev) * 1e9 / 20:
            t_last = now
            if stretches and t_prev - stretches[-1][1] < GAP_S:
                stretches[-1][1] = now
                stretches[-1][2] += c - c_prev
            else:
                stretches.append([t_prev, now, c - c_prev])
        c_prev, t_prev = c, now
        if now - t_last >= a.idle_ms / 1000.0 or now > deadline:
            break
    c1 = c_prev
    stolen = steal_s() - s0
    f1 = frames(a.port, a.name)
    n = f1 - f0
    # The drain ends with the last stretch that is not a blip against those before it.
    end, cpu, tail = t0, 0, 0
    for s_start, s_end, s_cpu in stretches:
        if s_cpu >= cpu * TAIL_FRACTION:
            end, cpu, tail = s_end, cpu + tail + s_cpu, 0
        else:
            tail += s_cpu
    span = end - t0
    gen_kv = ""
    for line in out.splitlines():
        if line.startswith("RESULT gen "):
            gen_kv = " ".join("gen_" + t for t in line[len("RESULT gen "):].split())
    print("RESULT drain pkts=%d span_s=%.6f pps=%.0f cpu_ns=%.0f steal_s=%.2f stretches=%d "
          "tail_cpu_us=%.0f %s" % (
              n, span, n / span if span > 0 else 0, (c1 - c0) / n if n > 0 else 0, stolen,
              len(stretches), tail / 1e3, gen_kv), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
