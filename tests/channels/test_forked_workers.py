"""A cross-process layer made at import time and forked into worker processes
(``hyper run --workers N`` forks after importing the app) has its own sender id
in each worker: with a shared one, sibling workers skip each other's presence and
group changes as their own, and each sees only its own users."""

from __future__ import annotations

import os

import pytest

from hyperdjango.channels import PgChannelLayer, RedisChannelLayer


@pytest.mark.parametrize("make", [lambda: PgChannelLayer("postgres://localhost/unused"), lambda: RedisChannelLayer()],
                         ids=["postgres", "redis"])
def test_each_forked_process_has_its_own_sender_id(make):
    layer = make()
    parent = layer.sender
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: report its id, and whether it is stable there
        os.write(write, f"{layer.sender} {layer.sender == layer.sender}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child, stable = os.read(read, 100).decode().split()
    os.close(read)
    assert child != parent and stable == "True"
    assert layer.sender == parent  # the parent's own is unchanged
