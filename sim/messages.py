"""Validation messages shared by configs and experiment specs.

A bad value is reported as the dotted path of the key, what was wrong and what was given; an
unknown key also gets the keys allowed at that place and, for a typo, the closest one.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError


def closest(key: Any, candidates) -> str:
    """`` (did you mean 'x'?)`` for the candidate closest to ``key``, or an empty string."""
    match = difflib.get_close_matches(str(key), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def allowed_fields(model: type[BaseModel], path: tuple) -> list[str]:
    """Field names valid at ``path`` inside ``model`` (list indices in the path are skipped)."""
    cls: Any = model
    map_key_next = False            # after a field typed dict[str, Model] comes the dict's key
    for part in path:
        if isinstance(part, int) or map_key_next:
            map_key_next = False
            continue
        field = getattr(cls, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        inner = getattr(ann, "__args__", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            cls = ann
        elif inner:
            sub = [a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)]
            if not sub:
                return []
            cls = sub[0]
            map_key_next = getattr(ann, "__origin__", None) is dict
        else:
            return []
    return list(getattr(cls, "model_fields", {}))


def _describe(e: dict[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(e.get("loc", ()))
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = e.get("type")
    if kind == "extra_forbidden":
        allowed = allowed_fields(model, loc[:-1])
        return f"unknown key '{where}'{closest(loc[-1], allowed)}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return f"'{where}' is required"
    msg = e.get("msg", "invalid value")
    if msg.startswith("Value error, "):           # our own validators: the message names the key
        msg = msg[len("Value error, "):]
        return msg if msg.startswith("'") or not loc else f"'{where}': {msg}"
    got = e.get("input")
    got_s = "" if isinstance(got, (dict, list)) else f" (got {_short(got)})"
    return f"'{where}': {msg}{got_s}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def format_validation_error(err: ValidationError, source: str, model: type[BaseModel], what: str = "config") -> str:
    """One line: ``invalid <what> <source>: <problem>; <problem>...``."""
    return f"invalid {what} {source}: " + "; ".join(_describe(e, model) for e in err.errors())
