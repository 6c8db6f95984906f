"""SQLite triggers that note, in the writer's own transaction, every row the cloud must receive.

Whoever writes a queue event, ends a call record or opens, notes or closes an incident (the call
journal, the incident journal, start-up clean-up, code not written yet) commits a `sync_change`
row with it or not at all: nothing is missed and no writer calls the sync. The triggers are
(re)installed at every start, because SQLite drops a table's triggers when a migration rebuilds it.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

TRIGGERS = {
    "sync_event_added": "AFTER INSERT ON queue_event BEGIN "
                        "INSERT INTO sync_change (kind, ref) VALUES ('event', NEW.id); END",
    "sync_call_ended": "AFTER UPDATE OF ended_at ON call_record "
                       "WHEN OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL BEGIN "
                       "INSERT INTO sync_change (kind, ref) VALUES ('call', NEW.id); END",
    "sync_call_added_ended": "AFTER INSERT ON call_record WHEN NEW.ended_at IS NOT NULL BEGIN "
                             "INSERT INTO sync_change (kind, ref) VALUES ('call', NEW.id); END",
    "sync_incident_added": "AFTER INSERT ON incident BEGIN "
                           "INSERT INTO sync_change (kind, ref) VALUES ('incident', NEW.id); END",
    "sync_incident_changed": "AFTER UPDATE ON incident BEGIN "
                             "INSERT INTO sync_change (kind, ref) VALUES ('incident', NEW.id); END",
}

#: What a new stream starts with: every row already there, oldest first.
BACKFILL = (
    "INSERT INTO sync_change (kind, ref) SELECT 'event', id FROM queue_event ORDER BY id",
    "INSERT INTO sync_change (kind, ref) SELECT 'call', id FROM call_record WHERE ended_at IS NOT NULL"
    " ORDER BY ended_at",
    "INSERT INTO sync_change (kind, ref) SELECT 'incident', id FROM incident ORDER BY id",
)


async def install(conn: BaseDBAsyncClient) -> None:
    """Create any trigger that is missing."""
    for name, body in TRIGGERS.items():
        await conn.execute_query(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


async def remove(conn: BaseDBAsyncClient) -> None:
    """Drop the triggers (cloud sync switched off: nothing piles up for nobody)."""
    for name in TRIGGERS:
        await conn.execute_query(f"DROP TRIGGER IF EXISTS {name}")


async def installed(conn: BaseDBAsyncClient) -> set[str]:
    """The names of the sync triggers present in the database."""
    _, rows = await conn.execute_query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    return {row[0] for row in rows} & set(TRIGGERS)
