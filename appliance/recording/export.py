"""Export of a period's recordings as one tar archive, streamed as it is read: never built in
memory or on the data disk. An `index.csv` (call, times, numbers, checksum) comes first."""

from __future__ import annotations

import asyncio
import csv
import io
import tarfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from appliance.recording.search import RecordingFilter
from appliance.storage import Recording

BLOCK = 512
CHUNK = 1 << 16
INDEX_FIELDS = ("file", "call_id", "started_at", "caller", "did", "queue", "operator", "disposition", "duration_s",
                "size_bytes", "sha256")


def _header(name: str, size: int, mtime: float) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def member_name(row: Recording) -> str:
    """The path of a recording inside the archive: day of the call, then the call id."""
    return f"{row.call.started_at:%Y-%m-%d}/{row.call_id}{Path(row.path).suffix}"


def index_csv(rows: list[Recording]) -> bytes:
    """The archive's table of contents."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INDEX_FIELDS)
    for r in rows:
        c = r.call
        writer.writerow([member_name(r), r.call_id, c.started_at.isoformat(), c.caller, c.did, c.queue, c.operator,
                         c.disposition, r.duration_s, r.size_bytes, r.sha256])
    return out.getvalue().encode()


async def export_rows(flt: RecordingFilter) -> list[Recording]:
    """The ready recordings of a filter, oldest first, with their calls."""
    return list(await flt.queryset().order_by("call__started_at", "id").prefetch_related("call"))


async def _member(row: Recording) -> AsyncIterator[bytes]:
    """One file as tar blocks; a file that vanished (retention) is left out, a shrunk one zero-filled."""
    try:
        fh = await asyncio.to_thread(Path(row.path).open, "rb")
    except OSError:
        return
    try:
        size = (await asyncio.to_thread(lambda: Path(row.path).stat())).st_size
        yield _header(member_name(row), size, row.created_at.timestamp())
        sent = 0
        while sent < size:
            chunk = await asyncio.to_thread(fh.read, min(CHUNK, size - sent)) or b"\0" * min(CHUNK, size - sent)
            sent += len(chunk)
            yield chunk
        yield _padding(size)
    finally:
        fh.close()


async def archive(rows: list[Recording]) -> AsyncIterator[bytes]:
    """The tar stream of these recordings, index first."""
    index = index_csv(rows)
    yield _header("index.csv", len(index), time.time()) + index + _padding(len(index))
    for row in rows:
        async for block in _member(row):
            yield block
    yield b"\0" * (2 * BLOCK)
