"""The app: ``hyper run shop.main:app`` serves it, ``hyper migrate shop.main`` migrates its
database."""

from hyperdjango import HyperApp

from . import settings

app = HyperApp(title="shop", database=settings.DATABASE_URL, debug=settings.DEBUG)
app.mount_health()  # /health and /ready, for load balancers
app.mount_docs()  # /openapi.json, and the API's pages at /docs (Swagger UI) and /redoc

# The modules below register their routes on `app` as they are imported.
from . import api, views  # noqa: E402,F401
