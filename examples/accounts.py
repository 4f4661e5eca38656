"""The example shop's accounts: log in and out with a session, and a view only
users with the ``examples.change_product`` permission may use.

Make a user with ``hyper createsuperuser examples.shop``, then open
http://127.0.0.1:8000/accounts/login/.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hyperdjango import HyperApp, Response
from hyperdjango.auth import authenticate, login, login_required, logout, permission_required
from hyperdjango.shortcuts import get_object_or_404

LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Log in</title></head>
<body><h1>Log in</h1>{error}
<form method="post"><input type="hidden" name="next" value="{next}">
<p><label>Username <input name="username" autofocus></label></p>
<p><label>Password <input name="password" type="password"></label></p>
<p><button>Log in</button></p></form></body></html>"""


def _safe_next(target: str | None) -> str:
    """Only a path of this site: ``//evil.example`` or ``https://...`` would be an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/accounts/profile/"


class Restock(msgspec.Struct):
    """How many units to add to a product's stock."""

    add: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1


class Stock(msgspec.Struct):
    id: int
    stock: int


def mount_accounts(app: HyperApp, product_model) -> None:
    """Adds the login form, logout, the profile and the restock view to ``app``."""

    @app.get("/accounts/login/")
    async def login_form(request):
        return Response.html(LOGIN_PAGE.format(error="", next=_safe_next(request.query.get("next"))))

    @app.post("/accounts/login/")
    async def login_submit(request):
        form = await request.form()
        user = await authenticate(request, username=form.get("username"), password=form.get("password"))
        if user is None:
            page = LOGIN_PAGE.format(error="<p>Wrong username or password.</p>", next=_safe_next(form.get("next")))
            return Response.html(page, status=401)
        await login(request, user)
        return Response.redirect(_safe_next(form.get("next")), status=303)

    @app.post("/accounts/logout/")
    async def logout_view(request):
        await logout(request)
        return Response.redirect("/", status=303)

    @app.get("/accounts/profile/")
    @login_required
    async def profile(request):
        user = request.user
        return {"username": user.username, "staff": user.is_staff,
                "permissions": sorted(await user.get_all_permissions()), "superuser": user.is_superuser}

    @app.post("/api/products/{id:int}/restock", tags=["admin"], response_model=Stock,
              responses={401: {"description": "Not logged in"},
                         403: {"description": "Without the examples.change_product permission"},
                         404: {"description": "No such product"}})
    @permission_required("examples.change_product")
    async def restock(request, id: int, body: Restock):
        """Adds ``add`` units to a product's stock (staff with the change permission only)."""
        product = await get_object_or_404(product_model, id=id)
        product.stock += body.add
        await product.save(update_fields=["stock"])
        return Stock(id=product.id, stock=product.stock)
