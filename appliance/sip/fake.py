"""An in-memory SIP engine for testing queue and routing logic without sockets.

It records every command and lets a test play the far ends: place an incoming call, answer or
reject a dialled leg, hang up. Events reach the sink exactly as the real engine's do.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from appliance.errors import CapacityError, SipError
from appliance.sip.abc import (
    CallAnswered,
    CallEnded,
    CallKey,
    EngineStats,
    EventSink,
    IncomingCall,
    TrunkSpec,
)


@dataclasses.dataclass
class FakeLeg:
    """One leg as the fake engine knows it."""

    key: CallKey
    direction: str  # "in" | "out"
    uri: str = ""
    state: str = "new"  # new, ringing, answered, ended
    hold_music: bool = False
    bridged_with: CallKey | None = None
    recording: Path | None = None


class FakeEngine:
    """A `SipEngine` whose far ends are played by the test."""

    def __init__(self, max_calls: int = 100) -> None:
        self.sink: EventSink | None = None
        self.legs: dict[CallKey, FakeLeg] = {}
        self.trunks: list[TrunkSpec] = []
        self.max_calls = max_calls
        self._keys = (f"f{n}" for n in itertools.count(1))

    # -- SipEngine -----------------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        """Start delivering events to `sink`."""
        self.sink = sink

    async def stop(self) -> None:
        """End every leg."""
        for leg in list(self.legs.values()):
            self._end(leg, 200, by_remote=False)

    async def set_trunks(self, trunks: list[TrunkSpec]) -> None:
        """Remember the trunks."""
        self.trunks = list(trunks)

    async def answer(self, key: CallKey, hold_music: bool = True) -> None:
        """Answer an incoming leg."""
        leg = self._leg(key)
        leg.state, leg.hold_music = "answered", hold_music
        self._emit(CallAnswered(key))

    async def ring(self, key: CallKey) -> None:
        """Send ringing."""
        self._leg(key).state = "ringing"

    async def reject(self, key: CallKey, status_code: int, reason: str = "") -> None:
        """Refuse an incoming leg."""
        self._end(self._leg(key), status_code, by_remote=False)

    async def hangup(self, key: CallKey) -> None:
        """End a leg (487 if it never answered, else 200)."""
        leg = self.legs.get(key)
        if leg is not None and leg.state != "ended":
            self._end(leg, 200 if leg.state == "answered" else 487, by_remote=False)

    async def dial(self, uri: str, caller_id: str = "", caller_name: str = "") -> CallKey:
        """Start an outgoing leg; the test answers or rejects it."""
        if self.active() >= self.max_calls:
            raise CapacityError("engine at capacity")
        key = next(self._keys)
        self.legs[key] = FakeLeg(key, "out", uri, "ringing")
        return key

    async def bridge(self, a: CallKey, b: CallKey, record_to: Path | None) -> str:
        """Connect two legs."""
        leg_a, leg_b = self._leg(a), self._leg(b)
        leg_a.bridged_with, leg_b.bridged_with = b, a
        leg_a.hold_music = leg_b.hold_music = False
        leg_a.recording = leg_b.recording = record_to
        return f"bridge-{a}-{b}"

    def stats(self) -> EngineStats:
        """Counts of live legs."""
        return EngineStats(True, self.active(), self.max_calls, self.active(), 3 * self.max_calls, 0)

    # -- the far ends --------------------------------------------------------------------
    def incoming(self, caller: str, number: str, source_ip: str = "192.0.2.10") -> CallKey:
        """A carrier sends an INVITE."""
        key = next(self._keys)
        self.legs[key] = FakeLeg(key, "in")
        self._emit(IncomingCall(key, f"call-{key}", source_ip, 5060, f"sip:{caller}@{source_ip}", caller, "",
                                number, number))
        return key

    def remote_answer(self, key: CallKey) -> None:
        """The dialled phone answers."""
        leg = self._leg(key)
        leg.state = "answered"
        self._emit(CallAnswered(key))

    def remote_end(self, key: CallKey, status_code: int = 200) -> None:
        """The far end hangs up (BYE) or rejects (e.g. 486)."""
        self._end(self._leg(key), status_code, by_remote=True)

    def active(self) -> int:
        """Legs not ended."""
        return sum(1 for leg in self.legs.values() if leg.state != "ended")

    def ringing(self) -> list[FakeLeg]:
        """Outgoing legs still ringing."""
        return [leg for leg in self.legs.values() if leg.direction == "out" and leg.state == "ringing"]

    def _leg(self, key: CallKey) -> FakeLeg:
        leg = self.legs.get(key)
        if leg is None or leg.state == "ended":
            raise SipError(f"no such call {key}")
        return leg

    def _end(self, leg: FakeLeg, code: int, by_remote: bool) -> None:
        leg.state = "ended"
        self._emit(CallEnded(leg.key, code, "", by_remote))

    def _emit(self, event: object) -> None:
        if self.sink is not None:
            self.sink(event)  # type: ignore[arg-type]
