"""Report query time over a year of events for a 20-operator office (about 500,000 events).

    python bench/stats_report.py                     # generate into a temp dir, then time reports
    python bench/stats_report.py --calls-per-day 450 --keep /tmp/year.sqlite3

Generates a year (2025) of working days: ~450 calls a day over three queues and three carriers,
20 operators with wrap-up, pauses and sign-in/out, abandons with callbacks; writes them into a
migrated database the way the journal stores them; then times `appliance.stats.build` (read in
its own connection, as the API does) over a year, a month and a day, and the SVG/CSV on top.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.stats import Scope, build, charts, export, source
from appliance.storage import Database, Operator

TZ = ZoneInfo("Europe/Moscow")
QUEUES, TRUNKS = ("sales", "support", "billing"), ("carrier-a", "carrier-b", "carrier-c")
OPERATORS = [f"op{n:02d}" for n in range(1, 21)]
HOUR_WEIGHTS = [0] * 9 + [6, 10, 10, 7, 6, 9, 9, 7, 5] + [0] * 6  # 09:00-18:00, two peaks


def stamp(t: float) -> str:
    """The stored text form of a POSIX time."""
    return datetime.fromtimestamp(t, UTC).isoformat(sep=" ")


def one_call(rng: random.Random, n: int, t: float, ev: list[tuple[object, ...]],
             calls: list[tuple[object, ...]]) -> None:
    """The events and call record of one inbound call entering at `t`."""
    call, queue, trunk = f"c{n}", rng.choice(QUEUES), rng.choice(TRUNKS)
    ev.append((t, call, queue, "", "ENTERQUEUE", "", f"+7900{n:07d}", "1", ""))
    fate = rng.random()
    if fate < 0.88:
        wait, agent = rng.expovariate(1 / 15), rng.choice(OPERATORS)
        if rng.random() < 0.1:
            ev.append((t + wait / 2, call, queue, rng.choice(OPERATORS), "RINGNOANSWER", "15000", "timeout", "", ""))
        talk, wrap = min(rng.expovariate(1 / 180), 3600), rng.uniform(5, 40)
        ev.append((t + wait, call, queue, agent, "CONNECT", str(round(wait)), "leg", "3000", "1"))
        ev.append((t + wait + talk, call, queue, agent, rng.choice(("COMPLETECALLER", "COMPLETEAGENT")),
                   str(round(wait)), str(round(talk)), "1", ""))
        ev.append((t + wait + talk + wrap, call, queue, agent, "WRAPUP", str(round(wrap)), "", "", ""))
        calls.append((call, trunk, stamp(t), stamp(t + wait), stamp(t + wait + talk), "ANSWERED", round(talk, 3)))
    elif fate < 0.97:
        wait = rng.expovariate(1 / 40)
        ev.append((t + wait, call, queue, "", "ABANDON", "1", "1", str(round(wait)), ""))
        ev.append((t + wait, call, "NONE", "", "CALLBACKREQ", f"+7900{n:07d}", "abandon", "", ""))
        if rng.random() < 0.7:
            ev.append((t + wait + rng.uniform(60, 1800), call, "NONE", rng.choice(OPERATORS), "CALLBACKATTEMPT",
                       rng.choice(("reached", "reached", "noanswer")), "", "", ""))
        calls.append((call, trunk, stamp(t), None, stamp(t + wait), "ABANDONED", None))
    else:
        ev.append((t + 300, call, queue, "", "EXITWITHTIMEOUT", "1", "1", "300", ""))
        calls.append((call, trunk, stamp(t), None, stamp(t + 300), "TIMEOUT", None))


def one_day(rng: random.Random, day: date, per_day: int, first: int, ev: list[tuple[object, ...]],
            calls: list[tuple[object, ...]]) -> int:
    """A working day: sign-ins, lunch pauses, calls; returns the number of calls."""
    opening = datetime(day.year, day.month, day.day, 9, tzinfo=TZ).timestamp()
    for op in OPERATORS:
        ev.append((opening - rng.uniform(0, 600), "NONE", "NONE", op, "AGENTLOGIN", "", "", "", ""))
        lunch = opening + rng.uniform(3, 5) * 3600
        ev.append((lunch, "NONE", "NONE", op, "PAUSE", "lunch", "", "", ""))
        ev.append((lunch + rng.uniform(1800, 3600), "NONE", "NONE", op, "UNPAUSE", "", "", "", ""))
        ev.append((opening + 9 * 3600 + rng.uniform(0, 900), "NONE", "NONE", op, "AGENTLOGOFF", "", "", "", ""))
    count = per_day if day.weekday() < 5 else per_day // 5
    hours = rng.choices(range(24), HOUR_WEIGHTS, k=count)
    for n, hour in enumerate(hours):
        t = datetime(day.year, day.month, day.day, hour, tzinfo=TZ).timestamp() + rng.uniform(0, 3600)
        one_call(rng, first + n, t, ev, calls)
    return count


async def generate(path: Path, per_day: int, seed: int) -> tuple[int, int]:
    """Write a year of the office into a migrated database; returns (events, calls)."""
    db = Database(path)
    await db.open()
    for i, name in enumerate(OPERATORS):
        await Operator.create(name=name, extension=str(100 + i))
    await db.close()
    rng, ev, calls, n = random.Random(seed), [], [], 0
    for offset in range(365):
        day = date(2025, 1, 1) + timedelta(days=offset)
        if day.weekday() < 6:
            n += one_day(rng, day, per_day, n, ev, calls)
    ev.sort(key=lambda e: e[0])  # ids in time order, as the journal writes them
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO queue_event (ts, call_id, queue, agent, event, data1, data2, data3, data4,"
                         " data5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')", [(stamp(e[0]), *e[1:]) for e in ev])
        conn.executemany("INSERT INTO call_record (id, direction, sip_call_id, caller, did, trunk, queue, operator,"
                         " started_at, connected_at, ended_at, disposition, hangup_cause, talk_s) VALUES"
                         " (?, 'in', '', '', '', ?, '', '', ?, ?, ?, ?, '', ?)", calls)
    return len(ev), len(calls)


def timed(label: str, fn: object) -> object:
    """Run fn(), print its wall and CPU time (the machine may be shared), return its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()  # type: ignore[operator]
    print(f"  {label:<44} {time.perf_counter() - wall:7.2f} s wall {time.process_time() - cpu:7.2f} s CPU")
    return result


