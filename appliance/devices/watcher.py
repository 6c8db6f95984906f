"""The hotplug watcher: udev events for USB sound cards and hidraw nodes, turned into headsets.

The pyudev monitor's socket is read on the event loop (`loop.add_reader`), so no thread is
involved. A USB device is reported plugged once its sound card has been seen and nothing new
arrived for `settle_s` (the hidraw node and the card come in either order); it is reported
unplugged at the first removal of its card, from the remembered sysfs path (sysfs is already
gone by then). Duplicate 'add' events are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pyudev

from appliance.devices.hid import parse_descriptor
from appliance.devices.identify import Headset, identify

log = logging.getLogger(__name__)


class HotplugWatcher:
    """Reports headsets plugged in (after settling) and unplugged (at once)."""

    def __init__(self, on_plugged: Callable[[Headset, float], None], on_unplugged: Callable[[Headset, float], None],
                 settle_s: float = 0.3) -> None:
        self.on_plugged = on_plugged  # (headset, monotonic time of its first uevent)
        self.on_unplugged = on_unplugged
        self.settle_s = settle_s
        self.plugged: dict[str, Headset] = {}
        self._pending: dict[str, tuple[float, asyncio.TimerHandle]] = {}
        self._context: Any = None
        self._monitor: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Listen to udev and report the headsets already plugged in."""
        self._loop = asyncio.get_running_loop()
        self._context = pyudev.Context()
        self._monitor = pyudev.Monitor.from_netlink(self._context)
        self._monitor.filter_by("sound")
        self._monitor.filter_by("hidraw")
        self._monitor.start()
        self._loop.add_reader(self._monitor.fileno(), self._readable)
        for card in self._context.list_devices(subsystem="sound"):
            self._settled(card.sys_path, time.monotonic(), card)

    def stop(self) -> None:
        """Stop listening."""
        if self._loop is not None and self._monitor is not None:
            self._loop.remove_reader(self._monitor.fileno())
        for _, timer in self._pending.values():
            timer.cancel()
        self._pending.clear()
        self._monitor = None

    def _readable(self) -> None:
        while self._monitor is not None:
            device = self._monitor.poll(timeout=0)
            if device is None:
                return
            try:
                self._event(str(device.action), device)
            except Exception:
                log.exception("uevent %s %s not handled", device.action, device.sys_path)

    def _event(self, action: str, device: Any) -> None:
        now = time.monotonic()
        if action == "remove":
            self._removed(str(device.sys_path), device, now)
            return
        if action not in ("add", "change", "bind"):
            return
        usb = device.find_parent("usb", "usb_device")
        if usb is None:
            return
        key = str(usb.sys_path)
        if key in self.plugged and device.subsystem == "sound":
            return  # a duplicate 'add' (umockdev's add_device emits one, udev may resend)
        first, timer = self._pending.get(key, (now, None))
        if timer is not None:
            timer.cancel()
        assert self._loop is not None
        handle = self._loop.call_later(self.settle_s, self._settle_timer, key, first)
        self._pending[key] = (first, handle)

    def _settle_timer(self, key: str, first: float) -> None:
        self._pending.pop(key, None)
        card = next((d for d in self._context.list_devices(subsystem="sound")
                     if str(d.sys_path).startswith(key + "/") and d.sys_name.startswith("card")), None)
        if card is not None:
            self._settled(key, first, card)

    def _settled(self, key: str, first: float, card: Any) -> None:
        headset = identify(card)
        if headset is None or headset.key in self.plugged:
            return
        headset = self._with_buttons(headset)
        self.plugged[headset.key] = headset
        log.info("headset plugged: %s %s (%s:%s) serial %r in port %s, card %s, buttons %s", headset.maker.name,
                 headset.model, headset.vendor_id, headset.product_id, headset.serial, headset.port,
                 headset.card_id, list(headset.hidraw))
        self.on_plugged(headset, first)

    def _with_buttons(self, headset: Headset) -> Headset:
        nodes, layouts = [], []
        for hidraw in self._context.list_devices(subsystem="hidraw"):
            if not str(hidraw.sys_path).startswith(headset.key + "/") or not hidraw.device_node:
                continue
            hid = hidraw.find_parent("hid")
            layout = parse_descriptor(_report_descriptor(hid) if hid is not None else b"")
            if layout.has_hook:
                nodes.append(str(hidraw.device_node))
                layouts.append(layout)
        return Headset(**{**headset.__dict__, "hidraw": tuple(nodes), "layouts": tuple(layouts)})

    def _removed(self, path: str, device: Any, now: float) -> None:
        for key in list(self._pending):
            if path == key or path.startswith(key + "/"):
                self._pending.pop(key)[1].cancel()
        for key, headset in list(self.plugged.items()):
            if path == key or (path.startswith(key + "/") and device.subsystem == "sound"):
                del self.plugged[key]
                log.info("headset unplugged: %s in port %s", headset.model, headset.port)
                self.on_unplugged(headset, now)


def _report_descriptor(hid: Any) -> bytes:
    """The binary sysfs attribute, read as a file (libudev's attribute API stops at the first NUL)."""
    try:
        with open(f"{hid.sys_path}/report_descriptor", "rb") as f:
            return f.read()
    except OSError:
        return b""
