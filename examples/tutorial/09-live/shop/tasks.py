"""Background tasks: work that should not keep a customer waiting."""

from .main import app
from .models import Order

#: Confirmations "sent", for the tests; a real shop would send an email here.
outbox: list[str] = []


@app.task(max_retries=3)
async def send_confirmation(order_id: int) -> None:
    """Sends the order's confirmation and marks it confirmed (retried up to 3 times on an error)."""
    order = await Order.objects.select_related("product").get(id=order_id)
    if order is None or order.confirmed:
        return  # a retry after a success, or a deleted order: nothing to do
    outbox.append(f"To {order.email}: {order.quantity} × {order.product.name} are on their way.")
    order.confirmed = True
    await order.save(update_fields=["confirmed"])
