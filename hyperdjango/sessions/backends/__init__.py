"""Session stores, one module each: ``signed_cookies``, ``db`` and ``cache``."""
