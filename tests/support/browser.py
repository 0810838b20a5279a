"""A real headless browser for the HTML pages: Playwright driving the distribution's Chromium.

``chromium`` (session fixture) is a Playwright ``Browser``; where Playwright or ``/usr/bin/chromium`` is
missing, its tests are skipped with the reason, except under CI (``CI=true``), where they fail: CI
installs both (``scripts/test.sh``). Playwright's own browser download is never used.

``serve(directory)`` serves a folder on the loopback interface (pages read back from an ``http://``
origin may be read pixel by pixel); ``page_images(page)`` loads every ``<img>`` of a page and reports
its natural size and whether each box of its ``data-boxes`` shows in its colour on the picture.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Debian's Chromium (``apt-get install chromium``).
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, offline, no GPU, no sandbox (tests run as root in containers).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable() -> str | None:
    """Why no browser can be launched here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; scripts/test.sh does it)"
    return None


def require_browser() -> None:
    """Skip the calling test where no browser can be launched, naming why; fail instead under CI (``CI=true``)."""
    reason = unavailable()
    if reason and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``), one per test session."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: str | os.PathLike) -> Iterator[str]:
    """Serve ``directory`` on ``127.0.0.1`` (a free port) while inside; yields the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


#: For each <img>: its src, natural size, and for each of its data-boxes whether a pixel of the box style's colour
#: lies on the box's outline (the line 1 pixel inside its sides, clipped to the picture).
_IMAGES_SCRIPT = """
(colors) => Array.from(document.images).map((img) => {
  const boxes = JSON.parse(img.dataset.boxes || "[]");
  const [width, height] = [img.naturalWidth, img.naturalHeight];
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  const context = canvas.getContext("2d");
  if (width) context.drawImage(img, 0, 0);
  const pixels = width ? context.getImageData(0, 0, width, height).data : [];
  const near = (x, y, rgb) => {
    const at = 4 * (Math.round(y) * width + Math.round(x));
    return Math.abs(pixels[at] - rgb[0]) + Math.abs(pixels[at + 1] - rgb[1]) + Math.abs(pixels[at + 2] - rgb[2]) <= 12;
  };
  const shown = boxes.map(({style, box}) => {
    if (!width) return false;
    const clip = (v, k) => Math.min(Math.max(v, 0), (k % 2 ? height : width) - 1);
    const [x1, y1, x2, y2] = [box[0] + 1, box[1] + 1, box[2] - 1.5, box[3] - 1.5].map(clip);
    for (let x = x1; x <= x2; x++) if (near(x, y1, colors[style]) || near(x, y2, colors[style])) return true;
    for (let y = y1; y <= y2; y++) if (near(x1, y, colors[style]) || near(x2, y, colors[style])) return true;
    return false;
  });
  return {src: img.getAttribute("src"), width, height, styles: boxes.map((b) => b.style), shown};
})
"""


def page_images(page: Any, colors: dict[str, tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Every ``<img>`` of ``page`` once loaded (each scrolled into view: they load lazily).

    Args:
        page: A Playwright ``Page`` at an ``http://`` URL (from :func:`serve`).
        colors: Each box style's RGB colour by name (e.g. ``{"truth": TRUTH.color}``).

    Returns:
        One dict per image: ``src``, ``width`` / ``height`` (natural; 0 when it did not load), ``styles`` (of its
        boxes) and ``shown`` (per box: whether it shows in its colour on the picture).
    """
    images = page.locator("img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
    page.wait_for_function("Array.from(document.images).every((img) => img.complete)", timeout=30_000)
    return page.evaluate(_IMAGES_SCRIPT, {name: list(rgb) for name, rgb in colors.items()})
