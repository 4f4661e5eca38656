"""SecurityMiddleware: the response headers and HTTPS redirect of Django's.

HSTS (over HTTPS only), ``X-Content-Type-Options: nosniff``,
``Referrer-Policy``, ``Cross-Origin-Opener-Policy``, a redirect of plain HTTP to
HTTPS, and a ``Content-Security-Policy`` with a fresh nonce per request:
``request.csp_nonce`` goes into ``<script nonce="...">`` and replaces
``{nonce}`` in the policy.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from ..requests import is_secure
from ..responses import Response


class SecurityMiddleware:
    """Arguments mirror Django's ``SECURE_*`` settings: ``hsts_seconds`` (0: no
    HSTS), ``hsts_include_subdomains``, ``hsts_preload``, ``content_type_nosniff``,
    ``referrer_policy``, ``cross_origin_opener_policy``, ``ssl_redirect``,
    ``ssl_host``, ``redirect_exempt`` (path regexes), ``proxy_ssl_header``
    (``("x-forwarded-proto", "https")``); ``csp`` is a policy string such as
    ``"default-src 'self'; script-src 'self' 'nonce-{nonce}'"`` (``csp_report_only``
    sends it as ``Content-Security-Policy-Report-Only``)."""

    def __init__(
        self,
        *,
        hsts_seconds: int = 0,
        hsts_include_subdomains: bool = False,
        hsts_preload: bool = False,
        content_type_nosniff: bool = True,
        referrer_policy: str | None = "same-origin",
        cross_origin_opener_policy: str | None = "same-origin",
        ssl_redirect: bool = False,
        ssl_host: str | None = None,
        redirect_exempt: Iterable[str] = (),
        proxy_ssl_header: tuple[str, str] | None = None,
        csp: str | None = None,
        csp_report_only: bool = False,
    ) -> None:
        self.hsts_seconds = hsts_seconds
        self.hsts_include_subdomains = hsts_include_subdomains
        self.hsts_preload = hsts_preload
        self.content_type_nosniff = content_type_nosniff
        self.referrer_policy = referrer_policy
        self.cross_origin_opener_policy = cross_origin_opener_policy
        self.ssl_redirect = ssl_redirect
        self.ssl_host = ssl_host
        self.redirect_exempt = [re.compile(r) for r in redirect_exempt]
        self.proxy_ssl_header = proxy_ssl_header
        self.csp = csp
        self.csp_header = "content-security-policy-report-only" if csp_report_only else "content-security-policy"

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        # Its own proxy header if given, else the app's (request.scheme).
        secure = is_secure(request, self.proxy_ssl_header) if self.proxy_ssl_header else request.scheme == "https"
        path = request.path.lstrip("/")
        if self.ssl_redirect and not secure and not any(r.search(path) for r in self.redirect_exempt):
            host = self.ssl_host or request.headers.get("host", "")
            after_host = request.url.split("://", 1)[1]
            return Response.redirect(f"https://{host}{after_host[after_host.find('/'):]}", status=301)
        if self.csp is not None:
            request.csp_nonce = secrets.token_urlsafe(16)
        response = await next_handler(request)
        headers = response.headers
        if secure and self.hsts_seconds and "strict-transport-security" not in headers:
            value = f"max-age={self.hsts_seconds}"
            if self.hsts_include_subdomains:
                value += "; includeSubDomains"
            if self.hsts_preload:
                value += "; preload"
            headers["strict-transport-security"] = value
        if self.content_type_nosniff:
            headers.setdefault("x-content-type-options", "nosniff")
        if self.referrer_policy:
            headers.setdefault("referrer-policy", self.referrer_policy)
        if self.cross_origin_opener_policy:
            headers.setdefault("cross-origin-opener-policy", self.cross_origin_opener_policy)
        if self.csp is not None and self.csp_header not in headers:
            headers[self.csp_header] = self.csp.replace("{nonce}", request.csp_nonce)
        return response
