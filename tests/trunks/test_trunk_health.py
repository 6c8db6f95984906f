"""Trunk health: probes with hysteresis, registration gating, incidents that say what the box did."""

from __future__ import annotations

from appliance.incidents import Health, HealthTracker
from appliance.sip.abc import RegistrationState
from appliance.trunks.health import TrunkHealth
from tests.trunks.conftest import SOURCES, Box, office, trunk


def health(registers: bool = False, probes: bool = True) -> TrunkHealth:
    return TrunkHealth(HealthTracker("trunk", "b"), 3, 2, registers, probes)


def test_probes_take_a_trunk_down_after_n_and_up_after_m() -> None:
    h = health()
    assert h.observe(True, "200").new is Health.UP  # type: ignore[union-attr]
    assert h.observe(False, "timeout").new is Health.DEGRADED  # type: ignore[union-attr]
    assert h.observe(False, "timeout") is None
    down = h.observe(False, "timeout")
    assert down is not None and (down.old, down.new) == (Health.DEGRADED, Health.DOWN)
    assert h.observe(True, "200") is None and h.state is Health.DOWN  # one good probe is not enough
    assert h.observe(True, "200").new is Health.UP  # type: ignore[union-attr]


def test_a_refused_registration_is_down_at_once_whatever_the_probes_say() -> None:
    h = health(registers=True)
    assert h.registration(True, False, "registered").new is Health.UP  # type: ignore[union-attr]
    refused = h.registration(False, True, "registration refused: 403")
    assert refused is not None and refused.new is Health.DOWN and "403" in refused.cause
    for _ in range(5):
        assert h.observe(True, "OPTIONS 200") is None  # the carrier is there, but will not have us
    assert h.state is Health.DOWN
    assert h.registration(True, False, "registered").new is Health.UP  # type: ignore[union-attr]


def test_an_unprobed_registration_trunk_follows_its_registration() -> None:
    h = health(registers=True, probes=False)
    assert h.state is Health.UNKNOWN
    assert h.registration(True, False, "registered").new is Health.UP  # type: ignore[union-attr]


async def test_silent_carrier_goes_down_with_an_incident_naming_the_takeover(box: Box) -> None:
    await box.start(office(trunk("carrier-a", priority=1), trunk("carrier-b", priority=2)))
    await box.until(lambda: box.status("carrier-b")["state"] == "up")
    box.probes.answers[SOURCES["carrier-b"]] = False
    await box.until(lambda: box.status("carrier-b")["state"] == "down")
    status = box.status("carrier-b")
    assert status["cause"].startswith("unreachable: OPTIONS timeout")
    assert box.status("carrier-a")["state"] == "up"
    incident = (await box.until(box.incidents_of))[0]
    assert incident.subject == "carrier-b" and incident.ended_at is None
    assert "OPTIONS timeout" in incident.cause and "3 failures in a row" in incident.cause
    assert incident.action == "outbound calls moved to carrier-a"
    box.probes.answers[SOURCES["carrier-b"]] = True
    await box.until(lambda: box.status("carrier-b")["state"] == "up")
    closed = await box.until(lambda: _closed(box))
    assert "OPTIONS 200" in closed.action and "use it again" in closed.action


async def _closed(box: Box):  # type: ignore[no-untyped-def]
    rows = await box.incidents_of()
    return rows[0] if rows and rows[0].ended_at is not None else None


async def test_a_non_200_answer_to_options_counts_as_a_failure(box: Box) -> None:
    box.probes.answers[SOURCES["carrier-a"]] = 403
    await box.start(office(trunk("carrier-a")))
    await box.until(lambda: box.status("carrier-a")["state"] == "down")
    assert "only 200 counts" in box.status("carrier-a")["cause"]


async def test_registration_403_is_a_critical_actionable_incident_and_is_retried(box: Box) -> None:
    reg = {"name": "carrier-c", "kind": "registration", "host": SOURCES["carrier-c"], "username": "u",
           "password": "p"}
    await box.start(office(reg))
    assert SOURCES["carrier-c"] not in box.probes.sent  # probing waits for the first REGISTER outcome
    await box.trunks.on_registration(RegistrationState("carrier-c", 403, "Forbidden", False, 0))
    status = box.status("carrier-c")
    assert status["state"] == "down" and status["registered"] is False
    assert "403" in status["last_error"] and "check the username, password and realm" in status["last_error"]
    incidents = await box.until(box.incidents_of)
    assert incidents[0].severity == "critical" and "credentials" in incidents[0].cause
    await box.until(lambda: len(box.engine.registers) >= 1)  # retried without waiting for pjsua's 300 s
    for _ in range(4):
        await box.trunks.on_registration(RegistrationState("carrier-c", 403, "Forbidden", False, 0))
    assert box.trunks.keeper.next_in("carrier-c") <= 0.2  # the backoff is capped short
    assert len(await box.incidents_of()) == 1  # one incident, not one per failure
    await box.trunks.on_registration(RegistrationState("carrier-c", 200, "OK", True, 300))
    assert box.status("carrier-c")["state"] == "up" and box.trunks.keeper.next_in("carrier-c") is None
    assert (await box.until(lambda: _closed(box))).subject == "carrier-c"


async def test_a_registrar_back_from_an_outage_is_registered_again_at_once(box: Box) -> None:
    reg = {"name": "carrier-c", "kind": "registration", "host": SOURCES["carrier-c"], "username": "u",
           "password": "p", "probe_interval_s": 0.5, "probe_timeout_s": 0.1, "down_after": 2, "up_after": 1}
    await box.start(office(reg))
    await box.trunks.on_registration(RegistrationState("carrier-c", 200, "OK", True, 300))
    box.probes.answers[SOURCES["carrier-c"]] = False
    await box.until(lambda: box.status("carrier-c")["state"] == "down")
    assert box.engine.registers == []
    box.probes.answers[SOURCES["carrier-c"]] = True
    await box.until(lambda: box.engine.registers == ["carrier-c"])
