"""References inside CSS (``url(...)``, ``@import``, a source map) and a JavaScript
file's source map, rewritten to hashed names.

``hyper collectstatic`` gives each file a content-hashed name; a stylesheet that
says ``url("../img/logo.png")`` must then point at ``../img/logo.<hash>.png``,
or the browser keeps a stale image behind a cached stylesheet. As Django's
``ManifestStaticFilesStorage``:

- a relative reference is resolved against the stylesheet's folder, a
  percent-encoded one (``my%20logo.png``) decoded first; an absolute path under
  the static URL (``/static/img/a.png``, when ``collect`` is given that URL) is
  resolved from the static root;
- data URIs, URLs with a scheme or host (``https:``, ``//cdn``), other absolute
  paths (``/media/x``), folders (``fonts/``) and fragment-only references
  (``#id``, SVG filters) are left alone, and so are references inside comments;
- a line ``/*# sourceMappingURL=... */`` (``//# sourceMappingURL=...``
  in JavaScript) points at the hashed source map;
- a query or fragment (``font.woff2?v=3#iefix``) is kept after the hashed name;
- a reference to a file that is not collected, or one that climbs out of the
  static root, is an error naming the stylesheet and the reference;
- a stylesheet is hashed after its references are rewritten, so its hash changes
  when a file it refers to changes (stylesheets that import each other are hashed
  innermost first; a cycle of imports is an error).

>>> rewrite_references("a { background: url('../img/a.png?v=1') }", "css/site.css",
...                    lambda path: {"img/a.png": "img/a.0123456789ab.png"}[path])
"a { background: url('../img/a.0123456789ab.png?v=1') }"
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from urllib.parse import quote, unquote

# The source map comment first (a comment that is a reference), then other comments,
# so a reference inside one is skipped; then url(...) (quoted or not; it also covers
# ``@import url(...)``) and ``@import "..."``.
_CSS_REFERENCE = re.compile(
    r"""^(?P<map_head>/\*\#[ \t](?-i:sourceMappingURL)=)(?P<map>[^\s*]+)(?P<map_tail>[ \t]*\*/)$
      | (?P<comment>/\*.*?\*/)
      | (?P<url_head>url\(\s*(?P<quote>["']?))(?P<url>[^"')\s]+)(?P<url_tail>(?P=quote)\s*\))
      | (?P<import_head>@import\s+(?P<import_quote>["']))(?P<import>[^"']+)(?P=import_quote)""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE | re.MULTILINE,
)
# A JavaScript file's only reference: its source map, on a line of its own.
_JS_REFERENCE = re.compile(r"^(?P<map_head>//\# (?-i:sourceMappingURL)=)(?P<map>\S+)$", re.MULTILINE)
_LEFT_ALONE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


class CSSReferenceError(ValueError):
    """A stylesheet refers to a file that cannot be collected (missing, or outside the root)."""


def is_stylesheet(relative: str) -> bool:
    """Whether the collected file ``relative`` is CSS, whose references are rewritten."""
    return relative.lower().endswith(".css")


def has_references(relative: str) -> bool:
    """Whether the collected file ``relative`` may refer to others: CSS, or JavaScript
    (its source map)."""
    return is_stylesheet(relative) or relative.lower().endswith((".js", ".mjs"))


def _split(reference: str) -> tuple[str, str]:
    """``font.woff2?v=3#iefix`` → (``font.woff2``, ``?v=3#iefix``)."""
    cut = min((i for i in (reference.find("?"), reference.find("#")) if i >= 0), default=len(reference))
    return reference[:cut], reference[cut:]


def resolve(reference: str, stylesheet: str, static_url: str | None = None) -> str | None:
    """The collected path ``reference`` in ``stylesheet`` names, or None when it is
    left alone (data URI, absolute URL, an absolute path outside ``static_url``, a
    folder, fragment only). CSSReferenceError when it climbs out of the static root."""
    if _LEFT_ALONE.match(reference):
        return None
    path, _ = _split(reference)
    if not path or path.endswith("/"):
        return None
    if path.startswith("/"):
        if static_url is None or not path.startswith(static_url):
            return None
        joined = posixpath.normpath(unquote(path.removeprefix(static_url)))
    else:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(stylesheet), unquote(path)))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise CSSReferenceError(f"{stylesheet}: the reference {reference!r} points outside the static files")
    return joined


def rewrite_references(css: str, stylesheet: str, hashed: Callable[[str], str], static_url: str | None = None) -> str:
    """``css`` (or, for a ``.js`` file, JavaScript) with every reference pointing at
    the hashed name ``hashed(path)`` gives (the same folder, so only the file name
    changes); query and fragment kept. ``hashed`` raises KeyError for a path that is
    not collected. ``static_url`` (``"/static/"``): absolute references under it are
    static files too."""

    def replace(match: re.Match[str]) -> str:
        groups = match.groupdict()
        if groups.get("comment"):
            return match[0]
        kind = next(k for k in ("map", "url", "import") if groups.get(k))
        reference = match[kind]
        path = resolve(reference, stylesheet, static_url)
        if path is None:
            return match[0]
        try:
            target = hashed(path)
        except KeyError:
            raise CSSReferenceError(f"{stylesheet}: the reference {reference!r} names {path!r}, which is not among the static files") from None
        original, suffix = _split(reference)
        name = posixpath.basename(target)
        if "%" in original:
            name = quote(name)  # written as the reference was: encoded
        new = posixpath.join(posixpath.dirname(original), name) + suffix
        head = match[f"{kind}_head"]
        tail = {"map": groups.get("map_tail") or "", "url": groups.get("url_tail"), "import": groups.get("import_quote")}[kind]
        return f"{head}{new}{tail}"

    pattern = _CSS_REFERENCE if is_stylesheet(stylesheet) else _JS_REFERENCE
    return pattern.sub(replace, css)
