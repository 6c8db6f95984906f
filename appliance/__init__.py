"""Callbox: an on-prem telephony appliance for small offices and small call centres."""

__version__ = "0.1.0"
