"""The live view as a background server, for programs that drive it in a browser (the browser test,
``scripts/make_viz_screenshot.py``): start ``drypowder viz`` on a free port of 127.0.0.1, wait until it
listens, stop it and everything it started. Also the headless Chromium those programs use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
#: Debian's Chromium (scripts/install_browser.sh); Playwright's own browser download is never used.
CHROMIUM = Path("/usr/bin/chromium")
#: Without the networking flags Chromium tries to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-quic",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(port: int, config: str | None = None, extra_args: tuple[str, ...] = ()) -> list[str]:
    """``drypowder viz [CONFIG] --port P [EXTRA]`` (the console script next to this interpreter, else
    the module)."""
    exe = Path(sys.executable).parent / "drypowder"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]
    return [*head, "viz", *([config] if config else []), "--port", str(port), *extra_args]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"server did not listen on port {port} within {timeout_s:.0f}s")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it has not ended after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def live_server(log_path: Path, config: str | None = None, timeout_s: float = 90.0,
                extra_args: tuple[str, ...] = ()) -> Iterator[dict]:
    """Serve the live view (telemetry off) and yield ``{"url", "cmd", "log", "pid"}`` (``pid``: the
    ``drypowder viz`` process); the server and its children are stopped on exit. A server that exits
    or does not listen within ``timeout_s`` raises RuntimeError or TimeoutError, with the end of its
    log in the message."""
    port = free_port()
    cmd = server_command(port, config, tuple(extra_args))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            _wait_for_port(port, proc, timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            raise type(exc)(f"{exc}; command {cmd}; log:\n{log_path.read_text(errors='replace')[-3000:]}") from None
        yield {"url": f"http://127.0.0.1:{port}/", "cmd": cmd, "log": log_path, "pid": proc.pid}
    finally:
        _stop(proc)
