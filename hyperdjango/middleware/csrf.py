"""CSRF protection with Django's rules (``CsrfViewMiddleware``).

A per-client secret lives in the ``csrftoken`` cookie (or in the session with
``use_sessions=True``); pages embed it *masked* (a fresh random mask each time,
so the token in a compressed page never repeats: BREACH) through
:func:`get_token`. The secret is sent only to a client that was given a token:
a page whose template never shows ``csrf_token``/``csrf_input`` sets no cookie. Requests with an unsafe method (POST, PUT, PATCH, DELETE)
must send it back in the ``csrfmiddlewaretoken`` form field or the
``X-CSRFToken`` header, and, when they carry an ``Origin`` header, come from
the site itself or a trusted origin; over HTTPS without ``Origin`` the
``Referer`` must. A failure is a 403 whose reason is logged (and shown with
``debug=True``). Views marked :func:`csrf_exempt` and requests authenticated by
``Authorization: Bearer`` (which a browser never adds by itself) are not checked.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import string
from collections.abc import Callable, Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from ..responses import Response

log = logging.getLogger("hyperdjango.security.csrf")

CSRF_SECRET_LENGTH = 32
CSRF_TOKEN_LENGTH = 2 * CSRF_SECRET_LENGTH
CSRF_ALLOWED_CHARS = string.ascii_letters + string.digits
#: The session key of the secret with ``use_sessions=True`` (Django's name).
CSRF_SESSION_KEY = "_csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Django's reasons, word for word, so logs and tests read the same.
REASON_BAD_ORIGIN = "Origin checking failed - %s does not match any trusted origins."
REASON_NO_REFERER = "Referer checking failed - no Referer."
REASON_BAD_REFERER = "Referer checking failed - %s does not match any trusted origins."
REASON_NO_CSRF_COOKIE = "CSRF cookie not set."
REASON_CSRF_TOKEN_MISSING = "CSRF token missing."
REASON_MALFORMED_REFERER = "Referer checking failed - Referer is malformed."
REASON_INSECURE_REFERER = "Referer checking failed - Referer is insecure while host is secure."
REASON_INCORRECT_LENGTH = "has incorrect length"
REASON_INVALID_CHARACTERS = "has invalid characters"


class InvalidToken(Exception):
    """A token or secret of the wrong length or alphabet."""


def _random_string() -> str:
    return "".join(secrets.choice(CSRF_ALLOWED_CHARS) for _ in range(CSRF_SECRET_LENGTH))


def mask_secret(secret: str) -> str:
    """``secret`` masked with a fresh random mask: 64 characters, different every time."""
    mask = _random_string()
    chars = CSRF_ALLOWED_CHARS
    cipher = "".join(chars[(chars.index(s) + chars.index(m)) % len(chars)] for s, m in zip(secret, mask))
    return mask + cipher


def unmask_token(token: str) -> str:
    """The secret of a masked token."""
    mask, cipher = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    chars = CSRF_ALLOWED_CHARS
    return "".join(chars[chars.index(c) - chars.index(m)] for c, m in zip(cipher, mask))


def check_token_format(token: str) -> None:
    if len(token) not in (CSRF_SECRET_LENGTH, CSRF_TOKEN_LENGTH):
        raise InvalidToken(REASON_INCORRECT_LENGTH)
    if any(c not in CSRF_ALLOWED_CHARS for c in token):
        raise InvalidToken(REASON_INVALID_CHARACTERS)


def _state(request: Any) -> dict[str, Any]:
    """What the middleware and get_token share on the request: the secret, whether to
    send it, and the form field the middleware reads."""
    state = request.__dict__.get("_csrf")
    if state is None:
        state = request.__dict__["_csrf"] = {"secret": None, "send": False, "field": "csrfmiddlewaretoken"}
    return state


def token_field(request: Any) -> str:
    """The name of the form field the CSRF middleware reads the token from."""
    return _state(request)["field"]


def get_token(request: Any) -> str:
    """A masked CSRF token for a form or a JavaScript header (Django's ``get_token``).

    Creates the secret when the client has none; the middleware then sends it
    (cookie or session) with the response. Synchronous: templates call it.
    """
    token = offer_token(request)
    _state(request)["send"] = True
    return token


def offer_token(request: Any) -> str:
    """A masked token that only counts once it reaches the client: the templates'
    ``csrf_token``/``csrf_input``. The secret is sent with the response only when
    :func:`note_rendered` finds an offered token in the rendered page, so a page
    without a form sets no CSRF cookie (and stays cacheable)."""
    state = _state(request)
    if state["secret"] is None:
        state["secret"] = _random_string()
    token = mask_secret(state["secret"])
    state.setdefault("offered", []).append(token)
    return token


def note_rendered(request: Any, page: str | bytes | None) -> None:
    """Marks the secret for sending when ``page`` (rendered, as text or UTF-8) holds a
    token of :func:`offer_token`; ``None`` (a streamed page, not seen whole) counts as
    holding it."""
    state = request.__dict__.get("_csrf")
    offered = state.pop("offered", None) if state is not None else None
    if not offered:
        return
    if page is None or any((token.encode() if isinstance(page, bytes) else token) in page for token in offered):
        state["send"] = True


def rotate_token(request: Any) -> None:
    """A new secret (``login`` calls it): tokens of the old one stop working."""
    state = _state(request)
    state["secret"] = _random_string()
    state["send"] = True


def csrf_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a view as not checked for CSRF (webhooks signed another way, ...)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _origin_matches(origin: str, patterns: Iterable[str]) -> bool:
    """Exact trusted origins, or ``https://*.example.com`` for any subdomain."""
    parts = urlsplit(origin)
    for pattern in patterns:
        if pattern == origin:
            return True
        if "*" in pattern:
            trusted = urlsplit(pattern)
            suffix = trusted.netloc.partition("*")[2]
            if parts.scheme == trusted.scheme and suffix and parts.netloc.endswith(suffix):
                return True
    return False


class CSRFMiddleware:
    """Checks unsafe requests for a valid CSRF token and a same-site origin.

    Arguments mirror Django's ``CSRF_*`` settings: ``cookie_name``,
    ``cookie_age`` (a year), ``cookie_domain``, ``cookie_path``,
    ``cookie_secure``, ``cookie_httponly`` (False: JavaScript reads it to set
    the header), ``cookie_samesite``, ``header_name``, ``trusted_origins``
    (``["https://app.example.com", "https://*.example.com"]``), ``use_sessions``.
    """

    requires_secret_key = False

    def __init__(
        self,
        *,
        cookie_name: str = "csrftoken",
        cookie_age: int = 60 * 60 * 24 * 365,
        cookie_domain: str | None = None,
        cookie_path: str = "/",
        cookie_secure: bool = False,
        cookie_httponly: bool = False,
        cookie_samesite: Literal["lax", "strict", "none"] | None = "lax",
        header_name: str = "x-csrftoken",
        field_name: str = "csrfmiddlewaretoken",
        trusted_origins: Iterable[str] = (),
        use_sessions: bool = False,
    ) -> None:
        self.cookie_name = cookie_name
        self.cookie_age = cookie_age
        self.cookie_domain = cookie_domain
        self.cookie_path = cookie_path
        self.cookie_secure = cookie_secure
        self.cookie_httponly = cookie_httponly
        self.cookie_samesite = cookie_samesite
        self.header_name = header_name.lower()
        self.field_name = field_name
        self.trusted_origins = list(trusted_origins)
        self.use_sessions = use_sessions

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        state = _state(request)
        state["field"] = self.field_name
        state["secret"] = self._stored_secret(request)
        reason = await self.reject_reason(request, state["secret"])
        if reason is not None:
            log.warning("Forbidden (%s): %s", reason, request.path)
            detail = f"CSRF verification failed: {reason}" if request.app.debug else "CSRF verification failed. Request aborted."
            return Response.json({"detail": detail}, status=403)
        response = await next_handler(request)
        if state["send"]:
            self._send(request, response, state["secret"])
        return response

    def _stored_secret(self, request: Any) -> str | None:
        if self.use_sessions:
            session = getattr(request, "session", None)
            if session is None:
                raise RuntimeError("CSRFMiddleware(use_sessions=True) needs SessionMiddleware outside it")
            secret = session.get(CSRF_SESSION_KEY)
        else:
            secret = request.cookies.get(self.cookie_name)
        if not secret:
            return None
        try:
            check_token_format(secret)
        except InvalidToken:
            return None  # a malformed cookie is replaced, as if absent
        return unmask_token(secret) if len(secret) == CSRF_TOKEN_LENGTH else secret

    def _send(self, request: Any, response: Any, secret: str) -> None:
        if self.use_sessions:
            request.session[CSRF_SESSION_KEY] = secret
            return
        response.set_cookie(
            self.cookie_name, secret, max_age=self.cookie_age, path=self.cookie_path, domain=self.cookie_domain,
            secure=self.cookie_secure, httponly=self.cookie_httponly, samesite=self.cookie_samesite,
        )
        response.headers.add_vary("Cookie")

    async def reject_reason(self, request: Any, secret: str | None) -> str | None:
        """Why the request must be refused, or None to let it through."""
        if request.method in SAFE_METHODS:
            return None
        route = request.route
        if route is not None and getattr(route.endpoint, "csrf_exempt", False):
            return None
        if request.headers.get("authorization", "")[:7].lower() == "bearer ":
            return None  # not sent by a browser on its own: no CSRF possible
        host = request.headers.get("host", "")
        secure = request.scheme == "https"
        origin = request.headers.get("origin")
        if origin is not None:
            if origin != f"{request.scheme}://{host}" and not _origin_matches(origin, self.trusted_origins):
                return REASON_BAD_ORIGIN % origin
        elif secure:
            reason = self._referer_reason(request.headers.get("referer"), host)
            if reason is not None:
                return reason
        return await self._token_reason(request, secret)

    def _referer_reason(self, referer: str | None, host: str) -> str | None:
        if referer is None:
            return REASON_NO_REFERER
        try:
            parts = urlsplit(referer)
        except ValueError:
            return REASON_MALFORMED_REFERER
        if not parts.scheme or not parts.netloc:
            return REASON_MALFORMED_REFERER
        if parts.scheme != "https":
            return REASON_INSECURE_REFERER
        if parts.netloc != host and not _origin_matches(f"https://{parts.netloc}", self.trusted_origins):
            return REASON_BAD_REFERER % referer
        return None

    async def _token_reason(self, request: Any, secret: str | None) -> str | None:
        if secret is None:
            return REASON_NO_CSRF_COOKIE
        token = ""
        source = "POST"
        if request.method == "POST":
            token = (await request.form()).get(self.field_name, "") or ""
        if not token:
            token, source = request.headers.get(self.header_name, ""), self.header_name
        if not token:
            return REASON_CSRF_TOKEN_MISSING
        try:
            check_token_format(token)
        except InvalidToken as e:
            return f"CSRF token from {source} {e}."
        candidate = unmask_token(token) if len(token) == CSRF_TOKEN_LENGTH else token
        if not hmac.compare_digest(candidate.encode(), secret.encode()):
            return f"CSRF token from {source} incorrect."
        return None
