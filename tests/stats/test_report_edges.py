"""Edge cases of the metrics: period edges, states carried over, sign-in, transfers, broken logs."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.stats import Scope, as_dict, build
from appliance.stats import report as report_module
from appliance.stats.intervals import clip, subtract, subtract_each, total, union
from appliance.storage import Database, Operator
from tests.stats.office import at, write_log

UTC_ZONE = ZoneInfo("UTC")
NOW = at(100_000).timestamp()


def test_interval_arithmetic() -> None:
    spans = union([(5, 10), (0, 3), (2, 4), (10, 12), (20, 20)])
    assert spans == [(0, 4), (5, 12)]
    assert subtract(spans, [(1, 2), (3, 6), (11, 30)]) == [(0, 1), (2, 3), (6, 11)]
    assert clip(spans, 3, 6) == [(3, 4), (5, 6)]
    assert total(spans) == 11


async def test_period_edges_clip_time_but_keep_calls_whole(office: Database) -> None:
    rep = build(office.path, Scope(at(100), at(1000)), UTC_ZONE, now=NOW)
    # Calls that entered from 100 s on: E, F, G, H. A entered before and is not offered here...
    assert rep.total.offered == 4
    # ...but anna's time on it inside the period (100-130) is hers: 30 + F 100 + H 60.
    assert rep.operators["anna"].talk_s == 190
    # boris' pause carried over from before the period: lunch 500-800, period from 600.
    late = build(office.path, Scope(at(600), at(1000)), UTC_ZONE, now=NOW)
    assert late.operators["boris"].pause_s == 200
    assert late.operators["boris"].pause_reasons == {"lunch": 200}


async def test_abandon_during_ringing_is_no_missed_offer(db: Database) -> None:
    await write_log([
        (0, "X", "q", "", "ENTERQUEUE", ("", "1", 1)),
        # the operator's phone rang from 1 s; the caller hung up at 6 s: the ring was cancelled.
        (6, "X", "q", "", "ABANDON", (1, 1, 6)),
    ])
    await Operator.create(name="anna", extension="101")
    rep = build(db.path, Scope(at(0), at(60)), UTC_ZONE, now=NOW)
    assert (rep.total.abandoned, rep.total.short_abandoned, rep.total.abandoned_in_sl) == (1, 0, 1)
    assert rep.operators["anna"].missed_offers == 0


async def test_transfer_into_another_queue_counts_in_each(db: Database) -> None:
    await write_log([
        (0, "X", "first", "", "ENTERQUEUE", ("", "1", 1)),
        (4, "X", "first", "anna", "CONNECT", (4, "l1", 1000, 1)),
        (64, "X", "first", "anna", "TRANSFER", ("second", "", 4, 60, 1)),
        (64, "X", "second", "", "ENTERQUEUE", ("", "1", 1)),
        (94, "X", "second", "boris", "CONNECT", (30, "l2", 2000, 1)),
        (154, "X", "second", "boris", "COMPLETECALLER", (30, 60, 1)),
    ])
    rep = build(db.path, Scope(at(0), at(600)), UTC_ZONE, now=NOW)
    first, second = rep.queues["first"], rep.queues["second"]
    assert (first.answered, first.talk_s, first.sl) == (1, 60, 1.0)
    assert (second.answered, second.asa_s, second.sl) == (1, 30, 0.0)
    assert (rep.operators["anna"].talk_s, rep.operators["boris"].talk_s) == (60, 60)


async def test_sign_in_and_pause_from_events(db: Database) -> None:
    await write_log([
        (100, "NONE", "NONE", "carol", "AGENTLOGIN", ()),
        (150, "NONE", "NONE", "carol", "PAUSE", ("training",)),
        (250, "NONE", "NONE", "carol", "UNPAUSE", ()),
        (300, "X", "q", "", "ENTERQUEUE", ("", "1", 1)),
        (302, "X", "q", "carol", "CONNECT", (2, "l", 1000, 1)),
        (362, "X", "q", "carol", "COMPLETEAGENT", (2, 60, 1)),
        (400, "NONE", "NONE", "carol", "AGENTLOGOFF", ()),
        # dave's first event is an UNPAUSE: he was paused from the period's start.
        (50, "NONE", "NONE", "dave", "UNPAUSE", ()),
    ])
    rep = build(db.path, Scope(at(0), at(1000)), UTC_ZONE, now=NOW)
    carol = rep.operators["carol"]
    # signed in 100-400 (300 s): 60 s on a call, 100 s paused, 140 s idle.
    assert (carol.signed_in_s, carol.pause_s, carol.talk_s, carol.idle_s) == (300, 100, 60, 140)
    assert carol.occupancy == pytest.approx(60 / 200)
    assert rep.operators["dave"].pause_s == 50


async def test_call_left_open_by_a_crash_is_not_talk_forever(db: Database) -> None:
    await write_log([
        (0, "X", "q", "", "ENTERQUEUE", ("", "1", 1)),
        (5, "X", "q", "anna", "CONNECT", (5, "l", 1000, 1)),
    ])
    # Read a day later: no COMPLETE ever came (the box lost power); the call is not counted as talk.
    rep = build(db.path, Scope(at(0), at(3600)), UTC_ZONE, now=at(86_400).timestamp())
    assert rep.operators["anna"].talk_s == 0
    assert (rep.total.answered, rep.total.handled) == (1, 0)
    # Read while it is still going on (now = 65 s): 60 s of talk so far.
    live = build(db.path, Scope(at(0), at(3600)), UTC_ZONE, now=at(65).timestamp())
    assert live.operators["anna"].talk_s == 60


def test_subtract_each_matches_one_by_one() -> None:
    holes = union([(0, 10), (20, 30), (40, 50)])
    spans = [(45, 60), (5, 25), (12, 18), (28, 42), (5, 6)]
    assert subtract_each(spans, holes) == [subtract([s], holes) for s in spans]
    assert subtract_each(spans, holes) == [[(50, 60)], [(10, 20)], [(12, 18)], [(30, 40)], []]


async def test_long_periods_are_merged_from_months_exactly(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # Around the night of 28 Feb -> 1 Mar 2025 (UTC): a call, a pause and wrap-up across midnight,
    # a callback attempt two days later. Times are seconds from T0 = 3 Mar 09:00 UTC.
    midnight = (datetime(2025, 3, 1, tzinfo=UTC) - at(0)).total_seconds()
    await Operator.create(name="anna", extension="101")
    await write_log([(midnight + t, *rest) for t, *rest in [  # type: ignore[misc]
        (-50, "X", "q", "", "ENTERQUEUE", ("", "1", 1)),
        (-40, "X", "q", "anna", "CONNECT", (10, "l", 1000, 1)),
        (80, "X", "q", "anna", "COMPLETECALLER", (10, 120, 1)),
        (110, "X", "q", "anna", "WRAPUP", (30,)),
        (-300, "NONE", "NONE", "anna", "PAUSE", ("break",)),
        (-100, "NONE", "NONE", "anna", "UNPAUSE", ()),
        (-20, "Y", "q", "", "ENTERQUEUE", ("", "2", 2)),
        (30, "Y", "q", "", "ABANDON", (1, 2, 50)),
        (30, "Y", "NONE", "", "CALLBACKREQ", ("2", "abandon")),
        (2 * 86400, "Y", "NONE", "anna", "CALLBACKATTEMPT", ("reached",)),
        (3600, "Z", "q", "", "ENTERQUEUE", ("", "3", 1)),
        (3605, "Z", "q", "anna", "CONNECT", (5, "l", 1000, 1)),
        (3665, "Z", "q", "anna", "COMPLETEAGENT", (5, 60, 1)),
    ]])
    scope = Scope(datetime(2025, 2, 20, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC))
    whole = build(db.path, scope, UTC_ZONE, now=NOW)
    monkeypatch.setattr(report_module, "CHUNK_DAYS", 1)  # now cut at 1 March
    assert len(report_module.chunks(scope, UTC_ZONE)) == 2
    merged = build(db.path, scope, UTC_ZONE, now=NOW)
    assert as_dict(merged) == as_dict(whole)
    anna = merged.operators["anna"]
    assert (anna.talk_s, anna.wrap_s, anna.pause_s, anna.handled) == (180, 30, 200, 2)
    assert (merged.total.offered, merged.callbacks.reached, len(merged.daily)) == (3, 1, 18)


async def test_headset_lost_mid_call_is_one_call_with_two_talk_segments(db: Database) -> None:
    await write_log([
        (0, "X", "q", "", "ENTERQUEUE", ("", "1", 1)),
        (5, "X", "q", "anna", "CONNECT", (5, "l1", 1000, 1)),
        (65, "X", "q", "anna", "SEATLOST", (5, 60, "headset unplugged")),
        (75, "X", "q", "boris", "CONNECT", (75, "l2", 3000, 1)),
        (115, "X", "q", "boris", "COMPLETECALLER", (75, 40, 1)),
    ])
    rep = build(db.path, Scope(at(0), at(600)), UTC_ZONE, now=NOW)
    assert (rep.total.offered, rep.total.answered, rep.total.asa_s, rep.total.talk_s) == (1, 1, 5, 100)
    assert (rep.operators["anna"].talk_s, rep.operators["boris"].talk_s) == (60, 40)
    assert (rep.operators["anna"].answered, rep.operators["boris"].answered) == (1, 0)
