"""The reference for the load benchmark: a bare pjsua2 B2BUA doing exactly the product's media work.

Per incoming INVITE: answer 200, dial the operator URI, and once both legs have audio connect them
both ways in the conference bridge and record both into one WAV (AudioMediaRecorder), or with
--recording split each leg into its own WAV (two recorders per call, as the product now does). When one leg
ends, the other is hung up. Nothing else: no database, no web server, no asyncio, no queue logic.

The endpoint is configured like appliance/sip/engine.py (threadCnt 0, mainThreadOnly, null sound
device, bridge clock 8000, noVad, ecTailLen 0, one media thread, same call/port limits); one thread
(the main one) calls libHandleEvents. Call objects are kept in strong references and freed after
DISCONNECTED, outside the callback; SIGTERM/SIGINT hang everything up and destroy the library.

    python bench/bare_bridge.py --port 5070 --operator sip:op@127.0.0.1:5080 --record-dir /tmp/rec
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import signal
import sys
import time
from pathlib import Path

import pjsua2 as pj

DISCONNECTED = pj.PJSIP_INV_STATE_DISCONNECTED


class Leg(pj.Call):  # type: ignore[misc]
    """One call leg; `pair` is the bridged call it belongs to."""

    def __init__(self, app: BareBridge, account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.app = app
        self.audio: pj.AudioMedia | None = None
        self.pair: Pair | None = None
        self.ended = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        """The INVITE session changed state."""
        try:
            if self.getInfo().state == DISCONNECTED:
                self.app.leg_gone(self)
        except Exception as err:  # noqa: BLE001 - never let an exception cross into C
            print(f"onCallState: {err!r}", file=sys.stderr)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        """SDP negotiation finished: take the audio port once it is in the bridge."""
        try:
            info = self.getInfo()
            media = info.media
            for index in range(len(media)):
                if media[index].type == pj.PJMEDIA_TYPE_AUDIO and media[index].status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    self.audio = self.getAudioMedia(index)
                    self.app.leg_ready(self)
                    return
        except Exception as err:  # noqa: BLE001
            print(f"onCallMediaState: {err!r}", file=sys.stderr)


class Pair:
    """A caller leg, its operator leg and the recorder of both."""

    def __init__(self, caller: Leg, operator: Leg, path: Path) -> None:
        self.caller, self.operator, self.path = caller, operator, path
        self.recorders: list[pj.AudioMediaRecorder] = []
        self.connected = False


class Account(pj.Account):  # type: ignore[misc]
    """The one local account: takes every INVITE."""

    def __init__(self, app: BareBridge) -> None:
        super().__init__()
        self.app = app

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        """An INVITE arrived."""
        try:
            self.app.incoming(prm.callId)
        except Exception as err:  # noqa: BLE001
            print(f"onIncomingCall: {err!r}", file=sys.stderr)


class BareBridge:
    """The endpoint, its calls and the loop that drives them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.legs: set[Leg] = set()  # strong references to every live leg
        self.graveyard: list[object] = []  # legs and recorders freed after the callback returned
        self.to_hang_up: list[Leg] = []
        self.numbers = itertools.count(1)
        self.running = True
        self.bridged_total = 0
        self.refused_total = 0

    # -- library ----------------------------------------------------------------------------
    def start(self) -> None:
        """Create, configure and start pjsua2 like the appliance's engine does."""
        a = self.args
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = a.max_calls + 8
        cfg.uaConfig.userAgent = "Callbox-bare-bridge"
        cfg.logConfig.level = a.log_level
        cfg.logConfig.consoleLevel = a.log_level
        cfg.logConfig.decor = pj.PJ_LOG_HAS_SENDER
        cfg.medConfig.maxMediaPorts = a.max_bridge_ports + 8
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.threadCnt = 1
        self.ep.libInit(cfg)
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            tcfg = pj.TransportConfig()
            tcfg.port = a.port
            tcfg.boundAddress = a.bind
            self.ep.transportCreate(kind, tcfg)
        self.ep.audDevManager().setNullDev()
        self.ep.libStart()
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:bare@{a.bind}:{a.port}"
        media = acfg.mediaConfig.transportConfig
        media.port = a.rtp_port
        media.portRange = a.rtp_port_range
        media.boundAddress = a.bind
        self.account = Account(self)
        self.account.create(acfg, True)
        self.account.setDefault()
        a.record_dir.mkdir(parents=True, exist_ok=True)
        print(f"bare bridge listening on {a.bind}:{a.port}, operator {a.operator}", flush=True)

    def run(self) -> None:
        """One thread: handle events, then do the deferred work outside the callbacks."""
        while self.running:
            self.ep.libHandleEvents(5)
            self.hang_up_deferred()
            self.graveyard.clear()
        self.shutdown()

    def hang_up_deferred(self) -> None:
        """Hang up the legs whose partner ended (no local reference outlives this method)."""
        while self.to_hang_up:
            leg = self.to_hang_up.pop()
            if not leg.ended:
                leg.ended = True
                with contextlib.suppress(pj.Error):
                    leg.hangup(pj.CallOpParam())

    def shutdown(self) -> None:
        """Hang up everything, free every pj object, destroy the library."""
        self.ep.hangupAllCalls()
        deadline = time.monotonic() + 5
        while self.legs and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)
        self.graveyard.clear()
        self.legs.clear()
        self.account.shutdown()
        del self.account
        self.ep.libDestroy()
        print(f"bare bridge stopped: {self.bridged_total} calls bridged, {self.refused_total} refused", flush=True)

    # -- calls ------------------------------------------------------------------------------
    def incoming(self, call_id: int) -> None:
        """Answer the caller and dial the operator; refuse with 503 when full."""
        caller = Leg(self, self.account, call_id)
        self.legs.add(caller)
        prm = pj.CallOpParam()
        if len(self.legs) + 1 > self.args.max_calls:
            self.refused_total += 1
            caller.ended = True
            prm.statusCode = 503
            caller.answer(prm)
            return
        prm.statusCode = 200
        caller.answer(prm)
        operator = Leg(self, self.account)
        self.legs.add(operator)
        pair = Pair(caller, operator, self.args.record_dir / f"call-{next(self.numbers)}.wav")
        caller.pair = operator.pair = pair
        try:
            operator.makeCall(self.args.operator, pj.CallOpParam(True))
        except pj.Error as err:
            print(f"dial failed: {err.reason}", file=sys.stderr)
            self.legs.discard(operator)
            self.graveyard.append(operator)
            caller.pair = None
            self.to_hang_up.append(caller)

    def leg_ready(self, leg: Leg) -> None:
        """A leg's audio is in the bridge: connect the pair when both are."""
        pair = leg.pair
        if pair is None or pair.connected or pair.caller.audio is None or pair.operator.audio is None:
            return
        a, b = pair.caller.audio, pair.operator.audio
        a.startTransmit(b)
        b.startTransmit(a)
        pair.connected = True
        self.bridged_total += 1
        if self.args.recording == "split":  # one mono WAV per leg: what that leg's far end says
            plan = [(pair.path.with_suffix(".caller.wav"), [a]), (pair.path.with_suffix(".operator.wav"), [b])]
        else:  # one WAV of both
            plan = [(pair.path, [a, b])]
        for path, sources in plan:
            recorder = pj.AudioMediaRecorder()
            try:
                recorder.createRecorder(str(path))
            except pj.Error as err:
                print(f"cannot record {path}: {err.reason}", file=sys.stderr)
                continue
            for source in sources:
                source.startTransmit(recorder)
            pair.recorders.append(recorder)

    def leg_gone(self, leg: Leg) -> None:
        """A leg ended: close the recorder, hang up the other leg, free this one later."""
        leg.ended = True
        self.legs.discard(leg)
        self.graveyard.append(leg)
        pair = leg.pair
        if pair is None:
            return
        leg.pair = None
        self.graveyard.extend(pair.recorders)  # destroying a recorder writes its WAV header
        pair.recorders = []
        other = pair.operator if leg is pair.caller else pair.caller
        other.pair = None
        if not other.ended:
            self.to_hang_up.append(other)


def main() -> None:
    """Parse arguments, run until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5070)
    parser.add_argument("--operator", required=True, help="SIP URI every call is bridged to")
    parser.add_argument("--record-dir", type=Path, required=True)
    parser.add_argument("--rtp-port", type=int, default=30000)
    parser.add_argument("--rtp-port-range", type=int, default=2000)
    parser.add_argument("--max-calls", type=int, default=500, help="call legs (as CALLBOX_SIP_MAX_CALLS)")
    parser.add_argument("--max-bridge-ports", type=int, default=1090)
    parser.add_argument("--recording", choices=["mixed", "split"], default="mixed",
                        help="one WAV of both legs per call, or one WAV per leg (two recorders per call)")
    parser.add_argument("--log-level", type=int, default=3, help="PJSIP log level (the appliance uses 3)")
    app = BareBridge(parser.parse_args())

    def stop(*_: object) -> None:
        app.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app.start()
    app.run()


if __name__ == "__main__":
    main()
