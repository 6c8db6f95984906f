"""The hold music shipped with the appliance, rendered from code on first use.

A short, calm arpeggio over a soft pad, in 16-bit mono WAV at the bridge's rate: royalty free
because it is generated here, and small enough to loop without being annoying.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

# A-minor - F - C - G, each chord an arpeggio of eighth notes at 96 bpm.
_CHORDS = [(57, 60, 64, 69), (53, 57, 60, 65), (48, 52, 55, 60), (55, 59, 62, 67)]
_BPM = 96


def _freq(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def render(path: Path, rate: int = 8000, bars: int = 8) -> Path:
    """Write the tune to `path` (atomically) and return it."""
    eighth = 60.0 / _BPM / 2
    samples: list[float] = []
    for bar in range(bars):
        chord = _CHORDS[bar % len(_CHORDS)]
        pattern = [*chord, *reversed(chord)]
        for note in pattern:
            n = int(eighth * rate)
            f_note, f_pad = _freq(note + 12), _freq(chord[0])
            for i in range(n):
                t = i / rate
                envelope = math.exp(-3.5 * t / eighth)
                samples.append(0.28 * envelope * math.sin(2 * math.pi * f_note * t)
                               + 0.08 * math.sin(2 * math.pi * f_pad * (len(samples) / rate)))
    fade = int(0.05 * rate)
    for i in range(fade):  # no click where the loop restarts
        samples[i] *= i / fade
        samples[-1 - i] *= i / fade
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32767)) for s in samples))
    tmp.replace(path)
    return path


def hold_music(data_dir: Path, configured: Path | None, rate: int) -> Path:
    """The file to play: the configured one, or the shipped tune (rendered once per rate)."""
    if configured is not None:
        return configured
    path = data_dir / "sounds" / f"hold-music-{rate}.wav"
    return path if path.is_file() else render(path, rate)
