"""One batch to the cloud: an HTTPS POST with a bearer token, and a strict check of the answer.

Only a 2xx whose JSON names this batch's key and last sequence counts as delivered, so a captive
portal or a proxy answering 200 with a page of its own can never make the box drop records.
"""

from __future__ import annotations

import json
import random
import ssl
from pathlib import Path

import httpx

from appliance import __version__


class DeliveryError(Exception):
    """The batch was not acknowledged; it stays in the outbox."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooLarge(DeliveryError):
    """The cloud refused the batch as too large (413): send smaller ones."""


class Sender:
    """POSTs batches to the endpoint over one kept-alive connection."""

    def __init__(self, url: str, token: str, timeout_s: float, ca_file: Path | None = None) -> None:
        self.url = url
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                         "User-Agent": f"callbox/{__version__}"}
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._client = httpx.AsyncClient(timeout=timeout_s, verify=verify, follow_redirects=False)

    async def close(self) -> None:
        """Close the connection."""
        await self._client.aclose()

    async def post(self, body: bytes, key: str, last: int) -> None:
        """Deliver one batch or raise DeliveryError (never with the token in its message)."""
        try:
            response = await self._client.post(self.url, content=body,
                                               headers={**self._headers, "Idempotency-Key": key})
        except httpx.HTTPError as err:
            raise DeliveryError(f"cannot reach the cloud: {type(err).__name__} {err}") from err
        if response.status_code == 413:
            raise TooLarge("the cloud refused the batch as too large (413)")
        if not response.is_success:
            raise DeliveryError(f"the cloud answered {response.status_code} {response.reason_phrase}"
                                + _hint(response.status_code), _retry_after(response))
        try:
            answer = response.json()
        except json.JSONDecodeError as err:
            raise DeliveryError(f"the cloud answered {response.status_code} without JSON") from err
        if not isinstance(answer, dict) or answer.get("batch_key") != key or answer.get("ack") != last:
            raise DeliveryError(f"the cloud's answer does not acknowledge batch {key}")


def _hint(status: int) -> str:
    return {401: ": check cloud.token", 403: ": check cloud.token and cloud.device_id"}.get(status, "")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(str(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


class Backoff:
    """Exponential backoff with jitter: each delay uniform in [c/2, c], c doubling up to a cap."""

    def __init__(self, first_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def next(self, at_least: float | None = None) -> float:
        """The delay before the next attempt (honours the server's Retry-After, within the cap)."""
        ceiling = min(self.cap_s, self.first_s * 2.0 ** min(self.failures, 30))
        self.failures += 1
        delay = ceiling / 2 + self._rng.random() * ceiling / 2
        return min(self.cap_s, max(delay, at_least or 0.0))

    def reset(self) -> None:
        """A success: start again from the first delay."""
        self.failures = 0
