"""Which uplink should carry traffic now: failover at once, failback only after a stable hold time.

Pure logic over the uplinks' health, so every rule is tested without a network. A flap (even a
single lost probe) resets an uplink's `since`, so a link in a burst of flaps never looks stable
and the route never follows it back and forth.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from appliance.incidents import Health


@dataclasses.dataclass(frozen=True)
class UplinkView:
    """What the policy needs to know of one uplink."""

    name: str
    priority: int
    state: Health
    since: datetime  # when it entered `state`


@dataclasses.dataclass(frozen=True)
class Decision:
    """Move the traffic to `target`, and why."""

    target: str
    kind: str  # "initial" | "failover" | "failback"
    reason: str


def decide(active: str | None, uplinks: list[UplinkView], now: datetime, hold_s: float,
           calls: int = 0, wait_for_calls: bool = False) -> Decision | None:
    """The switch to make now, or None to stay where we are."""
    ranked = sorted(uplinks, key=lambda u: u.priority)
    healthy = [u for u in ranked if u.state is Health.UP]
    current = next((u for u in ranked if u.name == active), None)
    if current is None:
        return Decision(healthy[0].name, "initial", "first healthy uplink") if healthy else None
    if current.state is Health.DOWN:
        backup = next((u for u in healthy if u.name != current.name), None)
        if backup is None:
            return None  # nothing better to go to; stay and keep probing
        return Decision(backup.name, "failover", f"uplink {current.name} is down")
    better = next((u for u in healthy if u.priority < current.priority), None)
    if better is None:
        return None
    stable = (now - better.since).total_seconds()
    if stable < hold_s:
        return None
    if wait_for_calls and calls > 0:
        return None
    return Decision(better.name, "failback", f"uplink {better.name} stable for {stable:.0f} s")
