"""The cloud sync service: collects, batches, sends with backoff, and journals its own outages.

Three tasks on the event loop: the collector moves noted changes into the bounded outbox, the
sender delivers the oldest records in batches, the snapshotter adds the live state now and then.
The cloud link is a monitored thing (kind "cloud"): failed deliveries take it down and open an
incident, the first delivery after that closes it; a full outbox opens its own incident.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance.cloud.outbox import Batch, Outbox
from appliance.cloud.sender import Backoff, DeliveryError, Sender, TooLarge
from appliance.cloud.wire import SCHEMA, dumps
from appliance.errors import ConfigError
from appliance.incidents import HealthBoard, HealthTracker, IncidentJournal
from appliance.settings import CloudSettings

log = logging.getLogger(__name__)
MAX_BATCH_BYTES = 1 << 20


def device_id(settings: CloudSettings, data_dir: Path) -> str:
    """The configured device id, else one generated once and kept in the data directory."""
    if settings.device_id:
        return settings.device_id
    path = data_dir / "device-id"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{uuid.uuid4()}\n")
        tmp.replace(path)
    return path.read_text().strip()


class CloudSync:
    """Store-and-forward delivery of events, call records, incidents and snapshots to the cloud."""

    def __init__(self, settings: CloudSettings, data_dir: Path) -> None:
        self.settings = settings
        self.enabled = bool(settings.url)
        self.device_id = device_id(settings, data_dir) if self.enabled else ""
        self.outbox = Outbox(settings.outbox_max)
        self._tasks: list[asyncio.Task[Any]] = []
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._sender: Sender | None = None
        self._tracker: HealthTracker | None = None
        self._incidents: IncidentJournal | None = None
        self._full = False
        self._batch_max = settings.batch_max
        self.backoff = Backoff(settings.backoff_min_ms / 1000, settings.backoff_max_s)
        self.counters = {"sent_records": 0, "sent_batches": 0, "failures": 0, "snapshots_skipped": 0}
        self._last_attempt: float | None = None
        self.problem = ""  # why the service could not start, if it could not
        self._next_attempt: float | None = None

    async def prepare(self) -> None:
        """Install the change triggers (before anything writes) or drop them when sync is off."""
        await self.outbox.prepare(self.enabled)

    def start(self, health: HealthBoard, incidents: IncidentJournal,
              snapshot: Callable[[], dict[str, Any]] | None = None) -> None:
        """Start collecting and sending (nothing when no endpoint is configured)."""
        if not self.enabled:
            return
        self._tracker = health.tracker("cloud", urlsplit(_without_userinfo(self.settings.url)).netloc,
                                       down_after=3, up_after=1)
        self._incidents = incidents
        try:
            self._sender = Sender(self.settings.url, self.settings.bearer(), self.settings.timeout_s,
                                  self.settings.ca_file)
        except (ConfigError, OSError, ssl.SSLError) as err:
            # A cloud problem must never keep the box from taking calls: journal it and carry on.
            log.error("cloud sync not started: %s", err)
            self.problem = str(err)
            self._tasks.append(asyncio.create_task(incidents.open(
                "cloud", "settings", f"cloud sync not started: {err}",
                action="records are noted and will be sent once the settings are fixed"), name="cloud-problem"))
            return
        self._spawn("cloud-collect", self._collect_forever)
        self._spawn("cloud-send", self._send_forever)
        if snapshot is not None and self.settings.snapshot_s > 0:
            self._spawn("cloud-snapshot", lambda: self._snapshot_forever(snapshot))
        log.info("cloud sync to %s as device %s, stream %s", self.settings.url, self.device_id, self.outbox.stream)

    async def stop(self) -> None:
        """Stop the tasks between two steps; what is unsent stays in the outbox for the next start."""
        # No cancelling into a database transaction: the ORM's SQLite lock would stay taken if a
        # cancel landed while a transaction begins, and the call journal could never write again.
        self._stopping.set()
        self._ready.set()
        _done, late = await asyncio.wait(self._tasks, timeout=10) if self._tasks else (set(), set())
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._sender is not None:
            await self._sender.close()

    def _spawn(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        async def guarded() -> None:
            while not self._stopping.is_set():
                try:
                    await loop()
                except Exception:
                    log.exception("cloud sync: %s failed; restarting it in 5 s", name)
                    await self._pause(5)

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the service stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # -- collecting ------------------------------------------------------------------------
    async def _collect_forever(self) -> None:
        while not self._stopping.is_set():
            added, blocked = await self.outbox.collect()
            await self._outbox_full(blocked)
            if added:
                self._ready.set()
                continue  # more may be waiting: collect again before sleeping
            await self._pause(self.settings.poll_ms / 1000)

    async def _outbox_full(self, blocked: bool) -> None:
        if blocked == self._full or self._incidents is None:
            return
        self._full = blocked
        if blocked:
            await self._incidents.open(
                "cloud", "outbox", f"outbox full ({self.settings.outbox_max} records): collection paused",
                action="the box keeps recording; the rest is collected once the cloud takes the backlog")
        else:
            await self._incidents.close("cloud", "outbox", "the cloud took the backlog; collection resumed")

    # -- sending ---------------------------------------------------------------------------
    async def _send_forever(self) -> None:
        while not self._stopping.is_set():
            batch = await self.outbox.next_batch(self._batch_max, MAX_BATCH_BYTES)
            if batch is None:
                self._ready.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), self.settings.poll_ms / 1000)
                continue
            await self._deliver(batch)

    async def _deliver(self, batch: Batch) -> None:
        assert self._sender is not None
        head = {"schema": SCHEMA, "device_id": self.device_id, "stream": self.outbox.stream,
                "batch_key": batch.key, "sent_at": datetime.now(UTC).isoformat()}
        # The records are already JSON: splice them in rather than parse and dump them again.
        body = f'{dumps(head)[:-1]},"records":[{",".join(batch.records)}]}}'.encode()
        self._last_attempt = time.time()
        post = asyncio.create_task(self._sender.post(body, batch.key, batch.last), name="cloud-post")
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({post, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not post.done():  # stopping: the batch stays in flight and goes first next time
            post.cancel()
            await asyncio.gather(post, return_exceptions=True)
            return
        try:
            post.result()
        except TooLarge:
            self._batch_max = max(1, len(batch.records) // 2)
            log.warning("cloud sync: batch %s too large; sending %d records at a time", batch.key, self._batch_max)
            await self.outbox.forget_flight()
            return
        except DeliveryError as err:
            await self._failed(batch, err)
            return
        await self.outbox.acknowledge(batch)
        self.backoff.reset()
        self._next_attempt = None
        self.counters["sent_records"] += len(batch.records)
        self.counters["sent_batches"] += 1
        await self._observe(True, "batch acknowledged")

    async def _failed(self, batch: Batch, err: DeliveryError) -> None:
        self.counters["failures"] += 1
        delay = self.backoff.next(err.retry_after)
        self._next_attempt = time.time() + delay
        log.warning("cloud sync: batch %s not delivered (%s); retry in %.1f s", batch.key, err, delay)
        await self.outbox.note_error(str(err))
        await self._observe(False, str(err))
        await self._pause(delay)

    async def _observe(self, ok: bool, cause: str) -> None:
        if self._tracker is None or self._incidents is None:
            return
        transition = self._tracker.observe(ok, cause)
        if transition is not None:
            action = "cloud reachable again; the backlog is being sent" if ok else \
                "records are kept in the outbox and retried with backoff"
            await self._incidents.apply(transition, action)

    # -- snapshots -------------------------------------------------------------------------
    async def _snapshot_forever(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        while not self._stopping.is_set():
            await self._pause(self.settings.snapshot_s)
            if self._stopping.is_set():
                return
            now = datetime.now(UTC)
            if await self.outbox.add("snapshot", now.isoformat(), now, snapshot()):
                self._ready.set()
            else:
                self.counters["snapshots_skipped"] += 1

    # -- what the panel and the API show ---------------------------------------------------
    async def status(self) -> dict[str, Any]:
        """Sync state: last success, backlog, errors (never the token)."""
        if not self.enabled:
            return {"enabled": False}
        state = await self.outbox.state()
        success = state["last_success_at"]
        return {
            "enabled": True, "endpoint": _without_userinfo(self.settings.url), "device_id": self.device_id,
            "stream": self.outbox.stream, **state, "outbox_max": self.settings.outbox_max,
            "outbox_full": self._full, "state": self._tracker.state.value if self._tracker else "unknown",
            "last_success_ts": datetime.fromisoformat(success).timestamp() if success else None,
            "last_attempt_at": _iso(self._last_attempt), "next_attempt_at": _iso(self._next_attempt),
            "consecutive_failures": self.backoff.failures, "problem": self.problem, **self.counters,
        }


def _iso(stamp: float | None) -> str | None:
    return datetime.fromtimestamp(stamp, UTC).isoformat() if stamp is not None else None


def _without_userinfo(url: str) -> str:
    """The URL without any user:password@ part, for display."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")).geturl()
