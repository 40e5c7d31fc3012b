"""The run folder of a campaign on disk: result rows streamed to part files, the lock that keeps
one writer per folder, the manifest, and the consolidated tables.

* :class:`PartStore` streams rows to ``parts/part-NNNNN.parquet`` (each written under a temporary
  name and renamed, so every part file present is whole), recovers finished runs for ``--resume``
  and :func:`consolidate` merges the parts into one table sorted by run without loading
  everything at once.
* :func:`open_folder` decides between a new folder, a resume and a complete one;
  :class:`FolderLock` keeps a second process out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim import jsonio
from sim.atomic import atomic_write, atomic_write_text, check_inside, unique_dir
from sim.experiments.errors import SpecError
from sim.experiments.tasks import STATUS_FAILED
from sim.experiments.workers import process_alive

TIMING_COLUMNS = ("elapsed_s",)


# =============================================================================================
# The folder: manifest, lock, new / resume / complete
# =============================================================================================
def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_manifest(manifest: dict[str, Any], folder: Path) -> None:
    atomic_write_text(folder / "manifest.json", jsonio.dumps(manifest))


def open_folder(parent: Path, name: str, resume: bool, what: str) -> tuple[Path, str]:
    """The run folder and what to do: 'new', 'resume' or 'complete'."""
    target = check_inside(parent, parent / name)
    if target.exists():
        manifest = read_manifest(target) or {}
        status = manifest.get("status", "unknown")
        if status == "complete":
            if resume:
                return target, "complete"
            fresh = unique_dir(parent, name)
            print(f"note: {target} already holds this complete {what}; writing a new one to {fresh.name} "
                  f"(pass --resume to reuse the existing one)", file=sys.stderr)
            return fresh, "new"
        if not resume:
            raise SpecError(f"an unfinished {what} of this spec is in {target} (status: {status}); "
                            f"pass --resume to finish it, or delete that folder to start over")
        return target, "resume"
    if resume:
        print(f"note: nothing to resume in {target}; starting a new {what}", file=sys.stderr)
    return target, "new"


class FolderLock:
    """A pid file that keeps two processes from writing the same run folder."""

    def __init__(self, folder: Path):
        self.path = folder / ".lock"

    def __enter__(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and process_alive(pid):
                    raise SpecError(f"{self.path.parent} is being written by process {pid}; "
                                    f"wait for it to finish or stop it first") from None
                self.path.unlink(missing_ok=True)
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return self
        raise SpecError(f"cannot lock {self.path.parent}")

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)
        return False


# =============================================================================================
# Part files: streaming, recovery, consolidation
# =============================================================================================
def write_table(table: pa.Table, path: Path) -> None:
    """A Parquet file written whole or not at all."""
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_frame(df: pd.DataFrame, path: Path) -> None:
    write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def _table_from_rows(rows: list[dict[str, Any]]) -> pa.Table:
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    cols = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        try:
            cols[k] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            cols[k] = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    return pa.table(cols)


def _part_index(p: Path) -> int:
    return int(p.stem.split("-")[1])


class PartStore:
    """Result rows (and optional series frames) streamed to numbered part files."""

    def __init__(self, folder: Path, key: str, total: int, with_series: bool = False):
        self.folder = Path(folder)
        self.key = key
        self.total = total
        self.with_series = with_series
        self.dir = self.folder / "parts"
        self.sdir = self.folder / "series_parts"
        self.rows: list[dict[str, Any]] = []
        self.frames: list = []
        self.next_index = 0
        self.last_flush = time.monotonic()

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"), key=_part_index) if self.dir.exists() else []

    def series_parts(self) -> list[Path]:
        return sorted(self.sdir.glob("part-*.parquet"), key=_part_index) if self.sdir.exists() else []

    def scan(self) -> tuple[np.ndarray, int]:
        """(mask of the runs whose rows are on disk, number of them failed); changes nothing."""
        done = np.zeros(self.total, dtype=bool)
        failed = 0
        for p in self.parts():
            t = pq.read_table(p, columns=[self.key, "status"])
            keys = t.column(self.key).to_numpy()
            fresh = ~done[keys]
            done[keys] = True
            failed += int(np.sum((t.column("status").to_numpy(zero_copy_only=False) == STATUS_FAILED) & fresh))
        return done, failed

    def recover(self) -> tuple[np.ndarray, int]:
        """Clean leftovers of a killed run (only under the folder's lock); returns :meth:`scan`."""
        for d in (self.dir, self.sdir):
            d.mkdir(parents=True, exist_ok=True)
            for tmp in d.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        indices = {_part_index(p) for p in self.parts()}
        for p in self.series_parts():     # series written, results not: the runs will be redone
            if _part_index(p) not in indices:
                p.unlink()
        all_idx = indices | {_part_index(p) for p in self.series_parts()}
        self.next_index = max(all_idx) + 1 if all_idx else 0
        return self.scan()

    def add(self, row: dict[str, Any], frame=None) -> None:
        self.rows.append(row)
        if self.with_series and frame is not None:
            frame = frame.copy()
            frame.insert(0, "replication", row["replication"])
            self.frames.append(frame)

    def due(self, batch: int, seconds: float) -> bool:
        return len(self.rows) >= batch or (self.rows and time.monotonic() - self.last_flush >= seconds)

    def flush(self) -> None:
        if self.rows:
            name = f"part-{self.next_index:05d}.parquet"
            if self.with_series and self.frames:   # series first: a results part implies its series
                sf = pd.concat(self.frames, ignore_index=True).sort_values(["replication", "step"], kind="stable")
                write_table(pa.Table.from_pandas(sf, preserve_index=False), self.sdir / name)
            rows = sorted(self.rows, key=lambda r: r[self.key])
            write_table(_table_from_rows(rows), self.dir / name)
            self.next_index += 1
        self.rows, self.frames = [], []
        self.last_flush = time.monotonic()

    def remove_parts(self) -> None:
        for d in (self.dir, self.sdir):
            shutil.rmtree(d, ignore_errors=True)


def unified_schema(paths: list[Path]) -> pa.Schema:
    return pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")


def consolidate(paths: list[Path], out: Path, key: str, total: int, leading: list[str],
                chunk: int = 100_000) -> int:
    """Merge part files into ``out`` sorted by ``key`` (deduplicated), chunk by chunk of keys so
    that memory stays bounded; columns: ``leading``, then metrics, then timings. Returns rows."""
    schema = unified_schema(paths)
    names = schema.names
    trailing = [c for c in TIMING_COLUMNS if c in names]
    head = [c for c in leading if c in names]
    order = head + [c for c in names if c not in head and c not in trailing] + trailing
    fields = []
    for name in order:
        f = schema.field(name)
        if pa.types.is_null(f.type):
            f = f.with_type(pa.string() if name in ("error", "config_hash") else pa.float64())
        fields.append(f)
    target = pa.schema(fields)
    dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
    rows = [0]

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, target, compression="zstd") as writer:
            for lo in range(0, max(total, 1), chunk):
                flt = (ds.field(key) >= lo) & (ds.field(key) < lo + chunk)
                t = dataset.to_table(filter=flt).select(order).sort_by(key)
                if t.num_rows == 0:
                    continue
                keys = t.column(key).to_numpy()
                keep = np.ones(len(keys), dtype=bool)
                keep[1:] = keys[1:] != keys[:-1]
                if not keep.all():
                    t = t.filter(pa.array(keep))
                writer.write_table(t.cast(target))
                rows[0] += t.num_rows

    atomic_write(out, write)
    return rows[0]


def consolidate_series_full(paths: list[Path], out: Path) -> None:
    """All per-replication series (small N): one table sorted by (replication, step)."""
    schema = unified_schema(paths)
    t = ds.dataset([str(p) for p in paths], schema=schema, format="parquet").to_table()
    t = t.sort_by([("replication", "ascending"), ("step", "ascending")])
    keys = np.stack([t.column("replication").to_numpy(), t.column("step").to_numpy()])
    keep = np.ones(t.num_rows, dtype=bool)
    keep[1:] = (keys[:, 1:] != keys[:, :-1]).any(axis=0)
    write_table(t.filter(pa.array(keep)) if not keep.all() else t, out)
