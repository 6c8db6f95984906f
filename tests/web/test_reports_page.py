"""The Reports page: numbers from the event log, SVG charts, CSV downloads, roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx

from appliance.storage import CallRecord, Operator, QueueEvent

DAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PERIOD = {"start": "2025-03-03", "end": "2025-03-04"}


async def _calls() -> None:
    """Two calls to "sales": one answered after 10 s and talked 60 s, one abandoned after 30 s."""
    for n, (outcome, wait) in enumerate((("CONNECT", 10), ("ABANDON", 30))):
        call_id, t0 = f"c{n}", DAY + timedelta(minutes=n)
        await CallRecord.create(id=call_id, caller=f"5550{n}", queue="sales", started_at=t0)
        await QueueEvent.create(ts=t0, call_id=call_id, queue="sales", event="ENTERQUEUE", data2=f"5550{n}",
                                data3="1")
        if outcome == "CONNECT":
            await QueueEvent.create(ts=t0 + timedelta(seconds=wait), call_id=call_id, queue="sales", agent="Anna",
                                    event="CONNECT", data1=str(wait), data3="800", data4="1")
            await QueueEvent.create(ts=t0 + timedelta(seconds=wait + 60), call_id=call_id, queue="sales",
                                    agent="Anna", event="COMPLETECALLER", data1=str(wait), data2="60", data3="1")
        else:
            await QueueEvent.create(ts=t0 + timedelta(seconds=wait), call_id=call_id, queue="sales",
                                    event="ABANDON", data1="1", data2="1", data3=str(wait))


async def test_reports_page_shows_the_numbers_and_charts(admin_client: httpx.AsyncClient) -> None:
    await _calls()
    page = await admin_client.get("/reports", params=PERIOD)
    assert page.status_code == 200
    assert "<html" in page.text and 'href="/reports"' in page.text  # a full page, in the navigation
    totals = page.text.split('id="report-totals"')[1].split("</table>")[0]
    cells = [c.split("</td>")[0] for c in totals.split("<td>")[1:]]
    assert cells[:5] == ["2", "1", "1", "100 %", "50 %"]  # offered, answered, abandoned, SL, SL2
    assert page.text.count("<svg") == 7
    partial = await admin_client.get("/reports", params=PERIOD, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and partial.text.count("<svg") == 7


async def test_reports_csv_and_errors(admin_client: httpx.AsyncClient) -> None:
    await _calls()
    csv = await admin_client.get("/reports/csv/queues", params=PERIOD)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "sales" in csv.content.decode("utf-8-sig")
    bad = await admin_client.get("/reports", params={"start": "2025-03-04", "end": "2025-03-03"})
    assert bad.status_code == 200 and "end must be after start" in bad.text
    assert (await admin_client.get("/reports/csv/nope", params=PERIOD)).status_code == 404


async def test_operators_cannot_read_reports(login_as: Callable[..., Awaitable[httpx.AsyncClient]]) -> None:
    operator = await Operator.create(name="Anna", extension="101")
    client = await login_as("operator", operator_id=operator.id)
    assert (await client.get("/reports", params=PERIOD)).status_code == 403
    assert (await client.get("/reports/csv/queues", params=PERIOD)).status_code == 403
