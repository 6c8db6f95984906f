"""Queue events (queue_log style) and call records, written in order by one writer task.

The queue manager never waits for the disk: it hands each write to this journal, which
commits them in batches, one transaction per batch, in the order they were made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from appliance.storage import CallRecord, QueueEvent

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[Any]]


class CallJournal:
    """Ordered, batched writes of queue events and call records."""

    def __init__(self, batch: int = 200) -> None:
        self._pending: asyncio.Queue[Write | None] = asyncio.Queue()
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="call-journal")

    async def stop(self) -> None:
        """Write everything pending, then stop."""
        if self._task is not None:
            self._pending.put_nowait(None)
            await self._task
            self._task = None

    async def flush(self) -> None:
        """Wait until every write made so far is committed."""
        await self._idle.wait()

    def _submit(self, write: Write) -> None:
        self._idle.clear()
        self._pending.put_nowait(write)

    async def _run(self) -> None:
        while True:
            batch = [await self._pending.get()]
            while len(batch) < self._batch and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            stop = None in batch
            writes = [w for w in batch if w is not None]
            try:
                async with in_transaction():
                    for write in writes:
                        await write()
            except Exception:
                log.exception("call journal: a batch of %d writes failed; retrying one by one", len(writes))
                await self._one_by_one(writes)
            if self._pending.empty():
                self._idle.set()
            if stop:
                return

    @staticmethod
    async def _one_by_one(writes: list[Write]) -> None:
        for write in writes:
            try:
                await write()
            except Exception:
                log.exception("call journal: write lost")

    # -- what the queue manager records --------------------------------------------------
    def event(self, call_id: str, queue: str, event: str, agent: str = "", *data: object) -> None:
        """Append a queue event (ENTERQUEUE, CONNECT, ABANDON, ...)."""
        fields: dict[str, Any] = {f"data{i + 1}": str(value) for i, value in enumerate(data[:5])}
        ts = datetime.now(UTC)
        log.info("queue event %s %s %s %s", queue, event, agent or "-", "|".join(map(str, data)))
        self._submit(lambda: QueueEvent.create(ts=ts, call_id=call_id, queue=queue, agent=agent,
                                               event=event, **fields))

    def call_started(self, call_id: str, **fields: Any) -> None:
        """Create the call record."""
        self._submit(lambda: CallRecord.create(id=call_id, **fields))

    def call_updated(self, call_id: str, **fields: Any) -> None:
        """Update fields of the call record."""
        self._submit(lambda: CallRecord.filter(id=call_id).update(**fields))

    def write(self, write: Write) -> None:
        """Any other write that must be ordered after the call's own (e.g. its recording row)."""
        self._submit(write)
