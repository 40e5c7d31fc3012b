"""``drypowder channels``: the settings, the paired amplification against a planted rule, and one tiny
study end to end through the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.channel_study import ALL, CHANNELS, NONE, OUTCOMES, channel_table, format_table, settings
from sim.cli import main
from sim.config import load_config, parse_override, resolve_config_arg

TINY = ["--set", "retail.holders=100", "--set", "simulation.steps=26", "--set", "neoclouds.count=4",
        "--set", "private_credit.count=4", "--set", "hedge_funds.count=4"]


def test_settings_are_none_each_channel_alone_and_all():
    s = dict(settings())
    assert list(s)[0] == NONE and list(s)[-1] == ALL and len(s) == len(CHANNELS) + 2
    assert not any(s[NONE].values()) and all(s[ALL].values())
    for c in CHANNELS:
        assert [k for k, on in s[c].items() if on] == [c]


def _frames(rule) -> dict[str, pd.DataFrame]:
    """Outcomes of 50 replications per setting from ``rule(setting, replication)``."""
    reps = np.arange(50)
    out = {}
    for name, _ in settings():
        y = np.array([rule(name, i) for i in reps], dtype=float)
        out[name] = pd.DataFrame({col: y for col, _ in OUTCOMES}, index=reps)
    return out


def test_amplification_is_together_minus_the_sum_of_the_parts():
    """Planted: none gives the replication's noise e_i, each channel alone adds 1, all together add
    10: the amplification is 10 - 6 = 4 exactly, whatever the noise (it is paired)."""
    noise = np.random.default_rng(0).normal(size=50)

    def rule(name, i):
        return noise[i] + (0 if name == NONE else 10 if name == ALL else 1)

    table, amp = channel_table(_frames(rule))
    a = amp.set_index("outcome").loc["fire_sale_volume_bn"]
    assert a["amplification"] == pytest.approx(4.0)
    assert a["ci_high"] - a["ci_low"] == pytest.approx(0.0, abs=1e-9)
    assert a["together"] == pytest.approx(10.0) and a["sum_of_parts"] == pytest.approx(len(CHANNELS))
    mean = table[(table.outcome == "fire_sale_volume_bn")].set_index("setting")["mean"]
    assert mean[ALL] - mean[NONE] == pytest.approx(10.0)
    assert "amplification" in format_table(table, amp, 50)


def test_channels_that_add_up_have_no_amplification():
    def rule(name, i):
        return float(i % 3) + (len(CHANNELS) if name == ALL else 0 if name == NONE else 1)

    _, amp = channel_table(_frames(rule))
    assert np.allclose(amp["amplification"], 0.0)


def test_only_replications_every_setting_ran_are_compared():
    frames = _frames(lambda name, i: 1.0 if name == ALL else 0.0)
    frames[NONE] = frames[NONE].drop(index=[0, 1, 2])
    table, amp = channel_table(frames)
    assert set(table["n"]) == {47} and set(amp["n"]) == {47}


def test_a_tiny_study_end_to_end(tmp_path, capsys):
    code = main(["channels", "baseline", "-n", "2", "--workers", "1", "--quiet", "--no-figures",
                 "--out", str(tmp_path), *TINY])
    assert code == 0
    folder = next(tmp_path.glob("channels-baseline-*"))
    assert len(list(folder.glob("mc-baseline-*"))) == len(CHANNELS) + 2
    table = pd.read_csv(folder / "channels.csv")
    assert set(table["setting"]) == {s for s, _ in settings()} and set(table["n"]) == {2}
    report = json.loads((folder / "report.json").read_text())
    assert set(report["amplification"]) == {c for c, _ in OUTCOMES}
    # "all" is the config as given (every channel is on by default): the same folder as its plain mc
    cfg = load_config(resolve_config_arg("baseline"), dict(parse_override(t) for t in TINY[1::2]))
    assert report["mc_folders"][ALL] == f"mc-baseline-s{cfg.seed}-n2-{cfg.digest()[:8]}"
    # the study is resumable: a second call reuses every finished Monte Carlo
    assert main(["channels", "baseline", "-n", "2", "--workers", "1", "--quiet", "--no-figures", "--resume",
                 "--out", str(tmp_path), *TINY]) == 0
    assert "already complete" in capsys.readouterr().err


@pytest.mark.parametrize("argv,needle", [
    (["--set", "channels.margin_calls=false"], "sets the channels itself"),
    (["--set", "seed=3"], "--seed"),
    (["-n", "1"], "at least 2"),
])
def test_bad_input_is_refused(tmp_path, capsys, argv, needle):
    assert main(["channels", "baseline", "--out", str(tmp_path), *argv]) == 2
    assert needle in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_bad_count_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["channels", "baseline", "-n", "0"])
    assert exit_.value.code == 2 and "-n" in capsys.readouterr().err
