"""The wire format: records and batches as JSON (docs/cloud-sync.schema.json describes it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

SCHEMA = "callbox-sync/1"

#: Per kind: the table a record comes from and the columns it carries.
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "event": ("queue_event", ("id", "ts", "call_id", "queue", "agent", "event",
                              "data1", "data2", "data3", "data4", "data5")),
    "call": ("call_record", ("id", "direction", "sip_call_id", "caller", "did", "trunk", "queue", "operator",
                             "started_at", "answered_at", "connected_at", "ended_at", "disposition",
                             "hangup_cause", "hold_s", "talk_s")),
    "incident": ("incident", ("id", "kind", "subject", "state", "started_at", "ended_at", "cause", "action",
                              "severity")),
}
STAMPS = {"ts", "started_at", "answered_at", "connected_at", "ended_at"}


def rfc3339(stamp: str | datetime | None) -> str | None:
    """A stored timestamp as RFC 3339 UTC text (e.g. 2025-03-01T09:30:00.250000+00:00)."""
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    return moment.astimezone(UTC).isoformat()


def record_data(kind: str, row: Sequence[Any]) -> dict[str, Any]:
    """A source row (columns as in SOURCES) as the record's `data` object."""
    columns = SOURCES[kind][1]
    data = {name: (rfc3339(value) if name in STAMPS else value) for name, value in zip(columns, row, strict=True)}
    if kind == "event":
        data["data"] = [data.pop(f"data{n}") for n in range(1, 6)]
    return data


def record_time(kind: str, data: dict[str, Any]) -> str:
    """When a record happened: the event time, the call's end, the incident's latest change."""
    if kind == "event":
        return str(data["ts"])
    if kind == "call":
        return str(data["ended_at"] or data["started_at"])
    return str(data.get("ended_at") or data.get("started_at") or data.get("at"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go on the wire")


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is; datetimes, enums and paths as text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_plain)


def envelope(device_id: str, stream: str, batch_key: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch as POSTed: who sends it, its idempotency key and its records in sequence order."""
    return {"schema": SCHEMA, "device_id": device_id, "stream": stream, "batch_key": batch_key,
            "sent_at": datetime.now(UTC).isoformat(), "records": records}
