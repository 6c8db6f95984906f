"""Load benchmark: how many bridged, recorded calls the product holds on one core, against a bare pjsua2 bridge.

    python bench/load.py                                  # both targets, steps 25 50 100 150 200 250
    python bench/load.py --calls 25 50 100 --targets bare
    python bench/load.py --calls 200 --duration 20 --rate 20

For each target (the real daemon through tests/e2e/box.py, and bench/bare_bridge.py), pinned to one
core with `taskset`, and for each concurrency step N: a SIPp operator UAS answers every call the
target places (playing a 440 Hz tone back), a SIPp carrier UAC places N calls from 127.0.0.2 at
--rate calls/s with at most N at once (`-l N`), each playing a 1 kHz tone and holding long enough
that all N are bridged at once for --duration seconds. During that plateau the target's CPU and RSS
are sampled. A step passes when fewer than 1 % of its N calls failed and at least 99 % of them were
bridged at once. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.box import Box, ip_trunk, operators  # noqa: E402
from tests.support.rtp import write_tone_pcap  # noqa: E402
from tests.support.sipp import Sipp, SippResult, free_udp_port, udp_port_bound  # noqa: E402

CARRIER_IP = "127.0.0.2"
DID = "4951000"
RTP_SPAN = 1200  # RTP+RTCP ports for 504 legs, with room for ports still in TIME_WAIT-like reuse
PLATEAU_GRACE = 4.0  # at least this long after the ramp (N / rate) for the last call to be offered
MAX_LEGS = 504  # the engine's leg limit; +8 headroom = the build's PJSUA_MAX_CALLS (512)


class PinnedBox(Box):
    """The real daemon (`python -m appliance run`) started under a command prefix such as `taskset -c 0`."""

    def __init__(self, workdir: Path, config: str, prefix: list[str], **settings: object) -> None:
        super().__init__(workdir, config, **settings)
        self.prefix = prefix
        # Box checks its ports for UDP only; on a shared machine the HTTP port must be free for TCP too.
        self.http_port = free_tcp_port()
        self.env["CALLBOX_HTTP_PORT"] = str(self.http_port)

    def start(self, timeout: float = 60.0) -> PinnedBox:
        """As Box.start, with the prefix in front of the daemon's command line."""
        cfg = self.workdir / "config.toml"
        cfg.write_text(self.config)
        subprocess.run([sys.executable, "-m", "appliance", "load", str(cfg)], env=self.env, cwd=REPO,
                       check=True, capture_output=True, timeout=120)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([*self.prefix, sys.executable, "-m", "appliance", "run"], env=self.env,
                                         cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda: self.healthz().get("status") == "ok", timeout, "the box to start")
        return self


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- targets ---------------------------------------------------------------------------------------------


class Target:
    """A B2BUA under test: started once, driven through steps, stopped at the end."""

    name = ""
    recording = "mixed"  # the bare bridge's recording mode (set from --bare-recording)

    def __init__(self, workdir: Path, prefix: list[str], operator_port: int, legs: int) -> None:
        self.workdir = workdir
        self.prefix = prefix
        self.operator_port = operator_port
        self.legs = legs
        self.pid = 0
        self.sip = ""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> int | None:
        raise NotImplementedError

    def alive(self) -> bool:
        raise NotImplementedError

    def recordings(self) -> Path:
        raise NotImplementedError

    def tail(self) -> str:
        return ""

    def active_calls(self) -> int | None:
        """Live call legs as the target reports them (None: not reported)."""
        return None

    def recorded(self, since: float, hold_s: float) -> tuple[list[float], list[float]]:
        """(lengths, length / bridged time) of the recordings of the step that started at `since`.

        The bare bridge connects within milliseconds of the answer, so its bridged time is the hold.
        The bench removes the bare bridge's WAVs afterwards."""
        seconds = wav_seconds(self.recordings(), since)
        clear_recordings(self.recordings())
        return seconds, [x / hold_s for x in seconds]

    def pending_recordings(self) -> int:
        """Recordings the target still has to process after the call (the product encodes them)."""
        return 0

    def queue_stats(self, n: int) -> dict[str, float]:
        """How long the last step's callers waited to be connected (targets with a queue)."""
        return {}


