"""`/api/v1/stats` (JSON, CSV, SVG), `/api/v1/sync` and `/metrics` on a bare app with the real services."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from appliance.auth.roles import Principal
from appliance.storage import Database
from tests.stats.office import fake_services
from web.routes import metrics, stats_api

SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')


def signed_in(app: ASGIApp) -> ASGIApp:
    """Stands in for the auth middleware: the role named by `x-test-role` (default admin) is signed in."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            role = dict(scope["headers"]).get(b"x-test-role", b"admin").decode()
            scope["user"] = Principal("test", role, "token")
        await app(scope, receive, send)

    return middleware


@pytest.fixture
def client(office: Database) -> Iterator[TestClient[Litestar]]:
    box = fake_services(office)
    app = Litestar(route_handlers=[*stats_api.ROUTES, *metrics.ROUTES], middleware=[signed_in],
                   dependencies={"services": Provide(lambda: box, use_cache=True, sync_to_thread=False)})
    with TestClient(app) as test_client:
        yield test_client


PERIOD = {"start": "2025-03-03", "end": "2025-03-04", "tz": "Europe/Moscow"}


def test_stats_json(client: TestClient[Litestar]) -> None:
    body = client.get("/api/v1/stats", params=PERIOD).json()
    assert body["start"] == "2025-03-03T00:00:00+03:00" and body["tz"] == "Europe/Moscow"
    assert body["queues"]["sales"]["offered"] == 7
    assert body["total"]["sl"] == pytest.approx(0.8)
    assert body["heatmap"]["offered"][0][12] == 8
    narrowed = client.get("/api/v1/stats", params={**PERIOD, "queue": "support", "sl": 3}).json()
    total = narrowed["total"]
    assert (total["offered"], total["sl"], narrowed["thresholds"]["service_level_s"]) == (1, 0, 3)


def test_stats_refuses_bad_periods(client: TestClient[Litestar]) -> None:
    assert client.get("/api/v1/stats", params={"start": "2025-03-04", "end": "2025-03-03"}).status_code == 400
    assert client.get("/api/v1/stats", params={"start": "yesterday"}).status_code == 400
    assert client.get("/api/v1/stats", params={"tz": "Mars/Olympus"}).status_code == 400
    assert client.get("/api/v1/stats", params={"start": "2020-01-01", "end": "2025-01-01"}).status_code == 400


def test_csv_and_svg(client: TestClient[Litestar]) -> None:
    response = client.get("/api/v1/stats/csv/queues", params=PERIOD)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbfqueue,offered,")
    assert "attachment" in response.headers["content-disposition"]
    calls = client.get("/api/v1/stats/csv/calls", params=PERIOD).content.decode("utf-8-sig").splitlines()
    assert len(calls) == 1 + 9
    svg = client.get("/api/v1/stats/svg/heatmap", params=PERIOD)
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.count('class="cell"') == 168
    assert client.get("/api/v1/stats/csv/nothing").status_code == 404
    assert client.get("/api/v1/stats/svg/pie").status_code == 404


def test_sync_state_without_cloud(client: TestClient[Litestar]) -> None:
    assert client.get("/api/v1/sync").json() == {"enabled": False}


def test_prometheus_exposition(client: TestClient[Litestar]) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    samples = [line for line in lines if not line.startswith("#")]
    assert samples and all(SAMPLE.match(line) for line in samples), [s for s in samples if not SAMPLE.match(s)]
    families = {line.split()[2] for line in lines if line.startswith("# TYPE")}
    assert {"callbox_queue_waiting", "callbox_active_calls", "callbox_disk_free_bytes",
            "callbox_cpu_usage_percent", "callbox_health_state", "callbox_sync_enabled"} <= families
    assert 'callbox_queue_waiting{queue="sales"} 0' in samples
    assert 'callbox_health_state{kind="cloud",subject="cloud.example",state="degraded"} 1' in samples
    assert 'callbox_health_state{kind="cloud",subject="cloud.example",state="up"} 0' in samples
    assert "callbox_sync_enabled 0" in samples
    free = next(s for s in samples if s.startswith("callbox_disk_free_bytes"))
    assert float(free.split()[-1]) > 0


def test_stats_need_a_role_that_may_read_reports(client: TestClient[Litestar]) -> None:
    assert client.get("/api/v1/stats", params=PERIOD, headers={"x-test-role": "operator"}).status_code == 403
    assert client.get("/api/v1/sync", headers={"x-test-role": "operator"}).status_code == 403
    assert client.get("/api/v1/stats", params=PERIOD, headers={"x-test-role": "supervisor"}).status_code == 200
