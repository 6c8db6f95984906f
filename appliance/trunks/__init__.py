"""Carrier trunks: which carriers the box talks to, and whether each is healthy."""

from appliance.trunks.service import TrunkService

__all__ = ["TrunkService"]
