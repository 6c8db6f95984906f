"""The failover/failback policy and probe-target parsing, without a network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.errors import ConfigError
from appliance.incidents import Health, HealthTracker
from appliance.uplinks.config import ProbeTarget, parse_targets
from appliance.uplinks.policy import UplinkView, decide

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def views(primary: Health, backup: Health, primary_for_s: float = 0.0, backup_for_s: float = 0.0) -> list[UplinkView]:
    """A primary (priority 1) and a backup (priority 2) in the given states."""
    return [UplinkView("wan1", 1, primary, NOW - timedelta(seconds=primary_for_s)),
            UplinkView("wan2", 2, backup, NOW - timedelta(seconds=backup_for_s))]


def test_initial_choice_is_the_best_healthy_uplink() -> None:
    """At start the primary is chosen when up, the backup when only it is up, nothing when none is."""
    assert decide(None, views(Health.UP, Health.UP), NOW, 60).target == "wan1"  # type: ignore[union-attr]
    assert decide(None, views(Health.DEGRADED, Health.UP), NOW, 60).target == "wan2"  # type: ignore[union-attr]
    assert decide(None, views(Health.DOWN, Health.DOWN), NOW, 60) is None


def test_failover_only_when_the_active_uplink_is_down() -> None:
    """Degraded is not down: one lost probe never moves the route."""
    assert decide("wan1", views(Health.DEGRADED, Health.UP), NOW, 60) is None
    decision = decide("wan1", views(Health.DOWN, Health.UP), NOW, 60)
    assert decision is not None and (decision.target, decision.kind) == ("wan2", "failover")


def test_no_failover_to_a_backup_that_is_not_up() -> None:
    """A dead or unproven backup is no better than the dead primary."""
    assert decide("wan1", views(Health.DOWN, Health.DOWN), NOW, 60) is None
    assert decide("wan1", views(Health.DOWN, Health.DEGRADED), NOW, 60) is None


def test_failback_waits_for_the_hold_time() -> None:
    """The primary must have been up, uninterrupted, for the hold time."""
    assert decide("wan2", views(Health.UP, Health.UP, primary_for_s=59), NOW, 60) is None
    decision = decide("wan2", views(Health.UP, Health.UP, primary_for_s=61), NOW, 60)
    assert decision is not None and (decision.target, decision.kind) == ("wan1", "failback")


def test_failback_can_wait_for_calls_to_end() -> None:
    """With "stay on backup until calls end", a stable primary waits while calls are up."""
    state = views(Health.UP, Health.UP, primary_for_s=600)
    assert decide("wan2", state, NOW, 60, calls=2, wait_for_calls=True) is None
    assert decide("wan2", state, NOW, 60, calls=2, wait_for_calls=False) is not None
    assert decide("wan2", state, NOW, 60, calls=0, wait_for_calls=True) is not None


def test_a_flapping_primary_never_looks_stable() -> None:
    """Every lost probe resets the tracker's `since`: a burst of flaps keeps the route on the backup."""
    tracker = HealthTracker("uplink", "wan1", down_after=3, up_after=6)
    for ok in [True] * 6 + [False] + [True] * 6:
        tracker.observe(ok)
    assert tracker.state is Health.UP
    since = tracker.since
    tracker.observe(False)
    tracker.observe(True)
    assert tracker.since > since


@pytest.mark.parametrize(("text", "expected"), [
    ("icmp:198.51.100.10", ProbeTarget("icmp", "198.51.100.10")),
    ("198.51.100.10", ProbeTarget("icmp", "198.51.100.10")),
    ("tcp:198.51.100.10:5060", ProbeTarget("tcp", "198.51.100.10", 5060)),
])
def test_probe_targets_parse(text: str, expected: ProbeTarget) -> None:
    """The target forms an admin may write."""
    assert ProbeTarget.parse(text) == expected


@pytest.mark.parametrize("text", ["http:198.51.100.10", "tcp:198.51.100.10", "icmp:carrier.example", ""])
def test_bad_probe_targets_are_refused(text: str) -> None:
    """Unknown kinds, missing ports, names instead of addresses and an empty list are errors."""
    with pytest.raises(ConfigError):
        parse_targets(text)
