"""``drypowder viz``: serve the live page with Solara on 127.0.0.1 and block until stopped.

The server is a child process (``solara run sim.viz.app --production``, telemetry off). It ends
with this process however this one ends: SIGTERM, SIGINT (Ctrl-C) and SIGHUP stop it (SIGTERM,
then SIGKILL after a grace period); if this process is killed outright, the kernel sends the child
SIGTERM (Linux) and the child also watches its parent (:func:`sim.viz.app.watch_parent`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from sim.config import BASELINE_PATH, load_config, resolve_config_arg

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "sim.viz.app"
CONFIG_ENV = "DRYPOWDER_VIZ_CONFIG"
OUT_ENV = "DRYPOWDER_VIZ_OUT"
PARENT_ENV = "DRYPOWDER_VIZ_PARENT_PID"
STOP_GRACE_S = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


def solara_executable() -> Path:
    """The ``solara`` script next to the running interpreter (the venv's)."""
    return Path(sys.executable).parent / ("solara.exe" if os.name == "nt" else "solara")


def server_command(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> list[str]:
    return [str(solara_executable()), "run", APP_MODULE, "--host", host, "--port", str(int(port)),
            "--production", "--no-open"]


def server_env(config_path: "str | Path | None" = None, out: "str | Path | None" = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # a page whose tab closed without saying so (a crash, a lost connection) is let go after a minute
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "60s")
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env[PARENT_ENV] = str(os.getpid())
    for key, value in ((CONFIG_ENV, config_path), (OUT_ENV, out)):
        if value is not None:
            env[key] = str(Path(value).resolve())
        else:
            env.pop(key, None)
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send this (child) process SIGTERM when its parent dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _Stop(Exception):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop_child(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve(config_path: "str | Path | None" = None, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST,
          out: "str | Path | None" = None) -> int:
    """Serve the live page at http://host:port and block until it stops. ``config_path``: a YAML
    path or scenario name (default: the baseline), validated first; ``out``: where "Save run
    folder" writes (default runs/). Returns 0 after a stop signal, 2 for bad input or a missing
    viz extra, else the server's exit code."""
    path: Path | None = None
    if config_path is not None:
        try:
            path = resolve_config_arg(str(config_path))
            load_config(path)
        except Exception as exc:  # noqa: BLE001 - one line instead of a traceback
            print(f"error: {exc}", file=sys.stderr)
            return 2
    exe = solara_executable()
    if not exe.exists():
        print("error: the live view needs the viz extra: pip install 'drypowder[viz]'", file=sys.stderr)
        return 2
    print(f"drypowder viz: serving {path or BASELINE_PATH} at http://{host}:{port} (Ctrl-C to stop)", flush=True)

    def on_signal(signum, frame):
        raise _Stop(signum)

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    proc = None
    try:
        proc = subprocess.Popen(server_command(port, host), env=server_env(path, out),
                                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        return proc.wait()
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        for s in STOP_SIGNALS:     # a second signal while stopping must not skip the stop
            signal.signal(s, signal.SIG_IGN)
        if proc is not None:
            _stop_child(proc)
        for s, handler in previous.items():
            signal.signal(s, handler)
