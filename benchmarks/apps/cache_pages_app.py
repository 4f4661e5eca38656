"""The cache benchmark's pages (benchmarks/cache_bench.py): one ORM page, uncached and cached.

``CACHE_BENCH_DB`` is the database (SQLite file or PostgreSQL) holding 50 products;
``/products-cached`` caches in memory, ``/products-cached-redis`` in the Redis of
``CACHE_BENCH_REDIS`` (when set).
"""

import os

from hyperdjango import HyperApp
from hyperdjango.cache import cache_page

from apps.orm_hyperdjango import Product

redis_url = os.environ.get("CACHE_BENCH_REDIS")
caches = {"default": {"BACKEND": "locmem"}}
if redis_url:
    caches["redis"] = {"BACKEND": "redis", "LOCATION": redis_url, "KEY_PREFIX": "pages"}
app = HyperApp(database=os.environ.get("CACHE_BENCH_DB", "sqlite:///cache_bench.sqlite3"), caches=caches)


async def product_list(request):
    return [
        {"id": p.id, "name": p.name, "price": p.price, "stock": p.stock}
        async for p in Product.objects.filter(category_id=1).order_by("id")
    ]


app.add_route("/products", product_list, ("GET",), "products")
app.add_route("/products-cached", cache_page(60)(product_list), ("GET",), "products_cached")
if redis_url:
    app.add_route("/products-cached-redis", cache_page(60, cache="redis")(product_list), ("GET",), "products_cached_redis")
