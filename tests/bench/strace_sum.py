#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""strace_sum.py FILE: the table of `strace -c -f` (FILE, from -o) as
key=value fields for runs.tsv: sc_<syscall>=CALLS and, where some failed,
sc_<syscall>_err=ERRORS (EAGAIN for a nonblocking read), and sc_total. The
table itself stays in the raw output (`make bench` prints it)."""
import sys


def main():
    out = []
    total = 0
    for line in open(sys.argv[1]):
        f = line.split()
        # % time, seconds, usecs/call, calls, [errors,] syscall
        if len(f) < 5 or not f[0][0].isdigit() or f[-1] == "total":
            continue
        try:
            calls = int(f[3])
            errs = int(f[4]) if len(f) == 6 else 0
        except ValueError:
            continue
        name = f[-1]
        total += calls
        out.append("sc_%s=%d" % (name, calls))
        if errs:
            out.append("sc_%s_err=%d" % (name, errs))
    print(" ".join(out + ["sc_total=%d" % total]))


if __name__ == "__main__":
    main()
