"""The store-and-forward outbox: collected from the change log, sent in batches, deleted on ack.

Sequence numbers come from `sync_outbox.seq` (AUTOINCREMENT: never reused, even after every row
is deleted), so (device, stream, seq) names a record for good and the receiver can drop repeats.
The batch in flight is written down before it is sent: after a crash the same batch, with the
same idempotency key, goes first.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from appliance.cloud import triggers
from appliance.cloud.wire import SOURCES, dumps, record_data, record_time

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Batch:
    """Records seq `first`..`last`, as JSON texts, under one idempotency key."""

    key: str
    first: int
    last: int
    records: list[str]


def _stored(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(UTC).isoformat(sep=" ")


class Outbox:
    """The outbox tables, used from the event loop through the ORM's connection."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.stream = ""

    async def prepare(self, enabled: bool) -> None:
        """Install the triggers (or drop them when sync is off); a new stream starts with a backfill."""
        async with in_transaction() as conn:
            if not enabled:
                await triggers.remove(conn)
                return
            await triggers.install(conn)
            _, rows = await conn.execute_query("SELECT stream FROM sync_state WHERE id = 1")
            if rows:
                self.stream = rows[0][0]
                return
            self.stream = str(uuid.uuid4())
            await conn.execute_query("INSERT INTO sync_state (id, stream, inflight_key, acked_seq, last_error)"
                                     " VALUES (1, ?, '', 0, '')", [self.stream])
            for statement in triggers.BACKFILL:
                await conn.execute_query(statement)
        log.info("cloud sync: new stream %s, existing records queued", self.stream)

    async def collect(self, chunk: int = 500) -> tuple[int, bool]:
        """Move up to `chunk` noted changes into the outbox; returns (records added, blocked by a full outbox)."""
        async with in_transaction() as conn:
            _, used = await conn.execute_query("SELECT count(*) FROM sync_outbox")
            room = min(chunk, self.capacity - used[0][0])
            if room <= 0:
                _, waiting = await conn.execute_query("SELECT EXISTS (SELECT 1 FROM sync_change)")
                return 0, bool(waiting[0][0])
            _, changes = await conn.execute_query(
                "SELECT id, kind, ref FROM sync_change ORDER BY id LIMIT ?", [room])
            if not changes:
                return 0, False
            rows = await self._sources(conn, changes)
            latest = {(kind, ref): n for n, (_id, kind, ref) in enumerate(changes)}  # one record per row
            values = []
            for (kind, ref), _n in sorted(latest.items(), key=lambda item: item[1]):
                row = rows.get((kind, ref))
                if row is None:
                    log.warning("cloud sync: %s %s vanished before it was collected", kind, ref)
                    continue
                data = record_data(kind, row)
                values.append([kind, ref, _stored(record_time(kind, data)), dumps(data)])
            await conn.execute_many("INSERT INTO sync_outbox (kind, ref, at, payload) VALUES (?, ?, ?, ?)",
                                    values)
            await conn.execute_query("DELETE FROM sync_change WHERE id <= ?", [changes[-1][0]])
        return len(values), False

    @staticmethod
    async def _sources(conn: BaseDBAsyncClient, changes: Sequence[Any]) -> dict[tuple[str, str], Any]:
        found: dict[tuple[str, str], Any] = {}
        for kind, (table, columns) in SOURCES.items():
            refs = list({ref for _id, k, ref in changes if k == kind})
            if not refs:
                continue
            marks = ",".join("?" * len(refs))
            _, rows = await conn.execute_query(
                f"SELECT {', '.join(columns)} FROM {table} WHERE id IN ({marks})", refs)  # noqa: S608
            found.update({(kind, str(row[0])): tuple(row) for row in rows})
        return found

    async def add(self, kind: str, ref: str, at: datetime, data: dict[str, Any]) -> bool:
        """Add a record made by the sync itself (a snapshot); False when the outbox is full."""
        async with in_transaction() as conn:
            _, used = await conn.execute_query("SELECT count(*) FROM sync_outbox")
            if used[0][0] >= self.capacity:
                return False
            await conn.execute_query("INSERT INTO sync_outbox (kind, ref, at, payload) VALUES (?, ?, ?, ?)",
                                     [kind, ref, at.astimezone(UTC).isoformat(sep=" "), dumps(data)])
        return True

    async def next_batch(self, max_records: int, max_bytes: int) -> Batch | None:
        """The batch in flight if there is one, else the oldest records, written down as in flight."""
        conn = get_connection("default")
        _, state = await conn.execute_query(
            "SELECT inflight_first, inflight_last, inflight_key FROM sync_state WHERE id = 1")
        if state and state[0][0] is not None:
            first, last, key = state[0]
            rows = await self._records(conn, "seq BETWEEN ? AND ?", [first, last])
            if rows:
                return Batch(key, first, last, rows)
        _, found = await conn.execute_query(
            "SELECT seq, kind, ref, at, payload FROM sync_outbox ORDER BY seq LIMIT ?", [max_records])
        if not found:
            return None
        records: list[str] = []
        size = 0
        for row in found:
            text = self._record(row)
            if records and size + len(text) > max_bytes:
                break
            records.append(text)
            size += len(text)
        first, last = found[0][0], found[len(records) - 1][0]
        key = f"{self.stream}:{first}-{last}"
        await conn.execute_query("UPDATE sync_state SET inflight_first = ?, inflight_last = ?, inflight_key = ?"
                                 " WHERE id = 1", [first, last, key])
        return Batch(key, first, last, records)

    async def _records(self, conn: BaseDBAsyncClient, where: str, values: list[Any]) -> list[str]:
        _, rows = await conn.execute_query(
            f"SELECT seq, kind, ref, at, payload FROM sync_outbox WHERE {where} ORDER BY seq", values)  # noqa: S608
        return [self._record(row) for row in rows]

    @staticmethod
    def _record(row: Any) -> str:
        seq, kind, ref, at, payload = row
        at_text = datetime.fromisoformat(at).astimezone(UTC).isoformat()
        return f'{{"seq":{seq},"kind":{dumps(kind)},"ref":{dumps(ref)},"at":{dumps(at_text)},"data":{payload}}}'

    async def acknowledge(self, batch: Batch) -> None:
        """The cloud has the batch: delete its records and clear the flight."""
        async with in_transaction() as conn:
            await conn.execute_query("DELETE FROM sync_outbox WHERE seq <= ?", [batch.last])
            await conn.execute_query(
                "UPDATE sync_state SET inflight_first = NULL, inflight_last = NULL, inflight_key = '',"
                " acked_seq = ?, last_success_at = ?, last_error = '' WHERE id = 1",
                [batch.last, datetime.now(UTC).isoformat(sep=" ")])

    async def forget_flight(self) -> None:
        """Let the next batch be formed afresh (after the cloud found this one too large)."""
        await get_connection("default").execute_query(
            "UPDATE sync_state SET inflight_first = NULL, inflight_last = NULL, inflight_key = '' WHERE id = 1")

    async def note_error(self, error: str) -> None:
        """Keep the last delivery error for the panel."""
        await get_connection("default").execute_query(
            "UPDATE sync_state SET last_error = ? WHERE id = 1", [error[:255]])

    async def state(self) -> dict[str, Any]:
        """Backlog and last success, for the API, the panel and /metrics."""
        conn = get_connection("default")
        _, out = await conn.execute_query("SELECT count(*), min(at) FROM sync_outbox")
        _, pending = await conn.execute_query("SELECT count(*) FROM sync_change")
        _, state = await conn.execute_query("SELECT acked_seq, last_success_at, last_error FROM sync_state"
                                            " WHERE id = 1")
        acked, success, error = state[0] if state else (0, None, "")
        return {"outbox": out[0][0], "pending_changes": pending[0][0], "backlog": out[0][0] + pending[0][0],
                "oldest_waiting_at": out[0][1] and datetime.fromisoformat(out[0][1]).isoformat(),
                "acked_seq": acked, "last_success_at": success and datetime.fromisoformat(success).isoformat(),
                "last_error": error}
