"""Trunks and routing on the in-memory engine: a pump like the daemon's, scripted probes, carriers played by tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.acd import CallJournal
from appliance.config.load import apply
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.routing import RoutingService
from appliance.sip.abc import EngineEvent
from appliance.sip.fake import FakeEngine, FakeLeg
from appliance.sip.probe import ProbeResult
from appliance.storage import Database, Incident
from appliance.trunks import TrunkService

SOURCES = {"carrier-a": "192.0.2.1", "carrier-b": "192.0.2.2", "carrier-c": "192.0.2.3"}


class Probes:
    """Scripted OPTIONS results per trunk host: True (200), False (timeout) or a status code."""

    def __init__(self) -> None:
        self.answers: dict[str, bool | int] = {}
        self.sent: list[str] = []

    async def __call__(self, target: str, source: str | None, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        self.sent.append(target)
        answer = self.answers.get(target, True)
        if answer is True:
            return ProbeResult(target, True, 200, "OK", 1.0)
        if answer is False:
            return ProbeResult(target, False, error=f"timeout (no answer within {timeout:g} s)")
        return ProbeResult(target, False, int(answer), "Nope", 1.0)


class Box:
    """Trunk and routing services on a fake engine, with the daemon's one-at-a-time pump."""

    def __init__(self, tmp_path: Path) -> None:
        self.engine = FakeEngine()
        self.probes = Probes()
        self.journal = CallJournal()
        self.incidents = IncidentJournal()
        self.trunks = TrunkService(self.engine, HealthBoard(), self.incidents, probe_fn=self.probes,
                                   register_first_s=0.05, register_cap_s=0.2)
        self.routing = RoutingService(self.engine, self.trunks, self.journal, self.incidents,
                                      RecordingIndex(tmp_path / "rec", self.journal.write))
        self.queue: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self.unclaimed: list[EngineEvent] = []
        self._pump: asyncio.Task[None] | None = None

    async def start(self, doc: dict[str, Any]) -> Box:
        """Load a configuration and start the services."""
        await apply(doc)
        self.journal.start()
        await self.engine.start(self.queue.put_nowait)
        self._pump = asyncio.create_task(self._run_pump())
        await self.trunks.load()
        await self.routing.load()
        return self

    async def _run_pump(self) -> None:
        while True:
            item = await self.queue.get()
            self.trunks.observe(item)
            if not await self.routing.handle(item):
                self.unclaimed.append(item)

    async def stop(self) -> None:
        """Stop everything the box started."""
        await self.routing.stop()
        await self.trunks.stop()
        if self._pump is not None:
            self._pump.cancel()
        await self.journal.stop()

    def status(self, name: str) -> dict[str, Any]:
        """One trunk's status dict."""
        return next(s for s in self.trunks.status() if s["name"] == name)

    def out_legs(self, trunk: str | None = None) -> list[FakeLeg]:
        """Outgoing legs (of one trunk), oldest first."""
        return [leg for leg in self.engine.legs.values() if leg.direction == "out"
                and (trunk is None or leg.trunk == trunk)]

    async def until(self, check: Callable[[], Any], timeout: float = 3.0) -> Any:  # noqa: ASYNC109
        """Poll (bounded) until `check()` (or the coroutine it returns) is truthy."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("timed out")
            await asyncio.sleep(0.01)

    async def incidents_of(self, kind: str = "trunk") -> list[Incident]:
        """Incidents of a kind, oldest first."""
        return await Incident.filter(kind=kind).order_by("id")


def trunk(name: str, **fields: Any) -> dict[str, Any]:
    """An IP trunk whose carrier sends from its test address, probed fast."""
    return {"name": name, "kind": "ip", "host": SOURCES[name], "probe_interval_s": 0.5, "probe_timeout_s": 0.1,
            "down_after": 3, "up_after": 2, **fields}


def office(*trunks: dict[str, Any], **sections: Any) -> dict[str, Any]:
    """A configuration with these trunks, one operator (101) and a queue taking every number."""
    return {"trunk": list(trunks), "operator": [{"name": "Anna", "extension": "101", "seats": ["sip:101@lan"]}],
            "queue": [{"name": "support", "members": ["101"]}], "did": [{"number": "*", "queue": "support"}],
            **sections}


@pytest.fixture
async def box(tmp_path: Path, db: Database) -> AsyncIterator[Box]:
    """A box on the fake engine (start it with `await box.start(office(...))`)."""
    harness = Box(tmp_path)
    yield harness
    await harness.stop()
