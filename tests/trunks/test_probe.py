"""The OPTIONS prober against tiny UDP peers on 127.0.0.1: what counts as alive, what is ignored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from appliance.sip.probe import build_options, parse_response, parse_target, probe

Reply = Callable[[str, int], list[str]]  # (request text, copy number) -> responses to send


def response(request: str, code: int, reason: str, *, branch: str | None = None, call_id: str | None = None,
             cseq: str | None = None) -> str:
    """A response to `request`, optionally with a wrong branch, Call-ID or CSeq."""
    headers = dict(line.split(": ", 1) for line in request.split("\r\n")[1:] if ": " in line)
    via = headers["Via"] if branch is None else headers["Via"].replace(headers["Via"].split("branch=")[1].split(";")[0],
                                                                        branch)
    return (f"SIP/2.0 {code} {reason}\r\nVia: {via}\r\nFrom: {headers['From']}\r\nTo: {headers['To']};tag=x\r\n"
            f"Call-ID: {call_id or headers['Call-ID']}\r\nCSeq: {cseq or headers['CSeq']}\r\nContent-Length: 0\r\n\r\n")


class Peer(asyncio.DatagramProtocol):
    """Answers each received OPTIONS with whatever `reply` says."""

    def __init__(self, reply: Reply) -> None:
        self.reply, self.copies = reply, 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.copies += 1
        assert self.transport is not None
        for text in self.reply(data.decode(), self.copies):
            self.transport.sendto(text.encode(), addr)


@pytest.fixture
async def peer() -> AsyncIterator[Callable[[Reply], asyncio.Future[tuple[str, Peer]]]]:
    """Start a UDP peer on 127.0.0.1 with a reply rule; yields its address."""
    transports: list[asyncio.DatagramTransport] = []

    async def start(reply: Reply) -> tuple[str, Peer]:
        transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: Peer(reply), local_addr=("127.0.0.1", 0))
        transports.append(transport)
        return f"127.0.0.1:{transport.get_extra_info('sockname')[1]}", protocol

    yield start  # type: ignore[misc]
    for transport in transports:
        transport.close()


async def test_a_200_is_alive_with_its_round_trip_time(peer) -> None:  # type: ignore[no-untyped-def]
    target, _ = await peer(lambda req, n: [response(req, 200, "OK")])
    result = await probe(target, timeout=1.0)
    assert result.alive and result.status_code == 200
    assert result.rtt_ms is not None and 0 <= result.rtt_ms < 500
    assert result.describe().startswith("OPTIONS 200 in")


async def test_only_200_counts_as_alive(peer) -> None:  # type: ignore[no-untyped-def]
    target, _ = await peer(lambda req, n: [response(req, 100, "Trying"), response(req, 404, "Not Found")])
    result = await probe(target, timeout=1.0)
    assert not result.alive and (result.status_code, result.reason) == (404, "Not Found")
    assert "only 200 counts" in result.describe()


async def test_responses_of_other_requests_are_ignored(peer) -> None:  # type: ignore[no-untyped-def]
    target, _ = await peer(lambda req, n: [response(req, 200, "OK", branch="z9hG4bKother"),
                                           response(req, 200, "OK", call_id="someone-else"),
                                           response(req, 200, "OK", cseq="7 OPTIONS"),
                                           "not sip at all"])
    result = await probe(target, timeout=0.6)
    assert not result.alive and result.status_code == 0 and result.error.startswith("timeout")


async def test_lost_requests_are_retransmitted_within_the_timeout(peer) -> None:  # type: ignore[no-untyped-def]
    target, protocol = await peer(lambda req, n: [response(req, 200, "OK")] if n == 2 else [])
    result = await probe(target, timeout=1.5)
    assert result.alive and protocol.copies == 2
    assert 450 <= (result.rtt_ms or 0) < 1200  # answered the copy sent at T1 = 0.5 s


async def test_silence_is_a_timeout_and_a_closed_port_is_unreachable(peer) -> None:  # type: ignore[no-untyped-def]
    target, _ = await peer(lambda req, n: [])
    started = asyncio.get_running_loop().time()
    silent = await probe(target, timeout=0.4)
    assert not silent.alive and silent.error == "timeout (no answer within 0.4 s)"
    assert 0.35 <= asyncio.get_running_loop().time() - started < 1.0
    closed = await probe("127.0.0.1:9", timeout=1.0)  # discard port, nothing listens: ICMP port unreachable
    assert not closed.alive and closed.error.startswith("unreachable")


def test_targets_and_request_format() -> None:
    assert parse_target("sip:carrier.example:5080;transport=udp") == ("carrier.example", 5080)
    assert parse_target("198.51.100.7") == ("198.51.100.7", 5060)
    assert parse_target("[2001:db8::1]:5062") == ("2001:db8::1", 5062)
    text = build_options("198.51.100.7", 5060, ("192.0.2.9", 40000), "z9hG4bKabc", "cid1", 1).decode()
    assert text.startswith("OPTIONS sip:198.51.100.7:5060 SIP/2.0\r\n")
    assert "Via: SIP/2.0/UDP 192.0.2.9:40000;branch=z9hG4bKabc;rport\r\n" in text
    assert "CSeq: 1 OPTIONS\r\n" in text and text.endswith("\r\n\r\n")
    assert parse_response(b"SIP/2.0 200 OK\r\ni: x\r\nv: SIP/2.0/UDP a;branch=b\r\n\r\n") == (
        200, "OK", {"call-id": "x", "via": "SIP/2.0/UDP a;branch=b"})
    assert parse_response(b"OPTIONS sip:x SIP/2.0\r\n\r\n") is None
