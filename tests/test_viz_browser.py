"""The live server in a real browser: ``drypowder viz`` on a free port (:func:`sim.viz_server.live_server`),
driven by Playwright in Debian's headless Chromium.

Needs /usr/bin/chromium (``scripts/install_browser.sh``); skipped without it unless $CI is set,
where a missing browser is a failure. Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sim.viz_server import CHROMIUM, CHROMIUM_ARGS, live_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "runs" / "viz_test_screenshot.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _require_browser():
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (run scripts/install_browser.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright python package (pip install -e '.[test]')")
    if missing:
        msg = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI must install it")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    try:
        with live_server(tmp_path_factory.mktemp("viz") / "server.log") as srv:
            yield srv
    except (RuntimeError, TimeoutError) as exc:     # the server never listened
        pytest.fail(str(exc))


def test_live_page_steps_renders_applies_a_slider_and_stays_offline(server):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            page.set_default_timeout(30_000)
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.goto(server["url"], wait_until="domcontentloaded", timeout=60_000)
            page.wait_for_selector("img.dp-network", timeout=60_000)

            counter = page.locator(".dp-step-counter")

            def wait_week(n: int) -> None:
                page.wait_for_function(
                    "n => document.querySelector('.dp-step-counter').innerText.startsWith(`Week ${n} /`)", arg=n)

            assert counter.inner_text().startswith("Week 0 /")

            # Step advances the counter, week by week
            for week in (1, 2, 3):
                page.click("button.dp-step")
                wait_week(week)
            page.wait_for_function("() => document.querySelector('.dp-readout-step').innerText.startsWith('Week 3 /')")

            # the network and every chart are images with a real size
            names = ["dp-network", "dp-chart-pool", "dp-chart-rates", "dp-chart-prices", "dp-chart-defaults",
                     "dp-chart-rounds", "dp-chart-trinity"]
            for name in names:
                img = page.locator(f"img.{name}")
                assert img.count() == 1, name
                natural = img.evaluate("e => [e.naturalWidth, e.naturalHeight]")
                assert natural[0] > 200 and natural[1] > 100, (name, natural)
                box = img.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 50, (name, box)
            assert "Latest cascade" in page.inner_text(".dp-cascade")

            # a slider change is pending until Reset; then the new model shows the new pool
            thumb = page.locator(".dp-slider-dry_powder_initial_bn [role=slider]")
            lowest = thumb.get_attribute("aria-valuemin")
            thumb.focus()
            page.keyboard.press("Home")
            page.wait_for_selector(".dp-pending")
            assert page.inner_text(".dp-slider-dry_powder_initial_bn").rstrip().endswith(f": {int(lowest):,}")
            pool_src = page.get_attribute("img.dp-chart-pool", "src")
            page.click("button.dp-reset")
            wait_week(0)
            page.wait_for_function(
                "v => document.querySelector('.dp-readout-pool').innerText === `Dry powder $${v}bn`",
                arg=f"{int(lowest):,}")
            page.wait_for_selector(".dp-pending", state="detached")
            page.wait_for_function("s => document.querySelector('img.dp-chart-pool').src !== s", arg=pool_src)

            # the new model runs: Play, then Pause
            page.click("button.dp-play")
            page.wait_for_function(
                "() => parseInt(document.querySelector('.dp-step-counter').innerText.split(' ')[1]) >= 2")
            page.click("button.dp-play")
            page.wait_for_function("() => document.querySelector('button.dp-play').innerText.trim().toLowerCase()"
                                   " === 'play'")

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()

    # nothing left the machine: every request went to the local server
    hosts = {urlsplit(u).hostname for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts and hosts <= LOCAL_HOSTS, sorted(hosts - LOCAL_HOSTS)
