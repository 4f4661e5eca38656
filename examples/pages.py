"""The example shop's HTML pages: a product list and detail, and a form that
creates a product (with its validation errors shown), drawn by templates in
``examples/templates/`` with the hashed CSS of ``examples/static/``."""

from __future__ import annotations

from typing import Any

from hyperdjango import HTTPException, HyperApp, Response
from hyperdjango.forms import ModelForm
from hyperdjango.templates import render


def mount_pages(app: HyperApp, product_model: Any) -> None:
    """Adds ``/shop/``, ``/shop/{id}`` and ``/shop/new`` for ``product_model`` (HTML
    pages: not in the API's OpenAPI document)."""

    class ProductForm(ModelForm):
        class Meta:
            model = product_model
            fields = ["name", "price", "stock"]
            help_texts = {"price": "In euros, e.g. 4.50"}

    @app.get("/shop/", include_in_schema=False)
    async def shop_list(request):
        products = await product_model.objects.filter(active=True).order_by("name").all()
        return await render(request, "shop/list.html", {"products": products})

    @app.get("/shop/{id:int}", include_in_schema=False)
    async def shop_detail(request):
        product = await product_model.objects.get(id=request.params["id"])
        if product is None:
            raise HTTPException(404, "No such product")
        return await render(request, "shop/detail.html", {"product": product})

    @app.route("/shop/new", methods=["GET", "POST"], include_in_schema=False)
    async def shop_new(request):
        form = ProductForm(await request.form() if request.method == "POST" else None)
        if request.method == "POST" and await form.is_valid():
            product = await form.save()
            return Response.redirect(app.url_for("shop_detail", id=product.id), status=303)
        status = 400 if form.is_bound else 200
        return await render(request, "shop/new.html", {"form": form}, status=status)
