"""Headset seats in the conference bridge: one pjsua2 `ExtraAudioDevice` per plugged-in headset.

`HeadsetDesk` runs on the SIP thread only. A headset has no SIP leg: ringing it is a state
(its ring LED is lit from the `HeadsetSignal` event), its hook switch answers, and from then on
the headset is a leg like any other: `MediaDesk` bridges and records it, since an
`ExtraAudioDevice` is an `AudioMedia` in the bridge. The device runs on PJSIP's ALSA backend
with its own clock; the bridge keeps its null master clock, so one slow headset never paces
the others or the network legs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pjsua2 as pj

from appliance.errors import CapacityError, SipError
from appliance.sip.abc import CallAnswered, CallEnded, CallKey, HeadsetSignal

if TYPE_CHECKING:
    from appliance.sip.engine import SipThread
    from appliance.sip.pjobjects import Call

log = logging.getLogger(__name__)


@dataclasses.dataclass(eq=False)
class HeadsetLeg:
    """A plugged-in headset and the call it rings or carries (duck-typed as a `Call` for MediaDesk)."""

    target: str
    audio: pj.ExtraAudioDevice
    key: CallKey = ""
    state: str = "idle"  # idle, ringing, connected


class HeadsetDesk:
    """Open headsets by seat target, and their legs by key."""

    def __init__(self, sip: SipThread, post: Callable[[Any], Any]) -> None:
        self.sip = sip
        self.post = post
        self.seats: dict[str, HeadsetLeg] = {}
        self.legs: dict[CallKey, HeadsetLeg] = {}

    def _device_id(self, names: list[str]) -> int:
        manager = self.sip.ep.audDevManager()
        for name in names:
            try:
                return int(manager.lookupDev("ALSA", name))
            except pj.Error:
                continue
        raise SipError(f"no ALSA device among {names}")

    def attach(self, target: str, playback: list[str], capture: list[str]) -> None:
        """Open the seat's ALSA device in the bridge (replacing a stale one)."""
        if target in self.seats:
            self.detach(target)
        if not self.sip.media.has_room(len(self.sip.calls) + len(self.seats) + 1, needed_ports=2):
            raise CapacityError("no bridge port left for a headset")
        self.sip.ep.audDevManager().refreshDevs()  # ALSA devices are enumerated once; this one is new
        device = pj.ExtraAudioDevice(self._device_id(playback), self._device_id(capture))
        device.open()
        if not device.isOpened():
            raise SipError(f"headset audio for {target} did not open")
        self.seats[target] = HeadsetLeg(target, device)
        log.info("headset %s attached (bridge port %d)", target, device.getPortId())

    def detach(self, target: str) -> None:
        """Close the seat's device; a leg on it ends as lost."""
        leg = self.seats.pop(target, None)
        if leg is None:
            return
        if leg.key:
            self._end(leg, 503, "headset unplugged", by_remote=True, lost=True)
        leg.audio.close()
        self.sip.graveyard.append(leg.audio)

    def ring(self, target: str) -> CallKey:
        """Start ringing a seat's headset; the key names the leg until it ends."""
        leg = self.seats.get(target)
        if leg is None:
            raise SipError(f"headset {target} is not plugged in")
        if leg.key:
            raise SipError(f"headset {target} is busy")
        leg.key, leg.state = self.sip.new_key(), "ringing"
        self.legs[leg.key] = leg
        self.post(HeadsetSignal(target, "ringing"))
        return leg.key

    def hook(self, target: str, off_hook: bool) -> None:
        """The hook switch moved: answer a ringing leg, end a connected one."""
        leg = self.seats.get(target)
        if leg is None or not leg.key:
            return
        if off_hook and leg.state == "ringing":
            leg.state = "connected"
            self.post(HeadsetSignal(target, "off_hook"))
            self.post(CallAnswered(leg.key))
        elif not off_hook and leg.state == "connected":
            self._end(leg, 200, "operator hung up", by_remote=True)

    def mute(self, target: str, muted: bool) -> None:
        """Silence what the headset's microphone sends into the bridge."""
        leg = self.seats.get(target)
        if leg is not None:
            leg.audio.adjustTxLevel(0.0 if muted else 1.0)  # pjsua2: Tx = port to bridge
            self.post(HeadsetSignal(target, "muted" if muted else "unmuted"))

    def owns(self, key: CallKey) -> bool:
        """Whether a key is a headset leg."""
        return key in self.legs

    def leg(self, key: CallKey) -> Call:
        """A leg for MediaDesk: a headset leg, else the SIP call."""
        return cast("Call", self.legs[key]) if key in self.legs else self.sip.call(key)

    def hangup(self, key: CallKey) -> None:
        """Stop ringing or end the call on a headset (our side hung up)."""
        leg = self.legs.get(key)
        if leg is not None:
            self._end(leg, 200 if leg.state == "connected" else 487, "", by_remote=False)

    def _end(self, leg: HeadsetLeg, code: int, reason: str, by_remote: bool, lost: bool = False) -> None:
        key = leg.key
        self._unpatch(leg)
        self.legs.pop(key, None)
        leg.key, leg.state = "", "idle"
        leg.audio.adjustTxLevel(1.0)
        self.post(HeadsetSignal(leg.target, "idle"))
        self.post(CallEnded(key, code, reason, by_remote, device_lost=lost))

    def _unpatch(self, leg: HeadsetLeg) -> None:
        """Disconnect the headset from its bridge partner and recorder (the device stays open)."""
        media = self.sip.media
        bridge_key = media.by_call.get(leg.key)
        bridge = media.bridges.get(bridge_key) if bridge_key else None
        if bridge is not None:
            other = bridge.b if bridge.a is cast("Call", leg) else bridge.a
            partner = other.audio
            for sink in [s for s in (partner, bridge.recorder) if s is not None]:
                self._quietly(leg.audio.stopTransmit, sink)
            if partner is not None:
                self._quietly(partner.stopTransmit, leg.audio)
        media.leg_gone(cast("Call", leg))

    @staticmethod
    def _quietly(fn: Callable[[Any], Any], sink: Any) -> None:
        try:
            fn(sink)
        except pj.Error as err:
            log.debug("headset port already disconnected: %s", err.reason)

    def close(self) -> None:
        """Close every headset before the library is destroyed."""
        for target in list(self.seats):
            self.detach(target)


