"""Code and documents change together: MODEL.md's parameter tables, README's commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sim.config import Config

ROOT = Path(__file__).resolve().parents[1]


def test_model_md_parameter_tables_match_the_code():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "model_params.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_every_config_section_is_explained_in_model_md():
    text = (ROOT / "MODEL.md").read_text()
    for section in Config.model_fields:
        if section in ("name", "description", "seed"):
            continue
        assert f"`{section}." in text or f"{section}." in text, section


def test_every_scenario_has_a_paragraph():
    text = (ROOT / "MODEL.md").read_text()
    for p in (ROOT / "configs" / "scenarios").glob("*.yaml"):
        assert f"**{p.stem}**" in text, p.stem


def test_readme_gives_exactly_two_fresh_machine_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```(?:bash)?\n(.*?)```", readme, re.S)
    assert block, "README needs a Quick start code block"
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in commands[1] and "scripts/test.sh" in ci
