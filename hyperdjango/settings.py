"""The process's settings: secret keys, allowed hosts, debug, the time zone and the database URL.

Each setting is a ``HyperApp(...)`` argument with an environment variable as its
fallback (docs/settings.md lists them all). Each app holds its own
:class:`Settings` (``app.settings``); the last ``HyperApp`` created is also the
process's :func:`current` one, as it sets the default database, for code that
has no request at hand (``hyperdjango.signing``).
"""

from __future__ import annotations

import logging
import os
import secrets
import zoneinfo
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("hyperdjango")

#: The environment variable naming the database. Not ``DATABASE_URL``: platforms and
#: test harnesses set that one for their own purposes; opt in with
#: ``HYPERDJANGO_DATABASE_URL=$DATABASE_URL``.
DATABASE_URL_ENV = "HYPERDJANGO_DATABASE_URL"

#: The database when neither ``database=`` nor ``$HYPERDJANGO_DATABASE_URL`` says one.
DEFAULT_DATABASE_URL = "sqlite:///db.sqlite3"


#: Hosts allowed with ``debug=True`` and an empty ``allowed_hosts``, as in Django.
DEBUG_HOSTS = (".localhost", "127.0.0.1", "[::1]")


class ImproperlyConfigured(Exception):
    """A setting is missing or wrong; the message says which and how to set it."""


class Settings:
    """What the running app was configured with (see docs/settings.md)."""

    def __init__(self) -> None:
        self.secret_key: str | None = None
        self.secret_key_fallbacks: list[str] = []
        self.allowed_hosts: list[str] | None = None
        #: ``(header, value)`` a TLS-terminating proxy sets on HTTPS requests (Django's
        #: ``SECURE_PROXY_SSL_HEADER``); None: no header is believed, a client could send it.
        self.secure_proxy_ssl_header: tuple[str, str] | None = None
        self.debug = False
        #: The IANA name of the zone the ORM's date functions see datetimes in by default
        #: (Django's ``TIME_ZONE``; see :mod:`hyperdjango.timezone`).
        self.time_zone = "UTC"
        self._ephemeral_key: str | None = None

    def configure(
        self,
        *,
        secret_key: str | None,
        secret_key_fallbacks: Iterable[str] | None,
        allowed_hosts: Iterable[str] | None,
        debug: bool,
        secure_proxy_ssl_header: tuple[str, str] | None = None,
        time_zone: str | None = None,
    ) -> None:
        """Sets every setting from the arguments, else from the environment."""
        self.secret_key = secret_key or os.environ.get("HYPERDJANGO_SECRET_KEY") or None
        if secret_key_fallbacks is None:
            secret_key_fallbacks = _env_list("HYPERDJANGO_SECRET_KEY_FALLBACKS") or []
        self.secret_key_fallbacks = list(secret_key_fallbacks)
        if allowed_hosts is None:
            allowed_hosts = _env_list("HYPERDJANGO_ALLOWED_HOSTS")
        self.allowed_hosts = None if allowed_hosts is None else list(allowed_hosts)
        if secure_proxy_ssl_header is not None:
            name, value = secure_proxy_ssl_header
            secure_proxy_ssl_header = (name.lower(), value)
        self.secure_proxy_ssl_header = secure_proxy_ssl_header
        self.debug = debug
        self.time_zone = checked_time_zone(time_zone or os.environ.get("HYPERDJANGO_TIME_ZONE") or "UTC")

    def hosts_answered(self) -> list[str] | None:
        """The Host patterns the server answers (None: any): ``allowed_hosts``, or with
        ``debug=True`` and an empty list the local names, as Django does."""
        if self.allowed_hosts == [] and self.debug:
            return list(DEBUG_HOSTS)
        return self.allowed_hosts

    def require_secret_key(self) -> str:
        """The secret key; with ``debug=True`` and none set, a random one for this
        process (logged: sessions and signatures then end with the process);
        otherwise ImproperlyConfigured."""
        if self.secret_key:
            return self.secret_key
        if self.debug:
            if self._ephemeral_key is None:
                self._ephemeral_key = secrets.token_urlsafe(50)
                log.warning("no secret_key set: using a random one for this process (debug=True); "
                            "signed cookies and sessions will not survive a restart")
            return self._ephemeral_key
        raise ImproperlyConfigured(
            "no secret key: pass HyperApp(secret_key=...) or set HYPERDJANGO_SECRET_KEY "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
            "only debug=True runs without one"
        )


_current = Settings()


def current() -> Settings:
    """The settings of the last HyperApp created (empty ones before any)."""
    return _current


def set_current(settings: Settings) -> None:
    """Makes ``settings`` the process's (HyperApp does it when created)."""
    global _current
    _current = settings


def checked_time_zone(name: str) -> str:
    """``name`` when it is an IANA zone this machine knows; otherwise ImproperlyConfigured."""
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ImproperlyConfigured(
            f"time_zone={name!r} is not a time zone: give an IANA name such as 'UTC' or 'Europe/Paris' "
            "(HyperApp(time_zone=...) or HYPERDJANGO_TIME_ZONE)"
        ) from None
    return name


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def database_url(explicit: str | None) -> str:
    """The one rule for the database: ``database=``, else ``$HYPERDJANGO_DATABASE_URL``,
    else ``sqlite:///db.sqlite3``. Which one was taken is logged (password hidden)."""
    if explicit:
        url, source = explicit, "database="
    elif os.environ.get(DATABASE_URL_ENV):
        url, source = os.environ[DATABASE_URL_ENV], f"${DATABASE_URL_ENV}"
    else:
        url, source = DEFAULT_DATABASE_URL, f"the default (set database= or ${DATABASE_URL_ENV})"
    log.info("database %s from %s", redact_url(url), source)
    return url


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
