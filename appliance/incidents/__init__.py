"""The health model (state machines with hysteresis) and the incident journal."""

from appliance.incidents.health import Health, HealthBoard, HealthTracker, Transition
from appliance.incidents.journal import IncidentJournal

__all__ = ["Health", "HealthBoard", "HealthTracker", "IncidentJournal", "Transition"]
