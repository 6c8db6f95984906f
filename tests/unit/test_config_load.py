"""`callbox load`: validation names the problem, and a bad file changes nothing."""

from typing import Any

import pytest

from appliance.config.load import apply
from appliance.errors import UserError
from appliance.storage import Database, Queue, Trunk

GOOD: dict[str, Any] = {
    "trunk": [{"name": "a", "kind": "ip", "host": "198.51.100.7"}],
    "operator": [{"name": "Anna", "extension": "101", "seats": ["sip:101@192.0.2.50"]}],
    "queue": [{"name": "sales", "members": ["101"]}],
    "did": [{"number": "100", "queue": "sales", "trunk": "a"}],
}


@pytest.mark.parametrize(("change", "message"), [
    ({"trunk": [{"name": "a", "kind": "sip", "host": "x"}]}, "kind must be"),
    ({"trunk": [{"name": "a", "kind": "registration", "host": "x"}]}, "needs a username"),
    ({"trunk": [{"name": "a", "kind": "ip", "host": "x", "allowed_sources": "10.0.0.0/33"}]}, "allowed_sources"),
    ({"queue": [{"name": "q", "strategy": "whoever"}]}, "strategy must be"),
    ({"did": [{"number": "1", "queue": "nope"}]}, "no queue named nope"),
    ({"extra": []}, "unknown section"),
])
async def test_bad_documents_change_nothing(db: Database, change: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        await apply({**GOOD, **change})
    assert await Trunk.all().count() == 0
    assert await Queue.all().count() == 0


async def test_apply_twice_is_idempotent(db: Database) -> None:
    await apply(GOOD)
    await apply(GOOD)
    assert await Trunk.all().count() == 1
    queue = await Queue.get(name="sales").prefetch_related("members", "dids")
    assert len(queue.members) == 1 and len(queue.dids) == 1
