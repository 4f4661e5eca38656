"""Static files: folders served at a URL prefix by the Rust server, and
``hyper collectstatic``, which gathers them into one folder with content-hashed
names, a manifest and precompressed siblings.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "app.css").write_text("body{}")
>>> out = root / "collected"
>>> manifest = collect([root], out)
>>> manifest["app.css"]
'app.7c98040a5416.css'
>>> StaticFiles("/static", [out]).url("app.css")
'/static/app.7c98040a5416.css'
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from . import _core, static_css
from .exceptions import HTTPException
from .requests import Request  # at run time: the view's annotations are resolved at registration
from .responses import FileResponse

#: The manifest ``collect`` writes: ``{"paths": {"app.css": "app.3f2a1c9e0b7d.css"}}``.
MANIFEST_NAME = "staticfiles.json"

#: Files worth compressing ahead of time (text; images and archives are compressed already).
COMPRESSIBLE = {".css", ".js", ".mjs", ".json", ".html", ".htm", ".svg", ".txt", ".xml", ".map", ".wasm"}

IMMUTABLE = "public, max-age=31536000, immutable"


class StaticFiles:
    """Files below ``directories`` (searched in order) served at ``prefix``.

    Lookup and validation run in Rust: ``..``, encoded dots, absolute paths and
    symlinks leading out of a folder are 404; ETag/If-None-Match and
    If-Modified-Since answer 304; a ``Range`` answers 206; a ``.br``/``.gz`` sibling
    is sent when the client accepts it. A folder made by ``hyper collectstatic``
    holds a manifest: :meth:`url` then gives hashed names, and those are sent with
    ``Cache-Control: immutable``.
    """

    def __init__(
        self,
        prefix: str,
        directories: Iterable[str | os.PathLike[str]],
        *,
        sources: Iterable[str | os.PathLike[str]] | None = None,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.prefix = "/" + prefix.strip("/")
        self.directories = [Path(d).resolve() for d in directories]
        self._roots = [str(d) for d in self.directories]
        self.manifest: dict[str, str] = {}
        for directory in self.directories:
            manifest = directory / MANIFEST_NAME
            if manifest.is_file():
                self.manifest = json.loads(manifest.read_text())["paths"]
                break
        self._hashed = set(self.manifest.values())
        #: What ``hyper collectstatic`` gathers (default: the served folders) and where to.
        self.sources = [os.fspath(d) for d in (self.directories if sources is None else sources)]
        self.root = None if root is None else os.fspath(root)

    def url(self, path: str) -> str:
        """The URL of the static file ``path`` (its hashed name when collected)."""
        path = path.lstrip("/")
        return f"{self.prefix.rstrip('/')}/{quote(self.manifest.get(path, path))}"

    async def view(self, request: Request) -> FileResponse:
        """The view mounted at ``<prefix>/{path:path}``."""
        relative = request.params["path"]
        found = _core.find_file(self._roots, relative)
        if found is None or os.path.basename(relative) == MANIFEST_NAME:
            raise HTTPException(404)
        response = FileResponse(found, media_type=_media_type(relative), precompressed=True)
        response.headers["cache-control"] = IMMUTABLE if relative in self._hashed else "no-cache"
        return response


def _media_type(name: str) -> str | None:
    import mimetypes

    return mimetypes.guess_type(name)[0]


def app_static_dirs(packages: Iterable[str]) -> list[Path]:
    """The ``static/`` folder of each package that has one (Django's per-app folders)."""
    dirs = []
    for name in packages:
        origin = getattr(importlib.import_module(name), "__file__", None)
        if origin and (Path(origin).parent / "static").is_dir():
            dirs.append(Path(origin).parent / "static")
    return dirs


def hashed_name(relative: str, content: bytes) -> str:
    """``css/app.css`` → ``css/app.<12 hex digits of its SHA-256>.css``."""
    digest = hashlib.sha256(content).hexdigest()[:12]
    head, dot, ext = relative.rpartition(".")
    if not dot or "/" in ext:
        return f"{relative}.{digest}"
    return f"{head}.{digest}.{ext}"


def collect(directories: Iterable[str | os.PathLike[str]], output: str | os.PathLike[str], *, static_url: str | None = None) -> dict[str, str]:
    """Copies every file below ``directories`` into ``output`` under its own name and
    a content-hashed one (the first folder holding a name wins, as when serving),
    writes ``.gz`` (and ``.br`` when the ``brotli`` package is installed) beside
    compressible files, and the manifest. Returns the manifest's paths.

    In the hashed copy of a stylesheet, ``url(...)`` and ``@import`` references (and
    a stylesheet's or a script's source map) point at hashed names too (see
    :mod:`hyperdjango.static_css`; absolute ones too when they start with
    ``static_url``, the URL the files are served at); a reference to a missing file,
    or outside the folders, is a CSSReferenceError naming both."""
    out = Path(output).resolve()
    sources: dict[str, Path] = {}
    for directory in directories:
        root = Path(directory).resolve()
        for source in sorted(root.rglob("*")):
            relative = source.relative_to(root).as_posix()
            if source.is_file() and relative not in sources and not source.is_relative_to(out) and relative != MANIFEST_NAME:
                sources[relative] = source
    hashed = _HashedContents(sources, None if static_url is None else static_url.rstrip("/") + "/")
    paths = {relative: hashed.name(relative) for relative in sources}
    out.mkdir(parents=True, exist_ok=True)
    for relative in sources:
        for name, content in ((relative, hashed.original(relative)), (paths[relative], hashed.content(relative))):
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            if target.suffix.lower() in COMPRESSIBLE:
                _precompress(target, content)
    (out / MANIFEST_NAME).write_text(json.dumps({"version": 1, "paths": paths}, indent=1, sort_keys=True))
    return paths


class _HashedContents:
    """Each file's hashed name and the bytes stored under it: a stylesheet's references
    rewritten first, its own hash taken after (so it changes with what it refers to)."""

    def __init__(self, sources: dict[str, Path], static_url: str | None) -> None:
        self.sources = sources
        self.static_url = static_url
        self._original: dict[str, bytes] = {}
        self._content: dict[str, bytes] = {}
        self._names: dict[str, str] = {}
        self._in_progress: list[str] = []

    def original(self, relative: str) -> bytes:
        if relative not in self._original:
            self._original[relative] = self.sources[relative].read_bytes()
        return self._original[relative]

    def content(self, relative: str) -> bytes:
        self.name(relative)
        return self._content[relative]

    def name(self, relative: str) -> str:
        if relative in self._names:
            return self._names[relative]
        content = self.original(relative)
        if static_css.has_references(relative):
            if relative in self._in_progress:
                cycle = " → ".join([*self._in_progress[self._in_progress.index(relative):], relative])
                raise static_css.CSSReferenceError(f"stylesheets refer to each other in a cycle: {cycle}")
            self._in_progress.append(relative)
            try:
                content = static_css.rewrite_references(content.decode("utf-8", "surrogateescape"), relative, self._referenced, self.static_url).encode("utf-8", "surrogateescape")
            finally:
                self._in_progress.pop()
        self._content[relative] = content
        self._names[relative] = hashed_name(relative, content)
        return self._names[relative]

    def _referenced(self, path: str) -> str:
        if path not in self.sources:
            raise KeyError(path)
        return self.name(path)


def _precompress(target: Path, content: bytes) -> None:
    # mtime=0: the same input gives the same bytes, so hashed files stay reproducible.
    Path(f"{target}.gz").write_bytes(gzip.compress(content, compresslevel=9, mtime=0))
    try:
        import brotli  # type: ignore[import-not-found]
    except ImportError:
        return
    Path(f"{target}.br").write_bytes(brotli.compress(content))
