"""Configuration and reports as the panel and the API use them: one code path for both."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.admin.operators import OperatorAdmin
from appliance.admin.queues import QueueAdmin
from appliance.admin.reload import Reloader
from appliance.admin.system import SystemSettings
from appliance.admin.trunks import TrunkAdmin
from appliance.admin.wizard import FirstQueue
from appliance.diagnostics import Checkup
from appliance.reports import CallReports, IncidentReports, RecordingLibrary

if TYPE_CHECKING:
    from appliance.daemon import Services

__all__ = ["Admin"]


class Admin:
    """Every admin-facing service, bound to the running appliance."""

    def __init__(self, services: Services) -> None:
        reloader = Reloader(services.post)
        self.services = services
        self.trunks = TrunkAdmin(services.trunks, reloader, services.acd.load)
        self.queues = QueueAdmin(services.acd, reloader)
        self.operators = OperatorAdmin(services.acd, reloader)
        self.system = SystemSettings()
        self.calls = CallReports()
        self.incidents = IncidentReports()
        self.recordings = RecordingLibrary(services.settings.data.recordings_dir)
        self.checks = Checkup(services)
        self.first_queue = FirstQueue(self.queues, self.operators, services.acd, reloader)
