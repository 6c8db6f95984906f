"""Reports the panel and the API read: call records, incidents, recordings; filters and CSV."""

from appliance.reports.calls import CallQuery, CallReports
from appliance.reports.incidents import IncidentQuery, IncidentReports
from appliance.reports.query import Page
from appliance.reports.recordings import RecordingLibrary, RecordingQuery

__all__ = ["CallQuery", "CallReports", "IncidentQuery", "IncidentReports", "Page", "RecordingLibrary",
           "RecordingQuery"]
