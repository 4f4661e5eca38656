"""The views of the shop."""

from html import escape

from hyperdjango import Response

from .main import app
from .models import Product


@app.get("/", name="home")
async def home(request):
    """The home page: every product in stock, by name, with its category."""
    products = await Product.objects.filter(stock__gt=0).select_related("category")
    items = "".join(f"<li>{escape(p.name)} ({escape(p.category.name)}): {p.price}</li>" for p in products)
    return Response.html(f"<!doctype html><title>shop</title><h1>shop</h1><ul>{items}</ul>")
