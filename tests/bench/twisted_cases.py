#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Twisted Pair peer for paird's other bench cases (issue 11).

../shared/bench/peers/twisted_peer.py measures Twisted Pair on the count
chain only. This peer runs the same dispatch tree (TuntapPort ->
[EthernetProtocol ->] IPProtocol -> RawUDPProtocol) with the work of paird's
other cases at its leaves, written the way a Twisted Pair program would:

  capture  every frame kept (time, bytes) in a bounded ring at the root,
           then dispatched as usual (paird: a capture binding at the root)
  echo     UDP port 9000: a reply written per datagram, addresses and ports
           swapped (paird: an echo binding at UDP port 9000)
  forward  every frame written to a second device, --to (paird: a forward
           binding at the root to a second port)
  host     ARP reply for --addr on tap, ICMP echo reply, UDP echo at port 7
           (paird: the simulated host; the bench feeds it UDP to port 7)

Replies carry a correct IPv4 header checksum and a zero UDP checksum
(allowed for IPv4), which spares Twisted a checksum over the payload that
paird computes: the comparison leans Twisted's way.

Same interface and RESULT keys as twisted_peer.py: prints READY once
listening, stops after --idle-ms without frames (once the first came) or
--max-s, then prints "RESULT twisted ...". pkts counts the frames the
case's leaf handled.
"""
import argparse
import collections
import os
import resource
import socket
import struct
import sys
import time

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor, task  # noqa: E402
from twisted.pair import ethernet, ip, raw, rawudp, tuntap  # noqa: E402
from zope.interface import directlyProvides, implementer  # noqa: E402


class Stats:
    def __init__(self):
        self.n = 0
        self.bytes = 0
        self.t_first = 0.0
        self.t_last = 0.0

    def hit(self, length):
        self.n += 1
        self.bytes += length
        self.t_last = time.monotonic()
        if self.n == 1:
            self.t_first = self.t_last


def ip_checksum(header):
    s = sum(struct.unpack("!10H", header))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ttl=64):
    """An IPv4 header (no options) before @payload; src/dst dotted strings."""
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", ip_checksum(h)) + h[12:] + payload


class EtherTracker(ethernet.EthernetProtocol):
    """Ethernet dispatch that remembers the frame's addresses for a reply."""

    src = dst = b""

    def datagramReceived(self, data, partial=0):
        self.dst, self.src = data[0:6], data[6:12]
        return ethernet.EthernetProtocol.datagramReceived(self, data, partial)


class TunIPProtocol(ip.IPProtocol):
    """tun mode: TuntapPort passes (data, partial) only; see twisted_peer.py."""

    def datagramReceived(self, data, partial=0, dest=None, source=None, protocol=0x0800):
        return ip.IPProtocol.datagramReceived(self, data, partial, dest, source, protocol)


class Replier:
    """Writes an IP packet back out of the port, framed for tap or tun."""

    def __init__(self, port, eth):
        self.port = port
        self.eth = eth  # None on tun

    def send(self, packet, ethertype=0x0800):
        if self.eth is None:
            self.port.write(packet)
        else:
            self.port.write(self.eth.src + self.eth.dst + struct.pack("!H", ethertype) + packet)


class UDPEcho(protocol.DatagramProtocol):
    """Echoes at the UDP level: Twisted hands it (payload, (source, sport))."""

    def __init__(self, stats, replier, udp, my_port):
        self.stats = stats
        self.replier = replier
        self.udp = udp
        self.my_port = my_port

    def datagramReceived(self, data, addr):
        self.stats.hit(len(data))
        src, sport = addr
        udp = struct.pack("!HHHH", self.my_port, sport, 8 + len(data), 0) + data
        self.replier.send(ipv4(self.udp.dest, src, 17, udp))


class DestRawUDP(rawudp.RawUDPProtocol):
    """RawUDPProtocol that keeps the packet's destination address for a reply."""

    dest = "0.0.0.0"

    def datagramReceived(self, data, partial, source, dest, *rest, **kw):
        self.dest = dest
        return rawudp.RawUDPProtocol.datagramReceived(self, data, partial, source, dest,
                                                      *rest, **kw)


