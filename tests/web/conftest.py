"""Fixtures for the panel and API: services on the fake engine → app → client, signed in as needed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from appliance.acd import CallJournal, QueueManager
from appliance.auth import Auth
from appliance.daemon import Services
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.settings import DataSettings, Settings
from appliance.sip.fake import FakeEngine
from appliance.storage import Database
from appliance.trunks import TrunkService
from tests.web.panel import PASSWORD, claim, post_form
from web.app import create_app


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every migration applied once per session (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "callbox.sqlite3"

    async def build() -> None:
        database = Database(path)
        await database.open()
        await database.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def db(tmp_path: Path, migrated: Path) -> AsyncIterator[Database]:
    """A copy of the migrated database in the test's own directory, opened and closed around the test."""
    target = tmp_path / "data" / "callbox.sqlite3"
    target.parent.mkdir(parents=True)
    shutil.copyfile(migrated, target)
    database = Database(target)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def services(tmp_path: Path, db: Database) -> AsyncIterator[Services]:
    """The appliance's services on the in-memory engine, with the database of `db`."""
    engine = FakeEngine()
    journal = CallJournal()
    journal.start()
    health, incidents = HealthBoard(), IncidentJournal()
    trunks = TrunkService(engine, health, incidents)
    settings = Settings(data=DataSettings(dir=tmp_path / "data"))
    acd = QueueManager(engine, trunks, journal, RecordingIndex(settings.data.recordings_dir, journal.write),
                       lambda work: None)
    await engine.start(lambda event: None)
    yield Services(settings, engine, trunks, acd, health, incidents)
    await journal.stop()


@pytest.fixture
def auth(services: Services) -> Auth:
    """The sign-in service of the app under test."""
    return Auth(services.settings.data.dir)


@pytest.fixture
def app(services: Services, auth: Auth) -> Litestar:
    """The web app."""
    return create_app(services, auth)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous browser."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://box") as c:
        yield c


@pytest.fixture
async def admin_client(client: httpx.AsyncClient, auth: Auth) -> httpx.AsyncClient:
    """A browser signed in as the admin of a box whose set-up is finished."""
    assert (await claim(client, auth)).status_code == 303
    assert (await post_form(client, "/setup/finish", {})).status_code == 303
    return client


@pytest.fixture
def login_as(app: Litestar, auth: Auth, admin_client: httpx.AsyncClient) -> Callable[..., Awaitable[httpx.AsyncClient]]:
    """Make a user with a role and return a browser signed in as them (closed with the test's loop)."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str, username: str | None = None, operator_id: int = 0) -> httpx.AsyncClient:
        name = username or role + "1"
        await auth.users.create({"username": name, "role": role, "password": PASSWORD, "operator_id": operator_id})
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://box")
        clients.append(c)
        response = await post_form(c, "/login", {"username": name, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return c

    return make
