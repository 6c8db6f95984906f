"""Prometheus text exposition (format 0.0.4) of the live state, the machine and the cloud sync."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from appliance.stats.live import SystemSample

Sample = tuple[dict[str, str], float]
OPERATOR_STATES = ("available", "ringing", "on_call", "wrapup", "paused", "offline")
HEALTH_STATES = ("unknown", "up", "degraded", "down")


def _label(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    """One metric family: HELP, TYPE and a line per sample."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}")
    return lines


def _one_hot(states: Iterable[str], current: str, labels: dict[str, str]) -> list[Sample]:
    return [({**labels, "state": s}, 1.0 if s == current else 0.0) for s in dict.fromkeys([*states, current])]


def exposition(live: dict[str, Any], system: SystemSample, sync: dict[str, Any] | None) -> str:
    """Every metric of the box as Prometheus text."""
    engine, queues = live["engine"], live["queues"]
    out = family("callbox_up", "gauge", "1 while the appliance answers.", [({}, 1)])
    out += family("callbox_engine_running", "gauge", "1 while the SIP engine runs.", [({}, engine["running"])])
    out += family("callbox_active_calls", "gauge", "Calls bridged to an operator now.",
                  [({}, live["connected_calls"])])
    out += family("callbox_call_legs", "gauge", "SIP call legs the engine carries now.", [({}, engine["calls"])])
    out += family("callbox_call_legs_max", "gauge", "Call legs the engine admits.", [({}, engine["max_calls"])])
    out += family("callbox_queue_waiting", "gauge", "Callers waiting in the queue.",
                  [({"queue": q}, v["waiting"]) for q, v in queues.items()])
    out += family("callbox_queue_longest_wait_seconds", "gauge", "Wait of the longest-waiting caller.",
                  [({"queue": q}, v["longest_wait_s"]) for q, v in queues.items()])
    out += family("callbox_operator_state", "gauge", "1 for the state each operator is in.",
                  [s for op in live["operators"]
                   for s in _one_hot(OPERATOR_STATES, op["state"], {"operator": op["name"]})])
    out += family("callbox_trunk_up", "gauge", "1 while the trunk is usable.",
                  [({"trunk": t["name"]}, t["state"] == "up") for t in live["trunks"]])
    out += family("callbox_health_state", "gauge", "1 for the state of each monitored thing "
                  "(trunk, uplink, seat, disk, cloud).",
                  [s for h in live["health"]
                   for s in _one_hot(HEALTH_STATES, h["state"], {"kind": h["kind"], "subject": h["subject"]})])
    return "\n".join(out + _system(system) + _sync(sync)) + "\n"


def _system(s: SystemSample) -> list[str]:
    disk = {"path": s.disk_path}
    out = family("callbox_cpu_usage_percent", "gauge", "CPU use since the previous scrape.", [({}, s.cpu_percent)])
    out += family("callbox_load1", "gauge", "One-minute load average.", [({}, s.load1)])
    out += family("callbox_memory_used_bytes", "gauge", "Memory in use.", [({}, s.memory_used_bytes)])
    out += family("callbox_memory_total_bytes", "gauge", "Memory installed.", [({}, s.memory_total_bytes)])
    out += family("callbox_disk_total_bytes", "gauge", "Size of the data file system.", [(disk, s.disk_total_bytes)])
    out += family("callbox_disk_free_bytes", "gauge", "Free space on the data file system.",
                  [(disk, s.disk_free_bytes)])
    out += family("callbox_temperature_celsius", "gauge", "Temperature sensors.",
                  [({"sensor": k}, v) for k, v in sorted(s.temperatures.items())])
    out += family("callbox_uptime_seconds", "gauge", "Time since the machine booted.", [({}, s.uptime_s)])
    return out


def _sync(sync: dict[str, Any] | None) -> list[str]:
    if sync is None:
        return family("callbox_sync_enabled", "gauge", "1 when a cloud endpoint is configured.", [({}, 0)])
    last = sync.get("last_success_ts")
    out = family("callbox_sync_enabled", "gauge", "1 when a cloud endpoint is configured.", [({}, 1)])
    out += family("callbox_sync_backlog_records", "gauge", "Records not yet acknowledged by the cloud.",
                  [({}, sync["backlog"])])
    out += family("callbox_sync_outbox_capacity_records", "gauge", "Records the outbox holds at most.",
                  [({}, sync["outbox_max"])])
    out += family("callbox_sync_last_success_timestamp_seconds", "gauge", "When the cloud last acknowledged "
                  "a batch (Unix time).", [({}, last)] if last is not None else [])
    out += family("callbox_sync_sent_records_total", "counter", "Records acknowledged since start.",
                  [({}, sync["sent_records"])])
    out += family("callbox_sync_failures_total", "counter", "Failed batch deliveries since start.",
                  [({}, sync["failures"])])
    return out
