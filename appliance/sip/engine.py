"""The pjsua2 SIP engine: one thread owns PJSIP; the event loop talks to it through commands.

`PjsuaEngine` is the async facade the appliance uses. `SipThread` runs on the SIP thread only:
it creates the library, runs commands from a queue between `libHandleEvents` calls, turns
callbacks into events for the loop, and destroys the library. Media (RTP, the conference
bridge, recorders) runs in PJSIP's own C threads, so nothing Python does stalls audio.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import importlib.metadata
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pjsua2 as pj

from appliance.errors import CapacityError, SipError
from appliance.settings import SipSettings
from appliance.sip import sipmsg
from appliance.sip.abc import (
    CallAnswered,
    CallEnded,
    CallKey,
    CallProgress,
    EngineEvent,
    EngineStats,
    EventSink,
    IncomingCall,
    RegistrationState,
    TrunkSpec,
)
from appliance.sip.accounts import TrunkAccounts
from appliance.sip.headsets import HeadsetCommands, HeadsetDesk
from appliance.sip.media import MediaDesk
from appliance.sip.pjobjects import Account, Call, LogWriter

log = logging.getLogger(__name__)
T = TypeVar("T")

_INV_EARLY = pj.PJSIP_INV_STATE_EARLY
_INV_CONFIRMED = pj.PJSIP_INV_STATE_CONFIRMED
_INV_DISCONNECTED = pj.PJSIP_INV_STATE_DISCONNECTED


@dataclasses.dataclass(frozen=True)
class Command:
    """A piece of work for the SIP thread and the future that carries its result back."""

    run: Callable[[], Any]
    future: concurrent.futures.Future[Any]


class PjsuaEngine(HeadsetCommands):
    """The SIP engine on pjsua2, as the appliance's `SipEngine`."""

    def __init__(self, settings: SipSettings, hold_music: Path | None) -> None:
        self._settings = settings
        self._hold_music = hold_music
        self._commands: queue.SimpleQueue[Command | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._sip: SipThread | None = None
        self._lock = threading.Lock()
        self._closed = False

    async def start(self, sink: EventSink) -> None:
        """Start the SIP thread and wait until PJSIP listens."""
        loop = asyncio.get_running_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._sip = SipThread(self._settings, self._hold_music, self._commands,
                              lambda event: loop.call_soon_threadsafe(sink, event))
        self._thread = threading.Thread(target=self._sip.run, args=(ready,), name="sip", daemon=True)
        self._thread.start()
        await asyncio.wrap_future(ready)

    async def stop(self) -> None:
        """Hang up all calls, destroy the library and join the thread."""
        if self._thread is None:
            return
        self._commands.put(None)
        await asyncio.to_thread(self._thread.join, 10)
        with self._lock:
            self._closed = True
        while True:  # commands that came too late: their callers get an error, not a hang
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            if command is not None and command.future.set_running_or_notify_cancel():
                command.future.set_exception(SipError("the SIP engine has stopped"))
        self._thread = None

    @property
    def alive(self) -> bool:
        """Whether the SIP thread is running (for the systemd watchdog and /healthz)."""
        return self._thread is not None and self._thread.is_alive()

    async def _call(self, fn: Callable[[], T]) -> T:
        if not self.alive:
            raise SipError("the SIP engine is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise SipError("the SIP engine has stopped")
            self._commands.put(Command(fn, future))
        return await asyncio.wrap_future(future)

    def _thread_obj(self) -> SipThread:
        if self._sip is None:
            raise SipError("the SIP engine is not running")
        return self._sip

    async def set_trunks(self, trunks: list[TrunkSpec]) -> None:
        """Make the registered trunks exactly this list."""
        sip = self._thread_obj()
        await self._call(lambda: sip.set_trunks(trunks))

    async def answer(self, key: CallKey, hold_music: bool = True) -> None:
        """Answer an incoming leg."""
        sip = self._thread_obj()
        await self._call(lambda: sip.answer(key, hold_music))

    async def ring(self, key: CallKey) -> None:
        """Send 180 Ringing."""
        sip = self._thread_obj()
        await self._call(lambda: sip.respond(key, 180, ""))

    async def reject(self, key: CallKey, status_code: int, reason: str = "") -> None:
        """Refuse an unanswered incoming leg."""
        sip = self._thread_obj()
        await self._call(lambda: sip.respond(key, status_code, reason))

    async def hangup(self, key: CallKey, cause: int = 0) -> None:
        """End a leg in whatever state it is; a non-zero `cause` goes in a Reason header."""
        sip = self._thread_obj()
        await self._call(lambda: sip.headsets.hangup(key) if sip.headsets.owns(key) else sip.hangup(key, cause))

    async def dial(self, uri: str, caller_id: str = "", caller_name: str = "", *, trunk: str | None = None,
                   headers: Sequence[tuple[str, str]] = ()) -> CallKey:
        """Place a call (as a trunk, with extra headers); CapacityError when full, SipError when refused."""
        sip = self._thread_obj()
        extra = [sipmsg.safe_header(name, value) for name, value in headers]
        return await self._call(lambda: sip.dial(uri, caller_id, caller_name, trunk, extra))

    async def register(self, trunk: str) -> None:
        """Send a registration trunk's REGISTER now."""
        sip = self._thread_obj()
        await self._call(lambda: sip.trunks.register(trunk))

    async def bridge(self, a: CallKey, b: CallKey, record_to: Path | None) -> str:
        """Connect two legs in the conference bridge, recording them if asked."""
        sip = self._thread_obj()
        return await self._call(lambda: sip.media.bridge(sip.headsets.leg(a), sip.headsets.leg(b), record_to))

    async def handle_ip_change(self) -> None:
        """The box's network path changed (uplink switch): restart listeners, re-register, re-INVITE."""
        sip = self._thread_obj()
        await self._call(sip.handle_ip_change)

    def stats(self) -> EngineStats:
        """A snapshot of calls and bridge ports against the engine's limits."""
        sip = self._sip
        if sip is None:
            return EngineStats(False, 0, self._settings.max_calls, 0, self._settings.max_bridge_ports, 0)
        return EngineStats(self.alive, len(sip.calls), self._settings.max_calls,
                           sip.media.ports_in_use(len(sip.calls)), self._settings.max_bridge_ports,
                           sip.media.recorder_count)


def check_build() -> None:
    """Refuse a pjsua2 that is not the appliance's own build (image/pjsua2/build.sh).

    Other builds fail in ways that show only under load or with a headset: the PyPI wheel
    answers a third simultaneous call with 486 and has no sound devices.
    """
    version = importlib.metadata.version("pjsua2")
    if "+callbox" not in version:
        raise SipError(f"pjsua2 {version} is not the appliance's build: install the wheel made by "
                       "image/pjsua2/build.sh (./setup.sh does)")


class SipThread:
    """Everything that runs on the SIP thread. Only that thread calls any method here."""

    def __init__(self, settings: SipSettings, hold_music: Path | None,
                 commands: queue.SimpleQueue[Command | None], post: Callable[[EngineEvent], Any]) -> None:
        self.settings = settings
        self.commands = commands
        self.post = post
        self.hold_music = hold_music
        self.calls: dict[CallKey, Call] = {}
        self.trunks = TrunkAccounts(self)
        self.graveyard: list[Any] = []
        self.keys = (f"{n:x}" for n in itertools.count(1))
        self.prefix = ""
        self.running = True

    def run(self, ready: concurrent.futures.Future[None]) -> None:
        """The thread body: start PJSIP, serve commands and events, then destroy PJSIP."""
        try:
            self.start_library()
        except Exception as err:
            log.exception("SIP engine failed to start")
            ready.set_exception(SipError(f"SIP engine failed to start: {err}"))
            return
        ready.set_result(None)
        try:
            while self.running:
                self.serve_commands()
                self.ep.libHandleEvents(1)  # a command waits at most ~1 ms for the SIP thread
                self.graveyard.clear()
        except Exception:
            log.exception("SIP thread crashed")
        finally:
            self.shutdown()

    def start_library(self) -> None:
        """Create, configure and start pjsua2 with the appliance's limits."""
        check_build()
        s = self.settings
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        self.log_writer = LogWriter()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = s.max_calls + 8  # headroom: our own admission control refuses first
        cfg.uaConfig.userAgent = "Callbox"
        cfg.logConfig.writer = self.log_writer
        cfg.logConfig.level = s.log_level
        cfg.logConfig.consoleLevel = s.log_level
        cfg.logConfig.decor = pj.PJ_LOG_HAS_SENDER
        cfg.medConfig.maxMediaPorts = s.max_bridge_ports + 8
        cfg.medConfig.clockRate = s.bridge_clock_rate
        cfg.medConfig.sndClockRate = s.bridge_clock_rate
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0  # no echo to cancel between two network legs
        cfg.medConfig.threadCnt = 1
        self.ep.libInit(cfg)
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            tcfg = pj.TransportConfig()
            tcfg.port = s.port
            if s.bind not in ("", "0.0.0.0"):  # noqa: S104
                tcfg.boundAddress = s.bind
            if s.public_address:
                tcfg.publicAddress = s.public_address
            self.ep.transportCreate(kind, tcfg)
        self.ep.audDevManager().setNullDev()  # the bridge runs on its own clock; headsets are extra devices
        self.ep.libStart()
        self.prefix = f"{id(self) & 0xFFFF:04x}-"
        self.local = self._make_account(None, self._local_config())
        self.local.setDefault()
        self.media = MediaDesk(self.settings, self.hold_music, self.post)
        self.headsets = HeadsetDesk(self, self.post)
        log.info("SIP engine listening on %s:%d (UDP, TCP), max %d calls, %d bridge ports",
                 s.bind, s.port, s.max_calls, s.max_bridge_ports)

    def _local_config(self) -> pj.AccountConfig:
        address = self.settings.public_address or (
            self.settings.bind if self.settings.bind not in ("", "0.0.0.0") else "127.0.0.1")  # noqa: S104
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:callbox@{address}:{self.settings.port}"
        self._media_ports(acfg)
        return acfg

    def _media_ports(self, acfg: pj.AccountConfig) -> None:
        media = acfg.mediaConfig.transportConfig
        media.port = self.settings.rtp_port
        media.portRange = self.settings.rtp_port_range
        if self.settings.bind not in ("", "0.0.0.0"):  # noqa: S104 - RTP on the same address as SIP
            media.boundAddress = self.settings.bind
        if self.settings.public_address:
            media.publicAddress = self.settings.public_address

    def _make_account(self, trunk: str | None, acfg: pj.AccountConfig) -> Account:
        account = Account(self, trunk)
        account.create(acfg, True)
        return account

    def serve_commands(self) -> None:
        """Run every queued command; a failing command fails its future, never the thread."""
        while True:
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return
            if command is None:
                self.running = False
                return
            if not command.future.set_running_or_notify_cancel():
                continue  # its caller gave up waiting (cancelled): run nothing, answer nobody
            try:
                command.future.set_result(command.run())
            except pj.Error as err:
                command.future.set_exception(SipError(f"{err.title}: {err.reason}"))
            except Exception as err:  # noqa: BLE001 - handed to the awaiting coroutine
                command.future.set_exception(err)

    def shutdown(self) -> None:
        """Hang up everything, free every pj object we hold, destroy the library."""
        try:
            self.ep.hangupAllCalls()
            for _ in range(200):
                if not self.calls:
                    break
                self.ep.libHandleEvents(10)
            self.headsets.close()
            self.media.close()
            self.trunks.shutdown()
            self.local.shutdown()
            self.calls.clear()
            self.graveyard.clear()
            self.ep.libDestroy()
        except Exception:
            log.exception("SIP engine shutdown failed")
        log.info("SIP engine stopped")

    # -- trunks ---------------------------------------------------------------------------
    def set_trunks(self, trunks: list[TrunkSpec]) -> None:
        """Create, recreate or remove trunk accounts so they match `trunks` (see `accounts.py`)."""
        self.trunks.apply(trunks)

    def on_reg_state(self, trunk: str, code: int, reason: str, active: bool, expires: int) -> None:
        """Callback: a REGISTER finished."""
        self.post(RegistrationState(trunk, code, reason, active and code // 100 == 2, expires))

    def handle_ip_change(self) -> None:
        """Tell PJSIP the network changed: it re-registers with a rewritten contact, re-INVITEs calls."""
        prm = pj.IpChangeParam()
        prm.restartListener = True
        prm.restartLisDelay = 0
        self.ep.handleIpChange(prm)

    # -- calls ----------------------------------------------------------------------------
    def new_key(self) -> CallKey:
        """A key unique within this process."""
        return self.prefix + next(self.keys)

    def on_incoming_call(self, account: Account, call_id: int, rdata: pj.SipRxData) -> None:
        """Callback: hold the new leg and tell the loop, or refuse it when the engine is full."""
        key = self.new_key()
        call = Call(self, account, key, call_id)
        self.calls[key] = call
        if not self.media.has_room(len(self.calls) + 1, needed_ports=4):  # 2 legs + 2 recorders
            log.warning("refusing incoming call: engine at capacity (%d calls)", len(self.calls))
            self.respond(key, 503, "Capacity reached")
            return
        msg = sipmsg.parse_invite(str(rdata.wholeMsg))
        host, port = sipmsg.split_address(str(rdata.srcAddress))
        self.post(IncomingCall(key, msg.call_id, host, port, msg.from_uri, msg.from_user, msg.from_name,
                               msg.request_user, msg.to_user, msg.test_marker))

    def call(self, key: CallKey) -> Call:
        """The live leg with this key."""
        try:
            return self.calls[key]
        except KeyError:
            raise SipError(f"no such call {key}") from None

    def respond(self, key: CallKey, code: int, reason: str) -> None:
        """Send a provisional or final response to an unanswered incoming leg."""
        call = self.call(key)
        prm = pj.CallOpParam()
        prm.statusCode = code
        if reason:
            prm.reason = reason
        if code >= 300:
            call.ended = True
        call.answer(prm)

    def answer(self, key: CallKey, hold_music: bool) -> None:
        """Answer with 200; music starts when the media is up."""
        if hold_music:
            self.media.want_music(key)
        self.respond(key, 200, "")

    def hangup(self, key: CallKey, cause: int = 0) -> None:
        """CANCEL, BYE or reject, as the leg's state requires; a gone leg is not an error.

        PJSIP itself sends a BYE when a leg hung up before its answer is answered anyway (a 200
        crossing our CANCEL, or arriving after a CANCEL that had to wait for a provisional).
        """
        call = self.calls.get(key)
        if call is None or call.ended:
            return
        call.ended = True
        prm = pj.CallOpParam()
        if cause:
            _add_headers(prm, [sipmsg.reason_header(cause)])
        call.hangup(prm)

    def dial(self, uri: str, caller_id: str, caller_name: str, trunk: str | None = None,
             headers: Sequence[tuple[str, str]] = ()) -> CallKey:
        """Place a call from the local account, or as a carrier trunk with its codecs."""
        if not self.media.has_room(len(self.calls) + 1, needed_ports=2):
            raise CapacityError("engine at capacity")
        spec, account = self.trunks.get(trunk) if trunk else (None, self.local)
        key = self.new_key()
        call = Call(self, account, key)
        prm = pj.CallOpParam(True)
        ids = sipmsg.caller_id_headers(caller_id, caller_name, self.local_host()) if caller_id else []
        _add_headers(prm, [*ids, *headers])
        self.calls[key] = call
        try:
            with self.trunks.offering(spec.codecs if spec else ()):
                call.makeCall(uri, prm)
        except pj.Error:
            self.calls.pop(key, None)
            self.graveyard.append(call)
            raise
        return key

    def local_host(self) -> str:
        """The host part of the local account's URI."""
        return str(self.local.getInfo().uri).split("@", 1)[-1]

    def on_provisional(self, call: Call, code: int) -> None:
        """Callback: the first provisional response (often 100 Trying) to a leg we dialled."""
        if not call.progressed and not call.ended:
            call.progressed = True
            self.post(CallProgress(call.key, code))

    def on_call_state(self, call: Call, state: int, code: int, reason: str) -> None:
        """Callback: a leg's INVITE session changed state."""
        if state == _INV_EARLY and code in (180, 183):
            call.progressed = True
            self.post(CallProgress(call.key, code))
        elif state == _INV_CONFIRMED:
            self.post(CallAnswered(call.key))
        elif state == _INV_DISCONNECTED:
            by_remote = not call.ended
            call.ended = True
            self.calls.pop(call.key, None)
            self.media.leg_gone(call)
            self.graveyard.append(call)  # freed after the callback has returned
            self.post(CallEnded(call.key, code, reason, by_remote))

    def on_media_ready(self, call: Call) -> None:
        """Callback: the leg's audio is in the conference bridge."""
        self.media.leg_ready(call)


def _add_headers(prm: pj.CallOpParam, headers: Sequence[tuple[str, str]]) -> None:
    """Put extra headers on the request an operation sends."""
    for name, value in headers:
        header = pj.SipHeader()
        header.hName = name
        header.hValue = value
        prm.txOption.headers.append(header)
