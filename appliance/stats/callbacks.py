"""Callbacks of missed calls: how many, how fast the first attempt came, how many reached the caller."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from appliance.stats.events import CALLBACK_REACHED, CALLBACKATTEMPT, CALLBACKREQ
from appliance.stats.source import Event


@dataclasses.dataclass(frozen=True)
class CallbackMetrics:
    """Callback tasks created in a period and what became of them."""

    requested: int
    attempted: int  # tasks with at least one attempt
    reached: int  # tasks where an attempt reached the caller
    attempts: int
    success_rate: float | None  # reached / requested
    time_to_callback_s: float | None  # mean, task to first attempt
    longest_to_callback_s: float | None


def callback_metrics(events: Iterable[Event], start: float, end: float) -> CallbackMetrics:
    """Tasks requested within [start, end), followed through their later attempts."""
    requested: dict[str, float] = {}
    first: dict[str, float] = {}
    reached: set[str] = set()
    attempts = 0
    for ev in events:
        if ev.event == CALLBACKREQ and start <= ev.t < end:
            requested.setdefault(ev.call_id, ev.t)
        elif ev.event == CALLBACKATTEMPT and ev.call_id in requested:
            attempts += 1
            first.setdefault(ev.call_id, ev.t)
            if ev.data[0] == CALLBACK_REACHED:
                reached.add(ev.call_id)
    delays = [first[call] - requested[call] for call in first]
    return CallbackMetrics(
        len(requested), len(first), len(reached), attempts,
        len(reached) / len(requested) if requested else None,
        sum(delays) / len(delays) if delays else None, max(delays) if delays else None)
