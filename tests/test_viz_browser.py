"""The live page in a real browser at 1280 x 800: ``drypowder viz`` on a free port
(:func:`sim.viz_server.live_server`), driven by Playwright in Debian's headless Chromium.

One server and one walk through the page as a researcher would use it (layout, typed inputs,
Reset, Play measured in weeks per second and reported, a cascade replayed, an agent opened, a
comparison started, the view saved and rerun), two browser sessions at once, and, on a fresh
server, eight simultaneous first visits and the server's memory over three rounds of eight sessions.

Needs /usr/bin/chromium (``scripts/install_browser.sh``); skipped without it unless $CI is set,
where a missing browser is a failure. Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sim.viz_server import CHROMIUM, CHROMIUM_ARGS, live_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "runs" / "viz_browser_report.json"
SCREENSHOT = ROOT / "runs" / "viz_test_screenshot.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VIEWPORT = {"width": 1280, "height": 800}
TYPED = {  # page key: (typed text, value the page then holds)
    "dry_powder_initial_bn": ("900", 900), "hyperscalers_capex_growth": ("0.3", 0.3),
    "gpu_generation_value_drop": ("0.35", 0.35), "retail_margin_share": ("0.2", 0.2),
    "hedge_funds_leverage": ("3.5", 3.5), "ai_revenue_growth": ("0.5", 0.5), "retail_holders": ("2,000", 2000),
}
SEED = 11
PLAY_SECONDS = 4.0


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
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("viz-out")


@pytest.fixture(scope="module")
def server(tmp_path_factory, out_dir):
    _require_browser()
    try:
        with live_server(tmp_path_factory.mktemp("viz") / "server.log", extra_args=("--out", str(out_dir))) as srv:
            yield srv
    except (RuntimeError, TimeoutError) as exc:     # the server never listened
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _report(**figures) -> None:
    """Add figures to runs/viz_browser_report.json (and print them: pytest -s shows them)."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data.update(figures)
    REPORT.write_text(json.dumps(data, indent=2) + "\n")
    print("viz browser report:", json.dumps(figures))


def _open(browser, url: str, requests: list[str] | None = None):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
        page.on("websocket", lambda ws: requests.append(ws.url))
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector(".dp-net-svg g.dp-node", timeout=60_000)
    return context, page


def _week(page) -> int:
    return int(page.inner_text(".dp-readout-step").split()[1])


def _wait_week(page, n: int) -> None:
    page.wait_for_function("n => document.querySelector('.dp-readout-step').innerText.startsWith(`Week ${n} /`)",
                           arg=n)


def _mesa_button(page, label: str):
    return page.locator(".v-navigation-drawer button", has_text=label).first


def _in_viewport(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} not rendered"
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= VIEWPORT["width"] + 1, (selector, box)
    assert box["y"] + box["height"] <= VIEWPORT["height"] + 1, (selector, box)
    return box


def _check_layout(page) -> None:
    """At 1280 x 800, without scrolling: Mesa's controls, every input, the network, the key charts."""
    for label in ("Reset", "Step"):
        _in_viewport(page, f".v-navigation-drawer button:has-text('{label}')")
    for key in (*TYPED, "seed"):
        _in_viewport(page, f".dp-param-{key} .dp-param-text")
    for key in TYPED:
        width = page.locator(f".dp-param-{key} .v-slider").first.bounding_box()["width"]
        assert width >= 200, (key, width)
        assert page.inner_text(f".dp-param-{key} .dp-param-unit").strip("()")       # a unit is shown
    for sel in (".dp-net-svg", ".dp-chart-pool svg", ".dp-chart-rates svg", ".dp-chart-prices svg"):
        _in_viewport(page, sel)
    badge = page.locator("a[href='https://solara.dev']")
    assert badge.count() == 0 or not badge.first.is_visible()
    title = page.inner_text(".v-app-bar")
    assert "baseline" in title and "seed 20260101" in title, title


