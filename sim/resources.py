"""Where the files that ship with drypowder are: the scenario configs and the peers' data.

In a source checkout (and an editable install) they are the repository's ``configs/`` and ``data/``
folders. A built wheel carries a copy of both inside the package, as ``sim/_bundled/configs`` and
``sim/_bundled/data`` (setup.py copies them there at build time, since ``configs/`` stays at the top
of the repository), so an installed drypowder finds its baseline, every scenario and the peer data
from any directory. Code asks this module for these paths and never builds them itself.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"

#: The folder holding ``configs/`` and ``data/``: inside the installed package, else the checkout.
SHIPPED_ROOT: Path = _BUNDLED if _BUNDLED.is_dir() else _PACKAGE_DIR.parent
#: The repository root when drypowder runs from a source checkout; None for an installed wheel.
SOURCE_CHECKOUT: Path | None = None if _BUNDLED.is_dir() else _PACKAGE_DIR.parent

CONFIG_DIR: Path = SHIPPED_ROOT / "configs"
DATA_DIR: Path = SHIPPED_ROOT / "data"


class Peer(StrEnum):
    """The published peers whose data ship in ``data/peer/`` (provenance in data/README.md)."""

    FIRESALE = "firesale"          # Oxford INET fire-sale stress test (48 EBA 2018 banks)
    SYSTEM_WIDE = "system_wide"    # Oxford INET system-wide stress test (banks, funds, networks)


def peer_dir(peer: Peer | str) -> Path:
    """The folder of one peer's data, e.g. ``peer_dir(Peer.SYSTEM_WIDE) / "inputs" / "EBA_2018.csv"``."""
    try:
        peer = Peer(peer)
    except ValueError:
        raise ValueError(f"unknown peer {peer!r}; peers: {', '.join(p.value for p in Peer)}") from None
    return DATA_DIR / "peer" / peer.value


def shipped_file(path: str | Path) -> Path:
    """``path`` if it exists from the current directory, else the same relative path among the
    shipped files (so ``configs/sweeps/smoke.yaml`` works from any directory after ``pip install``);
    the path as given if neither exists, for the caller's own "not found" message."""
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    shipped = SHIPPED_ROOT / p
    return shipped if shipped.exists() else p
