"""The app: ``hyper run shop.main:app`` serves it, ``hyper migrate shop.main`` migrates its
database."""

from hyperdjango import HyperApp
from hyperdjango.middleware.csrf import CSRFMiddleware
from hyperdjango.templates import Templates

from . import settings

app = HyperApp(title="shop", database=settings.DATABASE_URL, debug=settings.DEBUG)
app.use(CSRFMiddleware())  # a POST must carry the token of a page the shop served
app.mount_health()  # /health and /ready, for load balancers
app.templates = Templates(None, app_packages=["shop"])  # the templates in shop/templates/
app.static("/static", None, app_packages=["shop"])  # the files in shop/static/, at /static/

# The modules below register their routes on `app` as they are imported.
from . import views  # noqa: E402,F401
