"""Run inside the box namespace: install the uplinks' tables and rules, probe every target through
every uplink, print the results as JSON (for tests/uplinks/test_probes_netns.py).

    ip netns exec <box> python -m tests.netns.probe_check icmp:198.51.100.10 tcp:198.51.100.10:5061
"""

from __future__ import annotations

import asyncio
import json
import sys

from appliance.uplinks.config import FIRST_RULE, FIRST_TABLE, ProbeTarget, UplinkSpec
from appliance.uplinks.netlink import RouteManager
from appliance.uplinks.probe import probe
from tests.netns.topology import GATEWAY


async def main(targets: list[ProbeTarget]) -> dict[str, dict[str, bool]]:
    """{uplink: {target: ok}} with the routes in place (the main default route untouched)."""
    specs = [UplinkSpec(name, name, GATEWAY[name], n, tuple(targets), FIRST_TABLE + n, FIRST_RULE + 2 * n)
             for n, name in enumerate(("wan1", "wan2"))]
    routes = RouteManager(specs)
    await routes.open()
    result: dict[str, dict[str, bool]] = {}
    try:
        for spec in specs:
            state = await routes.link_state(spec)
            await routes.ensure(spec, state)
            outcomes = await asyncio.gather(*(probe(t, spec.interface, state.address, 1.0) for t in targets))
            result[spec.name] = {o.target: o.ok for o in outcomes}
    finally:
        await routes.close()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main([ProbeTarget.parse(t) for t in sys.argv[1:]]))))
