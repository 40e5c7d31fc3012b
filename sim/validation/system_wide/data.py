"""Inputs and reference tables of the INET system-wide stress test (SPEC.md §1, §4, §5, §11).

Everything the reproduction reads from disk goes through :func:`peer_data_dir` (the data ship with
drypowder in ``data/peer/system_wide/``): the EBA 2018 bank balance sheets and adverse-scenario
ratios, the banks' capital-buffer parameters, the peer's exported networks (to check ours) and its
per-point target tables. Cells such as ``13+27682`` are
sums (the peer evaluates them); they are parsed as sums of numbers, never evaluated as code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.resources import Peer, peer_dir

#: Target table versions: the current peer library (primary) and the paper-era one.
TARGET_VERSIONS = ("head", "v08")

EBA_FILE = "EBA_2018.csv"
SHOCKS_FILE = "EBA_2018_shocks.csv"
BUFFERS_FILE = "bank_buffer_parameters.csv"
N_EBA_COLUMNS = 10  # name, G, Cb, (unused), (unused), T2C, CET1E, lambda %, CET1 ratio %, T1C


def peer_data_dir() -> Path:
    """Folder holding the peer's ``inputs/``, ``networks/`` and ``targets/`` (shipped in ``data/peer/``)."""
    return peer_dir(Peer.SYSTEM_WIDE)


def _data_file(*parts: str) -> Path:
    path = peer_data_dir().joinpath(*parts)
    if not path.is_file():
        raise ValueError(f"peer data file not found: {path}")
    return path


def parse_sum(cell: str) -> float:
    """A cell of the EBA table: a number or a sum ``a+b+c`` (added left to right, as the peer does)."""
    total = None
    for term in cell.split("+"):
        try:
            value = float(term)
        except ValueError:
            raise ValueError(f"EBA cell {cell!r} is not a number or a sum of numbers") from None
        total = value if total is None else total + value
    return float(total)


def _read_space_separated(path: Path) -> list[list[str]]:
    """Rows of a space-separated file after its header (the peer's ``read_csv``)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=" "))
    return [r for r in rows[1:] if r]


@dataclass(frozen=True)
class BankData:
    """The 48 EBA 2018 banks in the peer's row order (SPEC.md §1.1, §4.1, §5); money in EUR million."""

    names: tuple[str, ...]
    gov_bonds: np.ndarray        # G (column 1)
    corp_bonds: np.ndarray       # Cb (column 2)
    t2c: np.ndarray              # tier-2 capital (column 5)
    cet1e: np.ndarray            # CET1 equity (column 6)
    leverage: np.ndarray         # lambda, a fraction (column 7 / 100)
    cet1_ratio: np.ndarray       # rho, a fraction (column 8 / 100)
    t1c: np.ndarray              # tier-1 capital (column 9)
    adverse_cet1_ratio: np.ndarray   # rho under the 2018 adverse scenario, a fraction
    adverse_leverage: np.ndarray     # lambda under the adverse scenario, a fraction
    is_gsib: np.ndarray          # on the FSB 2017 G-SIB list
    gsib_surcharge: np.ndarray   # fractions (csv % / 100)
    osii_surcharge: np.ndarray
    ccyb: np.ndarray
    systemic_risk_buffer: np.ndarray

    @property
    def n(self) -> int:
        return len(self.names)


