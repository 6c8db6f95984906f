"""The box right now: calls, queues, operators, health, and the machine (the one psutil user)."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil


@dataclasses.dataclass(frozen=True)
class SystemSample:
    """CPU, memory, disk and temperatures, sampled in one go."""

    cpu_percent: float  # since the previous sample
    load1: float
    memory_used_bytes: int
    memory_total_bytes: int
    disk_path: str
    disk_total_bytes: int
    disk_free_bytes: int
    temperatures: dict[str, float]
    uptime_s: float


def sample_system(data_dir: Path) -> SystemSample:
    """Sample the machine (reads /proc and /sys: call it from a worker thread)."""
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(data_dir if data_dir.exists() else Path("/")))
    temperatures: dict[str, float] = {}
    read = getattr(psutil, "sensors_temperatures", None)
    for chip, sensors in (read() if read is not None else {}).items():
        for n, sensor in enumerate(sensors):
            temperatures[f"{chip}/{sensor.label or n}"] = float(sensor.current)
    return SystemSample(psutil.cpu_percent(interval=None), os.getloadavg()[0], memory.total - memory.available,
                        memory.total, str(data_dir), disk.total, disk.free, temperatures,
                        time.time() - psutil.boot_time())


def live_state(services: Any) -> dict[str, Any]:
    """Engine, queues, operators, trunks and health as plain data (call it on the event loop)."""
    stats = services.engine.stats()
    return {
        "at": datetime.now(UTC).isoformat(),
        "engine": dataclasses.asdict(stats),
        **services.acd.snapshot(),
        "trunks": services.trunks.status(),
        "health": [tracker.as_dict() for tracker in services.health],
    }


def snapshot(services: Any) -> dict[str, Any]:
    """The live state and the machine, as the periodic cloud snapshot carries them."""
    return {**live_state(services), "system": dataclasses.asdict(sample_system(services.settings.data.dir))}
