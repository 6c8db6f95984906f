"""A small, strict SIP OPTIONS client over UDP: is a SIP peer alive, and how fast does it answer.

Used to probe carrier trunks (and, later, SIP paths over each uplink). It runs on the asyncio
loop, not on the SIP thread: pjsua2 2.12's binding cannot send an out-of-dialog OPTIONS. Each
probe uses its own connected UDP socket (optionally bound to a source address), retransmits
like a SIP client transaction (T1 = 0.5 s, doubling) until its timeout, and accepts only the
final response whose top Via branch, Call-ID and CSeq match its request. Only a 200 counts as
alive (as Kamailio's dispatcher does by default); any other final response means "reachable,
but refusing", and a timeout or an ICMP error means unreachable.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import socket
import time

from appliance.sip.sipmsg import split_address

T1 = 0.5  # RFC 3261 retransmission interval, doubling per retransmission


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """The outcome of one OPTIONS probe."""

    target: str
    alive: bool  # a 200 OK came back
    status_code: int = 0  # 0 when no final response arrived
    reason: str = ""
    rtt_ms: float | None = None  # from the first transmission to the final response
    error: str = ""  # "timeout", "unreachable: ...", "cannot resolve ...": why nothing usable came back

    def describe(self) -> str:
        """One line for logs and incidents."""
        if self.alive:
            return f"OPTIONS 200 in {self.rtt_ms:.0f} ms"
        if self.status_code:
            return f"OPTIONS answered {self.status_code} {self.reason} (only 200 counts as alive)"
        return f"OPTIONS {self.error}"


def parse_target(target: str) -> tuple[str, int]:
    """`sip:host:port`, `host:port` or `host` into host and port (5060 by default)."""
    text = target.strip()
    for scheme in ("sip:", "sips:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
    text = text.split(";", 1)[0].split("@")[-1]
    host, port = split_address(text) if (text.startswith("[") or text.count(":") == 1) else (text, 0)
    return host, port or 5060


def build_options(host: str, port: int, local: tuple[str, int], branch: str, call_id: str, cseq: int) -> bytes:
    """The OPTIONS request text."""
    local_host = f"[{local[0]}]" if ":" in local[0] else local[0]
    remote_host = f"[{host}]" if ":" in host else host
    lines = [f"OPTIONS sip:{remote_host}:{port} SIP/2.0",
             f"Via: SIP/2.0/UDP {local_host}:{local[1]};branch={branch};rport",
             "Max-Forwards: 70",
             f"From: <sip:callbox@{local_host}>;tag={secrets.token_hex(6)}",
             f"To: <sip:{remote_host}:{port}>",
             f"Call-ID: {call_id}",
             f"CSeq: {cseq} OPTIONS",
             "Accept: application/sdp",
             "User-Agent: Callbox",
             "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_response(data: bytes) -> tuple[int, str, dict[str, str]] | None:
    """Status code, reason and the first value of each header of a SIP response, or None."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").replace("\r\n", "\n")
    lines = head.split("\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit() or len(parts[1]) != 3:
        return None
    compact = {"v": "via", "i": "call-id"}
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers.setdefault(compact.get(key, key), value.strip())
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def _branch_of(via: str) -> str:
    first = via.split(",", 1)[0]
    for param in first.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "branch":
            return value.strip()
    return ""


class _Client(asyncio.DatagramProtocol):
    """Collects the one matching final response (or an ICMP error) for a probe."""

    def __init__(self, branch: str, call_id: str, cseq: int) -> None:
        self.branch, self.call_id, self.cseq = branch, call_id, cseq
        self.done: asyncio.Future[tuple[int, str] | str] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        """A datagram from the peer: keep it only if it is our final response."""
        parsed = parse_response(data)
        if parsed is None or self.done.done():
            return
        code, reason, headers = parsed
        if (_branch_of(headers.get("via", "")) != self.branch or headers.get("call-id") != self.call_id
                or headers.get("cseq", "").split() != [str(self.cseq), "OPTIONS"]):
            return
        if code >= 200:
            self.done.set_result((code, reason.strip()))

    def error_received(self, exc: Exception) -> None:
        """ICMP port or host unreachable (delivered on a connected UDP socket)."""
        if not self.done.done():
            self.done.set_result(f"unreachable: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc))


async def probe(target: str, source_address: str | None = None,
                timeout: float = 1.5) -> ProbeResult:  # noqa: ASYNC109 - the deadline is part of the result
    """Send one OPTIONS to `target` and wait at most `timeout` seconds for its final response."""
    loop = asyncio.get_running_loop()
    host, port = parse_target(target)
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as err:
        return ProbeResult(target, False, error=f"cannot resolve {host}: {err}")
    family, address = infos[0][0], (str(infos[0][4][0]), int(infos[0][4][1]))
    branch, call_id, cseq = "z9hG4bK" + secrets.token_hex(8), secrets.token_hex(12), 1
    try:
        transport, client = await loop.create_datagram_endpoint(
            lambda: _Client(branch, call_id, cseq), family=family, remote_addr=address,
            local_addr=(source_address, 0) if source_address else None)
    except OSError as err:
        return ProbeResult(target, False, error=f"unreachable: {err.strerror or err}")
    try:
        local = transport.get_extra_info("sockname")
        request = build_options(address[0], port, (str(local[0]), int(local[1])), branch, call_id, cseq)
        return await _exchange(target, transport, client, request, timeout)
    finally:
        transport.close()


async def _exchange(target: str, transport: asyncio.DatagramTransport, client: _Client, request: bytes,
                    timeout: float) -> ProbeResult:  # noqa: ASYNC109 - see probe()
    started = time.monotonic()
    deadline, interval = started + timeout, T1
    while (remaining := deadline - time.monotonic()) > 0:
        transport.sendto(request)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(client.done), min(interval, remaining))
        except TimeoutError:
            interval *= 2
            continue
        if isinstance(outcome, str):
            return ProbeResult(target, False, error=outcome)
        code, reason = outcome
        rtt = round((time.monotonic() - started) * 1000, 1)
        return ProbeResult(target, code == 200, code, reason, rtt)
    return ProbeResult(target, False, error=f"timeout (no answer within {timeout:g} s)")
