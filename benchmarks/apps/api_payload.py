"""The request of the typed-API benchmark: an order with 10 fields and 20 line items.

Every app decodes and validates this body into its own declared types and answers
with the same receipt, so the comparison is like for like.
"""

import json

BODY = json.dumps({
    "customer": "Ada Lovelace",
    "email": "ada@example.com",
    "currency": "EUR",
    "priority": 3,
    "gift": False,
    "coupon": None,
    "notes": "Leave at the door",
    "address": {"street": "12 Analytical Row", "city": "London", "postcode": "NW1 6XE", "country": "GB"},
    "tags": ["tea", "gift", "weekly"],
    "items": [
        {"sku": f"TEA-{i:03d}", "name": f"Tea number {i}", "quantity": 1 + i % 4, "price": 3.5 + i}
        for i in range(20)
    ],
}).encode()

#: The receipt every app returns for BODY.
RECEIPT = {"customer": "Ada Lovelace", "currency": "EUR", "lines": 20, "units": 50, "total": 675.0}
