"""References inside CSS (``url(...)``, ``@import``), rewritten to hashed names.

``hyper collectstatic`` gives each file a content-hashed name; a stylesheet that
says ``url("../img/logo.png")`` must then point at ``../img/logo.<hash>.png``,
or the browser keeps a stale image behind a cached stylesheet. As Django's
``ManifestStaticFilesStorage``:

- a relative reference is resolved against the stylesheet's folder; data URIs,
  URLs with a scheme or host (``https:``, ``//cdn``), absolute paths (``/x``) and
  fragment-only references (``#id``, SVG filters) are left alone;
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

# Comments first, so a reference inside one is skipped; then url(...) (quoted or
# not; it also covers ``@import url(...)``) and ``@import "..."``.
_REFERENCE = re.compile(
    r"""(?P<comment>/\*.*?\*/)
      | (?P<url_head>url\(\s*(?P<quote>["']?))(?P<url>[^"')\s]+)(?P<url_tail>(?P=quote)\s*\))
      | (?P<import_head>@import\s+(?P<import_quote>["']))(?P<import>[^"']+)(?P=import_quote)""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_LEFT_ALONE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/|#)", re.IGNORECASE)


class CSSReferenceError(ValueError):
    """A stylesheet refers to a file that cannot be collected (missing, or outside the root)."""


def is_stylesheet(relative: str) -> bool:
    """Whether the collected file ``relative`` is CSS, whose references are rewritten."""
    return relative.lower().endswith(".css")


def _split(reference: str) -> tuple[str, str]:
    """``font.woff2?v=3#iefix`` → (``font.woff2``, ``?v=3#iefix``)."""
    cut = min((i for i in (reference.find("?"), reference.find("#")) if i >= 0), default=len(reference))
    return reference[:cut], reference[cut:]


def resolve(reference: str, stylesheet: str) -> str | None:
    """The collected path ``reference`` in ``stylesheet`` names, or None when it is
    left alone (data URI, absolute URL or path, fragment only). CSSReferenceError
    when it climbs out of the static root."""
    if _LEFT_ALONE.match(reference):
        return None
    path, _ = _split(reference)
    if not path:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(stylesheet), path))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise CSSReferenceError(f"{stylesheet}: the reference {reference!r} points outside the static files")
    return joined


def rewrite_references(css: str, stylesheet: str, hashed: Callable[[str], str]) -> str:
    """``css`` with every reference pointing at the hashed name ``hashed(path)`` gives
    (the same folder, so only the file name changes); query and fragment kept.
    ``hashed`` raises KeyError for a path that is not collected."""

    def replace(match: re.Match[str]) -> str:
        if match["comment"]:
            return match[0]
        reference = match["url"] or match["import"]
        path = resolve(reference, stylesheet)
        if path is None:
            return match[0]
        try:
            target = hashed(path)
        except KeyError:
            raise CSSReferenceError(f"{stylesheet}: the reference {reference!r} names {path!r}, which is not among the static files") from None
        original, suffix = _split(reference)
        new = posixpath.join(posixpath.dirname(original), posixpath.basename(target)) + suffix
        if match["url"]:
            return f"{match['url_head']}{new}{match['url_tail']}"
        return f"{match['import_head']}{new}{match['import_quote']}"

    return _REFERENCE.sub(replace, css)
