"""``Migration``: the class every migration file defines."""

from __future__ import annotations

from typing import Any, ClassVar


class Migration:
    """One step of an app's schema, as in Django::

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [migrations.AddField("Product", "note", fields.TextField(null=True))]

    ``dependencies`` are ``(app, migration name)`` pairs applied before this one.
    """

    dependencies: ClassVar[list[tuple[str, str]]] = []
    operations: ClassVar[list[Any]] = []

    def __init__(self, app: str, name: str) -> None:
        self.app = app
        self.name = name
        #: What applies first: the previous migration of the app, then the dependencies (set by the loader).
        self.parents: list[tuple[str, str]] = []

    @property
    def key(self) -> tuple[str, str]:
        return (self.app, self.name)

    def __repr__(self) -> str:
        return f"<Migration {self.app}.{self.name}>"
