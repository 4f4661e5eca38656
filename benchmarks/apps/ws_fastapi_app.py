"""The WebSocket benchmark app on FastAPI, written the way a user would write it.

Same endpoints as ws_hyperdjango_app.py; served by uvicorn (uvloop, its default
WebSocket implementation); see ws_bench.py.
"""

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
subscribers: set[WebSocket] = set()


@app.websocket("/ws/echo")
async def echo(ws: WebSocket):
    await ws.accept()
    try:
        while True:
            await ws.send_text(await ws.receive_text())
    except WebSocketDisconnect:
        pass


@app.websocket("/ws/fanout")
async def fanout(ws: WebSocket, pub: str | None = None):
    await ws.accept()
    try:
        if pub == "1":
            while True:
                text = await ws.receive_text()
                for subscriber in list(subscribers):
                    await subscriber.send_text(text)
        subscribers.add(ws)
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        subscribers.discard(ws)


@app.get("/ready")
async def ready():
    return {"ok": True}
