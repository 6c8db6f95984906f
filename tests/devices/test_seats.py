"""Headset seats in the queue (fake engine): presence follows the headset, hook answers, unplug requeues."""

from __future__ import annotations

import asyncio
import socket

from appliance.devices.buttons import HidReader
from appliance.devices.hid import parse_descriptor
from appliance.devices.identify import MAKERS, Headset
from appliance.storage import Incident
from tests.acd.test_manager import CARRIER
from tests.devices.harness import SeatHarness
from tests.devices.test_hid import descriptor

JABRA = Headset(key="/sys/devices/usb1/1-1", port="1-1", vendor_id="0b0e", product_id="24b8", serial="70BF92A1C3D4",
                maker=MAKERS["0b0e"], model="Jabra Evolve2 40", card_id="Evolve240", card_index=1)


def buttons(h: SeatHarness) -> socket.socket:
    """Give the seat a Jabra's hidraw, played through a socket; returns the device's end."""
    ours, device = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    h.seats.attach_reader("port:1-1", HidReader(ours.detach(), parse_descriptor(descriptor("jabra")), 2.5,
                                                lambda _e: None))
    return device


async def test_seat_is_absent_until_its_headset_is_plugged(seated: SeatHarness) -> None:
    h = seated
    h.engine.incoming("5551", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == ["sip:102@192.0.2.50"]  # op101's headset is not plugged in
    assert not h.acd.directory.operators[min(h.acd.directory.operators)].free
    h.seats.plugged(JABRA, 0.0)
    await h.settle()
    assert h.seats.present("port:1-1") and "port:1-1" in h.engine.headsets
    (seat,) = h.seats.snapshot()["seats"]
    assert seat["operator"] == "op101" and seat["present"] and seat["headset"]["serial"] == "70BF92A1C3D4"


async def test_hook_answers_and_unplug_mid_call_puts_the_caller_first_for_the_next_operator(
        seated: SeatHarness) -> None:
    h = seated
    h.seats.plugged(JABRA, 0.0)
    await h.settle()
    device = buttons(h)
    caller = h.engine.incoming("5551", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == ["headset:port:1-1"]
    assert device.recv(64) == bytes([0x02, 0b0100])  # the ring LED
    device.send(bytes([0x02, 0b0001]))  # hook switch: off hook
    await asyncio.sleep(0.05)
    await h.settle()
    headset_leg = h.engine.headsets["port:1-1"]
    assert h.engine.legs[caller].bridged_with == headset_leg
    second = h.engine.incoming("5552", "100", CARRIER)  # waits behind: op102 gets it
    await h.settle()
    h.seats.unplugged(JABRA, 0.0)  # mid-call
    await h.settle()
    assert not h.seats.present("port:1-1")
    assert h.engine.legs[caller].state == "answered" and h.engine.legs[caller].hold_music  # not dropped
    assert [e.caller for e in h.acd.waiting["sales"]] in (["5551"], ["5551", "5552"])
    h.engine.remote_end(h.leg_to("sip:102@192.0.2.50"), 486)  # op102 was ringing for 5552: refuses
    await h.settle()
    assert [e.caller for e in h.acd.waiting["sales"]][:1] == ["5551"]  # at the head of the queue
    h.engine.remote_answer(h.leg_to("sip:102@192.0.2.50"))
    await h.settle()
    op102_leg = h.engine.legs[caller].bridged_with
    assert op102_leg is not None and h.engine.legs[op102_leg].uri == "sip:102@192.0.2.50"
    events = await h.events()
    assert ("SEATLOST", "op101") in events
    assert events.index(("CONNECT", "op101")) < events.index(("SEATLOST", "op101")) < len(events) - 1
    assert events[-1] == ("CONNECT", "op102")
    incident = await Incident.get(kind="seat", subject="port:1-1")
    assert incident.ended_at is None and "mid-call" in incident.cause
    assert second in h.engine.legs
    h.seats.plugged(JABRA, 0.0)
    await h.settle()
    assert (await Incident.get(id=incident.id)).ended_at is not None
    device.close()


async def test_unplug_while_ringing_rings_the_next_operator(seated: SeatHarness) -> None:
    h = seated
    h.seats.plugged(JABRA, 0.0)
    await h.settle()
    device = buttons(h)
    h.engine.incoming("5551", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == ["headset:port:1-1"]
    h.seats.unplugged(JABRA, 0.0)
    await h.settle()
    assert h.ringing_targets() == ["sip:102@192.0.2.50"]
    assert ("RINGNOANSWER", "op101") in await h.events()
    device.close()


async def test_mute_press_toggles_and_a_seat_without_buttons_auto_answers(seated: SeatHarness) -> None:
    h = seated
    h.seats.plugged(JABRA, 0.0)
    await h.settle()
    device = buttons(h)
    device.send(bytes([0x02, 0b0100]))  # mute pressed
    device.send(bytes([0x02, 0b0000]))
    await asyncio.sleep(0.05)
    await h.settle()
    assert h.engine.muted["port:1-1"] is True
    for reader in h.seats.readers.pop("port:1-1"):
        reader.close()
    h.engine.incoming("5551", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == []  # answered by itself: no hook switch to wait for
    assert ("CONNECT", "op101") in await h.events()
    device.close()
