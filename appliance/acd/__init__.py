"""Automatic call distribution: queues, operators and the callers waiting for them."""

from appliance.acd.journal import CallJournal
from appliance.acd.manager import QueueManager

__all__ = ["CallJournal", "QueueManager"]
