"""Checks of values that configs and experiment specs share."""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

#: A config's ``name`` becomes part of a folder name (``runs/<name>-s<seed>-<hash>``): a safe
#: character set and a length that leaves room for the rest within any file system's 255 bytes.
NAME_MAX_CHARS = 64
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def folder_name(name: str) -> str:
    """``name`` if it can be part of a folder name, else ValueError saying what is allowed."""
    if not NAME_PATTERN.fullmatch(name) or len(name) > NAME_MAX_CHARS:
        raise ValueError(f"names the run folder, so it must be 1-{NAME_MAX_CHARS} letters, digits, '.', '_' or "
                         f"'-', starting with a letter or digit (got {name!r})")
    return name


def folder_label(text: str) -> str:
    """Any text (a spec file's stem) as part of a folder name: unsafe characters become '_'."""
    label = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".-_")[:NAME_MAX_CHARS]
    return label or "spec"


@functools.cache
def _numeric_fields(model: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """(field, holds several numbers) for every field of ``model`` that holds numbers."""
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if ann in (int, float):
            out.append((name, False))
        elif getattr(ann, "__origin__", None) in (tuple, dict) and set(getattr(ann, "__args__", ())) & {int, float}:
            out.append((name, True))
    return tuple(out)


def no_booleans(model: type[BaseModel], data: Any) -> Any:
    """``true`` is not a number: pydantic would read it as 1 in a numeric field (or a list of
    numbers). For a model's ``mode="before"`` validator: one pass over the input mapping."""
    if isinstance(data, dict):
        for name, many in _numeric_fields(model):
            value = data.get(name)
            items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, bool) for v in items):
                raise ValueError(f"{name} must be {'numbers' if many else 'a number'}, not true or false")
    return data


class StrictData(BaseModel):
    """Data read from a file (a config section, an experiment spec): frozen; unknown keys, NaN and
    infinities, and true/false where a number belongs are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_not_booleans(cls, data: Any) -> Any:
        return no_booleans(cls, data)
