"""Validation against the Oxford INET fire-sale stress test (data/peer/firesale/SPEC.md).

Every reference run of the three experiments must be reproduced: defaults per step exactly, and
systemic risk, final fraction sold and final prices to the 4 decimals the tables print; plus the
unit checks and the qualitative observations at the end of SPEC.md.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim import validation as v
from sim.resources import Peer, peer_dir

CSV = peer_dir(Peer.FIRESALE) / "eba2018_balance_sheets.csv"
SPEC = peer_dir(Peer.FIRESALE) / "SPEC.md"

EXP1_KEYS = list(v.REFERENCE_EXP1)
EXP23_KEYS = [(shock, arm) for shock in v.REFERENCE_EXP23 for arm in ("threshold", "targeting")]


@pytest.fixture(scope="module")
def sheets() -> pd.DataFrame:
    return v.load_balance_sheets(CSV)


@pytest.fixture(scope="module")
def results(sheets) -> pd.DataFrame:
    return v.run_peer_experiments(sheets)


def check_run(run: v.PeerRun, ref: v.Reference, n_banks: int = 48) -> None:
    assert tuple(run.defaults) == ref.defaults  # exact, step by step
    n = sum(run.defaults)
    expected_e = n / n_banks if n / n_banks >= 0.05 else 0.0
    assert run.systemic_risk == expected_e
    assert abs(run.systemic_risk - ref.E) <= 5e-5
    assert abs(run.fraction_sold[-1] - ref.sold_frac) <= 5e-5
    if ref.p_gov_T is not None:
        assert abs(run.prices[-1][0] - ref.p_gov_T) <= 5e-5
    if ref.p_corp_T is not None:
        assert abs(run.prices[-1][1] - ref.p_corp_T) <= 5e-5
    assert len(run.fraction_sold) == 6 and all(np.diff(run.fraction_sold) >= 0)


@pytest.mark.parametrize("pi_pct", EXP1_KEYS)
def test_experiment1_price_impact(sheets, pi_pct):
    check_run(v.inet_firesale(sheets, price_impact=pi_pct / 100, initial_shock=0.20), v.REFERENCE_EXP1[pi_pct])


@pytest.mark.parametrize("shock_pct, arm", EXP23_KEYS)
def test_experiments_2_3_shock(sheets, shock_pct, arm):
    run = v.inet_firesale(sheets, price_impact=0.01, initial_shock=shock_pct / 100, rule=arm)
    check_run(run, v.REFERENCE_EXP23[shock_pct][arm])


def test_run_peer_experiments_table(results):
    assert len(results) == 84
    assert results["match"].all(), results.loc[~results["match"]]
    assert (results["defaults"] == results["defaults_ref"]).all()
    assert results.groupby(["experiment", "arm"]).size().to_dict() == {
        ("1", "threshold"): 21, ("2", "threshold"): 21, ("3", "threshold"): 21, ("3", "targeting"): 21}
    exp2 = results[results["experiment"] == "2"].reset_index(drop=True)
    exp3 = results[(results["experiment"] == "3") & (results["arm"] == "threshold")].reset_index(drop=True)
    pd.testing.assert_frame_equal(exp2.drop(columns="experiment"), exp3.drop(columns="experiment"))


def test_leverage_targeting_is_threshold_with_buffer_one(sheets):
    for shock in (0.0, 0.09, 0.15, 0.285):
        a = v.inet_firesale(sheets, 0.01, shock, rule="targeting")
        b = v.inet_firesale(sheets, 0.01, shock, lev_buffer=1.0)
        assert a.defaults == b.defaults and a.fraction_sold == b.fraction_sold


def test_unit_checks(sheets):
    checks = v.unit_checks(sheets)
    assert all(ok for *_, ok in checks.values()), checks
    run = v.inet_firesale(sheets, 0.05, 0.20)
    beta = v.peer_beta(0.05)
    assert beta == pytest.approx(1.02587, abs=5e-6)
    q_g = sheets["gov_bonds"].sum()
    sold_g = run.result.cumulative_sold[1, 0]
    assert q_g == 1_605_635 and sheets["corp_bonds"].sum() == 670_591
    assert round(sold_g) == 1_032_043  # gov bonds sold in steps 1-2
    assert run.prices[1][0] == pytest.approx(0.8 * np.exp(-beta * sold_g / q_g), rel=1e-14)
    assert round(run.prices[1][0], 6) == 0.413734
    fr14 = run.bank_ids.index("FR14")
    rec = run.result.rounds[1]
    assert round(rec.sold[fr14, 0]) == 50_778 and round(rec.sold[fr14, 1]) == 7_333
    assert round(rec.prices[1], 6) == 0.589592
    assert round(rec.proceeds[fr14], 2) == 36_643.73


def test_price_closed_form_every_step(sheets):
    # p_G(t) = (1 - s) exp(-beta cum_G(t) / Q_G), p_K(t) = exp(-beta cum_K(t) / Q_K)
    for pi, s, rule in ((0.05, 0.20, "threshold"), (0.01, 0.27, "targeting")):
        run = v.inet_firesale(sheets, pi, s, rule=rule)
        q = sheets[["gov_bonds", "corp_bonds"]].sum().to_numpy()
        cum = run.result.cumulative_sold
        expected = np.array([1 - s, 1.0]) * np.exp(-v.peer_beta(pi) * cum / q)
        np.testing.assert_allclose(np.array(run.prices), expected, rtol=1e-12)
        np.testing.assert_allclose(run.fraction_sold, cum.sum(axis=1) / q.sum(), rtol=1e-14)


def test_first_step_defaults_are_the_named_banks(sheets):
    run = v.inet_firesale(sheets, 0.05, 0.20)
    first = {b for b, r in zip(run.bank_ids, run.result.default_round) if r == 1}
    assert first == {"NL33", "FR13", "DE21", "NL30", "IT26", "ES38", "BE04"}
    # DE15 survives the shock at 3.008 %
    de15 = sheets.index[sheets["bank_id"] == "DE15"][0]
    a = sheets.loc[de15, ["cash", "other_assets", "corp_bonds"]].sum() + 0.8 * sheets.loc[de15, "gov_bonds"]
    lam = (a - sheets.loc[de15, ["loan", "other_liabilities"]].sum()) / a
    assert round(lam, 5) == 0.03008


def test_observations_reproduced(results):
    e3 = results[results["experiment"] == "3"]
    thr = e3[e3["arm"] == "threshold"].set_index("shock")
    tgt = e3[e3["arm"] == "targeting"].set_index("shock")
    # E is not monotone in the shock
    assert thr.loc[0.195, "E"] > thr.loc[0.21, "E"] == thr.loc[0.225, "E"]
    assert thr.loc[0.195, "E"] == 17 / 48 and thr.loc[0.21, "E"] == 16 / 48
    # leverage targeting sells far more with no shock: about 32 % against 4.7 %
    assert round(tgt.loc[0.0, "sold_frac"], 3) == 0.317 and round(thr.loc[0.0, "sold_frac"], 3) == 0.047
    assert (tgt["sold_frac"] > thr["sold_frac"]).all()
    # ... starts a systemic event at a lower shock (9 % vs 12 %)
    assert tgt.index[tgt["E"] > 0].min() == pytest.approx(0.09)
    assert thr.index[thr["E"] > 0].min() == pytest.approx(0.12)
    # ... and is below the threshold model at some high shocks (18-22.5 % and 28.5 %)
    below = sorted(round(s * 1000) for s in tgt.index if tgt.loc[s, "E"] < thr.loc[s, "E"])
    assert below == [180, 195, 210, 225, 285]


def test_no_shock_threshold_sales_come_from_de21_and_nl33(sheets):
    # With no shock the threshold model still sells 4.7 %: DE21 and NL33 start below the 4 % buffer
    # and are the only step-1 sellers; their price impact then pushes DE15 (step 2) and NL30
    # (step 3), which start just above 4 %, below it. Without the two there is nothing to sell.
    run = v.inet_firesale(sheets, 0.01, 0.0)
    sellers = [{b for b, o in zip(run.bank_ids, rec.orders.sum(1)) if o > 0} for rec in run.result.rounds]
    assert sellers[:4] == [{"DE21", "NL33"}, {"DE15"}, {"NL30"}, set()]
    assert sum(run.defaults) == 0 and round(run.fraction_sold[-1], 4) == 0.0471
    no_impact = v.inet_firesale(sheets, 0.0, 0.0)
    assert no_impact.fraction_sold[-1] == pytest.approx((27_763 + 17_119) / (1_605_635 + 670_591), rel=1e-9)
    rest = sheets[~sheets["bank_id"].isin(["DE21", "NL33"])]
    assert v.inet_firesale(rest, 0.01, 0.0).fraction_sold[-1] == 0.0


def test_row_order_is_irrelevant(sheets):
    # the peer shuffles its agents every step; results do not depend on the order
    shuffled = sheets.sample(frac=1.0, random_state=7).reset_index(drop=True)
    for pi, s, rule in ((0.05, 0.20, "threshold"), (0.01, 0.15, "targeting")):
        a, b = v.inet_firesale(sheets, pi, s, rule=rule), v.inet_firesale(shuffled, pi, s, rule=rule)
        assert a.defaults == b.defaults
        np.testing.assert_allclose(a.fraction_sold, b.fraction_sold, rtol=1e-12)


def test_reference_constants_agree_with_spec_md():
    """The typed-in reference tables against the tables printed in SPEC.md."""
    exp1, exp23 = {}, {}
    for line in SPEC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and re.fullmatch(r"\d+\.\d", cells[0]):
            exp1[float(cells[0])] = v.Reference(float(cells[2]), tuple(map(int, cells[4].split("/"))),
                                                float(cells[5]), float(cells[6]), float(cells[7]))
            assert int(cells[3]) == sum(exp1[float(cells[0])].defaults)
        elif len(cells) == 12 and re.fullmatch(r"\d+\.\d", cells[0]):
            exp23[float(cells[0])] = {
                "threshold": v.Reference(float(cells[1]), tuple(map(int, cells[3].split("/"))), float(cells[4]),
                                         float(cells[5])),
                "targeting": v.Reference(float(cells[6]), tuple(map(int, cells[8].split("/"))), float(cells[9])),
            }
    assert exp1 == v.REFERENCE_EXP1
    assert exp23 == v.REFERENCE_EXP23


def test_validate_peer_writes_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    assert v.validate_peer(CSV, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["peer_results.csv", "peer_validation.png"]  # no temp files
    written = pd.read_csv(out / "peer_results.csv")
    assert len(written) == 84 and written["match"].all()
    assert (out / "peer_validation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "84/84" in capsys.readouterr().out


def test_validate_peer_reports_a_mismatch(tmp_path, sheets, capsys):
    tweaked = sheets.copy()
    tweaked.loc[tweaked["bank_id"] == "DE15", ["other_assets", "equity"]] -= 50.0  # DE15 now fails at t=1
    assert v.validate_peer(tweaked, tmp_path) == 1
    assert "NOT VALIDATED" in capsys.readouterr().out
    assert not pd.read_csv(tmp_path / "peer_results.csv")["match"].all()


def test_bad_balance_sheets_raise_value_error(tmp_path, sheets):
    with pytest.raises(ValueError, match="not found"):
        v.load_balance_sheets(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="cannot read"):
        v.load_balance_sheets(empty)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\x00\x9f")
    with pytest.raises(ValueError):
        v.load_balance_sheets(binary)
    with pytest.raises(ValueError, match="lack column"):
        v.load_balance_sheets(sheets.drop(columns="loan"))
    bad = sheets.astype({"cash": object})
    bad.loc[3, "cash"] = "lots"
    with pytest.raises(ValueError, match="cash"):
        v.load_balance_sheets(bad)
    unbalanced = sheets.copy()
    unbalanced.loc[0, "cash"] += 1000.0
    with pytest.raises(ValueError, match="add up"):
        v.load_balance_sheets(unbalanced)
    with pytest.raises(ValueError, match="no rows"):
        v.load_balance_sheets(sheets.iloc[:0])
    with pytest.raises(ValueError):
        v.validate_peer(tmp_path / "missing.csv", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="price_impact"):
        v.inet_firesale(sheets, 1.0, 0.2)


def test_validate_peer_command_uses_the_shipped_data_and_writes_under_the_current_directory(
        tmp_path, monkeypatch, capsys):
    from sim.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["validate-peer"]) == 0
    out = tmp_path / "runs" / "peer-validation"
    assert sorted(p.name for p in out.iterdir()) == ["peer_results.csv", "peer_validation.png"]
    assert "84/84 reference runs match" in capsys.readouterr().out
    pd.testing.assert_frame_equal(v.load_balance_sheets(), v.load_balance_sheets(CSV))
