"""Metrics of the office day (tests/stats/office.py) against values computed by hand."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from appliance.stats import Report, Scope, Thresholds, build
from appliance.storage import Database
from tests.stats.office import at

UTC_ZONE = ZoneInfo("UTC")
NOW = at(5000).timestamp()


def day(db: Database, **scope: str) -> Report:
    """The report over [T0, T0 + 1000 s), SL 20 s, short abandon 5 s."""
    return build(db.path, Scope(at(0), at(1000), **scope), UTC_ZONE, Thresholds(20, 5), now=NOW)


async def test_queue_metrics_by_hand(office: Database) -> None:
    rep = day(office)
    sales = rep.queues["sales"]
    # Offered A..G; answered A, B, F, G; abandoned C (3 s, short) and D (40 s); E timed out.
    assert (sales.offered, sales.answered, sales.abandoned, sales.short_abandoned, sales.timed_out) == (7, 4, 2, 1, 1)
    # Within 20 s: A 10, F 10, G 20 (the limit counts); B 30 does not. Abandoned within: C 3.
    assert (sales.answered_in_sl, sales.abandoned_in_sl) == (3, 1)
    assert sales.sl == pytest.approx(3 / 4)
    assert sales.sl2 == pytest.approx((3 + 1) / (4 + 2))
    assert sales.asa_s == pytest.approx((10 + 30 + 10 + 20) / 4)
    # Talk A 120, B 60, F 100 (TRANSFER), G 60; wrap-up A 20 (30 cut by F at 150), B 15.
    assert (sales.talk_s, sales.wrap_s, sales.handled) == (340, 35, 4)
    assert sales.aht_s == pytest.approx((340 + 35) / 4)
    assert sales.longest_wait_s == 100
    assert sales.abandon_rate == pytest.approx(2 / 7)
    assert sales.abandon_rate_excl_short == pytest.approx(1 / 6)


async def test_totals_span_both_queues(office: Database) -> None:
    rep = day(office)
    total, support = rep.total, rep.queues["support"]
    assert (support.offered, support.answered, support.sl) == (1, 1, 1.0)
    assert (total.offered, total.answered, total.abandoned) == (8, 5, 2)
    assert total.sl == pytest.approx(4 / 5)
    assert total.sl2 == pytest.approx(5 / 7)
    assert total.asa_s == pytest.approx(75 / 5)
    assert total.aht_s == pytest.approx((400 + 35) / 5)


async def test_operator_time_and_occupancy(office: Database) -> None:
    ops = day(office).operators
    anna, boris, carol = ops["anna"], ops["boris"], ops["carol"]
    # anna talks 10-130 (A), 150-250 (F), 705-765 (H); wrap-up of A only 130-150.
    assert (anna.answered, anna.handled, anna.missed_offers) == (3, 3, 0)
    assert (anna.talk_s, anna.wrap_s, anna.pause_s, anna.signed_in_s) == (280, 20, 0, 1000)
    assert anna.idle_s == 700
    assert anna.occupancy == pytest.approx(300 / 1000)
    assert anna.aht_s == pytest.approx((120 + 20 + 100 + 60) / 3)
    # boris talks 50-110 (B), 420-480 (G); wrap-up 110-125; lunch 500-800; one missed offer.
    assert (boris.answered, boris.missed_offers) == (2, 1)
    assert (boris.talk_s, boris.wrap_s, boris.pause_s) == (120, 15, 300)
    assert boris.idle_s == 1000 - 135 - 300
    assert boris.occupancy == pytest.approx(135 / 700)
    assert boris.aht_s == pytest.approx((60 + 15 + 60) / 2)
    assert boris.pause_reasons == {"lunch": 300}
    # carol never took a call: in the report, idle all day.
    assert (carol.answered, carol.talk_s, carol.idle_s, carol.occupancy) == (0, 0, 1000, 0.0)


async def test_carriers_failover_and_downtime(office: Database) -> None:
    rep = day(office)
    a, b = rep.carriers["carrier-a"], rep.carriers["carrier-b"]
    assert (a.calls_in, a.calls_out, a.connected, a.talk_s) == (4, 0, 2, 180)
    assert (b.calls_in, b.calls_out, b.connected, b.talk_s) == (4, 1, 4, 250)
    assert (a.failovers_from, a.failovers_to, b.failovers_from, b.failovers_to) == (1, 0, 0, 1)
    assert (a.down_s, a.incidents, b.down_s) == (300, 1, 0)
    uplinks = rep.uplinks
    # wan1 was down from T0-100 to T0+50: 50 s inside, started before; lte down since 900, still open.
    assert (uplinks["wan1"].down_s, uplinks["wan1"].incidents) == (50, 0)
    assert (uplinks["lte"].down_s, uplinks["lte"].incidents) == (100, 1)


async def test_callbacks(office: Database) -> None:
    cb = day(office).callbacks
    assert (cb.requested, cb.attempted, cb.reached, cb.attempts) == (3, 2, 2, 3)
    assert cb.success_rate == pytest.approx(2 / 3)
    assert cb.time_to_callback_s == pytest.approx(((170 - 50) + (1200 - 110)) / 2)
    assert cb.longest_to_callback_s == 1090


async def test_scopes_narrow_the_calls(office: Database) -> None:
    by_trunk = day(office, trunk="carrier-a")
    assert (by_trunk.total.offered, by_trunk.total.answered, by_trunk.total.abandoned) == (4, 2, 2)
    assert list(by_trunk.carriers) == ["carrier-a"]
    by_operator = day(office, operator="boris")
    assert (by_operator.total.answered, by_operator.total.asa_s) == (2, 25)
    assert list(by_operator.operators) == ["boris"]
    by_queue = day(office, queue="support")
    assert by_queue.total.offered == 1


async def test_heatmap_and_days_in_office_time(office: Database) -> None:
    rep = build(office.path, Scope(at(0), at(1000)), ZoneInfo("Europe/Moscow"), now=NOW)
    # T0 is Monday 09:00 UTC = 12:00 in Moscow: all eight calls in that one cell.
    assert rep.heatmap[0][12] == 8
    assert sum(map(sum, rep.heatmap)) == 8
    assert [(d.isoformat(), m.offered) for d, m in rep.daily] == [("2025-03-03", 8)]