def main() -> None:
    """Generate, then time the reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-day", type=int, default=450)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", type=Path, help="database file to create, or reuse if it exists")
    args = parser.parse_args()
    path = args.keep or Path(tempfile.mkdtemp(prefix="callbox-stats-")) / "callbox.sqlite3"
    if path.exists():
        print(f"reusing {path}")
    else:
        start = time.perf_counter()
        events, calls = asyncio.run(generate(path, args.calls_per_day, args.seed))
        print(f"generated {events} events, {calls} call records in {time.perf_counter() - start:.1f} s ({path})")
    year = Scope(datetime(2025, 1, 1, tzinfo=TZ), datetime(2026, 1, 1, tzinfo=TZ))
    month = Scope(datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
    day = Scope(datetime(2025, 3, 12, tzinfo=TZ), datetime(2025, 3, 13, tzinfo=TZ))
    rep = timed("report: a year, every metric", lambda: build(path, year, TZ))
    timed("report: a year, again (warm cache)", lambda: build(path, year, TZ))
    timed("report: a year, one queue", lambda: build(path, Scope(year.start, year.end, queue="sales"), TZ))
    timed("report: a month", lambda: build(path, month, TZ))
    timed("report: a day", lambda: build(path, day, TZ))
    timed("charts: heat map + trend + bars (year)", lambda: [charts.heatmap_chart(rep), charts.trend_chart(rep),  # type: ignore[arg-type]
                                                            charts.operator_chart(rep), charts.queue_chart(rep)])  # type: ignore[arg-type]
    timed("CSV: daily + operators (year)", lambda: [export.daily_csv(rep), export.operators_csv(rep)])  # type: ignore[arg-type]
    timed("CSV: call records (year)", lambda: export.calls_csv(path, year, TZ))
    total = rep.total  # type: ignore[attr-defined]
    print(f"year: offered {total.offered}, SL {100 * total.sl:.1f} %, ASA {total.asa_s:.1f} s, "
          f"AHT {total.aht_s:.0f} s, abandon {100 * total.abandon_rate:.1f} %")
    print(f"peak RSS of the reports {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    with source.reader(path) as conn:
        rows = timed("(only reading a year of events, SQL + parse)", lambda: source.events(conn, year.start, year.end))
    print(f"  ({len(rows)} events in the year window)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
