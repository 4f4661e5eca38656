"""Settings of the Django TFB app: PostgreSQL from ``$DATABASE_URL`` through psycopg 3's
connection pool (under ASGI every request is a context of its own, so persistent
connections would be one per request, never reused: Django's docs say to pool instead),
no middleware (TFB's Django entry has none either)."""

import os
from pathlib import Path
from urllib.parse import urlsplit

_url = urlsplit(os.environ["DATABASE_URL"])

SECRET_KEY = "benchmark-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tfb_django.urls"
INSTALLED_APPS = ["tfb_django"]
MIDDLEWARE: list[str] = []
USE_TZ = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": _url.port or "",
        "OPTIONS": {"pool": {"min_size": 8, "max_size": 8}},
    }
}
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [str(Path(__file__).resolve().parents[1] / "templates" / "django")],
}]
# A failing request is logged (to stderr, which run.py keeps and shows when a server fails).
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
