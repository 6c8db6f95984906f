"""Which USB devices are headsets: a table of headset makers, and a USB Audio Class fallback.

A headset is identified by vendor/product, serial and the USB port path it is plugged into
(the sysfs name of the USB device, e.g. `1-1.2`); its audio is the ALSA card on it, its
buttons the hidraw node whose report descriptor carries the telephony hook switch.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from appliance.devices.hid import TelephonyLayout


@dataclasses.dataclass(frozen=True)
class Maker:
    """What we know of one headset maker."""

    name: str
    debounce_s: float  # window in which a repeated report is a duplicate


MAKERS: dict[str, Maker] = {
    "0b0e": Maker("Jabra", 2.5),  # GN Netcom/GN Audio: duplicate reports ~2 s apart
    "047f": Maker("Poly", 0.2),  # Plantronics: duplicates ~50 ms apart
    "1395": Maker("EPOS", 0.3),  # Sennheiser Communications / EPOS
    "046d": Maker("Logitech", 0.3),
    "6993": Maker("Yealink", 0.3),
}
GENERIC = Maker("USB Audio", 0.3)


@dataclasses.dataclass(frozen=True)
class Headset:
    """One plugged-in headset as the seats see it."""

    key: str  # sysfs path of the USB device: stable while plugged in
    port: str  # USB port path, e.g. "1-1.2"
    vendor_id: str
    product_id: str
    serial: str
    maker: Maker
    model: str
    card_id: str  # ALSA card id, e.g. "Evolve2"
    card_index: int
    hidraw: tuple[str, ...] = ()  # /dev/hidrawN nodes with a telephony hook switch
    layouts: tuple[TelephonyLayout, ...] = ()

    @property
    def pcm_names(self) -> list[str]:
        """ALSA PCM names for this card, best first (as PJSIP's ALSA backend lists them)."""
        return [f"plughw:CARD={self.card_id},DEV=0", f"sysdefault:CARD={self.card_id}",
                f"hw:CARD={self.card_id},DEV=0", f"default:CARD={self.card_id}"]

    @property
    def playback_pcms(self) -> list[str]:
        """Playback PCMs: an admin's `pcm.callbox_<card>_play` in asound.conf first, then the card."""
        return [f"callbox_{self.card_id}_play", *self.pcm_names]

    @property
    def capture_pcms(self) -> list[str]:
        """Capture PCMs: an admin's `pcm.callbox_<card>_capture` first, then the card."""
        return [f"callbox_{self.card_id}_capture", *self.pcm_names]

    def matches(self, target: str) -> bool:
        """Whether a seat target ("port:1-1.2" or "serial:ABC123") designates this headset."""
        how, _, value = target.partition(":")
        if how == "port":
            return value == self.port
        if how == "serial":
            return bool(value) and value == self.serial
        return False

    def as_dict(self) -> dict[str, Any]:
        """The headset for the API and the panel."""
        return {"port": self.port, "vendor_id": self.vendor_id, "product_id": self.product_id,
                "serial": self.serial, "maker": self.maker.name, "model": self.model,
                "card": self.card_id, "buttons": bool(self.hidraw)}


def _prop(device: Any, name: str) -> str:
    value = device.properties.get(name)
    return str(value) if value is not None else ""


def _attr(device: Any, name: str) -> str:
    try:
        value = device.attributes.get(name)
    except (KeyError, OSError):
        return ""
    if value is None:
        return ""
    return value.decode(errors="replace").strip() if isinstance(value, bytes) else str(value).strip()


def usb_device_of(device: Any) -> Any | None:
    """The USB device (not interface) a sound or hidraw device belongs to."""
    return device.find_parent("usb", "usb_device")


def is_audio(usb: Any, card: Any) -> bool:
    """Whether the device has USB Audio Class interfaces (audio control + streaming)."""
    interfaces = _prop(card, "ID_USB_INTERFACES") or _prop(usb, "ID_USB_INTERFACES")
    if interfaces:
        return ":0101" in interfaces and ":0102" in interfaces
    return _prop(usb, "ID_VENDOR_ID") in MAKERS or _attr(usb, "idVendor") in MAKERS


def identify(card: Any) -> Headset | None:
    """A headset from a `sound` card device (cardN) on USB, or None for anything else."""
    if not card.sys_name.startswith("card") or not card.sys_name[4:].isdigit():
        return None
    usb = usb_device_of(card)
    if usb is None or not is_audio(usb, card):
        return None
    vendor = _attr(usb, "idVendor") or _prop(card, "ID_VENDOR_ID")
    product = _attr(usb, "idProduct") or _prop(card, "ID_MODEL_ID")
    serial = _attr(usb, "serial") or _prop(card, "ID_SERIAL_SHORT")
    model = _attr(usb, "product") or _prop(card, "ID_MODEL") or product
    card_id = _attr(card, "id") or f"{int(card.sys_name[4:])}"
    return Headset(key=usb.sys_path, port=usb.sys_name, vendor_id=vendor.lower(), product_id=product.lower(),
                   serial=serial, maker=MAKERS.get(vendor.lower(), GENERIC), model=model, card_id=card_id,
                   card_index=int(card.sys_name[4:]))
