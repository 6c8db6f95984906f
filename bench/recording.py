"""Recording benchmark: Opus encoding throughput and size, and its effect on call capacity.

    python bench/recording.py                       # throughput: 10 calls of 3 minutes, one encoder
    python bench/recording.py --minutes 1 --calls 5
    python bench/recording.py --capacity --steps 100 150 200   # bench/load.py with and without encoding

Throughput: two mono 8 kHz legs per call (speech-like: tone bursts and noise with pauses, a
different spectrum per side) are encoded exactly as the appliance does (`encode_legs`: opusenc
under nice/ionice, decoded again to verify). Reported: minutes of audio per CPU-second of the
encoder processes (opusenc + opusdec), MB per minute of audio, wall time.

Capacity: runs bench/load.py's product target twice over the same steps, once as it is and once
with a continuous encoding loop pinned to the same core at the worker's niceness (the worst case:
a backlog of encodings while the box is full). The goal is < 10 % fewer calls with encoding.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from appliance.recording.encoder import encode_legs  # noqa: E402
from appliance.sip.abc import recording_legs  # noqa: E402
from tests.support.rtp import tone, write_wav  # noqa: E402

RATE = 8000


def speech_like(seconds: float, base_hz: float, seed: int) -> list[int]:
    """Bursts of a few tones and noise, 0.3-2 s long, separated by pauses: roughly a talker's on/off pattern."""
    rnd = random.Random(seed)
    out: list[int] = []
    while len(out) < seconds * RATE:
        burst = rnd.uniform(0.3, 2.0)
        freq = base_hz * rnd.uniform(0.7, 1.6)
        voice = tone(freq, burst, dbfs=-18)
        out += [v + int(rnd.gauss(0, 600)) for v in voice]
        out += [int(rnd.gauss(0, 30)) for _ in range(int(rnd.uniform(0.2, 1.2) * RATE))]
    return out[: int(seconds * RATE)]


def throughput(minutes: float, calls: int, bitrate: int, workdir: Path, complexity: int = 5) -> dict[str, float]:
    """Encode `calls` calls of `minutes` each; CPU of the encoder processes, size per minute."""
    audio_s = cpu_s = size = 0.0
    caller_audio, operator_audio = speech_like(minutes * 60, 300, 1), speech_like(minutes * 60, 180, 2)
    wall0 = time.monotonic()
    for n in range(calls):
        base = workdir / f"call{n}.wav"
        caller, operator = recording_legs(base)
        write_wav(caller, [caller_audio])
        write_wav(operator, [operator_audio])
        before = os.times()
        encoded = encode_legs(caller, operator, base.with_suffix(".opus"), bitrate, complexity=complexity)
        after = os.times()
        cpu_s += (after.children_user - before.children_user) + (after.children_system - before.children_system)
        audio_s += encoded.duration_s
        size += encoded.size_bytes
        for path in (caller, operator, encoded.path):
            path.unlink()
    minutes_total = audio_s / 60
    return {"audio_minutes": round(minutes_total, 1), "encoder_cpu_s": round(cpu_s, 2),
            "minutes_per_cpu_s": round(minutes_total / cpu_s, 1), "mb_per_minute": round(size / 1e6 / minutes_total, 3),
            "wall_s": round(time.monotonic() - wall0, 1), "bitrate_kbps": bitrate, "complexity": complexity}


def _encode_forever(stop: threading.Event, workdir: Path, cpu: int) -> None:
    """Encode 1-minute calls back to back, pinned to `cpu`, until stopped."""
    os.sched_setaffinity(0, {cpu})  # this thread, and the encoders it starts, share the target's core
    base = workdir / "hog.wav"
    for leg, hz in zip(recording_legs(base), (300, 180), strict=True):
        write_wav(leg, [speech_like(60, hz, hz)])
    while not stop.is_set():
        encode_legs(*recording_legs(base), base.with_suffix(".opus"))


def capacity(steps: list[int], cpu: int, workdir: Path) -> dict[str, object]:
    """bench/load.py's product target without and with a continuous encoding backlog on its core."""
    results: dict[str, object] = {}
    for label in ("without", "with"):
        stop = threading.Event()
        hog = threading.Thread(target=_encode_forever, args=(stop, workdir, cpu), daemon=True)
        if label == "with":
            hog.start()
        out = workdir / f"load-{label}.json"
        subprocess.run([sys.executable, str(REPO / "bench" / "load.py"), "--targets", "product", "--cpu", str(cpu),
                        "--calls", *map(str, steps), "--stop-after", "1", "--out", str(out)], check=False)
        stop.set()
        if hog.is_alive():
            hog.join(120)
        results[label] = json.loads(out.read_text()) if out.exists() else None
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each call")
    parser.add_argument("--calls", type=int, default=10, help="calls encoded one after the other")
    parser.add_argument("--bitrate", type=int, default=24, help="kbit/s for both channels")
    parser.add_argument("--capacity", action="store_true", help="also run bench/load.py with and without encoding")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 150, 200], help="load.py --calls steps")
    parser.add_argument("--complexity", type=int, default=5, help="Opus encoder complexity (the setting's default)")
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbox-rec-bench-") as tmp:
        report: dict[str, object] = {"at": datetime.now().isoformat(timespec="seconds"),
                                     "throughput": throughput(args.minutes, args.calls, args.bitrate, Path(tmp),
                                                                             args.complexity)}
        print(json.dumps(report["throughput"], indent=2))
        if args.capacity:
            report["capacity"] = capacity(args.steps, args.cpu, Path(tmp))
    out = args.out or REPO / "bench" / "results" / f"recording-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
