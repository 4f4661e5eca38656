"""The example chat (examples/chat.py): its WebSocket with real clients, and two
headless Chromium tabs talking through its page."""

from __future__ import annotations

import uuid

import pytest

from examples.chat import mount_chat
from hyperdjango import HyperApp
from hyperdjango.channels import InMemoryChannelLayer
from hyperdjango.testing import TestClient
from support.chromium import Browser, require_chromium


def make_app() -> HyperApp:
    app = HyperApp()
    mount_chat(app, InMemoryChannelLayer())
    return app


async def receive_until(ws, kind: str) -> dict:
    while (msg := await ws.receive_json())["type"] != kind:
        pass
    return msg


async def test_a_newcomer_gets_history_and_everyone_sees_presence():
    async with TestClient(make_app()) as client:
        async with client.websocket_connect("/ws/chat/tea?name=Alice") as alice:
            assert await alice.receive_json() == {"type": "history", "messages": []}
            assert (await receive_until(alice, "presence"))["people"] == [{"user_id": "alice", "name": "Alice"}]
            await alice.send_json({"text": "first!"})
            assert await receive_until(alice, "message") == {"type": "message", "user": "Alice", "text": "first!"}

            async with client.websocket_connect("/ws/chat/tea?name=Bob") as bob:
                history = await bob.receive_json()
                assert history == {"type": "history", "messages": [{"type": "message", "user": "Alice", "text": "first!"}]}
                both = [{"user_id": "alice", "name": "Alice"}, {"user_id": "bob", "name": "Bob"}]
                assert (await receive_until(alice, "presence"))["people"] == both
                await bob.send_json({"text": "hi Alice"})
                assert await receive_until(alice, "message") == {"type": "message", "user": "Bob", "text": "hi Alice"}

            assert (await receive_until(alice, "presence"))["people"] == [{"user_id": "alice", "name": "Alice"}]


async def test_a_malformed_message_gets_an_error_and_the_session_goes_on():
    async with TestClient(make_app()) as client:
        async with client.websocket_connect("/ws/chat/tea?name=Carol") as carol:
            for bad in ("not json", '{"text": 5}', '{"text": ""}', '{"text": "' + "x" * 2001 + '"}'):
                await carol.send_text(bad)
                assert (await receive_until(carol, "error"))["text"].startswith("send {")
            await carol.send_json({"text": "fine"})
            assert (await receive_until(carol, "message"))["text"] == "fine"


async def test_rooms_are_separate_and_the_page_names_its_room():
    async with TestClient(make_app()) as client:
        page = await client.get("/chat/<i>tea")
        assert page.status_code == 200
        assert "#&lt;i&gt;tea" in page.text  # escaped, not markup
        async with client.websocket_connect("/ws/chat/one?name=A") as a, client.websocket_connect("/ws/chat/two?name=B") as b:
            await a.send_json({"text": "in one"})
            await receive_until(a, "message")
            await b.send_json({"text": "in two"})
            assert (await receive_until(b, "message"))["text"] == "in two"  # "in one" never reached room two


@pytest.fixture
def chromium():
    require_chromium()


@pytest.mark.parametrize("compression", [False, True], ids=["plain", "permessage-deflate"])
async def test_two_chromium_tabs_talk_through_the_chat_page(chromium, compression):
    room = f"room-{uuid.uuid4().hex[:8]}"
    text = "hello from a browser" + " and again" * 20 * compression  # long enough to be compressed both ways
    async with TestClient(make_app(), ws_compression=compression) as client, Browser.launch() as browser:
        alice = await browser.open(f"{client.base_url}/chat/{room}?name=Alice")
        bob = await browser.open(f"{client.base_url}/chat/{room}?name=Bob")
        for page in (alice, bob):
            await page.wait_for("document.body.dataset.ready === '1'")
        await alice.wait_for("document.getElementById('people').textContent.split(', ').sort().join() === 'Alice,Bob'")
        negotiated = await alice.evaluate("ws.extensions")  # the page's socket
        assert negotiated.startswith("permessage-deflate") if compression else negotiated == ""

        await alice.evaluate(f"document.getElementById('text').value = {text!r}; document.querySelector('#send button').click()")

        line = await bob.wait_for(
            "[...document.querySelectorAll('#log p')].map(p => p.textContent)"
            f".find(t => t === {'Alice: ' + text!r})"
        )
        assert line == f"Alice: {text}"
        assert await alice.evaluate("document.getElementById('text').value") == ""