def load_bank_data() -> BankData:
    """Read and check the three bank input files; ValueError on a malformed or inconsistent file."""
    rows = _read_space_separated(_data_file("inputs", EBA_FILE))
    shocks = _read_space_separated(_data_file("inputs", SHOCKS_FILE))
    if any(len(r) < N_EBA_COLUMNS for r in rows):
        raise ValueError(f"{EBA_FILE}: every row needs at least {N_EBA_COLUMNS} columns")
    if len(shocks) != len(rows) or any(len(r) < 2 for r in shocks):
        raise ValueError(f"{SHOCKS_FILE} must have one row of two ratios per bank of {EBA_FILE}")
    col = {i: np.array([parse_sum(r[i]) for r in rows]) for i in (1, 2, 5, 6, 7, 8, 9)}
    names = tuple(r[0] for r in rows)
    buffers = pd.read_csv(_data_file("inputs", BUFFERS_FILE))
    if tuple(buffers["bank"]) != names:
        raise ValueError(f"{BUFFERS_FILE} must list the banks of {EBA_FILE} in the same order")
    pct = {c: buffers[c].to_numpy(dtype=float) / 100 for c in
           ("GSIB_surcharge_pct", "OSII_surcharge_2017_pct", "CCyB_pct", "systemic_risk_buffer_pct")}
    return BankData(
        names=names, gov_bonds=col[1], corp_bonds=col[2], t2c=col[5], cet1e=col[6],
        leverage=col[7] / 100, cet1_ratio=col[8] / 100, t1c=col[9],
        adverse_cet1_ratio=np.array([parse_sum(r[0]) / 100 for r in shocks]),
        adverse_leverage=np.array([parse_sum(r[1]) / 100 for r in shocks]),
        is_gsib=buffers["is_GSIB_2017"].to_numpy(dtype=int) == 1,
        gsib_surcharge=pct["GSIB_surcharge_pct"], osii_surcharge=pct["OSII_surcharge_2017_pct"],
        ccyb=pct["CCyB_pct"], systemic_risk_buffer=pct["systemic_risk_buffer_pct"])


# ---------------------------------------------------------------------------------------------
# The peer's exported networks (to check ours) and its per-point targets
# ---------------------------------------------------------------------------------------------
def load_network_seeds() -> pd.DataFrame:
    """``networks/network_seeds.csv``: per simulation seed, the two draws and the numpy seeds."""
    return pd.read_csv(_data_file("networks", "network_seeds.csv"))


def load_interbank_edges() -> pd.DataFrame:
    """``networks/interbank_edges.csv``: (sim_seed, lender, borrower, amount_eur_m)."""
    return pd.read_csv(_data_file("networks", "interbank_edges.csv"))


def load_interbank_remainder() -> pd.DataFrame:
    """``networks/interbank_external_remainder.csv``: each bank's interbank borrowing from outside."""
    return pd.read_csv(_data_file("networks", "interbank_external_remainder.csv"))


def load_portfolio_membership() -> pd.DataFrame:
    """``networks/portfolio_membership_seeds0-9.csv``: (sim_seed, asset_class, row, holder, asset, weight)."""
    return pd.read_csv(_data_file("networks", "portfolio_membership_seeds0-9.csv.gz"))


#: Target files per experiment, as the peer's summaries name them.
TARGET_FILES = {"FF10": "FF10_summary.csv", "FF11_1": "FF11_1_summary.csv", "FF11_2": "FF11_2_summary.csv"}
JOINT_FILES = {"FF11_1": "FF11_1_c_joint_vs_parts.csv", "FF11_2": "FF11_2_c_joint_vs_parts.csv"}


def load_targets(version: str = "head") -> dict[str, pd.DataFrame]:
    """The peer's per-point summaries of one library version: ``{"FF10": ..., "FF11_1": ..., "FF11_2": ...}``."""
    if version not in TARGET_VERSIONS:
        raise ValueError(f"unknown target version {version!r}; allowed: {', '.join(TARGET_VERSIONS)}")
    return {key: pd.read_csv(_data_file("targets", version, name)) for key, name in TARGET_FILES.items()}


def load_joint_targets(version: str = "head") -> dict[str, pd.DataFrame]:
    """The peer's joint-versus-parts tables (FF11c) of one library version."""
    if version not in TARGET_VERSIONS:
        raise ValueError(f"unknown target version {version!r}; allowed: {', '.join(TARGET_VERSIONS)}")
    return {key: pd.read_csv(_data_file("targets", version, name)) for key, name in JOINT_FILES.items()}
