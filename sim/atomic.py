"""Files and folders written whole or not at all, and kept inside the folder the user named.

Every output is first written under a hidden temporary name beside its destination and renamed
into place (``os.replace``: atomic on one file system), so a reader never sees half a file and an
interrupted or failed write (Ctrl-C, disk full, a killed process) leaves the destination as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from sim.config import ConfigError

#: Temporary files are named ``.<name>.<pid>.tmp``: hidden, and swept by ``*.tmp`` on resume.
TMP_SUFFIX = ".tmp"


def temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}{TMP_SUFFIX}")


def atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``target``, then move it into place."""
    target = Path(target)
    tmp = temporary_name(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


class OutsideFolderError(ConfigError):
    """A path that would leave the output folder the user named."""


def check_inside(parent: Path, path: Path) -> Path:
    """``path`` as given, if it lies inside ``parent`` once both are resolved (symbolic links
    followed); else :class:`OutsideFolderError`. Guards every path built from user input."""
    root = Path(parent).resolve()
    full = Path(path).resolve()
    if full == root or root not in full.parents:
        raise OutsideFolderError(f"{path} is not inside the output folder {parent}")
    return Path(path)


def unique_dir(parent: Path, name: str) -> Path:
    """``parent/name``, or the first of ``name-2``, ``name-3``... that does not exist yet."""
    target = check_inside(parent, Path(parent) / name)
    n = 2
    while target.exists():
        target = check_inside(parent, Path(parent) / f"{name}-{n}")
        n += 1
    return target


def publish_dir(tmp: Path, parent: Path, name: str, stamp: Callable[[str], object] | None = None) -> Path:
    """Rename the finished folder ``tmp`` to ``parent/name``, or ``name-2``, ``name-3``... if that
    is taken, also by a process that finished first (the rename never replaces a folder).
    ``stamp(final_name)`` is called before each attempt, to record the name inside the folder."""
    n = 1
    while True:
        target = check_inside(parent, Path(parent) / (name if n == 1 else f"{name}-{n}"))
        n += 1
        if target.exists():
            continue
        if stamp is not None:
            stamp(target.name)
        try:
            os.rename(tmp, target)       # fails if another process created target meanwhile
            return target
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise


@contextlib.contextmanager
def staging_dir(parent: Path, name: str) -> Iterator[Path]:
    """A hidden temporary folder in ``parent`` for a folder to be called ``name``; removed when
    the block ends unless it was published (renamed) by :func:`publish_dir` inside the block."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
