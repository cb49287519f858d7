#!/usr/bin/env python3
"""hold_conns.py: open plain TCP connections to a port and hold them, silent,
as idle clients or an attacker would (tests/e2e/limits.sh).

  hold_conns.py HOST PORT COUNT [--source A[-B]] [--hold S] [--closed-after S]

--source 127.0.0.10-127.0.0.29 spreads the connections over those source
addresses (round robin); by default the kernel picks. Prints "connected N"
once every connection is attempted (each connect waits 2 s at most), then
holds them for --hold seconds (default 60) or until SIGTERM. With
--closed-after S it instead waits S seconds, prints "closed K" (how many the
server closed meanwhile) and exits. Loopback only.
"""
import argparse
import ipaddress
import resource
import signal
import socket
import sys
import time


def sources(spec):
    if not spec:
        return [None]
    first, _, last = spec.partition("-")
    a, b = ipaddress.ip_address(first), ipaddress.ip_address(last or first)
    if not (a.is_loopback and b.is_loopback) or int(b) < int(a) or int(b) - int(a) > 255:
        sys.exit("hold_conns: --source must be a loopback range of at most 256 addresses")
    return [str(ipaddress.ip_address(n)) for n in range(int(a), int(b) + 1)]


def open_all(host, port, count, srcs, deadline):
    socks, failed = [], 0
    for i in range(count):
        if time.monotonic() > deadline:
            failed += count - i
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            src = srcs[i % len(srcs)]
            if src:
                s.bind((src, 0))
            s.connect((host, port))
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
    return socks, failed


def closed_by_peer(s):
    s.setblocking(False)  # with a timeout, Python would wait for data first
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--source")
    ap.add_argument("--hold", type=float, default=60)
    ap.add_argument("--closed-after", type=float)
    a = ap.parse_args()
    if not ipaddress.ip_address(a.host).is_loopback or not 0 < a.count <= 5000:
        sys.exit("hold_conns: loopback only, 1..5000 connections")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.count + 64), hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socks, failed = open_all(a.host, a.port, a.count, sources(a.source), time.monotonic() + 60)
    print(f"connected {len(socks)} failed {failed}", flush=True)
    if a.closed_after is not None:
        time.sleep(a.closed_after)
        print(f"closed {sum(closed_by_peer(s) for s in socks)}", flush=True)
        return
    time.sleep(a.hold)


if __name__ == "__main__":
    main()
