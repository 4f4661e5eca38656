"""The models of shop. Change them, then ``hyper makemigrations shop.main``."""

from datetime import datetime

from hyperdjango import Field, Model


class Item(Model):
    """Something the home page lists."""

    class Meta:
        ordering = ["name"]

    name: str = Field(max_length=200)
    created_at: datetime = Field(auto_now_add=True)
