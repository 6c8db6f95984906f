"""Storage: the SQLite database (tortoise-orm, WAL, migrations) and the models on it."""

from appliance.storage.database import Database
from appliance.storage.models import (
    CallRecord,
    Did,
    Incident,
    Operator,
    Queue,
    QueueEvent,
    QueueMember,
    Recording,
    Seat,
    Trunk,
)

__all__ = [
    "CallRecord",
    "Database",
    "Did",
    "Incident",
    "Operator",
    "Queue",
    "QueueEvent",
    "QueueMember",
    "Recording",
    "Seat",
    "Trunk",
]
