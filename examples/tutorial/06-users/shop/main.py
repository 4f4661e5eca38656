"""The app: ``hyper run shop.main:app`` serves it, ``hyper migrate shop.main`` migrates its
database."""

from hyperdjango import HyperApp
from hyperdjango.auth import AuthenticationMiddleware
from hyperdjango.middleware.csrf import CSRFMiddleware
from hyperdjango.sessions import SessionMiddleware
from hyperdjango.templates import Templates

from . import settings

app = HyperApp(title="shop", database=settings.DATABASE_URL, debug=settings.DEBUG, secret_key=settings.SECRET_KEY)
app.use(SessionMiddleware(engine="db"))  # request.session, kept in the database
app.use(CSRFMiddleware())  # a POST must carry the token of a page the shop served
app.use(AuthenticationMiddleware())  # request.user: the logged-in user, or AnonymousUser
app.mount_health()  # /health and /ready, for load balancers
app.templates = Templates(None, app_packages=["shop"])  # the templates in shop/templates/
app.static("/static", None, app_packages=["shop"])  # the files in shop/static/, at /static/

# The modules below register their routes on `app` as they are imported.
from . import accounts, views  # noqa: E402,F401
