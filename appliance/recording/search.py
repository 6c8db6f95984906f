"""Finding recordings: by time, number, queue, operator, duration and disposition; the file of one."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from appliance.errors import NotFoundError
from appliance.storage import Recording

MAX_LIMIT = 500


@dataclasses.dataclass(frozen=True)
class RecordingFilter:
    """What recordings are searched by; empty fields do not narrow the search."""

    start: datetime | None = None  # the call started at or after
    end: datetime | None = None  # ... and before
    number: str = ""  # part of the caller's number or of the dialled number
    queue: str = ""
    operator: str = ""
    min_s: float | None = None
    max_s: float | None = None
    disposition: str = ""  # ANSWERED, INTERRUPTED, ...
    state: str = "ready"  # "" for every state

    def queryset(self) -> QuerySet[Recording]:
        """The filtered recordings, newest call first."""
        qs = Recording.all()
        if self.state:
            qs = qs.filter(state=self.state)
        if self.start is not None:
            qs = qs.filter(call__started_at__gte=self.start)
        if self.end is not None:
            qs = qs.filter(call__started_at__lt=self.end)
        if self.number:
            qs = qs.filter(Q(call__caller__contains=self.number) | Q(call__did__contains=self.number))
        if self.queue:
            qs = qs.filter(call__queue=self.queue)
        if self.operator:
            qs = qs.filter(call__operator=self.operator)
        if self.min_s is not None:
            qs = qs.filter(duration_s__gte=self.min_s)
        if self.max_s is not None:
            qs = qs.filter(duration_s__lte=self.max_s)
        if self.disposition:
            qs = qs.filter(call__disposition=self.disposition.upper())
        return qs.order_by("-call__started_at", "-id")


def as_dict(row: Recording) -> dict[str, Any]:
    """A recording with its call, for the API."""
    call = row.call
    return {"id": row.id, "call_id": row.call_id, "format": row.format, "state": row.state, "channels": row.channels,
            "duration_s": row.duration_s, "size_bytes": row.size_bytes, "sha256": row.sha256,
            "created_at": row.created_at.isoformat(),
            "call": {"started_at": call.started_at.isoformat(), "caller": call.caller, "did": call.did,
                     "trunk": call.trunk, "queue": call.queue, "operator": call.operator,
                     "disposition": call.disposition, "talk_s": call.talk_s}}


async def search(flt: RecordingFilter, limit: int = 100, offset: int = 0) -> tuple[int, list[Recording]]:
    """(total matches, one page of recordings with their calls)."""
    qs = flt.queryset()
    total = await qs.count()
    rows = await qs.offset(max(0, offset)).limit(max(1, min(limit, MAX_LIMIT))).prefetch_related("call")
    return total, list(rows)


def _resolve(path: Path, root: Path) -> tuple[Path, bool]:
    resolved = path.resolve()
    return resolved, resolved.is_relative_to(root.resolve()) and resolved.is_file()


async def recording_file(root: Path, recording_id: int) -> tuple[Recording, Path]:
    """A ready recording and its file, which must lie inside the recordings directory."""
    row = await Recording.get_or_none(id=recording_id).prefetch_related("call")
    if row is None or row.state != "ready":
        raise NotFoundError(f"no playable recording #{recording_id}")
    path, inside = await asyncio.to_thread(_resolve, Path(row.path), root)
    if not inside:
        raise NotFoundError(f"the file of recording #{recording_id} is missing")
    return row, path
