"""Carrier failover benchmark: how fast a dead carrier is noticed, what each dead carrier costs a call,
and how many calls of a steady stream fail when the carrier they use dies mid-stream.

    python bench/failover.py                       # all three, default trunk settings (~3 min)
    python bench/failover.py --runs 10 --stream-calls 60 --rate 2 --death stop

1. detect: carriers A and B (SIPp, answering calls and OPTIONS); A is frozen (SIGSTOP: silent, no ICMP)
   or killed (ICMP port unreachable, on 127.0.0.1 at least) and /api/v1/trunks is polled every 50 ms
   until A is `down`; then brought back (SIGCONT / restart) and timed until `up`.
2. setup: one operator places calls through a route whose first k trunks are dead carriers (silent,
   and either not yet known to be down, or already down by probes) and whose last trunk answers; the
   dial-out time from the API (INVITE on the first trunk to the answer) against k = 0 gives the extra
   time per dead carrier. A carrier that refuses with 503 is measured the same way.
3. stream: calls at --rate per second through [A, B]; A dies (--death) after a third of them; every
   call that does not end answered counts as failed.

Results go to stdout and bench/results/failover-<date>-<time>.json. Anchors: Kamailio's dispatcher
sample gives up on a silent gateway after ~2 s (fr_timer 2000); Asterisk's qualify timeout is 3 s;
OpenSIPS probes every 30 s by default.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.trunks.peers import Api, TcpSafeBox, carrier, ip_trunk, office, operator, route  # noqa: E402


class BenchBox(TcpSafeBox):
    """The real daemon, logging at INFO (DEBUG logs would cost the box time of its own)."""

    def __init__(self, workdir: Path, config: str) -> None:
        super().__init__(workdir, config, LOG_LEVEL="INFO")


def start_box(root: Path, name: str, config: str) -> tuple[BenchBox, Api]:
    """Start a box in its own directory; returns it and its API."""
    workdir = root / name
    workdir.mkdir(parents=True)
    box = BenchBox(workdir, config)
    box.start(timeout=60)
    return box, Api(box)


def poll(check: Any, timeout: float, step: float = 0.05) -> float:
    """Seconds until check() is truthy (raises after timeout)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(step)
    return time.monotonic() - started


def detect(root: Path, runs: int) -> dict[str, Any]:
    """Time to mark a frozen (silent) and a killed carrier down, and to bring it back up."""
    a, b = carrier("carrier_uas.xml", "127.0.0.2"), carrier("carrier_uas.xml", "127.0.0.3")
    out: dict[str, list[float]] = {"silent_down_s": [], "silent_up_s": [], "killed_down_s": [], "killed_up_s": []}
    with a, b, operator() as phone:
        box, api = start_box(root, "detect", ip_trunk("carrier-a", a) + ip_trunk("carrier-b", b) + office(phone))
        try:
            state = lambda: api.trunk("carrier-a")["state"]  # noqa: E731
            poll(lambda: state() == "up", 30)
            for _ in range(runs):
                time.sleep(1.0)  # a random phase against the probe schedule
                assert a.proc is not None
                a.proc.send_signal(signal.SIGSTOP)
                out["silent_down_s"].append(poll(lambda: state() == "down", 30))
                a.proc.send_signal(signal.SIGCONT)
                out["silent_up_s"].append(poll(lambda: state() == "up", 30))
            for _ in range(runs):
                time.sleep(1.0)
                a.kill()
                out["killed_down_s"].append(poll(lambda: state() == "down", 30))
                a = carrier("carrier_uas.xml", "127.0.0.2", port=a.local_port).start()
                out["killed_up_s"].append(poll(lambda: state() == "up", 30))
        finally:
            box.stop()
            a.kill()
    return {k: summary(v) for k, v in out.items()}


