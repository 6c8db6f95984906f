"""Carrier and operator peers (SIPp) around a real box, and its API, for the failover tests and benchmarks."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.box import Box
from tests.support.sipp import STOCK_PCAP, SipMessage, Sipp, SippResult, free_udp_port

ANSWER: dict[str, object] = {"ring_ms": 100, "pt": 8, "codec": "PCMA"}
DEFAULT_KEYS: dict[str, dict[str, object]] = {
    "carrier_uas.xml": ANSWER,
    "carrier_late_answer.xml": {"late_ms": 2600, "pt": 8, "codec": "PCMA"},
    "carrier_reject.xml": {"code": 503},
    "carrier_silent.xml": {"silence_ms": 60000},
}


def free_tcp_port() -> int:
    """A port free for TCP on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpSafeBox(Box):
    """A `Box` whose HTTP port is free for TCP too (`Box` picks ports free for UDP only, and on a shared
    machine the daemon then fails to start now and then with "address already in use")."""

    def __init__(self, workdir: Path, config: str, **settings: object) -> None:
        super().__init__(workdir, config, **settings)
        self.http_port = free_tcp_port()
        self.env["CALLBOX_HTTP_PORT"] = str(self.http_port)


@contextlib.contextmanager
def boxes(root: Path, **defaults: object) -> Iterator[Callable[..., Box]]:
    """Start boxes with a configuration; every one is stopped (and must stop cleanly) at the end."""
    started: list[Box] = []

    def make(config: str, **settings: object) -> Box:
        box = TcpSafeBox(root / f"box{len(started)}", config, **{**defaults, **settings})
        box.workdir.mkdir(parents=True)
        started.append(box)
        return box.start(timeout=60)

    try:
        yield make
    finally:
        codes = [(box.stop(), box) for box in started]
    for code, box in codes:
        assert code == 0, box.tail()


def carrier(scenario: str, ip: str, port: int | None = None, **keys: object) -> Sipp:
    """A carrier on `ip` (probes are SIPp calls too: many calls allowed, bounded by a timeout)."""
    defaults = DEFAULT_KEYS.get(scenario, {})
    return Sipp(scenario, ip=ip, local_port=port, keys={**defaults, **keys}, calls=100000, timeout=300)


def operator(calls: int = 1, hangup_ms: int = 1500, ring_ms: int = 200) -> Sipp:
    """An operator's phone on 127.0.0.1 that answers and hangs up after `hangup_ms`."""
    return Sipp("operator_answer.xml", ip="127.0.0.1", calls=calls, timeout=300,
                keys={"rtp_port": free_udp_port(), "ring_ms": ring_ms, "hangup_ms": hangup_ms, "play": 0,
                      "pcap": STOCK_PCAP, "codec": "PCMA", "pt": 8})


def ip_trunk(name: str, peer: Sipp, **fields: object) -> str:
    """TOML of an IP trunk to a SIPp carrier."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items())
    return f'[[trunk]]\nname = "{name}"\nkind = "ip"\nhost = "{peer.address}"\n{extra}'


def route(name: str, trunks: list[str], **fields: object) -> str:
    """TOML of an outbound route through `trunks` in order."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items())
    return f'[[route]]\nname = "{name}"\ntrunks = {json.dumps(trunks)}\n{extra}'


def office(op: Sipp) -> str:
    """TOML of operator 101 at the SIPp phone and a queue for inbound calls."""
    return (f'[[operator]]\nname = "Anna"\nextension = "101"\nseats = ["sip:101@{op.address}"]\n'
            '[[queue]]\nname = "support"\nmembers = ["101"]\n[[did]]\nnumber = "*"\nqueue = "support"\n')


class Api:
    """The box's /api/v1 with an admin token written straight into its database."""

    def __init__(self, box: Box, role: str = "admin") -> None:
        self.box = box
        secret = "cbx_" + secrets.token_urlsafe(32)
        con = sqlite3.connect(box.data / "callbox.sqlite3", timeout=10)
        try:
            con.execute("INSERT INTO api_token (name, token_hash, prefix, role, created_by, created_at) "
                        "VALUES (?, ?, ?, ?, 'tests', ?)", (f"tests-{role}-{secret[4:10]}",
                                                           hashlib.sha256(secret.encode()).hexdigest(), secret[:10],
                                                           role, datetime.now(UTC).isoformat()))
            con.commit()
        finally:
            con.close()
        self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """One request; (status, JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.box.http_port}{path}", data=data,
                                         headers=self.headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def get(self, path: str) -> Any:
        """GET that must succeed."""
        status, body = self.call("GET", path)
        assert status == 200, (status, body)
        return body

    def place(self, number: str, extension: str = "101") -> str:
        """Start an outbound call; its id."""
        status, body = self.call("POST", "/api/v1/calls", {"from_operator": extension, "number": number})
        assert status == 201, (status, body)
        return str(body["id"])

    def ended(self, call_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait (bounded) for an outbound call to end; its view."""
        return self.box.wait_for(lambda: (v := self.get(f"/api/v1/calls/{call_id}"))["state"] == "ended" and v,
                                 timeout, f"outbound call {call_id} to end")

    def trunk(self, name: str) -> dict[str, Any]:
        """One trunk's live state and statistics."""
        return next(t for t in self.get("/api/v1/trunks") if t["name"] == name)


def invites(result: SippResult) -> list[SipMessage]:
    """The distinct INVITEs a carrier received (retransmissions dropped), in order."""
    seen: set[str] = set()
    out = []
    for message in result.received:
        call_id = message.header("Call-ID") or ""
        if message.method == "INVITE" and message.status is None and call_id not in seen:
            seen.add(call_id)
            out.append(message)
    return out


def sent_codes(result: SippResult, call_id: str) -> list[int]:
    """Status codes a carrier sent for one call (retransmissions included)."""
    return [m.status for m in result.sent if m.status is not None and m.header("Call-ID") == call_id]


def at(message: SipMessage) -> float:
    """A SIPp trace timestamp as epoch seconds."""
    return datetime.fromisoformat(message.timestamp).timestamp()  # SIPp writes local time


def settle(seconds: float) -> None:
    """Let the box work for a while (a bounded wait where there is nothing to poll)."""
    time.sleep(seconds)
