"""Packaging: the lock covers every dependency and is what runs; the shipped data and configs are
found from anywhere; the README names the locked versions. (The wheel itself: test_wheel_install.py.)"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sim import resources
from sim.cli import main
from sim.config import BASELINE_PATH, SCENARIO_DIR, resolve_config_arg
from sim.resources import Peer, peer_dir

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]*?))?\s*\\?$")
MAX_FILE_BYTES = 1_000_000


def locked() -> dict[str, list[tuple[str, Marker | None]]]:
    """requirements.lock as {package: [(version, marker or None), ...]}."""
    pins: dict[str, list[tuple[str, Marker | None]]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = PIN.match(line)
        if m:
            name, version, marker = m.groups()
            pins.setdefault(canonicalize_name(name), []).append((version, Marker(marker) if marker else None))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in project["dependencies"] + [r for group in extras.values() for r in group]]


def test_the_lock_pins_every_declared_dependency_within_its_range():
    pins = locked()
    assert len(pins) > 50
    stale = []
    for req in declared():
        versions = [v for v, _ in pins.get(canonicalize_name(req.name), [])]
        if not versions or not all(req.specifier.contains(v, prereleases=True) for v in versions):
            stale.append(f"{req} (lock: {versions or 'missing'})")
    assert not stale, f"requirements.lock is stale; run `bash scripts/lock.sh`: {stale}"
    # the live view works offline only with these (README, docs/viz.md)
    assert [v for v, _ in pins["mesa"]] == ["3.5.1"] and [v for v, _ in pins["solara"]] == ["1.64.1"]
    assert [v for v, _ in pins["solara-assets"]] == ["1.58.2"]


def test_this_environment_runs_the_locked_versions():
    wrong = []
    for name, entries in locked().items():
        for version, marker in entries:
            if marker is not None and not marker.evaluate():
                continue
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed = None
            if installed != version:
                wrong.append(f"{name}: {installed} installed, {version} locked")
    assert not wrong, f"run `bash scripts/setup.sh`: {wrong}"


def test_readme_names_the_locked_versions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"^ *\| Python \|(.*)\|\n *\|[-| ]+\|\n *\| ([\d.]+) \|(.*)\|$", readme, re.M)
    assert table, "README needs the one-row table of versions, starting with | Python |"
    names = [c.strip() for c in table.group(1).split("|")]
    versions = [c.strip() for c in table.group(3).split("|")]
    pins = locked()
    assert {"numpy", "mesa", "pandas", "scipy"} <= set(names)
    for name, version in zip(names, versions, strict=True):
        assert [v for v, _ in pins[canonicalize_name(name)]] == [version], name
    assert "bash scripts/lock.sh" in readme


def test_shipped_data_has_its_licence_and_no_file_over_a_megabyte():
    files = [p for p in (ROOT / "data").rglob("*") if p.is_file()]
    assert len(files) >= 20
    assert not [p for p in files if p.stat().st_size > MAX_FILE_BYTES]
    system_wide = peer_dir(Peer.SYSTEM_WIDE)
    assert "Apache License" in (system_wide / "inputs" / "LICENSE-Apache-2.0-sw_stresstest.txt").read_text()
    notes = (ROOT / "data" / "README.md").read_text()
    assert "European Banking Authority" in notes and "Apache" in notes
    membership = pd.read_csv(system_wide / "networks" / "portfolio_membership_seeds0-9.csv.gz")
    assert sorted(membership["sim_seed"].unique()) == list(range(10))
    assert (membership.groupby(["sim_seed", "asset_class", "row"])["weight"].sum() - 1).abs().max() < 1e-9


def test_peer_dir_names_the_peers_and_refuses_others():
    assert peer_dir("firesale") == peer_dir(Peer.FIRESALE) == resources.DATA_DIR / "peer" / "firesale"
    assert (peer_dir(Peer.FIRESALE) / "eba2018_balance_sheets.csv").is_file()
    with pytest.raises(ValueError, match="firesale, system_wide"):
        peer_dir("systemwide")


def test_configs_are_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_arg(None) == resolve_config_arg("baseline") == BASELINE_PATH and BASELINE_PATH.is_file()
    for p in SCENARIO_DIR.glob("*.yaml"):
        assert resolve_config_arg(p.stem) == p
    assert resolve_config_arg("configs/scenarios/ai_bear.yaml") == SCENARIO_DIR / "ai_bear.yaml"
    (tmp_path / "configs").mkdir()
    own = tmp_path / "configs" / "mine.yaml"
    own.write_text("name: mine\n")
    assert resolve_config_arg("configs/mine.yaml").resolve() == own   # the user's file first


def test_runs_go_under_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "ai_bear", "--steps", "4", "--set", "retail.holders=200", "--quiet"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert run_dir.parent == Path("runs") and (tmp_path / run_dir / "model.parquet").is_file()
