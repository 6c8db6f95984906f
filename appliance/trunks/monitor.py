"""Probing loops: one asyncio task per trunk sends SIP OPTIONS every interval and reports each result."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from appliance.sip.probe import ProbeResult, probe

log = logging.getLogger(__name__)

ProbeFn = Callable[[str, str | None, float], Awaitable[ProbeResult]]
Report = Callable[[str, ProbeResult], Awaitable[None]]


class TrunkProber:
    """Keeps exactly one probing task per wanted trunk, restarted when its target or timing changes."""

    def __init__(self, report: Report, probe_fn: ProbeFn = probe) -> None:
        self._report = report
        self._probe = probe_fn
        self._tasks: dict[str, tuple[tuple[str, float, float], asyncio.Task[None]]] = {}

    def update(self, wanted: dict[str, tuple[str, float, float]]) -> None:
        """Probe these trunks: name -> (target, interval s, timeout s); others stop being probed."""
        for name in list(self._tasks):
            if self._tasks[name][0] != wanted.get(name):
                self._tasks.pop(name)[1].cancel()
        for name, plan in wanted.items():
            if name not in self._tasks:
                task = asyncio.create_task(self._loop(name, *plan), name=f"probe-{name}")
                self._tasks[name] = (plan, task)

    def probing(self) -> set[str]:
        """The trunks being probed now."""
        return set(self._tasks)

    async def stop(self) -> None:
        """Stop every probing task and wait for them."""
        tasks = [task for _plan, task in self._tasks.values()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self, name: str, target: str, interval: float, wait: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                result = await self._probe(target, None, wait)
                await self._report(name, result)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("probing trunk %s failed", name)
            await asyncio.sleep(max(interval - (loop.time() - started), 0.05))
