"""Headset seat audio through the real pjsua2 engine and ALSA's own file PCMs, with SIPp peers.

Runs in a process of its own (test_hotplug.py starts it): ALSA reads ~/.asoundrc once per
process and pjsua2 allows one library per process. The udev side is tested under umockdev
(under_umockdev.py); here the headset arrives as the watcher would hand it over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.acd import CallJournal, QueueManager
from appliance.config.load import apply
from appliance.devices.identify import GENERIC, Headset
from appliance.devices.seats import HeadsetSeats
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.settings import SipSettings
from appliance.sip.abc import HeadsetSignal
from appliance.sip.engine import PjsuaEngine
from appliance.storage import Database, Incident, QueueEvent, Recording, Seat
from appliance.storage import Operator as OperatorRow
from appliance.trunks import TrunkService
from tests.devices.alsa_rig import PacedHeadset, asoundrc
from tests.support.rtp import RtpSink, tone_power
from tests.support.sipp import Sipp, free_udp_port

pytestmark = pytest.mark.sip
ADAPTER = Headset(key="/sys/devices/usb1/1-3", port="1-3", vendor_id="0d8c", product_id="0014", serial="",
                  maker=GENERIC, model="USB Audio Device", card_id="Device", card_index=3)


class Box:
    """Engine, queue manager and headset seats wired as the daemon wires them, pump included."""

    def __init__(self, tmp_path: Path) -> None:
        self.engine = PjsuaEngine(SipSettings(bind="127.0.0.1", port=free_udp_port(), log_level=1,
                                              rtp_port=free_udp_port(span=200), rtp_port_range=200), None)
        self.journal = CallJournal()
        self.pump: asyncio.Queue[Any] = asyncio.Queue()
        self.trunks = TrunkService(self.engine, HealthBoard(), IncidentJournal())
        self.acd = QueueManager(self.engine, self.trunks, self.journal,
                                RecordingIndex(tmp_path / "rec", self.journal.write), self.pump.put_nowait)
        self.seats = HeadsetSeats(self.engine, self.acd, IncidentJournal(), self.pump.put_nowait)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.journal.start()
        await self.engine.start(self.pump.put_nowait)
        self.task = asyncio.create_task(self._run())
        await self.trunks.load()
        await self.acd.load()

    async def _run(self) -> None:
        while True:
            item = await self.pump.get()
            if callable(item):
                await item()
            elif isinstance(item, HeadsetSignal):
                await self.seats.on_signal(item)
            else:
                await self.acd.handle(item)

    async def events(self) -> list[tuple[str, str]]:
        await self.journal.flush()
        return [(e.event, e.agent) for e in await QueueEvent.all().order_by("id") if e.event != "RINGNOANSWER"]

    async def stop(self) -> None:
        await self.engine.stop()
        await asyncio.sleep(0.2)
        if self.task is not None:
            self.task.cancel()
        await self.journal.stop()


async def until(check: Callable[[], Any], limit_s: float, what: str) -> Any:
    deadline = time.monotonic() + limit_s
    while not (value := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def test_headset_hears_the_carrier_speaks_to_it_and_unplug_hands_the_caller_on(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # ALSA reads ~/.asoundrc (nothing in this process used ALSA yet)
    headset = PacedHeadset(tmp_path, speak_hz=440).start()
    asoundrc(tmp_path, "Device", headset.play, headset.capture)
    box = Box(tmp_path)
    with RtpSink() as sink, Sipp("operator_answer.xml", ip="127.0.0.1", keys={"rtp_port": sink.port},
                                 timeout=40) as phone, RtpSink(host="127.0.0.2", reply_tone_hz=1000) as line:
        await apply({"trunk": [{"name": "carrier", "kind": "ip", "host": "127.0.0.2"}],
                     "operator": [{"name": "op101", "extension": "101", "seats": []},
                                  {"name": "op102", "extension": "102", "seats": [f"sip:102@{phone.address}"]}],
                     "queue": [{"name": "sales", "strategy": "rrmemory", "members": ["101", "102"], "retry_s": 0}],
                     "did": [{"number": "*", "queue": "sales"}]})
        await Seat.create(operator=await OperatorRow.get(extension="101"), kind="headset", target="port:1-3")
        try:
            await box.start()
            box.seats.plugged(ADAPTER, time.monotonic())
            await until(lambda: _true(box.seats.present("port:1-3")), 5, "the headset seat")
            carrier = Sipp(carrier_scenario(tmp_path), f"127.0.0.1:{box.engine._settings.port}", ip="127.0.0.2",
                           service="4951000", timeout=40,
                           keys={"caller": "79001234567", "rtp_port": line.port, "hold_ms": 10000}).start()
            await until(lambda: _has(box, ("CONNECT", "op101")), 10, "the headset to answer")
            await asyncio.sleep(4.0)
            heard, carrier_heard = headset.samples(), line.samples()
            box.seats.unplugged(ADAPTER, time.monotonic())  # mid-call
            await until(lambda: _has(box, ("CONNECT", "op102")), 15, "the next operator")
            result = await carrier.wait(45)
            assert result.ok, result.describe()
            await until(lambda: Recording.all().count(), 10, "the recordings")
            events = await until(lambda: _has(box, ("COMPLETECALLER", "op102"), everything=True), 10, "the end")
        finally:
            await box.stop()
            headset.stop()
        heard_by_op102 = sink.samples()
    assert len(heard) > 8000 * 2  # the carrier's tone came out of the headset's ALSA playback PCM
    assert tone_power(heard, 1000) > 0.5, tone_power(heard, 1000)
    assert len(carrier_heard) > 8000 * 2  # the headset's microphone (ALSA capture PCM) reached the carrier
    assert tone_power(carrier_heard, 440) > 0.5, tone_power(carrier_heard, 440)
    assert len(await Recording.all()) == 2  # one recording per operator
    assert tone_power(heard_by_op102, 1000) > 0.5  # the caller was not dropped: op102 heard them
    assert events == [("ENTERQUEUE", ""), ("CONNECT", "op101"), ("SEATLOST", "op101"), ("CONNECT", "op102"),
                      ("COMPLETECALLER", "op102")]
    incident = await Incident.get(kind="seat", subject="port:1-3")
    assert "mid-call" in incident.cause


def carrier_scenario(tmp_path: Path) -> Path:
    """The shared carrier scenario with its media on an RtpSink (which answers with a tone), not SIPp."""
    text = (Path(__file__).parents[1] / "sipp" / "carrier_call.xml").read_text()
    assert "[media_port]" in text and '<exec play_pcap_audio="[pcap]"/>' in text
    path = tmp_path / "carrier_call_sink.xml"
    path.write_text(text.replace("[media_port]", "[rtp_port]").replace('<exec play_pcap_audio="[pcap]"/>', ""))
    return path


async def _true(value: bool) -> bool:
    return value


async def _has(box: Box, event: tuple[str, str], everything: bool = False) -> Any:
    events = await box.events()
    return (events if everything else True) if event in events else None
