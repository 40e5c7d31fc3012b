"""Bad input of every kind a hostile or careless user types, for tests/test_fuzz_cli.py.

A case is a command line, the files it reads and what must happen:

* ``reject``: exit status 2 and exactly one ``error:`` line (with ``needle`` in it);
* ``ok``: exit status 0 (edge cases that are valid);
* ``model``: a config that validates but that the model may not survive: exit 0, or exit 1 with
  one ``error:`` line naming a crash report (never a traceback).

In every case nothing may be written outside ``--out``. ``{out}`` is the case's output folder
(four levels below the case's own folder, so that ``../../../../x`` stays observable), ``{in}``
the folder of its input files. Add new cases here as new kinds of bad input are found.
"""

from __future__ import annotations

import json
from typing import Any

TINY = ["--set", "retail.holders=100", "--set", "neoclouds.count=4", "--set", "private_credit.count=4",
        "--set", "hedge_funds.count=4"]
TINY_OVERRIDES = {"simulation.steps": 8, "retail.holders": 100, "neoclouds.count": 4, "private_credit.count": 4,
                  "hedge_funds.count": 4}
RUN = ["run", "--steps", "8", "--quiet", *TINY, "--out", "{out}"]
QUIET = ["--workers", "1", "--quiet", "--no-figures", "--out", "{out}"]

CASES: list[dict[str, Any]] = []


def case(id: str, argv: list[str], expect: str = "reject", needle: str | None = None,
         files: dict[str, str | bytes] | None = None, into: list[dict[str, Any]] | None = None) -> None:
    into = CASES if into is None else into
    assert id not in {c["id"] for c in into}, id
    into.append({"id": id, "argv": argv, "expect": expect, "needle": needle, "files": files or {}})


def yaml_bomb_flow(levels: int = 8, width: int = 9) -> str:
    """The same bomb as one flow sequence (a --set value)."""
    items = ["&a0 [" + ",".join(["lol"] * width) + "]"]
    items += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "[" + ", ".join(items) + "]"


