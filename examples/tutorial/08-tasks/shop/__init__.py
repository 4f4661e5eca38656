"""shop: a hyperdjango project (see README.md)."""
