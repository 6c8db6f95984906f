"""Headset seats: a seat follows its headset (by USB port or by serial), and its buttons drive the call.

Plugged in and settled: the engine opens the headset's audio, the seat becomes present, the
seat's incident (if any) is closed. Unplugged: the seat is absent at once, the engine ends the
leg on it as lost (the queue manager puts the caller back at the head of the queue), and an
incident is opened when that happened mid-call, while ringing, or in working hours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from appliance.acd.model import OperatorState
from appliance.devices.buttons import ButtonEvent, HidReader
from appliance.devices.hid import Control
from appliance.devices.identify import Headset
from appliance.errors import SipError
from appliance.sip.abc import HeadsetSignal

log = logging.getLogger(__name__)

LEDS = {"ringing": {Control.LED_RING}, "off_hook": {Control.LED_OFF_HOOK}, "idle": set[Control](),
        "muted": {Control.LED_OFF_HOOK, Control.LED_MUTE}, "unmuted": {Control.LED_OFF_HOOK}}
SeatListener = Callable[[str, bool, float], None]  # (seat target, present, monotonic time of the uevent)


class HeadsetSeats:
    """Keeps headset seats in step with the headsets plugged into the box."""

    def __init__(self, engine: Any, acd: Any, incidents: Any, post: Callable[[Callable[[], Awaitable[Any]]], None],
                 working_hours: Callable[[datetime], bool] | None = None) -> None:
        self._engine = engine
        self._acd = acd
        self._incidents = incidents
        self._post = post
        self._working_hours = working_hours or (lambda _now: False)
        self.bound: dict[str, Headset] = {}  # seat target -> headset
        self.readers: dict[str, list[HidReader]] = {}
        self.muted: dict[str, bool] = {}
        self.listeners: list[SeatListener] = []
        acd.headset_present = self.present

    def present(self, target: str) -> bool:
        """Whether the seat's headset is plugged in and its audio open."""
        return target in self.bound

    def snapshot(self) -> dict[str, Any]:
        """Headset seats with their headset (for the API and the panel)."""
        seats = [{"target": seat.target, "operator": op.name, "present": seat.target in self.bound,
                  "muted": self.muted.get(seat.target, False),
                  "headset": self.bound[seat.target].as_dict() if seat.target in self.bound else None}
                 for op in self._acd.directory.operators.values() for seat in op.seats if seat.kind == "headset"]
        return {"seats": seats}

    def targets_for(self, headset: Headset) -> list[str]:
        """The headset seats this headset serves (by port or by serial)."""
        return sorted({seat.target for op in self._acd.directory.operators.values() for seat in op.seats
                       if seat.kind == "headset" and headset.matches(seat.target)})

    # -- from the hotplug watcher (on the loop) ------------------------------------------
    def plugged(self, headset: Headset, first: float) -> None:
        """A headset settled: bind its seats through the event pump."""
        self._post(lambda: self._bind(headset, first))

    def unplugged(self, headset: Headset, at: float) -> None:
        """A headset is gone: its seats are absent now; the rest goes through the pump."""
        for target, bound in self.bound.items():
            if bound.key == headset.key:
                for op in self._acd.directory.operators.values():
                    for seat in op.seats:
                        if seat.kind == "headset" and seat.target == target:
                            seat.present = False
        self._post(lambda: self._unbind(headset, at))

    async def _bind(self, headset: Headset, first: float) -> None:
        for target in self.targets_for(headset):
            try:
                await self._engine.attach_headset(target, headset.playback_pcms, headset.capture_pcms)
            except SipError as err:
                log.error("headset seat %s: audio of %s not opened: %s", target, headset.model, err)
                continue
            self.bound[target] = headset
            self._open_buttons(target, headset)
            await self._acd.set_seat_present("headset", target, True)
            self._notify(target, True, first)
            await self._incidents.close("seat", target, f"{headset.maker.name} {headset.model} plugged in")

    async def _unbind(self, headset: Headset, at: float) -> None:
        for target in [t for t, h in self.bound.items() if h.key == headset.key]:
            del self.bound[target]
            for reader in self.readers.pop(target, []):
                reader.close()
            operator = self._acd.operator_at("headset", target)
            busy = operator is not None and operator.state in (OperatorState.RINGING, OperatorState.ON_CALL)
            await self._acd.set_seat_present("headset", target, False)
            self._notify(target, False, at)
            try:
                await self._engine.detach_headset(target)
            except SipError as err:
                log.warning("headset seat %s: detach failed: %s", target, err)
            if busy or self._working_hours(datetime.now(UTC)):
                what = "mid-call" if busy else "in working hours"
                await self._incidents.open("seat", target, f"headset {headset.model} unplugged {what}",
                                           action="caller put back at the head of the queue" if busy else "",
                                           severity="major" if busy else "minor")

    def _notify(self, target: str, present: bool, since: float) -> None:
        log.info("headset seat %s %s (%.0f ms after the uevent)", target, "present" if present else "absent",
                 (time.monotonic() - since) * 1000)
        for listener in self.listeners:
            listener(target, present, since)

    # -- buttons and LEDs ----------------------------------------------------------------
    def _open_buttons(self, target: str, headset: Headset) -> None:
        for node, layout in zip(headset.hidraw, headset.layouts, strict=True):
            try:
                reader = HidReader.open(node, layout, headset.maker.debounce_s, self._button_sink(target))
            except OSError as err:  # udev rules give us the node; without them: no buttons
                log.warning("headset seat %s: %s not readable (%s): auto-answer instead", target, node, err)
                continue
            reader.start()
            self.readers.setdefault(target, []).append(reader)

    def _button_sink(self, target: str) -> Callable[[ButtonEvent], None]:
        return lambda event: self.button(target, event)

    def attach_reader(self, target: str, reader: HidReader) -> None:
        """Use an already opened reader for a seat (tests replay reports through a socket)."""
        reader.on_event = self._button_sink(target)
        reader.start()
        self.readers.setdefault(target, []).append(reader)

    def button(self, target: str, event: ButtonEvent) -> None:
        """A debounced button change: hook answers or hangs up, a mute press toggles mute."""
        if event.control is Control.HOOK:
            self._post(lambda: self._engine.headset_hook(target, bool(event.value)))
        elif event.control is Control.MUTE and event.value:
            self.muted[target] = not self.muted.get(target, False)
            muted = self.muted[target]
            self._post(lambda: self._engine.headset_mute(target, muted))

    async def on_signal(self, signal: HeadsetSignal) -> None:
        """The engine's call state for a seat: echo it on the LEDs; auto-answer a seat without buttons."""
        if signal.state in ("idle", "ringing"):
            self.muted.pop(signal.target, None)
        for reader in self.readers.get(signal.target, []):
            reader.set_leds(LEDS.get(signal.state, set()))
        if signal.state == "ringing" and signal.target in self.bound and not self.readers.get(signal.target):
            await self._engine.headset_hook(signal.target, True)
