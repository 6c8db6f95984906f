"""Helpers for the cloud sync tests: the reference receiver on 127.0.0.1, the box's side, checks."""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from appliance.acd import CallJournal
from appliance.cloud.receiver import Faults, Receiver, Store
from appliance.settings import CloudSettings

TOKEN = "s3cret-token-for-tests"
DEVICE = "box-1"
SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "cloud-sync.schema.json").read_text())


def settings(url: str, **overrides: Any) -> CloudSettings:
    """Cloud settings with short timers, so outages and retries take a fraction of a second."""
    values: dict[str, Any] = {"url": url, "token": TOKEN, "device_id": DEVICE, "batch_max": 25,
                              "poll_ms": 30, "backoff_min_ms": 20, "backoff_max_s": 1, "snapshot_s": 0,
                              "timeout_s": 5, **overrides}
    return CloudSettings(**values)


def receiver(path: Path, port: int = 0, faults: Faults | None = None) -> Receiver:
    """A started reference receiver whose every batch is checked against the JSON Schema."""
    faults = faults or Faults()
    faults.on_batch = faults.on_batch or (lambda batch: jsonschema.validate(batch, SCHEMA))
    server = Receiver(("127.0.0.1", port), Store(path), TOKEN, faults)
    server.start()
    return server


def url_of(server: Receiver) -> str:
    """The receiver's batch endpoint."""
    return f"http://127.0.0.1:{server.server_address[1]}/v1/batches"


async def record_calls(journal: CallJournal, first: int, count: int) -> None:
    """`count` answered calls as the queue manager records them: 3 events and a final call record."""
    for n in range(first, first + count):
        call, now = f"call-{n}", datetime.now(UTC)
        journal.call_started(call, caller=f"+7900{n:07d}", trunk="carrier", queue="sales", started_at=now)
        journal.event(call, "sales", "ENTERQUEUE", "", "", f"+7900{n:07d}", 1)
        journal.event(call, "sales", "CONNECT", "anna", 2, "leg", 1500, 1)
        journal.event(call, "sales", "COMPLETECALLER", "anna", 2, 30, 1)
        journal.call_updated(call, ended_at=now, disposition="ANSWERED", talk_s=30.0)
    await journal.flush()


async def wait_for(condition: Callable[[], Any], within: float = 20.0, what: str = "condition") -> None:
    """Poll `condition` (plain or awaitable) until true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def box_rows(db: Path) -> dict[str, set[str]]:
    """What the box recorded that the cloud must get: event ids, ended call ids, incident ids."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return {
            "event": {str(r[0]) for r in conn.execute("SELECT id FROM queue_event")},
            "call": {r[0] for r in conn.execute("SELECT id FROM call_record WHERE ended_at IS NOT NULL")},
            "incident": {str(r[0]) for r in conn.execute("SELECT id FROM incident")},
        }


def assert_exactly_once(store: Store, db: Path, device: str = DEVICE) -> dict[str, int]:
    """Every record of the box is at the receiver once, and the sequence has no gap and no repeat."""
    expected = box_rows(db)
    for kind, refs in expected.items():
        got = store.query("SELECT ref, count(*) FROM record WHERE device = ? AND kind = ? GROUP BY ref",
                          (device, kind))
        assert {ref for ref, _ in got} == refs, f"{kind}: missing {refs - {r for r, _ in got}}"
        if kind != "incident":  # an incident is sent again when it changes; the others once
            assert all(count == 1 for _, count in got), f"{kind} received twice: {[g for g in got if g[1] > 1]}"
    seqs = [seq for (seq,) in store.query("SELECT seq FROM record WHERE device = ? ORDER BY seq", (device,))]
    assert seqs == list(range(1, len(seqs) + 1)), "sequence has gaps"
    (duplicates,) = store.query("SELECT COALESCE(sum(duplicates), 0) FROM batch WHERE device = ?", (device,))[0]
    return {"records": len(seqs), "duplicates_dropped": duplicates}


def outbox_empty(db: Path) -> bool:
    """No record waits in the box for the cloud."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        (waiting,) = conn.execute("SELECT (SELECT count(*) FROM sync_outbox) + (SELECT count(*) FROM sync_change)"
                                  ).fetchone()
    return bool(waiting == 0)
