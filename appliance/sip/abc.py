"""The SIP engine as the rest of the appliance sees it: plain data and an async interface.

Two implementations stand side by side: `engine.PjsuaEngine` (pjsua2, tested against SIPp) and
`fake.FakeEngine` (in memory, for queue and routing logic). Nothing outside `appliance/sip/`
touches pjsua2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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
    caller_id: str = ""  # the number presented on outbound calls (From user of an IP trunk)
    codecs: tuple[str, ...] = ()  # codecs offered on outbound calls, best first; empty = engine default


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
    test_marker: str = ""  # X-Callbox-Test header: the box's own self-test call coming back


@dataclasses.dataclass(frozen=True)
class CallProgress:
    """A leg we dialled got a provisional response: 100 (first response), 180/183 (ringing, early media)."""

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
    device_lost: bool = False  # a local headset leg ended because its device was unplugged


@dataclasses.dataclass(frozen=True)
class RecordingClosed:
    """A bridge's recorders were closed: `path` names the pair of leg files (see `recording_legs`)."""

    bridge_key: str
    path: Path | None


def recording_legs(path: Path) -> tuple[Path, Path]:
    """The two mono WAVs a bridge recorded to `path` writes: the caller's leg, the operator's leg."""
    return path.with_name(f"{path.stem}.caller.wav"), path.with_name(f"{path.stem}.operator.wav")


@dataclasses.dataclass(frozen=True)
class RegistrationState:
    """A registration trunk's latest REGISTER outcome."""

    trunk: str
    status_code: int
    reason: str
    registered: bool
    expires_s: int


@dataclasses.dataclass(frozen=True)
class HeadsetSignal:
    """A headset seat's call state changed: "ringing", "off_hook", "idle" or "muted"/"unmuted" (LEDs)."""

    target: str
    state: str


EngineEvent = (IncomingCall | CallProgress | CallAnswered | CallEnded | RecordingClosed | RegistrationState
               | HeadsetSignal)
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

    async def hangup(self, key: CallKey, cause: int = 0) -> None:
        """End a leg in whatever state it is (CANCEL, BYE or a final response).

        A non-zero `cause` (a SIP status, e.g. 486) goes along in a `Reason` header (RFC 3326).
        A leg hung up before its answer and answered later anyway is sent a BYE at once.
        """

    async def dial(self, uri: str, caller_id: str = "", caller_name: str = "", *, trunk: str | None = None,
                   headers: Sequence[tuple[str, str]] = ()) -> CallKey:
        """Place a call to a SIP URI; raises CapacityError when the engine is full.

        With `trunk`, the call goes out as that carrier trunk (its registration's credentials and
        identity, its codecs); `headers` are added to the INVITE.
        """

    async def register(self, trunk: str) -> None:
        """Send a registration trunk's REGISTER now (after a failure, or when its carrier is back)."""

    async def bridge(self, a: CallKey, b: CallKey, record_to: Path | None) -> str:
        """Connect two legs (stopping hold music), recording each leg to its own file (`recording_legs`)."""

    def stats(self) -> EngineStats:
        """What the engine carries now."""


class HeadsetEngine(Protocol):
    """Local headset seats: a seat's device is attached, rung, answered by its hook switch.

    A headset leg has a `CallKey` like a SIP leg: `hangup` and `bridge` take it; it ends with
    `CallEnded` (with `device_lost` when the headset was unplugged under it).
    """

    async def attach_headset(self, target: str, playback: list[str], capture: list[str]) -> None:
        """The seat's headset is plugged in: open its audio device (first PCM name that exists)."""

    async def detach_headset(self, target: str) -> None:
        """The seat's headset is gone: its leg, if any, ends with `device_lost`."""

    async def ring_headset(self, target: str, caller_id: str = "", caller_name: str = "") -> CallKey:
        """Offer a call to a headset seat; raises SipError when it is absent or busy."""

    async def headset_hook(self, target: str, off_hook: bool) -> None:
        """The hook switch: off hook answers a ringing leg, on hook ends a connected one."""

    async def headset_mute(self, target: str, muted: bool) -> None:
        """Mute or unmute the headset's microphone."""

    async def hold(self, key: CallKey) -> None:
        """Play hold music to an answered leg that lost its partner."""


class IpChangeEngine(Protocol):
    """An engine that follows a change of the box's network path (an uplink switch)."""

    async def handle_ip_change(self) -> None:
        """Restart the listeners, re-register every trunk with the new contact, re-INVITE calls."""

    def stats(self) -> EngineStats:
        """What the engine carries now."""
