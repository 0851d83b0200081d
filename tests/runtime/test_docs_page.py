"""The /docs page, driven in headless Chromium (Debian's chromium) against a real server."""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from .conftest import DEADLINE, Server, ServerFactory

pytestmark = pytest.mark.integration


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


class Browser:
    """One Chromium page over the DevTools protocol."""

    def __init__(self, ws: ClientConnection, artifacts: Path) -> None:
        self._ws, self._artifacts, self._next = ws, artifacts, 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        self._ws.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=DEADLINE))
            if message.get("id") == self._next:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def js(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def until(self, expression: str, what: str) -> Any:
        deadline = time.monotonic() + DEADLINE
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                self.screenshot(f"timeout-{what}")
                raise AssertionError(f"waited for {what}: {expression}")
            time.sleep(0.02)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.until("document.body && document.body.dataset.ready === 'true'", "the form")

    def screenshot(self, name: str) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path = self._artifacts / f"docs-{name}.png"
        path.write_bytes(base64.b64decode(data["data"]))
        return path


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("COG_TEST_ARTIFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(artifacts: Path) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: apt-get install chromium (scripts/test does)")
    profile = tempfile.mkdtemp(prefix="cog-chromium-")
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"]
    argv += ["--no-first-run", "--disable-background-networking", "--disable-component-update"]
    argv += ["--disable-sync", "--no-proxy-server", "--window-size=1280,1000"]
    argv += [f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("DevTools listening on "):
                browser_url = line.split(" on ", 1)[1].strip()
                break
        else:
            raise AssertionError("chromium did not start its DevTools endpoint")
        # Keep reading what it says, or a full pipe would stop it.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        port = browser_url.split(":")[2].split("/")[0]
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=DEADLINE) as ws:
            yield Browser(ws, artifacts)
    finally:
        proc.terminate()
        proc.wait(timeout=DEADLINE)
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def test_browsers_at_root_go_to_docs_and_clients_get_json(shared: ServerFactory) -> None:
    server = shared("docs_page.py:Sleeper")
    page = requests.get(server.url + "/", headers={"Accept": "text/html,*/*"}, timeout=10)
    assert page.url == server.url + "/docs"
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(server.url + "/", timeout=10).json()["docs_url"] == "/docs"
    for asset in ("/docs/docs_page.js", "/docs/docs_page.css"):
        body = requests.get(server.url + asset, timeout=10).text
        assert "http://" not in body  # nothing fetched from anywhere else
        assert "https://" not in body


def test_every_input_kind_runs_and_the_image_is_shown(
    shared: ServerFactory, browser: Browser, artifacts: Path
) -> None:
    server = shared("docs_page.py:EveryInput")
    browser.open(server.url + "/docs")
    kinds = browser.js("[...document.querySelectorAll('.field')].map(f => f.dataset.kind)")
    assert kinds == ["string", "integer", "number", "boolean", "choice", "file", "secret", "array"]
    assert browser.js("document.getElementById('in-token').type") == "password"
    assert browser.js("document.getElementById('in-steps').max") == "50"
    assert browser.js("document.getElementById('in-image').accept") == "image/*"  # x-cog-accept
    assert "How many steps" in browser.js("document.getElementById('fields').innerText")
    png = base64.b64encode(_png(64, 48, (220, 30, 30))).decode()
    browser.js(
        f"""(() => {{
        const set = (id, v) => {{ const e = document.getElementById(id); e.value = v; }};
        set('in-prompt', 'a blue whale'); set('in-steps', '7'); set('in-scale', '2.5');
        document.getElementById('in-upscale').checked = true;
        set('in-style', JSON.stringify('sketch')); set('in-token', 'hunter2');
        set('in-tags', 'red\\ngreen');
        const bytes = Uint8Array.from(atob('{png}'), c => c.charCodeAt(0));
        const drop = new DataTransfer();
        drop.items.add(new File([bytes], 'start.png', {{type: 'image/png'}}));
        document.querySelector('[data-input=image]')
          .dispatchEvent(new DragEvent('drop', {{dataTransfer: drop, bubbles: true}}));
        document.getElementById('run').click();
    }})()"""
    )
    browser.until("document.getElementById('status').textContent === 'succeeded'", "success")
    size = browser.until(
        "(() => { const i = document.querySelector('#output img');"
        " return i && i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null })()",
        "the output image",
    )
    assert size == [64, 48]
    logs = browser.js("document.getElementById('logs').textContent")
    got = json.loads(logs.split("got ", 1)[1].splitlines()[0])
    assert got == {
        "image_bytes": len(base64.b64decode(png)),
        "prompt": "a blue whale",
        "scale": 2.5,
        "steps": 7,
        "style": "sketch",
        "tags": ["red", "green"],
        "token_reversed": "2retnuh",
        "upscale": True,
    }
    assert browser.js("document.getElementById('elapsed').textContent").startswith("took ")
    assert browser.js("document.querySelector('#output a[download]').download") == "output.png"
    browser.screenshot("every-input")
    assert (artifacts / "docs-every-input.png").stat().st_size > 0


def test_streamed_text_grows_as_it_comes(shared: ServerFactory, browser: Browser) -> None:
    server = shared("docs_page.py:Typewriter")
    browser.open(server.url + "/docs")
    browser.js("document.getElementById('in-delay').value = '0.1'; 0")
    browser.js("document.getElementById('run').click()")
    text = "(document.querySelector('#output .text') || {}).textContent || ''"
    first = browser.until(
        f"(() => {{ const t = {text}; return t.startsWith('word0') && t }})()", ""
    )
    assert "word39" not in first
    browser.until(f"({text}).length > {len(first)}", "more streamed text")
    browser.screenshot("streaming")
    browser.until("document.getElementById('status').textContent === 'succeeded'", "the end")
    assert browser.js(text) == "".join(f"word{i} " for i in range(40))
    assert "writing word 39" in browser.js("document.getElementById('logs').textContent")


def test_a_long_prediction_is_canceled(shared: ServerFactory, browser: Browser) -> None:
    server: Server = shared("docs_page.py:Sleeper")
    browser.open(server.url + "/docs")
    browser.js("document.getElementById('run').click()")
    server.wait_for("BUSY")
    assert browser.js("document.getElementById('cancel').disabled") is False
    browser.js("document.getElementById('cancel').click()")
    browser.until("document.getElementById('status').textContent === 'canceled'", "cancel")
    browser.screenshot("canceled")
    assert server.wait_for("READY")["status"] == "READY"


def test_trainings_have_their_own_form(shared: ServerFactory, browser: Browser) -> None:
    server = shared("docs_page.py:Sleeper", train_ref="docs_page.py:train")
    browser.open(server.url + "/docs")
    browser.js("document.querySelector('[data-mode=trainings]').click()")
    assert browser.js("document.getElementById('in-text').value") == "t"
    browser.js("document.getElementById('in-text').value = 'abc'; 0")
    browser.js("document.getElementById('run').click()")
    browser.until("document.getElementById('status').textContent === 'succeeded'", "training")
    assert browser.js("document.querySelector('#output .text').textContent") == "trained abc"
