"""The pieces of cloud sync on their own: backoff, settings, triggers, backfill, the snapshot's shape."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from tortoise.connection import get_connection

from appliance.cloud import CloudSync
from appliance.cloud.outbox import Outbox
from appliance.cloud.sender import Backoff
from appliance.cloud.triggers import TRIGGERS, installed
from appliance.errors import ConfigError
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.settings import CloudSettings, Settings
from appliance.stats.live import snapshot
from appliance.storage import CallRecord, Database, Incident, QueueEvent
from tests.cloud.harness import SCHEMA
from tests.stats.office import fake_services


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(1.0, 8.0, random.Random(7))
    delays = [backoff.next() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert backoff.next(at_least=30) == 8  # Retry-After honoured, within the cap
    assert backoff.next(at_least=5) >= 5
    backoff.reset()
    assert backoff.next() <= 1


def test_cloud_settings_are_checked_and_the_token_stays_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="https"):
        CloudSettings(url="http://cloud.example/v1", token="t").validate()
    with pytest.raises(ConfigError, match="token"):
        CloudSettings(url="https://cloud.example/v1").validate()
    CloudSettings(url="http://127.0.0.1:9/v1", token="t").validate()
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    env = {"CALLBOX_CLOUD_URL": "https://cloud.example/v1", "CALLBOX_CLOUD_TOKEN_FILE": str(token_file),
           "CALLBOX_CLOUD_BATCH_MAX": "50"}
    cloud = Settings.load(env=env).cloud
    assert (cloud.bearer(), cloud.batch_max) == ("from-a-file", 50)
    secret = CloudSettings(url="https://cloud.example/v1", token="very-secret")
    assert "very-secret" not in repr(secret) and "very-secret" not in repr(Settings(cloud=secret))


async def test_triggers_follow_the_setting_and_come_back(db: Database) -> None:
    outbox = Outbox(100)
    await outbox.prepare(enabled=True)
    conn = get_connection("default")
    assert await installed(conn) == set(TRIGGERS)
    stream = outbox.stream
    # A migration that rebuilds a table drops its triggers; the next start puts them back.
    await conn.execute_query("DROP TRIGGER sync_call_ended")
    again = Outbox(100)
    await again.prepare(enabled=True)
    assert await installed(conn) == set(TRIGGERS) and again.stream == stream
    await Outbox(100).prepare(enabled=False)
    assert await installed(conn) == set()


async def test_a_new_stream_starts_with_what_is_already_there(db: Database) -> None:
    now = datetime.now(UTC)
    await QueueEvent.create(ts=now, call_id="a", queue="q", event="ENTERQUEUE")
    await CallRecord.create(id="a", started_at=now, ended_at=now)
    await CallRecord.create(id="b", started_at=now)  # still going on: sent when it ends
    await Incident.create(kind="disk", subject="/", started_at=now, cause="full")
    outbox = Outbox(100)
    await outbox.prepare(enabled=True)
    assert await outbox.collect() == (3, False)
    _, rows = await get_connection("default").execute_query("SELECT kind, ref FROM sync_outbox ORDER BY seq")
    assert [tuple(r) for r in rows] == [("event", "1"), ("call", "a"), ("incident", "1")]
    await CallRecord.filter(id="b").update(ended_at=now, disposition="ANSWERED")
    await CallRecord.filter(id="b").update(talk_s=3.0)  # a later touch does not send it twice
    assert await outbox.collect() == (1, False)


async def test_incident_changes_are_collected_once_per_pass(db: Database) -> None:
    outbox = Outbox(100)
    await outbox.prepare(enabled=True)
    incident = await Incident.create(kind="disk", subject="/", started_at=datetime.now(UTC), cause="full")
    incident.action = "oldest recordings removed"
    await incident.save()
    # Two changes, one record: the row as it is now.
    assert await outbox.collect() == (1, False)
    _, rows = await get_connection("default").execute_query("SELECT payload FROM sync_outbox")
    assert '"action":"oldest recordings removed"' in rows[0][0]


async def test_snapshot_matches_the_wire_schema(db: Database) -> None:
    data = snapshot(fake_services(db))
    jsonschema.validate(data, {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": "#/$defs/snapshot"})


async def test_an_unreadable_token_file_is_an_incident_not_a_dead_box(db: Database, tmp_path: Path) -> None:
    settings = CloudSettings(url="https://cloud.example/v1", token_file=tmp_path / "missing", device_id="b")
    settings.validate()  # configured: the file is read when the service starts
    sync = CloudSync(settings, tmp_path)
    await sync.prepare()
    sync.start(HealthBoard(), IncidentJournal())
    await sync.stop()
    incident = await Incident.filter(kind="cloud", subject="settings").first()
    assert incident is not None and "cannot read cloud.token_file" in incident.cause
    assert "cannot read" in (await sync.status())["problem"]
