"""Rows for reports, read on a connection of their own so a long report never holds the writer.

Reports run in a worker thread (`asyncio.to_thread`) over a read-only SQLite connection: WAL
lets them read while the call journal keeps committing, and the event loop stays free.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from appliance.stats.events import LOGINS, PAUSES


class Event(NamedTuple):
    """One queue_log row, its time as POSIX seconds."""

    id: int
    t: float
    call_id: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


class CallRow(NamedTuple):
    """The fields of a call record that carrier reports use."""

    id: str
    direction: str
    trunk: str
    started: float
    connected: bool
    talk_s: float


class IncidentRow(NamedTuple):
    """An incident's subject and span (end None while it is open)."""

    kind: str
    subject: str
    started: float
    ended: float | None


def seconds(stamp: str) -> float:
    """POSIX seconds of a timestamp as tortoise stores it."""
    return datetime.fromisoformat(stamp).timestamp()


def bound(moment: datetime) -> str:
    """A datetime in the stored text form, so a text comparison orders like time."""
    return moment.astimezone(UTC).isoformat(sep=" ")


@contextmanager
def reader(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the database at `path`, closed afterwards."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def events(conn: sqlite3.Connection, start: datetime, end: datetime, only: Collection[str] = ()) -> list[Event]:
    """Queue events from `start` (inclusive) to `end` (exclusive), in the order written; `only` these names."""
    which = f" AND event IN ({','.join('?' * len(only))})" if only else ""
    rows = conn.execute(
        "SELECT id, ts, call_id, queue, agent, event, data1, data2, data3, data4, data5 FROM queue_event"  # noqa: S608
        f" WHERE ts >= ? AND ts < ?{which} ORDER BY id", (bound(start), bound(end), *only))
    return [Event(r[0], seconds(r[1]), r[2], r[3], r[4], r[5], r[6:]) for r in rows]


def states_before(conn: sqlite3.Connection, start: datetime) -> dict[tuple[str, str], Event]:
    """Each operator's last pause-family and sign-in-family event before `start`."""
    found: dict[tuple[str, str], Event] = {}
    for family, names in (("pause", PAUSES), ("login", LOGINS)):
        marks = ",".join("?" * len(names))
        rows = conn.execute(
            f"SELECT MAX(id), ts, call_id, queue, agent, event, data1, data2, data3, data4, data5"  # noqa: S608
            f" FROM queue_event WHERE event IN ({marks}) AND ts < ? GROUP BY agent",
            (*names, bound(start)))
        for r in rows:
            found[(r[4], family)] = Event(r[0], seconds(r[1]), r[2], r[3], r[4], r[5], r[6:])
    return found


def call_trunks(conn: sqlite3.Connection, start: datetime, end: datetime) -> dict[str, str]:
    """The trunk of every call that started in the period (and a little before, for late entries)."""
    rows = conn.execute("SELECT id, trunk FROM call_record WHERE started_at >= ? AND started_at < ?",
                        (bound(start), bound(end)))
    return dict(rows.fetchall())


def calls(conn: sqlite3.Connection, start: datetime, end: datetime) -> list[CallRow]:
    """Call records that started in the period."""
    rows = conn.execute(
        "SELECT id, direction, trunk, started_at, connected_at IS NOT NULL, COALESCE(talk_s, 0)"
        " FROM call_record WHERE started_at >= ? AND started_at < ?", (bound(start), bound(end)))
    return [CallRow(r[0], r[1], r[2], seconds(r[3]), bool(r[4]), float(r[5])) for r in rows]


def incidents(conn: sqlite3.Connection, start: datetime, end: datetime) -> list[IncidentRow]:
    """Incidents that overlap the period."""
    rows = conn.execute("SELECT kind, subject, started_at, ended_at FROM incident"
                        " WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?)",
                        (bound(end), bound(start)))
    return [IncidentRow(r[0], r[1], seconds(r[2]), seconds(r[3]) if r[3] else None) for r in rows]


def operator_names(conn: sqlite3.Connection) -> list[str]:
    """Names of the configured operators, so idle ones appear in reports too."""
    return [name for (name,) in conn.execute("SELECT name FROM operator WHERE enabled ORDER BY name")]


def stored_timezone(conn: sqlite3.Connection) -> str:
    """The office time zone the panel keeps in `system_setting` (key 'timezone'), else UTC."""
    try:
        row = conn.execute("SELECT value FROM system_setting WHERE key = 'timezone'").fetchone()
    except sqlite3.OperationalError:  # a database from before the panel's settings table
        return "UTC"
    return str(json.loads(row[0])) if row else "UTC"
