"""Password hashing with argon2id, off the event loop, and the rules a new password must meet."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
# argon2id with OWASP's minimum (19 MiB, t=2, p=1): about 0.1 s on a small box, where 64 MiB
# with p=4 took half a second per sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("callbox-no-such-user")


async def hash_password(password: str) -> str:
    """The argon2id hash of a password (computed in a worker thread)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(hashed: str | None, password: str) -> bool:
    """Whether the password matches the hash; a missing hash still costs one verification."""

    def check() -> bool:
        try:
            return _hasher.verify(hashed or _DUMMY, password) and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(hashed: str) -> bool:
    """Whether a stored hash uses weaker parameters than today's."""
    return _hasher.check_needs_rehash(hashed)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is not acceptable, in the user's words, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    if username and password.lower() == username.lower():
        return "The password must not be the user name."
    if len(set(password)) < 4:
        return "Use a less repetitive password."
    return None
