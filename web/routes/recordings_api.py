"""Recordings for people and machines: search, play with HTTP range requests, download, export.

Every route takes the "recordings" role guard (admin and supervisor); every byte of audio sent
is preceded by an entry in the access log (`recording_access`: who, from where, what, which
range). `/api/v1/...` answers API tokens; the same handlers under `/recordings/...` serve the
panel's signed-in browsers, whose `<audio>` element seeks with `Range` requests.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Stream

from appliance.daemon import Services
from appliance.recording import access
from appliance.recording.export import archive, export_rows
from appliance.recording.search import RecordingFilter, as_dict, recording_file, search
from web.security import client_address, principal_of, requires

AUDIO_TYPES = {".opus": "audio/ogg", ".wav": "audio/wav"}
CHUNK = 1 << 16
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_EXPORT_DAYS = 366


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of one `Range: bytes=...`; None for the whole file; ValueError if unsatisfiable."""
    if not header or "," in header:
        return None  # no range, or several: the whole file (RFC 9110 lets a server ignore Range)
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first_s, last_s = match.groups()
    if first_s == "":
        first, last = max(0, size - int(last_s)), size - 1
    else:
        first, last = int(first_s), min(int(last_s), size - 1) if last_s else size - 1
    if first >= size or first > last:
        raise ValueError("unsatisfiable range")
    return first, last


async def _bytes(path: Path, first: int, last: int) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        await asyncio.to_thread(fh.seek, first)
        left = last - first + 1
        while left > 0:
            chunk = await asyncio.to_thread(fh.read, min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


async def _log(request: Request[Any, Any, Any], action: str, recording_id: int | None, detail: str) -> None:
    principal = principal_of(request)
    assert principal is not None  # the guard let only a signed-in principal through
    await access.log_access(principal.name, principal.role, principal.via, client_address(request.scope), action,
                            recording_id, detail)


async def _serve(request: Request[Any, Any, Any], services: Services, recording_id: int, download: bool,
                 ) -> Response[Any]:
    row, path = await recording_file(services.settings.data.recordings_dir, recording_id)
    size = path.stat().st_size
    name = f"call-{row.call_id}{path.suffix}"
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": f'{"attachment" if download else "inline"}; '
               f'filename="{name}"', "ETag": f'"{row.sha256}"', "X-Content-SHA256": row.sha256}
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except ValueError:
        return Response(b"", status_code=416, headers={"Content-Range": f"bytes */{size}"})
    first, last = wanted or (0, size - 1)
    await _log(request, "download" if download else "play", row.id, f"bytes {first}-{last}/{size}")
    headers["Content-Length"] = str(last - first + 1)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return Stream(_bytes(path, first, last), status_code=206 if wanted else 200, headers=headers,
                  media_type=AUDIO_TYPES.get(path.suffix, "application/octet-stream"))


def _moment(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValidationException(f"{name} must be an ISO date or datetime, not {text!r}") from err
    return moment if moment.tzinfo else moment.astimezone()


def _filter(q: dict[str, str]) -> RecordingFilter:
    try:
        min_s = float(q["min_s"]) if q.get("min_s") else None
        max_s = float(q["max_s"]) if q.get("max_s") else None
    except ValueError as err:
        raise ValidationException("min_s and max_s are seconds") from err
    return RecordingFilter(_moment(q.get("start"), "start"), _moment(q.get("end"), "end"), q.get("number", ""),
                           q.get("queue", ""), q.get("operator", ""), min_s, max_s, q.get("disposition", ""))


@get(["/api/v1/recordings", "/recordings/search"], guards=[requires("recordings")])
async def find(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Recordings by start/end (ISO), number, queue, operator, min_s/max_s, disposition; newest first."""
    q = dict(request.query_params)
    total, rows = await search(_filter(q), int(q.get("limit", 100) or 100), int(q.get("offset", 0) or 0))
    return {"total": total, "items": [{**as_dict(r), "stream": f"/api/v1/recordings/{r.id}/stream"} for r in rows]}


@get(["/api/v1/recordings/{recording_id:int}/stream", "/recordings/{recording_id:int}/stream"],
     guards=[requires("recordings")])
async def stream(request: Request[Any, Any, Any], services: NamedDependency[Services], recording_id: FromPath[int],
                 ) -> Response[Any]:
    """The recording for a player, with `Range` support so it can seek."""
    return await _serve(request, services, recording_id, download=False)


@get(["/api/v1/recordings/{recording_id:int}/download", "/recordings/{recording_id:int}/file"],
     guards=[requires("recordings")])
async def download(request: Request[Any, Any, Any], services: NamedDependency[Services], recording_id: FromPath[int],
                   ) -> Response[Any]:
    """The recording as a file to save (its SHA-256 in `X-Content-SHA256`)."""
    return await _serve(request, services, recording_id, download=True)


@get(["/api/v1/recordings/export", "/recordings/export"], guards=[requires("recordings")])
async def export(request: Request[Any, Any, Any]) -> Stream:
    """The recordings of a period (start and end required) as a tar archive, streamed, `index.csv` first."""
    flt = _filter(dict(request.query_params))
    if flt.start is None or flt.end is None or not flt.start < flt.end:
        raise ValidationException("start and end are required, end after start")
    if (flt.end - flt.start).days > MAX_EXPORT_DAYS:
        raise ValidationException(f"export at most {MAX_EXPORT_DAYS} days at once")
    rows = await export_rows(flt)
    await _log(request, "export", None, f"{flt.start.isoformat()}..{flt.end.isoformat()}: {len(rows)} recordings")
    name = f"recordings-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}.tar"
    return Stream(archive(rows), media_type="application/x-tar",
                  headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get(["/api/v1/recordings/access", "/recordings/access"], guards=[requires("config")])
async def access_log(recording_id: FromQuery[int | None] = None, limit: FromQuery[int] = 100,
                     ) -> list[dict[str, Any]]:
    """Who played, downloaded or exported what (admin only), newest first."""
    rows = await access.recent_access(recording_id, min(max(limit, 1), 1000))
    return [{"at": r.at.isoformat(), "username": r.username, "role": r.role, "via": r.via, "address": r.address,
             "action": r.action, "recording_id": r.recording_id, "detail": r.detail} for r in rows]


ROUTES = [find, stream, download, export, access_log]
