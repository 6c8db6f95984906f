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
    # -- carrier failover (appliance/trunks/, appliance/routing/) --
    weight = fields.IntField(default=100)  # share among trunks of equal priority
    max_channels = fields.IntField(default=0)  # concurrent calls, both directions; 0 = no limit
    codecs = fields.CharField(max_length=128, default="")  # offered on outbound calls, e.g. "PCMA,PCMU"
    caller_id = fields.CharField(max_length=64, default="")  # our number presented on outbound calls
    test_number = fields.CharField(max_length=64, default="")  # a DID of this trunk as dialled from outside
    probe_interval_s = fields.FloatField(default=2.0)  # SIP OPTIONS every this often; 0 = no probing
    probe_timeout_s = fields.FloatField(default=1.5)
    down_after = fields.IntField(default=3)  # failed probes in a row before the trunk is down
    up_after = fields.IntField(default=2)  # good probes in a row before a down trunk is up
    record = fields.BooleanField(default=True)  # calls arriving on this trunk are recorded

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
    record = fields.BooleanField(default=True)  # calls of this queue are recorded

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
    record = fields.BooleanField(default=True)  # calls this operator takes are recorded

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
    call_id: str  # the foreign key's column, for type checkers
    path = fields.CharField(max_length=1024)
    format = fields.CharField(max_length=8, default="wav")
    duration_s = fields.FloatField(default=0.0)
    size_bytes = fields.BigIntField(default=0)
    sha256 = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # -- recording as a product (appliance/recording/) --
    # 'recording' (legs being written), 'encoding' (legs closed, Opus not yet verified),
    # 'ready' (the verified Opus file), 'failed' (legs kept as WAV), 'lost' (no file survived)
    state = fields.CharField(max_length=12, default="ready", db_index=True)
    channels = fields.IntField(default=1)  # 2: caller left, operator right

    class Meta:
        table = "recording"


class RecordingAccess(Model):
    """Who listened to, downloaded or exported which recording, and when."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    username = fields.CharField(max_length=64)
    role = fields.CharField(max_length=16)
    via = fields.CharField(max_length=8)  # 'session' | 'token'
    address = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=12)  # 'play' | 'download' | 'export'
    recording_id = fields.IntField(null=True)  # null for an export of a period
    detail = fields.CharField(max_length=255, default="")  # byte range, or the exported period

    class Meta:
        table = "recording_access"


class User(Model):
    """A person who signs in to the panel, with a role: admin, supervisor or operator."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)  # argon2id, never the password itself
    role = fields.CharField(max_length=16)
    # The operator this user is, for the operator role's own status and missed calls.
    operator: fields.ForeignKeyNullableRelation[Operator] = fields.ForeignKeyField(
        "models.Operator", related_name="users", null=True, on_delete=fields.SET_NULL
    )
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    password_changed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "panel_user"


class WebSession(Model):
    """A signed-in browser, stored by the SHA-256 of its cookie value."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "web_session"


class ApiToken(Model):
    """A machine's API token, stored by its SHA-256 and shown once when created."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)  # the first characters, to tell tokens apart
    role = fields.CharField(max_length=16)
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class LoginAttempt(Model):
    """Failed sign-ins of one user name from one address, for back-off and lockout."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)  # "<address>|<username>"
    failures = fields.IntField(default=0)
    first_failed_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_attempt"


class SystemSetting(Model):
    """A setting an admin edits in the panel (time zone, set-up state), as JSON text."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.TextField()

    class Meta:
        table = "system_setting"


# -- cloud sync (appliance/cloud/) -------------------------------------------------------
class SyncChange(Model):
    """A row the cloud has not been given yet, noted by SQLite triggers in the writer's transaction."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)  # 'event' | 'call' | 'incident'
    ref = fields.CharField(max_length=64)  # the row's primary key

    class Meta:
        table = "sync_change"


class OutboxRecord(Model):
    """A record waiting for the cloud, numbered by a sequence that is never reused."""

    seq = fields.BigIntField(primary_key=True)  # AUTOINCREMENT: not reused after deletes
    kind = fields.CharField(max_length=16)  # 'event' | 'call' | 'incident' | 'snapshot'
    ref = fields.CharField(max_length=64)
    at = fields.DatetimeField()
    payload = fields.TextField()  # the record's JSON, frozen when collected

    class Meta:
        table = "sync_outbox"


class SyncState(Model):
    """This database's stream to the cloud: its id, the batch in flight and the last success."""

    id = fields.IntField(primary_key=True)
    stream = fields.CharField(max_length=36)  # uuid, new with every new database
    inflight_first = fields.BigIntField(null=True)
    inflight_last = fields.BigIntField(null=True)
    inflight_key = fields.CharField(max_length=128, default="")
    acked_seq = fields.BigIntField(default=0)
    last_success_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=255, default="")

    class Meta:
        table = "sync_state"


class Uplink(Model):
    """An internet uplink of the box (an Ethernet port or an LTE modem), probed and switched."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    interface = fields.CharField(max_length=32)  # e.g. eth1, wwan0
    gateway = fields.CharField(max_length=64, default="")  # empty: the gateway DHCP installed
    priority = fields.IntField(default=10)  # lower is preferred: the lowest is the primary
    # Comma-separated probe targets: icmp:<ip> or tcp:<ip>:<port>.
    probe_targets = fields.CharField(max_length=1024, default="")
    # Comma-separated IP-authenticated trunks whose carriers know this uplink's public address.
    ip_trunks = fields.CharField(max_length=1024, default="")
    public_address = fields.CharField(max_length=64, default="")
    enabled = fields.BooleanField(default=True)

    class Meta:
        table = "uplink"


# -- outbound routing and carrier self-test (appliance/routing/) -------------------------
class OutboundRoute(Model):
    """A dial pattern and the trunks, in order, that outbound calls matching it go through."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    # A regular expression when it starts with "^", else a plain prefix ("" matches every number).
    pattern = fields.CharField(max_length=255, default="")
    strip = fields.IntField(default=0)  # leading characters removed before dialling
    prepend = fields.CharField(max_length=32, default="")  # added in front after stripping
    trunks = fields.CharField(max_length=1024, default="")  # comma-separated names; empty = all by priority
    failover_codes = fields.CharField(max_length=128, default="408,5xx,6xx")
    progress_timeout_s = fields.FloatField(default=2.0)  # no provisional response by then: next trunk
    ring_timeout_s = fields.IntField(default=60)  # ringing this long without an answer: give up
    position = fields.IntField(default=0)  # routes are tried in this order
    enabled = fields.BooleanField(default=True)

    class Meta:
        table = "outbound_route"


class SelfTestResult(Model):
    """One carrier pair of a self-test run: a call out through one trunk to our own DID on another."""

    id = fields.IntField(primary_key=True)
    run_id = fields.CharField(max_length=36, db_index=True)
    from_trunk = fields.CharField(max_length=64)
    to_trunk = fields.CharField(max_length=64)
    number = fields.CharField(max_length=64)
    ok = fields.BooleanField()
    setup_ms = fields.IntField(null=True)  # from sending the INVITE to its arrival on the other trunk
    cause = fields.CharField(max_length=255, default="")
    started_at = fields.DatetimeField()

    class Meta:
        table = "selftest_result"


class SelfTestPlan(Model):
    """When the carrier self-test runs by itself (one row, none means never)."""

    id = fields.IntField(primary_key=True)
    interval_min = fields.IntField(default=0)  # 0 = only on demand
    timeout_s = fields.FloatField(default=20.0)  # per pair: how long to wait for the call to arrive

    class Meta:
        table = "selftest_plan"
