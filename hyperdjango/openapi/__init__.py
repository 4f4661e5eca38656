"""OpenAPI 3.1 for an app: the document (:func:`openapi_document`) and its pages (:func:`mount_docs`)."""

from .docs import mount_docs
from .document import openapi_document

__all__ = ["mount_docs", "openapi_document"]