def _type_inputs(page) -> None:
    """Every headline input moved by typing a value; a seed the CLI rejects is refused with a message."""
    for key, (text, value) in TYPED.items():
        field = page.locator(f".dp-param-{key} .dp-param-text")
        field.fill(text)
        field.press("Enter")
        page.wait_for_function(
            "([k, v]) => Math.abs(+document.querySelector(`.dp-param-${k} [role=slider]`)"
            ".getAttribute('aria-valuenow') - v) < 1e-9", arg=[key, value])
    seed = page.locator(".dp-param-seed .dp-param-text")
    seed.fill(str(2 ** 63))
    seed.press("Enter")
    page.wait_for_selector(".dp-param-seed .dp-param-error")
    error = page.inner_text(".dp-param-seed .dp-param-error")
    assert "seed" in error and "Traceback" not in error and "/" not in error.replace("$bn/", ""), error
    seed.fill(str(SEED))
    seed.press("Enter")
    page.wait_for_selector(".dp-param-seed .dp-param-error", state="detached")
    page.wait_for_selector(".dp-pending")
    _mesa_button(page, "Reset").click()
    page.wait_for_selector(".dp-pending", state="detached")
    _wait_week(page, 0)
    page.wait_for_function("s => document.querySelector('.v-app-bar').innerText.includes(s)", arg=f"seed {SEED}")
    title = page.inner_text(".v-app-bar")
    for label in ("dry powder at start 900", "capex growth 0.30", "gpu generation value drop 0.35",
                  "retail share on margin 0.20", "hedge-fund leverage 3.5", "ai revenue growth 0.50",
                  "retail holders 2,000"):
        assert label in title.lower(), (label, title)
    assert page.inner_text(".dp-readout-pool") == "Dry powder $900bn"


def _play(page) -> float:
    """Play for a few seconds (or half the run, so that Pause is still there to press); weeks per
    second as the page shows them (reported, not asserted)."""
    start_week, start = _week(page), time.perf_counter()
    _mesa_button(page, "▶").click()
    end_week, end = start_week, start
    while end - start < PLAY_SECONDS and end_week < 78:
        time.sleep(0.2)
        end_week, end = _week(page), time.perf_counter()
    _pause(page)
    assert end_week > start_week
    return (end_week - start_week) / (end - start)


