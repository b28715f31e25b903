#!/usr/bin/env python3
"""Small SMTP load helpers for bench/relay.sh (standard library only).

latency  One session sends messages back to back (MAIL, RCPT, DATA, no
         pipelining) and prints the per-transaction times (MAIL sent ->
         final reply to the end of DATA) as JSON: median, p99, mean, count.
idle     Opens many connections, reads each greeting, then holds them open
         until it is told to stop (SIGTERM) or its time limit passes.

Both refuse non-loopback addresses: the benchmark never leaves the machine.
"""

import argparse
import ipaddress
import json
import signal
import socket
import statistics
import sys
import time


def loopback(hostport):
    host, _, port = hostport.rpartition(":")
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit(f"refusing non-loopback address {host}")
    return host, int(port)


class Session:
    def __init__(self, addr, timeout):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def reply(self):
        """Reads one (possibly multi-line) reply; returns its code."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed")
                self.buf += chunk
            line, _, self.buf = self.buf.partition(b"\r\n")
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3])

    def command(self, line, expect):
        self.sock.sendall(line)
        code = self.reply()
        if code != expect:
            raise RuntimeError(f"{line!r} got {code}, expected {expect}")


def message_bytes(size, path):
    if path:
        with open(path, "rb") as f:
            raw = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    else:
        head = (
            b"From: <maarten@hoekstra-advies.nl>\r\nTo: <piet@voorbeeld.nl>\r\n"
            b"Subject: latency probe\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        )
        line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
        body = line * max(1, (size - len(head)) // len(line))
        raw = head + body
    # Dot-stuffing: a line starting with '.' gets a second one.
    raw = raw.replace(b"\r\n.", b"\r\n..")
    if raw.startswith(b"."):
        raw = b"." + raw
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return raw + b".\r\n"


def latency(args):
    addr = loopback(args.target)
    data = message_bytes(args.size, args.message_file)
    s = Session(addr, args.timeout)
    if s.reply() != 220:
        sys.exit("no greeting")
    s.command(b"EHLO bench.localdomain\r\n", 250)
    mail = f"MAIL FROM:<{args.sender}>\r\n".encode()
    rcpt = f"RCPT TO:<{args.rcpt}>\r\n".encode()
    times = []
    for i in range(args.warmup + args.count):
        t0 = time.perf_counter_ns()
        s.command(mail, 250)
        s.command(rcpt, 250)
        s.command(b"DATA\r\n", 354)
        s.command(data, 250)
        elapsed = time.perf_counter_ns() - t0
        if i >= args.warmup:
            times.append(elapsed / 1e6)
    s.command(b"QUIT\r\n", 221)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(json.dumps({
        "count": len(times),
        "p50_ms": round(statistics.median(times), 4),
        "p99_ms": round(p99, 4),
        "mean_ms": round(statistics.fmean(times), 4),
        "bytes": len(data),
    }))


def idle(args):
    addr = loopback(args.target)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    conns = []
    for _ in range(args.count):
        s = Session(addr, args.timeout)
        if s.reply() != 220:
            sys.exit(f"connection {len(conns)}: no greeting")
        conns.append(s)
    print(f"open {len(conns)}", flush=True)
    deadline = time.monotonic() + args.hold
    while not stop and time.monotonic() < deadline:
        time.sleep(0.05)
    for s in conns:
        s.sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("target")
    lat.add_argument("--size", type=int, default=2048)
    lat.add_argument("--message-file")
    lat.add_argument("--count", type=int, default=2000)
    lat.add_argument("--warmup", type=int, default=100)
    lat.add_argument("--sender", default="maarten@hoekstra-advies.nl")
    lat.add_argument("--rcpt", default="piet@voorbeeld.nl")
    lat.add_argument("--timeout", type=float, default=30)
    lat.set_defaults(run=latency)
    idl = sub.add_parser("idle")
    idl.add_argument("target")
    idl.add_argument("--count", type=int, default=1000)
    idl.add_argument("--hold", type=float, default=60)
    idl.add_argument("--timeout", type=float, default=30)
    idl.set_defaults(run=idle)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
