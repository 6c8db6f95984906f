"""Outbound routing: dial patterns to trunks, per-call carrier failover, click-to-call, carrier self-test."""

from appliance.routing.service import RoutingService

__all__ = ["RoutingService"]
