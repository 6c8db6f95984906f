"""`/healthz` as a monitor sees it, on the in-memory engine."""

from pathlib import Path

from litestar.testing import TestClient

from appliance.acd import CallJournal, QueueManager
from appliance.daemon import Services, close_interrupted_calls
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.settings import Settings
from appliance.sip.fake import FakeEngine
from appliance.storage import CallRecord, Database
from appliance.trunks import TrunkService
from web.app import create_app


def services(engine: FakeEngine) -> Services:
    health, journal = HealthBoard(), CallJournal()
    trunks = TrunkService(engine, health, IncidentJournal())
    acd = QueueManager(engine, trunks, journal, RecordingIndex(Path("/nonexistent"), journal.write), print)
    return Services(Settings(), engine, trunks, acd, health, IncidentJournal())


def test_healthz_reports_the_engine() -> None:
    engine = FakeEngine()
    with TestClient(create_app(services(engine))) as client:
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["engine"]["up"] is True
    assert body["active_calls"] == 0
    assert body["trunks"] == [] and body["operators"] == []


def test_healthz_is_503_when_the_engine_is_down() -> None:
    engine = FakeEngine()
    engine.stats = lambda: engine.__class__.stats(engine).__class__(False, 0, 1, 0, 1, 0)  # type: ignore[method-assign]
    with TestClient(create_app(services(engine))) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "engine down"


async def test_records_left_open_by_a_crash_are_closed_at_start(db: Database) -> None:
    from datetime import UTC, datetime

    await CallRecord.create(id="a", started_at=datetime.now(UTC))
    await CallRecord.create(id="b", started_at=datetime.now(UTC), ended_at=datetime.now(UTC), disposition="ANSWERED")
    assert await close_interrupted_calls() == 1
    assert (await CallRecord.get(id="a")).disposition == "INTERRUPTED"
    assert (await CallRecord.get(id="b")).disposition == "ANSWERED"
