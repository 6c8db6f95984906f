"""Call records: search by period, number, queue, operator and outcome; CSV export; missed calls."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from appliance.reports.query import PER_PAGE, Page, csv_line, form_of, local, page_number, parse_day, period
from appliance.storage import CallRecord, QueueEvent

DISPOSITIONS = ("ANSWERED", "ABANDONED", "TIMEOUT")
COLUMNS = ("started", "caller", "number", "trunk", "queue", "operator", "outcome", "wait_s", "talk_s",
           "ended", "cause", "id")


@dataclasses.dataclass
class CallQuery:
    """What the user filters call records by."""

    since: date | None = None
    until: date | None = None
    number: str = ""  # part of the caller's number or the dialled number
    queue: str = ""
    operator: str = ""
    disposition: str = ""
    page: int = 1

    FIELDS = ("since", "until", "number", "queue", "operator", "disposition")

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CallQuery:
        """From query parameters; FieldErrors for values that cannot be read."""
        form = form_of(data)
        query = cls(parse_day(form, "since"), parse_day(form, "until"), form.text("number", max_length=64),
                    form.text("queue", max_length=64), form.text("operator", max_length=128),
                    form.choice("disposition", ("", *DISPOSITIONS), default=""), page_number(form))
        form.check()
        return query


class CallReports:
    """Reads call records."""

    def _filtered(self, query: CallQuery, tz: ZoneInfo) -> QuerySet[CallRecord]:
        start, end = period(query.since, query.until, tz)
        qs = CallRecord.all()
        if start:
            qs = qs.filter(started_at__gte=start)
        if end:
            qs = qs.filter(started_at__lt=end)
        if query.number:
            qs = qs.filter(Q(caller__contains=query.number) | Q(did__contains=query.number))
        if query.queue:
            qs = qs.filter(queue=query.queue)
        if query.operator:
            qs = qs.filter(operator__icontains=query.operator)
        if query.disposition:
            qs = qs.filter(disposition=query.disposition)
        return qs

    async def search(self, query: CallQuery, tz: ZoneInfo) -> Page[CallRecord]:
        """One page of matching records, newest first."""
        qs = self._filtered(query, tz)
        total = await qs.count()
        rows = await qs.order_by("-started_at").offset((query.page - 1) * PER_PAGE).limit(PER_PAGE)
        return Page(list(rows), total, query.page, PER_PAGE)

    async def export(self, query: CallQuery, tz: ZoneInfo) -> AsyncIterator[str]:
        """Every matching record as CSV lines, header first, in batches."""
        yield csv_line(COLUMNS)
        offset = 0
        while rows := await self._filtered(query, tz).order_by("started_at").offset(offset).limit(500):
            for r in rows:
                yield csv_line((local(r.started_at, tz), r.caller, r.did, r.trunk, r.queue, r.operator,
                                r.disposition, r.hold_s, r.talk_s, local(r.ended_at, tz), r.hangup_cause, r.id))
            offset += len(rows)

    async def active(self, limit: int = 50) -> list[CallRecord]:
        """Calls that have started and not ended (the journal writes them within moments)."""
        return list(await CallRecord.filter(ended_at__isnull=True).order_by("started_at").limit(limit))

    async def missed_for(self, operator: str, limit: int = 50) -> list[CallRecord]:
        """Calls that rang this operator and were never answered by anyone: theirs to call back."""
        call_ids = await QueueEvent.filter(event="RINGNOANSWER", agent=operator).values_list("call_id", flat=True)
        rows = await CallRecord.filter(id__in=list(set(call_ids)), disposition__in=("ABANDONED", "TIMEOUT")) \
            .order_by("-started_at").limit(limit)
        return list(rows)