class HeadsetCommands:
    """The `HeadsetEngine` commands of `PjsuaEngine`, run on the SIP thread through its queue."""

    def _desk(self) -> HeadsetDesk:
        sip = self._thread_obj()  # type: ignore[attr-defined]
        return cast(HeadsetDesk, sip.headsets)

    async def _on_sip(self, fn: Callable[[HeadsetDesk], Any]) -> Any:
        desk = self._desk()
        return await self._call(lambda: fn(desk))  # type: ignore[attr-defined]

    async def attach_headset(self, target: str, playback: list[str], capture: list[str]) -> None:
        """Open the seat's headset audio."""
        await self._on_sip(lambda desk: desk.attach(target, playback, capture))

    async def detach_headset(self, target: str) -> None:
        """Close the seat's headset audio; its leg ends as lost."""
        await self._on_sip(lambda desk: desk.detach(target))

    async def ring_headset(self, target: str, caller_id: str = "", caller_name: str = "") -> CallKey:
        """Ring a headset seat."""
        return cast(CallKey, await self._on_sip(lambda desk: desk.ring(target)))

    async def headset_hook(self, target: str, off_hook: bool) -> None:
        """The seat's hook switch moved."""
        await self._on_sip(lambda desk: desk.hook(target, off_hook))

    async def headset_mute(self, target: str, muted: bool) -> None:
        """Mute or unmute the seat's microphone."""
        await self._on_sip(lambda desk: desk.mute(target, muted))

    async def hold(self, key: CallKey) -> None:
        """Hold music to an answered caller whose operator vanished."""
        def start(desk: HeadsetDesk) -> None:
            call = desk.sip.call(key)
            desk.sip.media.want_music(key)
            desk.sip.media.leg_ready(call)
        await self._on_sip(start)
