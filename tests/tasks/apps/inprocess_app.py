"""An app with the default, in-process task queue."""

from hyperdjango import HyperApp

app = HyperApp(database="sqlite://:memory:")
