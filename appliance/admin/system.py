"""Settings an admin edits in the panel (box name, time zone), kept as JSON in `system_setting`."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Mapping
from functools import cache
from typing import Any

from tortoise.transactions import in_transaction

from appliance.forms import Form
from appliance.storage import SystemSetting

DEFAULTS: dict[str, Any] = {"box_name": "Callbox", "timezone": "UTC"}


@cache
def time_zones() -> list[str]:
    """The IANA time zone names this system knows, sorted."""
    names = {z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))}
    return sorted(names | {"UTC"})


_cache: dict[str, Any] = {}


async def read(key: str, default: Any = None) -> Any:
    """One stored value (decoded), or the default."""
    row = await SystemSetting.get_or_none(key=key)
    value = json.loads(row.value) if row is not None else DEFAULTS.get(key, default)
    if key in DEFAULTS:
        _cache[key] = value
    return value


async def write(key: str, value: Any) -> None:
    """Store one value."""
    await SystemSetting.update_or_create(key=key, defaults={"value": json.dumps(value)})
    if key in DEFAULTS:
        _cache[key] = value


async def refresh() -> None:
    """Re-read the panel's settings into the cache that `cached()` serves."""
    rows = await SystemSetting.filter(key__in=list(DEFAULTS))
    _cache.clear()
    _cache.update({row.key: json.loads(row.value) for row in rows})


def cached(key: str) -> Any:
    """A panel setting as last read or written (for rendering without a query)."""
    return _cache.get(key, DEFAULTS[key])


class SystemSettings:
    """The panel's own settings, validated as a whole."""

    async def current(self) -> dict[str, Any]:
        """Every setting with its value."""
        return {key: await read(key) for key in DEFAULTS}

    async def timezone(self) -> zoneinfo.ZoneInfo:
        """The office's time zone, for showing times."""
        return zoneinfo.ZoneInfo(await read("timezone"))

    def validate(self, data: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
        """Cleaned values, or FieldErrors."""
        form = Form(data)
        cleaned: dict[str, Any] = {}
        if not partial or "box_name" in data:
            cleaned["box_name"] = form.text("box_name", required=True, max_length=64, label="The name")
        if not partial or "timezone" in data:
            tz = form.text("timezone", required=True, max_length=64, label="The time zone")
            if tz and tz not in time_zones():
                form.error("timezone", "Pick a time zone from the list, e.g. Europe/Berlin.")
            cleaned["timezone"] = tz
        form.check()
        return cleaned

    async def update(self, data: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
        """Validate and store; returns the settings now in force."""
        cleaned = self.validate(data, partial)
        async with in_transaction():
            for key, value in cleaned.items():
                await write(key, value)
        return await self.current()
