"""The typed-API benchmark on hyperdjango: msgspec Structs, a response model.

Run: python api_hyperdjango_app.py PORT
"""

import sys

from api_structs import Order, Receipt, receipt_for

from hyperdjango import HyperApp

app = HyperApp(title="api bench")


@app.post("/orders", response_model=Receipt)
async def create_order(order: Order):
    return receipt_for(order)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000, workers=1)
