"""USB headsets: hotplug (the only package importing pyudev), identification, buttons, seats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from appliance.devices.identify import Headset
from appliance.devices.seats import HeadsetSeats
from appliance.devices.watcher import HotplugWatcher

__all__ = ["Headset", "HeadsetSeats", "HotplugWatcher", "start_headsets"]


def start_headsets(engine: Any, acd: Any, incidents: Any, post: Callable[[Callable[[], Awaitable[Any]]], None],
                   settle_s: float = 0.3) -> tuple[HotplugWatcher, HeadsetSeats]:
    """Bind headset seats to udev: seats follow plugged-in headsets from now on (call on the loop)."""
    seats = HeadsetSeats(engine, acd, incidents, post)
    watcher = HotplugWatcher(seats.plugged, seats.unplugged, settle_s)
    watcher.start()
    return watcher, seats
