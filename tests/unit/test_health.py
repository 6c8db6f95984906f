"""The health state machine: hysteresis both ways."""

from appliance.incidents import Health, HealthTracker


def test_down_after_n_failures_and_up_after_m_successes() -> None:
    t = HealthTracker("uplink", "wan1", down_after=3, up_after=2)
    assert t.observe(True).new is Health.UP  # type: ignore[union-attr]
    assert t.observe(False, "timeout").new is Health.DEGRADED  # type: ignore[union-attr]
    assert t.observe(False, "timeout") is None
    down = t.observe(False, "timeout")
    assert down is not None and (down.old, down.new, down.cause) == (Health.DEGRADED, Health.DOWN, "timeout")
    assert t.observe(True) is None  # one good probe is not enough
    up = t.observe(True)
    assert up is not None and up.new is Health.UP


def test_a_success_resets_the_failure_count() -> None:
    t = HealthTracker("trunk", "b", down_after=2, up_after=1)
    t.observe(True)
    t.observe(False)
    t.observe(True)
    assert t.observe(False) is not None and t.state is Health.DEGRADED
    assert t.observe(False).new is Health.DOWN  # type: ignore[union-attr]


def test_flapping_does_not_come_back_up() -> None:
    t = HealthTracker("uplink", "wan1", down_after=1, up_after=3)
    t.observe(False)
    for _ in range(10):
        t.observe(True)
        t.observe(False)
    assert t.state is Health.DOWN
