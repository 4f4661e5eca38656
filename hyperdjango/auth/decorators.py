"""Guards for views: ``@login_required``, ``@permission_required``, ``@staff_required``.

Each is a :class:`Guard`: a decorator for one view, and usable for every view
of a router at once (``Router(guards=[login_required])``); ``guard.check(request)``
returns None to let the request through, or the response that refuses it.
A refusal is a redirect to the login page for a browser, and 401 (not logged
in) or 403 (no permission) as JSON for an API client.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ..guards import guard_view
from ..responses import Response

#: Django's ``LOGIN_URL`` default.
LOGIN_URL = "/accounts/login/"


def wants_json(request: Any) -> bool:
    """An API client: it asks for JSON, sends JSON, or authenticates with a bearer token."""
    headers = request.headers
    accept = headers.get("accept", "")
    return (
        "application/json" in accept and "text/html" not in accept
        or headers.get("content-type", "").startswith("application/json")
        or headers.get("authorization", "").lower().startswith("bearer ")
        or headers.get("x-requested-with", "") == "XMLHttpRequest"
    )


class Guard:
    """``test(user) -> bool`` (sync or async); refuses with ``status`` when it fails.

    ``redirect_anonymous``: an anonymous browser is sent to ``login_url`` with
    ``?next=<path>`` instead (Django's behaviour); a logged-in user who fails
    gets 403, never a login loop.
    """

    def __init__(
        self,
        test: Callable[[Any], Any],
        *,
        status: int = 403,
        login_url: str = LOGIN_URL,
        redirect_field_name: str = "next",
        detail: str = "Permission denied",
    ) -> None:
        self.test = test
        self.status = status
        self.login_url = login_url
        self.redirect_field_name = redirect_field_name
        self.detail = detail

    async def check(self, request: Any) -> Response | None:
        user = getattr(request, "user", None)
        if user is None:
            raise RuntimeError("request.user is not set: add hyperdjango.auth.AuthenticationMiddleware to the app")
        passed = self.test(user)
        if inspect.isawaitable(passed):
            passed = await passed
        if passed:
            return None
        if not user.is_authenticated:
            if wants_json(request):
                return Response.json({"detail": "Authentication credentials were not provided"}, status=401,
                                     headers={"www-authenticate": "Bearer"})
            query = urlencode({self.redirect_field_name: request.path + (f"?{request.query_string}" if request.query_string else "")})
            return Response.redirect(f"{self.login_url}?{query}")
        return Response.json({"detail": self.detail}, status=self.status)

    def __call__(self, view: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """``@guard`` on a view; ``guard(login_url=...)`` gives a guard with other options."""
        if view is None:
            settings = {"status": self.status, "login_url": self.login_url,
                        "redirect_field_name": self.redirect_field_name, "detail": self.detail, **options}
            return Guard(self.test, **settings)
        return guard_view(self.check, view)


def _is_authenticated(user: Any) -> bool:
    return user.is_authenticated


def _is_active_staff(user: Any) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


#: Only logged-in users.
login_required = Guard(_is_authenticated, status=401, detail="Authentication credentials were not provided")

#: Only active staff users (Django's ``staff_member_required``).
staff_required = Guard(_is_active_staff)


def permission_required(perm: str | list[str], **options: Any) -> Guard:
    """Only users with ``perm`` (or every permission of a list): ``@permission_required("shop.change_product")``."""
    perms = [perm] if isinstance(perm, str) else list(perm)

    async def has_perms(user: Any) -> bool:
        return user.is_authenticated and await user.has_perms(perms)

    return Guard(has_perms, **options)
