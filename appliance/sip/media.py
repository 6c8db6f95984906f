"""Hold music, bridges and recorders in PJSIP's conference bridge.

Runs on the SIP thread only. A bridge connects two legs both ways and, when asked, two
recorders: each leg transmits what its far end says to its own mono WAV (`recording_legs`), so
the caller and the operator end up on separate channels after encoding. Legs whose audio is not
up yet are connected as soon as it is. Each bridged and recorded call takes four bridge ports:
two legs and two recorders; all waiting callers share one hold-music player.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from appliance.settings import SipSettings
from appliance.sip.abc import CallKey, RecordingClosed, recording_legs

if TYPE_CHECKING:
    from appliance.sip.pjobjects import Call

log = logging.getLogger(__name__)

MAX_RECORDERS = 512  # PJSUA_MAX_RECORDERS of the appliance's build (image/pjsua2/config_site.h)
RECORDERS_PER_BRIDGE = 2  # the caller's leg and the operator's leg


@dataclasses.dataclass
class Bridge:
    """Two legs connected both ways, and one recorder per leg (a: the caller, b: the operator)."""

    key: str
    a: Call
    b: Call
    path: Path | None
    recorders: list[pj.AudioMediaRecorder] = dataclasses.field(default_factory=list)
    connected: bool = False

    @property
    def recorder(self) -> pj.AudioMediaRecorder | None:
        """The first leg's recorder (for code written when a bridge had one mixed recorder)."""
        return self.recorders[0] if self.recorders else None


class MediaDesk:
    """Who hears what: hold music for waiting callers, bridges for connected ones."""

    def __init__(self, settings: SipSettings, hold_music: Path | None, post: Callable[[Any], Any]) -> None:
        self.settings = settings
        self.hold_music = hold_music
        self.post = post
        self.player: pj.AudioMediaPlayer | None = None
        self.music_wanted: set[CallKey] = set()
        self.bridges: dict[str, Bridge] = {}
        self.by_call: dict[CallKey, str] = {}
        self.recorder_count = 0
        self.keys = (f"b{n}" for n in itertools.count(1))

    def ports_in_use(self, calls: int) -> int:
        """Bridge ports taken: one per leg, recorders, the music player and the master port."""
        return calls + self.recorder_count + (1 if self.player is not None else 0) + 1

    def has_room(self, calls_after: int, needed_ports: int) -> bool:
        """Whether a new leg (and what it will need) fits under the engine's limits."""
        return (calls_after <= self.settings.max_calls
                and self.ports_in_use(calls_after - 1) + needed_ports <= self.settings.max_bridge_ports)

    # -- hold music ----------------------------------------------------------------------
    def want_music(self, key: CallKey) -> None:
        """Play hold music to this leg as soon as its audio is up."""
        self.music_wanted.add(key)

    def _music(self) -> pj.AudioMediaPlayer | None:
        if self.player is None and self.hold_music is not None and self.hold_music.is_file():
            player = pj.AudioMediaPlayer()
            player.createPlayer(str(self.hold_music), 0)  # loops
            self.player = player
        return self.player

    def _start_music(self, call: Call) -> None:
        player = self._music()
        if player is not None and call.audio is not None:
            player.startTransmit(call.audio)

    def _stop_music(self, call: Call) -> None:
        if call.key in self.music_wanted:
            self.music_wanted.discard(call.key)
            if self.player is not None and call.audio is not None:
                try:
                    self.player.stopTransmit(call.audio)
                except pj.Error:
                    log.debug("music was not playing to %s", call.key)

    # -- legs ----------------------------------------------------------------------------
    def leg_ready(self, call: Call) -> None:
        """A leg's audio joined the bridge: start its music or complete its bridge."""
        bridge_key = self.by_call.get(call.key)
        if bridge_key is not None:
            self._connect(self.bridges[bridge_key])
        elif call.key in self.music_wanted:
            self._start_music(call)

    def leg_gone(self, call: Call) -> None:
        """A leg ended: stop its music, close its bridge and recorder."""
        self.music_wanted.discard(call.key)
        bridge_key = self.by_call.pop(call.key, None)
        if bridge_key is None:
            return
        bridge = self.bridges.pop(bridge_key)
        other = bridge.b if bridge.a is call else bridge.a
        self.by_call.pop(other.key, None)
        # The gone leg's port has left the bridge with all its connections: nothing to disconnect.
        self._close_recorder(bridge)

    # -- bridges -------------------------------------------------------------------------
    def bridge(self, a: Call, b: Call, path: Path | None) -> str:
        """Connect two legs (now or when both have audio), with a recorder if `path` is given."""
        bridge = Bridge(next(self.keys), a, b, path)
        self.bridges[bridge.key] = bridge
        self.by_call[a.key] = bridge.key
        self.by_call[b.key] = bridge.key
        self._connect(bridge)
        return bridge.key

    def _connect(self, bridge: Bridge) -> None:
        a, b = bridge.a, bridge.b
        if bridge.connected or a.audio is None or b.audio is None:
            return
        self._stop_music(a)
        self._stop_music(b)
        a.audio.startTransmit(b.audio)
        b.audio.startTransmit(a.audio)
        bridge.connected = True
        if bridge.path is not None:
            self._open_recorder(bridge)

    def _open_recorder(self, bridge: Bridge) -> None:
        assert bridge.path is not None
        recorders: list[pj.AudioMediaRecorder] = []
        if self.recorder_count + RECORDERS_PER_BRIDGE > MAX_RECORDERS:
            log.error("bridge %s goes unrecorded: the engine's %d recorders are in use", bridge.key, MAX_RECORDERS)
            self.post(RecordingClosed(bridge.key, None))
            bridge.path = None
            return
        try:
            bridge.path.parent.mkdir(parents=True, exist_ok=True)
            for leg, file in zip((bridge.a, bridge.b), recording_legs(bridge.path), strict=True):
                recorder = pj.AudioMediaRecorder()
                recorder.createRecorder(str(file))
                recorders.append(recorder)
                if leg.audio is not None:
                    leg.audio.startTransmit(recorder)  # what this leg's far end says, alone
        except (OSError, pj.Error) as err:
            # The call goes on unrecorded; the closed event (with no file) tells the appliance.
            log.error("cannot record bridge %s to %s: %s", bridge.key, bridge.path, err)
            recorders.clear()  # destroying a recorder closes its file
            self.post(RecordingClosed(bridge.key, None))
            bridge.path = None
            return
        bridge.recorders = recorders
        self.recorder_count += len(recorders)

    def _close_recorder(self, bridge: Bridge) -> None:
        if not bridge.recorders:
            return
        count = len(bridge.recorders)
        bridge.recorders.clear()  # destroying the ports writes the final WAV headers
        self.recorder_count -= count
        self.post(RecordingClosed(bridge.key, bridge.path))

    def close(self) -> None:
        """Release every recorder and the player before the library is destroyed."""
        for bridge in list(self.bridges.values()):
            self._close_recorder(bridge)
        self.bridges.clear()
        self.by_call.clear()
        self.player = None
