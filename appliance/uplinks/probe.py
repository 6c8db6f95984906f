"""Probes bound to one uplink: ICMP echo, TCP connect, and SIP OPTIONS to a carrier.

Binding matters: the backup uplink must be known good before it is needed, so its probes leave
through it even while the default route points at the primary. The source address selects the
uplink's own routing table (a `from <address>` rule); SO_BINDTODEVICE pins the interface too,
when the daemon has CAP_NET_RAW. SIP OPTIONS goes through the carrier prober
(`appliance.sip.probe`), bound to the uplink's source address; for the uplink any final response
counts (a carrier answering 404 or 503 still proves the path), only silence is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import socket
import struct
import time

from appliance.sip import probe as sip_probe
from appliance.uplinks.config import ProbeTarget

_ids = itertools.count(os.getpid() & 0xFFFF)


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome: ok with a round-trip time, or the reason it failed."""

    target: str
    ok: bool
    rtt_ms: float = 0.0
    error: str = ""


def bound_socket(kind: int, proto: int, interface: str, source: str) -> socket.socket:
    """A non-blocking socket that can only leave through this uplink."""
    sock = socket.socket(socket.AF_INET, kind, proto)
    try:
        sock.setblocking(False)
        with contextlib.suppress(PermissionError):  # without CAP_NET_RAW the source address alone
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        if source:
            sock.bind((source, 0))
    except OSError:
        sock.close()
        raise
    return sock


async def probe(target: ProbeTarget, interface: str, source: str, limit_s: float) -> ProbeResult:
    """Run one probe through the uplink; never raises."""
    start = time.monotonic()
    if target.kind == "sip":
        result = await sip_probe.probe(f"{target.host}:{target.port}", source or None, limit_s)
        if result.status_code:
            return ProbeResult(str(target), True, rtt_ms=result.rtt_ms or 0.0)
        return ProbeResult(str(target), False, error=result.error or "no answer")
    try:
        if target.kind == "tcp":
            await asyncio.wait_for(_tcp(target, interface, source), limit_s)
        else:
            await asyncio.wait_for(_icmp(target, interface, source), limit_s)
    except TimeoutError:
        return ProbeResult(str(target), False, error="timeout")
    except OSError as err:
        return ProbeResult(str(target), False, error=err.strerror or str(err))
    return ProbeResult(str(target), True, rtt_ms=(time.monotonic() - start) * 1000)


async def _tcp(target: ProbeTarget, interface: str, source: str) -> None:
    loop = asyncio.get_running_loop()
    # A reset (connection refused) came back through the uplink: the path works.
    with bound_socket(socket.SOCK_STREAM, 0, interface, source) as sock, contextlib.suppress(ConnectionRefusedError):
        await loop.sock_connect(sock, (target.host, target.port))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo_request(ident: int, seq: int) -> bytes:
    payload = b"callbox-uplink-probe"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


async def _icmp(target: ProbeTarget, interface: str, source: str) -> None:
    """Echo request on a raw socket (root), else on an unprivileged ping socket."""
    loop = asyncio.get_running_loop()
    ident, seq = next(_ids) & 0xFFFF, int(time.monotonic() * 1000) & 0xFFFF
    try:
        sock = bound_socket(socket.SOCK_RAW, socket.IPPROTO_ICMP, interface, source)
        raw = True
    except PermissionError:
        sock = bound_socket(socket.SOCK_DGRAM, socket.IPPROTO_ICMP, interface, source)
        raw = False
    with sock:
        await loop.sock_sendto(sock, _echo_request(ident, seq), (target.host, 0))
        while True:
            data, peer = await loop.sock_recvfrom(sock, 2048)
            if raw:
                data = data[(data[0] & 0x0F) * 4:]  # strip the IP header
            if len(data) < 8 or peer[0] != target.host:
                continue
            kind, _code, _sum, rid, rseq = struct.unpack("!BBHHH", data[:8])
            if kind == 0 and rseq == seq and (rid == ident or not raw):  # ping sockets rewrite the id
                return
