"""What the user sees when something goes wrong that is not bad input.

* The machine refuses (disk full, permission denied, a read-only folder): :func:`resource_problem`
  says so in one line; the command ends with exit status 2 and, for an experiment, a folder that
  ``--resume`` finishes.
* A bug: :func:`write_crash_report` writes the traceback and the versions to a short report file;
  the terminal gets one line that names it (exit status 1), never a traceback.
"""

from __future__ import annotations

import errno
import os
import platform
import sys
import tempfile
import traceback
from datetime import datetime, timezone
from pathlib import Path

from sim.provenance import package_version

RESOURCE_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.EMFILE: "too many open files",
    errno.ENFILE: "too many open files in the system",
    errno.EFBIG: "file too large",
}


def resource_problem(exc: BaseException) -> str | None:
    """One line for an error of the machine rather than of the program (else None)."""
    for e in _chain(exc):
        if isinstance(e, MemoryError):
            return "out of memory"
        code = getattr(e, "errno", None)
        if isinstance(e, OSError) and code in RESOURCE_ERRNOS:
            where = f" ({e.filename})" if getattr(e, "filename", None) else ""
            return f"{RESOURCE_ERRNOS[code]}{where}"
    return None


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def write_crash_report(exc: BaseException, argv: list[str], folder: Path | None,
                       warnings: list[str] = ()) -> Path | None:
    """Write the report of an unexpected error (and the warnings before it) to ``folder`` (else the
    system's temporary folder); returns its path, or None if nothing could be written."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = (f"drypowder {package_version()} internal error, {stamp}\n"
            f"command: drypowder {' '.join(argv)}\n"
            f"python {platform.python_version()} on {platform.platform()}\n\n"
            + "".join(traceback.format_exception(exc))
            + ("\nwarnings before it:\n" + "".join(warnings) if warnings else ""))
    for where in ([Path(folder)] if folder is not None else []) + [Path(tempfile.gettempdir())]:
        path = where / f"drypowder-error-{stamp}-{os.getpid()}.txt"
        try:
            where.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def one_line(text: object) -> str:
    """A message on one line (newlines of nested messages folded)."""
    return " ".join(str(text).split("\n")).strip()


def print_error(message: object) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)
