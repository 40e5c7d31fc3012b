"""The command line: ``drypowder run | validate | mc | sweep | sensitivity | channels | viz | validate-peer``.

Bad input never shows a traceback: it gets one clear message on stderr and exit status 2, and
nothing half-written is left behind (runs are written into a temporary folder and renamed). What
the machine cannot hold is refused before anything starts (:mod:`sim.limits`); Ctrl-C, SIGTERM
and SIGHUP stop a command cleanly (:mod:`sim.interrupts`); a bug ends in one line that names a
report file (:mod:`sim.failures`).
"""

from __future__ import annotations

import os
import sys

from sim.interrupts import (exit_quietly_on_signals, ignore_stop_signals, python_default_signals, stop_on_signals,
                            stop_requested)

AS_PROGRAM = __name__ == "__main__" or os.path.basename(sys.argv[0]) == "drypowder"   # not an import
if AS_PROGRAM:
    exit_quietly_on_signals()

import argparse  # noqa: E402 - after the signal handling above, which must come first
import contextlib  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from pydantic import BaseModel, ConfigDict, Field, ValidationError  # noqa: E402

from sim.argtypes import SEED_LIMIT, port, positive_int, seed  # noqa: E402
from sim.config import ConfigError, load_config, parse_override, resolve_config_arg  # noqa: E402
from sim.experiments import options as experiment_options  # noqa: E402
from sim.experiments.workers import start_workers_early  # noqa: E402
from sim.failures import one_line, print_error, resource_problem, write_crash_report  # noqa: E402
from sim.folders import RUNS_DIR, check_writable  # noqa: E402
from sim.limits import check_model, check_steps, gib  # noqa: E402
from sim.messages import format_validation_error  # noqa: E402
from sim.safe_load import load_json  # noqa: E402

EXIT_USAGE = 2            # bad input, or the machine refused (disk full, permissions, memory)
EXIT_BUG = 1              # an internal error: a short report file is written
EXIT_INTERRUPTED = 130


