"""The example shop's pages: list, detail, the create form with its validation
errors, and hashed CSS; then the same in headless Chromium, with a screenshot
kept in tests/artefacts/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hyperdjango.staticfiles import collect
from hyperdjango.testing import TestClient
from support.chromium import ARTEFACTS, Browser, require_chromium
from support.shop import load_shop

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    """The example shop on a migrated SQLite file, its static files collected (hashed)."""
    url = f"sqlite:///{tmp_path}/shop.sqlite3"
    migrated = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "migrate", "examples.shop", "--database", url],
        cwd=EXAMPLES.parent, capture_output=True, text=True, timeout=60,
    )
    assert migrated.returncode == 0, migrated.stderr
    collect([EXAMPLES / "static"], tmp_path / "collected")
    monkeypatch.setenv("HYPERDJANGO_STATIC_ROOT", str(tmp_path / "collected"))
    monkeypatch.setenv("HYPERDJANGO_SECRET_KEY", "the example shop's test key")  # as deployed: debug off
    return load_shop(url)


def test_the_list_page_shows_the_products_and_hashed_css(shop):
    with TestClient(shop) as client:
        page = client.get("/shop/", headers={"accept": "text/html"})
        assert page.status_code == 200 and "3 products" in page.text
        assert '<a href="/shop/1">Assam tea</a>' in page.text
        css = re.search(r'href="(/static/shop\.[0-9a-f]{12}\.css)"', page.text).group(1)
        sheet = client.get(css)
        assert "table.products" in sheet.text
        assert sheet.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_detail_page_and_its_404(shop):
    with TestClient(shop) as client:
        page = client.get("/shop/1")
        assert '<h1 class="product-name">Assam tea</h1>' in page.text and '<dd class="price">4.50</dd>' in page.text
        missing = client.get("/shop/99", headers={"accept": "text/html"})
        assert missing.status_code == 404 and "<h1>Not found</h1><p>No such product</p>" in missing.text


def test_the_form_shows_errors_then_creates(shop):
    with TestClient(shop) as client:
        bad = client.post("/shop/new", data={"name": "", "price": "-2", "stock": "1"})
        assert bad.status_code == 400
        assert "This field is required." in bad.text
        assert "Ensure this value is greater than or equal to 0." in bad.text
        good = client.post("/shop/new", data={"name": "Mug", "price": "9.90", "stock": "3"}, follow_redirects=False)
        assert good.status_code == 303 and good.headers["location"] == "/shop/4"
        assert "Mug" in client.get("/shop/4").text


@pytest.fixture
def chromium():
    require_chromium()


async def test_chromium_renders_the_pages_posts_the_form_and_sees_the_error(shop, chromium):
    async with TestClient(shop) as client, Browser.launch() as browser:
        page = await browser.open(f"{client.base_url}/shop/")
        await page.wait_for("document.querySelectorAll('table.products tbody tr').length === 3")
        # The hashed stylesheet loaded and applies.
        assert await page.wait_for("getComputedStyle(document.querySelector('table.products')).borderCollapse === 'collapse'")

        form = await browser.open(f"{client.base_url}/shop/new")
        await form.wait_for("document.querySelector('form button') !== null")
        await form.evaluate(
            "document.querySelector('[name=name]').value = 'Kettle';"
            "document.querySelector('[name=price]').value = '-5';"
            "document.querySelector('form button').click()"
        )
        error = await form.wait_for(
            "[...document.querySelectorAll('ul.errorlist li')].map(li => li.textContent).join('|')"
        )
        assert error == "Ensure this value is greater than or equal to 0."
        assert await form.evaluate("document.querySelector('[name=name]').value") == "Kettle"
        await form.screenshot(ARTEFACTS / "example_shop_form_error.png")
        assert (ARTEFACTS / "example_shop_form_error.png").stat().st_size > 1000

        await form.evaluate("document.querySelector('[name=price]').value = '12.00'; document.querySelector('form button').click()")
        name = await form.wait_for("document.querySelector('h1.product-name')?.textContent")
        assert name == "Kettle"
