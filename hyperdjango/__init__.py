"""hyperdjango: an async-native, Django-inspired web framework with a Rust engine.

>>> from hyperdjango import HyperApp, Response
>>> app = HyperApp(title="My App")
>>> @app.get("/hello/{name}")
... async def hello(request):
...     return Response.json({"hello": request.params["name"]})
"""

from .app import HyperApp
from .datastructures import FormData, Headers, MutableHeaders, QueryParams, State, UploadFile
from .exceptions import HTTPException, ServiceUnavailable
from .orm import Field, ManyToMany, Model
from .requests import Request
from .responses import FileResponse, Response, StreamingResponse
from .routing import Route, Router
from .websockets import Message, WebSocket, WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "Field",
    "FileResponse",
    "FormData",
    "HTTPException",
    "ServiceUnavailable",
    "Headers",
    "HyperApp",
    "ManyToMany",
    "Model",
    "Message",
    "MutableHeaders",
    "QueryParams",
    "Request",
    "Response",
    "Route",
    "Router",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
]
