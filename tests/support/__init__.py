"""Test support: real PostgreSQL (and later Redis) servers for the suite."""
