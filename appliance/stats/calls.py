"""Callers' visits to queues, rebuilt from the event log, and the queue metrics over them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from appliance.stats.events import END_OF_TALK, END_OF_WAIT, ENTERQUEUE, OUTCOME, TRANSFER
from appliance.stats.source import Event


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The targets the metrics are measured against."""

    service_level_s: int = 20  # the 80/20 norm: answered within 20 s
    short_abandon_s: int = 5  # hang-ups this quick are counted apart (wrong number, changed mind)


@dataclasses.dataclass(slots=True)
class Visit:
    """One caller's stay in one queue, from ENTERQUEUE to its outcome and end of talk."""

    call_id: str
    queue: str
    entered: float
    outcome: str = "waiting"  # answered | abandoned | timeout | empty | key | waiting
    wait_s: float | None = None
    agent: str = ""
    connected: float | None = None
    talk_s: float | None = None
    wrap_s: float = 0.0
    transferred: bool = False
    trunk: str = ""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _advance(visit: Visit, ev: Event) -> None:
    """Apply an outcome or end-of-talk event to its visit."""
    if ev.event in END_OF_WAIT and visit.outcome == "waiting":
        visit.outcome = OUTCOME[ev.event]
        visit.wait_s = _number(ev.data[END_OF_WAIT[ev.event]])
        if visit.outcome == "answered":
            visit.agent, visit.connected = ev.agent, ev.t
    elif ev.event in END_OF_TALK and visit.outcome == "answered":
        # Talk segments add up: a caller sent back to the queue (SEATLOST) stays one answered call.
        visit.talk_s = (visit.talk_s or 0.0) + _number(ev.data[END_OF_TALK[ev.event]])
        visit.transferred = ev.event == TRANSFER


def visits(events: Iterable[Event], start: float, end: float) -> list[Visit]:
    """The visits that entered a queue within [start, end), with what became of them."""
    found: list[Visit] = []
    latest: dict[tuple[str, str], Visit] = {}
    for ev in events:
        key = (ev.call_id, ev.queue)
        if ev.event == ENTERQUEUE:
            if start <= ev.t < end:
                latest[key] = visit = Visit(ev.call_id, ev.queue, ev.t)
                found.append(visit)
            else:
                latest.pop(key, None)
            continue
        current = latest.get(key)
        if current is not None:
            _advance(current, ev)
    return found


@dataclasses.dataclass(frozen=True)
class CallMetrics:
    """What happened to the calls offered to a queue (or any set of visits)."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int  # left by max wait, empty queue or a key
    waiting: int  # no outcome yet
    answered_in_sl: int
    abandoned_in_sl: int
    handled: int  # answered visits whose talk has ended
    hold_s: float  # summed waits of answered visits
    talk_s: float
    wrap_s: float
    longest_wait_s: float
    sl: float | None  # answered within T / answered
    sl2: float | None  # (answered + abandoned within T) / (answered + abandoned)
    asa_s: float | None
    aht_s: float | None  # (talk + wrap-up) / handled
    abandon_rate: float | None
    abandon_rate_excl_short: float | None


#: The additive fields: sums over parts of a period give the whole (the ratios are derived).
SUMMED = ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "waiting", "answered_in_sl",
          "abandoned_in_sl", "handled", "hold_s", "talk_s", "wrap_s")


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _finish(raw: dict[str, Any], longest: float) -> CallMetrics:
    return CallMetrics(
        **raw, longest_wait_s=longest,
        sl=_ratio(raw["answered_in_sl"], raw["answered"]),
        sl2=_ratio(raw["answered_in_sl"] + raw["abandoned_in_sl"], raw["answered"] + raw["abandoned"]),
        asa_s=_ratio(raw["hold_s"], raw["answered"]),
        aht_s=_ratio(raw["talk_s"] + raw["wrap_s"], raw["handled"]),
        abandon_rate=_ratio(raw["abandoned"], raw["offered"]),
        abandon_rate_excl_short=_ratio(raw["abandoned"] - raw["short_abandoned"],
                                       raw["offered"] - raw["short_abandoned"]))


def call_metrics(items: Iterable[Visit], th: Thresholds) -> CallMetrics:
    """The queue metrics of a set of visits (definitions in the README)."""
    raw: dict[str, Any] = dict.fromkeys(SUMMED, 0)
    longest = 0.0
    for v in items:
        raw["offered"] += 1
        wait = v.wait_s or 0.0
        longest = max(longest, wait)
        if v.outcome == "answered":
            raw["answered"] += 1
            raw["hold_s"] += wait
            raw["answered_in_sl"] += wait <= th.service_level_s
            if v.talk_s is not None:
                raw["handled"] += 1
                raw["talk_s"] += v.talk_s
                raw["wrap_s"] += v.wrap_s
        elif v.outcome == "abandoned":
            raw["abandoned"] += 1
            raw["short_abandoned"] += wait <= th.short_abandon_s
            raw["abandoned_in_sl"] += wait <= th.service_level_s
        elif v.outcome == "waiting":
            raw["waiting"] += 1
        else:
            raw["timed_out"] += 1
    return _finish(raw, longest)


def combine_calls(parts: Iterable[CallMetrics]) -> CallMetrics:
    """The metrics of a period from those of its parts."""
    parts = list(parts)
    raw = {name: sum(getattr(p, name) for p in parts) for name in SUMMED}
    return _finish(raw, max((p.longest_wait_s for p in parts), default=0.0))
