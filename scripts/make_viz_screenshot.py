"""Make docs/img/viz.png: the live view (``drypowder viz``) of ``dry_powder_exhausted`` at week 84,
replaying that run's largest cascade on the network, as a 1280 x 800 laptop screen shows it.

    .venv/bin/python scripts/make_viz_screenshot.py

Starts ``drypowder viz dry_powder_exhausted`` on a free port of 127.0.0.1, clicks Mesa's Step until
the page shows week 84, clicks the cascade timeline at the week with the largest forced sales (found
by running the same model here: same config, same seed, same numbers), steps the replay to its
busiest round and screenshots the page in Debian's headless Chromium (/usr/bin/chromium, from
scripts/install_browser.sh; Playwright's own browser download is never used). The server is
always stopped. Takes about a minute.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.viz_server import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

OUT = ROOT / "docs" / "img" / "viz.png"
SCENARIO, WEEK = "dry_powder_exhausted", 84
VIEWPORT = {"width": 1280, "height": 800}


def largest_cascade(week: int) -> tuple[int, int, int]:
    """(week, number of rounds, busiest round's position) of the largest forced sales up to ``week``."""
    from sim.viz.live_model import LiveModel
    from sim.viz.network_view import forced_events
    m = LiveModel(SCENARIO)
    for _ in range(week):
        m.step()
    ev = forced_events(m.events_frame())
    w = int(ev.groupby("step")["value_bn"].sum().idxmax())
    part = ev[ev["step"] == w]
    rounds = sorted(part["round"].unique().tolist())
    busiest = int(part.groupby("round")["agent_id"].nunique().idxmax())
    return w, len(rounds), rounds.index(busiest)


def shoot(url: str, sync_playwright) -> None:
    replay_week, n_rounds, busiest = largest_cascade(WEEK)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector(".dp-net-svg g.dp-node")
            step = page.locator(".v-navigation-drawer button", has_text="Step").first
            for week in range(1, WEEK + 1):
                step.click()
                page.wait_for_function("n => document.querySelector('.dp-readout-step').innerText"
                                       ".startsWith(`Week ${n} /`)", arg=week)
            hit = page.locator(".dp-chart-timeline .dp-chart-hit")
            box = hit.bounding_box()
            hit.click(position={"x": box["width"] * (replay_week + 0.2) / 156, "y": box["height"] / 2})
            page.wait_for_selector(".dp-replay-round")
            for _ in range(busiest):
                page.click(".dp-replay-next")
            page.wait_for_timeout(800)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT))
            print(page.inner_text(".v-app-bar").strip(), "|", page.inner_text(".dp-replay-text"))
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
