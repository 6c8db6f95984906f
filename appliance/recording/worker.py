"""The encoding worker: a bounded number of low-priority encodings, off the event loop and the SIP thread.

Jobs wait in a queue; `concurrency` runner tasks each hand one job at a time to a thread that
drives `opusenc` (itself `nice`d, in the idle I/O class). A job's outcome goes to the index,
which updates the recording's row; a job interrupted by a stop is simply done again at the next
start-up, from the WAVs that are still there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from appliance.recording.encoder import Encoded, EncodeError, encode_legs
from appliance.recording.files import remove_files, repair_wav
from appliance.sip.abc import recording_legs

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Job:
    """Encode the legs recorded to `base` (see `recording_legs`) for the call `call_id`."""

    call_id: str
    base: Path

    @property
    def target(self) -> Path:
        """Where the encoded file goes."""
        return self.base.with_suffix(".opus")


Outcome = Callable[[Job, Encoded | None, str], Awaitable[None]]


def run_job(job: Job, bitrate_kbps: int, nice: int, complexity: int = 5) -> Encoded:
    """Repair the legs' headers, encode, verify, then remove the legs (in a worker thread)."""
    legs = recording_legs(job.base)
    for leg in legs:
        if leg.is_file():
            repair_wav(leg)
    encoded = encode_legs(*legs, job.target, bitrate_kbps, nice, complexity)
    remove_files(*legs)
    return encoded


class EncodingWorker:
    """Runs encoding jobs, at most `concurrency` at a time."""

    def __init__(self, outcome: Outcome, concurrency: int = 1, bitrate_kbps: int = 24, nice: int = 10,
                 complexity: int = 5) -> None:
        self._outcome = outcome
        self._concurrency = max(1, concurrency)
        self._bitrate = bitrate_kbps
        self._nice = nice
        self._complexity = complexity
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._runners: list[asyncio.Task[None]] = []
        self._queued: set[Path] = set()
        self.busy = 0

    def start(self) -> None:
        """Start the runner tasks."""
        self._runners = [asyncio.create_task(self._run(), name=f"recording-encoder-{n}")
                         for n in range(self._concurrency)]

    def submit(self, job: Job) -> None:
        """Queue a job (once per recording)."""
        if job.base not in self._queued:
            self._queued.add(job.base)
            self._jobs.put_nowait(job)

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._jobs.qsize() + self.busy

    async def idle(self, wait_s: float = 60.0) -> None:
        """Wait until every queued job is done (tests, shutdown); TimeoutError after `wait_s`."""
        await asyncio.wait_for(self._jobs.join(), wait_s)

    async def stop(self) -> None:
        """Stop taking jobs; what is left is redone from its WAVs at the next start-up."""
        for task in self._runners:
            task.cancel()
        await asyncio.gather(*self._runners, return_exceptions=True)
        self._runners = []

    async def _run(self) -> None:
        while True:
            job = await self._jobs.get()
            self.busy += 1
            try:
                encoded = await asyncio.to_thread(run_job, job, self._bitrate, self._nice, self._complexity)
            except (EncodeError, OSError, ValueError) as err:
                log.error("recording %s of call %s not encoded, its WAVs are kept: %s", job.base, job.call_id, err)
                await self._report(job, None, str(err))
            else:
                log.info("recording of call %s encoded: %.1f s, %d bytes", job.call_id, encoded.duration_s,
                         encoded.size_bytes)
                await self._report(job, encoded, "")
            finally:
                self.busy -= 1
                self._queued.discard(job.base)
                self._jobs.task_done()

    async def _report(self, job: Job, encoded: Encoded | None, error: str) -> None:
        try:
            await self._outcome(job, encoded, error)
        except Exception:
            log.exception("recording %s: the outcome could not be stored", job.base)
