"""Make docs/img/viz.png: the live view (``drypowder viz``) at week 84 of ``dry_powder_exhausted``.

    .venv/bin/python scripts/make_viz_screenshot.py

Starts ``drypowder viz dry_powder_exhausted`` on a free port of 127.0.0.1 (telemetry off), sets
"Weeks per Step / Play frame" to 12, clicks Step until the page shows "Week 84 / 156", waits for
every figure to load and screenshots the page, laid out 1280 CSS px wide, as a 1100 x 870 PNG, in
Debian's headless Chromium (/usr/bin/chromium, from scripts/install_browser.sh; Playwright's own
browser download is never used). The server is always stopped. Takes about 30 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.viz_server import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

OUT = ROOT / "docs" / "img" / "viz.png"
SCENARIO, WEEK, PER_FRAME = "dry_powder_exhausted", 84, 12
# the page laid out 1280 CSS px wide (as on a laptop), drawn at 1100/1280 scale: a 1100 x 870 PNG
VIEWPORT, SCALE = {"width": 1280, "height": 1012}, 1100 / 1280


def shoot(url: str, sync_playwright) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=SCALE)
            page.set_default_timeout(60_000)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("img.dp-network")
            counter = page.locator(".dp-step-counter")
            if not counter.inner_text().startswith("Week 0 /"):
                sys.exit(f"unexpected start: {counter.inner_text()!r}")
            # weeks per step: PER_FRAME, by keyboard on the slider of the Run card
            thumb = page.locator(".dp-run [role=slider]")
            thumb.focus()
            for _ in range(PER_FRAME - 1):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("n => document.querySelector('.dp-run').innerText"
                                   ".includes(`Weeks per Step / Play frame: ${n}`)", arg=PER_FRAME)
            week = 0
            while week < WEEK:
                page.click("button.dp-step")
                week += PER_FRAME
                page.wait_for_function("n => document.querySelector('.dp-step-counter').innerText"
                                       ".startsWith(`Week ${n} /`)", arg=week)
            page.wait_for_function("n => document.querySelector('.dp-readout-step').innerText"
                                   ".startsWith(`Week ${n} /`)", arg=WEEK)
            # every figure loaded with a real size, and no image changing any more
            page.wait_for_function("() => [...document.querySelectorAll('img.dp-figure')]"
                                   ".every(i => i.complete && i.naturalWidth > 200)")
            srcs = None
            while srcs != (now := page.eval_on_selector_all("img.dp-figure", "l => l.map(i => i.src.length)")):
                srcs = now
                page.wait_for_timeout(1500)
            # Solara's "This website runs on Solara" badge would cover the bottom-right chart
            page.add_style_tag(content='div:has(> b > a[href="https://solara.dev"]) { display: none; }')
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT))
            print(" | ".join(page.locator(".dp-readout").all_inner_texts()))
        finally:
            browser.close()


def main() -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("needs the playwright python package: .venv/bin/pip install -e '.[test]'")
    if not CHROMIUM.exists():
        sys.exit(f"needs {CHROMIUM}: run scripts/install_browser.sh")
    start = time.monotonic()
    try:
        with live_server(ROOT / "runs" / "viz_screenshot_server.log", SCENARIO) as server:
            shoot(server["url"], sync_playwright)
    except (RuntimeError, TimeoutError) as exc:     # the server never listened
        sys.exit(str(exc))
    print(f"wrote {OUT.relative_to(ROOT)} in {time.monotonic() - start:.0f}s")


if __name__ == "__main__":
    main()
