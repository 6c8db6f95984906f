"""pjsua2 subclasses whose callbacks turn PJSIP happenings into engine events.

Runs on the SIP thread only. Callbacks copy plain fields and hand them to the engine; they never
block, touch the database or keep pj objects outside `appliance/sip/`.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import pjsua2 as pj

if TYPE_CHECKING:
    from appliance.sip.engine import SipThread

native_log = logging.getLogger("appliance.sip.native")
log = logging.getLogger(__name__)

_PJ_TO_PY_LEVEL = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}
_SECRET = re.compile(r"((?:Proxy-)?Authorization:\s*Digest\s).*", re.IGNORECASE)


class LogWriter(pj.LogWriter):  # type: ignore[misc]
    """Routes PJSIP's own log into Python logging, with digest credentials masked."""

    def write(self, entry: pj.LogEntry) -> None:
        """Called by PJSIP for every log line at or below the configured level."""
        level = _PJ_TO_PY_LEVEL.get(entry.level, logging.DEBUG)
        if native_log.isEnabledFor(level):
            native_log.log(level, "%s", _SECRET.sub(r"\1<hidden>", entry.msg.rstrip()))


class Account(pj.Account):  # type: ignore[misc]
    """A pjsua2 account: the local one (outbound, default for inbound) or a carrier registration."""

    def __init__(self, thread: SipThread, trunk: str | None) -> None:
        super().__init__()
        self.thread = thread
        self.trunk = trunk

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        """An INVITE arrived on this account."""
        try:
            self.thread.on_incoming_call(self, prm.callId, prm.rdata)
        except Exception:
            log.exception("incoming call handling failed")

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        """A REGISTER transaction of this account finished."""
        try:
            info = self.getInfo()
            self.thread.on_reg_state(self.trunk or "", int(prm.code), str(prm.reason),
                                     bool(info.regIsActive), int(prm.expiration))
        except Exception:
            log.exception("registration state handling failed")


class Call(pj.Call):  # type: ignore[misc]
    """One call leg, known to the engine by its key."""

    def __init__(self, thread: SipThread, account: Account, key: str,
                 call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.thread = thread
        self.key = key
        self.audio: pj.AudioMedia | None = None
        self.ended = False
        self.progressed = False  # a provisional response came back (a leg we dialled)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        """The INVITE session changed state."""
        try:
            info = self.getInfo()
            self.thread.on_call_state(self, int(info.state), int(info.lastStatusCode), str(info.lastReason))
        except Exception:
            log.exception("call state handling failed for %s", self.key)

    def onCallTsxState(self, prm: pj.OnCallTsxStateParam) -> None:
        """A transaction of this call changed state: we want the first provisional to our INVITE."""
        try:
            event = prm.e
            if event.type != pj.PJSIP_EVENT_TSX_STATE or self.progressed:
                return
            tsx = event.body.tsxState.tsx
            if tsx.role == pj.PJSIP_ROLE_UAC and tsx.method == "INVITE" and 100 <= tsx.statusCode < 200:
                self.thread.on_provisional(self, int(tsx.statusCode))
        except Exception:
            log.exception("transaction state handling failed for %s", self.key)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        """SDP negotiation finished; the audio stream may now be in the conference bridge."""
        try:
            info = self.getInfo()  # keep CallInfo alive while reading its media vector
            media = info.media
            for index in range(len(media)):
                item = media[index]
                if item.type == pj.PJMEDIA_TYPE_AUDIO and item.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    self.audio = self.getAudioMedia(index)
                    self.thread.on_media_ready(self)
                    return
        except Exception:
            log.exception("media state handling failed for %s", self.key)
