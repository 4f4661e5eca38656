"""The views of shop."""

from html import escape

from hyperdjango import Response

from .main import app
from .models import Item


@app.get("/", name="home")
async def home(request):
    """The home page: every item, by name."""
    items = "".join(f"<li>{escape(item.name)}</li>" for item in await Item.objects.all())
    return Response.html(f"<!doctype html><title>shop</title><h1>shop</h1><ul>{items}</ul>")
