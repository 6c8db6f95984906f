"""What applying a configuration would change, one line per entry, secrets masked."""

from __future__ import annotations

from typing import Any

from appliance.config.model import SECRET_FIELDS, Config, did_label

_WHAT = {"settings": "setting", "trunks": "trunk", "operators": "operator", "queues": "queue", "dids": "did"}


def changes(old: Config, new: Config) -> list[str]:
    """`+ trunk b`, `~ queue q: strategy 'ringall' -> 'rrmemory'`, `- did 100 on any trunk`, ..."""
    lines: list[str] = []
    for section, what in _WHAT.items():
        before, after = old.section(section), new.section(section)
        secret = SECRET_FIELDS.get(section, ())
        for key in sorted(after.keys() - before.keys(), key=str):
            lines.append(f"+ {what} {_label(section, key, after[key])}")
        for key in sorted(before.keys() & after.keys(), key=str):
            if section == "settings":
                if before[key] != after[key]:
                    lines.append(f"~ setting {key}: {before[key]!r} -> {after[key]!r}")
            elif before[key] != after[key]:
                fields = _fields(before[key], after[key], secret)
                lines.append(f"~ {what} {_label(section, key, after[key])}: {fields}")
        for key in sorted(before.keys() - after.keys(), key=str):
            lines.append(f"- {what} {_label(section, key, before[key])}")
    return lines


def _label(section: str, key: Any, entry: Any) -> str:
    if section == "dids":
        return f"{did_label(key)} -> {entry['queue']}"
    if section == "operators":
        return f"{key} ({entry['name']})"
    return str(key)


def _fields(before: dict[str, Any], after: dict[str, Any], secret: tuple[str, ...]) -> str:
    parts = []
    for field in sorted(before.keys() | after.keys()):
        if before.get(field) == after.get(field):
            continue
        if field in secret:
            parts.append(f"{field} changed")
        else:
            parts.append(f"{field} {before.get(field)!r} -> {after.get(field)!r}")
    return "; ".join(parts)
