"""Ring strategies: which of the free members of a queue to ring for the next caller."""

from __future__ import annotations

from collections.abc import Callable

from appliance.acd.model import Operator

Strategy = Callable[[list[Operator], list[int], dict[str, int]], list[Operator]]


def ringall(free: list[Operator], members: list[int], memory: dict[str, int]) -> list[Operator]:
    """Ring every free member at once; the first to answer takes the call."""
    return list(free)


def rrmemory(free: list[Operator], members: list[int], memory: dict[str, int]) -> list[Operator]:
    """Round robin with memory: the free member after the one rung last, in member order."""
    if not free:
        return []
    last = memory.get("last", -1)
    order = {operator_id: index for index, operator_id in enumerate(members)}
    ranked = sorted(free, key=lambda op: (order.get(op.id, 0) - last - 1) % max(len(members), 1))
    chosen = ranked[0]
    memory["last"] = order.get(chosen.id, 0)
    return [chosen]


STRATEGIES: dict[str, Strategy] = {"ringall": ringall, "rrmemory": rrmemory}


def strategy(name: str) -> Strategy:
    """The strategy of this name; unknown names fall back to ringall (validated at save time)."""
    return STRATEGIES.get(name, ringall)
