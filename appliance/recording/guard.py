"""The disk guard: retention first, then a warning, then no new recordings — calls always go on.

Every `check_s` seconds: retention removes what is beyond the office's policy; then free space
on the recordings' disk (psutil) is judged. Below `warn_free_mb` a minor `disk` incident warns
the admin; below `stop_free_mb` new calls are no longer recorded and a major incident says so.
Nothing within retention is ever removed for space. Both incidents close by themselves when
space comes back (with a margin, so the guard does not flap).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path

import psutil

from appliance.incidents import Health, HealthBoard, IncidentJournal
from appliance.recording.index import RecordingIndex
from appliance.recording.retention import Retention, Sweep

log = logging.getLogger(__name__)

MB = 1_000_000
LOW, FULL = "data disk low", "recordings stopped"  # incident subjects (kind "disk")
RESUME_MARGIN = 1.1  # free space must exceed a threshold by 10 % to clear it


@dataclasses.dataclass(frozen=True)
class DiskState:
    """One check of the guard."""

    free_mb: float
    total_mb: float
    sweep: Sweep
    low: bool
    stopped: bool


def free_space(path: Path) -> tuple[float, float]:
    """(free, total) MB of the file system holding `path` (the nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    usage = psutil.disk_usage(str(path))
    return usage.free / MB, usage.total / MB


class DiskGuard:
    """Keeps the data disk from filling up with recordings."""

    def __init__(self, index: RecordingIndex, health: HealthBoard, incidents: IncidentJournal) -> None:
        self.index = index
        self.settings = index.settings
        self.retention = Retention(index.settings)
        self.health = health
        self.incidents = incidents
        self.low = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Check now and then every `check_s` seconds."""
        self._task = asyncio.create_task(self._run(), name="recording-disk-guard")

    async def stop(self) -> None:
        """Stop checking."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("disk guard check failed")
            await asyncio.sleep(max(1, self.settings.check_s))

    async def check(self) -> DiskState:
        """Retention, then the free-space thresholds, in that order."""
        sweep = await self.retention.sweep()
        free, total = await asyncio.to_thread(free_space, self.index.root)
        s = self.settings
        cause = f"{free:.0f} MB free of {total:.0f} MB on the recordings' disk"
        if free < s.stop_free_mb and not self.index.paused_for_space:
            self.index.paused_for_space = True
            log.error("disk guard: %s: new calls are not recorded", cause)
            await self.incidents.open("disk", FULL, f"{cause}, below {s.stop_free_mb} MB after retention "
                                      f"removed {sweep.removed}", "new calls are not recorded; calls go on")
        elif self.index.paused_for_space and free >= s.stop_free_mb * RESUME_MARGIN:
            self.index.paused_for_space = False
            await self.incidents.close("disk", FULL, f"recording resumed: {cause}")
        if free < s.warn_free_mb and not self.low:
            self.low = True
            log.warning("disk guard: %s", cause)
            await self.incidents.open("disk", LOW, f"{cause}, below the {s.warn_free_mb} MB warning level",
                                      severity="minor")
        elif self.low and free >= s.warn_free_mb * RESUME_MARGIN:
            self.low = False
            await self.incidents.close("disk", LOW, f"space back: {cause}")
        self._show(cause)
        return DiskState(round(free, 1), round(total, 1), sweep, self.low, self.index.paused_for_space)

    def _show(self, cause: str) -> None:
        """The `disk` health shown by /healthz: down while not recording, degraded while low."""
        tracker = self.health.tracker("disk", "recordings", down_after=1, up_after=1)
        state = Health.DOWN if self.index.paused_for_space else Health.DEGRADED if self.low else Health.UP
        if tracker.state is not state:
            tracker.state, tracker.since = state, datetime.now(UTC)
        tracker.last_cause = cause