@implementer(raw.IRawDatagramProtocol)
class ICMPEcho(protocol.AbstractDatagramProtocol):
    def __init__(self, stats, replier):
        self.stats = stats
        self.replier = replier

    def addProto(self, num, proto):
        raise NotImplementedError

    def datagramReceived(self, data, partial, source, dest, protocol, **kw):
        if len(data) < 8 or data[0] != 8:
            return
        self.stats.hit(len(data))
        body = b"\x00\x00\x00\x00" + data[4:]
        if len(body) % 2:
            body += b"\x00"
        s = sum(struct.unpack("!%dH" % (len(body) // 2), body))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        reply = b"\x00\x00" + struct.pack("!H", ~s & 0xFFFF) + data[4:]
        self.replier.send(ipv4(dest, source, 1, reply))


@implementer(raw.IRawPacketProtocol)
class ARPReply(protocol.AbstractDatagramProtocol):
    def __init__(self, stats, replier, addr, mac):
        self.stats = stats
        self.replier = replier
        self.addr = socket.inet_aton(addr)
        self.mac = mac

    def addProto(self, num, proto):
        raise NotImplementedError

    def datagramReceived(self, data, partial, dest, source, protocol):
        if len(data) < 28 or data[6:8] != b"\x00\x01" or data[24:28] != self.addr:
            return
        self.stats.hit(len(data))
        sha, spa = data[8:14], data[14:18]
        arp = data[0:6] + b"\x00\x02" + self.mac + self.addr + sha + spa
        self.replier.port.write(sha + self.mac + b"\x08\x06" + arp)


class Sink(protocol.AbstractDatagramProtocol):
    """The forward target's own frames (the kernel's IPv6 solicitations): dropped."""

    def datagramReceived(self, data, partial=0):
        pass


class Root(protocol.AbstractDatagramProtocol):
    """The port's protocol: capture or forward every frame, then dispatch."""

    def __init__(self, below, stats=None, ring=None, forward_to=None):
        self.below = below
        self.stats = stats
        self.ring = ring
        self.forward_to = forward_to

    def datagramReceived(self, data, partial=0):
        if self.ring is not None:
            self.ring.append((time.time(), data))
            self.stats.hit(len(data))
        if self.forward_to is not None:
            self.forward_to.write(data)
            self.stats.hit(len(data))
        if self.below is not None:
            self.below.datagramReceived(data, partial)


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def port_for(a, name, proto):
    """A TuntapPort on @name; Twisted picks tap or tun by what @proto provides."""
    directlyProvides(proto, ethernet.IEthernetProtocol if a.type == "tap"
                     else raw.IRawPacketProtocol)
    return tuntap.TuntapPort(name.encode(), proto, reactor=reactor)


def build(a, stats):
    """The case's protocol tree; returns (the port, [other ports to start])."""
    eth = EtherTracker() if a.type == "tap" else None
    ipp = ip.IPProtocol() if eth else TunIPProtocol()
    if eth:
        eth.addProto(0x0800, ipp)
    below = eth or ipp
    replier = Replier(None, eth)  # the port comes once its protocol exists
    udp = DestRawUDP()
    ipp.addProto(17, udp)
    extra = []
    if a.case == "capture":
        root = Root(below, stats, ring=collections.deque(maxlen=a.ring))
    elif a.case == "forward":
        out = port_for(a, a.to, Sink())
        extra.append(out)
        root = Root(None, stats, forward_to=out)
    else:
        root = below
        udp.addProto(9000 if a.case == "echo" else 7, UDPEcho(stats, replier, udp,
                                                              9000 if a.case == "echo" else 7))
        if a.case == "host":
            ipp.addProto(1, ICMPEcho(stats, replier))
            if eth:
                with open("/sys/class/net/%s/address" % a.iface) as f:
                    kmac = bytes.fromhex(f.read().strip().replace(":", ""))
                # The host's own MAC: the kernel side's, locally administered and flipped.
                mac = bytes([(kmac[0] | 0x02) & 0xFE]) + kmac[1:5] + bytes([kmac[5] ^ 0xFF])
                eth.addProto(0x0806, ARPReply(stats, replier, a.addr, mac))
    port = port_for(a, a.iface, root)
    replier.port = port
    return port, extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-c", "--case", choices=("capture", "echo", "forward", "host"),
                    required=True)
    ap.add_argument("-i", "--iface", default="atun0")
    ap.add_argument("-T", "--type", choices=("tun", "tap"), default="tun")
    ap.add_argument("--to", default="fwd0", help="forward: the second device")
    ap.add_argument("--addr", default="198.19.0.2", help="host: the address ARP answers for")
    ap.add_argument("--ring", type=int, default=65536, help="capture: frames kept")
    ap.add_argument("-w", "--idle-ms", type=float, default=400)
    ap.add_argument("-t", "--max-s", type=float, default=30)
    ap.add_argument("-C", "--cpu", type=int, default=-1)
    a = ap.parse_args()
    if a.cpu >= 0:
        os.sched_setaffinity(0, {a.cpu})

    stats = Stats()
    port, extra = build(a, stats)
    t_start = time.monotonic()
    c_start = cpu_s()
    state = {"seen": -1, "changed": t_start}

    def tick():
        now = time.monotonic()
        if stats.n != state["seen"]:
            state["seen"] = stats.n
            state["changed"] = now
        if (stats.n > 0 and now - state["changed"] >= a.idle_ms / 1000.0) or \
                now - t_start >= a.max_s:
            reactor.stop()

    def started():
        for p in extra:
            p.startListening()
        port.startListening()
        print("READY", flush=True)
        task.LoopingCall(tick).start(0.05, now=False)

    reactor.callWhenRunning(started)
    reactor.run()
    c_end = cpu_s()
    span = stats.t_last - stats.t_first if stats.n > 1 else 0.0
    pps = (stats.n - 1) / span if span > 0 else 0.0
    print(
        "RESULT twisted mode=twisted-%s dev=%s if=%s pkts=%d bytes=%d span_s=%.6f pps=%.0f "
        "cpu_s=%.3f cpu_ns_per_pkt=%.0f t_first=%.6f t_last=%.6f"
        % (a.case, a.type, a.iface, stats.n, stats.bytes, span, pps, c_end - c_start,
           (c_end - c_start) * 1e9 / stats.n if stats.n else 0,
           stats.t_first, stats.t_last),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
