"""Command-line options of ``drypowder mc | sweep | sensitivity`` (cheap to import: no numpy)."""

from __future__ import annotations

from pathlib import Path

from sim.argtypes import positive_int, positive_seconds, seed
from sim.experiments.errors import SpecError

COMMAND_NAMES = ("mc", "sweep", "sensitivity")
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "inproc", "ucx")


def _common(p, resume_help: str) -> None:
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel workers (default: CPU count; 1 runs in this process). "
                        "Ignored with a remote --scheduler, whose workers are used")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="'local' starts a Dask LocalCluster on 127.0.0.1; tcp://HOST:PORT uses a running "
                        "Dask scheduler (default: a local process pool)")
    p.add_argument("--out", type=Path, help="parent folder of the run folder (default: runs/)")
    p.add_argument("--resume", action="store_true", help=resume_help)
    p.add_argument("--batch-size", type=positive_int, default=None, metavar="B",
                   help="runs per part file written while running (default: adapted to the run count)")
    p.add_argument("--flush-seconds", type=positive_seconds, default=30.0, metavar="T",
                   help="write finished runs at least every T seconds (default 30)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parsers(sub) -> None:
    """Register ``mc``, ``sweep`` and ``sensitivity`` on the CLI's subparsers object."""
    m = sub.add_parser("mc", help="Monte Carlo: N replications of one config with spawned seeds")
    m.add_argument("config", nargs="?", help="YAML path or scenario name (default: configs/baseline.yaml)")
    m.add_argument("-n", "--replications", dest="n", type=positive_int, default=100,
                   help="replications (default 100)")
    m.add_argument("--seed", type=seed, help="root seed S; replication i uses SeedSequence(S).spawn(N)[i] "
                                             "(default: the config's seed)")
    m.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (repeatable)")
    _common(m, "finish an interrupted run of the same command without redoing finished replications")

    s = sub.add_parser("sweep", help="parameter sweep (grid or LHS/Sobol sample) from a YAML spec")
    s.add_argument("spec", help="sweep spec YAML (examples in configs/sweeps/)")
    _common(s, "finish an interrupted sweep of this spec without redoing finished runs")

    g = sub.add_parser("sensitivity", help="global sensitivity (Sobol or Morris, SALib) from a YAML spec")
    g.add_argument("spec", help="sensitivity spec YAML (example: configs/sensitivity/headline.yaml)")
    _common(g, "finish an interrupted analysis of this spec without redoing finished runs")


def check_scheduler(text: str | None) -> str | None:
    """``--scheduler``: ``None``, ``'local'`` or a full Dask address (``tcp://`` is added)."""
    if text is None or text == "local":
        return text
    addr = text if "://" in text else f"tcp://{text}"
    scheme, _, rest = addr.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in SCHEDULER_SCHEMES or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SpecError(f"--scheduler must be 'local' or a Dask scheduler address like tcp://10.0.0.5:8786 "
                        f"(got {text!r})")
    return addr
