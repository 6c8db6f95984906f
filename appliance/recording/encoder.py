"""Two mono leg WAVs → one two-channel Ogg Opus file (caller left, operator right), verified.

Encoding is Xiph's `opusenc` (Debian `opus-tools`), run at low CPU and idle I/O priority; this
module only interleaves the two legs into its stdin. Opus codes a stereo pair as mid/side, which
at speech bitrates leaks one channel into the other unless the encoder is held to the band the
8 kHz bridge actually carries: narrowband (4 kHz) keeps the legs apart (< 1 % crosstalk,
measured) at 24 kbit/s for both. Before the WAVs may go, the result is decoded with `opusdec`
and must have two channels and the legs' duration.
"""

from __future__ import annotations

import array
import dataclasses
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

from appliance.errors import CallboxError
from appliance.recording.files import fsync_dir, sha256_of

CHUNK_FRAMES = 8000  # one second at the bridge's 8 kHz
_OPUS_BANDWIDTH = {8000: 1101, 12000: 1102, 16000: 1103, 24000: 1104}  # OPUS_BANDWIDTH_* by input rate
_MAX_BANDWIDTH_CTL, _SIGNAL_CTL, _SIGNAL_VOICE = 4004, 4024, 3001


class EncodeError(CallboxError):
    """A recording could not be encoded or the result did not verify; its WAVs are kept."""


@dataclasses.dataclass(frozen=True)
class Encoded:
    """A verified encoded recording."""

    path: Path
    duration_s: float
    size_bytes: int
    sha256: str
    channels: int


def _low_priority(nice: int) -> list[str]:
    """The command prefix that runs a tool at low CPU and idle I/O priority, as far as the system allows."""
    prefix = ["nice", "-n", str(nice)] if shutil.which("nice") else []
    return prefix + (["ionice", "-c", "3"] if shutil.which("ionice") else [])


def _open_leg(path: Path) -> wave.Wave_read | None:
    if not path.is_file():
        return None
    wav = wave.open(str(path), "rb")  # noqa: SIM115 - closed by encode_legs
    if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
        wav.close()
        raise EncodeError(f"{path} is not 16-bit mono")
    return wav


def _frames(wav: wave.Wave_read | None, count: int) -> array.array[int]:
    samples = array.array("h", wav.readframes(count) if wav is not None else b"")
    if sys.byteorder == "big":
        samples.byteswap()
    if len(samples) < count:
        samples.extend(array.array("h", [0]) * (count - len(samples)))  # the shorter leg ends in silence
    return samples


def _feed(stdin: object, left: wave.Wave_read | None, right: wave.Wave_read | None, total: int) -> None:
    done = 0
    while done < total:
        count = min(CHUNK_FRAMES, total - done)
        out = array.array("h", [0]) * (2 * count)
        out[0::2], out[1::2] = _frames(left, count), _frames(right, count)
        if sys.byteorder == "big":
            out.byteswap()
        stdin.write(out.tobytes())  # type: ignore[attr-defined]
        done += count


def encode_legs(caller: Path, operator: Path, target: Path, bitrate_kbps: int = 24, nice: int = 10,
                complexity: int = 5) -> Encoded:
    """Encode the caller's and the operator's leg into `target` (.opus); raises EncodeError."""
    left, right = _open_leg(caller), _open_leg(operator)
    try:
        legs = [w for w in (left, right) if w is not None]
        if not legs:
            raise EncodeError(f"neither leg of {target.name} exists")
        rate = legs[0].getframerate()
        if any(w.getframerate() != rate for w in legs):
            raise EncodeError(f"the legs of {target.name} have different sample rates")
        total = max(w.getnframes() for w in legs)
        part = target.with_name(target.name + ".part")
        cmd = [*_low_priority(nice), "opusenc", "--quiet", "--raw", "--raw-rate", str(rate), "--raw-chan", "2",
               "--bitrate", str(bitrate_kbps), "--cvbr", "--framesize", "60", "--comp", str(complexity),
               "--set-ctl-int", f"{_MAX_BANDWIDTH_CTL}={_OPUS_BANDWIDTH.get(rate, 1105)}",
               "--set-ctl-int", f"{_SIGNAL_CTL}={_SIGNAL_VOICE}", "-", str(part)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
        assert proc.stdin is not None
        try:
            _feed(proc.stdin, left, right, total)
        except BrokenPipeError:
            pass
        finally:
            proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            part.unlink(missing_ok=True)
            raise EncodeError(f"opusenc failed for {target.name}: {err.strip()[-300:]}")
    finally:
        for wav in (left, right):
            if wav is not None:
                wav.close()
    return _verify_and_commit(part, target, total / rate, rate)


def probe(path: Path, rate: int = 8000) -> tuple[int, float]:
    """(channels, seconds) of an Ogg Opus file, by decoding all of it; raises EncodeError."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    at = head.find(b"OpusHead")
    if at < 0:
        raise EncodeError(f"{path.name} is not Ogg Opus")
    channels = head[at + 9]
    result = subprocess.run(["opusdec", "--quiet", "--rate", str(rate), str(path), "-"],  # noqa: S603,S607
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise EncodeError(f"{path.name} does not decode: {result.stderr.decode(errors='replace')[-300:]}")
    return channels, len(result.stdout) / (2 * channels * rate)


def _check(name: str, channels: int, seconds: float, expected_s: float) -> None:
    """The encoded file must have both channels and the legs' duration (within a frame or two)."""
    if channels != 2 or abs(seconds - expected_s) > 0.2 + 0.01 * expected_s:
        raise EncodeError(f"{name}: {channels} channels, {seconds:.2f} s decoded, {expected_s:.2f} s recorded")


def _verify_and_commit(part: Path, target: Path, expected_s: float, rate: int) -> Encoded:
    try:
        channels, seconds = probe(part, rate)
        _check(target.name, channels, seconds, expected_s)
        with part.open("rb") as fh:
            os.fsync(fh.fileno())
        part.replace(target)
        fsync_dir(target.parent)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return Encoded(target, round(seconds, 3), target.stat().st_size, sha256_of(target), channels)
