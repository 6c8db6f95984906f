"""Every chart renders as valid SVG with one mark per value; CSV exports carry the same numbers."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

from appliance.stats import Scope, build, charts, export
from appliance.stats.report import Report
from appliance.stats.svg import nice_max
from appliance.storage import Database
from tests.stats.office import at

SVG = "{http://www.w3.org/2000/svg}"


def marks(svg: str, tag: str, cls: str) -> list[ET.Element]:
    """Parse the SVG (fails on invalid XML) and return the elements of a class."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    return [el for el in root.iter(f"{SVG}{tag}") if el.get("class") == cls]


def week(db: Database) -> Report:
    """Monday to Wednesday in Moscow (T0 is Monday 12:00 there)."""
    midnight = -12 * 3600
    return build(db.path, Scope(at(midnight), at(midnight + 3 * 86_400)), ZoneInfo("Europe/Moscow"),
                 now=at(10**6).timestamp())


async def test_every_chart_is_valid_svg_with_its_marks(office: Database) -> None:
    rep = week(office)
    cells = marks(charts.heatmap_chart(rep), "rect", "cell")
    assert len(cells) == 7 * 24
    assert "Mon 12:00: 8 calls" in [c.findtext(f"{SVG}title") for c in cells]
    # sales: answered 4, abandoned 2, timed out 1; support: answered 1 -> four segments.
    assert len(marks(charts.queue_chart(rep), "rect", "bar")) == 4
    # anna answered 3; boris answered 2 and missed 1; carol nothing -> three segments.
    assert len(marks(charts.operator_chart(rep), "rect", "bar")) == 3
    # carrier-a: 4 in; carrier-b: 4 in, 1 out.
    assert len(marks(charts.carrier_chart(rep), "rect", "bar")) == 3
    # Three days, three series (offered, answered, abandoned): a dot per value, zeros included.
    assert len(marks(charts.trend_chart(rep), "circle", "point")) == 3 * 3
    # Service level exists only on the day with answered calls.
    assert len(marks(charts.service_level_chart(rep), "circle", "point")) == 1
    assert len(marks(charts.occupancy_chart(rep), "rect", "bar")) == 2  # carol's 0 % draws no bar


async def test_labels_are_escaped(office: Database) -> None:
    rep = week(office)
    rep.carriers["<b>&co"] = rep.carriers.pop("carrier-a")
    svg = charts.carrier_chart(rep)
    assert "&lt;b&gt;&amp;co" in svg
    ET.fromstring(svg)


def test_axis_maximum_is_round() -> None:
    assert [nice_max(v) for v in (0, 7, 10, 11, 230, 0.3)] == [1, 10, 10, 20, 250, 0.5]


async def test_csv_exports(office: Database) -> None:
    rep = build(office.path, Scope(at(0), at(1000)), ZoneInfo("UTC"), now=at(5000).timestamp())
    queues = list(csv.DictReader(io.StringIO(export.queues_csv(rep))))
    assert [q["queue"] for q in queues] == ["sales", "support", "(all)"]
    assert (queues[0]["offered"], queues[0]["sl_pct"], queues[0]["asa_s"]) == ("7", "75.0", "17.5")
    operators = {o["operator"]: o for o in csv.DictReader(io.StringIO(export.operators_csv(rep)))}
    assert (operators["anna"]["occupancy_pct"], operators["boris"]["missed_offers"]) == ("30.0", "1")
    heat = list(csv.reader(io.StringIO(export.heatmap_csv(rep))))
    assert heat[1][0] == "Mon" and heat[1][1 + 9] == "8"  # 09:00 UTC
    days = list(csv.DictReader(io.StringIO(export.daily_csv(rep))))
    assert [(d["day"], d["answered"]) for d in days] == [("2025-03-03", "5")]
    calls = list(csv.DictReader(io.StringIO(export.calls_csv(office.path, Scope(at(0), at(1000), trunk="carrier-a"),
                                                                  ZoneInfo("Europe/Moscow")))))
    assert [c["id"] for c in calls] == ["A", "B", "C", "D"]
    assert calls[0]["started_at"] == "2025-03-03 12:00:00+03:00"
