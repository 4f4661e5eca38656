"""The TechEmpower workloads as a Django 5.2 project (settings, models, views, ASGI
application in this package), served by uvicorn in benchmarks/run.py:
``uvicorn tfb_django.asgi:application``. Views are synchronous, as Django's TFB entry
writes them: under ASGI Django runs each in its one thread, one hop per request."""
