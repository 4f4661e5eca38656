"""The live stock page: /live shows every product's stock and updates it as orders come in,
over the WebSocket /ws/stock."""

from hyperdjango import Response
from hyperdjango.channels import InMemoryChannelLayer

from .main import app
from .models import Product

#: One process's channel layer; with several processes, PgChannelLayer or RedisChannelLayer
#: (the same interface) carries the messages between them (see step 11).
layer = InMemoryChannelLayer()
stock_channel = layer.channel("stock")


async def publish_stock(product_id: int) -> None:
    """Tells every open live page the product's current stock."""
    product = await Product.objects.get(id=product_id)
    await stock_channel.publish({"type": "stock", "id": product.id, "stock": product.stock})


@app.websocket("/ws/stock")
async def stock_updates(ws, request):
    """Sends a snapshot of the stock, then every change, until the page closes."""
    subscription = stock_channel.subscribe(ws.send_json)
    try:
        products = await Product.objects.values("id", "name", "stock")
        await ws.send_json({"type": "snapshot", "products": products})
        async for _ in ws:  # the page sends nothing; this waits for it to close
            pass
    finally:
        stock_channel.unsubscribe(subscription)


@app.get("/live", name="live")
async def live_page(request):
    """The page: a table that the WebSocket keeps current."""
    return Response.html(LIVE_PAGE)


LIVE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Live stock · shop</title></head>
<body><h1>Live stock</h1>
<table><thead><tr><th>product</th><th>in stock</th></tr></thead><tbody id="stock"></tbody></table>
<script>
const rows = new Map();
const socket = new WebSocket(`ws://${location.host}/ws/stock`);
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.type === "snapshot") {
    for (const product of message.products) {
      const row = document.createElement("tr");
      row.innerHTML = "<td></td><td></td>";
      row.cells[0].textContent = product.name;
      row.cells[1].textContent = product.stock;
      rows.set(product.id, row);
      document.getElementById("stock").append(row);
    }
    document.body.dataset.ready = "1";
  } else if (rows.has(message.id)) {
    rows.get(message.id).cells[1].textContent = message.stock;
  }
};
</script></body></html>
"""
