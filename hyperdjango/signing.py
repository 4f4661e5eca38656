"""Signed values: Django's ``django.core.signing``, wire-compatible.

A value signed here verifies in Django and the other way round, given the same
key and salt (HMAC-SHA256 over a key derived from salt + secret, URL-safe
base64, ``value:signature``)::

    >>> from hyperdjango.signing import Signer, dumps, loads
    >>> signer = Signer(key="k")
    >>> signed = signer.sign("hello")
    >>> signed
    'hello:3jIRTXB8cju7lLwsdsd67hWGpe2iqP8I-aEAoY-u96k'
    >>> signer.unsign(signed)
    'hello'
    >>> loads(dumps({"cart": [1, 2]}, key="k"), key="k")
    {'cart': [1, 2]}

The key defaults to the app's ``secret_key`` (see docs/settings.md), and
verification also accepts signatures made with any of ``secret_key_fallbacks``,
so keys can be rotated without logging everyone out. Signatures are compared
in constant time.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import json
import re
import time
import zlib
from collections.abc import Sequence
from typing import Any

from . import settings

__all__ = [
    "BadSignature",
    "JSONSerializer",
    "SignatureExpired",
    "Signer",
    "TimestampSigner",
    "b62_decode",
    "b62_encode",
    "dumps",
    "loads",
]

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# A separator that could occur in base64 or base62 output would make rsplit ambiguous.
_UNSAFE_SEPARATOR = re.compile(r"^[A-z0-9-_=]*$")
# Django's default salts are named after its classes; ours keep those names so
# values signed by either project verify in the other.
_DJANGO_MODULE = "django.core.signing"


@functools.lru_cache(maxsize=16)
def _unsafe_separator(sep: str) -> bool:
    return _UNSAFE_SEPARATOR.match(sep) is not None


class BadSignature(Exception):
    """The signature does not match the value (tampered, or another key or salt)."""


class SignatureExpired(BadSignature):
    """The signature is valid but older than ``max_age``."""


def b62_encode(number: int) -> str:
    """``number`` in base 62, as timestamps are written in signed values."""
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    number = abs(number)
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    return sign + "".join(reversed(digits))


def b62_decode(text: str) -> int:
    """The inverse of :func:`b62_encode`; ValueError for a character outside base 62."""
    sign = -1 if text.startswith("-") else 1
    number = 0
    for digit in text.lstrip("-"):
        number = number * 62 + BASE62_ALPHABET.index(digit)
    return sign * number


def b64_encode(data: bytes) -> bytes:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64_decode(data: bytes) -> bytes:
    """The inverse of :func:`b64_encode`."""
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


@functools.lru_cache(maxsize=256)
def derived_key(salt: str | bytes, secret: str | bytes, algorithm: str = "sha256") -> bytes:
    """The HMAC key Django derives from ``salt`` + ``secret``: a hash, computed once
    per (salt, secret, algorithm) and cached, since every signature of a salt uses it."""
    return hashlib.new(algorithm, _as_bytes(salt) + _as_bytes(secret)).digest()


def salted_hmac(salt: str, value: str | bytes, secret: str | bytes, algorithm: str = "sha256") -> hmac.HMAC:
    """HMAC of ``value`` with a key derived from ``salt`` + ``secret`` (Django's ``salted_hmac``)."""
    return hmac.new(derived_key(salt, secret, algorithm), msg=_as_bytes(value), digestmod=algorithm)


def salted_hmac_digest(salt: str, value: str | bytes, secret: str | bytes, algorithm: str = "sha256") -> bytes:
    """``salted_hmac(...).digest()`` in one call to OpenSSL (no HMAC object): the per-request path."""
    return hmac.digest(derived_key(salt, secret, algorithm), _as_bytes(value), algorithm)


class JSONSerializer:
    """Compact JSON, as Django writes it in signed objects."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode("latin-1")

    def loads(self, data: bytes) -> Any:
        return json.loads(data.decode("latin-1"))


class Signer:
    """Signs strings: ``sign("v")`` gives ``"v:<signature>"``; ``unsign`` checks it.

    ``key`` defaults to the app's ``secret_key`` and ``fallback_keys`` to its
    ``secret_key_fallbacks``; ``salt`` separates uses of one key (a session
    cookie signature is useless as a password-reset token).
    """

    def __init__(
        self,
        *,
        key: str | bytes | None = None,
        sep: str = ":",
        salt: str | None = None,
        algorithm: str = "sha256",
        fallback_keys: Sequence[str | bytes] | None = None,
    ) -> None:
        configured = settings.current()
        self.key = key if key is not None else configured.require_secret_key()
        self.fallback_keys = list(fallback_keys if fallback_keys is not None else configured.secret_key_fallbacks)
        self.sep = sep
        if _unsafe_separator(sep):
            raise ValueError(f"Unsafe Signer separator: {sep!r} (cannot be empty or consist of only A-z0-9-_=)")
        cls = type(self)
        module = _DJANGO_MODULE if cls.__module__ == __name__ else cls.__module__
        self.salt = salt or f"{module}.{cls.__name__}"
        self.algorithm = algorithm

    def signature(self, value: str, key: str | bytes | None = None) -> str:
        """The signature of ``value`` with ``key`` (this signer's key by default)."""
        digest = salted_hmac_digest(self.salt + "signer", value, self.key if key is None else key, self.algorithm)
        return b64_encode(digest).decode()

    def sign(self, value: str) -> str:
        return f"{value}{self.sep}{self.signature(value)}"

    def unsign(self, signed_value: str) -> str:
        """The value, if its signature was made with the key or a fallback key; else BadSignature."""
        if self.sep not in signed_value:
            raise BadSignature(f'No "{self.sep}" found in value')
        value, signature = signed_value.rsplit(self.sep, 1)
        for key in (self.key, *self.fallback_keys):
            if hmac.compare_digest(signature.encode(), self.signature(value, key).encode()):
                return value
        raise BadSignature(f'Signature "{signature}" does not match')

    def sign_object(self, obj: Any, serializer: type = JSONSerializer, compress: bool = False) -> str:
        """Signs ``obj`` serialized (JSON by default), zlib-compressed when that is shorter."""
        data = serializer().dumps(obj)
        compressed = False
        if compress:
            packed = zlib.compress(data)
            if len(packed) < len(data) - 1:
                data, compressed = packed, True
        encoded = b64_encode(data).decode()
        return self.sign("." + encoded if compressed else encoded)

    def unsign_object(self, signed_obj: str, serializer: type = JSONSerializer, **kwargs: Any) -> Any:
        """The object signed by :meth:`sign_object` (``kwargs`` go to :meth:`unsign`)."""
        encoded = self.unsign(signed_obj, **kwargs).encode()
        compressed = encoded.startswith(b".")
        try:
            data = b64_decode(encoded[1:] if compressed else encoded)
            if compressed:
                data = zlib.decompress(data)
            return serializer().loads(data)
        except (ValueError, zlib.error) as e:  # a valid signature over bytes we cannot read
            raise BadSignature(f"Signed data is not readable: {e}") from e


class TimestampSigner(Signer):
    """A signer that also signs the time, so ``unsign(value, max_age=...)`` can expire it."""

    def timestamp(self) -> str:
        return b62_encode(int(time.time()))

    def sign(self, value: str) -> str:
        return super().sign(f"{value}{self.sep}{self.timestamp()}")

    def unsign(self, value: str, max_age: float | datetime.timedelta | None = None) -> str:
        """The value; SignatureExpired when signed more than ``max_age`` seconds ago."""
        result = super().unsign(value)
        value, _, stamp = result.rpartition(self.sep)
        try:
            signed_at = b62_decode(stamp)
        except ValueError:
            raise BadSignature("Malformed timestamp") from None
        if max_age is not None:
            if isinstance(max_age, datetime.timedelta):
                max_age = max_age.total_seconds()
            age = time.time() - signed_at
            if age > max_age:
                raise SignatureExpired(f"Signature age {age} > {max_age} seconds")
        return value


def dumps(
    obj: Any,
    key: str | bytes | None = None,
    salt: str = _DJANGO_MODULE,
    serializer: type = JSONSerializer,
    compress: bool = False,
) -> str:
    """``obj`` as a URL-safe, signed, timestamped string (Django's ``signing.dumps``)."""
    return TimestampSigner(key=key, salt=salt).sign_object(obj, serializer=serializer, compress=compress)


def loads(
    signed: str,
    key: str | bytes | None = None,
    salt: str = _DJANGO_MODULE,
    serializer: type = JSONSerializer,
    max_age: float | datetime.timedelta | None = None,
    fallback_keys: Sequence[str | bytes] | None = None,
) -> Any:
    """The object of :func:`dumps`; BadSignature (or SignatureExpired) otherwise."""
    signer = TimestampSigner(key=key, salt=salt, fallback_keys=fallback_keys)
    return signer.unsign_object(signed, serializer=serializer, max_age=max_age)
