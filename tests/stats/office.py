"""A fixed office day: the event log, call records and incidents the metric tests compute by hand.

T0 is Monday 2025-03-03 09:00:00 UTC (12:00 in Moscow). Times below are seconds after T0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.acd import CallJournal, QueueManager
from appliance.daemon import Services
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.settings import DataSettings, Settings
from appliance.sip.fake import FakeEngine
from appliance.storage import Database, QueueEvent
from appliance.trunks import TrunkService

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

# (t, call, queue, agent, event, data...)
LOG: list[tuple[float, str, str, str, str, tuple[object, ...]]] = [
    # A: answered by anna after 10 s, 120 s talk, 30 s wrap-up cut to 20 s by call F.
    (0, "A", "sales", "", "ENTERQUEUE", ("", "111", 1)),
    (10, "A", "sales", "anna", "CONNECT", (10, "f1", 4000, 1)),
    (130, "A", "sales", "anna", "COMPLETECALLER", (10, 120, 1)),
    (160, "A", "sales", "anna", "WRAPUP", (30,)),
    # B: boris misses the first offer, answers after 30 s (outside SL), 60 s talk, 15 s wrap-up.
    (20, "B", "sales", "", "ENTERQUEUE", ("", "222", 2)),
    (35, "B", "sales", "boris", "RINGNOANSWER", (15000, "timeout")),
    (50, "B", "sales", "boris", "CONNECT", (30, "f2", 3000, 1)),
    (110, "B", "sales", "boris", "COMPLETEAGENT", (30, 60, 2)),
    (125, "B", "sales", "boris", "WRAPUP", (15,)),
    # C: hangs up after 3 s while an operator's phone rings (a short abandon; no missed offer).
    (40, "C", "sales", "", "ENTERQUEUE", ("", "333", 2)),
    (43, "C", "sales", "", "ABANDON", (1, 2, 3)),
    # D: gives up after 40 s.
    (60, "D", "sales", "", "ENTERQUEUE", ("", "444", 1)),
    (100, "D", "sales", "", "ABANDON", (1, 1, 40)),
    # E: leaves at max wait after 100 s.
    (200, "E", "sales", "", "ENTERQUEUE", ("", "555", 1)),
    (300, "E", "sales", "", "EXITWITHTIMEOUT", (1, 1, 100)),
    # F: anna takes it during A's wrap-up, transfers it after 100 s of talk.
    (140, "F", "sales", "", "ENTERQUEUE", ("", "666", 1)),
    (150, "F", "sales", "anna", "CONNECT", (10, "f3", 2000, 1)),
    (250, "F", "sales", "anna", "TRANSFER", ("102", "", 10, 100, 1)),
    # G: boris answers at exactly 20 s (inside SL: 'within' includes the limit).
    (400, "G", "sales", "", "ENTERQUEUE", ("", "777", 1)),
    (420, "G", "sales", "boris", "CONNECT", (20, "f4", 5000, 1)),
    (480, "G", "sales", "boris", "COMPLETECALLER", (20, 60, 1)),
    # boris pauses for lunch from 500 to 800.
    (500, "NONE", "NONE", "boris", "PAUSE", ("lunch",)),
    (800, "NONE", "NONE", "boris", "UNPAUSE", ("",)),
    # H: support queue, anna after 5 s, 60 s talk.
    (700, "H", "support", "", "ENTERQUEUE", ("", "888", 1)),
    (705, "H", "support", "anna", "CONNECT", (5, "f5", 1000, 1)),
    (765, "H", "support", "anna", "COMPLETEAGENT", (5, 60, 1)),
    # Callbacks: C called back at 170 (no answer) and 600 (reached); D at 1200 (after the
    # period, still counted: it belongs to D's task); E never.
    (50, "C", "NONE", "", "CALLBACKREQ", ("333", "abandon")),
    (110, "D", "NONE", "", "CALLBACKREQ", ("444", "abandon")),
    (300, "E", "NONE", "", "CALLBACKREQ", ("555", "timeout")),
    (170, "C", "NONE", "anna", "CALLBACKATTEMPT", ("noanswer",)),
    (600, "C", "NONE", "anna", "CALLBACKATTEMPT", ("reached",)),
    (1200, "D", "NONE", "boris", "CALLBACKATTEMPT", ("reached",)),
    # An outbound call moved from carrier-a to carrier-b.
    (900, "OUT1", "NONE", "anna", "FAILOVER", ("carrier-a", "carrier-b", 503)),
]

# (id, direction, trunk, start, connected, talk)
CALLS = [("A", "in", "carrier-a", 0, 10, 120), ("B", "in", "carrier-a", 20, 50, 60),
         ("C", "in", "carrier-a", 40, None, None), ("D", "in", "carrier-a", 60, None, None),
         ("E", "in", "carrier-b", 200, None, None), ("F", "in", "carrier-b", 140, 150, 100),
         ("G", "in", "carrier-b", 400, 420, 60), ("H", "in", "carrier-b", 700, 705, 60),
         ("OUT1", "out", "carrier-b", 900, 905, 30)]

# (kind, subject, start, end)
INCIDENTS = [("trunk", "carrier-a", 200, 500), ("uplink", "wan1", -100, 50), ("uplink", "lte", 900, None)]


def at(seconds: float) -> datetime:
    """T0 plus seconds."""
    return T0 + timedelta(seconds=seconds)


async def write_log(entries: list[tuple[float, str, str, str, str, tuple[object, ...]]]) -> None:
    """Store events in time order, as the journal would."""
    rows = []
    for t, call, queue, agent, event, data in sorted(entries, key=lambda e: e[0]):
        fields = {f"data{i + 1}": str(v) for i, v in enumerate(data)}
        rows.append(QueueEvent(ts=at(t), call_id=call, queue=queue, agent=agent, event=event, **fields))
    await QueueEvent.bulk_create(rows)


def fake_services(db: Database) -> Services:
    """The services of a box on the in-memory engine, a queue 'sales' and a degraded cloud link."""
    engine, health, journal = FakeEngine(), HealthBoard(), CallJournal()
    trunks = TrunkService(engine, health, IncidentJournal())
    acd = QueueManager(engine, trunks, journal, RecordingIndex(Path("/nonexistent"), journal.write), print)
    acd.waiting["sales"] = []
    health.tracker("cloud", "cloud.example").observe(False, "timeout")
    settings = Settings(data=DataSettings(dir=db.path.parent, database=db.path))
    return Services(settings, engine, trunks, acd, health, IncidentJournal())
