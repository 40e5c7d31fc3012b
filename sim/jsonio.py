"""JSON of results: numpy values as plain numbers, and (for reports) strict JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def plain(obj: Any, *, finite: bool = True) -> Any:
    """``obj`` with numpy scalars and arrays as Python values; with ``finite`` NaN and infinities
    become None, so that the text is strict JSON (``report.json``, ``indices.json``)."""
    if isinstance(obj, dict):
        return {(k.item() if isinstance(k, np.generic) else k): plain(v, finite=finite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, finite=finite) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist(), finite=finite)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if finite and not math.isfinite(obj) else float(obj)
    return obj


def dumps(obj: Any, *, finite: bool = True) -> str:
    """Indented JSON text ending in a newline."""
    return json.dumps(plain(obj, finite=finite), indent=2) + "\n"