def yaml_bomb(levels: int = 7, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# =============================================================================================
# Names that become folders
# =============================================================================================
BAD_NAMES = {
    "traversal": "../../../../x/ESCAPED", "parent": "..", "dot": ".", "absolute": "/tmp/ESCAPED_abs",
    "nested": "sub/dir/x", "nul": "a\0b", "long": "n" * 300, "just_over": "n" * 65, "empty": "",
    "hidden": ".hidden", "dash_first": "-rf", "space": "with space", "newline": "a\nb", "tab": "a\tb",
    "unicode": "ünïcødé", "colon": "a:b", "glob": "a*b", "backslash": "a\\b", "home": "~/x",
}
for key, name in BAD_NAMES.items():
    body = json.dumps({"name": name})          # JSON is YAML: every character survives
    case(f"name_{key}_run", RUN[:1] + ["{in}/c.yaml"] + RUN[1:], needle="name", files={"c.yaml": body})
    case(f"name_{key}_validate", ["validate", "{in}/c.yaml"], needle="name", files={"c.yaml": body})
    case(f"name_{key}_mc", ["mc", "{in}/c.yaml", "-n", "2", *QUIET], needle="name", files={"c.yaml": body})
case("name_via_set", RUN + ["--set", "name=../../../../x/ESCAPED"], needle="name")
case("name_64_chars_is_fine", RUN[:1] + ["{in}/c.yaml"] + RUN[1:], expect="ok",
     files={"c.yaml": json.dumps({"name": "n" * 64})})
case("name_dots_inside_is_fine", ["validate", "{in}/c.yaml"], expect="ok", files={"c.yaml": "name: a..b.c-d_e\n"})

# =============================================================================================
# --set values
# =============================================================================================
SETS = {
    "float_word": ("dry_powder.initial_bn=abc", "dry_powder.initial_bn"),
    "float_list": ("dry_powder.initial_bn=[1, 2]", "dry_powder.initial_bn"),
    "float_map": ("dry_powder.initial_bn={a: 1}", "dry_powder.initial_bn"),
    "float_bool": ("dry_powder.initial_bn=true", "initial_bn must be a number"),
    "float_nan": ("dry_powder.initial_bn=.nan", "dry_powder.initial_bn"),
    "float_nan_word": ("dry_powder.initial_bn=nan", "dry_powder.initial_bn"),
    "float_inf": ("dry_powder.initial_bn=.inf", "dry_powder.initial_bn"),
    "float_overflow": ("dry_powder.initial_bn=1e400", "dry_powder.initial_bn"),
    "float_negative": ("dry_powder.initial_bn=-5", "dry_powder.initial_bn"),
    "share_above_one": ("retail.margin_share=1.5", "retail.margin_share"),
    "int_fraction": ("neoclouds.count=1.5", "neoclouds.count"),
    "int_negative": ("neoclouds.count=-1", "neoclouds.count"),
    "int_huge": ("neoclouds.count=99999999999999999999", "neoclouds.count"),
    "int_bool": ("neoclouds.count=true", "count must be a number"),
    "list_bool": ("gpu.generation_steps=[true]", "generation_steps must be numbers"),
    "holders_over_schema": ("retail.holders=10000001", "retail.holders"),
    "bool_word": ("central_bank.backstop=maybe", "central_bank.backstop"),
    "list_negative_step": ("gpu.generation_steps=[-1]", "generation_steps"),
    "list_words": ("gpu.generation_steps=[a, b]", "generation_steps"),
    "unknown_key": ("dry_powder.intial_bn=5", "did you mean"),
    "unknown_section": ("nosuch.key=5", "nosuch"),
    "section_as_value": ("dry_powder=5", "dry_powder"),
    "empty_key": ("=5", "malformed --set"),
    "empty_part": ("dry_powder..initial_bn=5", "malformed --set"),
    "trailing_dot": ("dry_powder.=5", "malformed --set"),
    "no_equals": ("dry_powder.initial_bn", "malformed --set"),
    "no_value": ("dry_powder.initial_bn=", "malformed --set"),
    "bad_yaml_value": ("dry_powder.initial_bn=[1", "malformed --set"),
    "yaml_bomb_value": ("gpu.generation_steps=" + yaml_bomb_flow(), "malformed --set"),
    "recursive_alias": ("gpu.generation_steps=&a [*a]", "malformed --set"),
    "python_tag": ("dry_powder.initial_bn=!!python/object/apply:os.system [echo]", "malformed --set"),
    "seed_negative": ("seed=-1", "seed"),
    "seed_too_big": (f"seed={2**63}", "seed"),
    "seed_fraction": ("seed=1.5", "seed"),
    "list_into_value": ("hyperscalers.firms.0.cash_bn=5", "hyperscalers.firms"),
    "ig_spread_zero": ("rates.ig_spread_bp=0", "rates.ig_spread_bp"),
    "nav_zero": ("private_credit.nav_bn=0", "private_credit.nav_bn"),
    "depth_loss_one": ("dry_powder.depth_loss_at_exhaustion=0.999999", "depth_loss_at_exhaustion"),
    "eps_tiny": ("dry_powder.eps=1e-12", "dry_powder.eps"),
    "inflow_huge": ("retail.inflow_bn_per_yr=1e12", "retail.inflow_bn_per_yr"),
    "too_many_capex_options": ("hyperscalers.capex_adjustments=[" + ",".join(["0.0"] * 51) + "]", "capex_adjustments"),
}
for key, (text, needle) in SETS.items():
    case(f"set_{key}", RUN + ["--set", text], needle=needle)
case("set_key_value_in_validate", ["validate", "baseline", "--set", "dry_powder.initial_bn=abc"], needle="initial_bn")

# =============================================================================================
# Sizes the machine cannot hold
# =============================================================================================
HUGE = ["--set", "neoclouds.count=20000", "--set", "hedge_funds.count=20000", "--set", "private_credit.count=20000",
        "--set", "sovereigns.count=2000"]
case("memory_run", ["run", "--quiet", "--out", "{out}", *HUGE], needle="memory")
case("memory_validate", ["validate", "baseline", *HUGE], needle="memory")
case("memory_mc", ["mc", "-n", "2", *QUIET, *HUGE], needle="memory")
case("memory_one_count", ["validate", "baseline", "--set", "neoclouds.count=20000", "--set",
                          "hedge_funds.count=20000"], needle="memory")
case("mc_n_billion", ["mc", "-n", "1000000000", *QUIET, *TINY], needle="1,000,000,000 runs")
case("mc_n_googol", ["mc", "-n", str(10**100), *QUIET], needle="runs")
case("mc_too_long", ["mc", "-n", "90000000", *QUIET], needle="days")
case("mc_workers_beyond_memory", ["mc", "-n", "100000", "--workers", "100000", "--quiet", "--out", "{out}"],
     needle="--workers")
case("steps_over_horizon", ["run", "--steps", "100000", "--quiet", "--out", "{out}"], needle="simulation.steps")

# =============================================================================================
# Arguments
# =============================================================================================
ARGS = {
    "steps_zero": ["run", "--steps", "0"], "steps_negative": ["run", "--steps", "-3"],
    "steps_word": ["run", "--steps", "abc"], "steps_float": ["run", "--steps", "1e9"],
    "seed_negative": ["run", "--seed", "-1"], "seed_2_63": ["run", "--seed", str(2**63)],
    "seed_word": ["run", "--seed", "abc"], "seed_float": ["run", "--seed", "1.5"],
    "mc_n_zero": ["mc", "-n", "0"], "mc_n_word": ["mc", "-n", "lots"], "mc_n_float": ["mc", "-n", "1e9"],
    "workers_zero": ["mc", "--workers", "0"], "batch_zero": ["sweep", "x.yaml", "--batch-size", "0"],
    "flush_zero": ["mc", "--flush-seconds", "0"], "flush_negative": ["mc", "--flush-seconds", "-1"],
    "flush_nan": ["mc", "--flush-seconds", "nan"], "flush_inf": ["mc", "--flush-seconds", "inf"],
    "flush_word": ["mc", "--flush-seconds", "soon"], "port_zero": ["viz", "--port", "0"],
    "port_high": ["viz", "--port", "70000"], "port_word": ["viz", "--port", "http"],
    "unknown_command": ["simulate"], "no_command": [], "unknown_option": ["run", "--fast"],
    "validate_without_config": ["validate"],
    "mc_seed_via_set": ["mc", "-n", "2", "--set", "seed=5", *QUIET],
}
for key, argv in ARGS.items():
    case(f"arg_{key}", argv)
for key, address in {"nonsense": "nonsense", "port_range": "tcp://127.0.0.1:99999", "no_host": "tcp://:8786",
                     "scheme": "http://127.0.0.1:8786", "no_port": "tcp://127.0.0.1"}.items():
    case(f"scheduler_{key}", ["mc", "-n", "2", "--scheduler", address, *QUIET], needle="--scheduler")

# =============================================================================================
# Config files
# =============================================================================================
FILES: dict[str, tuple[str | bytes, str]] = {
    "invalid_yaml": ("dry_powder: {initial_bn: [1,\n", "invalid YAML"),
    "list": ("- 1\n- 2\n", "mapping"),
    "scalar": ("42\n", "mapping"),
    "text": ("hello\n", "mapping"),
    "binary": (bytes(range(256)) * 4, "cannot read"),
    "latin1": ("name: caf\xe9\n".encode("latin-1"), "cannot read"),
    "huge": ("description: " + "x" * (1 << 21) + "\n", "characters"),
    "bomb": (yaml_bomb(), "alias"),
    "recursive": ("a: &a [*a]\n", "alias"),
    "duplicate_top": ("seed: 1\nseed: 2\n", "duplicate key"),
    "duplicate_nested": ("dry_powder:\n  initial_bn: 1\n  initial_bn: 2\n", "duplicate key"),
    "deep": ("x: " + "[" * 500 + "]" * 500 + "\n", "nested"),
    "python_tag": ("x: !!python/object/apply:os.system ['echo hi']\n", "constructor"),
    "unknown_top": ("simulaton: {steps: 5}\n", "did you mean"),
    "unknown_nested": ("dry_powder: {intial_bn: 5}\n", "did you mean"),
    "section_scalar": ("simulation: 5\n", "simulation"),
    "nan": ("dry_powder: {initial_bn: .nan}\n", "initial_bn"),
    "inf": ("rates: {ig_spread_bp: .inf}\n", "ig_spread_bp"),
    "firms_empty": ("hyperscalers: {firms: []}\n", "firms"),
    "firms_too_many": ("hyperscalers:\n  firms:\n" + "".join(
        f"    - {{name: F{i}, capex_2026_bn: 1, ocf_bn: 1, cash_bn: 1, debt_bn: 0, buybacks_bn: 0, dividends_bn: 0, "
        f"ai_revenue_share: 0.01, ust_bn: 0}}\n" for i in range(101)), "firms"),
    "firm_missing_field": ("hyperscalers:\n  firms:\n    - {name: F}\n", "required"),
    "unknown_asset": ("assets: {gold: {duration: 1, margin: 0.1, liquidity_beta: 0, spread_beta: 0, drift: 0, "
                      "vol: 0, depth_bn: 1}}\n", "gold"),
    "conviction_unknown": ("sovereigns: {conviction_order: [tulips]}\n", "tulips"),
    "crowding_negative": ("dry_powder: {crowding_out_weights: {crypto: -1}}\n", "crowding_out_weights"),
    "crowding_all_zero": ("dry_powder: {crowding_out_weights: {crypto: 0, saas: 0, neocloud_equity: 0, "
                          "hyperscaler_equity: 0, ai_hardware: 0, ig_bonds: 0, ust: 0}}\n", "crowding_out_weights"),
    "steps_huge": ("simulation: {steps: 1000000000}\n", "simulation.steps"),
}
for key, (body, needle) in FILES.items():
    run = ["run", "{in}/c.yaml", "--quiet", "--out", "{out}"] if key == "steps_huge" else RUN[:1] + ["{in}/c.yaml"] + RUN[1:]
    case(f"file_{key}_validate", ["validate", "{in}/c.yaml"], needle=needle, files={"c.yaml": body})
    case(f"file_{key}_run", run, needle=needle, files={"c.yaml": body})
case("file_unknown_asset_key", ["validate", "{in}/c.yaml"], needle="allowed here: duration, margin",
     files={"c.yaml": "assets:\n  crypto: {liquidity_beta: 0.1}\n"})
case("file_missing", ["validate", "{in}/none.yaml"], needle="not found")
case("file_is_folder", ["validate", "{in}"], needle="folder")
case("file_scenario_typo", ["validate", "ai_bul"], needle="did you mean 'ai_bull'")
case("file_empty_is_the_baseline", ["validate", "{in}/c.yaml"], expect="ok", files={"c.yaml": ""})
case("file_merge_key_is_fine", ["validate", "{in}/c.yaml"], expect="ok",
     files={"c.yaml": "assets:\n  crypto: &c {duration: 25, margin: 0.5, spread_beta: 1, drift: 0.2, "
                      "vol: 0.6, depth_bn: 500}\n  saas: {<<: *c, depth_bn: 600}\n"})

# =============================================================================================
# Output folders
# =============================================================================================
case("out_is_a_file", ["run", "--steps", "8", "--quiet", *TINY, "--out", "{in}/f.txt"], needle="not writable",
     files={"f.txt": "x"})
case("out_under_a_file", ["run", "--steps", "8", "--quiet", *TINY, "--out", "{in}/f.txt/sub"], needle="not writable",
     files={"f.txt": "x"})
case("out_in_proc", ["run", "--steps", "8", "--quiet", *TINY, "--out", "/proc/drypowder"], needle="not writable")
case("out_dev_null", ["mc", "-n", "2", "--workers", "1", "--quiet", *TINY, "--out", "/dev/null"],
     needle="not writable")

# =============================================================================================
# run --from
# =============================================================================================
MANIFEST_EDITS: dict[str, tuple[dict[str, Any], str]] = {
    "steps_word": ({"steps": "abc"}, "steps"), "steps_list": ({"steps": [1]}, "steps"),
    "steps_negative": ({"steps": -5}, "steps"), "steps_zero": ({"steps": 0}, "steps"),
    "steps_fraction": ({"steps": 1.5}, "steps"), "steps_null": ({"steps": None}, "steps"),
    "steps_bool": ({"steps": True}, "steps"), "steps_past_horizon": ({"steps": 1000000000}, "horizon"),
    "steps_float_big": ({"steps": 1e9}, "steps"), "seed_bool": ({"seed": True}, "seed"),
    "seed_negative": ({"seed": -1}, "seed"), "seed_word": ({"seed": "x"}, "seed"),
    "seed_too_big": ({"seed": 2**63}, "seed"), "seed_null": ({"seed": None}, "seed"),
    "overrides_scalar": ({"overrides": 5}, "overrides"), "config_list": ({"config": [1]}, "config"),
    "config_unknown_key": ({"config": {"simulaton": {}}}, "simulaton"),
    "config_name_traversal": ({"config": {"name": "../../../../x/ESCAPED"}}, "name"),
    "config_bad_value": ({"config": {"seed": -3}}, "seed"),
}


def all_cases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every case: :data:`CASES` and those built on a real manifest.json (made by the test from a
    tiny run)."""
    cases = list(CASES)

    def edited(change: dict[str, Any]) -> str:
        m = json.loads(json.dumps(manifest))
        for k, v in change.items():
            if k == "config" and isinstance(v, dict) and isinstance(m.get("config"), dict):
                m["config"].update(v)
            else:
                m[k] = v
        return json.dumps(m)

    for key, (change, needle) in MANIFEST_EDITS.items():
        case(f"from_{key}", ["run", "--from", "{in}/m.json", "--quiet", "--out", "{out}"], needle=needle,
             files={"m.json": edited(change)}, into=cases)
    good = {"m.json": json.dumps(manifest)}
    case("from_with_steps", ["run", "--from", "{in}/m.json", "--steps", "3", "--out", "{out}"], needle="--steps",
         files=good, into=cases)
    case("from_with_config", ["run", "baseline", "--from", "{in}/m.json", "--out", "{out}"], needle="CONFIG",
         files=good, into=cases)
    case("from_with_set", ["run", "--from", "{in}/m.json", "--set", "seed=1", "--out", "{out}"], needle="--set",
         files=good, into=cases)
    case("from_reruns", ["run", "--from", "{in}/m.json", "--quiet", "--out", "{out}"], expect="ok", files=good, into=cases)
    case("from_missing", ["run", "--from", "{in}/none.json", "--out", "{out}"], needle="not found", into=cases)
    case("from_folder", ["run", "--from", "{in}", "--out", "{out}"], needle="manifest", into=cases)
    for key, body in {"not_json": "{nope", "list": "[1, 2]", "scalar": "3", "no_config": '{"seed": 1}',
                      "duplicate": json.dumps(manifest)[:-1] + ', "seed": 1, "seed": 2}',
                      "deep": '{"config": {}, "x": ' + "[" * 100000 + "]" * 100000 + "}",
                      "huge": '{"config": {}, "x": "' + "y" * (1 << 21) + '"}',
                      "binary": "\udcff"}.items():
        case(f"from_{key}", ["run", "--from", "{in}/m.json", "--out", "{out}"], needle="manifest",
             files={"m.json": body.encode("utf-8", "surrogateescape")}, into=cases)
    return cases


# =============================================================================================
# Sweep and sensitivity specs
# =============================================================================================
def _sweep(**change) -> str:
    body: dict[str, Any] = {"base": "baseline", "overrides": dict(TINY_OVERRIDES), "replications": 1, "seed": 1,
                            "grid": {"dry_powder.initial_bn": [500, 1500]}, "plot": {"metrics": ["crisis"]}}
    for k, v in change.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return json.dumps(body)


SPECS: dict[str, tuple[str, str]] = {
    "axis_num_billion": (_sweep(grid={"dry_powder.initial_bn": {"low": 1, "high": 2, "num": 1e9}}), "num"),
    "axis_long_list": (_sweep(grid={"dry_powder.initial_bn": list(range(10_001))}), "10,000"),
    "three_big_axes": (_sweep(grid={k: {"low": 1, "high": 2, "num": 10_000} for k in
                                    ("dry_powder.initial_bn", "rates.ust10y_pct", "ai.revenue_bn_per_yr")}), "runs"),
    "sample_times_replications": (_sweep(grid=None, sampler="lhs", n=10_000_000, replications=1_000_000,
                                         bounds={"dry_powder.initial_bn": [1, 2]}), "runs"),
    "sample_too_many_values": (_sweep(grid=None, sampler="lhs", n=5_000_000,
                                      bounds={"dry_powder.initial_bn": [1, 2], "rates.ust10y_pct": [1, 2],
                                              "ai.revenue_growth": [0, 1]}), "numbers"),
    "replications_huge": (_sweep(replications=1_000_001), "replications"),
    "grid_memory": (_sweep(grid={"neoclouds.count": [20000], "hedge_funds.count": [20000],
                                 "private_credit.count": [20000]}), "memory"),
    "grid_name_traversal": (_sweep(grid={"name": ["../../../../x/ESCAPED"]}), "name"),
    "grid_nan": (_sweep(grid={"dry_powder.initial_bn": [500, float("nan"), 900]}), "initial_bn"),
    "grid_int_fraction": (_sweep(grid={"neoclouds.count": [2, 2.5, 3, 4]}), "neoclouds.count"),
    "grid_dict_value": (_sweep(grid={"dry_powder.initial_bn": [{"a": 1}]}), "grid"),
    "grid_repeated": (_sweep(grid={"dry_powder.initial_bn": [5, 5]}), "repeated"),
    "grid_empty": (_sweep(grid={}), "empty"),
    "bounds_inverted": (_sweep(grid=None, sampler="lhs", n=4, bounds={"dry_powder.initial_bn": [9, 1]}), "empty range"),
    "bounds_nan": (_sweep(grid=None, sampler="lhs", n=4, bounds={"dry_powder.initial_bn": [1, float("nan")]}),
                   "dry_powder.initial_bn"),
    "sobol_not_power": (_sweep(grid=None, sampler="sobol", n=5, bounds={"dry_powder.initial_bn": [1, 2]}), "power of 2"),
    "base_missing": (_sweep(base="nowhere/none.yaml"), "not found"),
    "base_not_yaml": (_sweep(base="/etc/hostname.yaml"), "not found"),
    "base_scenario_typo": (_sweep(base="ai_bul"), "did you mean"),
    "overrides_invalid": (_sweep(overrides={"dry_powder.initial_bn": -1}), "overrides"),
    "overrides_unknown": (_sweep(overrides={"dry_powder.intial_bn": 1}), "did you mean"),
    "metric_unknown": (_sweep(plot={"metrics": ["crsis"]}), "did you mean 'crisis'"),
    "seed_varied": (_sweep(grid={"seed": [1, 2]}), "seed"),
    "top_level_typo": (_sweep(replicatoins=2), "did you mean 'replications'"),
}
for key, (body, needle) in SPECS.items():
    case(f"sweep_{key}", ["sweep", "{in}/s.yaml", *QUIET], needle=needle, files={"s.yaml": body})
case("sweep_bomb", ["sweep", "{in}/s.yaml", *QUIET], needle="alias",
     files={"s.yaml": yaml_bomb() + "grid: {dry_powder.initial_bn: *a6}\n"})
case("sweep_duplicate_keys", ["sweep", "{in}/s.yaml", *QUIET], needle="duplicate key",
     files={"s.yaml": "grid: {dry_powder.initial_bn: [1, 2]}\ngrid: {ai.revenue_growth: [0, 1]}\n"})
case("sweep_odd_file_name_is_fine", ["sweep", "{in}/my sweep (v2) ünï.yaml", *QUIET], expect="ok",
     files={"my sweep (v2) ünï.yaml": _sweep()})
case("sweep_long_file_name_is_fine", ["sweep", "{in}/" + "s" * 200 + ".yaml", *QUIET], expect="ok",
     files={"s" * 200 + ".yaml": _sweep()})


def _sens(**change) -> str:
    body: dict[str, Any] = {"base": "baseline", "overrides": dict(TINY_OVERRIDES), "method": "sobol", "n": 2,
                            "parameters": {"dry_powder.initial_bn": [600, 1800], "ai.revenue_growth": [0.2, 1.0]},
                            "outputs": ["crisis"], "seed": 1, "resamples": 10}
    body.update(change)
    return json.dumps(body)


SENS: dict[str, tuple[str, str]] = {
    "n_huge": (_sens(n=524_288, replications=10_000), "runs"),
    "sample_too_big": (_sens(n=524_288, parameters={f"assets.{a}.drift": [-0.1, 0.1] for a in
                                                     ("ust", "ig_bonds", "saas", "crypto", "used_gpu", "ai_hardware")}),
                       "numbers"),
    "one_parameter": (_sens(parameters={"dry_powder.initial_bn": [1, 2]}), "two parameters"),
    "not_numeric": (_sens(parameters={"name": [1, 2], "dry_powder.initial_bn": [1, 2]}), "numeric"),
    "bounds_inverted": (_sens(parameters={"dry_powder.initial_bn": [2, 1], "ai.revenue_growth": [0, 1]}), "empty"),
    "n_not_power": (_sens(n=6), "power of 2"),
    "morris_odd_levels": (_sens(method="morris", num_levels=3), "even"),
    "method_unknown": (_sens(method="fast"), "method"),
    "output_unknown": (_sens(outputs=["crsis"]), "did you mean"),
    "confidence_one": (_sens(confidence=1.0), "confidence"),
}
for key, (body, needle) in SENS.items():
    case(f"sensitivity_{key}", ["sensitivity", "{in}/s.yaml", *QUIET], needle=needle, files={"s.yaml": body})
for key, body, needle in (("missing", None, "not found"), ("empty", "", "empty"), ("list", "- 1\n", "mapping")):
    files = {} if body is None else {"s.yaml": body}
    case(f"sweep_file_{key}", ["sweep", "{in}/s.yaml", *QUIET], needle=needle, files=files)
    case(f"sensitivity_file_{key}", ["sensitivity", "{in}/s.yaml", *QUIET], needle=needle, files=files)

# =============================================================================================
# validate-peer
# =============================================================================================
for key, body in {"empty": "", "garbage": "not,a\nbalance,sheet\n", "binary": bytes(range(256))}.items():
    case(f"peer_{key}", ["validate-peer", "--balance-sheets", "{in}/b.csv", "--out", "{out}"], files={"b.csv": body})
case("peer_missing", ["validate-peer", "--balance-sheets", "{in}/none.csv", "--out", "{out}"], needle="none.csv")
case("peer_folder", ["validate-peer", "--balance-sheets", "{in}", "--out", "{out}"])
case("peer_out_is_file", ["validate-peer", "--balance-sheets", "{in}/b.csv", "--out", "{in}/b.csv"],
     needle="not writable", files={"b.csv": "x"})

# =============================================================================================
# Valid configs the model may not survive (known model bugs stay visible, never as tracebacks)
# =============================================================================================
case("model_crypto_depth_1", ["run", "--quiet", "--seed", "2", "--set", "assets.crypto.depth_bn=1",
                              "--out", "{out}"], expect="model")
