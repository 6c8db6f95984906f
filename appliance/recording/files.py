"""Recording files on disk: WAV header repair after a crash, facts for the index, safe removal.

PJSIP's WAV writer puts a header with zero lengths at the start of the file and fills the
lengths in only when the recorder is destroyed. After a power cut or `kill -9` the samples are
on disk but the header says "no data": `repair_wav` recomputes the lengths from the file size.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import struct
import wave
from pathlib import Path

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WavFacts:
    """What the index stores about a finished recording."""

    duration_s: float
    size_bytes: int
    sha256: str


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wav_facts(path: Path) -> WavFacts:
    """Duration (from the WAV header), size and checksum of a recording file."""
    try:
        with wave.open(str(path), "rb") as wav:
            duration = wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError) as err:
        log.warning("recording %s has no readable WAV header: %s", path, err)
        duration = 0.0
    return WavFacts(round(duration, 3), path.stat().st_size, sha256_of(path))


def _data_chunk(head: bytes) -> tuple[int, int] | None:
    """(offset of the data chunk's size field, offset of its first sample) in a RIFF/WAVE header."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        chunk_id, size = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if chunk_id == b"data":
            return pos + 4, pos + 8
        pos += 8 + size + (size & 1)
    return None


def repair_wav(path: Path) -> bool:
    """Make the RIFF and data lengths match the samples on disk; True when the header was changed."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        head = fh.read(512)
        found = _data_chunk(head)
        if found is None:
            raise ValueError(f"{path} is not a RIFF/WAVE file with a data chunk")
        size_field, first = found
        block = struct.unpack("<H", head[32:34])[0] if len(head) >= 34 else 2  # fmt chunk's block align
        data_len = (size - first) - (size - first) % max(block, 1)
        riff_len = first + data_len - 8
        current = struct.unpack("<I", head[4:8])[0], struct.unpack("<I", head[size_field:size_field + 4])[0]
        if current == (riff_len, data_len):
            return False
        fh.seek(4)
        fh.write(struct.pack("<I", riff_len))
        fh.seek(size_field)
        fh.write(struct.pack("<I", data_len))
        fh.truncate(first + data_len)
        fh.flush()
        os.fsync(fh.fileno())
    log.warning("repaired the WAV header of %s: %d bytes of samples", path, data_len)
    return True


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in this directory durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_files(*paths: Path) -> int:
    """Delete files that exist; returns the bytes freed."""
    freed = 0
    for path in paths:
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
    return freed
