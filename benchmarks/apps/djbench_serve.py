"""The benchmark's Django app as ASGI and WSGI applications."""

import djbench  # noqa: F401  (sets DJANGO_SETTINGS_MODULE and the path to the polls project)
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

asgi_app = get_asgi_application()
wsgi_app = get_wsgi_application()
