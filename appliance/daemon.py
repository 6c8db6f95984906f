"""`callbox run`: every service of the appliance in one process, started and stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from appliance.acd import CallJournal, QueueManager
from appliance.acd.music import hold_music
from appliance.cloud import CloudSync
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import DiskGuard, RecordingIndex
from appliance.routing import RoutingService
from appliance.settings import Settings
from appliance.sip.abc import EngineEvent, HeadsetSignal, IpChangeEngine, RegistrationState, SipEngine
from appliance.stats.live import snapshot
from appliance.storage import CallRecord, Database
from appliance.systemd import notify, watchdog
from appliance.trunks import TrunkService
from appliance.uplinks import UplinkService

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[Any]]


@dataclasses.dataclass
class Services:
    """The running appliance's services, as the web layer sees them."""

    settings: Settings
    engine: Any  # PjsuaEngine or another SipEngine with `stats()`
    trunks: TrunkService
    acd: QueueManager
    health: HealthBoard
    incidents: IncidentJournal
    # Runs work through the event pump, in turn with engine events (used for config reloads).
    post: Callable[[Work], None] | None = None
    cloud: CloudSync | None = None  # cloud sync: outbox and delivery state
    uplinks: UplinkService | None = None  # internet uplinks: health, failover, failback
    headsets: Any = None  # appliance.devices.HeadsetSeats: USB headset seats (None without udev)
    recordings: Any = None  # appliance.recording.RecordingIndex: encoding worker, disk-guard pause
    routing: RoutingService | None = None  # outbound routes, carrier failover, click-to-call, self-test


class Daemon:
    """Owns the services, the event pump and the web server."""

    def __init__(self, settings: Settings, engine: SipEngine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._pump: asyncio.Queue[EngineEvent | Work | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self.services: Services | None = None
        self.started = asyncio.Event()
        self._hotplug: Any = None  # the headsets' HotplugWatcher

    def post(self, item: EngineEvent | Work) -> None:
        """Queue an engine event or a piece of work for the pump (from the loop thread)."""
        self._pump.put_nowait(item)

    async def _run_pump(self, services: Services) -> None:
        while (item := await self._pump.get()) is not None:
            try:
                if callable(item):
                    await item()
                elif isinstance(item, RegistrationState):
                    await services.trunks.on_registration(item)
                elif isinstance(item, HeadsetSignal):
                    if services.headsets is not None:
                        await services.headsets.on_signal(item)
                else:
                    services.trunks.observe(item)  # channels in use per trunk
                    if services.routing is None or not await services.routing.handle(item):
                        await services.acd.handle(item)
            except Exception:
                log.exception("handling %r failed", item)

    async def run(self, stop: asyncio.Event) -> None:
        """Start everything, run until `stop` is set, then shut down in reverse order."""
        s = self.settings
        db = Database(s.data.database_path)
        await db.open()
        cloud = CloudSync(s.cloud, s.data.dir)
        await cloud.prepare()  # its triggers go in before anything writes
        await close_interrupted_calls()
        calls = CallJournal()
        calls.start()
        engine = self._engine or self._make_engine()
        health, incidents = HealthBoard(), IncidentJournal()
        trunks = TrunkService(engine, health, incidents)
        recordings = RecordingIndex(s.data.recordings_dir, calls.write, settings=s.recording)
        await recordings.recover()  # leg WAVs an interrupted run left: headers repaired, encoded
        disk_guard = DiskGuard(recordings, health, incidents)
        acd = QueueManager(engine, trunks, calls, recordings, self.post)
        self.services = services = Services(s, engine, trunks, acd, health, incidents, self.post)
        services.routing = routing = RoutingService(engine, trunks, calls, incidents, recordings)
        routing.calls.presence = acd  # an operator on a click-to-call gets no queued call meanwhile
        services.cloud = cloud
        services.recordings = recordings
        services.uplinks = uplinks = UplinkService(
            s.uplinks, s.sip, cast(IpChangeEngine, engine), health, incidents,
            ip_trunks=lambda: [t["name"] for t in trunks.status() if t["kind"] == "ip"])
        try:
            await engine.start(self.post)
            pump = asyncio.create_task(self._run_pump(services), name="event-pump")
            self.post(trunks.load)
            self.post(acd.load)
            self.post(routing.load)
            self.post(lambda: self._start_headsets(services))
            self.post(uplinks.start)
            server = await self._start_web(services)
            cloud.start(health, incidents, lambda: snapshot(services))
            disk_guard.start()
            self._tasks.append(asyncio.create_task(watchdog(lambda: engine.stats().running), name="watchdog"))
            notify("READY=1")
            self.started.set()
            log.info("callbox running: SIP %s:%d, HTTP %s:%d, data in %s", s.sip.bind, s.sip.port,
                     s.http.host, s.http.port, s.data.dir)
            await stop.wait()
            notify("STOPPING=1")
            log.info("callbox stopping")
            await uplinks.stop()
            await routing.stop()
            await trunks.stop()
            if self._hotplug is not None:
                self._hotplug.stop()
            if server is not None:
                server.should_exit = True
            await engine.stop()
            self._pump.put_nowait(None)
            await pump
            await disk_guard.stop()
            await recordings.drain()
        finally:
            # Whatever failed, the SIP thread is stopped before the process exits: a pjsua2
            # thread still running at interpreter exit aborts the process.
            await engine.stop()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await calls.stop()
            await cloud.stop()
            await db.close()

    async def _start_headsets(self, services: Services) -> None:
        """USB headset seats follow udev from now on (after the directory is loaded)."""
        from appliance.devices import start_headsets  # the only importer of pyudev

        try:
            self._hotplug, services.headsets = start_headsets(services.engine, services.acd, services.incidents,
                                                              self.post)
        except (OSError, ImportError) as err:
            log.warning("no USB headset seats: udev is not available (%s)", err)

    def _make_engine(self) -> SipEngine:
        from appliance.sip.engine import PjsuaEngine  # pjsua2 is loaded only when a real engine runs

        music = hold_music(self.settings.data.dir, self.settings.sip.hold_music, self.settings.sip.bridge_clock_rate)
        return PjsuaEngine(self.settings.sip, music)

    async def _start_web(self, services: Services) -> Any:
        import uvicorn

        from web.app import create_app

        config = uvicorn.Config(create_app(services), host=self.settings.http.host, port=self.settings.http.port,
                                log_config=None, access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        # `_serve` without uvicorn's own signal capture: SIGTERM belongs to the daemon, which
        # stops the web server itself, after the calls, in order.
        task = asyncio.create_task(server._serve(), name="http")
        self._tasks.append(task)
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.02)
        if task.done():
            task.result()  # raises the bind error
        return server


async def close_interrupted_calls() -> int:
    """Calls that were live when the appliance last stopped without hanging up (power cut,
    kill -9) get an end and a disposition, so no record stays open forever."""
    count = await CallRecord.filter(ended_at__isnull=True).update(
        ended_at=datetime.now(UTC), disposition="INTERRUPTED", hangup_cause="appliance restarted")
    if count:
        log.warning("%d call record(s) were left open by an interrupted run: marked INTERRUPTED", count)
    return int(count)


def run(settings: Settings) -> None:
    """Run the daemon until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await Daemon(settings).run(stop)

    asyncio.run(main())
