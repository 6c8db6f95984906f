"""The SIP engine as the rest of the appliance sees it: plain data and an async interface.

Two implementations stand side by side: `engine.PjsuaEngine` (pjsua2, tested against SIPp) and
`fake.FakeEngine` (in memory, for queue and routing logic). Nothing outside `appliance/sip/`
touches pjsua2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

CallKey = str  # the engine's own id for one call leg


@dataclasses.dataclass(frozen=True)
class TrunkSpec:
    """What the engine needs to know of a carrier trunk."""

    name: str
    kind: str  # "registration" | "ip"
    host: str  # host or host:port
    transport: str = "udp"
    username: str = ""
    password: str = dataclasses.field(default="", repr=False)
    realm: str = "*"
    register_expiry_s: int = 300
    retry_s: int = 30  # registration retry interval after a failure
    first_retry_s: int = 5


@dataclasses.dataclass(frozen=True)
class IncomingCall:
    """An INVITE arrived; the engine holds the leg, unanswered, until told what to do."""

    key: CallKey
    sip_call_id: str
    source_ip: str
    source_port: int
    from_uri: str
    from_user: str
    from_name: str
    request_user: str  # user part of the Request-URI
    to_user: str  # user part of the To header


@dataclasses.dataclass(frozen=True)
class CallProgress:
    """A leg we dialled got a provisional response (ringing, early media)."""

    key: CallKey
    status_code: int


@dataclasses.dataclass(frozen=True)
class CallAnswered:
    """A leg is established (200 OK sent or received, ACK done)."""

    key: CallKey


@dataclasses.dataclass(frozen=True)
class CallEnded:
    """A leg is gone. `status_code` is the final SIP code (e.g. 486, 487, 200 for a BYE)."""

    key: CallKey
    status_code: int
    reason: str
    by_remote: bool  # the far end hung up or rejected, rather than us


@dataclasses.dataclass(frozen=True)
class RecordingClosed:
    """A bridge's recorder was closed and its file is complete."""

    bridge_key: str
    path: Path | None


@dataclasses.dataclass(frozen=True)
class RegistrationState:
    """A registration trunk's latest REGISTER outcome."""

    trunk: str
    status_code: int
    reason: str
    registered: bool
    expires_s: int


EngineEvent = IncomingCall | CallProgress | CallAnswered | CallEnded | RecordingClosed | RegistrationState
EventSink = Callable[[EngineEvent], None]


@dataclasses.dataclass(frozen=True)
class EngineStats:
    """A snapshot of what the engine carries now, against its limits."""

    running: bool
    calls: int
    max_calls: int
    bridge_ports: int
    max_bridge_ports: int
    recorders: int


class SipEngine(Protocol):
    """Commands the appliance gives the SIP engine; events come back through the sink."""

    async def start(self, sink: EventSink) -> None:
        """Start the engine; events are delivered to `sink` on the event loop."""

    async def stop(self) -> None:
        """Hang up everything and shut the engine down."""

    async def set_trunks(self, trunks: list[TrunkSpec]) -> None:
        """Make the set of trunks the engine registers exactly this list."""

    async def answer(self, key: CallKey, hold_music: bool = True) -> None:
        """Answer an incoming leg; with hold music the caller hears it as soon as media flows."""

    async def ring(self, key: CallKey) -> None:
        """Send 180 Ringing on an incoming leg."""

    async def reject(self, key: CallKey, status_code: int, reason: str = "") -> None:
        """Refuse an incoming leg that was not answered."""

    async def hangup(self, key: CallKey) -> None:
        """End a leg in whatever state it is (CANCEL, BYE or a final response)."""

    async def dial(self, uri: str, caller_id: str = "", caller_name: str = "") -> CallKey:
        """Place a call to a SIP URI; raises CapacityError when the engine is full."""

    async def bridge(self, a: CallKey, b: CallKey, record_to: Path | None) -> str:
        """Connect two legs (stopping hold music), recording both directions to one file."""

    def stats(self) -> EngineStats:
        """What the engine carries now."""
