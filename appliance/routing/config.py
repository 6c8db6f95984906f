"""The `[[route]]` and `[selftest]` sections of `callbox load`: validated whole, written in its transaction.

    [[route]]
    name = "mobile"; pattern = "^\\+?79"; trunks = ["carrier-a", "carrier-b"]   # tried in this order
    failover_codes = "408,5xx,6xx"; progress_timeout_s = 2.0; strip = 0; prepend = ""
    [selftest]
    interval_min = 360    # call our own numbers through each carrier every 6 hours; 0 = on demand only
    timeout_s = 20
"""

from __future__ import annotations

from typing import Any

from appliance.errors import UserError
from appliance.routing.routes import trunk_names, validate_route
from appliance.storage import Trunk
from appliance.storage.models import OutboundRoute, SelfTestPlan

SECTIONS = frozenset({"route", "selftest"})


def validate(doc: dict[str, Any]) -> None:
    """Refuse routes or a self-test plan that cannot work, naming the entry and the field."""
    for i, route in enumerate(doc.get("route", [])):
        try:
            validate_route(route)
        except ValueError as err:
            raise UserError(f"route #{i + 1} ({route.get('name', '?')}): {err}") from err
    plan = doc.get("selftest", {})
    extra = set(plan) - {"interval_min", "timeout_s"}
    if extra:
        raise UserError(f"selftest: unknown field(s): {', '.join(sorted(extra))}")
    if not 0 <= int(plan.get("interval_min", 0)) <= 7 * 24 * 60:
        raise UserError("selftest: interval_min must be between 0 (off) and 10080 (a week)")
    if not 3 <= float(plan.get("timeout_s", 20)) <= 120:
        raise UserError("selftest: timeout_s must be between 3 and 120 seconds")


async def apply(doc: dict[str, Any]) -> None:
    """Create or update routes by name (position: their order in the file) and the self-test plan."""
    for position, route in enumerate(doc.get("route", [])):
        names = trunk_names(route.get("trunks", ""))
        known = {str(t.name) for t in await Trunk.filter(name__in=names)} if names else set()
        if missing := [n for n in names if n not in known]:
            raise UserError(f"route {route['name']}: no trunk named {', '.join(missing)}")
        fields = {k: v for k, v in route.items() if k not in ("name", "trunks")}
        await OutboundRoute.update_or_create(name=route["name"], defaults={
            "position": position, **fields, "trunks": ",".join(names)})
    if "selftest" in doc:
        plan = await SelfTestPlan.first()
        values = {k: doc["selftest"][k] for k in ("interval_min", "timeout_s") if k in doc["selftest"]}
        if plan is None:
            await SelfTestPlan.create(**values)
        else:
            await plan.update_from_dict(values).save()
