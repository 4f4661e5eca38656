"""The views of the shop: HTML pages, drawn by the templates in shop/templates/shop/."""

from hyperdjango import Response
from hyperdjango.shortcuts import get_object_or_404
from hyperdjango.templates import render

from .forms import product_form
from .main import app
from .models import Category, Product


@app.get("/", name="home")
async def home(request):
    """The home page: the categories, then every product in stock."""
    return await render(request, "shop/home.html", {
        "categories": await Category.objects.all(),
        "products": await Product.objects.filter(stock__gt=0),
    })


@app.get("/categories/{id:int}", name="category")
async def category(request, id: int):
    """One category and its products in stock; 404 for an unknown id."""
    shelf = await get_object_or_404(Category, id=id)
    products = await shelf.products.filter(stock__gt=0)
    return await render(request, "shop/category.html", {"category": shelf, "products": products})


@app.get("/products/{id:int}", name="product")
async def product(request, id: int):
    """One product; 404 for an unknown id."""
    item = await get_object_or_404(Product.objects.select_related("category"), id=id)
    return await render(request, "shop/product.html", {"product": item})


@app.route("/products/new", methods=["GET", "POST"], name="new_product")
async def new_product(request):
    """The form that adds a product. A valid one is saved and the browser is sent to the new
    product's page; an invalid one comes back with its errors (and a 400)."""
    form = await product_form(await request.form() if request.method == "POST" else None)
    if request.method == "POST" and await form.is_valid():
        product = await form.save()
        return Response.redirect(app.url_for("product", id=product.id), status=303)
    return await render(request, "shop/product_form.html", {"form": form}, status=400 if form.is_bound else 200)
