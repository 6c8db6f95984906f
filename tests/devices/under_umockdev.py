"""Hotplug through the real libudev/pyudev, on a umockdev testbed. Runs only under `umockdev-wrapper`:
`test_hotplug.py` runs this module in a subprocess (the rest of the suite runs without LD_PRELOAD)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import gi
import pytest

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

from appliance.devices.identify import Headset  # noqa: E402
from appliance.devices.watcher import HotplugWatcher  # noqa: E402
from appliance.storage import Database, Incident  # noqa: E402
from tests.devices.harness import SeatHarness  # noqa: E402

DATA = Path(__file__).parent / "data"
USB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
SETTLE_S = 0.3

if "umockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
    pytest.fail("run under umockdev-wrapper (tests/devices/test_hotplug.py does)", pytrace=False)


class Seen:
    """What the watcher reported, with the delay from the uevent."""

    def __init__(self) -> None:
        self.plugged: list[tuple[Headset, float]] = []
        self.unplugged: list[tuple[Headset, float]] = []

    def on_plugged(self, headset: Headset, first: float) -> None:
        self.plugged.append((headset, time.monotonic()))

    def on_unplugged(self, headset: Headset, at: float) -> None:
        self.unplugged.append((headset, time.monotonic()))


@pytest.fixture
def testbed() -> Iterator[Any]:
    bed = UMockdev.Testbed.new()
    yield bed
    del bed


def plug(bed: Any, name: str) -> tuple[str, float]:
    """Add a testbed headset and announce its card (a duplicate 'add' when add_from_file sent one)."""
    assert bed.add_from_file(str(DATA / f"{name}.umockdev"))
    card = next(str(p) for p in Path(USB).glob("*/*/sound/card*") if name_of(p) == name)
    sent = time.monotonic()
    bed.uevent(card, "add")
    return card, sent


def name_of(card: Path) -> str:
    return {"1-1": "jabra", "1-2": "poly", "1-3": "generic"}[card.parts[-4]]


def unplug(bed: Any, card: str) -> float:
    """remove_device() emits nothing: send 'remove' first, as the kernel would."""
    sent = time.monotonic()
    bed.uevent(card, "remove")
    bed.remove_device(card)
    return sent


async def until(check: Any, limit_s: float = 3.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_plug_is_reported_once_after_settling_and_unplug_at_once(testbed: Any) -> None:
    seen = Seen()
    watcher = HotplugWatcher(seen.on_plugged, seen.on_unplugged, SETTLE_S)
    watcher.start()
    try:
        card, sent = plug(testbed, "jabra")
        await until(lambda: seen.plugged)
        await asyncio.sleep(SETTLE_S + 0.2)
        assert len(seen.plugged) == 1  # the duplicate 'add' was dropped
        headset, at = seen.plugged[0]
        assert SETTLE_S <= at - sent < 0.5
        assert (headset.maker.name, headset.port, headset.serial) == ("Jabra", "1-1", "70BF92A1C3D4")
        assert headset.card_id == "Evolve240" and headset.hidraw == ("/dev/hidraw0",)
        assert headset.layouts[0].has_hook and headset.matches("serial:70BF92A1C3D4")
        gone = unplug(testbed, card)
        await until(lambda: seen.unplugged)
        assert seen.unplugged[0][1] - gone < 0.1 and seen.unplugged[0][0].key == headset.key
        assert watcher.plugged == {}
    finally:
        watcher.stop()


async def test_makers_and_the_usb_audio_class_fallback(testbed: Any) -> None:
    for name in ("poly", "generic"):
        assert testbed.add_from_file(str(DATA / f"{name}.umockdev"))
    testbed.add_from_string("P: /devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0/0003:046D:C31C.0009/hidraw/hidraw9\n"
                            "N: hidraw9\nE: SUBSYSTEM=hidraw\n\n"
                            "P: /devices/pci0000:00/0000:00:14.0/usb1/1-4\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\n"
                            "E: ID_USB_INTERFACES=:030101:030000:\nA: idVendor=046d\nA: idProduct=c31c\n")
    seen = Seen()
    watcher = HotplugWatcher(seen.on_plugged, seen.on_unplugged, SETTLE_S)
    watcher.start()  # already plugged in at start-up: reported by the initial scan
    try:
        found = {h.port: h for h, _ in seen.plugged}
        assert set(found) == {"1-2", "1-3"}  # the Logitech keyboard is no headset
        assert found["1-2"].maker.name == "Poly" and found["1-2"].hidraw == ("/dev/hidraw1",)
        assert found["1-3"].maker.name == "USB Audio" and found["1-3"].hidraw == ()
        assert found["1-3"].pcm_names[0] == "plughw:CARD=Device,DEV=0"
    finally:
        watcher.stop()


@pytest.fixture
async def wired(seated: SeatHarness, testbed: Any) -> AsyncIterator[tuple[SeatHarness, HotplugWatcher]]:
    watcher = HotplugWatcher(seated.seats.plugged, seated.seats.unplugged, SETTLE_S)
    watcher.start()
    yield seated, watcher
    watcher.stop()


async def test_udev_unplug_mid_call_requeues_and_opens_an_incident(wired: Any, testbed: Any,
                                                                   db: Database) -> None:
    h, _watcher = wired
    card, _ = plug(testbed, "jabra")  # op101's seat is "port:1-1"
    await until(lambda: not h.pump.empty(), SETTLE_S + 1.0)
    await h.settle()
    assert h.seats.present("port:1-1")
    for reader in h.seats.readers.pop("port:1-1", []):  # the testbed's hidraw node replays nothing
        reader.close()
    caller = h.engine.incoming("5551", "100", "192.0.2.10")
    await h.settle()
    assert ("CONNECT", "op101") in await h.events()  # no buttons: auto-answered
    unplug(testbed, card)
    await until(lambda: not h.pump.empty())
    await h.settle()
    assert not h.seats.present("port:1-1")
    assert h.engine.legs[caller].hold_music and h.ringing_targets() == ["sip:102@192.0.2.50"]
    assert (await h.events())[-1] == ("SEATLOST", "op101")
    incident = await Incident.get(kind="seat", subject="port:1-1")
    assert "mid-call" in incident.cause and incident.ended_at is None
