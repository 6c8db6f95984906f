"""Fixtures for the cloud sync tests: a call journal and a running sync service on the test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.acd import CallJournal
from appliance.cloud import CloudSync
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.storage import Database
from tests.cloud.harness import settings


@pytest.fixture
async def journal(db: Database) -> AsyncIterator[CallJournal]:
    """The call journal, writing to the test database."""
    calls = CallJournal()
    calls.start()
    yield calls
    await asyncio.wait_for(calls.stop(), 10)  # a taken ORM lock would hang here


@pytest.fixture
async def start_sync(db: Database, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[CloudSync]]]:
    """Start the sync service against a URL (triggers first, as the daemon does); stopped afterwards."""
    started: list[CloudSync] = []

    async def start(url: str, **overrides: Any) -> CloudSync:
        sync = CloudSync(settings(url, **overrides), tmp_path)
        await sync.prepare()
        sync.start(HealthBoard(), IncidentJournal(), lambda: {"at": "x"})
        started.append(sync)
        return sync

    yield start
    for sync in started:
        await sync.stop()
