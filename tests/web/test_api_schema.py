"""Schemathesis against /schema: generated requests to the API get no 5xx and answers that match the schema."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from appliance.acd import CallJournal, QueueManager
from appliance.auth import Auth
from appliance.daemon import Services
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.settings import DataSettings, Settings
from appliance.sip.fake import FakeEngine
from appliance.storage import Database
from appliance.trunks import TrunkService
from tests.support.sipp import free_udp_port
from web.app import create_app

MINE = r"^/api/v1/(config|reports|status|checks|problems|settings|users|tokens)"


class LiveBox:
    """The web app on the fake engine, served by uvicorn on its own loop in a thread."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_udp_port()
        self.token = ""
        self.ready = threading.Event()
        self.server: Any = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="live-api", daemon=True)

    async def _main(self) -> None:
        import uvicorn

        db = Database(self.data / "callbox.sqlite3")
        await db.open()
        engine, journal = FakeEngine(), CallJournal()
        journal.start()
        health, incidents = HealthBoard(), IncidentJournal()
        trunks = TrunkService(engine, health, incidents)
        settings_ = Settings(data=DataSettings(dir=self.data))
        acd = QueueManager(engine, trunks, journal, RecordingIndex(settings_.data.recordings_dir, journal.write),
                           lambda work: None)
        auth = Auth(self.data)
        _, self.token = await auth.tokens.create({"name": "schemathesis", "role": "admin"}, "test")
        app = create_app(Services(settings_, engine, trunks, acd, health, incidents), auth)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                    lifespan="off"))
        task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.05)
        self.ready.set()
        await task
        await journal.stop()
        await db.close()


@pytest.fixture(scope="module")
def live_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBox]:
    """The API served for schemathesis."""
    box = LiveBox(tmp_path_factory.mktemp("live-api"))
    box.thread.start()
    assert box.ready.wait(30), "the API did not start"
    yield box
    box.server.should_exit = True
    box.thread.join(15)


def test_api_conforms_to_its_schema(live_box: LiveBox) -> None:
    base = f"http://127.0.0.1:{live_box.port}"
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json").include(path_regex=MINE)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {live_box.token}"},
                                   checks=[not_a_server_error, response_schema_conformance,
                                           content_type_conformance])

        check()
