"""Cloud sync: a store-and-forward outbox delivered in batches, exactly once in effect."""

from appliance.cloud.service import CloudSync

__all__ = ["CloudSync"]
