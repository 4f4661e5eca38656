"""Sessions: ``request.session`` with Django's API, stored in a signed cookie,
the database or a cache (see docs/auth.md).

>>> from hyperdjango import HyperApp
>>> from hyperdjango.sessions import SessionMiddleware
>>> app = HyperApp(secret_key="change me")
>>> _ = app.use(SessionMiddleware(engine="db"))
"""

from .base import Session, SessionStore, SessionStoreUnavailable
from .middleware import SessionMiddleware

__all__ = ["Session", "SessionMiddleware", "SessionStore", "SessionStoreUnavailable"]
