"""Shared fixtures: each builds on the one before (settings → db → services → client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.storage import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated database in the test's own directory, closed afterwards."""
    database = Database(tmp_path / "data" / "callbox.db")
    await database.open()
    yield database
    await database.close()
