"""The library as a Django app, for the oracle."""
