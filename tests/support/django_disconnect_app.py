"""A one-file Django ASGI app whose view waits long and notes its cancellation
in the file named by ``$DISCONNECT_MARKER`` (tests/django/test_disconnect.py).

Django is configured on the first request, in the server process only: pytest
imports this module too (doctests) and must not get Django's settings."""

from __future__ import annotations

import asyncio
import functools
import os
import types


async def slow(request):
    from django.http import HttpResponse

    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        with open(os.environ["DISCONNECT_MARKER"], "w") as marker:
            marker.write("cancelled")
        raise
    return HttpResponse("finished")


@functools.cache
def django_handler():
    import django
    from django.conf import settings
    from django.core.asgi import get_asgi_application
    from django.urls import path

    urls = types.ModuleType("disconnect_urls")
    urls.urlpatterns = [path("slow", slow)]
    settings.configure(SECRET_KEY="test-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=urls, DATABASES={})
    django.setup()
    return get_asgi_application()


async def application(scope, receive, send):
    await django_handler()(scope, receive, send)
