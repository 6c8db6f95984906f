"""HID telephony reports: the report descriptor parsed into fields, input reports decoded, LEDs encoded.

Linux maps only Phone Mute to an input key, so the hook switch is read from hidraw: the sysfs
`report_descriptor` says where (report id, bit offset, size) each telephony usage lives.
"""

from __future__ import annotations

import dataclasses
import enum

TELEPHONY_PAGE = 0x0B
LED_PAGE = 0x08


class Control(enum.StrEnum):
    """Headset inputs the appliance acts on, and LEDs it drives."""

    HOOK = "hook"  # Telephony 0x20: 1 = off hook
    FLASH = "flash"  # Telephony 0x21
    MUTE = "mute"  # Telephony 0x2F: a press toggles mute
    LED_OFF_HOOK = "led_off_hook"  # LED 0x17
    LED_RING = "led_ring"  # LED 0x18
    LED_MUTE = "led_mute"  # LED 0x09


USAGES: dict[tuple[int, int], Control] = {
    (TELEPHONY_PAGE, 0x20): Control.HOOK, (TELEPHONY_PAGE, 0x21): Control.FLASH,
    (TELEPHONY_PAGE, 0x2F): Control.MUTE, (LED_PAGE, 0x17): Control.LED_OFF_HOOK,
    (LED_PAGE, 0x18): Control.LED_RING, (LED_PAGE, 0x09): Control.LED_MUTE,
}


@dataclasses.dataclass(frozen=True)
class Field:
    """Where one control lives in a report (bit offsets exclude the report id byte)."""

    control: Control
    report_id: int
    offset: int
    size: int
    output: bool


@dataclasses.dataclass
class _Globals:
    page: int = 0
    logical_min: int = 0
    size: int = 0
    count: int = 0
    report_id: int = 0


@dataclasses.dataclass(frozen=True)
class TelephonyLayout:
    """The telephony controls of one HID interface, and the lengths of its reports."""

    fields: tuple[Field, ...]
    numbered: bool  # reports start with a report id byte
    output_bits: dict[int, int]

    @property
    def has_hook(self) -> bool:
        """Whether the interface reports the hook switch (a telephony headset)."""
        return any(f.control is Control.HOOK for f in self.fields)

    def decode(self, report: bytes) -> dict[Control, int]:
        """The values of the telephony inputs carried by one input report."""
        report_id, body = (report[0], report[1:]) if self.numbered and report else (0, report)
        bits = int.from_bytes(body, "little")
        return {f.control: (bits >> f.offset) & ((1 << f.size) - 1) for f in self.fields
                if not f.output and f.report_id == report_id and f.offset + f.size <= 8 * len(body)}

    def encode_leds(self, on: set[Control]) -> list[bytes]:
        """Output reports that set the telephony LEDs to exactly `on` (one per report id)."""
        reports = []
        for report_id, total in sorted(self.output_bits.items()):
            leds = [f for f in self.fields if f.output and f.report_id == report_id]
            if not leds:
                continue
            value = sum(1 << f.offset for f in leds if f.control in on)
            body = value.to_bytes((total + 7) // 8, "little")
            reports.append(bytes([report_id]) + body if self.numbered else body)
        return reports


def _unsigned(data: bytes) -> int:
    return int.from_bytes(data, "little") if data else 0


def parse_descriptor(desc: bytes) -> TelephonyLayout:
    """Parse a HID report descriptor, keeping the telephony and LED controls."""
    g, stack = _Globals(), list[_Globals]()
    usages: list[int] = []
    usage_min: int | None = None
    offsets: dict[tuple[str, int], int] = {}
    found: list[Field] = []
    numbered = False
    i = 0
    while i < len(desc):
        prefix = desc[i]
        if prefix == 0xFE:  # long item: skip
            i += 3 + (desc[i + 1] if i + 1 < len(desc) else 0)
            continue
        size = (0, 1, 2, 4)[prefix & 3]
        data, kind, tag = desc[i + 1:i + 1 + size], (prefix >> 2) & 3, prefix >> 4
        i += 1 + size
        value = _unsigned(data)
        if kind == 1:  # global
            if tag == 0:
                g.page = value
            elif tag == 1:
                g.logical_min = value
            elif tag == 7:
                g.size = value
            elif tag == 8:
                g.report_id, numbered = value, True
            elif tag == 9:
                g.count = value
            elif tag == 10:
                stack.append(dataclasses.replace(g))
            elif tag == 11 and stack:
                g = stack.pop()
        elif kind == 2:  # local
            full = value if size == 4 else (g.page << 16) | value
            if tag == 0:
                usages.append(full)
            elif tag == 1:
                usage_min = full
            elif tag == 2 and usage_min is not None:
                usages.extend(range(usage_min, full + 1))
        elif kind == 0 and tag in (8, 9, 11):  # input, output, feature
            direction = {8: "in", 9: "out", 11: "feature"}[tag]
            key = (direction, g.report_id)
            start = offsets.get(key, 0)
            variable, constant = bool(value & 2), bool(value & 1)
            if direction != "feature" and not constant:
                found.extend(_fields(usages, g, start, variable, direction == "out"))
            offsets[key] = start + g.size * g.count
            usages, usage_min = [], None
        elif kind == 0:  # collections reset the local usages
            usages, usage_min = [], None
    output_bits = {rid: bits for (direction, rid), bits in offsets.items() if direction == "out"}
    return TelephonyLayout(tuple(found), numbered, output_bits)


def _fields(usages: list[int], g: _Globals, start: int, variable: bool, output: bool) -> list[Field]:
    """Fields for the telephony usages of one main item (variable items only: one bit per usage)."""
    result: list[Field] = []
    if not variable or not usages:
        return result
    for n in range(g.count):
        usage = usages[min(n, len(usages) - 1)]
        control = USAGES.get((usage >> 16, usage & 0xFFFF))
        if control is not None and (n < len(usages)):
            result.append(Field(control, g.report_id, start + n * g.size, g.size, output))
    return result
