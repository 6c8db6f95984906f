"""Load benchmark: how many bridged, recorded calls the product holds on one core, against a bare pjsua2 bridge.

    python bench/load.py                                  # both targets, steps 25 50 100 150 200 250
    python bench/load.py --calls 25 50 100 --targets bare
    python bench/load.py --calls 200 --duration 20 --rate 20

For each target (the real daemon through tests/e2e/box.py, and bench/bare_bridge.py), pinned to one
core with `taskset`, and for each concurrency step N: a SIPp operator UAS answers every call the
target places (playing a 440 Hz tone back), a SIPp carrier UAC places N calls from 127.0.0.2 at
--rate calls/s with at most N at once (`-l N`), each playing a 1 kHz tone and holding long enough
that all N are bridged at once for --duration seconds. During that plateau the target's CPU and RSS
are sampled. A step passes when fewer than 1 % of its N calls failed. See bench/README.md.
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
import subprocess
import sys
import tempfile
import time
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.box import Box, ip_trunk, operators  # noqa: E402
from tests.support.rtp import write_tone_pcap  # noqa: E402
from tests.support.sipp import Sipp, SippResult, free_udp_port, udp_port_bound  # noqa: E402

CARRIER_IP = "127.0.0.2"
DID = "4951000"
RTP_SPAN = 1200  # RTP+RTCP ports for 504 legs, with room for ports still in TIME_WAIT-like reuse
MAX_LEGS = 504  # the engine's leg limit; +8 headroom = the build's PJSUA_MAX_CALLS (512)


class PinnedBox(Box):
    """The real daemon (`python -m appliance run`) started under a command prefix such as `taskset -c 0`."""

    def __init__(self, workdir: Path, config: str, prefix: list[str], **settings: object) -> None:
        super().__init__(workdir, config, **settings)
        self.prefix = prefix

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


# -- targets ---------------------------------------------------------------------------------------------


class Target:
    """A B2BUA under test: started once, driven through steps, stopped at the end."""

    name = ""

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
                 "--rtp-port", str(rtp), "--rtp-port-range", str(RTP_SPAN), "--max-calls", str(self.legs)],
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
    plateau_calls: int = 0  # bridged calls (operator legs up) when the plateau was measured
    plateau_udp_sockets: int = 0
    cpu_pct: float = 0.0
    cpu_pct_samples: list[float] = dataclasses.field(default_factory=list)
    generator_cpu_pct: float = 0.0
    rss_idle_mb: float = 0.0  # before this step's calls
    rss_plateau_mb: float = 0.0
    rss_per_call_kb: float = 0.0  # (plateau - the target's fresh idle) / calls
    recordings: int = 0
    recorded_s_median: float = 0.0
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
    keep = {k: stat_int(s, k) for k in ("TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)",
                                        "Retransmissions(C)", "OutOfCallMsgs(C)", "DeadCallMsgs(C)")}
    keep.update({k: stat_int(s, k) for k in s if k.startswith("Failed") and k.endswith("(C)")
                 and stat_int(s, k) and k != "FailedCall(C)"})
    keep["returncode"] = result.returncode
    keep["timed_out"] = result.timed_out
    return keep


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
    return psutil.Process(pid).memory_info().rss / 2**20


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


def wav_seconds(directory: Path) -> list[float]:
    out = []
    for path in directory.rglob("*.wav"):
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as wav:
            out.append(wav.getnframes() / float(wav.getframerate()))
    return out


def run_step(target: Target, n: int, args: argparse.Namespace, pcaps: dict[int, Path], idle_fresh_mb: float,
             baseline_udp: int, workdir: Path) -> Step:
    """N concurrent calls through the target; CPU and RSS sampled on the plateau."""
    ramp = n / args.rate
    hold = args.hold if args.hold else ramp + args.settle + args.duration + 6.0
    step = Step(target.name, n, args.rate, round(hold, 1))
    step.rss_idle_mb = round(rss_mb(target.pid), 1)
    shutil.rmtree(target.recordings(), ignore_errors=True)
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
        # Plateau: every call bridged (the operator SIPp holds N calls), or the ramp's deadline.
        deadline = started + ramp + hold * 0.5
        while time.monotonic() < deadline and target.alive():
            if current_calls(operator) >= n:
                step.plateau_reached = True
                break
            time.sleep(0.25)
        time.sleep(args.settle)
        proc = psutil.Process(target.pid)
        proc.cpu_percent(None)
        for g in generators:
            with contextlib.suppress(psutil.Error):
                g.cpu_percent(None)
        t0 = time.monotonic()
        rss_peak = 0.0
        while time.monotonic() - t0 < args.duration and target.alive():
            time.sleep(1.0)
            with contextlib.suppress(psutil.Error):
                step.cpu_pct_samples.append(round(proc.cpu_percent(None), 1))
                rss_peak = max(rss_peak, proc.memory_info().rss / 2**20)
        with contextlib.suppress(psutil.Error):
            step.generator_cpu_pct = round(sum(g.cpu_percent(None) for g in generators), 1)
        step.plateau_calls = current_calls(operator)
        step.plateau_udp_sockets = max(udp_sockets(target.pid) - baseline_udp, 0)
        step.cpu_pct = round(sum(step.cpu_pct_samples) / max(len(step.cpu_pct_samples), 1), 1)
        step.rss_plateau_mb = round(rss_peak, 1)
        step.rss_per_call_kb = round((rss_peak - idle_fresh_mb) * 1024 / n, 1) if rss_peak else 0.0
        c_res = carrier.wait_sync(sipp_timeout + 10)
        step.target_alive = target.alive()
        if step.target_alive and not wait_idle(target, baseline_udp, 30):
            step.notes.append("the target still had call legs 30 s after the carrier finished")
        o_res = operator.wait_sync(15)
    step.sipp_carrier, step.sipp_operator = sipp_summary(c_res), sipp_summary(o_res)
    step.dropped_by_target = sum("far end hung up" in line for line in c_res.logs)
    step.attempted = step.sipp_carrier["TotalCallCreated"]
    carrier_ok = step.sipp_carrier["SuccessfulCall(C)"] - step.dropped_by_target
    # A caller the box answered but never bridged still "succeeds" for the carrier scenario: count a
    # call as held only if an operator call matched it too.
    step.succeeded = max(min(carrier_ok, step.sipp_operator["SuccessfulCall(C)"]), 0)
    step.failed = n - step.succeeded
    step.failed_pct = round(100.0 * step.failed / n, 2)
    step.passed = step.failed_pct < 1.0 and step.target_alive
    seconds = sorted(wav_seconds(target.recordings()))
    step.recordings = len(seconds)
    step.recorded_s_median = round(seconds[len(seconds) // 2], 1) if seconds else 0.0
    if not step.plateau_reached:
        step.notes.append(f"only {step.plateau_calls} of {n} calls were bridged at once")
    if not step.target_alive:
        step.notes.append(f"the target died:\n{target.tail()}")
    shutil.rmtree(target.recordings(), ignore_errors=True)
    if step.passed:
        shutil.rmtree(stepdir, ignore_errors=True)
    else:
        step.notes.append(f"SIPp traces kept in {stepdir}")
    return step


def run_target(target: Target, args: argparse.Namespace, pcaps: dict[int, Path], workdir: Path) -> dict[str, Any]:
    """Start the target, climb the steps, stop it; returns its part of the report."""
    print(f"\n== {target.name}: starting (pinned: {' '.join(target.prefix) or 'no'})", flush=True)
    target.start()
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
        report["exit_code"] = target.stop()
    passed = [s["calls"] for s in report["steps"] if s["passed"]]
    report["max_calls_passed"] = max(passed, default=0)
    return report


# -- report --------------------------------------------------------------------------------------------


def table(results: dict[str, dict[str, Any]]) -> str:
    head = (f"{'target':8} {'calls':>5} {'attempt':>7} {'ok':>5} {'failed':>6} {'fail%':>6} {'held':>5} "
            f"{'CPU%':>6} {'genCPU%':>7} {'RSSidle':>8} {'RSSplat':>8} {'KB/call':>8} {'rec s':>6}  result")
    lines = [head, "-" * len(head)]
    for name, rep in results.items():
        for s in rep["steps"]:
            lines.append(f"{name:8} {s['calls']:5d} {s['attempted']:7d} {s['succeeded']:5d} {s['failed']:6d} "
                         f"{s['failed_pct']:6.2f} {s['plateau_calls']:5d} {s['cpu_pct']:6.1f} "
                         f"{s['generator_cpu_pct']:7.1f} {s['rss_idle_mb']:8.1f} {s['rss_plateau_mb']:8.1f} "
                         f"{s['rss_per_call_kb']:8.1f} {s['recorded_s_median']:6.1f}  "
                         f"{'PASS' if s['passed'] else 'FAIL'}")
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
                        help="seconds each call is held after the answer (default: ramp + settle + duration + 6)")
    parser.add_argument("--rate", type=float, default=25.0, help="new calls per second")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between all calls up and measuring")
    parser.add_argument("--targets", default="product,bare", help="comma-separated: product, bare")
    parser.add_argument("--cpu", default="0", help="the core(s) the target is pinned to (taskset -c)")
    parser.add_argument("--no-operator-audio", dest="operator_audio", action="store_false",
                        help="operators send no RTP (only the caller speaks)")
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
    others = set(os.sched_getaffinity(0)) - pinned
    prefix = ["taskset", "-c", args.cpu] if shutil.which("taskset") else []
    if others:
        os.sched_setaffinity(0, others)
    else:
        print("warning: one core only: SIPp shares the target's core", file=sys.stderr)
    args.operator_port = free_udp_port()

    workdir = Path(tempfile.mkdtemp(prefix="callbox-load-"))
    longest = max(args.hold or (n / args.rate + args.settle + args.duration + 6.0) for n in args.calls) + 5
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
        "machine": {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "python": platform.python_version(),
                    "sipp": subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout.strip()[:80]},
        "config": {"calls": args.calls, "duration_s": args.duration, "rate_cps": args.rate, "hold_s": args.hold,
                   "settle_s": args.settle, "target_cpu": args.cpu, "operator_audio": args.operator_audio,
                   "max_legs": MAX_LEGS, "rtp_port_span": RTP_SPAN},
        "targets": results,
        "summary": summary(results),
    }
    out = args.out or REPO / "bench" / "results" / f"load-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("\n" + table(results))
    print("\nsummary: " + json.dumps(report["summary"], indent=2))
    print(f"\nreport: {out}  (work files: {workdir})")
    return 0


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
