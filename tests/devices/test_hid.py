"""HID telephony: descriptors from the testbeds parsed, reports replayed into the reader, duplicates dropped."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest

from appliance.devices.buttons import ButtonEvent, Debouncer, HidReader
from appliance.devices.hid import Control, parse_descriptor

DATA = Path(__file__).parent / "data"


def descriptor(name: str) -> bytes:
    """The report descriptor recorded in a testbed file."""
    text = (DATA / f"{name}.umockdev").read_text()
    return bytes.fromhex(re.search(r"^H: report_descriptor=([0-9a-f]+)$", text, re.M).group(1))  # type: ignore[union-attr]


def test_jabra_layout_hook_mute_flash_and_leds() -> None:
    layout = parse_descriptor(descriptor("jabra"))
    assert layout.numbered and layout.has_hook
    assert layout.decode(bytes([0x02, 0b0000_0001])) == {Control.HOOK: 1, Control.MUTE: 0, Control.FLASH: 0}
    assert layout.decode(bytes([0x02, 0b0000_0100])) == {Control.HOOK: 0, Control.MUTE: 1, Control.FLASH: 0}
    assert layout.decode(bytes([0x02, 0b0000_1000]))[Control.FLASH] == 1
    assert layout.decode(bytes([0x05, 0xFF])) == {}  # another report id: nothing of ours
    assert layout.encode_leds({Control.LED_RING}) == [bytes([0x02, 0b0000_0100])]
    assert layout.encode_leds({Control.LED_OFF_HOOK, Control.LED_MUTE}) == [bytes([0x02, 0b0000_0011])]
    assert layout.encode_leds(set()) == [bytes([0x02, 0x00])]


def test_poly_layout_skips_consumer_controls_and_uses_its_own_bits() -> None:
    layout = parse_descriptor(descriptor("poly"))
    assert layout.decode(bytes([0x01, 0b11])) == {}  # volume keys (consumer page) are not telephony
    assert layout.decode(bytes([0x03, 0b010])) == {Control.MUTE: 0, Control.HOOK: 1, Control.FLASH: 0}
    assert layout.decode(bytes([0x03, 0b001]))[Control.MUTE] == 1
    assert layout.encode_leds({Control.LED_RING}) == [bytes([0x04, 0b100])]
    assert layout.encode_leds({Control.LED_MUTE, Control.LED_OFF_HOOK}) == [bytes([0x04, 0b011])]


def test_descriptor_without_telephony_has_no_hook() -> None:
    keyboardish = bytes.fromhex("05010906a101050719e029e71500250175019508810295018101c0")
    layout = parse_descriptor(keyboardish)
    assert not layout.has_hook and layout.decode(bytes(8)) == {}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("window", "gap", "kept"), [(2.5, 2.0, 1), (0.2, 0.05, 1), (0.2, 0.5, 2)])
def test_duplicate_press_within_the_makers_window_is_dropped(window: float, gap: float, kept: int) -> None:
    clock = Clock()
    bouncer = Debouncer(window, clock)
    presses = 0
    for _ in range(2):  # press (1) and release (0), then the same again `gap` later
        presses += sum(1 for e in bouncer.feed({Control.MUTE: 1}) if e.value == 1)
        bouncer.feed({Control.MUTE: 0})
        clock.now += gap
    assert presses == kept


def test_hook_answer_then_quick_hangup_is_kept_but_jabra_repeat_is_not() -> None:
    clock = Clock()
    bouncer = Debouncer(2.5, clock)
    assert [e.value for e in bouncer.feed({Control.HOOK: 1})] == [1]  # off hook: answer
    clock.now += 1.0
    assert [e.value for e in bouncer.feed({Control.HOOK: 0})] == [0]  # on hook after 1 s: hang up
    clock.now += 1.0
    assert bouncer.feed({Control.HOOK: 1}) == []  # the Jabra's repeat of the first report, 2 s on
    clock.now += 3.0
    assert [e.value for e in bouncer.feed({Control.HOOK: 1})] == [1]  # a real new answer


async def test_reports_replayed_into_the_reader_and_leds_written_back() -> None:
    ours, device = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    events: list[ButtonEvent] = []
    layout = parse_descriptor(descriptor("poly"))
    reader = HidReader(ours.detach(), layout, 0.2, events.append, "replay")
    reader.start()
    try:
        for report in ([0x03, 0b010], [0x03, 0b010], [0x03, 0b011], [0x03, 0b010], [0x03, 0b011],
                       [0x01, 0b01], [0x03, 0b000]):
            device.send(bytes(report))
            await asyncio.sleep(0.02)  # Poly's ~50 ms duplicates arrive inside the window
        await asyncio.sleep(0.05)
        assert [(e.control, e.value) for e in events] == [
            (Control.HOOK, 1), (Control.MUTE, 1), (Control.MUTE, 0), (Control.HOOK, 0)]
        reader.set_leds({Control.LED_OFF_HOOK})
        assert device.recv(64) == bytes([0x04, 0b010])
    finally:
        reader.close()
        device.close()
