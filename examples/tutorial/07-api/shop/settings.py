"""Settings of shop, read from the environment so that a deployment sets them without
editing code."""

import os

#: Where the data lives: ``sqlite:///path`` or ``postgresql://user:password@host/name``.
DATABASE_URL = os.environ.get("HYPERDJANGO_DATABASE_URL", "sqlite:///db.sqlite3")

#: Tracebacks in error responses: never in production.
DEBUG = os.environ.get("DEBUG", "") == "1"

#: Signs the session cookies. Required unless DEBUG is on; generate one with
#: ``python -c 'import secrets; print(secrets.token_urlsafe(50))'`` and keep it secret.
SECRET_KEY = os.environ.get("HYPERDJANGO_SECRET_KEY")
