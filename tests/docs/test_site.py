"""The documentation site builds with ``mkdocs build --strict`` (a broken link or reference fails
it), loads nothing from other hosts, and its pages render in headless Chromium; screenshots of
the home page and a tutorial page are kept in tests/artefacts/site/."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient
from support.chromium import ARTEFACTS, Browser, require_chromium

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = re.compile(r"^(https?:)?//", re.I)


class Loads(HTMLParser):
    """The URLs a page makes the browser fetch: scripts, images, frames, stylesheets, icons, fonts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for attribute in ("src", "srcset", "poster", "data"):
            if found.get(attribute):
                self.urls.append(found[attribute])
        # <a href> is a link the reader may follow, not something the page loads.
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"])


def test_every_page_and_stylesheet_loads_only_from_the_site(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        parser = Loads()
        parser.feed(page.read_text())
        assert [u for u in parser.urls if EXTERNAL.match(u)] == [], page
    for css in site.rglob("*.css"):
        assert not re.search(r"(@import|url\()\s*['\"]?(https?:)?//", css.read_text()), css


def test_every_guide_is_in_the_navigation(site):
    # mkdocs_hooks.py lists the docs/*.md that mkdocs.yml's nav does not name under Guides.
    home = (site / "index.html").read_text()
    guides = [p for p in (ROOT / "docs").glob("*.md") if p.name != "index.md"]
    assert guides
    assert [p.name for p in guides if f'href="{p.stem}.html"' not in home] == []


def test_search_has_an_index_of_every_page(site):
    index = (site / "search" / "search_index.json").read_text()
    for words in ("Coming from Django", "hyper startproject", "RetryPolicy"):
        assert words in index


def test_the_api_reference_is_generated_from_docstrings(site):
    reference = (site / "reference" / "app.html").read_text()
    assert 'id="hyperdjango.app.HyperApp"' in reference
    assert "Serves the files below" in reference  # HyperApp.mount_static's docstring


@pytest.fixture
def served(site):
    app = HyperApp(title="docs")
    app.mount_static("/", site)
    with TestClient(app) as client:
        yield client.base_url


async def test_pages_render_offline_in_chromium_with_screenshots(site, served):
    require_chromium()
    async with Browser.launch() as browser:
        for name, path, heading in [
            ("home", "/index.html", "hyperdjango"),
            ("tutorial", "/tutorial/01-startproject.html", "Start a project"),
        ]:
            page = await browser.open(served + path)
            title = await page.wait_for(
                "document.readyState === 'complete' && document.querySelector('article h1')?.textContent", timeout=30,
            )
            assert heading in title
            # Material's own scripts ran (they build the navigation), and nothing came from elsewhere.
            assert await page.evaluate("typeof document$ !== 'undefined'")
            outside = await page.evaluate(
                f"performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith({served!r}))"
            )
            assert outside == []
            shot = ARTEFACTS / "site" / f"{name}.png"
            await page.screenshot(shot)
            assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
