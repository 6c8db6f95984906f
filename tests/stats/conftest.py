"""Fixtures for the statistics tests: the office day of `office.py` in a real database."""

from __future__ import annotations

import pytest

from appliance.storage import CallRecord, Database, Incident, Operator
from tests.stats.office import CALLS, INCIDENTS, LOG, at, write_log


@pytest.fixture
async def office(db: Database) -> Database:
    """The database holding the day above, and the operators anna, boris and carol."""
    for name, ext in (("anna", "101"), ("boris", "102"), ("carol", "103")):
        await Operator.create(name=name, extension=ext)
    await write_log(LOG)
    for call, direction, trunk, start, connected, talk in CALLS:
        await CallRecord.create(id=call, direction=direction, trunk=trunk, started_at=at(start),
                                connected_at=at(connected) if connected is not None else None,
                                ended_at=at(start + 300), talk_s=talk)
    for kind, subject, start, end in INCIDENTS:
        await Incident.create(kind=kind, subject=subject, started_at=at(start), cause="test",
                              ended_at=at(end) if end is not None else None)
    return db
