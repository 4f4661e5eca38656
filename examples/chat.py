"""The example chat: the spec's chat handler and a page to talk through it.

``mount_chat(app)`` adds two routes to an app (the example shop mounts them):

- ``GET /chat/{room}`` — a page that joins ``room`` over a WebSocket, shows who
  is there and what was said, and sends what you type;
- ``/ws/chat/{room}?name=Alice`` — the spec's chat handler. On top of the spec,
  it greets a newcomer with the room's history and tells everyone who is
  present whenever that changes.

Open http://127.0.0.1:8000/chat/lobby in two tabs to see them talk. The layer
is an ``InMemoryChannelLayer`` (one process); give ``mount_chat`` a
``PgChannelLayer`` to chat across processes and machines, with no handler change.
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

from hyperdjango import HyperApp, Response
from hyperdjango.channels import InMemoryChannelLayer

NAME = re.compile(r"[\w .-]{1,32}")
MAX_TEXT = 2000


async def get_user(request):
    """The chatting user, named by ``?name=`` (letters, digits, ``_ .-``; 32 at most)."""
    name = request.query.get("name", "").strip()
    if not NAME.fullmatch(name):
        name = "guest"
    return SimpleNamespace(id=name.lower(), name=name)


def mount_chat(app: HyperApp, layer=None) -> None:
    """Adds the chat page and its WebSocket to ``app``, on ``layer``
    (an ``InMemoryChannelLayer`` when None), which the app connects on startup."""
    if layer is None:
        layer = InMemoryChannelLayer()

    @app.on_startup
    async def connect_chat_layer():
        await layer.connect()

    @app.on_shutdown
    async def close_chat_layer():
        await layer.close()

    @app.get("/chat/{room}")
    async def chat_page(request):
        return Response.html(PAGE.replace("{{ROOM}}", html.escape(request.params["room"])))

    @app.websocket("/ws/chat/{room}")
    async def chat_handler(ws, request):
        room = request.params["room"]
        channel = layer.channel(f"chat:{room}")
        # Presence snapshots go on a channel of their own so the room's history holds only messages.
        people = layer.channel(f"chat:{room}:presence")
        user = await get_user(request)

        # Join presence
        channel.join(user_id=str(user.id), metadata={"name": user.name})

        # Subscribe to room messages
        async def forward(msg):
            await ws.send_json(msg)

        sub_id = channel.subscribe(forward)
        people_id = people.subscribe(forward)
        await ws.send_json({"type": "history", "messages": channel.history(limit=50)})
        await people.publish({"type": "presence", "people": channel.presence()})

        try:
            async for msg in ws:
                text = chat_text(msg)
                if text is None:
                    await ws.send_json({"type": "error", "text": f'send {{"text": "..."}} (1 to {MAX_TEXT} characters)'})
                    continue
                await channel.publish({
                    "type": "message",
                    "user": user.name,
                    "text": text,
                })
        finally:
            channel.unsubscribe(sub_id)
            people.unsubscribe(people_id)
            channel.leave(user_id=str(user.id))
            await people.publish({"type": "presence", "people": channel.presence()})


def chat_text(msg) -> str | None:
    """The ``text`` of a ``{"text": ...}`` message, or None when it is not one."""
    try:
        text = msg.json().get("text") if msg.type == "text" else None
    except (ValueError, AttributeError):
        return None
    return text if isinstance(text, str) and 0 < len(text) <= MAX_TEXT else None


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>chat: {{ROOM}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;line-height:1.4}
#log{border:1px solid #ccc;height:22rem;overflow-y:auto;padding:.5rem;margin:.5rem 0}
#log p{margin:.2rem 0} .who{font-weight:600} .note{color:#777}
form{display:flex;gap:.5rem} #text{flex:1}
</style></head>
<body>
<h1>#{{ROOM}}</h1>
<p>Present: <span id="people">nobody yet</span> · <span id="status">connecting…</span></p>
<div id="log"></div>
<form id="send"><input id="text" autocomplete="off" placeholder="say something" maxlength="2000">
<button>Send</button></form>
<script>
const params = new URLSearchParams(location.search);
const name = params.get("name") || "guest-" + Math.random().toString(36).slice(2, 6);
const room = decodeURIComponent(location.pathname.split("/").pop());
const log = document.getElementById("log");
const status = document.getElementById("status");

function show(who, text, cls) {
  const p = document.createElement("p");
  if (who) { const b = document.createElement("span"); b.className = "who"; b.textContent = who + ": "; p.append(b); }
  p.append(document.createTextNode(text));
  if (cls) p.className = cls;
  log.append(p);
  log.scrollTop = log.scrollHeight;
}

const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const ws = new WebSocket(scheme + location.host + "/ws/chat/" + encodeURIComponent(room) + "?name=" + encodeURIComponent(name));
ws.onopen = () => { status.textContent = "connected as " + name; document.body.dataset.ready = "1"; };
ws.onclose = (e) => { status.textContent = "disconnected (" + e.code + ")"; };
ws.onmessage = (event) => {
  const msg = JSON.parse(event.data);
  if (msg.type === "message") show(msg.user, msg.text);
  else if (msg.type === "history") msg.messages.forEach((m) => show(m.user, m.text, "note"));
  else if (msg.type === "presence") document.getElementById("people").textContent = msg.people.map((p) => p.name).join(", ") || "nobody";
  else if (msg.type === "error") show(null, msg.text, "note");
};
document.getElementById("send").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (input.value && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify({text: input.value})); input.value = ""; }
};
</script>
</body></html>
"""
