""""What is broken?": every uplink, carrier, seat, the disk and the cloud link judged in one place."""

from appliance.diagnostics.checks import Check, Checkup

__all__ = ["Check", "Checkup"]
