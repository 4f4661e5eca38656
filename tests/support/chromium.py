"""Headless Chromium driven over the Chrome DevTools Protocol, with no extra dependency.

Chromium (Debian's ``chromium``) starts with ``--remote-debugging-port=0`` and
writes the port it picked to ``DevToolsActivePort`` in its profile directory;
one WebSocket (the ``websockets`` client) to the browser endpoint then drives
every page through flattened target sessions::

    async with Browser.launch() as browser:
        page = await browser.open("http://127.0.0.1:8000/chat/lobby")
        await page.wait_for("document.body.dataset.ready === '1'")

The browser process and its profile are removed on exit, whatever happened.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import websockets

CHROMIUM = os.environ.get("HYPERDJANGO_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--no-first-run", "--disable-breakpad", "--remote-debugging-port=0",
]


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def require_chromium() -> None:
    """Skips the test without Chromium, or fails it where Chromium is required (``./dev.sh test``)."""
    import pytest

    if not chromium_available():
        if os.environ.get("HYPERDJANGO_REQUIRE_CHROMIUM"):
            pytest.fail(f"{CHROMIUM} is missing (./dev.sh test installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")


class Browser:
    """One Chromium process and the DevTools connection to it."""

    def __init__(self, process: subprocess.Popen, profile: str, conn: Any) -> None:
        self.process = process
        self.profile = profile
        self.conn = conn
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    def launch(cls, timeout: float = 30.0) -> _Launch:
        return _Launch(timeout)

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                message = json.loads(raw)
                waiter = self._waiting.pop(message.get("id"), None)  # events have no id
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)
        finally:
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError("the DevTools connection closed"))

    async def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Sends one command and returns its result; a protocol error raises RuntimeError."""
        call_id = next(self._ids)
        waiter = self._waiting[call_id] = asyncio.get_running_loop().create_future()
        command: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session is not None:
            command["sessionId"] = session
        await self.conn.send(json.dumps(command))
        answer = await asyncio.wait_for(waiter, 30)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def open(self, url: str) -> Page:
        """A new tab showing ``url``."""
        target = await self.call("Target.createTarget", {"url": url})
        attached = await self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        return Page(self, attached["sessionId"])

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.call("Browser.close"), 5)
        except (TimeoutError, Exception):
            pass  # it is killed below anyway
        self._reader.cancel()
        await self.conn.close()


class Page:
    """One tab: evaluate JavaScript in it."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (awaited if it is a promise); a JS exception raises RuntimeError."""
        result = await self.browser.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            self.session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        """Polls until ``expression`` is truthy; TimeoutError (with its last value) otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        value = None
        while loop.time() < deadline:
            try:
                value = await self.evaluate(expression)
            except RuntimeError:
                value = None  # the page is still loading
            if value:
                return value
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{expression!r} stayed falsy for {timeout} s (last value: {value!r})")


    async def screenshot(self, path: str | os.PathLike[str]) -> None:
        """Saves what the tab shows as a PNG at ``path`` (folders made as needed)."""
        import base64

        shot = await self.browser.call("Page.captureScreenshot", {"format": "png"}, self.session)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(shot["data"]))


#: Where browser tests keep what they saw (screenshots); not in git.
ARTEFACTS = Path(os.environ.get("HYPERDJANGO_ARTEFACTS", Path(__file__).resolve().parents[1] / "artefacts"))


class _Launch:
    """``async with Browser.launch() as browser``: starts Chromium, always stops it."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.browser: Browser | None = None
        self.process: subprocess.Popen | None = None
        self.profile = ""

    async def __aenter__(self) -> Browser:
        self.profile = tempfile.mkdtemp(prefix="hd-chromium-")
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            url = await self._devtools_url()
            conn = await websockets.connect(url, max_size=None)
            self.browser = Browser(self.process, self.profile, conn)
            return self.browser
        except BaseException:
            self._stop()
            raise

    async def _devtools_url(self) -> str:
        active = Path(self.profile) / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{CHROMIUM} exited with {self.process.returncode} before it listened")
            lines = active.read_text().split() if active.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{CHROMIUM} wrote no DevToolsActivePort within {self.timeout} s")

    async def __aexit__(self, *exc: Any) -> None:
        if self.browser is not None:
            await self.browser.close()
        self._stop()

    def _stop(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            # Chromium's helpers (zygote, renderers) share its session: none may outlive the test.
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.profile, ignore_errors=True)
