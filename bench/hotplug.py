"""Latency from a headset's uevent to its seat's state change, through real libudev/pyudev (umockdev).

    /tmp/venv/bin/python bench/hotplug.py [--cycles 20] [--settle 0.3]

Re-runs itself under `umockdev-wrapper`. Each cycle adds the Jabra testbed device and sends 'add',
waits for the seat to become present (settle time included), then sends 'remove' and waits for the
seat to be absent. The seat service, queue manager and fake engine are the product's own; only the
incident journal is a no-op (no database here). Goal: plug < 500 ms including settle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO / "tests" / "devices" / "data"
CARD = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/sound/card1"


class NoIncidents:
    """Stands in for the incident journal (it needs the database)."""

    async def open(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to record in a benchmark."""

    async def close(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to record in a benchmark."""


async def run(cycles: int, settle_s: float) -> dict[str, list[float]]:
    import gi

    gi.require_version("UMockdev", "1.0")
    from gi.repository import UMockdev

    from appliance.acd import QueueManager
    from appliance.acd.directory import Directory
    from appliance.acd.model import Operator, Seat
    from appliance.devices import HeadsetSeats, HotplugWatcher
    from appliance.sip.fake import FakeEngine

    engine = FakeEngine()
    acd = QueueManager(engine, None, None, None, lambda work: None)  # type: ignore[arg-type]
    acd.directory = Directory({}, {1: Operator(1, "anna", "101", [Seat("headset", "port:1-1", present=False)])}, {})
    pump: asyncio.Queue[Any] = asyncio.Queue()
    seats = HeadsetSeats(engine, acd, NoIncidents(), pump.put_nowait)
    changes: asyncio.Queue[tuple[bool, float]] = asyncio.Queue()
    seats.listeners.append(lambda target, present, since: changes.put_nowait((present, time.monotonic())))

    async def pump_loop() -> None:
        while True:
            await (await pump.get())()

    task = asyncio.create_task(pump_loop())
    out: dict[str, list[float]] = {"plug_ms": [], "unplug_ms": []}
    for _ in range(cycles):  # a fresh testbed each time: umockdev leaves /dev nodes behind on removal
        bed = UMockdev.Testbed.new()
        watcher = HotplugWatcher(seats.plugged, seats.unplugged, settle_s)
        watcher.start()
        assert bed.add_from_file(str(DATA / "jabra.umockdev"))
        sent = time.monotonic()
        bed.uevent(CARD, "add")
        present, at = await asyncio.wait_for(changes.get(), 5)
        assert present
        out["plug_ms"].append((at - sent) * 1000)
        await asyncio.sleep(0.05)
        sent = time.monotonic()
        bed.uevent(CARD, "remove")
        bed.remove_device(CARD)
        present, at = await asyncio.wait_for(changes.get(), 5)
        assert not present
        out["unplug_ms"].append((at - sent) * 1000)
        watcher.stop()
        del bed
        await asyncio.sleep(0.05)
    task.cancel()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--settle", type=float, default=0.3)
    args = parser.parse_args()
    if "umockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
        wrapper = shutil.which("umockdev-wrapper")
        if wrapper is None:
            sys.exit("umockdev-wrapper (Debian package umockdev) is needed")
        os.execv(wrapper, [wrapper, sys.executable, *sys.argv])
    results = asyncio.run(run(args.cycles, args.settle))
    print(f"hotplug latency over {args.cycles} cycles, settle {args.settle * 1000:.0f} ms (uevent -> seat state):")
    for name, values in results.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"  {name:10s} median {statistics.median(values):7.1f}  p95 {p95:7.1f}  max {values[-1]:7.1f}")


if __name__ == "__main__":
    main()