class UsageError(ConfigError):
    """Bad input from the user (message shown as is, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: same style, exit 2
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _overrides(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in pairs or []:
        key, value = parse_override(text)
        out[key] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="drypowder", description="Agent-based simulator of the AI-capex liquidity cycle.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run one scenario and write runs/<run-id>/")
    r.add_argument("config", nargs="?", help="YAML path or scenario name (default: configs/baseline.yaml)")
    r.add_argument("--seed", type=seed, help="random seed (default: the config's seed)")
    r.add_argument("--steps", type=positive_int, help="weeks to simulate (default: simulation.steps)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (repeatable)")
    r.add_argument("--out", type=Path,
                   help="parent folder for the run folder (default: runs/ in the current directory)")
    r.add_argument("--from", dest="from_manifest", type=Path, metavar="MANIFEST",
                   help="rerun exactly what a manifest.json records")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    v = sub.add_parser("validate", help="check a config and print the resolved values")
    v.add_argument("config", help="YAML path or scenario name")
    v.add_argument("--set", action="append", metavar="KEY=VALUE")

    experiment_options.add_parsers(sub)
    channels_parser(sub)

    z = sub.add_parser("viz", help="serve the live view on 127.0.0.1")
    z.add_argument("config", nargs="?", help="YAML path or scenario name (default: baseline)")
    z.add_argument("--port", type=port, default=8765)
    z.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    z.add_argument("--out", type=Path, help="parent folder for the page's saved run folders (default: runs/)")

    q = sub.add_parser("validate-peer", help="reproduce the INET fire-sale stress test (Cont-Schaanning rules), "
                                             "or with --system-wide the INET system-wide stress test")
    q.add_argument("--balance-sheets", type=Path,
                   help="the peer's balance sheets (default: the EBA 2018 data shipped in data/peer/firesale/)")
    q.add_argument("--out", type=Path,
                   help="folder for peer_results.csv and peer_validation.png (default: runs/peer-validation)")
    q.add_argument("--system-wide", action="store_true",
                   help="run the system-wide peer's FF10 and FF11 instead (default out: runs/peer-validation-system-wide)")
    q.add_argument("--seeds", type=positive_int, default=10, help="runs per point (the peer's 10; --system-wide)")
    q.add_argument("--seed", type=seed, help="spawn the runs' seeds from this root (default: the peer's seeds)")
    q.add_argument("--workers", type=positive_int, help="parallel workers (default: CPU count)")
    q.add_argument("--crediting", choices=("head", "v08", "both"), default="both",
                   help="peer library version(s) to reproduce (default: both)")
    q.add_argument("--experiments", default="FF10,FF11_1,FF11_2", help="comma-separated subset")
    return p


def channels_parser(sub) -> None:
    """``drypowder channels`` (:mod:`sim.channel_study`)."""
    c = sub.add_parser("channels", help="each contagion channel alone and all together, with the amplification")
    c.add_argument("config", nargs="?", help="YAML path or scenario name (default: baseline)")
    c.add_argument("-n", "--replications", dest="n", type=positive_int, default=40,
                   help="replications per setting (default 40)")
    c.add_argument("--seed", type=seed, help="root seed (default: the config's seed); every setting uses the same seeds")
    c.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (not channels.*)")
    c.add_argument("--workers", type=positive_int, help="parallel workers (default: CPU count)")
    c.add_argument("--out", type=Path, help="parent folder (default: runs/)")
    c.add_argument("--resume", action="store_true", help="finish an interrupted study without redoing finished runs")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.add_argument("--no-figures", action="store_true", help="skip the figures")


# ---------------------------------------------------------------------------------------------
def cmd_run(args) -> int:
    # imported here, not at the top: the model and the figures take about 1.5 s to import, which
    # `validate`, `--help` and the experiment commands (which start their workers first) should not wait for
    from sim.model import DryPowderModel
    from sim.outputs import write_run

    if args.from_manifest is not None:
        cfg, seed, steps, overrides, source = _from_manifest(args)
    else:
        path = resolve_config_arg(args.config)
        overrides = _overrides(args.set)
        if args.seed is not None:
            overrides["seed"] = args.seed
        if args.steps is not None:
            overrides["simulation.steps"] = args.steps
        cfg = load_config(path, overrides)
        seed, steps, source = cfg.seed, cfg.simulation.steps, str(path)
    if seed != cfg.seed:
        cfg = load_config(cfg, {"seed": seed})
    out = args.out if args.out is not None else RUNS_DIR
    check_model(cfg)
    check_writable(out)
    t0 = time.perf_counter()
    model = DryPowderModel(cfg)
    t1 = time.perf_counter()
    model.run(steps, progress=not args.quiet and sys.stderr.isatty())
    t2 = time.perf_counter()
    target = write_run(model, cfg, out, argv=sys.argv[1:], overrides=overrides, source=source,
                       timings={"build_s": t1 - t0, "simulate_s": t2 - t1})
    s = model.summary()
    print(f"scenario {cfg.name}, seed {seed}, {model.steps} weeks in {t2 - t0:.2f}s: "
          f"peak IG spread {s['peak_ig_spread_bp']:.0f}bp, peak 10y {s['peak_ust10y_pct']:.2f}%, "
          f"dry powder min ${s['dry_powder_min_bn']:.0f}bn, fire sales ${s['fire_sale_volume_bn']:.0f}bn, "
          f"crisis: {'yes' if s['crisis'] else 'no'}", file=sys.stderr)
    print(target)
    return 0


class RunManifest(BaseModel):
    """What ``run --from`` reads of a manifest.json (other keys are kept there for people): the
    config is validated by the config's own schema, the rest by these types."""

    model_config = ConfigDict(extra="ignore", strict=True)
    config: dict[str, Any]
    seed: int = Field(None, ge=0, lt=SEED_LIMIT, description="absent: the config's seed (null is refused)")
    steps: int = Field(None, ge=1, description="absent: the config's simulation.steps (null is refused)")
    overrides: dict[str, Any] = Field(default_factory=dict)


def _from_manifest(args):
    """(config, seed, steps, overrides, source) of ``run --from MANIFEST``. The manifest fixes the
    config and the weeks: a CONFIG, --steps or --set next to it is refused, not ignored; --seed
    replaces the recorded seed."""
    path = Path(args.from_manifest)
    given = [flag for flag, value in (("a CONFIG", args.config), ("--steps", args.steps), ("--set", args.set))
             if value is not None]
    if given:
        raise UsageError(f"run --from {path} reruns what the manifest records; it cannot be combined with "
                         f"{' or '.join(given)} (edit a copy of the manifest, or run the config instead)")
    try:
        data = load_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"manifest not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read manifest {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise UsageError(f"manifest {path} has no 'config' section: is it a drypowder manifest.json?")
    try:
        m = RunManifest.model_validate(data)
    except ValidationError as err:
        raise UsageError(format_validation_error(err, str(path), RunManifest, what="manifest")) from None
    try:
        cfg = load_config(m.config)
    except ConfigError as exc:
        raise UsageError(f"manifest {path}: {str(exc).replace('(dict)', 'in its config section', 1)}") from None
    steps = cfg.simulation.steps if m.steps is None else m.steps
    check_steps(steps, cfg, f"manifest {path}")
    seed = args.seed if args.seed is not None else (cfg.seed if m.seed is None else m.seed)
    return cfg, seed, steps, m.overrides, f"manifest:{path}"


