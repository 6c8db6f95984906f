"""Delivery to the reference receiver on 127.0.0.1 through every failure: each record exactly once."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.acd import CallJournal
from appliance.cloud import CloudSync
from appliance.cloud import receiver as receiver_module
from appliance.cloud.receiver import Faults
from appliance.incidents import IncidentJournal
from appliance.storage import Database, Incident
from tests.cloud.harness import (
    TOKEN,
    assert_exactly_once,
    outbox_empty,
    receiver,
    record_calls,
    url_of,
    wait_for,
)

Start = Callable[..., Awaitable[CloudSync]]


async def no_open_incident(kind: str, subject: str | None = None) -> bool:
    """Whether every incident of this kind (and subject) is closed."""
    query = Incident.filter(kind=kind, ended_at__isnull=True)
    return not await (query.filter(subject=subject) if subject else query).exists()


async def test_everything_arrives_once_in_batches(db: Database, tmp_path: Path, journal: CallJournal,
                                                  start_sync: Start) -> None:
    server = receiver(tmp_path / "cloud.db")
    try:
        incidents = IncidentJournal()
        await incidents.open("trunk", "carrier-b", "OPTIONS timeouts")
        sync = await start_sync(url_of(server))
        await record_calls(journal, 0, 40)
        await incidents.close("trunk", "carrier-b", "carrier-b answers again")
        await wait_for(lambda: outbox_empty(db.path), what="the outbox to drain")
        result = assert_exactly_once(server.store, db.path)
        assert result == {"records": 40 * 4 + 2, "duplicates_dropped": 0}  # 3 events + 1 call each; incident x2
        assert len(server.store.query("SELECT * FROM batch")) >= (40 * 4 + 2) / 25
        # The receiver keeps the incident's latest version: closed.
        (data,) = server.store.query("SELECT data FROM latest WHERE kind = 'incident'")[0]
        assert json.loads(data)["state"] == "closed" and json.loads(data)["ended_at"]
        (call,) = server.store.query("SELECT data FROM latest WHERE kind = 'call' AND ref = 'call-7'")[0]
        assert json.loads(call)["disposition"] == "ANSWERED" and json.loads(call)["talk_s"] == 30.0
        status = await sync.status()
        assert (status["backlog"], status["state"], status["sent_records"]) == (0, "up", 162)
        assert status["last_success_at"] is not None
    finally:
        server.stop()


async def test_receiver_down_for_a_while(db: Database, tmp_path: Path, journal: CallJournal,
                                         start_sync: Start) -> None:
    server = receiver(tmp_path / "cloud.db")
    port = server.server_address[1]
    server.stop()  # the cloud is unreachable from the start
    sync = await start_sync(url_of(server))
    await record_calls(journal, 0, 30)
    await wait_for(lambda: sync.counters["failures"] >= 4, what="failed attempts")
    open_incident = await Incident.filter(kind="cloud", ended_at__isnull=True).first()
    assert open_incident is not None and "cannot reach the cloud" in open_incident.cause
    assert (await sync.status())["backlog"] == 30 * 4 + 1  # and the cloud incident itself
    server = receiver(tmp_path / "cloud.db", port)  # back on the same address
    try:
        await wait_for(lambda: outbox_empty(db.path), what="the backlog to drain")
        assert_exactly_once(server.store, db.path)
        await wait_for(lambda: no_open_incident("cloud"), what="the cloud incident to close")
    finally:
        server.stop()


async def test_receiver_answering_500(db: Database, tmp_path: Path, journal: CallJournal, start_sync: Start) -> None:
    server = receiver(tmp_path / "cloud.db", faults=Faults(fail_next=5))
    try:
        sync = await start_sync(url_of(server))
        await record_calls(journal, 0, 20)
        await wait_for(lambda: outbox_empty(db.path), what="the outbox to drain")
        assert_exactly_once(server.store, db.path)
        assert sync.counters["failures"] == 5
    finally:
        server.stop()


async def test_answers_lost_after_the_receiver_committed(db: Database, tmp_path: Path, journal: CallJournal,
                                                         start_sync: Start) -> None:
    server = receiver(tmp_path / "cloud.db", faults=Faults(lose_answer_next=3))
    try:
        await start_sync(url_of(server))
        await record_calls(journal, 0, 20)
        await wait_for(lambda: outbox_empty(db.path), what="the outbox to drain")
        result = assert_exactly_once(server.store, db.path)
        # The first batch (25 records) was stored three times without an answer: it came a fourth
        # time with the same key, and the three repeats were dropped.
        assert result["duplicates_dropped"] == 3 * 25
        repeats = server.store.query("SELECT batch_key, count(*) FROM batch GROUP BY batch_key HAVING count(*) > 1")
        assert [(key.rsplit(":", 1)[1], n) for key, n in repeats] == [("1-25", 4)]
    finally:
        server.stop()


async def test_full_outbox_pauses_collection_and_resumes(db: Database, tmp_path: Path, journal: CallJournal,
                                                         start_sync: Start) -> None:
    server = receiver(tmp_path / "cloud.db")
    port = server.server_address[1]
    server.stop()
    sync = await start_sync(url_of(server), outbox_max=40, batch_max=10)
    await record_calls(journal, 0, 25)  # 100 records for an outbox of 40
    await wait_for(lambda: Incident.filter(kind="cloud", subject="outbox", ended_at__isnull=True).exists(),
                   what="the outbox-full incident")
    status = await sync.status()
    # 40 collected; the other 60 records (and the cloud incident, once it opens) wait uncollected.
    assert (status["outbox"], status["outbox_full"]) == (40, True)
    assert status["pending_changes"] >= 60
    server = receiver(tmp_path / "cloud.db", port)
    try:
        await wait_for(lambda: outbox_empty(db.path), what="the backlog to drain")
        assert_exactly_once(server.store, db.path)
        await wait_for(lambda: no_open_incident("cloud", "outbox"), what="the outbox incident to close")
    finally:
        server.stop()


async def test_batch_too_large_is_split(db: Database, tmp_path: Path, journal: CallJournal, start_sync: Start,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receiver_module, "MAX_BODY", 3000)  # about ten records
    server = receiver(tmp_path / "cloud.db")
    try:
        sync = await start_sync(url_of(server), batch_max=100)
        await record_calls(journal, 0, 15)
        await wait_for(lambda: outbox_empty(db.path), what="the outbox to drain")
        assert_exactly_once(server.store, db.path)
        assert sync._batch_max < 15
    finally:
        server.stop()


async def test_a_200_that_is_no_acknowledgement_keeps_the_records(db: Database, tmp_path: Path,
                                                                 journal: CallJournal, start_sync: Start) -> None:
    def portal(_batch: dict[str, Any]) -> None:
        raise ValueError("a captive portal")

    server = receiver(tmp_path / "cloud.db")
    server.RequestHandlerClass = _PortalHandler
    try:
        sync = await start_sync(url_of(server))
        await record_calls(journal, 0, 5)
        await wait_for(lambda: sync.counters["failures"] >= 2, what="refused acknowledgements")
        assert (await sync.status())["backlog"] == 20
        assert (await sync.status())["last_error"] == "the cloud answered 200 without JSON"
    finally:
        server.stop()


class _PortalHandler(receiver_module.Handler):
    """Answers every POST with 200 and a web page, as a hotel's captive portal does."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        page = b"<html>Welcome! Please accept our terms.</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)


async def test_wrong_token_is_reported_and_never_logged(db: Database, tmp_path: Path, journal: CallJournal,
                                                        start_sync: Start, caplog: pytest.LogCaptureFixture) -> None:
    server = receiver(tmp_path / "cloud.db")
    try:
        sync = await start_sync(url_of(server), token="not-the-token")
        await record_calls(journal, 0, 2)
        await wait_for(lambda: sync.counters["failures"] >= 3, what="refusals")
        status = await sync.status()
        assert "401" in status["last_error"] and "check cloud.token" in status["last_error"]
        incident = await Incident.filter(kind="cloud").first()
        assert incident is not None and "401" in incident.cause
        assert "not-the-token" not in caplog.text + json.dumps(status) + repr(sync.settings)
        assert TOKEN not in caplog.text
    finally:
        server.stop()
