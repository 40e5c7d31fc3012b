"""Reading data files a user hands us (configs, specs, manifests): safe and bounded.

Configs and specs are data, never code: YAML is read with a subclass of PyYAML's ``SafeLoader``
(no Python tags) that also refuses what a careless or hostile file can do to the programs that
read it afterwards:

* a **duplicate key** (YAML would silently keep the last value);
* **nesting deeper than** :data:`MAX_DEPTH` levels (the composer and every consumer recurse);
* an **alias bomb** ("billion laughs"): a few lines whose aliases expand to more than
  :data:`MAX_NODES` values once copied, validated or printed; and recursive aliases;
* a document longer than :data:`MAX_DOCUMENT_CHARS` characters.

Each refusal is a :class:`yaml.YAMLError` with the line and column of the culprit, raised within
milliseconds. JSON (run manifests) gets the same limits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DOCUMENT_CHARS = 1 << 20    # a baseline config is about 5 KB; a spec with long grids well below 1 MB
MAX_DEPTH = 64                  # the deepest config section is 4 levels
MAX_NODES = 100_000             # values after expanding aliases; a config has about 300
_MERGE_TAG = "tag:yaml.org,2002:merge"


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys, deep nesting and alias bombs."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _check_expanded_size(node)
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:          # an unhashable key: the base class says so
                    continue
                if duplicate:
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"found duplicate key {key!r} (each key may appear once)",
                                           key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _check_expanded_size(root: Node | None) -> None:
    """Refuse a node graph whose aliases expand to more than MAX_NODES values, or that refers to
    itself. Linear in the graph's size (each node's expanded size is computed once)."""
    if root is None:
        return
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        kids = _children(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(size[id(k)] for k in kids)
            if total > MAX_NODES:
                raise ComposerError(None, None, f"aliases expand to more than {MAX_NODES:,} values "
                                                f"(an alias bomb?)", node.start_mark)
            size[key] = total
            continue
        if key in size:
            continue
        on_path.add(key)
        stack.append((node, True))
        for k in kids:
            if id(k) in on_path:
                raise ComposerError(None, None, "an alias refers to the value that contains it", k.start_mark)
            if id(k) not in size:
                stack.append((k, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def load_yaml(text: str) -> Any:
    """Parse one YAML document with :class:`BoundedSafeLoader` (raises ``yaml.YAMLError``)."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise yaml.YAMLError(f"longer than {MAX_DOCUMENT_CHARS:,} characters ({len(text):,})")
    return yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 - a SafeLoader subclass


def load_json(text: str) -> Any:
    """Parse JSON with the same limits (raises ``ValueError`` with a one-line message)."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ValueError(f"longer than {MAX_DOCUMENT_CHARS:,} characters ({len(text):,})")

    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                raise ValueError(f"duplicate key {k!r} (each key may appear once)")
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return data


def _depth(obj: Any) -> int:
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict):
            o = list(o.values())
        if isinstance(o, list):
            deepest = max(deepest, d)
            stack.extend((v, d + 1) for v in o)
    return deepest


def read_yaml_mapping(path: str | Path, *, what: str, error: type[Exception],
                      allow_empty: bool) -> tuple[dict[str, Any], str]:
    """Read the YAML mapping in file ``path`` with :func:`load_yaml`, returning it with its text.
    Every failure raises ``error`` with a one-line message naming the file (and, for bad YAML, the
    line and column): missing, a folder, unreadable, not UTF-8, bad YAML, empty (unless
    ``allow_empty``: then ``{}``), or not a mapping."""
    p = Path(path)
    if not p.exists():
        raise error(f"{what} file not found: {p}")
    if p.is_dir():
        raise error(f"{what} path is a folder, not a file: {p}")
    try:
        with p.open(encoding="utf-8") as f:
            text = f.read(MAX_DOCUMENT_CHARS + 1)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise error(f"cannot read {what} {p}: {exc}") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"invalid YAML in {p}{where}: {problem}") from None
    if data is None:
        if not allow_empty:
            raise error(f"{what} {p} is empty")
        return {}, text
    if not isinstance(data, dict):
        raise error(f"{what} {p} must be a mapping of keys (got {type(data).__name__})")
    return data, text
