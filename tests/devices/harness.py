"""The queue harness with headset seats, shared by the seat tests here and under umockdev."""

from __future__ import annotations

import asyncio
from typing import Any

from appliance.devices.seats import HeadsetSeats
from appliance.incidents import IncidentJournal
from appliance.sip.abc import HeadsetSignal
from tests.acd.test_manager import Harness


class SeatHarness(Harness):
    """The queue harness plus headset seats; the pump routes headset signals like the daemon's."""

    def __init__(self, tmp_path: Any) -> None:
        super().__init__(tmp_path)
        self.seats = HeadsetSeats(self.engine, self.acd, IncidentJournal(), self.pump.put_nowait)

    async def settle(self) -> None:
        for _ in range(200):
            await asyncio.sleep(0)
            while not self.pump.empty():
                item = self.pump.get_nowait()
                if callable(item):
                    await item()
                elif isinstance(item, HeadsetSignal):
                    await self.seats.on_signal(item)
                else:
                    await self.acd.handle(item)
        await self.journal.flush()
