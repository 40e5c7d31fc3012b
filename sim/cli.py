"""The command line: ``drypowder run | validate | mc | sweep | sensitivity | viz | validate-peer``.

Bad input never shows a traceback: it gets one clear message on stderr and exit status 2, and
nothing half-written is left behind (runs are written into a temporary folder and renamed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sim.config import ConfigError, load_config, parse_override, resolve_config_arg

EXIT_USAGE = 2


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


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, got {text!r}") from None
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"seed must be between 0 and 2**63-1, got {v}")
    return v


def _port(text: str) -> int:
    v = _positive_int(text)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="drypowder", description="Agent-based simulator of the AI-capex liquidity cycle.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run one scenario and write runs/<run-id>/")
    r.add_argument("config", nargs="?", help="YAML path or scenario name (default: configs/baseline.yaml)")
    r.add_argument("--seed", type=_seed, help="random seed (default: the config's seed)")
    r.add_argument("--steps", type=_positive_int, help="weeks to simulate (default: simulation.steps)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (repeatable)")
    r.add_argument("--out", type=Path,
                   help="parent folder for the run folder (default: runs/ in the current directory)")
    r.add_argument("--from", dest="from_manifest", type=Path, metavar="MANIFEST",
                   help="rerun exactly what a manifest.json records")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    v = sub.add_parser("validate", help="check a config and print the resolved values")
    v.add_argument("config", help="YAML path or scenario name")
    v.add_argument("--set", action="append", metavar="KEY=VALUE")

    from sim import experiments
    experiments.add_parsers(sub, _positive_int=_positive_int, _seed=_seed)

    z = sub.add_parser("viz", help="serve the live view on 127.0.0.1")
    z.add_argument("config", nargs="?", help="YAML path or scenario name (default: baseline)")
    z.add_argument("--port", type=_port, default=8765)
    z.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")

    q = sub.add_parser("validate-peer", help="reproduce the INET fire-sale stress test (Cont-Schaanning rules), "
                                             "or with --system-wide the INET system-wide stress test")
    q.add_argument("--balance-sheets", type=Path,
                   help="the peer's balance sheets (default: the EBA 2018 data shipped in data/peer/firesale/)")
    q.add_argument("--out", type=Path,
                   help="folder for peer_results.csv and peer_validation.png (default: runs/peer-validation)")
    q.add_argument("--system-wide", action="store_true",
                   help="run the system-wide peer's FF10 and FF11 instead (default out: runs/peer-validation-system-wide)")
    q.add_argument("--seeds", type=_positive_int, default=10, help="runs per point (the peer's 10; --system-wide)")
    q.add_argument("--seed", type=_seed, help="spawn the runs' seeds from this root (default: the peer's seeds)")
    q.add_argument("--workers", type=_positive_int, help="parallel workers (default: CPU count)")
    q.add_argument("--crediting", choices=("head", "v08", "both"), default="both",
                   help="peer library version(s) to reproduce (default: both)")
    q.add_argument("--experiments", default="FF10,FF11_1,FF11_2", help="comma-separated subset")
    return p


# ---------------------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from sim.model import DryPowderModel
    from sim.outputs import RUNS_DIR, check_writable, write_run

    if args.from_manifest is not None:
        cfg, seed, steps, overrides, source = _from_manifest(args.from_manifest)
        if args.seed is not None:
            seed = args.seed
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


def _from_manifest(path: Path):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"manifest not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read manifest {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise UsageError(f"manifest {path} has no 'config' section: is it a drypowder manifest.json?")
    cfg = load_config(data["config"])
    seed = data.get("seed", cfg.seed)
    if not isinstance(seed, int):
        raise UsageError(f"manifest {path}: 'seed' must be a whole number")
    steps = data.get("steps", cfg.simulation.steps)
    return cfg, seed, steps, data.get("overrides", {}), f"manifest:{path}"


def cmd_validate(args) -> int:
    path = resolve_config_arg(args.config)
    cfg = load_config(path, _overrides(args.set))
    print(f"{path}: valid (scenario {cfg.name!r}, config hash {cfg.digest()})")
    return 0


def cmd_viz(args) -> int:
    from sim.viz import serve
    path = resolve_config_arg(args.config)
    load_config(path)   # fail fast on a bad config, before starting a server
    return serve(path, args.port, host=args.host)


def cmd_validate_peer(args) -> int:
    from sim.outputs import RUNS_DIR, check_writable
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


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "viz": cmd_viz, "validate-peer": cmd_validate_peer}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from sim import experiments
    if args.command in experiments.COMMANDS:
        # the forkserver imports the model for the workers (about 2 s) while this process imports the
        # rest; the figures' plotting library too (about 1 s), which would otherwise be imported
        # after the last run, with the workers idle
        if experiments.start_workers_early(args) and not getattr(args, "no_figures", False):
            import sim.experiment_plots  # noqa: F401
    handler = COMMANDS.get(args.command) or experiments.COMMANDS[args.command]
    try:
        return int(handler(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
