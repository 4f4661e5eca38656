"""The project mounted in a HyperApp, with one hyperdjango view beside it that shares
Django's login: ``hyper run mysite.hyper:app``.

``/hyper/whoami`` is hyperdjango's; every other path is Django's. A user who logged in
through Django's login page or admin is ``request.user`` in the hyperdjango view too.
"""

from django.conf import settings

from mysite.asgi import application as django_app

from hyperdjango import HyperApp
from hyperdjango.auth.django_sessions import DjangoSessionAuthMiddleware

app = HyperApp(database=f"sqlite:///{settings.DATABASES['default']['NAME']}", secret_key=settings.SECRET_KEY)
app.use(DjangoSessionAuthMiddleware(secret_key=settings.SECRET_KEY, secret_key_fallbacks=settings.SECRET_KEY_FALLBACKS))


@app.get("/hyper/whoami")
async def whoami(request):
    user = request.user
    return {"authenticated": user.is_authenticated, "username": user.username, "is_staff": user.is_staff}


app.mount("/", django_app)
