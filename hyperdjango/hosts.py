"""Host header validation against ``allowed_hosts``, with Django's rules.

>>> host_allowed("shop.example.com:8443", [".example.com"])
True
>>> host_allowed("evil.test", ["shop.example.com"])
False
"""

from __future__ import annotations

from collections.abc import Sequence

#: Hosts allowed with ``debug=True`` and an empty ``allowed_hosts``, as in Django.
DEBUG_HOSTS = (".localhost", "127.0.0.1", "[::1]")


def split_host(host: str) -> str:
    """The domain of a Host header, lower case, without its port ("" if malformed)."""
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        end = host.find("]")
        rest = host[end + 1 :]
        if end == -1 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return ""
        return host[: end + 1]
    domain, _, port = host.partition(":")
    if port and not port.isdigit():
        return ""
    if not domain or any(not (c.isalnum() or c in "-._") for c in domain):
        return ""
    return domain.rstrip(".")


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """Whether ``host`` matches one pattern: ``*`` (any), ``.example.com`` (it and
    its subdomains) or an exact domain; ports are ignored."""
    domain = split_host(host)
    if not domain:
        return False
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or pattern == domain:
            return True
        if pattern.startswith(".") and (domain.endswith(pattern) or domain == pattern[1:]):
            return True
    return False
