"""/docs (Swagger UI) and /redoc render the example shop's operations in headless Chromium,
from the files shipped in the package: no request leaves the test server."""

import pytest

from hyperdjango.testing import TestClient
from orm.test_example_shop import load_shop
from support.chromium import Browser, require_chromium

OPERATIONS = ["/api/products", "/api/products/{id}", "/api/catalogue", "/api/admin/whoami"]


@pytest.fixture
def chromium():
    require_chromium()


async def resources_outside(page, base_url):
    return await page.evaluate(
        f"performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith({base_url!r}))"
    )


async def test_swagger_ui_lists_the_operations_offline(chromium, tmp_path):
    async with TestClient(load_shop(f"sqlite:///{tmp_path}/shop.sqlite3")) as client, Browser.launch() as browser:
        page = await browser.open(f"{client.base_url}/docs")
        paths = await page.wait_for(
            "(() => { const p = [...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent);"
            " return p.length >= 5 ? p : null; })()",
            timeout=60,
        )
        assert set(OPERATIONS) <= {p.replace("\u200b", "") for p in paths}
        assert await resources_outside(page, client.base_url) == []


async def test_redoc_lists_the_operations_offline(chromium, tmp_path):
    async with TestClient(load_shop(f"sqlite:///{tmp_path}/shop.sqlite3")) as client, Browser.launch() as browser:
        page = await browser.open(f"{client.base_url}/redoc")
        text = await page.wait_for(
            "document.body.innerText.includes('Adds a product.') ? document.body.innerText : null", timeout=60,
        )
        for summary in ("The active products, by name.", "One product.", "Who the bearer token belongs to."):
            assert summary in text
        assert await resources_outside(page, client.base_url) == []
