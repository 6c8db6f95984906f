"""Dual internet uplinks: probing bound to each uplink, failover and failback of the routes."""

from appliance.uplinks.config import UplinkSpec, load_uplinks
from appliance.uplinks.service import UplinkService

__all__ = ["UplinkService", "UplinkSpec", "load_uplinks"]
