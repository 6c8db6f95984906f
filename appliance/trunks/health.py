"""One trunk's health: its probes' verdict (with hysteresis), gated by its registration.

Two kinds of evidence feed it. Probes — SIP OPTIONS, and also the carrier's answers (or silence)
to our INVITEs and REGISTERs — go through a `HealthTracker` with the trunk's own N/M: N failures
in a row take it down, M successes bring it back. A refused registration (401/403/404 ...) is no
matter of luck: it takes a registration trunk down at once, whatever the probes say, until a
REGISTER succeeds again. The result is what the panel shows and what incidents are about; it is
kept in the health board's ("trunk", name) tracker so every monitored thing is listed alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.incidents import Health, HealthTracker, Transition


class TrunkHealth:
    """The state machine of one trunk."""

    def __init__(self, board: HealthTracker, down_after: int, up_after: int, registers: bool,
                 probes: bool) -> None:
        self.board = board
        self.probe = HealthTracker("trunk-probe", board.subject, down_after, up_after)
        self.registers = registers
        self.probes = probes
        self.registered: bool | None = None  # None until the first REGISTER outcome
        self.refusal = ""  # why the registration was refused, while it is

    @property
    def state(self) -> Health:
        """The trunk's state now."""
        return self.board.state

    def configure(self, down_after: int, up_after: int, registers: bool, probes: bool) -> None:
        """New thresholds from a reload; the state is kept."""
        self.probe.down_after, self.probe.up_after = down_after, up_after
        self.registers, self.probes = registers, probes

    def observe(self, ok: bool, cause: str) -> Transition | None:
        """A sign of life (or of death) from the carrier: a probe, a call attempt, a REGISTER."""
        self.probe.observe(ok, cause)
        return self._judge(cause)

    def registration(self, ok: bool, refused: bool, cause: str) -> Transition | None:
        """A REGISTER outcome: success, a refusal (credentials, account) or a failure to reach."""
        self.registered = ok
        self.refusal = cause if refused else ""
        if refused:
            return self._judge(cause)
        return self.observe(ok, cause)

    def failures(self) -> int:
        """Failed observations in a row."""
        return self.probe.failures

    def _verdict(self) -> Health:
        if self.registers and self.refusal:
            return Health.DOWN
        if self.probes or self.registers:
            probed = self.probe.state
            if probed is Health.UNKNOWN and self.registers and self.registered:
                return Health.UP
            return probed
        return Health.UP  # an IP trunk nobody probes: assume it works

    def _judge(self, cause: str) -> Transition | None:
        new = self._verdict()
        if new is not Health.UP:
            self.board.last_cause = self.refusal or cause
        if new is self.board.state:
            return None
        now = datetime.now(UTC)
        transition = Transition(self.board.kind, self.board.subject, self.board.state, new,
                                self.refusal or cause, now)
        self.board.state, self.board.since = new, now
        return transition
