"""The /api/v1/calls and /api/v1/trunks routes on the fake engine, behind the API token guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from appliance.acd import QueueManager
from appliance.auth import Auth
from appliance.daemon import Services
from appliance.incidents import HealthBoard
from appliance.settings import DataSettings, Settings
from tests.trunks.carriers import Carriers
from tests.trunks.conftest import Box, office, trunk
from web.app import create_app


@pytest.fixture
async def api(box: Box, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of the app on the box's services, and bearer headers per role."""
    await box.start(office(trunk("carrier-a", test_number="4951110001"), trunk("carrier-b"),
                           route=[{"name": "all", "trunks": ["carrier-a", "carrier-b"], "progress_timeout_s": 0.3}]))
    settings = Settings(data=DataSettings(dir=tmp_path / "data"))
    acd = QueueManager(box.engine, box.trunks, box.journal, box.routing.calls._recordings, lambda work: None)  # type: ignore[arg-type]
    services = Services(settings, box.engine, box.trunks, acd, HealthBoard(), box.incidents)
    services.routing = box.routing
    auth = Auth(settings.data.dir)
    tokens = {role: (await auth.tokens.create({"name": role, "role": role}, "test"))[1]
              for role in ("admin", "supervisor", "operator")}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services, auth)),
                                 base_url="http://box") as client:
        yield client, {role: f"Bearer {secret}" for role, secret in tokens.items()}


async def test_placing_a_call_needs_a_token_and_shows_its_attempts(api, box: Box) -> None:  # type: ignore[no-untyped-def]
    client, bearer = api
    call = {"from_operator": "101", "number": "4951234567"}
    assert (await client.post("/api/v1/calls", json=call)).status_code == 401
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-a"] = 503
        response = await client.post("/api/v1/calls", json={"from_operator": "101", "number": "4951234567"},
                                     headers={"Authorization": bearer["admin"]})
        assert response.status_code == 201, response.text
        call_id = response.json()["id"]
        operator_leg = await box.until(lambda: next((leg for leg in box.engine.ringing() if leg.trunk is None), None))
        box.engine.remote_answer(operator_leg.key)
        await box.until(lambda: box.routing.calls.get(call_id).state == "connected")
        view = (await client.get(f"/api/v1/calls/{call_id}", headers={"Authorization": bearer["admin"]})).json()
        assert (view["state"], view["trunk"]) == ("connected", "carrier-b")
        assert [(a["trunk"], a["outcome"], a["code"]) for a in view["attempts"]] == [
            ("carrier-a", "failover", 503), ("carrier-b", "answered", 200)]
        ended = await client.delete(f"/api/v1/calls/{call_id}", headers={"Authorization": bearer["admin"]})
        assert ended.status_code == 202
        await box.until(lambda: box.routing.calls.get(call_id).state == "ended")
    bad = await client.post("/api/v1/calls", json={"from_operator": "101", "number": "12ab"},
                            headers={"Authorization": bearer["admin"]})
    assert bad.status_code == 400 and "digits" in bad.json()["detail"]
    unknown = await client.get("/api/v1/calls/nope", headers={"Authorization": bearer["admin"]})
    assert unknown.status_code == 404
    # An operator's token that is no operator's own cannot call from extension 101.
    assert (await client.post("/api/v1/calls", json={"from_operator": "101", "number": "4951234567"},
                              headers={"Authorization": bearer["operator"]})).status_code == 403


async def test_trunk_states_and_self_test_matrix(api, box: Box) -> None:  # type: ignore[no-untyped-def]
    client, bearer = api
    await box.until(lambda: all(s["state"] == "up" for s in box.trunks.status()))
    states = (await client.get("/api/v1/trunks", headers={"Authorization": bearer["supervisor"]})).json()
    assert {s["name"]: s["state"] for s in states} == {"carrier-a": "up", "carrier-b": "up"}
    assert {"calls_out", "failures", "failovers", "last_error", "channels", "since", "registered"} <= set(states[0])
    assert (await client.post("/api/v1/trunks/selftest",
                              headers={"Authorization": bearer["supervisor"]})).status_code == 403
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-b"] = "loop:carrier-a"
        started = await client.post("/api/v1/trunks/selftest", headers={"Authorization": bearer["admin"]})
        assert started.status_code == 202 and started.json()["running"]
        again = await client.post("/api/v1/trunks/selftest", headers={"Authorization": bearer["admin"]})
        assert again.status_code == 400
        matrix = await box.until(lambda: _finished(client, bearer["supervisor"]))
    assert [(p["from"], p["to"], p["ok"]) for p in matrix["pairs"]] == [("carrier-b", "carrier-a", True)]


async def _finished(client: httpx.AsyncClient, bearer: str) -> dict[str, object] | None:
    body = (await client.get("/api/v1/trunks/selftest", headers={"Authorization": bearer})).json()
    return body if body["pairs"] and not body["running"] else None
