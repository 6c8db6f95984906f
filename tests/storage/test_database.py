"""Tests for the SQLite database: schema, pragmas, migrations and every model."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, get
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError

from appliance.storage import (
    CallRecord,
    Database,
    Did,
    Incident,
    Operator,
    Queue,
    QueueEvent,
    QueueMember,
    Recording,
    Seat,
    Trunk,
)
from appliance.storage import database as database_module

TABLES = {
    "call_record",
    "did",
    "incident",
    "operator",
    "queue",
    "queue_event",
    "queue_member",
    "recording",
    "seat",
    "trunk",
}
MIGRATIONS_DIR = Path(database_module.__file__).parent / "migrations"



async def _pragma(name: str) -> object:
    _, rows = await get_connection("default").execute_query(f"PRAGMA {name}")
    return rows[0][0]


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def test_schema_comments_have_no_semicolons() -> None:
    # Docstrings become table comments, and tortoise splits SQLite DDL on ';'.
    models = (CallRecord, Did, Incident, Operator, Queue, QueueEvent, QueueMember, Recording, Seat, Trunk)
    for model in models:
        comments = [model._meta.table_description]
        comments += [field.description or "" for field in model._meta.fields_map.values()]
        assert not [text for text in comments if ";" in text], model.__name__


async def test_open_creates_parent_dir_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "callbox.db"
    db = Database(path)
    await db.open()
    await db.close()
    assert TABLES | {"tortoise_migrations"} <= _tables(path)


async def test_connection_pragmas(db: Database) -> None:
    assert await _pragma("journal_mode") == "wal"
    assert await _pragma("synchronous") == 1  # NORMAL
    assert await _pragma("foreign_keys") == 1


async def test_reopen_keeps_data_and_applies_nothing(db: Database) -> None:
    await Trunk.create(name="carrier-a", kind="ip", host="198.51.100.7")
    await db.close()
    again = Database(db.path)
    await again.open()
    try:
        assert await Trunk.filter(name="carrier-a").count() == 1
        _, applied = await get_connection("default").execute_query("SELECT name FROM tortoise_migrations")
        assert [row["name"] for row in applied] == sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py"))
    finally:
        await again.close()


async def test_open_twice_is_refused(db: Database) -> None:
    with pytest.raises(RuntimeError, match="already open"):
        await db.open()


async def test_config_models(db: Database) -> None:
    trunk = await Trunk.create(name="carrier-a", kind="registration", host="sip.example.net")
    queue = await Queue.create(name="sales")
    await Did.create(number="+4930123", trunk=trunk, queue=queue)
    await Did.create(number="+4930999", trunk=None, queue=queue)
    operator = await Operator.create(name="Ann", extension="101")
    await Seat.create(operator=operator, kind="sip_uri", target="sip:101@127.0.0.1:5070")
    await QueueMember.create(queue=queue, operator=operator, penalty=1)

    fetched = await Trunk.get(name="carrier-a").prefetch_related("dids")
    assert (fetched.transport, fetched.realm, fetched.register_expiry_s) == ("udp", "*", 300)
    assert fetched.created_at.tzinfo is not None
    assert fetched.created_at.utcoffset() == UTC.utcoffset(None)
    assert [d.number for d in fetched.dids] == ["+4930123"]
    assert await Did.filter(trunk=None).values_list("number", flat=True) == ["+4930999"]
    assert (queue.strategy, queue.ring_timeout_s, queue.max_wait_s) == ("ringall", 15, 0)
    member = await QueueMember.get(queue=queue).select_related("operator")
    assert member.operator.extension == "101"
    assert await Seat.filter(operator__extension="101", enabled=True).count() == 1
    with pytest.raises(IntegrityError):
        await QueueMember.create(queue=queue, operator=operator)


async def test_call_models(db: Database) -> None:
    started = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    call = await CallRecord.create(
        id="0b6f1c9e-3f4a-4a53-9b8e-5d2a0c1f7e21", caller="+4917000", started_at=started
    )
    await Recording.create(call=call, path="rec/0b6f.wav", size_bytes=3_000_000_000)
    await QueueEvent.create(ts=started, call_id=call.id, queue="sales", event="ENTERQUEUE")
    await Incident.create(kind="trunk", subject="carrier-a", started_at=started, cause="408")

    fetched = await CallRecord.get(id=call.id).prefetch_related("recordings")
    assert fetched.started_at == started
    assert (fetched.direction, fetched.answered_at, fetched.talk_s) == ("in", None, None)
    recording = fetched.recordings[0]
    assert (recording.format, recording.duration_s, recording.size_bytes) == ("wav", 0, 3_000_000_000)
    event = await QueueEvent.get(call_id=call.id)
    assert event.id >= 1
    assert event.data5 == ""
    incident = await Incident.get(kind="trunk", subject="carrier-a", ended_at=None)
    assert (incident.state, incident.severity, incident.action) == ("open", "major", "")


async def test_foreign_key_violation_raises(db: Database) -> None:
    with pytest.raises(IntegrityError):
        await Seat.create(operator_id=999, kind="phone", target="sip:102@192.0.2.10")


async def test_delete_cascades(db: Database) -> None:
    queue = await Queue.create(name="support")
    operator = await Operator.create(name="Bob", extension="102")
    await QueueMember.create(queue=queue, operator=operator)
    await Did.create(number="+4930555", queue=queue)
    await queue.delete()
    assert await Did.all().count() == 0
    assert await QueueMember.all().count() == 0


async def test_table_rebuild_migration_keeps_referencing_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "callbox.db")
    await db.open()
    queue = await Queue.create(name="sales")
    await Did.create(number="+4930123", queue=queue)
    await db.close()

    package = tmp_path / "callbox_rebuild_migrations"
    shutil.copytree(MIGRATIONS_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    # Widening a column makes SQLite copy the table and drop the old one.
    latest = sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py"))[-1]
    (package / "0999_widen_music_file.py").write_text(
        "from tortoise import fields, migrations\n"
        "from tortoise.migrations import operations as ops\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('models', '{latest}')]\n"
        "    operations = [ops.AlterField(model_name='Queue', name='music_file',\n"
        "        field=fields.CharField(default='', max_length=1024))]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(database_module, "_MIGRATIONS_MODULE", package.name)

    await db.open()
    try:
        assert await Did.filter(queue__name="sales").count() == 1
    finally:
        await db.close()


@asynccontextmanager
async def _serving(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app`` as uvicorn does: lifespan in a task of its own, requests in others.

    litestar's AsyncTestClient would run the app on another event loop in a portal thread.
    """
    to_app: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    lifespan = asyncio.create_task(app(scope, to_app.get, from_app.put))  # type: ignore[arg-type]
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://box") as client:
            yield client
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        assert (await from_app.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def test_handlers_see_models_when_lifespan_opened_the_db(tmp_path: Path) -> None:
    db = Database(tmp_path / "callbox.db")

    @get("/trunks")
    async def trunk_names() -> list[str]:
        await Trunk.get_or_create(name="carrier-a", defaults={"kind": "ip", "host": "198.51.100.7"})
        return list(await Trunk.all().values_list("name", flat=True))

    app = Litestar([trunk_names], on_startup=[db.open], on_shutdown=[db.close])
    async with _serving(app) as client:
        response = await client.get("/trunks")
    assert response.status_code == 200, response.text
    assert response.json() == ["carrier-a"]
