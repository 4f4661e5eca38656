"""The typed-API benchmark hand-written: msgspec decode/encode on Granian's RSGI, no framework.

The reference a framework's typed handler is measured against. Run:
granian --interface rsgi api_msgspec_rsgi_app:app
"""

import msgspec
from api_structs import Order, receipt_for

DECODER = msgspec.json.Decoder(Order)
ENCODER = msgspec.json.Encoder()
JSON = [("content-type", "application/json")]


async def app(scope, proto):
    if scope.path != "/orders" or scope.method != "POST":
        proto.response_bytes(404, JSON, b'{"detail":"Not Found"}')
        return
    try:
        order = DECODER.decode(await proto())
    except msgspec.ValidationError as e:
        proto.response_bytes(422, JSON, ENCODER.encode({"detail": [{"msg": str(e)}]}))
        return
    proto.response_bytes(200, JSON, ENCODER.encode(receipt_for(order)))
