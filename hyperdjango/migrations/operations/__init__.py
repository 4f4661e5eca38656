"""The operations a migration file lists (Django's names, async RunPython)."""

from .base import IrreversibleError, Operation, SchemaContext
from .fields import AddField, AlterField, RemoveField, RenameField
from .models import AddConstraint, AddIndex, AlterModelTable, CreateModel, DeleteModel, RemoveConstraint, RemoveIndex, RenameModel
from .special import RunPython, RunSQL

__all__ = [
    "AddConstraint",
    "AddField",
    "AddIndex",
    "AlterField",
    "AlterModelTable",
    "CreateModel",
    "DeleteModel",
    "IrreversibleError",
    "Operation",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RenameField",
    "RenameModel",
    "RunPython",
    "RunSQL",
    "SchemaContext",
]