def cmd_validate(args) -> int:
    """Everything `run` would check before it starts: the config and the memory it needs."""
    path = resolve_config_arg(args.config)
    cfg = load_config(path, _overrides(args.set))
    est = check_model(cfg)
    print(f"{path}: valid (scenario {cfg.name!r}, config hash {cfg.digest()}, about {gib(est.total)} "
          f"of memory per model)")
    return 0


def cmd_viz(args) -> int:
    from sim.viz.server import serve      # (start-up time: the live view imports Solara)
    path = resolve_config_arg(args.config)
    load_config(path)   # fail fast on a bad config, before starting a server
    if args.out is not None:
        check_writable(args.out)
    return serve(path, args.port, host=args.host, out=args.out)


def cmd_validate_peer(args) -> int:
    default = "peer-validation-system-wide" if args.system_wide else "peer-validation"
    out = args.out if args.out is not None else RUNS_DIR / default
    check_writable(out)
    try:
        if args.system_wide:
            from sim.validation.system_wide.validate import validate_from_args
            return validate_from_args(args, out)
        from sim.validation import validate_peer
        return validate_peer(args.balance_sheets, out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_channels(args) -> int:
    start_workers_early(args)       # (as for mc: the workers import the model while this process goes on)
    from sim.channel_study import cmd_channels as run_study
    return run_study(args)


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "viz": cmd_viz, "validate-peer": cmd_validate_peer,
            "channels": cmd_channels}


def _experiment_command(args):
    """The handler of ``mc``, ``sweep`` or ``sensitivity``. The forkserver is started first: it
    imports the model for the workers (about 2 s) while this process imports the experiment
    package (hence the imports here, not at the top of the module); the figures' plotting library
    too (about 0.5 s), which would otherwise be imported after the last run, with the workers idle."""
    early = start_workers_early(args)
    from sim.experiments.commands import COMMANDS as EXPERIMENTS
    if early and not getattr(args, "no_figures", False):
        import sim.experiments.plots  # noqa: F401
    return EXPERIMENTS[args.command]


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every way it can end is one of: success (0), one ``error:`` line for bad
    input or a machine that refuses (2), ``interrupted`` (130), or one ``error:`` line naming the
    report of a bug (1); never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code = _run_command(args, sys.argv[1:] if argv is None else list(argv))
    if AS_PROGRAM and args.command != "viz":
        # The work is done: a late signal must not kill the exit. (A Ctrl-C that interrupted an
        # extension module's import makes CPython end the process by SIGINT after its clean exit,
        # which a shell reports as 130 too.)
        ignore_stop_signals()
    return code


def _run_command(args, argv: list[str]) -> int:
    """The command, with its warnings held back: shown after it (as Python would have shown them)
    unless it ends in an internal error, whose report then holds them."""
    with warnings.catch_warnings(record=True) as caught:
        code = _guarded(args, argv, caught)
    if code != EXIT_BUG:
        for w in caught:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return code


def _guarded(args, argv: list[str], caught: list) -> int:
    if args.command == "viz":                     # the live view handles its signals itself
        python_default_signals()
        signals = contextlib.nullcontext()
    else:
        signals = stop_on_signals()
    try:
        with signals:
            handler = COMMANDS.get(args.command) or _experiment_command(args)
            return int(handler(args) or 0)
    except ConfigError as exc:
        print_error(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        if stop_requested():          # e.g. an import that turned the KeyboardInterrupt into an ImportError
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        return _unexpected(exc, args, argv, caught)


def _unexpected(exc: Exception, args, argv: list[str], caught: list) -> int:
    problem = resource_problem(exc)
    if problem is not None:                       # the machine refused: disk full, permissions
        print_error(f"{problem}; nothing half-written was kept")
        return EXIT_USAGE
    notes = [warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught]
    report = write_crash_report(exc, argv, getattr(args, "out", None), notes)
    where = f"; details in {report}" if report is not None else ""
    print_error(f"internal error ({type(exc).__name__}: {one_line(exc)[:200]}): a bug in drypowder{where}; "
                f"please report it")
    return EXIT_BUG


if __name__ == "__main__":
    raise SystemExit(main())
