"""The REST API under /api/v1: token auth, CRUD through the panel's services, errors per field, the schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from appliance.auth import Auth
from appliance.daemon import Services
from appliance.storage import Operator, Queue, Trunk


@pytest.fixture
async def api(admin_client: httpx.AsyncClient, auth: Auth) -> httpx.AsyncClient:
    """A machine with an admin API token (and no cookies)."""
    _, secret = await auth.tokens.create({"name": "ansible", "role": "admin"}, "admin")
    client = httpx.AsyncClient(transport=admin_client._transport, base_url="http://box",
                               headers={"Authorization": f"Bearer {secret}"})
    yield client
    await client.aclose()


async def test_configure_a_box_through_the_api(api: httpx.AsyncClient, services: Services) -> None:
    trunk = await api.post("/api/v1/config/trunks", json={"name": "carrier-a", "kind": "ip", "host": "192.0.2.10"})
    assert trunk.status_code == 201, trunk.text
    assert trunk.json()["state"] in ("up", "unknown") and "password" not in trunk.json()
    op = await api.post("/api/v1/config/operators", json={"name": "Anna", "extension": "101",
                                                         "seats": ["sip:101@192.0.2.50:5060"]})
    assert op.status_code == 201, op.text
    queue = await api.post("/api/v1/config/queues", json={"name": "support", "members": ["101"], "numbers": ["*"]})
    assert queue.status_code == 201, queue.text
    assert queue.json()["member_names"] == ["Anna"]
    assert list(services.acd.directory.queues) == ["support"]
    replaced = await api.put(f"/api/v1/config/queues/{queue.json()['id']}",
                             json={"name": "support", "strategy": "rrmemory", "members": ["101"], "numbers": ["*"]})
    assert replaced.json()["strategy"] == "rrmemory"
    status = (await api.get("/api/v1/status")).json()
    assert status["operators"][0]["name"] == "Anna" and status["trunks"][0]["name"] == "carrier-a"
    assert (await api.delete(f"/api/v1/config/trunks/{trunk.json()['id']}")).status_code == 204
    assert await Trunk.all().count() == 0


async def test_api_errors_name_the_fields_and_save_nothing(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/config/operators", json={"name": "", "extension": "x1", "seats": ["nope"]})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "extension", "seats"}
    assert await Operator.all().count() == 0
    wrong_type = await api.post("/api/v1/config/queues", json={"name": "q", "ring_timeout_s": "soon"})
    assert wrong_type.status_code == 400 and await Queue.all().count() == 0
    missing = await api.get("/api/v1/config/trunks/999")
    assert missing.status_code == 404 and "no trunk" in missing.json()["detail"]


async def test_tokens_users_settings_and_reports(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/tokens", json={"name": "wallboard", "role": "supervisor"})
    secret = created.json()["token"]
    assert secret.startswith("cbx_")
    assert all(t["token"] is None for t in (await api.get("/api/v1/tokens")).json())
    settings = await api.put("/api/v1/settings", json={"box_name": "HQ", "timezone": "Mars/Olympus"})
    assert settings.status_code == 422 and "timezone" in settings.json()["errors"]
    assert (await api.put("/api/v1/settings", json={"box_name": "HQ", "timezone": "Europe/Berlin"})).status_code == 200
    records = await api.get("/api/v1/reports/records", params={"since": "2024-01-01"})
    assert records.status_code == 200 and records.json()["total"] == 0
    assert (await api.get("/api/v1/reports/records", params={"since": "yesterday"})).status_code == 422
    problem = await api.post("/api/v1/problems", json={"text": "no dial tone"})
    assert problem.status_code == 201
    incidents = (await api.get("/api/v1/reports/incidents", params={"kind": "report"})).json()
    assert incidents["items"][0]["cause"] == "no dial tone"
    checks = (await api.post("/api/v1/checks/run")).json()
    assert {c["kind"] for c in checks} >= {"engine", "carrier", "disk", "uplink"}


async def test_schema_documents_every_api_route_with_token_auth(client: httpx.AsyncClient, app: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["token"] == {"type": "http", "scheme": "bearer"}
    assert schema["security"] == [{"token": []}]
    documented = set(schema["paths"])
    served = {r.path.replace(":int", "").replace(":str", "") for r in app.routes if r.path.startswith("/api/v1")}
    assert served <= documented
    panel = {"/", "/login", "/setup", "/trunks", "/queues", "/operators", "/records", "/settings", "/broken"}
    assert not documented & panel  # panel pages stay out of the API schema
