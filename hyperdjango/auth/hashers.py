"""Password hashing: argon2id by default, Django's encoded formats understood.

Every stored password names its algorithm (``argon2$argon2id$v=19$...``,
``pbkdf2_sha256$<iterations>$<salt>$<hash>``, ``bcrypt_sha256$$2b$12$...``),
exactly as Django stores it, so a user table moved from a Django project keeps
working: :func:`check_password` verifies any of them and tells the caller when
the hash should be upgraded to the preferred hasher (``authenticate`` then
rehashes on the successful login).

Hashing is CPU- and memory-heavy on purpose. It runs in a small pool of
threads reserved for it, in Rust (argon2, bcrypt) or OpenSSL (PBKDF2) with the
GIL released, so the event loop keeps answering other requests during a burst
of logins, and at most ``max_concurrency`` hashes (each ``memory_kib`` of
memory) exist at once::

    >>> import asyncio
    >>> encoded = asyncio.run(make_password("correct horse"))
    >>> encoded.startswith("argon2$argon2id$")
    True
    >>> asyncio.run(check_password("correct horse", encoded))
    True
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import _core

#: The prefix of a password that never matches (``set_unusable_password``).
UNUSABLE_PASSWORD_PREFIX = "!"


class PasswordHasher:
    """One algorithm: ``encode`` and ``verify`` are blocking and run in the hashing pool."""

    algorithm = ""

    def encode(self, password: str) -> str:
        raise NotImplementedError

    def verify(self, password: str, encoded: str) -> bool:
        raise NotImplementedError

    def must_update(self, encoded: str) -> bool:
        """Whether a hash of this algorithm is weaker than what this hasher makes now."""
        return False


class Argon2PasswordHasher(PasswordHasher):
    """argon2id in Rust. Defaults: OWASP's 19 MiB, 2 passes, 1 lane (Django uses
    100 MiB and 8 lanes; its hashes verify with the parameters they carry)."""

    algorithm = "argon2"

    def __init__(self, memory_kib: int = 19 * 1024, iterations: int = 2, parallelism: int = 1) -> None:
        self.memory_kib = memory_kib
        self.iterations = iterations
        self.parallelism = parallelism

    def encode(self, password: str) -> str:
        phc = _core.argon2_hash(password.encode(), os.urandom(16), self.memory_kib, self.iterations, self.parallelism)
        return self.algorithm + phc

    def verify(self, password: str, encoded: str) -> bool:
        return _core.argon2_verify(password.encode(), encoded.removeprefix(self.algorithm))

    def must_update(self, encoded: str) -> bool:
        variant, _, params = encoded.split("$")[1:4]
        return variant != "argon2id" or params != f"m={self.memory_kib},t={self.iterations},p={self.parallelism}"


class PBKDF2PasswordHasher(PasswordHasher):
    """Django's default ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`` (OpenSSL, GIL released)."""

    algorithm = "pbkdf2_sha256"
    iterations = 1_000_000

    def encode(self, password: str, salt: str | None = None, iterations: int | None = None) -> str:
        salt = salt or secrets.token_urlsafe(16)
        iterations = iterations or self.iterations
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
        return f"{self.algorithm}${iterations}${salt}${base64.b64encode(digest).decode()}"

    def verify(self, password: str, encoded: str) -> bool:
        _, iterations, salt, _ = encoded.split("$", 3)
        return hmac.compare_digest(encoded.encode(), self.encode(password, salt, int(iterations)).encode())

    def must_update(self, encoded: str) -> bool:
        return int(encoded.split("$")[1]) != self.iterations


class BCryptSHA256PasswordHasher(PasswordHasher):
    """Django's ``bcrypt_sha256$<bcrypt hash of hex(sha256(password))>``; verification only
    (new passwords get the preferred hasher)."""

    algorithm = "bcrypt_sha256"

    def verify(self, password: str, encoded: str) -> bool:
        prehashed = hashlib.sha256(password.encode()).hexdigest().encode()
        return _core.bcrypt_verify(prehashed, encoded.removeprefix(self.algorithm + "$"))


class HasherPool:
    """The hashers in use (the first makes new hashes) and the threads they run on."""

    def __init__(self, hashers: list[PasswordHasher] | None = None, max_concurrency: int | None = None) -> None:
        self.hashers = hashers or [Argon2PasswordHasher(), PBKDF2PasswordHasher(), BCryptSHA256PasswordHasher()]
        self.max_concurrency = max_concurrency or max(1, min(4, os.cpu_count() or 1))
        self._executor: ThreadPoolExecutor | None = None

    @property
    def preferred(self) -> PasswordHasher:
        return self.hashers[0]

    def hasher_for(self, encoded: str) -> PasswordHasher | None:
        algorithm = encoded.split("$", 1)[0]
        return next((h for h in self.hashers if h.algorithm == algorithm), None)

    async def run(self, func: Any, *args: Any) -> Any:
        """Runs ``func(*args)`` on one of the ``max_concurrency`` hashing threads;
        callers beyond that wait their turn without holding memory."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="hyperdjango-hash")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)


#: The process's hashers; replace with :func:`set_hashers`.
pool = HasherPool()


def set_hashers(hashers: list[PasswordHasher], max_concurrency: int | None = None) -> None:
    """Django's ``PASSWORD_HASHERS``: the first hashes new passwords, all verify."""
    global pool
    pool = HasherPool(hashers, max_concurrency)


def is_password_usable(encoded: str | None) -> bool:
    return bool(encoded) and not encoded.startswith(UNUSABLE_PASSWORD_PREFIX)  # type: ignore[union-attr]


async def make_password(password: str | None) -> str:
    """The encoded hash of ``password`` (None gives an unusable password)."""
    if password is None:
        return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
    return await pool.run(pool.preferred.encode, password)


async def verify_password(password: str, encoded: str | None) -> tuple[bool, bool]:
    """``(matches, must_update)``: whether ``password`` matches ``encoded`` and,
    if so, whether the hash should be replaced by one of the preferred hasher.
    A malformed or unknown hash never matches (and never raises)."""
    if password is None or not is_password_usable(encoded):
        return False, False
    assert encoded is not None
    hasher = pool.hasher_for(encoded)
    if hasher is None:
        return False, False
    try:
        matches = await pool.run(hasher.verify, password, encoded)
    except ValueError:  # a corrupt hash in the database
        return False, False
    if not matches:
        return False, False
    try:
        stale = hasher is not pool.preferred or hasher.must_update(encoded)
    except (ValueError, IndexError):
        stale = True
    return True, stale


async def check_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches the encoded hash."""
    return (await verify_password(password, encoded))[0]