class ProductTarget(Target):
    """The appliance daemon, configured with an IP trunk, one queue and enough operators."""

    name = "product"

    def start(self) -> None:
        ops = self.legs // 2 + 10  # one operator per bridged call: each takes one call at a time
        config = (ip_trunk(source=CARRIER_IP)
                  + operators(*[f"sip:op{101 + i}@127.0.0.1:{self.operator_port}" for i in range(ops)])
                  # rrmemory rings ONE free operator per caller; ringall would ring all of them for
                  # every caller (hundreds of legs each) and measure something else entirely.
                  + '[[queue]]\nname = "load"\nstrategy = "rrmemory"\nring_timeout_s = 15\nretry_s = 1\n'
                  + "members = [" + ", ".join(f'"{101 + i}"' for i in range(ops)) + "]\n"
                  + '[[did]]\nnumber = "*"\nqueue = "load"\n')
        rtp = free_udp_port(span=RTP_SPAN)
        self.box = PinnedBox(self.workdir, config, self.prefix, log_level="INFO", sip_max_calls=self.legs,
                             sip_rtp_port=rtp, sip_rtp_port_range=RTP_SPAN)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.box.start()
        assert self.box.proc is not None
        self.pid = self.box.proc.pid
        self.sip = self.box.sip

    def stop(self) -> int | None:
        try:
            return self.box.stop(timeout=60)
        except AssertionError as err:
            print(f"  ! {err}", flush=True)
            return None

    def alive(self) -> bool:
        return self.box.proc is not None and self.box.proc.poll() is None

    def recordings(self) -> Path:
        return self.box.data / "recordings"

    def tail(self) -> str:
        return self.box.tail(30)

    def active_calls(self) -> int | None:
        try:
            return int(self.box.healthz().get("active_calls", -1))
        except AssertionError:
            return None

    def recorded(self, since: float, hold_s: float) -> tuple[list[float], list[float]]:
        """The step's recordings against each call's talk time (connected to hang-up) from the call records:
        the legs' WAVs still on disk, and the recordings the product has already encoded (and removed)."""
        started = datetime.fromtimestamp(since, UTC).isoformat(sep=" ")  # as the ORM stores it
        try:
            talk = {r["id"]: float(r["talk_s"]) for r in self.box.rows(
                "SELECT id, talk_s FROM call_record WHERE started_at >= ? AND talk_s > 0", started)}
            encoded = [(r["call_id"], float(r["duration_s"])) for r in self.box.rows(
                "SELECT call_id, duration_s FROM recording WHERE state = 'ready' AND duration_s > 0")]
        except sqlite3.Error:
            talk, encoded = {}, []
        pairs = [(cid, d) for cid, d in encoded if cid in talk]
        for path in self.recordings().rglob("*.wav"):
            cid = path.name.split(".", 1)[0]
            if cid in talk:
                with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as wav:
                    pairs.append((cid, wav.getnframes() / float(wav.getframerate())))
        return [d for _, d in pairs], [d / talk[cid] for cid, d in pairs]

    def pending_recordings(self) -> int:
        """Recordings not yet encoded (or failed) by the product's low-priority encoder."""
        try:
            rows = self.box.rows("SELECT count(*) AS n FROM recording WHERE state NOT IN ('ready', 'failed', 'lost')")
        except sqlite3.Error:
            return 0
        return int(rows[0]["n"]) if rows else 0

    def encoder_report(self) -> dict[str, Any]:
        """What post-call encoding cost: the daemon's children's CPU against the minutes encoded."""
        try:
            rows = self.box.rows("SELECT state, count(*) AS n, sum(duration_s) AS s FROM recording GROUP BY state")
            t = psutil.Process(self.pid).cpu_times()
        except (sqlite3.Error, psutil.Error):
            return {}
        states = {r["state"]: (int(r["n"]), float(r["s"] or 0.0)) for r in rows}
        _, ready_s = states.get("ready", (0, 0.0))
        children = float(t.children_user + t.children_system)
        return {"recordings_by_state": {k: v[0] for k, v in states.items()}, "encoded_minutes": round(ready_s / 60, 1),
                "children_cpu_s": round(children, 1),
                "cpu_s_per_encoded_minute": round(children / (ready_s / 60), 3) if ready_s else None,
                "core_pct_per_concurrent_call": round(100 * children / ready_s, 2) if ready_s else None}

    def queue_stats(self, n: int) -> dict[str, float]:
        """Hold (queue entry to connection) and ring time (dial to answer) of the last n calls."""
        try:
            holds = sorted(float(r["hold_s"]) for r in self.box.rows(
                "SELECT hold_s FROM call_record ORDER BY started_at DESC LIMIT ?", n) if r["hold_s"] is not None)
            rings = sorted(float(r["data3"]) / 1000 for r in self.box.rows(
                "SELECT data3 FROM queue_event WHERE event = 'CONNECT' ORDER BY id DESC LIMIT ?", n)
                if str(r["data3"]).isdigit())
        except sqlite3.Error:
            return {}
        return {"hold_s_p50": pct(holds, 50), "hold_s_p95": pct(holds, 95), "hold_s_max": pct(holds, 100),
                "ring_s_p50": pct(rings, 50), "ring_s_p95": pct(rings, 95), "ring_s_max": pct(rings, 100)}


