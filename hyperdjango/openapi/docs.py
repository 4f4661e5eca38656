"""``/openapi.json``, ``/docs`` (Swagger UI) and ``/redoc``, mounted by ``app.mount_docs()``.

The pages load Swagger UI and ReDoc from files shipped in the package
(``assets/``, vendored from pinned npm packages by ``vendor.py``): they work
offline and never reach a CDN.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import encoding
from ..exceptions import HTTPException
from ..responses import FileResponse, Response
from .document import openapi_document

if TYPE_CHECKING:
    from ..app import HyperApp

ASSETS = Path(__file__).with_name("assets")
_ASSET_FILES = {p.name for p in ASSETS.iterdir() if p.suffix in (".js", ".css")}

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: {spec}, dom_id: "#swagger-ui", deepLinking: true}});</script>
</body></html>
"""

# The pages may load nothing but this server's files (ReDoc would fetch its logo from a CDN).
_POLICY = {
    "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'",
}

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><redoc spec-url="{spec}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body></html>
"""


def mount_docs(
    app: HyperApp,
    *,
    openapi_url: str = "/openapi.json",
    docs_url: str | None = "/docs",
    redoc_url: str | None = "/redoc",
    **document_options: Any,
) -> None:
    """Adds the routes; ``document_options`` go to :func:`openapi_document` (``version``,
    ``description``, ``servers``, ``tags``). The document is built on first request
    (every route is registered by then) and kept."""
    built: list[bytes] = []

    async def openapi_json(request: Any) -> Response:
        if not built:
            built.append(encoding.dumps(openapi_document(app, **document_options)))
        return Response(built[0], media_type="application/json")

    app.add_route(openapi_url, openapi_json, ("GET",), "openapi", include_in_schema=False)
    assets = (docs_url or redoc_url or "/docs").rstrip("/") + "/assets"
    # A JSON string inside <script>: "<" escaped so that no "</script>" can close it.
    spec = encoding.dumps(openapi_url).decode().replace("<", "\\u003c")
    title = html.escape(app.title)
    if docs_url:
        page = _SWAGGER.format(title=f"{title} - Swagger UI", assets=assets, spec=spec)

        async def swagger_ui(request: Any) -> Response:
            return Response.html(page, headers=_POLICY)

        app.add_route(docs_url, swagger_ui, ("GET",), "swagger_ui", include_in_schema=False)
    if redoc_url:
        redoc_page = _REDOC.format(title=f"{title} - ReDoc", assets=assets, spec=html.escape(openapi_url))

        async def redoc(request: Any) -> Response:
            return Response.html(redoc_page, headers=_POLICY)

        app.add_route(redoc_url, redoc, ("GET",), "redoc", include_in_schema=False)
    if docs_url or redoc_url:

        async def docs_asset(request: Any, name: str) -> Response:
            if name not in _ASSET_FILES:  # only the shipped files: no path can leave the folder
                raise HTTPException(404)
            return FileResponse(ASSETS / name, headers={"cache-control": "public, max-age=86400"})

        app.add_route(assets + "/{name}", docs_asset, ("GET",), "docs_asset", include_in_schema=False)