def _pause(page, attempts: int = 6) -> None:
    """Press Pause until the page shows Play again. A click that lands while the page redraws the
    controls can be lost (the run then plays on); the button is disabled once the run reaches its
    horizon, which also ends the play."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    play = page.locator(".v-navigation-drawer button", has_text="▶")
    for _ in range(attempts):
        pause = _mesa_button(page, "❚❚")
        if play.count() or (pause.count() and not pause.is_enabled()):
            return
        try:
            pause.click(timeout=5_000)
            play.first.wait_for(state="visible", timeout=8_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"Pause never took effect after {attempts} clicks (week {_week(page)})")


def _settled_week(page) -> int:
    """The week once the page has stopped changing (a frame may still be on its way after Pause)."""
    week = -1
    while week != (now := _week(page)):
        week = now
        time.sleep(0.6)
    return week


def _scrub(page, week: int, last: int) -> None:
    """Go back to ``week`` with the scrubber (typed), then back to the latest week."""
    box = page.locator(".dp-scrub-week")
    box.fill(str(week))
    box.press("Enter")
    page.wait_for_function("w => document.querySelector('.dp-net-title').innerText.includes(`week ${w}`)", arg=week)
    page.wait_for_selector(".dp-chart-pool line[stroke-dasharray='3 2']", state="attached")  # the week marked
    assert _week(page) == last                                                           # the run stays put
    page.click(".dp-scrub-latest")
    page.wait_for_function("w => document.querySelector('.dp-net-title').innerText.includes(`week ${w}`)", arg=last)


def _local_model(week: int):
    """The model the page runs after _type_inputs, stepped to ``week`` here (same config and seed,
    same numbers): the test uses it to know which weeks had cascades."""
    from sim.viz.live_model import LiveModel
    m = LiveModel("baseline", SEED, **{k: v for k, (_, v) in TYPED.items()})
    for _ in range(week):
        m.step()
    return m


def _replay_cascade(page, model) -> int:
    """Click the timeline at the week with the most cascade rounds; replay it round by round."""
    from sim.viz.network_view import forced_events
    ev = forced_events(model.events_frame())
    rounds = ev.groupby("step")["round"].nunique()
    week = int(rounds.idxmax())
    hit = page.locator(".dp-chart-timeline .dp-chart-hit")
    box = hit.bounding_box()
    hit.click(position={"x": box["width"] * (week + 0.2) / model.horizon, "y": box["height"] / 2})
    page.wait_for_selector(".dp-replay-round")
    n = int(rounds.max())
    assert page.inner_text(".dp-replay-round").endswith(f"of {n})"), page.inner_text(".dp-replay-round")
    assert f"week {week}" in page.inner_text(".dp-net-title")
    seen = set()
    for i in range(n):
        seen.add(page.inner_text(".dp-replay-round"))
        assert page.locator(".dp-replay-text").inner_text().startswith("Round ")
        sellers = page.locator(".dp-node circle[stroke-width='4']").count()
        assert sellers >= 1
        if i < n - 1:
            page.click(".dp-replay-next")
    assert len(seen) == n
    assert page.locator(".dp-lit-edge").count() >= 1 or page.locator(".dp-move-label").count() >= 1
    page.click(".dp-replay-close")
    page.wait_for_selector(".dp-replay-round", state="detached")
    return week


def _open_agent(page, model) -> None:
    hf = next(a for a in model.holders if a.kind == "hedge_fund")
    page.click(f".dp-node[data-agent='{hf.unique_id}']")
    page.wait_for_selector(".dp-agent-body")
    body = page.inner_text(".dp-agent-body")
    assert hf.name in body and "Assets" in body and "margin" in body, body[:400]
    assert page.locator(".dp-chart-agent").count() == 1


def _compare(page) -> None:
    page.click(".dp-compare-choice")
    page.locator(".v-menu__content .v-list-item", has_text="dry_powder_exhausted").first.click()
    page.click(".dp-compare-start")
    page.wait_for_function("() => document.querySelector('.v-app-bar').innerText.includes('B (dashed)')")
    assert "dry_powder_exhausted" in page.inner_text(".v-app-bar")
    for name in ("pool", "rates", "prices", "timeline", "defaults", "trinity"):
        legend = page.inner_text(f".dp-chart-{name} .dp-chart-legend")
        assert "B: " in legend, (name, legend)


def _export_and_rerun(page, out_dir: Path, week: int) -> dict:
    page.click(".dp-export-button")
    page.wait_for_selector(".dp-export-note")
    note = page.inner_text(".dp-export-note")
    assert f"week {week}" in note and "drypowder run --from" in note, note
    folder = next(p for p in out_dir.iterdir() if p.is_dir() and (p / "manifest.json").exists())
    exported = json.loads((folder / "manifest.json").read_text())
    rerun_out = out_dir / "rerun"
    done = subprocess.run([sys.executable, "-m", "sim.cli", "run", "--from", str(folder / "manifest.json"),
                           "--out", str(rerun_out), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    rerun = Path(done.stdout.strip().splitlines()[-1])
    again = json.loads((rerun / "manifest.json").read_text())
    assert again["config_hash"] == exported["config_hash"] and again["seed"] == exported["seed"] == SEED
    assert again["steps"] == exported["steps"] == week
    summary = json.loads((folder / "summary.json").read_text())
    assert json.loads((rerun / "summary.json").read_text()) == summary
    return summary


def test_live_page_at_laptop_size(server, browser, out_dir):
    requests: list[str] = []
    context, page = _open(browser, server["url"], requests)
    try:
        _check_layout(page)
        _type_inputs(page)
        weeks_per_s = _play(page)
        week = _settled_week(page)
        model = _local_model(week)
        assert page.inner_text(".dp-readout-pool") == f"Dry powder ${model.metrics['dry_powder_bn']:,.0f}bn"
        _scrub(page, week // 2, week)
        replayed = _replay_cascade(page, model)
        _open_agent(page, model)
        _compare(page)
        summary = _export_and_rerun(page, out_dir, week)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        _report(play_weeks_per_s=round(weeks_per_s, 1), played_to_week=week, replayed_week=replayed,
                exported_fire_sales_bn=round(summary["fire_sale_volume_bn"], 1))
    finally:
        context.close()
    hosts = {urlsplit(u).hostname for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts and hosts <= LOCAL_HOSTS, sorted(hosts - LOCAL_HOSTS)


def test_two_sessions_have_independent_models(server, browser):
    (ca, a), (cb, b) = _open(browser, server["url"]), _open(browser, server["url"])
    try:
        field = b.locator(".dp-param-dry_powder_initial_bn .dp-param-text")
        field.fill("400")
        field.press("Enter")
        b.wait_for_selector(".dp-pending")
        assert a.locator(".dp-pending").count() == 0
        assert a.input_value(".dp-param-dry_powder_initial_bn .dp-param-text") == "1,200"
        _mesa_button(b, "Reset").click()
        b.wait_for_function("() => document.querySelector('.dp-readout-pool').innerText === 'Dry powder $400bn'")
        for _ in range(3):
            _mesa_button(b, "Step").click()
        _wait_week(b, 3)
        _mesa_button(a, "Step").click()
        _wait_week(a, 1)
        assert _week(b) == 3
        assert a.inner_text(".dp-readout-pool") != b.inner_text(".dp-readout-pool")
        assert "dry powder at start" not in a.inner_text(".v-app-bar").lower()
    finally:
        ca.close()
        cb.close()


# ---------------------------------------------------------------- a fresh server, eight visitors at once
def _server_rss_mb(pid: int) -> float:
    import psutil
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(p.memory_info().rss for p in procs) / 2 ** 20


def _round_of_visitors(browser, url: str, n: int = 8, play_s: float = 2.0) -> list[str]:
    """``n`` pages opened at once, all playing for ``play_s``, then left (the way a closed tab
    leaves: the page goes away and tells the server). Returns what each page showed if it failed."""
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    for page in pages:
        page.goto(url, wait_until="commit", timeout=60_000)
    failures = []
    started = time.perf_counter()
    for page in pages:
        try:
            page.wait_for_selector(".dp-net-svg g.dp-node", timeout=90_000)
        except Exception:  # noqa: BLE001 - recorded, asserted below
            failures.append(page.inner_text("body")[:300])
    for page in pages:
        text = page.inner_text("body")
        if "Traceback" in text or "partially initialized" in text:
            failures.append(text[:300])
        elif page.locator(".dp-readout-step").count():
            _mesa_button(page, "▶").click()
    print(f"{n} pages rendered in {time.perf_counter() - started:.1f}s")
    time.sleep(play_s)
    for page in pages:
        page.goto("about:blank")
    for c in contexts:
        c.close()
    return failures


def _settled_rss_mb(pid: int, timeout_s: float = 15.0) -> float:
    """The server's memory once the closed sessions are let go: sampled each second until it stops
    falling (at most ``timeout_s``)."""
    last = _server_rss_mb(pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _server_rss_mb(pid)
        if now > last * 0.995:
            return now
        last = now
    return last


def test_simultaneous_first_visitors_and_memory_over_rounds(tmp_path, browser):
    with live_server(tmp_path / "fresh.log") as srv:
        first = _round_of_visitors(browser, srv["url"])
        assert first == [], first                  # every first visitor got the page
        after = [_settled_rss_mb(srv["pid"])]
        for _ in range(2):
            assert _round_of_visitors(browser, srv["url"]) == []
            after.append(_settled_rss_mb(srv["pid"]))
        log = Path(srv["log"]).read_text(errors="replace")
    _report(server_rss_mb_after_rounds_of_8=[round(x) for x in after])
    assert "partially initialized" not in log
    assert max(after) <= 1.2 * after[0], after
