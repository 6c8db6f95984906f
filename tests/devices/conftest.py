"""Fixtures for the headset tests: a queue with one headset seat and one SIP phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from appliance.config.load import apply
from appliance.storage import Database, Seat
from appliance.storage import Operator as OperatorRow
from tests.acd.test_manager import config
from tests.devices.harness import SeatHarness


@pytest.fixture
async def seated(db: Database, tmp_path: Any) -> AsyncIterator[SeatHarness]:
    """op101 on a headset seat bound to USB port 1-1, op102 on a SIP phone; rrmemory queue."""
    await apply(config("rrmemory", operators=2))
    anna = await OperatorRow.get(extension="101")
    await Seat.filter(operator=anna).delete()
    await Seat.create(operator=anna, kind="headset", target="port:1-1")
    harness = SeatHarness(tmp_path)
    await harness.start()
    yield harness
    for readers in harness.seats.readers.values():
        for reader in readers:
            reader.close()
    await harness.journal.stop()
