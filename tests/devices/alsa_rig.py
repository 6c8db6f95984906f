"""A headset without a sound card: ALSA `file` PCMs over FIFOs, paced in real time by the test.

ALSA's `null` PCM takes and gives samples as fast as asked (a `file` PCM on it wrote 118 MB in
2 s here), so the pacing a USB headset's clock gives comes from two threads: one writes the
headset's microphone (a tone) into the capture FIFO at 8000 samples/s, one drains the
playback FIFO at the same rate and keeps what the headset heard. The FIFOs are held open
read-write by the helper, so ALSA's opens and closes (its device probe, a re-open) never block
and never end the stream. The helper is a process of its own, without umockdev's preload.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.rtp import tone

REPO = Path(__file__).resolve().parents[2]

RATE = 8000
F_SETPIPE_SZ = 1031  # Linux fcntl: set a pipe's buffer size
FRAME = 160  # 20 ms of 16-bit mono


def asoundrc(home: Path, card_id: str, play_fifo: Path, capture_fifo: Path) -> Path:
    """~/.asoundrc with the appliance's override PCMs for this card id."""
    path = home / ".asoundrc"
    path.write_text(
        f'pcm.callbox_{card_id}_play {{\n type file\n slave.pcm "null"\n file "{play_fifo}"\n format "raw"\n}}\n'
        f'pcm.callbox_{card_id}_capture {{\n type file\n slave.pcm "null"\n file "/dev/null"\n'
        f' infile "{capture_fifo}"\n format "raw"\n}}\n')
    return path


class PacedHeadset:
    """The far side of a FIFO headset: speaks a tone, records what it hears, both in real time."""

    def __init__(self, workdir: Path, speak_hz: float) -> None:
        self.play = workdir / "headset-play.fifo"  # bridge -> headset earpiece
        self.capture = workdir / "headset-capture.fifo"  # headset microphone -> bridge
        for fifo in (self.play, self.capture):
            if not fifo.exists():
                os.mkfifo(fifo)
        self._mic = struct.pack(f"<{RATE}h", *tone(speak_hz, 1.0, RATE))
        self.heard_file = workdir / "headset-heard.raw"
        self._proc: subprocess.Popen[bytes] | None = None
        self._speak_hz = speak_hz
        self.spoken_frames = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._ear, daemon=True, name="headset-ear"),
                         threading.Thread(target=self._mouth, daemon=True, name="headset-mouth")]

    def start(self) -> PacedHeadset:
        """Run both sides in a child process without LD_PRELOAD (they block in open() until ALSA opens)."""
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
        self._proc = subprocess.Popen([sys.executable, "-m", "tests.devices.alsa_rig", str(self.play.parent),
                                       str(self._speak_hz)], cwd=REPO, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def stop(self) -> None:
        """End the child process."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)

    def samples(self) -> list[int]:
        """What the headset's earpiece got so far, as 16-bit samples."""
        data = self.heard_file.read_bytes() if self.heard_file.exists() else b""
        data = data[:len(data) // 2 * 2]
        return list(struct.unpack(f"<{len(data) // 2}h", data))

    def run(self) -> None:
        """The child process: both threads until killed."""
        parent = os.getppid()
        for thread in self._threads:
            thread.start()
        while os.getppid() == parent:  # never outlive the test
            time.sleep(0.5)
        os._exit(0)

    def _ear(self) -> None:
        heard = self.heard_file.open("ab", buffering=0)
        fifo = _hold_open(self.play)
        start, frames = time.monotonic(), 0
        while not self._stop.is_set():
            heard.write(os.read(fifo, FRAME * 2))  # blocks until ALSA writes; never EOF (we hold a writer)
            frames += 1
            _pace(start, frames)

    def _mouth(self) -> None:
        fifo = _hold_open(self.capture)
        start, frames = time.monotonic(), 0
        while not self._stop.is_set():
            offset = (frames * FRAME * 2) % len(self._mic)
            os.write(fifo, self._mic[offset:offset + FRAME * 2])  # blocks when ALSA lags 256 ms behind
            frames += 1
            self.spoken_frames += 1
            _pace(start, frames)


def _hold_open(fifo: Path) -> int:
    """Open a FIFO read-write: neither side's open() blocks, and ALSA closing its end is no EOF/EPIPE."""
    fd = os.open(fifo, os.O_RDWR)
    fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)  # a 64 KB pipe would buffer 4 s of audio
    return fd


def _pace(start: float, frames: int) -> None:
    delay = start + frames * FRAME / RATE - time.monotonic()
    if delay > 0:
        time.sleep(delay)


if __name__ == "__main__":
    PacedHeadset(Path(sys.argv[1]), float(sys.argv[2])).run()
