"""Regenerate tests/golden/reference.json: the stored outputs the golden regression test compares with.

Run only when a change to the model's numbers is intended, and say why in the commit message:
    .venv/bin/python scripts/update_golden.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.golden_cases import CASES, fingerprint  # noqa: E402


def main() -> int:
    ref = {name: fingerprint(name) for name in CASES}
    path = ROOT / "tests" / "golden" / "reference.json"
    path.write_text(json.dumps(ref, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({len(ref)} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
