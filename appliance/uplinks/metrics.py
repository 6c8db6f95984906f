"""Per-uplink latency and loss over the last probe rounds, for the panel and the API."""

from __future__ import annotations

import collections
import dataclasses

WINDOW = 60  # probe rounds kept (30 s at the default interval)


@dataclasses.dataclass(frozen=True)
class Sample:
    """One probe round: answered or not, and the best round-trip time."""

    ok: bool
    rtt_ms: float


class Window:
    """The last WINDOW rounds of one uplink."""

    def __init__(self, size: int = WINDOW) -> None:
        self._samples: collections.deque[Sample] = collections.deque(maxlen=size)

    def add(self, sample: Sample) -> None:
        """Record one round."""
        self._samples.append(sample)

    def summary(self) -> dict[str, float | int | None]:
        """Loss in percent, average and last round-trip time in ms (None without an answer)."""
        samples = list(self._samples)
        good = [s.rtt_ms for s in samples if s.ok]
        loss = 100.0 * (len(samples) - len(good)) / len(samples) if samples else 0.0
        return {"rounds": len(samples), "loss_pct": round(loss, 1),
                "rtt_avg_ms": round(sum(good) / len(good), 2) if good else None,
                "rtt_last_ms": round(samples[-1].rtt_ms, 2) if samples and samples[-1].ok else None}
