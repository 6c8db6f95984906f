"""CSV exports of a report and of the call records, for spreadsheets (UTF-8, comma, header row)."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance.stats import source
from appliance.stats.calls import CallMetrics
from appliance.stats.report import WEEKDAYS, Report, Scope

RATIOS = {"sl", "sl2", "abandon_rate", "abandon_rate_excl_short", "occupancy", "success_rate"}


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in RATIOS:
        return f"{100 * value:.1f}"  # per cent
    if isinstance(value, float):
        return f"{value:.1f}"
    return value


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _metrics_table(first: str, items: Iterable[tuple[str, Any]]) -> str:
    items = list(items)
    if not items:
        return _table([first], [])
    names = [f.name for f in dataclasses.fields(items[0][1]) if f.name != "pause_reasons"]
    header = [first] + [f"{n}_pct" if n in RATIOS else n for n in names]
    return _table(header, ([key] + [_cell(n, getattr(m, n)) for n in names] for key, m in items))


def queues_csv(rep: Report) -> str:
    """One row per queue, then one for all queues."""
    rows: list[tuple[str, CallMetrics]] = [*rep.queues.items(), ("(all)", rep.total)]
    return _metrics_table("queue", rows)


def operators_csv(rep: Report) -> str:
    """One row per operator."""
    return _metrics_table("operator", rep.operators.items())


def carriers_csv(rep: Report) -> str:
    """One row per trunk."""
    return _metrics_table("trunk", rep.carriers.items())


def daily_csv(rep: Report) -> str:
    """One row per office-time day."""
    return _metrics_table("day", ((day.isoformat(), m) for day, m in rep.daily))


def heatmap_csv(rep: Report) -> str:
    """Weekdays down, hours across: calls offered."""
    return _table(["weekday", *(f"{h:02d}" for h in range(24))],
                  ([day, *row] for day, row in zip(WEEKDAYS, rep.heatmap, strict=True)))


CALL_COLUMNS = ("id", "direction", "caller", "did", "trunk", "queue", "operator", "started_at",
                "answered_at", "connected_at", "ended_at", "disposition", "hangup_cause", "hold_s", "talk_s")


def calls_csv(path: Path, scope: Scope, tz: ZoneInfo) -> str:
    """The call records that started in the period, times in office time (blocking: use a thread)."""
    with source.reader(path) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(CALL_COLUMNS)} FROM call_record WHERE started_at >= ? AND started_at < ?"  # noqa: S608
            " ORDER BY started_at", (source.bound(scope.start), source.bound(scope.end))).fetchall()
    stamps = {i for i, name in enumerate(CALL_COLUMNS) if name.endswith("_at")}
    picked = (row for row in rows if scope.queue in (None, row[5]) and scope.operator in (None, row[6])
              and scope.trunk in (None, row[4]))
    return _table(CALL_COLUMNS, ([_local(v, tz) if i in stamps else v for i, v in enumerate(row)]
                                 for row in picked))


def _local(stamp: str | None, tz: ZoneInfo) -> str:
    if not stamp:
        return ""
    return datetime.fromisoformat(stamp).astimezone(tz).isoformat(sep=" ", timespec="seconds")
