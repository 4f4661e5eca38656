"""Shared helpers for the HTTP tests: every test builds its own app and talks to
it through TestClient, i.e. the real engine on a free port over real sockets."""

from __future__ import annotations

import pytest

from support.raw_http import raw_request


@pytest.fixture
def raw():
    """``raw(base_url, request_bytes) -> response_bytes`` over a plain socket."""
    return raw_request
