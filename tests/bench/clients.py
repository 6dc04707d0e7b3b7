#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""clients.py MODE --port P --token-file F [...]: HTTP clients of paird for
`make bench` (issue 11), over TCP on 127.0.0.1 with the bearer token.

  follow  N followers of PATH (a captures.pcap?follow=true stream), opened
          at once; each counts the pcap records it receives until it has
          --records of them (or --max-s passes). Prints
            RESULT follow n=N records=R ttfb_p50_ms ttfb_p99_ms
                   rps_p50 rps_min agg_rps done=D
          ttfb: request sent to the first record's bytes; rps: records per
          second one follower received (first to last record); agg_rps: all
          records of all followers over the whole span.
  latency a light client: -n requests of PATH, --rate a second (paced,
          one at a time), each timed from its request to its last byte
          (--kind get: one kept-alive connection, the whole answer by
          Content-Length or chunked encoding) or to its first pcap record
          (--kind stream: a new connection each, closed after it). Prints
            RESULT latency kind=K rate=R n=N p50_ms p90_ms p99_ms max_ms errors=E
  hold    N connections held open, then `READY n=N` on stdout; they stay
          until stdin closes (or --max-s). --kind idle: a GET of PATH
          answered on each, the connection kept alive; --kind stalled: PATH
          is a stream that follows and is never read.

Standard library, one thread, every wait bounded.
"""
import argparse
import selectors
import socket
import statistics
import struct
import sys
import time


def request(path, token, port):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
            "Connection: keep-alive\r\n\r\n" % (path, port, token)).encode()


class Follower:
    """Decodes a chunked pcap stream incrementally and counts records."""

    def __init__(self, sock):
        self.sock = sock
        self.raw = bytearray()
        self.head = None
        self.chunk_left = 0
        self.body = bytearray()
        self.pcap_hdr = False
        self.records = 0
        self.t_first = None
        self.t_last = None
        self.closed = False

    def feed(self, data, now):
        self.raw += data
        if self.head is None:
            i = self.raw.find(b"\r\n\r\n")
            if i < 0:
                return
            self.head = bytes(self.raw[:i])
            del self.raw[:i + 4]
            if b" 200 " not in self.head.split(b"\r\n")[0]:
                raise RuntimeError("stream refused: %r" % self.head.split(b"\r\n")[0])
        while self.raw:
            if self.chunk_left == 0:
                i = self.raw.find(b"\r\n")
                if i < 0:
                    break
                line = bytes(self.raw[:i]).split(b";")[0].strip()
                if not line:  # the CRLF that ends the previous chunk
                    del self.raw[:i + 2]
                    continue
                self.chunk_left = int(line, 16)
                del self.raw[:i + 2]
                if self.chunk_left == 0:
                    self.closed = True
                    return
            take = min(self.chunk_left, len(self.raw))
            self.body += self.raw[:take]
            del self.raw[:take]
            self.chunk_left -= take
        if not self.pcap_hdr and len(self.body) >= 24:
            del self.body[:24]
            self.pcap_hdr = True
        off = 0
        n = 0
        while self.pcap_hdr and len(self.body) - off >= 16:
            incl = struct.unpack_from("<I", self.body, off + 8)[0]
            if len(self.body) - off < 16 + incl:
                break
            off += 16 + incl
            n += 1
        if off:
            del self.body[:off]
        if n:
            if self.t_first is None:
                self.t_first = now
            self.t_last = now
            self.records += n


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else 0


def connect(port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def follow(a, token):
    sel = selectors.DefaultSelector()
    fs = []
    for _ in range(a.n):
        s = connect(a.port)
        f = Follower(s)
        fs.append(f)
    t0 = time.monotonic()
    for f in fs:
        f.sock.sendall(request(a.path, token, a.port))
        f.sock.setblocking(False)
        sel.register(f.sock, selectors.EVENT_READ, f)
    deadline = t0 + a.max_s
    left = len(fs)
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            f = key.data
            try:
                data = f.sock.recv(1 << 18)
            except BlockingIOError:
                continue
            now = time.monotonic()
            if not data:
                f.closed = True
            else:
                f.feed(data, now)
            if f.closed or f.records >= a.records:
                sel.unregister(f.sock)
                left -= 1
    t_end = max((f.t_last for f in fs if f.t_last), default=time.monotonic())
    ttfb = [(f.t_first - t0) * 1e3 for f in fs if f.t_first is not None]
    rps = [f.records / (f.t_last - f.t_first) for f in fs
           if f.t_first is not None and f.t_last > f.t_first]
    total = sum(f.records for f in fs)
    done = sum(1 for f in fs if f.records >= a.records)
    for f in fs:
        f.sock.close()
    print("RESULT follow n=%d records=%d ttfb_p50_ms=%.2f ttfb_p99_ms=%.2f rps_p50=%.0f "
          "rps_min=%.0f agg_rps=%.0f done=%d" % (
              a.n, total, pct(ttfb, 50), pct(ttfb, 99),
              statistics.median(rps) if rps else 0, min(rps) if rps else 0,
              total / (t_end - t0) if t_end > t0 else 0, done), flush=True)
    return 0 if done == a.n else 1


def read_answer(sock, deadline):
    """Reads one HTTP/1.1 answer whole; returns its status line."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += recv_some(sock, deadline)
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    hdrs = {ln.split(b":", 1)[0].strip().lower(): ln.split(b":", 1)[1].strip()
            for ln in lines[1:] if b":" in ln}
    if b"content-length" in hdrs:
        n = int(hdrs[b"content-length"])
        while len(body) < n:
            body += recv_some(sock, deadline)
    elif hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
        # The answer ends with the zero-size chunk and its blank line.
        while not (body.endswith(b"\r\n0\r\n\r\n") or body == b"0\r\n\r\n"):
            body += recv_some(sock, deadline)
    return lines[0]


