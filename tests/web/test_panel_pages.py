"""Every page as a full page and as an htmx partial; CRUD reloads only its service; reports and CSV."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from appliance.daemon import Services
from appliance.storage import CallRecord, Incident, Queue, QueueEvent, Recording, RecordingAccess, Trunk
from tests.web.panel import field_error, post_form

PAGES = {  # path: a text only the partial has to carry
    "/": "active-calls", "/trunks": "No carrier yet", "/trunks/new": 'name="host"', "/queues": "No queue yet",
    "/queues/new": 'name="numbers"', "/operators": "No operator yet", "/operators/new": 'name="seats"',
    "/records": "No call matches", "/recordings": "No recording matches", "/incidents": "No incident matches",
    "/settings": "users-table", "/broken": "checks-table", "/me": "not linked", "/account": 'name="current"',
}


async def test_every_page_full_and_partial(admin_client: httpx.AsyncClient) -> None:
    for path, marker in PAGES.items():
        full = await admin_client.get(path)
        assert full.status_code == 200, path
        assert "<html" in full.text and 'class="sidebar"' in full.text, path
        part = await admin_client.get(path, headers={"HX-Request": "true"})
        assert part.status_code == 200, path
        assert "<html" not in part.text and 'class="sidebar"' not in part.text, path
        if path not in ("/me",):
            assert marker in part.text, path
        boosted = await admin_client.get(path, headers={"HX-Request": "true", "HX-Boosted": "true"})
        assert "<html" in boosted.text, path


@pytest.fixture
def reloads(services: Services, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each service was reloaded."""
    counts = {"trunks": 0, "acd": 0}
    for name, service in (("trunks", services.trunks), ("acd", services.acd)):
        original = service.load

        async def load(original: Any = original, name: str = name) -> None:
            counts[name] += 1
            await original()

        monkeypatch.setattr(service, "load", load)
    return counts


async def test_trunk_crud_reloads_only_the_trunks(admin_client: httpx.AsyncClient, services: Services,
                                                  reloads: dict[str, int]) -> None:
    bad = await post_form(admin_client, "/trunks/new", {"name": "carrier b", "kind": "registration",
                                                        "host": "sip.example:99999", "allowed_sources": "10.0.0.0/33"})
    assert bad.status_code == 422
    assert "letters, digits" in field_error(bad.text, "name")
    assert "port" in field_error(bad.text, "host")
    assert "user name" in field_error(bad.text, "username")
    assert "10.0.0.0/33" in field_error(bad.text, "allowed_sources")
    assert await Trunk.all().count() == 0 and reloads == {"trunks": 0, "acd": 0}
    created = await post_form(admin_client, "/trunks/new", {"name": "carrier-b", "kind": "registration",
                                                            "host": "sip.example:5080", "username": "4951",
                                                            "password": "pw-from-carrier", "enabled": "on"})
    assert created.status_code == 303
    trunk = await Trunk.get(name="carrier-b")
    assert reloads == {"trunks": 1, "acd": 0}
    assert [(t.name, t.username) for t in services.engine.trunks] == [("carrier-b", "4951")]  # type: ignore[attr-defined]
    page = await admin_client.get("/trunks")
    assert "carrier-b" in page.text and "pw-from-carrier" not in page.text
    kept = await post_form(admin_client, f"/trunks/{trunk.id}", {"name": "carrier-b", "kind": "registration",
                                                                 "host": "sip.example:5080", "username": "4951",
                                                                 "password": "", "priority": "5", "enabled": "on"},
                           headers={"HX-Request": "true"})
    assert kept.status_code == 200 and "Saved" in kept.text and "<html" not in kept.text
    assert (await Trunk.get(id=trunk.id)).password == "pw-from-carrier"  # empty password field keeps it
    test = await post_form(admin_client, f"/trunks/{trunk.id}/test", {})
    assert "Waiting for carrier-b" in test.text  # the fake carrier never answers
    assert (await post_form(admin_client, f"/trunks/{trunk.id}/delete", {})).status_code == 303
    assert await Trunk.all().count() == 0 and services.engine.trunks == []  # type: ignore[attr-defined]
    assert reloads["acd"] == 0


async def test_queue_and_operator_forms_reload_only_the_queues(admin_client: httpx.AsyncClient,
                                                               services: Services,
                                                               reloads: dict[str, int]) -> None:
    op = await post_form(admin_client, "/operators/new", {"name": "Anna", "extension": "101",
                                                          "seats": "sip:101@192.0.2.50:5060", "enabled": "on"})
    assert op.status_code == 303
    bad = await post_form(admin_client, "/queues/new", {"name": "sales", "strategy": "ringall",
                                                        "ring_timeout_s": "abc", "numbers": "12 34",
                                                        "members": ["101", "999"]})
    assert bad.status_code == 422
    assert field_error(bad.text, "ring_timeout_s") == "Enter a whole number."
    assert "not a number" in field_error(bad.text, "numbers")
    assert "999" in field_error(bad.text, "members")
    assert await Queue.all().count() == 0
    good = await post_form(admin_client, "/queues/new", {"name": "sales", "strategy": "rrmemory",
                                                         "ring_timeout_s": "20", "numbers": "4951000, *",
                                                         "members": ["101"]})
    assert good.status_code == 303
    assert reloads == {"trunks": 0, "acd": 2}
    queue = services.acd.directory.queues["sales"]
    assert queue.strategy == "rrmemory" and queue.ring_timeout_s == 20 and len(queue.members) == 1
    assert services.acd.directory.route("any", ["4951000"]) == ("sales", "4951000")
    listing = await admin_client.get("/queues")
    assert "sales" in listing.text and "Anna" in listing.text


