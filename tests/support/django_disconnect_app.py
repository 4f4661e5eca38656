"""A one-file Django ASGI app whose view waits long and notes its cancellation
in the file named by ``$DISCONNECT_MARKER`` (tests/django/test_disconnect.py)."""

import asyncio
import os
import types

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path


async def slow(request):
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        with open(os.environ["DISCONNECT_MARKER"], "w") as marker:
            marker.write("cancelled")
        raise
    return HttpResponse("finished")


urls = types.ModuleType("disconnect_urls")
urls.urlpatterns = [path("slow", slow)]
settings.configure(SECRET_KEY="test-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=urls, DATABASES={})
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
