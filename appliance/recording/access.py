"""The access log of recordings: who played, downloaded or exported what, from where, and when."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from appliance.storage import RecordingAccess

log = logging.getLogger(__name__)


async def log_access(username: str, role: str, via: str, address: str, action: str, recording_id: int | None,
                     detail: str = "") -> RecordingAccess:
    """Note one access (before any byte of the recording is sent)."""
    log.info("recording access: %s (%s, %s from %s) %s #%s %s", username, role, via, address, action,
             recording_id if recording_id is not None else "-", detail)
    return await RecordingAccess.create(at=datetime.now(UTC), username=username[:64], role=role[:16], via=via[:8],
                                        address=address[:64], action=action, recording_id=recording_id,
                                        detail=detail[:255])


async def recent_access(recording_id: int | None = None, limit: int = 100) -> list[RecordingAccess]:
    """The latest accesses, newest first (of one recording when given)."""
    qs = RecordingAccess.all() if recording_id is None else RecordingAccess.filter(recording_id=recording_id)
    return list(await qs.order_by("-id").limit(limit))
