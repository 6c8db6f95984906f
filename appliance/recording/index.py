"""Recording files under the data directory, indexed in the database with their call.

A recording's row is written when its bridge starts (state `recording`), moves to `encoding`
when the engine closes the legs, and to `ready` once the two-channel Opus file is verified and
the WAVs are gone. At start-up `recover()` finishes whatever a power cut or `kill -9` left:
leg WAVs get their headers repaired and are encoded, half-written `.part` files are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.recording.encoder import Encoded, EncodeError, probe
from appliance.recording.files import WavFacts, sha256_of, wav_facts
from appliance.recording.worker import EncodingWorker, Job
from appliance.settings import RecordingSettings
from appliance.sip.abc import recording_legs
from appliance.storage import CallRecord, Operator, Queue, Recording, Trunk

log = logging.getLogger(__name__)

__all__ = ["RecordingIndex", "WavFacts", "wav_facts"]


async def _switched_off(call_id: str, queue: str, operator: str, trunk: str) -> bool:
    """Whether the call's queue, operator or trunk has recording switched off."""
    if not trunk:
        call = await CallRecord.get_or_none(id=call_id)
        trunk = call.trunk if call is not None else ""
    return bool((queue and await Queue.filter(name=queue, record=False).exists())
                or (operator and await Operator.filter(name=operator, record=False).exists())
                or (trunk and await Trunk.filter(name=trunk, record=False).exists()))


class RecordingIndex:
    """Names recording files, tracks their rows, and has them encoded once the engine has closed them."""

    def __init__(self, root: Path, journal_write: Callable[[Any], None], enabled: bool = True,
                 settings: RecordingSettings | None = None) -> None:
        self.root = root
        self.settings = settings or RecordingSettings()
        self.enabled = enabled and self.settings.enabled
        self.paused_for_space = False  # set by the disk guard: new calls are not recorded
        self._write = journal_write  # CallJournal.write: ordered after the call record itself
        self.worker = EncodingWorker(self._finished, self.settings.encoders, self.settings.bitrate_kbps,
                                     self.settings.nice, self.settings.complexity)
        self._started = False

    def start(self) -> None:
        """Start the encoding worker."""
        if not self._started:
            self._started = True
            self.worker.start()

    def path_for(self, call_id: str, started_at: datetime) -> Path | None:
        """Where this call's recording goes (None when recording is off or the disk is full)."""
        if not self.enabled or self.paused_for_space:
            return None
        return self.root / started_at.strftime("%Y/%m/%d") / f"{call_id}.wav"

    async def path_for_call(self, call_id: str, started_at: datetime, queue: str = "", operator: str = "",
                            trunk: str = "") -> Path | None:
        """Like `path_for`, also honouring the queue's, the operator's and the trunk's recording switch."""
        path = self.path_for(call_id, started_at)
        if path is None:
            return None
        try:
            off = await _switched_off(call_id, queue, operator, trunk)
        except Exception:  # the policy must never cost the call its bridge: record by default
            log.exception("recording policy of call %s could not be read; recording it", call_id)
            return path
        if off:
            log.info("call %s is not recorded: recording is off for its queue, operator or trunk", call_id)
            return None
        return path

    def opened(self, call_id: str, path: Path) -> None:
        """The bridge records to `path`: its row exists from now on, so a crash cannot orphan the files."""
        self._write(lambda: Recording.create(call_id=call_id, path=str(path), format="wav", state="recording",
                                             channels=2))

    def add(self, call_id: str, path: Path) -> None:
        """The engine closed the legs recorded to `path`: have them encoded."""
        self._write(lambda: Recording.filter(call_id=call_id, path=str(path)).update(state="encoding"))
        self.start()
        self.worker.submit(Job(call_id, path))

    async def _finished(self, job: Job, encoded: Encoded | None, error: str) -> None:
        rows = Recording.filter(call_id=job.call_id, path__in=[str(job.base), str(job.target)])
        if encoded is None:
            await rows.update(state="failed")
            return
        fields: dict[str, Any] = {
            "path": str(encoded.path), "format": "opus", "state": "ready", "channels": encoded.channels,
            "duration_s": encoded.duration_s, "size_bytes": encoded.size_bytes, "sha256": encoded.sha256}
        if not await rows.update(**fields) and await CallRecord.exists(id=job.call_id):
            await Recording.create(call_id=job.call_id, **fields)

    async def recover(self) -> int:
        """Finish what an interrupted run left behind; returns the recordings sent to encoding."""
        for part in await asyncio.to_thread(lambda: list(self.root.rglob("*.opus.part"))):
            part.unlink(missing_ok=True)
        count = 0
        known: set[str] = set()
        for row in await Recording.filter(state__in=["recording", "encoding"]):
            base = Path(row.path)
            known.add(str(base))
            if any(leg.is_file() for leg in recording_legs(base)):
                await Recording.filter(id=row.id).update(state="encoding")
                self.worker.submit(Job(row.call_id, base))
                count += 1
            elif base.with_suffix(".opus").is_file():
                await self._adopt(row.call_id, base)
            else:
                log.error("recording %s of call %s was lost: no file survived", base, row.call_id)
                await Recording.filter(id=row.id).update(state="lost")
        count += await self._orphans(known)
        if count:
            log.warning("%d recording(s) left by an interrupted run are being recovered", count)
        self.start()
        return count

    async def _orphans(self, known: set[str]) -> int:
        """Leg WAVs that have no row (the row's write was lost with the process): adopted by call id."""
        count = 0
        for leg in await asyncio.to_thread(lambda: list(self.root.rglob("*.caller.wav"))):
            base = leg.with_name(leg.name.removesuffix(".caller.wav") + ".wav")
            call_id = base.stem[:36]
            if str(base) in known or not await CallRecord.exists(id=call_id):
                continue
            await Recording.create(call_id=call_id, path=str(base), format="wav", state="encoding", channels=2)
            self.worker.submit(Job(call_id, base))
            count += 1
        return count

    async def _adopt(self, call_id: str, base: Path) -> None:
        """The encoded file was committed but its row not updated: verify it and finish the row."""
        target = base.with_suffix(".opus")
        try:
            channels, seconds = await asyncio.to_thread(probe, target)
        except EncodeError as err:
            log.error("recording %s does not verify: %s", target, err)
            await Recording.filter(call_id=call_id, path=str(base)).update(state="failed")
            return
        encoded = Encoded(target, round(seconds, 3), target.stat().st_size, await asyncio.to_thread(sha256_of, target),
                          channels)
        await self._finished(Job(call_id, base), encoded, "")

    async def drain(self, wait_s: float = 10.0) -> None:
        """Give queued encodings a moment at shutdown, then stop (the rest is redone at start-up)."""
        if self._started:
            try:
                await self.worker.idle(wait_s)
            except TimeoutError:
                log.warning("%d recording(s) still to encode: done at the next start-up", self.worker.pending)
            await self.worker.stop()
