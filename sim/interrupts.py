"""Stopping a command cleanly: Ctrl-C, SIGTERM (a service manager, ``kill``) and SIGHUP (a closed
terminal) all end ``run``, ``mc``, ``sweep`` and ``sensitivity`` the same way.

The first such signal raises ``KeyboardInterrupt`` in the main thread, where the command keeps
what is finished and stops its workers. Later signals are noted and ignored: a second Ctrl-C must
not cut short the cleanup that writes the finished rows and marks the folder ``interrupted``
(SIGKILL still ends everything at once).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_requested: list[int] = []


def stop_requested() -> bool:
    """Whether a stop signal arrived since :func:`stop_on_signals` was last entered (the command is
    ending: start nothing new; an error now is a consequence of the interruption)."""
    return bool(_requested)


def _handler(signum, frame) -> None:
    first = not _requested
    _requested.append(signum)
    if first:
        raise KeyboardInterrupt


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, :data:`STOP_SIGNALS` interrupt as described above (main thread only;
    elsewhere the block runs with the handlers it has)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handler) for sig in STOP_SIGNALS}
    _requested.clear()
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_quietly_on_signals() -> None:
    """For the program itself, from its first line until :func:`stop_on_signals` takes over: a stop
    signal during start-up ends the process at once with ``interrupted`` (exit status 130), not
    with a KeyboardInterrupt traceback from the middle of an import."""
    def quit_now(signum, frame) -> None:
        os.write(2, b"interrupted\n")
        os._exit(130)

    for sig in STOP_SIGNALS:
        signal.signal(sig, quit_now)


def ignore_stop_signals() -> None:
    """Once the program's work is done and its exit status known: a signal during the interpreter's
    shutdown (when Python's own handlers are gone) must not turn that status into a signal death."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def python_default_signals() -> None:
    """Python's own handling of the stop signals (for a command that manages them itself: viz)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
