"""The recordings API: range requests, roles, the access log, search and the streamed export archive."""

from __future__ import annotations

import csv
import io
import tarfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from appliance.auth import Auth
from appliance.daemon import Services
from appliance.storage import CallRecord, Operator, Recording, RecordingAccess
from tests.web.conftest import admin_client, app, auth, client, login_as, services  # noqa: F401 - fixtures

DATA = bytes(range(256)) * 40  # 10 240 bytes, every offset distinguishable


async def _recording(services: Services, caller: str = "79001234567", operator: str = "op101",  # noqa: F811
                     duration: float = 30.0, started: datetime | None = None) -> Recording:
    started = started or datetime.now(UTC)
    call = await CallRecord.create(id=f"{caller}-{started.timestamp()}"[:36], caller=caller, did="4951000",
                                   trunk="carrier", queue="support", operator=operator, started_at=started,
                                   disposition="ANSWERED", talk_s=duration)
    path = services.settings.data.recordings_dir / f"{started:%Y/%m/%d}" / f"{call.id}.opus"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DATA)
    return await Recording.create(call=call, path=str(path), format="opus", state="ready", channels=2,
                                  duration_s=duration, size_bytes=len(DATA), sha256="ab" * 32)


@pytest.mark.parametrize(("header", "first", "last"), [("bytes=10-99", 10, 99), ("bytes=10000-", 10000, 10239),
                                                       ("bytes=-40", 10200, 10239), ("bytes=0-999999", 0, 10239)])
async def test_range_requests_return_the_right_bytes(admin_client: httpx.AsyncClient, services: Services,  # noqa: F811
                                                     header: str, first: int, last: int) -> None:
    """206 with exactly the asked bytes and a Content-Range the browser's player can seek with."""
    rec = await _recording(services)
    response = await admin_client.get(f"/recordings/{rec.id}/stream", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[first:last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert response.headers["content-type"].startswith("audio/ogg")
    assert response.headers["accept-ranges"] == "bytes"


async def test_whole_file_and_unsatisfiable_range(admin_client: httpx.AsyncClient, services: Services) -> None:  # noqa: F811
    """No Range: 200 with the whole file; a range past the end: 416 naming the size."""
    rec = await _recording(services)
    whole = await admin_client.get(f"/recordings/{rec.id}/file")
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["content-disposition"].startswith("attachment")
    assert whole.headers["x-content-sha256"] == rec.sha256
    beyond = await admin_client.get(f"/recordings/{rec.id}/stream", headers={"Range": "bytes=20000-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(DATA)}"


async def test_roles_and_the_access_log(login_as: Callable[..., Awaitable[httpx.AsyncClient]],  # noqa: F811
                                        services: Services) -> None:  # noqa: F811
    """A supervisor may listen (and is logged); an operator gets 403 and nothing is sent or logged."""
    rec = await _recording(services)
    seat = await Operator.create(name="op101", extension="101")
    supervisor, operator = await login_as("supervisor"), await login_as("operator", operator_id=seat.id)
    assert (await operator.get(f"/recordings/{rec.id}/stream")).status_code == 403
    assert (await operator.get("/recordings/search")).status_code == 403
    assert (await operator.get("/recordings/export?start=2020-01-01&end=2030-01-01")).status_code == 403
    assert await RecordingAccess.all().count() == 0
    played = await supervisor.get(f"/recordings/{rec.id}/stream", headers={"Range": "bytes=0-99"})
    assert played.status_code == 206
    entry = await RecordingAccess.get(recording_id=rec.id)
    assert (entry.username, entry.role, entry.via, entry.action, entry.detail) == \
        ("supervisor1", "supervisor", "session", "play", f"bytes 0-99/{len(DATA)}")
    assert (await supervisor.get("/recordings/access")).status_code == 403  # the log itself is admin-only


async def test_api_needs_a_token_and_searches(client: httpx.AsyncClient, auth: Auth, services: Services) -> None:  # noqa: F811
    """/api/v1: 401 without a token; a supervisor token searches by number, operator and duration."""
    now = datetime.now(UTC)
    await _recording(services, caller="111", operator="op101", duration=12, started=now - timedelta(hours=2))
    wanted = await _recording(services, caller="222", operator="op102", duration=95, started=now - timedelta(hours=1))
    assert (await client.get("/api/v1/recordings")).status_code == 401
    _, secret = await auth.tokens.create({"name": "qa", "role": "supervisor"}, "admin")
    bearer = {"Authorization": f"Bearer {secret}"}
    found = (await client.get("/api/v1/recordings", params={"number": "22", "min_s": "60"}, headers=bearer)).json()
    assert found["total"] == 1 and found["items"][0]["id"] == wanted.id
    assert found["items"][0]["call"]["operator"] == "op102"
    assert (await client.get("/api/v1/recordings", params={"operator": "op101"}, headers=bearer)).json()["total"] == 1
    piece = await client.get(f"/api/v1/recordings/{wanted.id}/stream", headers={**bearer, "Range": "bytes=5-9"})
    assert piece.content == DATA[5:10]
    assert (await RecordingAccess.get(recording_id=wanted.id)).via == "token"


async def test_export_streams_a_tar_with_an_index(admin_client: httpx.AsyncClient, services: Services) -> None:  # noqa: F811
    """A period's recordings as a tar: index.csv first, then each file under its day, bytes intact."""
    now = datetime.now(UTC)
    inside = await _recording(services, caller="333", started=now - timedelta(hours=1))
    await _recording(services, caller="444", started=now - timedelta(days=3))  # outside the period
    start, end = (now - timedelta(days=1)).isoformat(), (now + timedelta(minutes=1)).isoformat()
    response = await admin_client.get("/recordings/export", params={"start": start, "end": end})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-tar")
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = tar.getnames()
        assert names[0] == "index.csv" and len(names) == 2
        assert names[1].endswith(f"/{inside.call_id}.opus")
        assert tar.extractfile(names[1]).read() == DATA  # type: ignore[union-attr]
        index = tar.extractfile("index.csv").read().decode()  # type: ignore[union-attr]
    rows = list(csv.DictReader(io.StringIO(index)))
    assert [row["caller"] for row in rows] == ["333"]  # the call outside the period is not there
    assert (await RecordingAccess.get(action="export")).recording_id is None
    assert (await admin_client.get("/recordings/export")).status_code == 400