def setup_times(root: Path, calls: int) -> dict[str, Any]:
    """Dial-out time with 0, 1, 2 dead carriers in front (unknown and known down), and a 503 in front."""
    good = carrier("carrier_uas.xml", "127.0.0.2", ring_ms=0)
    dead1, dead2 = carrier("carrier_silent.xml", "127.0.0.3"), carrier("carrier_silent.xml", "127.0.0.4")
    refuser = carrier("carrier_reject.xml", "127.0.0.5")
    unseen = {"probe_interval_s": 0, "down_after": 1000}  # dead, but nothing has told the box yet
    plans = {"0 dead": ["good"], "1 dead (not yet known)": ["hidden1", "good"],
             "2 dead (not yet known)": ["hidden1", "hidden2", "good"], "1 dead (known down)": ["down1", "good"],
             "2 dead (known down)": ["down1", "down2", "good"], "1 refusing (503)": ["refuser", "good"]}
    config = (ip_trunk("good", good) + ip_trunk("hidden1", dead1, **unseen) + ip_trunk("hidden2", dead2, **unseen)
              + ip_trunk("down1", dead1) + ip_trunk("down2", dead2) + ip_trunk("refuser", refuser)
              + "".join(route(f"r{i}", trunks, pattern=f"{i}") for i, trunks in enumerate(plans.values(), 1)))
    results: dict[str, Any] = {}
    with good, dead1, dead2, refuser, operator(calls=calls * len(plans), hangup_ms=60000, ring_ms=0) as phone:
        box, api = start_box(root, "setup", config + office(phone))
        try:
            poll(lambda: api.trunk("down1")["state"] == "down" and api.trunk("down2")["state"] == "down", 30)
            for i, name in enumerate(plans, 1):
                times = []
                for n in range(calls):
                    call_id = api.place(f"{i}49570{n:05d}")
                    poll(lambda c=call_id: api.get(f"/api/v1/calls/{c}")["state"] in ("connected", "ended"), 60)
                    api.call("DELETE", f"/api/v1/calls/{call_id}")  # the operator is done at once
                    view = api.ended(call_id, 30)
                    if view["result"] != "answered" or view["trunk"] != "good":
                        raise RuntimeError(f"unexpected outcome: {view}")
                    times.append(view["setup_ms"] / 1000)
                results[name] = summary(times)
        finally:
            box.stop()
    base = results["0 dead"]["median"]
    for name, value in results.items():
        dead = int(name[0]) if name[0].isdigit() else 0
        value["extra_per_carrier_s"] = round((value["median"] - base) / dead, 3) if dead else 0.0
    return results


def stream(root: Path, calls: int, rate: float, death: str) -> dict[str, Any]:
    """A steady stream through [A, B]; A dies after a third of the calls. Failed calls are counted."""
    a, b = carrier("carrier_uas.xml", "127.0.0.2", ring_ms=0), carrier("carrier_uas.xml", "127.0.0.3", ring_ms=0)
    with a, b, operator(calls=calls, hangup_ms=5000, ring_ms=0) as phone:  # longer than any dial-out
        box, api = start_box(root, "stream", ip_trunk("carrier-a", a) + ip_trunk("carrier-b", b)
                             + route("all", ["carrier-a", "carrier-b"]) + office(phone))
        try:
            poll(lambda: {api.trunk(n)["state"] for n in ("carrier-a", "carrier-b")} == {"up"}, 30)
            ids, died_at = [], None
            started = time.monotonic()
            for n in range(calls):
                time.sleep(max(started + n / rate - time.monotonic(), 0))
                if n == calls // 3:
                    assert a.proc is not None
                    a.proc.send_signal(signal.SIGSTOP) if death == "stop" else a.kill()
                    died_at = n
                ids.append(api.place(f"4958{n:06d}"))
            views = [api.ended(call_id, 90) for call_id in ids]
        finally:
            if a.proc is not None and a.proc.poll() is None:
                a.proc.send_signal(signal.SIGCONT)
            box.stop()
    failed = [v for v in views if v["result"] != "answered"]
    setup = [v["setup_ms"] / 1000 for v in views if v["setup_ms"] is not None]
    return {"calls": calls, "rate_per_s": rate, "death": death, "died_before_call": died_at,
            "failed_attempts": len(failed), "failed": [(v["number"], v["result"], v["reason"]) for v in failed],
            "paid_progress_timer": sum(any(x["outcome"] == "timeout" for x in v["attempts"]) for v in views),
            "by_trunk": {t: sum(v["trunk"] == t for v in views) for t in ("carrier-a", "carrier-b")},
            "setup_s": summary(setup)}


def summary(values: list[float]) -> dict[str, Any]:
    """min / median / max (seconds, rounded) and the count."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def main() -> None:
    """Run the chosen parts and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="detection runs per kind of death")
    parser.add_argument("--setup-calls", type=int, default=3, help="calls per route in the setup measurement")
    parser.add_argument("--stream-calls", type=int, default=30)
    parser.add_argument("--rate", type=float, default=2.0, help="stream calls per second")
    parser.add_argument("--death", choices=("stop", "kill"), default="stop", help="how carrier A dies mid-stream")
    parser.add_argument("--parts", default="detect,setup,stream")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    report: dict[str, Any] = {"when": datetime.now().isoformat(timespec="seconds"),
                              "trunk_defaults": {"probe_interval_s": 2.0, "probe_timeout_s": 1.5, "down_after": 3,
                                                 "up_after": 2, "progress_timeout_s": 2.0},
                              "anchors": {"kamailio_fr_timer_s": 2.0, "asterisk_qualify_timeout_s": 3.0,
                                          "opensips_probe_interval_s": 30.0}}
    with tempfile.TemporaryDirectory(prefix="callbox-failover-") as tmp:
        root = Path(tmp)
        if "detect" in parts:
            report["detect"] = detect(root, args.runs)
            print("detect:", json.dumps(report["detect"]), flush=True)
        if "setup" in parts:
            report["setup"] = setup_times(root, args.setup_calls)
            print("setup:", json.dumps(report["setup"]), flush=True)
        if "stream" in parts:
            report["stream"] = stream(root, args.stream_calls, args.rate, args.death)
            print("stream:", json.dumps(report["stream"]), flush=True)
    out = args.out or REPO / "bench" / "results" / f"failover-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
