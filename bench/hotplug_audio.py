"""CPU cost of active headset audio paths: pjsua2 `ExtraAudioDevice`s on ALSA, as the engine opens them.

    /tmp/venv/bin/python bench/hotplug_audio.py [--headsets 0 1 2 4] [--seconds 10]

Each headset is an ALSA file PCM over FIFOs paced in real time by a helper process (as in the
tests: no sound card here), opened with the same EpConfig as appliance/sip/engine.py. Its path
is active both ways: a looping 1 kHz player transmits to it (the caller's voice), and its
microphone transmits into the bridge (looped back to its own earpiece,
so no further port is involved). The helper processes play the USB
hardware's part and are not counted; the pjsua2 process's CPU time is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ALIVE: list[object] = []


def measure(count: int, seconds: float, root: Path) -> float:
    """Percent of one core used by the pjsua2 process with `count` active headsets."""
    import pjsua2 as pj

    from tests.devices.alsa_rig import PacedHeadset
    from tests.support.rtp import tone, write_wav

    rigs = []
    conf = ""
    for n in range(count):
        work = root / f"h{n}"
        work.mkdir()
        rig = PacedHeadset(work, 440).start()
        rigs.append(rig)
        conf += (f'pcm.callbox_H{n}_play {{ type file slave.pcm "null" file "{rig.play}" format "raw" }}\n'
                 f'pcm.callbox_H{n}_capture {{ type file slave.pcm "null" file "/dev/null" '
                 f'infile "{rig.capture}" format "raw" }}\n')
    (root / ".asoundrc").write_text(conf)
    os.environ["HOME"] = str(root)
    wav = write_wav(root / "tone.wav", [tone(1000, 2.0)])
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt, cfg.uaConfig.mainThreadOnly = 0, True
    cfg.logConfig.level = cfg.logConfig.consoleLevel = 1
    cfg.medConfig.clockRate = cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.noVad, cfg.medConfig.ecTailLen, cfg.medConfig.threadCnt = True, 0, 1
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    ep.libStart()
    manager, keep = ep.audDevManager(), []
    for n in range(count):
        device = pj.ExtraAudioDevice(manager.lookupDev("ALSA", f"callbox_H{n}_play"),
                                     manager.lookupDev("ALSA", f"callbox_H{n}_capture"))
        device.open()
        player = pj.AudioMediaPlayer()
        player.createPlayer(str(wav), 0)
        player.startTransmit(device)
        device.startTransmit(device)  # the microphone into the bridge (looped back: no extra port)
        keep += [device, player]
    settle_until = time.monotonic() + 2.0
    while time.monotonic() < settle_until:
        ep.libHandleEvents(10)
    cpu0, wall0 = time.process_time(), time.monotonic()
    while time.monotonic() - wall0 < seconds:
        ep.libHandleEvents(10)
    used = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    for opened in keep[0::2]:
        opened.close()
    keep.clear()
    if count:
        del device, player, opened  # pj objects must go before the library (a late destructor aborts)
    ep.libDestroy()
    ALIVE.extend([ep, manager])  # collected after libDestroy, pjsua2's destructors abort: let _exit take them
    for rig in rigs:
        rig.stop()
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headsets", type=int, nargs="+", default=[0, 1, 2, 4])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:  # one library per process; ALSA reads ~/.asoundrc once per process
        root = tempfile.mkdtemp(prefix="hotplug-audio-")
        print(f"{measure(args.child, args.seconds, Path(root)):.2f}", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        os._exit(0)  # pjsua2's Endpoint must not be collected after libDestroy (its destructor aborts)
    import subprocess

    results = {}
    for count in args.headsets:
        out = subprocess.run([sys.executable, __file__, "--child", str(count), "--seconds", str(args.seconds)],
                             capture_output=True, text=True, check=True, cwd=REPO)
        results[count] = float(out.stdout.strip().splitlines()[-1])
        print(f"  {count} headset(s): {results[count]:6.2f} % of one core")
    base = results.get(0, 0.0)
    per = [(cpu - base) / n for n, cpu in results.items() if n]
    if per:
        print(f"per active headset audio path: {statistics.mean(per):.2f} % of one core "
              f"(median of steps {statistics.median(per):.2f})")


if __name__ == "__main__":
    main()
