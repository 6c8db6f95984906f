"""Operators' time: on calls, in wrap-up, paused, signed in; occupancy and missed offers."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from appliance.stats.calls import Thresholds, Visit, call_metrics
from appliance.stats.events import (
    CONNECT,
    END_OF_TALK,
    LOGINS,
    LOOKAHEAD_S,
    PAUSES,
    RINGNOANSWER,
    WRAPUP,
)
from appliance.stats.intervals import Span, clip, subtract, subtract_each, total, union
from appliance.stats.source import Event


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


@dataclasses.dataclass
class Timeline:
    """One operator's spans, built from their events."""

    talk: list[Span] = dataclasses.field(default_factory=list)
    wrap: list[tuple[Span, str]] = dataclasses.field(default_factory=list)  # span, call id
    pauses: list[tuple[Span, str]] = dataclasses.field(default_factory=list)  # span, reason
    signed_in: list[Span] = dataclasses.field(default_factory=list)
    missed: int = 0
    pieces: list[tuple[Span, str]] | None = None  # wrap-up without overlaps, once computed


class _Switch:
    """An on/off state (paused, signed in) turned into spans."""

    def __init__(self, on: bool, since: float, note: str = "") -> None:
        self.on, self.since, self.note = on, since, note
        self.spans: list[tuple[Span, str]] = []

    def turn(self, on: bool, t: float, note: str = "") -> None:
        if on and not self.on:
            self.on, self.since, self.note = True, t, note
        elif not on and self.on:
            self.spans.append(((self.since, t), self.note))
            self.on = False

    def close(self, t: float) -> list[tuple[Span, str]]:
        return self.spans + ([((self.since, t), self.note)] if self.on else [])


def _initial(agent: str, family: dict[str, bool], events: list[Event], before: dict[tuple[str, str], Event],
             name: str, default: bool) -> tuple[bool, str]:
    """The state at the period's start: the last event before it, else the opposite of the first in it."""
    last = before.get((agent, name))
    if last is not None:
        return family[last.event], last.data[0]
    first = next((e for e in events if e.event in family), None)
    return (not family[first.event], "") if first is not None else (default, "")


def timelines(events: list[Event], before: dict[tuple[str, str], Event], start: float, end: float,
              horizon: float, names: Iterable[str] = ()) -> dict[str, Timeline]:
    """Every operator's spans (`names` too, events or not); open spans end at `horizon` (now, or the end read)."""
    by_agent: dict[str, list[Event]] = {name: [] for name in names}
    for ev in events:
        if ev.agent:
            by_agent.setdefault(ev.agent, []).append(ev)
    for agent, _family in before:
        by_agent.setdefault(agent, [])
    return {agent: _timeline(agent, evs, before, start, end, horizon) for agent, evs in by_agent.items()}


def _timeline(agent: str, events: list[Event], before: dict[tuple[str, str], Event], start: float,
              end: float, horizon: float) -> Timeline:
    line = Timeline()
    was_paused, reason = _initial(agent, PAUSES, events, before, "pause", False)
    paused = _Switch(was_paused, start, reason)
    signed = _Switch(_initial(agent, LOGINS, events, before, "login", True)[0], since=start)
    talking: dict[str, float] = {}
    for ev in events:
        if ev.event == CONNECT:
            talking[ev.call_id] = ev.t
        elif ev.event in END_OF_TALK:
            talk = _number(ev.data[END_OF_TALK[ev.event]])
            line.talk.append((talking.pop(ev.call_id, ev.t - talk), ev.t))
        elif ev.event == WRAPUP:
            line.wrap.append(((ev.t - _number(ev.data[0]), ev.t), ev.call_id))
        elif ev.event in PAUSES:
            paused.turn(PAUSES[ev.event], ev.t, ev.data[0])
        elif ev.event in LOGINS:
            signed.turn(LOGINS[ev.event], ev.t)
        elif ev.event == RINGNOANSWER and start <= ev.t < end:
            line.missed += 1
    # A call still connected counts until the horizon, unless it is too old to be live (a crash).
    line.talk += [(t, horizon) for t in talking.values() if horizon - t <= LOOKAHEAD_S]
    line.pauses = paused.close(horizon)
    line.signed_in = [span for span, _ in signed.close(horizon)]
    return line


@dataclasses.dataclass(frozen=True)
class OperatorMetrics:
    """One operator over a period."""

    answered: int  # calls that entered the period and were answered by this operator
    handled: int
    missed_offers: int  # RINGNOANSWER: rung and not answered (timeout, busy, declined)
    talk_s: float  # time on calls within the period
    wrap_s: float  # wrap-up within the period, not overlapping a call
    pause_s: float
    signed_in_s: float
    idle_s: float  # signed in, not on a call, not in wrap-up, not paused
    handled_s: float  # talk and wrap-up of the calls handled (for AHT)
    occupancy: float | None  # (talk + wrap-up) / (talk + wrap-up + idle)
    aht_s: float | None
    pause_reasons: dict[str, float]


def _finish(raw: dict[str, Any], reasons: dict[str, float]) -> OperatorMetrics:
    busy = raw["talk_s"] + raw["wrap_s"]  # disjoint: wrap-up pieces exclude calls
    return OperatorMetrics(**raw, occupancy=busy / (busy + raw["idle_s"]) if busy + raw["idle_s"] else None,
                           aht_s=raw["handled_s"] / raw["handled"] if raw["handled"] else None,
                           pause_reasons=reasons)


SUMMED = ("answered", "handled", "missed_offers", "talk_s", "wrap_s", "pause_s", "signed_in_s", "idle_s",
          "handled_s")


def combine_operators(parts: Iterable[OperatorMetrics]) -> OperatorMetrics:
    """One operator's metrics over a period from those of its parts."""
    parts = list(parts)
    reasons: dict[str, float] = defaultdict(float)
    for part in parts:
        for reason, seconds in part.pause_reasons.items():
            reasons[reason] += seconds
    return _finish({name: sum(getattr(p, name) for p in parts) for name in SUMMED}, dict(reasons))


def wrap_pieces(line: Timeline) -> list[tuple[Span, str]]:
    """Wrap-up spans with any overlap with a call removed (a call taken during wrap-up ends it)."""
    if line.pieces is None:
        parts = subtract_each([span for span, _ in line.wrap], union(line.talk))
        line.pieces = [(piece, call) for (_, call), found in zip(line.wrap, parts, strict=True) for piece in found]
    return line.pieces


def operator_metrics(line: Timeline, own: Iterable[Visit], th: Thresholds, start: float,
                     end: float) -> OperatorMetrics:
    """The metrics of one operator from their timeline and the visits they answered."""
    calls = call_metrics(own, th)
    talk = clip(union(line.talk), start, end)
    wrap = clip(union(span for span, _ in wrap_pieces(line)), start, end)
    busy = union(talk + wrap)
    pauses = clip(union(span for span, _ in line.pauses), start, end)
    signed = clip(union(line.signed_in), start, end)
    idle = subtract(subtract(signed, busy), pauses)
    reasons: dict[str, float] = defaultdict(float)
    for span, reason in line.pauses:
        reasons[reason or "-"] += total(clip([span], start, end))
    raw = {"answered": calls.answered, "handled": calls.handled, "missed_offers": line.missed,
           "talk_s": total(talk), "wrap_s": total(wrap), "pause_s": total(pauses), "signed_in_s": total(signed),
           "idle_s": total(idle), "handled_s": calls.talk_s + calls.wrap_s}
    return _finish(raw, dict(reasons))
