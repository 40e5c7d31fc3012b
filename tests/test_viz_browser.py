"""The live server in a real browser: ``drypowder viz`` (or ``python -m sim.viz`` until the CLI has
the subcommand) on a free port, driven by Playwright in Debian's headless Chromium.

Needs /usr/bin/chromium (``scripts/install_browser.sh``); skipped without it unless $CI is set,
where a missing browser is a failure. Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "runs" / "viz_test_screenshot.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SERVER_START_TIMEOUT = 90.0


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_command(port: int) -> list[str]:
    """``drypowder viz --port P`` when the CLI has the subcommand, else ``python -m sim.viz``."""
    exe = Path(sys.executable).parent / "drypowder"
    exe = str(exe) if exe.exists() else shutil.which("drypowder")
    if exe:
        try:
            ok = subprocess.run([exe, "viz", "--help"], capture_output=True, timeout=60, cwd=ROOT).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return [exe, "viz", "--port", str(port)]
    return [sys.executable, "-m", "sim.viz", "--port", str(port)]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"server did not listen on port {port} within {timeout:.0f}s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    port = _free_port()
    cmd = _server_command(port)
    log_path = tmp_path_factory.mktemp("viz") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            _wait_for_port(port, proc, SERVER_START_TIMEOUT)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}; command {cmd}; log:\n{log_path.read_text(errors='replace')[-3000:]}")
        yield {"url": f"http://127.0.0.1:{port}/", "cmd": cmd, "log": log_path}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)


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
