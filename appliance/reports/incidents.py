"""The incident journal as people read it: filter by kind, state and period; CSV; close by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from appliance.errors import NotFoundError
from appliance.reports.query import PER_PAGE, Page, csv_line, form_of, local, page_number, parse_day, period
from appliance.storage import Incident

KINDS = ("trunk", "uplink", "seat", "disk", "cloud", "engine", "report")
COLUMNS = ("id", "kind", "subject", "state", "severity", "started", "ended", "cause", "action")


@dataclasses.dataclass
class IncidentQuery:
    """What the user filters incidents by."""

    kind: str = ""
    state: str = ""  # "open" | "closed" | ""
    since: date | None = None
    until: date | None = None
    text: str = ""
    page: int = 1

    FIELDS = ("kind", "state", "since", "until", "text")

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> IncidentQuery:
        """From query parameters; FieldErrors for values that cannot be read."""
        form = form_of(data)
        query = cls(form.choice("kind", ("", *KINDS), default=""), form.choice("state", ("", "open", "closed"),
                                                                                 default=""),
                    parse_day(form, "since"), parse_day(form, "until"), form.text("text", max_length=100),
                    page_number(form))
        form.check()
        return query


class IncidentReports:
    """Reads (and closes) incidents."""

    def _filtered(self, query: IncidentQuery, tz: ZoneInfo) -> QuerySet[Incident]:
        start, end = period(query.since, query.until, tz)
        qs = Incident.all()
        if query.kind:
            qs = qs.filter(kind=query.kind)
        if query.state == "open":
            qs = qs.filter(ended_at__isnull=True)
        elif query.state == "closed":
            qs = qs.filter(ended_at__isnull=False)
        if start:
            qs = qs.filter(Q(ended_at__gte=start) | Q(ended_at__isnull=True))
        if end:
            qs = qs.filter(started_at__lt=end)
        if query.text:
            qs = qs.filter(Q(subject__icontains=query.text) | Q(cause__icontains=query.text))
        return qs

    async def search(self, query: IncidentQuery, tz: ZoneInfo) -> Page[Incident]:
        """One page of matching incidents, newest first."""
        qs = self._filtered(query, tz)
        total = await qs.count()
        rows = await qs.order_by("-started_at", "-id").offset((query.page - 1) * PER_PAGE).limit(PER_PAGE)
        return Page(list(rows), total, query.page, PER_PAGE)

    async def export(self, query: IncidentQuery, tz: ZoneInfo) -> AsyncIterator[str]:
        """Every matching incident as CSV lines, header first."""
        yield csv_line(COLUMNS)
        offset = 0
        while rows := await self._filtered(query, tz).order_by("started_at", "id").offset(offset).limit(500):
            for r in rows:
                yield csv_line((r.id, r.kind, r.subject, "open" if r.ended_at is None else "closed", r.severity,
                                local(r.started_at, tz), local(r.ended_at, tz), r.cause, r.action))
            offset += len(rows)

    async def open_ones(self) -> list[Incident]:
        """Incidents still open, newest first."""
        return list(await Incident.filter(ended_at__isnull=True).order_by("-started_at"))

    async def close(self, incident_id: int, by: str) -> Incident:
        """Close an incident by hand (a reported problem that was dealt with)."""
        incident = await Incident.get_or_none(id=incident_id)
        if incident is None:
            raise NotFoundError(f"no incident #{incident_id}")
        if incident.ended_at is None:
            incident.ended_at = datetime.now(UTC)
            incident.state = "closed"
            incident.action = "; ".join(p for p in (incident.action, f"closed by {by}") if p)
            await incident.save()
        return incident
