"""RTP and audio helpers for SIP tests: G.711, tone pcaps for SIPp, an RTP sink, tone analysis, WAV."""

from __future__ import annotations

import array
import math
import socket
import struct
import sys
import threading
import time
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Payload = Literal["PCMA", "PCMU"]
PAYLOAD_TYPES: dict[str, int] = {"PCMU": 0, "PCMA": 8}
RATE = 8000
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
FULL_SCALE = 32768.0

# --- G.711 (ITU-T G.711, the classic Sun reference algorithm) ------------------------------------

_SEG_END_A = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_SEG_END_U = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159


def _segment(value: int, ends: Sequence[int]) -> int:
    """Index of the first segment whose end is >= value (8 when beyond the last)."""
    for seg, end in enumerate(ends):
        if value <= end:
            return seg
    return len(ends)


def linear_to_alaw(sample: int) -> int:
    """Encode one signed 16-bit sample as an A-law byte."""
    pcm = max(-32768, min(32767, sample)) >> 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _segment(pcm, _SEG_END_A)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0x0F if seg < 2 else (pcm >> seg) & 0x0F
    return aval ^ mask


def alaw_to_linear(code: int) -> int:
    """Decode one A-law byte to a signed 16-bit sample."""
    code ^= 0x55
    t = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if code & 0x80 else -t


def linear_to_ulaw(sample: int) -> int:
    """Encode one signed 16-bit sample as a µ-law byte."""
    pcm = max(-32768, min(32767, sample)) >> 2
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = _segment(pcm, _SEG_END_U)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_to_linear(code: int) -> int:
    """Decode one µ-law byte to a signed 16-bit sample."""
    code = ~code & 0xFF
    t = (((code & 0x0F) << 3) + _ULAW_BIAS) << ((code & 0x70) >> 4)
    return _ULAW_BIAS - t if code & 0x80 else t - _ULAW_BIAS


ALAW_DECODE: tuple[int, ...] = tuple(alaw_to_linear(c) for c in range(256))
ULAW_DECODE: tuple[int, ...] = tuple(ulaw_to_linear(c) for c in range(256))


def encode(samples: Iterable[int], payload: Payload = "PCMA") -> bytes:
    """Encode signed 16-bit samples to G.711 bytes."""
    enc = linear_to_alaw if payload == "PCMA" else linear_to_ulaw
    return bytes(enc(int(s)) for s in samples)


def decode(data: bytes, payload: Payload = "PCMA") -> list[int]:
    """Decode G.711 bytes to signed 16-bit samples."""
    table = ALAW_DECODE if payload == "PCMA" else ULAW_DECODE
    return [table[b] for b in data]


# --- Tones and pcaps ---------------------------------------------------------------------------------


def tone(freq_hz: float, seconds: float, rate: int = RATE, dbfs: float = -10.0) -> list[int]:
    """A sine tone as signed 16-bit samples; dbfs is relative to a full-scale sine (AES17)."""
    amplitude = FULL_SCALE * 10 ** (dbfs / 20.0)
    step = 2 * math.pi * freq_hz / rate
    return [round(amplitude * math.sin(step * n)) for n in range(round(seconds * rate))]


