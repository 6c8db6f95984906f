"""Storage: the SQLite database (tortoise-orm, WAL, migrations) and the models on it."""

from appliance.storage.database import Database
from appliance.storage.models import (
    ApiToken,
    CallRecord,
    Did,
    Incident,
    LoginAttempt,
    Operator,
    Queue,
    QueueEvent,
    QueueMember,
    Recording,
    RecordingAccess,
    Seat,
    SystemSetting,
    Trunk,
    User,
    WebSession,
)

__all__ = [
    "ApiToken",
    "CallRecord",
    "Database",
    "Did",
    "Incident",
    "LoginAttempt",
    "Operator",
    "Queue",
    "QueueEvent",
    "QueueMember",
    "Recording",
    "RecordingAccess",
    "Seat",
    "SystemSetting",
    "Trunk",
    "User",
    "WebSession",
]