async def _call(caller: str, disposition: str, minutes_ago: int, operator: str = "Anna") -> CallRecord:
    started = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return await CallRecord.create(id=f"call-{caller}", caller=caller, did="4951000", trunk="carrier-a",
                                   queue="support", operator=operator if disposition == "ANSWERED" else "",
                                   started_at=started, ended_at=started + timedelta(seconds=40),
                                   disposition=disposition, hold_s=5.0, talk_s=35.0)


async def test_call_records_filter_and_csv(admin_client: httpx.AsyncClient) -> None:
    await _call("79001112233", "ANSWERED", 5)
    await _call("=1+2", "ABANDONED", 3)
    page = await admin_client.get("/records", params={"disposition": "ABANDONED"}, headers={"HX-Request": "true"})
    assert "=1+2" in page.text and "79001112233" not in page.text
    csv = await admin_client.get("/records.csv", params={"number": "7900"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("started,caller,number") and len(lines) == 2 and "79001112233" in lines[1]
    everything = (await admin_client.get("/records.csv")).text
    assert "'=1+2" in everything  # a spreadsheet will not run it as a formula
    bad = await admin_client.get("/records", params={"since": "31.12.2024"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text


async def test_incidents_filter_csv_and_close(admin_client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    open_one = await Incident.create(kind="trunk", subject="carrier-a", started_at=now,
                                     cause="registration failed: 403")
    await Incident.create(kind="disk", subject="data", started_at=now - timedelta(days=2), ended_at=now,
                          cause="full", state="closed")
    page = await admin_client.get("/incidents", params={"state": "open"})
    assert "registration failed: 403" in page.text and "full" not in page.text
    csv = (await admin_client.get("/incidents.csv", params={"kind": "disk"})).text.splitlines()
    assert len(csv) == 2 and "disk" in csv[1]
    await post_form(admin_client, f"/incidents/{open_one.id}/close", {})
    closed = await Incident.get(id=open_one.id)
    assert closed.ended_at is not None and "closed by admin" in closed.action


def _wav(path: Path, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * int(8000 * seconds))
    return path


async def test_recordings_search_play_download_and_roles(admin_client: httpx.AsyncClient, services: Services,
                                                         login_as: Any, tmp_path: Path) -> None:
    call = await _call("79005556677", "ANSWERED", 10)
    path = _wav(services.settings.data.recordings_dir / "2025/01/01/a.wav")
    rec = await Recording.create(call=call, path=str(path), duration_s=1.0, size_bytes=path.stat().st_size)
    outside = await Recording.create(call=call, path=str(_wav(tmp_path / "elsewhere.wav")))
    page = await admin_client.get("/recordings", params={"number": "5556677"})
    assert f"/recordings/{rec.id}/stream" in page.text and "<audio" in page.text
    assert "79005556677" not in (await admin_client.get("/recordings", params={"number": "123123"})).text
    audio = await admin_client.get(f"/recordings/{rec.id}/stream")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == path.read_bytes()
    download = await admin_client.get(f"/recordings/{rec.id}/file")
    assert download.headers["content-disposition"].startswith("attachment")
    assert (await admin_client.get(f"/recordings/{outside.id}/stream")).status_code == 404
    assert await RecordingAccess.all().count() == 2  # every listen and download is logged
    operator = await login_as("operator", operator_id=(await _operator()).id)
    assert (await operator.get(f"/recordings/{rec.id}/stream")).status_code == 403


async def _operator() -> Any:
    from appliance.storage import Operator

    return await Operator.create(name="Anna", extension="101")


async def test_broken_page_runs_checks_and_operator_reports_a_problem(admin_client: httpx.AsyncClient,
                                                                      login_as: Any) -> None:
    page = await admin_client.get("/broken")
    assert "No carrier trunk is configured" in page.text and "not configured" in page.text
    run = await post_form(admin_client, "/broken/run", {}, headers={"HX-Request": "true"})
    assert "Last measured" in run.text and "GB free" in run.text
    op = await _operator()
    operator = await login_as("operator", operator_id=op.id)
    me = await operator.get("/me")
    assert "Anna" in me.text and "Report a problem" in me.text
    report = await post_form(operator, "/report", {"text": "callers hear silence"}, headers={"HX-Request": "true"})
    assert "saved as incident" in report.text
    incident = await Incident.get(kind="report")
    assert incident.cause == "callers hear silence" and incident.subject == "reported by operator1"
    assert '"checks"' in incident.action and "No carrier trunk" in incident.action


async def test_operator_sees_own_missed_calls(login_as: Any) -> None:
    op = await _operator()
    missed = await _call("79009998877", "ABANDONED", 2)
    await _call("79001234000", "ABANDONED", 1)  # rang someone else
    await QueueEvent.create(ts=datetime.now(UTC), call_id=missed.id, queue="support", agent="Anna",
                            event="RINGNOANSWER", data1="15000", data2="timeout")
    operator = await login_as("operator", operator_id=op.id)
    part = await operator.get("/me", headers={"HX-Request": "true"})
    assert "79009998877" in part.text and "79001234000" not in part.text