class BareTarget(Target):
    """bench/bare_bridge.py: the same pjsua2 media work with nothing around it."""

    name = "bare"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        port, rtp = free_udp_port(), free_udp_port(span=RTP_SPAN)
        self.rec = self.workdir / "recordings"
        self.log = self.workdir / "bare_bridge.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*self.prefix, sys.executable, str(REPO / "bench" / "bare_bridge.py"), "--port", str(port),
                 "--operator", f"sip:op@127.0.0.1:{self.operator_port}", "--record-dir", str(self.rec),
                 "--rtp-port", str(rtp), "--rtp-port-range", str(RTP_SPAN), "--max-calls", str(self.legs),
                 "--recording", self.recording],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while not udp_port_bound(port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bare bridge did not start:\n{self.tail()}")
            time.sleep(0.05)
        self.pid = self.proc.pid
        self.sip = f"127.0.0.1:{port}"

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                print("  ! the bare bridge did not stop within 30 s", flush=True)
                return None
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc.poll() is None

    def recordings(self) -> Path:
        return self.rec

    def tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(line for line in lines[-400:] if not line.startswith(" "))[-3000:]


# -- measurement ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Step:
    """One concurrency step against one target."""

    target: str
    calls: int
    rate: float
    hold_s: float
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    failed_pct: float = 100.0
    passed: bool = False
    sipp_carrier: dict[str, Any] = dataclasses.field(default_factory=dict)
    sipp_operator: dict[str, Any] = dataclasses.field(default_factory=dict)
    dropped_by_target: int = 0
    plateau_reached: bool = False
    plateau_calls: int = 0  # bridged calls held through the plateau (operator SIPp CurrentCall, lowest)
    held_pct: float = 0.0
    plateau_udp_sockets: int = 0
    cpu_pct: float = 0.0
    cpu_pct_samples: list[float] = dataclasses.field(default_factory=list)
    generator_cpu_pct: float = 0.0  # both SIPp processes, all threads (100 = one core)
    cores_pct: list[float] = dataclasses.field(default_factory=list)  # each core's busy % on the plateau
    background_pct: float = 0.0  # busy % of the whole machine just before the step (no calls up), 100 = all cores
    foreign_on_target_core_pct: float = 0.0  # the target's core busy % minus the target's own CPU %
    noisy: bool = False  # other processes took a noticeable share of the target's core
    rss_idle_mb: float = 0.0  # before this step's calls
    rss_plateau_mb: float = 0.0
    rss_per_call_kb: float = 0.0  # (plateau - the target's fresh idle) / calls
    recordings: int = 0
    recorded_s_median: float = 0.0  # median recording length; compare with hold_s
    recorded_pct: float = 0.0  # median recording length / bridged time, %: < 100 = the bridge's clock lost ticks
    recorded_pct_min: float = 0.0
    queue: dict[str, float] = dataclasses.field(default_factory=dict)  # product: hold/ring time percentiles
    hold_s_p95: float = 0.0  # product: 95th percentile of queue entry -> connected (operators answer at once)
    setup_cps: float = 0.0  # calls per second the target actually placed to the operator during the ramp
    children_cpu_pct: float = 0.0  # the target's child processes on the plateau (the product's encoders)
    recordings_pending: int = 0  # product: recordings not yet encoded when the step ended
    post_call_s: float = 0.0  # from the carrier's end until the target process was idle again
    post_call_cpu_s: float = 0.0  # CPU seconds the target process used in that time (children not counted)
    target_alive: bool = True
    notes: list[str] = dataclasses.field(default_factory=list)


def stat_int(stats: dict[str, str], key: str) -> int:
    try:
        return int(stats.get(key, "0") or 0)
    except ValueError:
        return 0


def sipp_summary(result: SippResult) -> dict[str, Any]:
    """The counters of a SIPp run worth keeping: totals and every non-zero failure reason."""
    s = result.stats
    keep: dict[str, Any] = {k: stat_int(s, k) for k in ("TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)",
                                        "Retransmissions(C)", "OutOfCallMsgs(C)", "DeadCallMsgs(C)")}
    keep.update({k: stat_int(s, k) for k in s if k.startswith("Failed") and k.endswith("(C)")
                 and stat_int(s, k) and k != "FailedCall(C)"})
    keep["returncode"] = result.returncode
    keep["timed_out"] = result.timed_out
    return keep


def setup_rate(sipp: Sipp, n: int) -> float:
    """N / seconds from the first to the N-th call the operator SIPp saw (its 1 s statistics rows)."""
    text = (sipp.workdir / f"{sipp.name}_stat.csv").read_text(errors="replace") if sipp.workdir else ""
    rows = [line.split(";") for line in text.splitlines() if line.strip()]
    if len(rows) < 2:
        return 0.0
    head = rows[0]
    try:
        t_col, c_col = head.index("CurrentTime"), head.index("TotalCallCreated")
        series = [(float(r[t_col].split()[-1]), int(r[c_col])) for r in rows[1:]]
    except (ValueError, IndexError):
        return 0.0
    first = next((t for t, c in series if c > 0), None)
    full = next((t for t, c in series if c >= n), None)
    if first is None or full is None:
        return 0.0
    return round(n / max(full - first + 1.0, 1.0), 1)


def current_calls(sipp: Sipp) -> int:
    """SIPp's CurrentCall from its last -fd 1 statistics row."""
    return stat_int(sipp.result().stats, "CurrentCall")


def udp_sockets(pid: int) -> int:
    """UDP sockets the process holds (RTP + RTCP per leg, plus SIP)."""
    try:
        return len(psutil.Process(pid).net_connections(kind="udp"))
    except (psutil.Error, OSError):
        return -1


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def wait_idle(target: Target, baseline_udp: int, timeout: float) -> bool:
    """Until the target's legs are all gone (UDP sockets back to the idle count, calls 0)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not target.alive():
            return False
        calls = target.active_calls()
        if udp_sockets(target.pid) <= baseline_udp and calls in (None, 0):
            return True
        time.sleep(0.25)
    return False


def clear_recordings(directory: Path) -> None:
    """Delete the WAV files (not the directories: the bare bridge records into its directory)."""
    for path in directory.rglob("*.wav"):
        path.unlink(missing_ok=True)


def wav_seconds(directory: Path, since: float = 0.0) -> list[float]:
    """Lengths of the WAV files under `directory` modified at or after `since` (epoch seconds)."""
    out = []
    for path in directory.rglob("*.wav"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < since:
                continue
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as wav:
            out.append(wav.getnframes() / float(wav.getframerate()))
    return out


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of sorted values; 0 for none."""
    if not values:
        return 0.0
    return round(values[min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))], 2)