def _ip_checksum(header: bytes) -> int:
    """The Internet checksum of an IPv4 header."""
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(src: tuple[str, int], dst: tuple[str, int], payload: bytes, ident: int) -> bytes:
    """An Ethernet/IPv4/UDP frame carrying payload (UDP checksum 0: SIPp recomputes it)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp), ident & 0xFFFF, 0x4000, 64, 17, 0,
                     socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    return eth + ip + udp


def rtp_packet(pt: int, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    """An RTP packet (RFC 3550, no CSRC or extension)."""
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc) + payload


def write_tone_pcap(path: str | Path, freq_hz: float, seconds: float, payload: Payload = "PCMA",
                    src: tuple[str, int] = ("127.0.0.1", 6000), dst: tuple[str, int] = ("127.0.0.1", 6002),
                    dbfs: float = -10.0, ssrc: int = 0x43B0C0DE) -> Path:
    """Write a libpcap file (LINKTYPE_ETHERNET, which SIPp's play_pcap_audio accepts) of a 20 ms RTP tone."""
    data = encode(tone(freq_hz, seconds, RATE, dbfs), payload)
    pt = PAYLOAD_TYPES[payload]
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    start = 1_700_000_000.0
    for index, offset in enumerate(range(0, len(data) - SAMPLES_PER_PACKET + 1, SAMPLES_PER_PACKET)):
        rtp = rtp_packet(pt, 1000 + index, 8000 + offset, ssrc, data[offset:offset + SAMPLES_PER_PACKET],
                         marker=index == 0)
        frame = _frame(src, dst, rtp, index)
        usec = round(index * 20_000)
        out += struct.pack("<IIII", int(start) + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        out += frame
    target = Path(path)
    target.write_bytes(bytes(out))
    return target


# --- RTP sink --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RtpPacket:
    """One received RTP packet."""

    arrival: float
    source: tuple[str, int]
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_rtp(data: bytes, arrival: float = 0.0, source: tuple[str, int] = ("", 0)) -> RtpPacket | None:
    """Parse an RTP packet (CSRCs, extension and padding honoured); None if it is not RTP v2."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    cc, has_ext, has_pad = data[0] & 0x0F, data[0] & 0x10, data[0] & 0x20
    seq, timestamp, ssrc = struct.unpack("!HII", data[2:12])
    offset = 12 + 4 * cc
    if has_ext and len(data) >= offset + 4:
        offset += 4 + 4 * struct.unpack("!H", data[offset + 2:offset + 4])[0]
    end = len(data) - (data[-1] if has_pad and data else 0)
    if offset > end:
        return None
    return RtpPacket(arrival, source, data[1] & 0x7F, seq, timestamp, ssrc, bool(data[1] & 0x80),
                     data[offset:end])


class RtpSink:
    """Collects RTP on a UDP port of 127.0.0.1 in a background thread that stops itself after max_seconds."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", max_seconds: float = 30.0,
                 reply_tone_hz: float | None = None) -> None:
        self._reply = encode(tone(reply_tone_hz, 1.0)) if reply_tone_hz else b""
        self._reply_to: tuple[str, int] | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.005 if reply_tone_hz else 0.05)
        self.host, self.port = self._sock.getsockname()
        self._packets: list[RtpPacket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._deadline = time.monotonic() + max_seconds
        self._thread = threading.Thread(target=self._run, name=f"RtpSink:{self.port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Receive until closed or past the deadline; with a reply tone, answer like a phone does."""
        seq = sent = 0
        next_send = 0.0
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            if self._reply_to is not None and time.monotonic() >= next_send:
                chunk = 160 * (sent % (len(self._reply) // 160))
                self._sock.sendto(rtp_packet(8, seq, sent * 160, 0x5EED, self._reply[chunk:chunk + 160]),
                                  self._reply_to)
                seq, sent = seq + 1, sent + 1
                next_send = max(next_send + 0.02, time.monotonic() - 0.1)
            try:
                data, source = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            packet = parse_rtp(data, time.monotonic(), source)
            if packet is not None:
                with self._lock:
                    self._packets.append(packet)
                if self._reply and self._reply_to is None:
                    # Symmetric RTP: send back to where the far end sends from (RFC 4961).
                    self._reply_to, next_send = source, time.monotonic()

    @property
    def packets(self) -> list[RtpPacket]:
        """A copy of the packets received so far, in arrival order."""
        with self._lock:
            return list(self._packets)

    def wait_packets(self, count: int, timeout: float) -> bool:
        """Block until at least count packets arrived or timeout seconds passed."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.packets) >= count:
                return True
            time.sleep(0.02)
        return len(self.packets) >= count

    def samples(self, ssrc: int | None = None) -> list[int]:
        """Decoded PCMA (PT 8) and PCMU (PT 0) audio in arrival order; other payload types are skipped."""
        out: list[int] = []
        for packet in self.packets:
            if ssrc is not None and packet.ssrc != ssrc:
                continue
            if packet.payload_type == 8:
                out += decode(packet.payload, "PCMA")
            elif packet.payload_type == 0:
                out += decode(packet.payload, "PCMU")
        return out

    def close(self) -> None:
        """Stop the thread and close the socket."""
        self._stop.set()
        self._thread.join(timeout=1.0)
        self._sock.close()

    def __enter__(self) -> RtpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- Analysis ----------------------------------------------------------------------------------------------


def _goertzel(block: Sequence[int], freq_hz: float, rate: int) -> float:
    """Squared magnitude of the DTFT of block at freq_hz."""
    coeff = 2.0 * math.cos(2.0 * math.pi * freq_hz / rate)
    s1 = s2 = 0.0
    for x in block:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def tone_power(samples: Sequence[int], freq_hz: float, rate: int = RATE, block_ms: int = 100) -> float:
    """Share (0..1) of the signal's power at freq_hz, by Goertzel over blocks (robust to phase jumps)."""
    size = max(1, rate * block_ms // 1000)
    tone_energy = total = 0.0
    for start in range(0, len(samples) - size + 1, size):
        block = samples[start:start + size]
        energy = float(sum(x * x for x in block))
        if energy == 0.0:
            continue
        tone_energy += 2.0 * _goertzel(block, freq_hz, rate) / size
        total += energy
    return 0.0 if total == 0.0 else max(0.0, min(1.0, tone_energy / total))


def dominant_frequency(samples: Sequence[int], candidates: Iterable[float], rate: int = RATE) -> float:
    """The candidate frequency holding the most power in samples."""
    return max(candidates, key=lambda f: tone_power(samples, f, rate))


def rms_dbfs(samples: Sequence[int]) -> float:
    """RMS level in dBFS relative to a full-scale sine (AES17: a full-scale sine reads 0); -inf if silent."""
    if not samples:
        return -math.inf
    rms = math.sqrt(sum(x * x for x in samples) / len(samples))
    return -math.inf if rms == 0 else 20.0 * math.log10(rms * math.sqrt(2.0) / FULL_SCALE)


# --- WAV ---------------------------------------------------------------------------------------------


def read_wav(path: str | Path) -> tuple[int, int, list[list[int]]]:
    """Read a 16-bit PCM WAV file: (rate, channels, one list of samples per channel)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * wav.getsampwidth()}-bit samples, expected 16-bit PCM")
        rate, channels = wav.getframerate(), wav.getnchannels()
        frames = array.array("h", wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        frames.byteswap()
    return rate, channels, [list(frames[ch::channels]) for ch in range(channels)]


def write_wav(path: str | Path, channels: Sequence[Sequence[int]], rate: int = RATE) -> Path:
    """Write 16-bit PCM WAV from one sample list per channel (for tests of recording checks)."""
    frames = array.array("h", (ch[i] for i in range(min(len(c) for c in channels)) for ch in channels))
    if sys.byteorder == "big":
        frames.byteswap()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(len(channels))
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())
    return Path(path)
