"""Retention: recordings older than `keep_days` go, then the oldest beyond `max_total_mb`.

Both limits are the office's policy, so what they remove is beyond retention by definition; the
disk guard runs them before it judges free space. A removed recording keeps its row (state
`expired`, no file) so the call's history and the access log still make sense.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.recording.files import remove_files
from appliance.settings import RecordingSettings
from appliance.sip.abc import recording_legs
from appliance.storage import Recording

log = logging.getLogger(__name__)

KEPT_STATES = ("ready", "failed")  # rows whose files count and may expire; rows being written never do


@dataclasses.dataclass(frozen=True)
class Sweep:
    """What one retention pass removed."""

    by_age: int = 0
    by_size: int = 0
    freed_bytes: int = 0

    @property
    def removed(self) -> int:
        """Recordings removed in all."""
        return self.by_age + self.by_size


def _files_of(row: Recording) -> list[Path]:
    path = Path(row.path)
    return [path] if row.state == "ready" else [path, *recording_legs(path)]


async def _expire(row: Recording, why: str) -> int:
    freed = await asyncio.to_thread(remove_files, *_files_of(row))
    await Recording.filter(id=row.id).update(state="expired", size_bytes=0)
    log.info("recording %s of call %s removed (%s): %d bytes", row.path, row.call_id, why, freed)
    return freed


class Retention:
    """Applies the age and total-size limits of the settings."""

    def __init__(self, settings: RecordingSettings) -> None:
        self.settings = settings

    async def sweep(self, now: datetime | None = None) -> Sweep:
        """Remove what is beyond retention: first by age, then the oldest above the size cap."""
        now = now or datetime.now(UTC)
        by_age = by_size = freed = 0
        if self.settings.keep_days > 0:
            cutoff = now - timedelta(days=self.settings.keep_days)
            for row in await Recording.filter(state__in=KEPT_STATES, created_at__lt=cutoff).order_by("created_at"):
                freed += await _expire(row, f"older than {self.settings.keep_days} days")
                by_age += 1
        if self.settings.max_total_mb > 0:
            cap = self.settings.max_total_mb * 1_000_000
            rows = await Recording.filter(state__in=KEPT_STATES).order_by("created_at", "id")
            total = sum(r.size_bytes for r in rows)
            for row in rows:
                if total <= cap:
                    break
                total -= row.size_bytes
                freed += await _expire(row, f"recordings above {self.settings.max_total_mb} MB")
                by_size += 1
        return Sweep(by_age, by_size, freed)
