"""An in-memory SIP engine for testing queue and routing logic without sockets.

It records every command and lets a test play the far ends: place an incoming call, answer or
reject a dialled leg, hang up. Events reach the sink exactly as the real engine's do.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from pathlib import Path

from appliance.errors import CapacityError, SipError
from appliance.sip.abc import (
    CallAnswered,
    CallEnded,
    CallKey,
    CallProgress,
    EngineStats,
    EventSink,
    HeadsetSignal,
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
    trunk: str | None = None  # the carrier trunk an outgoing leg went out as
    headers: tuple[tuple[str, str], ...] = ()
    caller_id: str = ""
    hangup_cause: int = 0  # the Reason we gave when hanging up


class FakeEngine:
    """A `SipEngine` whose far ends are played by the test."""

    def __init__(self, max_calls: int = 100) -> None:
        self.sink: EventSink | None = None
        self.legs: dict[CallKey, FakeLeg] = {}
        self.trunks: list[TrunkSpec] = []
        self.max_calls = max_calls
        self._keys = (f"f{n}" for n in itertools.count(1))
        self.headsets: dict[str, CallKey | None] = {}  # plugged-in headset seats -> their leg
        self.registers: list[str] = []  # trunks told to REGISTER now, in order
        self.muted: dict[str, bool] = {}

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

    async def hangup(self, key: CallKey, cause: int = 0) -> None:
        """End a leg (487 if it never answered, else 200), noting the Reason cause."""
        leg = self.legs.get(key)
        if leg is not None and leg.state != "ended":
            leg.hangup_cause = cause
            self._end(leg, 200 if leg.state == "answered" else 487, by_remote=False)

    async def dial(self, uri: str, caller_id: str = "", caller_name: str = "", *, trunk: str | None = None,
                   headers: Sequence[tuple[str, str]] = ()) -> CallKey:
        """Start an outgoing leg (as a known trunk); the test answers or rejects it."""
        if self.active() >= self.max_calls:
            raise CapacityError("engine at capacity")
        if trunk is not None and trunk not in {t.name for t in self.trunks}:
            raise SipError(f"no such trunk {trunk}")
        key = next(self._keys)
        self.legs[key] = FakeLeg(key, "out", uri, "ringing", trunk=trunk, headers=tuple(headers),
                                 caller_id=caller_id)
        return key

    async def register(self, trunk: str) -> None:
        """Note that the trunk was told to REGISTER now."""
        self.registers.append(trunk)

    async def bridge(self, a: CallKey, b: CallKey, record_to: Path | None) -> str:
        """Connect two legs."""
        leg_a, leg_b = self._leg(a), self._leg(b)
        leg_a.bridged_with, leg_b.bridged_with = b, a
        leg_a.hold_music = leg_b.hold_music = False
        leg_a.recording = leg_b.recording = record_to
        return f"bridge-{a}-{b}"

    async def handle_ip_change(self) -> None:
        """Count the network changes the engine was told of."""
        self.ip_changes = getattr(self, "ip_changes", 0) + 1

    def stats(self) -> EngineStats:
        """Counts of live legs."""
        return EngineStats(True, self.active(), self.max_calls, self.active(), 3 * self.max_calls, 0)

    # -- the far ends --------------------------------------------------------------------
    def incoming(self, caller: str, number: str, source_ip: str = "192.0.2.10", test_marker: str = "") -> CallKey:
        """A carrier sends an INVITE (carrying a self-test token, if given)."""
        key = next(self._keys)
        self.legs[key] = FakeLeg(key, "in")
        self._emit(IncomingCall(key, f"call-{key}", source_ip, 5060, f"sip:{caller}@{source_ip}", caller, "",
                                number, number, test_marker))
        return key

    def remote_progress(self, key: CallKey, status_code: int = 180) -> None:
        """The dialled side sends a provisional response (100, 180, 183)."""
        self._leg(key)
        self._emit(CallProgress(key, status_code))

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

    # -- headset seats (HeadsetEngine) ---------------------------------------------------
    async def attach_headset(self, target: str, playback: list[str], capture: list[str]) -> None:
        """The seat's headset is plugged in."""
        self.headsets[target] = None

    async def detach_headset(self, target: str) -> None:
        """The seat's headset is gone: its leg ends as lost."""
        key = self.headsets.pop(target, None)
        if key is not None and self.legs[key].state != "ended":
            self._end(self.legs[key], 503, by_remote=True, lost=True)

    async def ring_headset(self, target: str, caller_id: str = "", caller_name: str = "") -> CallKey:
        """Ring a plugged-in, idle headset."""
        if target not in self.headsets or self._headset_leg(target) is not None:
            raise SipError(f"headset {target} absent or busy")
        key = await self.dial(f"headset:{target}", caller_id, caller_name)
        self.headsets[target] = key
        self._emit(HeadsetSignal(target, "ringing"))
        return key

    async def headset_hook(self, target: str, off_hook: bool) -> None:
        """The hook switch: answer when ringing, hang up when connected."""
        leg = self._headset_leg(target)
        if leg is not None and off_hook and leg.state == "ringing":
            self.remote_answer(leg.key)
        elif leg is not None and not off_hook and leg.state == "answered":
            self.remote_end(leg.key)

    async def headset_mute(self, target: str, muted: bool) -> None:
        """Remember the mute state."""
        self.muted[target] = muted

    async def hold(self, key: CallKey) -> None:
        """Hold music to an answered leg."""
        leg = self._leg(key)
        leg.hold_music, leg.bridged_with = True, None

    def _headset_leg(self, target: str) -> FakeLeg | None:
        key = self.headsets.get(target)
        leg = self.legs.get(key) if key is not None else None
        return leg if leg is not None and leg.state != "ended" else None

    def _leg(self, key: CallKey) -> FakeLeg:
        leg = self.legs.get(key)
        if leg is None or leg.state == "ended":
            raise SipError(f"no such call {key}")
        return leg

    def _end(self, leg: FakeLeg, code: int, by_remote: bool, lost: bool = False) -> None:
        leg.state = "ended"
        self._emit(CallEnded(leg.key, code, "", by_remote, device_lost=lost))

    def _emit(self, event: object) -> None:
        if self.sink is not None:
            self.sink(event)  # type: ignore[arg-type]
