"""Reloading one service after its configuration changed, in turn with the engine's events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Work = Callable[[], Awaitable[Any]]


class Reloader:
    """Runs a reload through the daemon's event pump (when there is one) and waits for it."""

    def __init__(self, post: Callable[[Work], None] | None) -> None:
        self._post = post

    async def run(self, work: Work) -> None:
        """Run `work` where engine events are handled, so no queue handler sees half a reload."""
        if self._post is None:
            await work()
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def job() -> None:
            try:
                await work()
            except Exception as err:
                if not done.done():
                    done.set_exception(err)
                raise
            if not done.done():
                done.set_result(None)

        self._post(job)
        await done
