"""Recording files under the data directory, indexed in the database with their call."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import wave
from datetime import datetime
from pathlib import Path

from appliance.storage import Recording

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WavFacts:
    """What the index stores about a finished recording."""

    duration_s: float
    size_bytes: int
    sha256: str


def wav_facts(path: Path) -> WavFacts:
    """Duration (from the WAV header), size and checksum of a recording file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    try:
        with wave.open(str(path), "rb") as wav:
            duration = wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError) as err:
        log.warning("recording %s has no readable WAV header: %s", path, err)
        duration = 0.0
    return WavFacts(round(duration, 3), path.stat().st_size, digest.hexdigest())


class RecordingIndex:
    """Names recording files and indexes them once the engine has closed them."""

    def __init__(self, root: Path, journal_write: object, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self._write = journal_write  # CallJournal.write: ordered after the call record itself
        self._tasks: set[asyncio.Task[None]] = set()

    def path_for(self, call_id: str, started_at: datetime) -> Path | None:
        """Where this call's recording goes (None when recording is off)."""
        if not self.enabled:
            return None
        return self.root / started_at.strftime("%Y/%m/%d") / f"{call_id}.wav"

    def add(self, call_id: str, path: Path) -> None:
        """Index a closed recording (checksummed off the event loop)."""
        task = asyncio.create_task(self._add(call_id, path), name=f"index-recording-{call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _add(self, call_id: str, path: Path) -> None:
        try:
            facts = await asyncio.to_thread(wav_facts, path)
        except OSError as err:
            log.error("recording %s of call %s cannot be read: %s", path, call_id, err)
            return
        self._write(lambda: Recording.create(call_id=call_id, path=str(path), format="wav",  # type: ignore[operator]
                                             duration_s=facts.duration_s, size_bytes=facts.size_bytes,
                                             sha256=facts.sha256))

    async def drain(self) -> None:
        """Wait for recordings being indexed (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
