"""Example applications; ``./dev.sh serve`` runs ``examples.shop``."""
