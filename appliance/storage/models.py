"""Tortoise models: the appliance's configuration, call records, queue events and incidents.

All datetimes are timezone-aware UTC (the ORM runs with ``use_tz=True``, ``timezone="UTC"``).
Changing a model needs a new migration: see ``appliance.storage.database``.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Trunk(Model):
    """A carrier connection: a SIP registration or an IP-authenticated peer."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    kind = fields.CharField(max_length=16)  # 'registration' | 'ip'
    host = fields.CharField(max_length=255)  # carrier host or host:port
    transport = fields.CharField(max_length=8, default="udp")
    username = fields.CharField(max_length=128, default="")
    password = fields.CharField(max_length=255, default="")
    realm = fields.CharField(max_length=255, default="*")
    # Comma-separated IPs/CIDRs allowed to send INVITEs ('ip' trunks).
    allowed_sources = fields.CharField(max_length=1024, default="")
    register_expiry_s = fields.IntField(default=300)
    priority = fields.IntField(default=10)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    dids: fields.ReverseRelation[Did]

    class Meta:
        table = "trunk"


class Queue(Model):
    """A call queue: how waiting callers are offered to operators."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    strategy = fields.CharField(max_length=16, default="ringall")
    ring_timeout_s = fields.IntField(default=15)
    retry_s = fields.IntField(default=2)
    max_wait_s = fields.IntField(default=0)  # 0 = no limit
    # 'music': answer at once and play hold music; 'ringing': ringback until an operator answers.
    wait_mode = fields.CharField(max_length=8, default="music")
    music_file = fields.CharField(max_length=512, default="")

    dids: fields.ReverseRelation[Did]
    members: fields.ReverseRelation[QueueMember]

    class Meta:
        table = "queue"


class Did(Model):
    """A dialled number routed to a queue, on one trunk or (trunk null) on any trunk."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=64)
    trunk: fields.ForeignKeyNullableRelation[Trunk] = fields.ForeignKeyField(
        "models.Trunk", related_name="dids", null=True, on_delete=fields.CASCADE
    )
    queue: fields.ForeignKeyRelation[Queue] = fields.ForeignKeyField(
        "models.Queue", related_name="dids", on_delete=fields.CASCADE
    )

    class Meta:
        table = "did"
        # SQLite treats NULLs as distinct: this does not stop two "any trunk" rows per number.
        unique_together = (("number", "trunk"),)


class Operator(Model):
    """A person who answers queued calls, reachable on an internal extension."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    extension = fields.CharField(max_length=32, unique=True)
    enabled = fields.BooleanField(default=True)

    seats: fields.ReverseRelation[Seat]
    memberships: fields.ReverseRelation[QueueMember]

    class Meta:
        table = "operator"


class Seat(Model):
    """A device an operator takes calls on: a SIP URI, a USB headset or a LAN phone."""

    id = fields.IntField(primary_key=True)
    operator: fields.ForeignKeyRelation[Operator] = fields.ForeignKeyField(
        "models.Operator", related_name="seats", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16)  # 'sip_uri' | 'headset' | 'phone'
    target = fields.CharField(max_length=512)  # e.g. sip:101@127.0.0.1:5070
    enabled = fields.BooleanField(default=True)

    class Meta:
        table = "seat"


class QueueMember(Model):
    """An operator's membership of a queue, with penalty and position for the strategy."""

    id = fields.IntField(primary_key=True)
    queue: fields.ForeignKeyRelation[Queue] = fields.ForeignKeyField(
        "models.Queue", related_name="members", on_delete=fields.CASCADE
    )
    operator: fields.ForeignKeyRelation[Operator] = fields.ForeignKeyField(
        "models.Operator", related_name="memberships", on_delete=fields.CASCADE
    )
    penalty = fields.IntField(default=0)
    position = fields.IntField(default=0)

    class Meta:
        table = "queue_member"
        unique_together = (("queue", "operator"),)


class CallRecord(Model):
    """One call's detail record (CDR), in plain strings so it outlives the config it names."""

    id = fields.CharField(max_length=36, primary_key=True)  # uuid text
    direction = fields.CharField(max_length=8, default="in")
    sip_call_id = fields.CharField(max_length=255, default="")
    caller = fields.CharField(max_length=255, default="")
    did = fields.CharField(max_length=64, default="")
    trunk = fields.CharField(max_length=64, default="")
    queue = fields.CharField(max_length=64, default="")
    operator = fields.CharField(max_length=128, default="")
    started_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    connected_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    disposition = fields.CharField(max_length=24, default="")
    hangup_cause = fields.CharField(max_length=64, default="")
    hold_s = fields.FloatField(null=True)
    talk_s = fields.FloatField(null=True)

    recordings: fields.ReverseRelation[Recording]

    class Meta:
        table = "call_record"


class QueueEvent(Model):
    """A queue_log style event (ENTERQUEUE, CONNECT, ABANDON, ...) for reports and sync."""

    id = fields.BigIntField(primary_key=True)
    ts = fields.DatetimeField(db_index=True)
    call_id = fields.CharField(max_length=36, db_index=True)
    queue = fields.CharField(max_length=64)
    agent = fields.CharField(max_length=128, default="")
    event = fields.CharField(max_length=24)
    data1 = fields.CharField(max_length=255, default="")
    data2 = fields.CharField(max_length=255, default="")
    data3 = fields.CharField(max_length=255, default="")
    data4 = fields.CharField(max_length=255, default="")
    data5 = fields.CharField(max_length=255, default="")

    class Meta:
        table = "queue_event"


class Incident(Model):
    """A period during which a monitored thing was down, with its cause and what was done."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)  # 'trunk','uplink','seat','disk','cloud','engine'
    subject = fields.CharField(max_length=128)
    state = fields.CharField(max_length=16, default="open")
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    cause = fields.TextField()
    action = fields.TextField(default="")
    severity = fields.CharField(max_length=8, default="major")

    class Meta:
        table = "incident"
        indexes = (("kind", "subject", "ended_at"),)


class Recording(Model):
    """An audio file of a call, stored under the data directory."""

    id = fields.IntField(primary_key=True)
    call: fields.ForeignKeyRelation[CallRecord] = fields.ForeignKeyField(
        "models.CallRecord", related_name="recordings", on_delete=fields.CASCADE
    )
    path = fields.CharField(max_length=1024)
    format = fields.CharField(max_length=8, default="wav")
    duration_s = fields.FloatField(default=0.0)
    size_bytes = fields.BigIntField(default=0)
    sha256 = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "recording"