def grace(n: int, args: argparse.Namespace) -> float:
    """Seconds after the ramp (N / rate) the last call may take to be offered to the operator: as long
    again as the ramp, so a target that sets calls up at half the offered rate still reaches the plateau."""
    return float(max(PLATEAU_GRACE, n / args.rate))


def default_hold(n: int, args: argparse.Namespace) -> float:
    """Seconds a call is held after the answer: the last call is up before the first one ends."""
    return float(n / args.rate + grace(n, args) + args.settle + args.duration + 3.0)


def own_cpu_s(pid: int) -> float:
    """CPU seconds of the process itself (all its threads)."""
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def children_cpu_s(pid: int) -> float:
    """CPU seconds of the process's children: reaped ones and live descendants (the product's encoders)."""
    proc = psutil.Process(pid)
    t = proc.cpu_times()
    total = float(t.children_user + t.children_system)
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            ct = child.cpu_times()
            total += float(ct.user + ct.system)
    return total


def wait_target_quiet(pid: int, limit_pct: float, timeout: float) -> bool:
    """Until the target process itself (not its children) uses under limit_pct of a core for a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            before = own_cpu_s(pid)
            time.sleep(1.0)
            if (own_cpu_s(pid) - before) * 100 < limit_pct:
                return True
        except psutil.Error:
            return False
    return False


def wait_quiet(limit_pct: float, timeout: float) -> float:
    """Wait (bounded) until the whole machine is below limit_pct busy; returns the last 1 s reading."""
    deadline = time.monotonic() + timeout
    while True:
        busy = float(psutil.cpu_percent(1.0))
        if busy <= limit_pct or time.monotonic() >= deadline:
            return busy


def run_step(target: Target, n: int, args: argparse.Namespace, pcaps: dict[int, Path], idle_fresh_mb: float,
             baseline_udp: int, workdir: Path) -> Step:
    """N concurrent calls through the target; CPU and RSS sampled on the plateau."""
    ramp = n / args.rate
    hold = args.hold if args.hold else default_hold(n, args)
    step = Step(target.name, n, args.rate, round(hold, 1))
    step.background_pct = round(wait_quiet(args.quiet_pct, args.wait_quiet), 1)
    if step.background_pct > args.quiet_pct:
        step.notes.append(f"the machine was {step.background_pct} % busy before the step (other processes)")
    step.rss_idle_mb = round(rss_mb(target.pid), 1)
    wall_start = time.time()
    sipp_timeout = ramp + hold + 30.0
    stepdir = workdir / f"{target.name}-{n}"
    op_media = free_udp_port(span=4)
    operator = Sipp("operator_answer.xml", ip="127.0.0.1", local_port=args.operator_port, media_port=op_media,
                    keys={"rtp_port": op_media, "pcap": pcaps[440], "play": 1 if args.operator_audio else 0},
                    calls=n, timeout=sipp_timeout, workdir=stepdir / "operator", name="operator")
    carrier = Sipp("carrier_call.xml", target.sip, ip=CARRIER_IP, service=DID,
                   keys={"pcap": pcaps[1000], "hold_ms": int(hold * 1000), "caller": "79001234567"},
                   calls=n, rate=args.rate, timeout=sipp_timeout, workdir=stepdir / "carrier", name="carrier",
                   extra_args=["-l", str(n)])
    with operator.start(), carrier.start():
        started = time.monotonic()
        generators = [psutil.Process(p.proc.pid) for p in (operator, carrier) if p.proc]
        # Plateau: every call offered to the operator (its TotalCallCreated; calls that already failed
        # do not count as up, see `held`), or the ramp's deadline; measuring ends before the first hangup.
        deadline = started + ramp + grace(n, args)
        while time.monotonic() < deadline and target.alive():
            if stat_int(operator.result().stats, "TotalCallCreated") >= n:
                step.plateau_reached = True
                break
            time.sleep(0.25)
        time.sleep(args.settle)
        proc = psutil.Process(target.pid)
        proc.cpu_percent(None)
        psutil.cpu_percent(None, percpu=True)
        kids_before, kids_t0 = children_cpu_s(target.pid), time.monotonic()
        for g in generators:
            with contextlib.suppress(psutil.Error):
                g.cpu_percent(None)
        step.plateau_calls = current_calls(operator)
        t0 = time.monotonic()
        rss_peak = 0.0
        while time.monotonic() - t0 < args.duration and target.alive():
            time.sleep(1.0)
            with contextlib.suppress(psutil.Error):
                step.cpu_pct_samples.append(round(proc.cpu_percent(None), 1))
                rss_peak = max(rss_peak, proc.memory_info().rss / 2**20)
        step.cores_pct = [round(c, 1) for c in psutil.cpu_percent(None, percpu=True)]
        with contextlib.suppress(psutil.Error):
            step.children_cpu_pct = round(100 * (children_cpu_s(target.pid) - kids_before)
                                          / max(time.monotonic() - kids_t0, 0.1), 1)
        with contextlib.suppress(psutil.Error):
            step.generator_cpu_pct = round(sum(g.cpu_percent(None) for g in generators), 1)
        step.plateau_calls = min(step.plateau_calls, current_calls(operator))
        step.plateau_udp_sockets = max(udp_sockets(target.pid) - baseline_udp, 0)
        step.cpu_pct = round(sum(step.cpu_pct_samples) / max(len(step.cpu_pct_samples), 1), 1)
        target_cores = [c for c in args.target_cores if c < len(step.cores_pct)]
        if target_cores:
            core_busy = sum(step.cores_pct[c] for c in target_cores)
            step.foreign_on_target_core_pct = round(max(core_busy - step.cpu_pct - step.children_cpu_pct, 0.0), 1)
            step.noisy = step.foreign_on_target_core_pct > args.noise_pct
        step.rss_plateau_mb = round(rss_peak, 1)
        step.rss_per_call_kb = round((rss_peak - idle_fresh_mb) * 1024 / n, 1) if rss_peak else 0.0
        c_res = carrier.wait_sync(sipp_timeout + 10)
        ended, cpu_at_end = time.monotonic(), own_cpu_s(target.pid) if target.alive() else 0.0
        step.target_alive = target.alive()
        if step.target_alive and not wait_idle(target, baseline_udp, 30):
            step.notes.append("the target still had call legs 30 s after the carrier finished")
        o_res = operator.wait_sync(15)
    if target.alive():
        if not wait_target_quiet(target.pid, 3.0, args.wait_post):
            step.notes.append(f"the target was still busy {args.wait_post:.0f} s after the calls")
        step.post_call_s = round(time.monotonic() - ended, 1)
        step.post_call_cpu_s = round(own_cpu_s(target.pid) - cpu_at_end, 1)
        step.recordings_pending = target.pending_recordings()
    step.sipp_carrier, step.sipp_operator = sipp_summary(c_res), sipp_summary(o_res)
    step.dropped_by_target = sum("far end hung up" in line for line in c_res.logs)
    step.attempted = step.sipp_carrier["TotalCallCreated"]
    carrier_ok = step.sipp_carrier["SuccessfulCall(C)"] - step.dropped_by_target
    # A caller the box answered but never bridged still "succeeds" for the carrier scenario: count a
    # call as held only if an operator call matched it too.
    step.succeeded = max(min(carrier_ok, step.sipp_operator["SuccessfulCall(C)"]), 0)
    step.failed = n - step.succeeded
    step.failed_pct = round(100.0 * step.failed / n, 2)
    step.setup_cps = setup_rate(operator, n)
    step.held_pct = round(100.0 * step.plateau_calls / n, 1)
    step.passed = step.failed_pct < 1.0 and step.held_pct >= 99.0 and step.target_alive
    seconds, ratios = target.recorded(wall_start, hold)
    seconds, ratios = sorted(seconds), sorted(ratios)
    step.recorded_pct = round(100 * ratios[len(ratios) // 2], 1) if ratios else 0.0
    step.recorded_pct_min = round(100 * ratios[0], 1) if ratios else 0.0
    step.queue = target.queue_stats(n)
    step.hold_s_p95 = step.queue.get("hold_s_p95", 0.0)
    step.recordings = len(seconds)
    step.recorded_s_median = round(seconds[len(seconds) // 2], 1) if seconds else 0.0
    if step.noisy:
        step.notes.append(f"noisy: other processes used {step.foreign_on_target_core_pct} % of the target's core")
    if not step.plateau_reached:
        step.notes.append(f"the operator had not seen all {n} calls {ramp + grace(n, args):.0f} s after the start")
    if step.plateau_calls < n:
        step.notes.append(f"only {step.plateau_calls} of {n} calls were bridged at once")
    if not step.target_alive:
        step.notes.append(f"the target died:\n{target.tail()}")
    if step.passed:
        shutil.rmtree(stepdir, ignore_errors=True)
    else:
        step.notes.append(f"SIPp traces kept in {stepdir}")
    return step


def run_target(target: Target, args: argparse.Namespace, pcaps: dict[int, Path], workdir: Path) -> dict[str, Any]:
    """Start the target, climb the steps, stop it; returns its part of the report."""
    print(f"\n== {target.name}: starting (pinned: {' '.join(target.prefix) or 'no'})", flush=True)
    try:
        target.start()
    except Exception as err:  # noqa: BLE001 - report it and go on with the other target
        print(f"   ! {target.name} did not start: {err}", flush=True)
        with contextlib.suppress(Exception):
            target.stop()
        return {"error": f"did not start: {err}"[:2000], "steps": [], "max_calls_passed": 0, "rss_idle_mb": 0.0}
    time.sleep(2.0)  # let start-up work (migrations, hold music, first GC) settle
    idle = rss_mb(target.pid)
    baseline_udp = udp_sockets(target.pid)
    idle_cpu = psutil.Process(target.pid)
    idle_cpu.cpu_percent(None)
    time.sleep(2.0)
    report: dict[str, Any] = {"rss_idle_mb": round(idle, 1), "cpu_idle_pct": round(idle_cpu.cpu_percent(None), 1),
                              "idle_udp_sockets": baseline_udp, "steps": []}
    print(f"   idle: RSS {idle:.1f} MB, CPU {report['cpu_idle_pct']} %, {baseline_udp} UDP sockets", flush=True)
    failures = 0
    try:
        for n in args.calls:
            if not target.alive():
                break
            step = run_step(target, n, args, pcaps, idle, baseline_udp, workdir)
            report["steps"].append(dataclasses.asdict(step))
            print(f"   {n:4d} calls: ok {step.succeeded}/{n}, failed {step.failed_pct} %, CPU {step.cpu_pct} %, "
                  f"RSS {step.rss_plateau_mb} MB, {'PASS' if step.passed else 'FAIL'}", flush=True)
            for note in step.notes:
                print(f"        {note}", flush=True)
            failures = 0 if step.passed else failures + 1
            if failures >= args.stop_after:
                print(f"   stopping {target.name}: {failures} failed step(s) in a row", flush=True)
                break
    finally:
        if isinstance(target, ProductTarget) and target.alive():
            report["encoder"] = target.encoder_report()
        report["exit_code"] = target.stop()
    passed = [s["calls"] for s in report["steps"] if s["passed"]]
    report["max_calls_passed"] = max(passed, default=0)
    return report


# -- report --------------------------------------------------------------------------------------------


COLUMNS = [  # header, width, step field, format
    ("target", 8, "target", "s"), ("calls", 5, "calls", "d"), ("attempt", 7, "attempted", "d"),
    ("ok", 5, "succeeded", "d"), ("failed", 6, "failed", "d"), ("fail%", 6, "failed_pct", ".2f"),
    ("held", 5, "plateau_calls", "d"), ("CPU%", 6, "cpu_pct", ".1f"),
    ("other%", 6, "foreign_on_target_core_pct", ".1f"),
    ("kids%", 5, "children_cpu_pct", ".0f"), ("genCPU%", 7, "generator_cpu_pct", ".1f"),
    ("RSSidle", 8, "rss_idle_mb", ".1f"),
    ("RSSplat", 8, "rss_plateau_mb", ".1f"), ("KB/call", 8, "rss_per_call_kb", ".1f"),
    ("hold_s", 6, "hold_s", ".0f"), ("rec%", 6, "recorded_pct", ".1f"), ("wait95", 6, "hold_s_p95", ".1f"),
    ("cps", 5, "setup_cps", ".1f"),
]


def table(results: dict[str, dict[str, Any]]) -> str:
    """The steps of every target as a fixed-width table."""
    head = " ".join(f"{h:>{w}}" if f != "s" else f"{h:<{w}}" for h, w, _, f in COLUMNS) + "  result"
    lines = [head, "-" * len(head)]
    for rep in results.values():
        for s in rep["steps"]:
            cells = " ".join(f"{s[k]:<{w}{f}}" if f == "s" else f"{s[k]:>{w}{f}}" for _, w, k, f in COLUMNS)
            lines.append(f"{cells}  {'PASS' if s['passed'] else 'FAIL'}{' (noisy)' if s['noisy'] else ''}")
    return "\n".join(lines)


def summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {name: {"max_calls_passed": rep["max_calls_passed"], "rss_idle_mb": rep["rss_idle_mb"]}
                           for name, rep in results.items()}
    for name, rep in results.items():
        per_call = [s["rss_per_call_kb"] for s in rep["steps"] if s["passed"] and s["calls"] >= 50]
        out[name]["rss_per_call_kb"] = per_call[-1] if per_call else None
    if "product" in results and "bare" in results:
        p, b = results["product"]["max_calls_passed"], results["bare"]["max_calls_passed"]
        out["ratio_max_calls_product_over_bare"] = round(p / b, 2) if b else None
        bare_cpu = {s["calls"]: s["cpu_pct"] for s in results["bare"]["steps"] if s["passed"]}
        out["cpu_ratio_product_over_bare"] = {
            s["calls"]: round(s["cpu_pct"] / bare_cpu[s["calls"]], 2)
            for s in results["product"]["steps"] if s["passed"] and bare_cpu.get(s["calls"])}
        tested = max((s["calls"] for rep in results.values() for s in rep["steps"]), default=0)
        if b and p == b == tested:
            out["note"] = "both targets passed every step tried: the ratio is a lower bound; compare CPU"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, nargs="+", default=[25, 50, 100, 150, 200, 250],
                        help="concurrency steps (bridged calls held at once), ascending")
    parser.add_argument("--duration", type=float, default=10.0, help="plateau seconds measured per step")
    parser.add_argument("--hold", type=float, default=0.0,
                        help="seconds each call is held after the answer (default: 2 N/rate + settle + duration + 3)")
    parser.add_argument("--rate", type=float, default=15.0, help="new calls per second")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between all calls up and measuring")
    parser.add_argument("--targets", default="product,bare", help="comma-separated: product, bare")
    parser.add_argument("--cpu", default="0", help="the core(s) the target is pinned to (taskset -c)")
    parser.add_argument("--no-operator-audio", dest="operator_audio", action="store_false",
                        help="operators send no RTP (only the caller speaks)")
    parser.add_argument("--quiet-pct", type=float, default=15.0,
                        help="before each step wait until the machine is at most this busy (%% of all cores)")
    parser.add_argument("--wait-quiet", type=float, default=5.0, help="longest wait for a quiet machine (s)")
    parser.add_argument("--noise-pct", type=float, default=10.0,
                        help="flag a step noisy when other processes took more than this %% of the target's core")
    parser.add_argument("--nice", type=int, default=-15,
                        help="niceness of this script, the target and SIPp (inherited; < 0 needs root): a shared "
                             "machine's background work then takes less of the target's core; 0 to leave it")
    parser.add_argument("--wait-post", type=float, default=30.0,
                        help="longest wait after a step for the target process to be idle (post-call work; "
                             "its child processes, e.g. the product's encoders, are not waited for)")
    parser.add_argument("--bare-recording", choices=["auto", "mixed", "split"], default="auto",
                        help="bare bridge: one mixed WAV per call, or one WAV per leg; auto = what the product "
                             "does (appliance.sip.media.RECORDERS_PER_BRIDGE)")
    parser.add_argument("--stop-after", type=int, default=1, help="stop a target after this many failed steps")
    parser.add_argument("--out", type=Path, help="JSON report (default bench/results/load-<date>.json)")
    args = parser.parse_args()
    args.calls = sorted(set(args.calls))
    if max(args.calls) * 2 > MAX_LEGS:
        parser.error(f"at most {MAX_LEGS // 2} calls: the build's PJSUA_MAX_CALLS is 512 legs")
    if shutil.which("sipp") is None:
        parser.error("sipp (Debian sip-tester) is not on PATH")
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        print("warning: SIPp's play_pcap_audio needs raw sockets (root or CAP_NET_RAW)", file=sys.stderr)

    # The target gets --cpu; this process and the SIPp load generators (its children) keep the rest.
    pinned = {int(c) for c in args.cpu.split(",")}
    args.target_cores = sorted(pinned)
    others = set(os.sched_getaffinity(0)) - pinned
    prefix = ["taskset", "-c", args.cpu] if shutil.which("taskset") else []
    if others:
        os.sched_setaffinity(0, others)
    else:
        print("warning: one core only: SIPp shares the target's core", file=sys.stderr)
    if args.nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        except OSError as err:
            print(f"warning: cannot set niceness {args.nice}: {err}", file=sys.stderr)
    args.operator_port = free_udp_port()

    if args.bare_recording == "auto":
        args.bare_recording = product_recording_mode()
    Target.recording = args.bare_recording
    workdir = Path(tempfile.mkdtemp(prefix="callbox-load-"))
    longest = max(args.hold or default_hold(n, args) for n in args.calls) + 5
    pcaps = {f: write_tone_pcap(workdir / f"tone{f}.pcap", f, longest) for f in (1000, 440)}
    started = datetime.now()
    results: dict[str, dict[str, Any]] = {}
    kinds = {"product": ProductTarget, "bare": BareTarget}
    try:
        for name in [t.strip() for t in args.targets.split(",") if t.strip()]:
            target = kinds[name](workdir / name, prefix, args.operator_port, legs=MAX_LEGS)
            results[name] = run_target(target, args, pcaps, workdir)
    except KeyboardInterrupt:
        print("interrupted: writing what was measured", file=sys.stderr)
    report = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round((datetime.now() - started).total_seconds()),
        "git": _git(),
        "machine": {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "python": platform.python_version(),
                    "sipp": subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout.strip()[:80]},
        "config": {"calls": args.calls, "duration_s": args.duration, "rate_cps": args.rate, "hold_s": args.hold,
                   "settle_s": args.settle, "target_cpu": args.cpu, "nice": args.nice,
                   "operator_audio": args.operator_audio, "bare_recording": args.bare_recording,
                   "max_legs": MAX_LEGS, "rtp_port_span": RTP_SPAN},
        "targets": results,
        "summary": summary(results),
        "noisy_steps": [f"{name}:{s['calls']}" for name, rep in results.items() for s in rep["steps"] if s["noisy"]],
    }
    out = args.out or REPO / "bench" / "results" / f"load-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("\n" + table(results))
    print("\nsummary: " + json.dumps(report["summary"], indent=2))
    noisy: list[str] = report["noisy_steps"]  # type: ignore[assignment]
    if noisy:
        print(f"\nWARNING: other processes shared the target's core in {', '.join(noisy)}: "
              "those numbers are not clean; rerun on a quiet machine")
    print(f"\nreport: {out}  (work files: {workdir})")
    return 0


def product_recording_mode() -> str:
    """'split' when the product records each leg to its own file, else 'mixed'."""
    try:
        from appliance.sip import media
    except Exception:  # noqa: BLE001 - pjsua2 or the product not importable: the brief's default
        return "mixed"
    return "split" if getattr(media, "RECORDERS_PER_BRIDGE", 1) >= 2 else "mixed"


def _git() -> dict[str, Any]:
    """Which product code ran: HEAD and whether the working tree differed from it."""
    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
    return {"head": git("rev-parse", "HEAD"), "dirty_files": len(git("status", "--porcelain").splitlines())}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
