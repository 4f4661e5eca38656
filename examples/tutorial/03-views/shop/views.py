"""The views of the shop: HTML pages."""

from html import escape

from hyperdjango import Response
from hyperdjango.shortcuts import get_object_or_404

from .main import app
from .models import Category, Product


def page(title: str, body: str) -> Response:
    """An HTML page with the shop's frame around ``body``."""
    return Response.html(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} · shop</title></head>"
        f"<body><p><a href='{app.url_for('home')}'>shop</a></p><h1>{escape(title)}</h1>{body}</body></html>"
    )


def product_list(products) -> str:
    links = "".join(
        f"<li><a href='{app.url_for('product', id=p.id)}'>{escape(p.name)}</a>: {p.price}</li>" for p in products
    )
    return f"<ul>{links}</ul>"


@app.get("/", name="home")
async def home(request):
    """The home page: the categories, then every product in stock."""
    categories = "".join(
        f"<li><a href='{app.url_for('category', id=c.id)}'>{escape(c.name)}</a></li>" for c in await Category.objects.all()
    )
    products = await Product.objects.filter(stock__gt=0)
    return page("shop", f"<h2>Categories</h2><ul>{categories}</ul><h2>In stock</h2>{product_list(products)}")


@app.get("/categories/{id:int}", name="category")
async def category(request, id: int):
    """One category and its products in stock; 404 for an unknown id."""
    shelf = await get_object_or_404(Category, id=id)
    return page(shelf.name, product_list(await shelf.products.filter(stock__gt=0)))


@app.get("/products/{id:int}", name="product")
async def product(request, id: int):
    """One product; 404 for an unknown id."""
    item = await get_object_or_404(Product.objects.select_related("category"), id=id)
    stock = f"{item.stock} in stock" if item.stock else "sold out"
    return page(item.name, f"<p>{item.price} · {stock} · in <a href='{app.url_for('category', id=item.category_id)}'>"
                           f"{escape(item.category.name)}</a></p>")
