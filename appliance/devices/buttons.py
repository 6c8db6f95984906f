"""Headset buttons from hidraw: reports read on the event loop, decoded, debounced; LEDs written back.

Headsets repeat reports: Jabra sends a duplicate ~2 s after a press, Poly ~50 ms. A change of
a control to a value it was last *accepted* at within the maker's window is a duplicate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable

from appliance.devices.hid import Control, TelephonyLayout

log = logging.getLogger(__name__)

INPUTS = (Control.HOOK, Control.MUTE, Control.FLASH)


@dataclasses.dataclass(frozen=True)
class ButtonEvent:
    """A debounced change of a headset control: hook 1 = off hook; mute/flash 1 = pressed."""

    control: Control
    value: int
    at: float


class Debouncer:
    """Turns raw control values into changes, dropping the maker's duplicate reports."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._value: dict[Control, int] = {}
        self._accepted: dict[tuple[Control, int], float] = {}

    def feed(self, values: dict[Control, int]) -> list[ButtonEvent]:
        """The accepted changes among one report's values."""
        now = self._clock()
        events = []
        for control in INPUTS:
            if control not in values:
                continue
            value = values[control]
            if value == self._value.get(control, 0):
                continue
            last = self._accepted.get((control, value))
            if last is not None and now - last < self.window_s:
                log.debug("duplicate %s=%d dropped (%.0f ms after the last)", control, value, (now - last) * 1000)
                continue  # the value stays the last accepted one
            self._value[control] = value
            self._accepted[(control, value)] = now
            events.append(ButtonEvent(control, value, now))
        return events


class HidReader:
    """Reads one hidraw node on the loop (add_reader) and hands debounced events to `on_event`."""

    def __init__(self, fd: int, layout: TelephonyLayout, window_s: float,
                 on_event: Callable[[ButtonEvent], None], name: str = "") -> None:
        self.fd = fd
        self.layout = layout
        self.debouncer = Debouncer(window_s)
        self.on_event = on_event
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def open(cls, node: str, layout: TelephonyLayout, window_s: float,
             on_event: Callable[[ButtonEvent], None]) -> HidReader:
        """Open a /dev/hidrawN node read-write (LEDs are output reports)."""
        return cls(os.open(node, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC), layout, window_s, on_event, node)

    def start(self) -> None:
        """Start reading on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        while True:
            try:
                report = os.read(self.fd, 64)
            except BlockingIOError:
                return
            except OSError as err:  # the device went away: the hotplug watcher reports it
                log.info("hidraw %s: %s", self.name, err)
                self.close()
                return
            if not report:
                self.close()
                return
            for event in self.debouncer.feed(self.layout.decode(report)):
                self.on_event(event)

    def set_leds(self, on: set[Control]) -> None:
        """Light exactly these telephony LEDs (ring, off hook, mute)."""
        for report in self.layout.encode_leds(on):
            try:
                os.write(self.fd, report)
            except OSError as err:
                log.info("hidraw %s: LED report not written: %s", self.name, err)

    def close(self) -> None:
        """Stop reading and close the node."""
        if self.fd < 0:
            return
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
        os.close(self.fd)
        self.fd = -1
