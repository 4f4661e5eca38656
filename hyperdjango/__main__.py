"""``python -m hyperdjango`` is the ``hyper`` command."""

from .cli import main

main()