def recv_some(sock, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no answer in time")
    sock.settimeout(left)
    data = sock.recv(1 << 18)
    if not data:
        raise ConnectionError("closed by paird")
    return data


def latency(a, token):
    ms, errors = [], 0
    sock = None
    t0 = time.monotonic()
    deadline = t0 + a.max_s
    for i in range(a.n):
        due = t0 + i / a.rate
        now = time.monotonic()
        if now >= deadline:
            break
        if due > now:
            time.sleep(due - now)
        try:
            if a.kind == "stream" or sock is None:
                sock = connect(a.port)
            start = time.monotonic()
            sock.sendall(request(a.path, token, a.port))
            if a.kind == "stream":
                f = Follower(sock)
                while f.records == 0 and not f.closed:
                    f.feed(recv_some(sock, start + 10), time.monotonic())
                ok = f.records > 0
                sock.close()
                sock = None
            else:
                ok = b" 200 " in read_answer(sock, start + 10)
            if not ok:
                raise RuntimeError("no record or not 200")
            ms.append((time.monotonic() - start) * 1e3)
        except (OSError, RuntimeError, ValueError) as e:
            errors += 1
            print("latency: %s" % e, file=sys.stderr)
            if sock:
                sock.close()
            sock = None
    if sock:
        sock.close()
    print("RESULT latency kind=%s rate=%g n=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
          "max_ms=%.3f errors=%d" % (a.kind, a.rate, len(ms), pct(ms, 50), pct(ms, 90),
                                     pct(ms, 99),
                         max(ms) if ms else 0, errors), flush=True)
    return 0 if ms and not errors else 1


def hold(a, token):
    socks = []
    for _ in range(a.n):
        s = connect(a.port, 4096 if a.kind == "stalled" else 0)
        s.sendall(request(a.path, token, a.port))
        socks.append(s)
    if a.kind == "idle":
        # Read each answer whole (Content-Length), so the connection is idle
        # and kept alive on paird's side.
        for s in socks:
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, body = buf.split(b"\r\n\r\n", 1)
            if b" 200 " not in head.split(b"\r\n")[0]:
                print("refused: %r" % head.split(b"\r\n")[0], file=sys.stderr)
                return 1
            n = [int(ln.split(b":")[1]) for ln in head.split(b"\r\n")
                 if ln.lower().startswith(b"content-length:")]
            while n and len(body) < n[0]:
                body += s.recv(65536)
    else:
        # Stalled followers: the smallest receive buffer, never read, so
        # paird's side of each stream fills and stays suspended.
        time.sleep(0.5)
    print("READY n=%d" % len(socks), flush=True)
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ)
    deadline = time.monotonic() + a.max_s
    while time.monotonic() < deadline:
        if sel.select(timeout=0.5) and not sys.stdin.buffer.read1(4096):
            break
    for s in socks:
        s.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("follow", "hold", "latency"))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--kind", choices=("idle", "stalled", "get", "stream"), default="idle")
    ap.add_argument("--rate", type=float, default=50, help="latency: requests a second")
    ap.add_argument("--max-s", type=float, default=20)
    a = ap.parse_args()
    with open(a.token_file) as f:
        token = f.readline().strip()
    modes = {"follow": follow, "hold": hold, "latency": latency}
    return modes[a.mode](a, token)


if __name__ == "__main__":
    sys.exit(main())
