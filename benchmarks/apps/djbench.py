"""Settings of the Django app of benchmarks/django_bench.py: the tutorial's polls
project (examples/djpolls) plus the views of djbench_urls.py; served as
djbench_serve:asgi_app and djbench_serve:wsgi_app."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "djpolls"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djbench")
os.environ.setdefault("DJPOLLS_SECRET_KEY", "benchmark-only-secret")

from mysite.settings import *  # noqa: E402,F401,F403  (the polls project's settings)

ROOT_URLCONF = "djbench_urls"
DEBUG = False
TEMPLATES[0]["DIRS"] = [str(Path(__file__).resolve().parent / "templates" / "django")]  # noqa: F405
MIDDLEWARE = [m for m in MIDDLEWARE if "csrf" not in m]  # noqa: F405  (read-only benchmark views)

