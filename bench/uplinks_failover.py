"""Uplink failover benchmark: detection time, time to re-registration and call survival, repeated.

    python bench/uplinks_failover.py                       # 5 runs each of link-down, far-end, loss, blackhole
    python bench/uplinks_failover.py --runs 10 --cuts loss blackhole

Each run builds fresh network namespaces (tests/netns/topology.py: a box with two uplinks, two
ISPs, a carrier), starts the real daemon inside the box namespace (`ip netns exec ... python -m
appliance run`), a registrar and a carrier that calls the box (tests/netns/registrar.py,
carrier.py) with an operator's phone (SIPp) answering inside the box. Once the call is up,
uplink 1 is cut. Measured from the cut: the failover (detection: cut -> the switch's decision),
the first REGISTER from uplink 2 with the new Contact (re-registration), the call's fate (the
box's re-INVITE with its new address, RTP back through uplink 2, the carrier's BYE answered
through it) and the longest silence in the box's RTP. Then uplink 1 is restored and the
failback is timed against the hold time. Needs root. Writes bench/results/uplinks-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.netns.callflow import CallAcrossSwitch, call_config  # noqa: E402
from tests.netns.peers import NsBox, NsRegistrar, at, wait_active, wait_registered  # noqa: E402
from tests.netns.topology import BOX, CARRIER, TRUNK, Topology, uplink_rows  # noqa: E402

HOLD_S = 5


def one_run(how: str, workdir: Path) -> dict[str, Any]:
    """Build, call, cut, measure, restore, tear down."""
    topo = Topology().build()
    box: NsBox | None = None
    call = CallAcrossSwitch(topo, workdir / "call", talk_ms=6000)
    try:
        with NsRegistrar(topo.carrier, CARRIER, 5060, workdir / "registrar") as registrar:
            box = NsBox(topo.box, workdir / "box", TRUNK + call_config().replace('name = "carrier"', 'name = "pstn"'),
                        uplink_rows(), UPLINKS_FAILBACK_HOLD_S=HOLD_S)
            box.workdir.mkdir(parents=True)
            box.start()
            wait_active(box, "wan1", 15)
            wait_registered(box, registrar, BOX["wan1"], 0, 15)
            call.start(box)
            cut_at = time.time()
            topo.cut(how)
            switch = wait_active(box, "wan2", 15)["switches"][-1]
            rereg = wait_registered(box, registrar, BOX["wan2"], cut_at, 15)
            outcome = call.finish(at(switch["at"]))
            restored_at = time.time()
            topo.restore(how)
            back = wait_active(box, "wan1", HOLD_S + 20)["switches"][-1]
        return {"cut": how, "detection_s": at(switch["at"]) - cut_at, "switch_ms": switch["switch_ms"],
                "reregistration_s": rereg - cut_at, "call_survived": outcome.survived,
                "media_gap_s": outcome.media_gap_ms / 1000, "failback_after_restore_s": at(back["at"]) - restored_at,
                "loss_method": topo.loss_method}
    finally:
        call.stop()
        if box is not None:
            box.stop()
        topo.destroy()


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median and max of each timing, per cut and over all."""
    keys = ("detection_s", "reregistration_s", "media_gap_s", "failback_after_restore_s")
    groups = {how: [r for r in rows if r["cut"] == how] for how in dict.fromkeys(r["cut"] for r in rows)}
    groups["all"] = rows
    result = {}
    for name, group in groups.items():
        ok = [r for r in group if "error" not in r]
        entry: dict[str, float] = {"runs": len(group), "errors": len(group) - len(ok),
                                   "calls_survived": sum(1 for r in ok if r["call_survived"])}
        for key in keys:
            values = [r[key] for r in ok]
            if values:
                entry[f"{key}_median"], entry[f"{key}_max"] = statistics.median(values), max(values)
        result[name] = entry
    return result


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cuts", nargs="+", default=["link-down", "far-end", "loss", "blackhole"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-uplinks-") as tmp:
        for run in range(args.runs):
            for how in args.cuts:
                try:
                    rows.append(one_run(how, Path(tmp) / f"{how}-{run}"))
                except Exception as err:  # noqa: BLE001 - a failed run is a result, reported as such
                    rows.append({"cut": how, "error": str(err)[:500]})
                print(json.dumps(rows[-1]), flush=True)
    table = summary(rows)
    print(f"\n{'cut':<10} {'runs':>4} {'err':>3} {'survived':>8}  detection med/max  re-register med/max"
          "  media gap med/max  failback med/max (hold 5 s)")
    for name, e in table.items():
        def pair(key: str, e: dict[str, float] = e) -> str:
            return f"{e.get(key + '_median', float('nan')):6.2f}/{e.get(key + '_max', float('nan')):5.2f} s"
        print(f"{name:<10} {e['runs']:>4} {e['errors']:>3} {e['calls_survived']:>8}  {pair('detection_s')}  "
              f"{pair('reregistration_s')}    {pair('media_gap_s')}  {pair('failback_after_restore_s')}")
    out = args.out or REPO / "bench" / "results" / f"uplinks-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": rows, "summary": table, "hold_s": HOLD_S}, indent=1))
    print(f"\nwritten to {out}")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
