"""Configuration: validation messages, overrides, safe loading."""

from __future__ import annotations

import pytest

from sim.config import (ASSETS, Config, ConfigError, apply_overrides, load_config, parse_override,
                        resolve_config_arg, scenario_path)

HEADLINE = ["dry_powder.initial_bn", "hyperscalers.capex_growth", "gpu.generation_value_drop", "retail.margin_share",
            "hedge_funds.leverage", "central_bank.backstop", "ai.revenue_growth", "retail.holders"]


def test_baseline_loads_and_names_every_headline_parameter():
    cfg = load_config()
    data = cfg.to_dict()
    for key in HEADLINE:
        node = data
        for part in key.split("."):
            node = node[part]
    assert cfg.name == "baseline"
    assert set(cfg.assets) == set(ASSETS)


def test_dotted_overrides_reach_the_right_field():
    cfg = load_config(None, {"dry_powder.initial_bn": 800, "central_bank.backstop": True})
    assert cfg.dry_powder.initial_bn == 800
    assert cfg.central_bank.backstop is True
    # the source is not mutated
    assert load_config().dry_powder.initial_bn != 800 or load_config().central_bank.backstop is False


def test_unknown_key_names_the_closest_valid_key():
    with pytest.raises(ConfigError) as e:
        load_config(None, {"dry_powder.inital_bn": 5})
    msg = str(e.value)
    assert "dry_powder.inital_bn" in msg and "did you mean 'initial_bn'" in msg


def test_bad_value_names_key_and_rule():
    with pytest.raises(ConfigError) as e:
        load_config(None, {"dry_powder.initial_bn": -1})
    assert "dry_powder.initial_bn" in str(e.value) and "greater than or equal to 0" in str(e.value)
    with pytest.raises(ConfigError, match="retail.holders"):
        load_config(None, {"retail.holders": "many"})


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_values_are_rejected(value):
    with pytest.raises(ConfigError, match="hedge_funds.leverage"):
        load_config(None, {"hedge_funds.leverage": value})


def test_unknown_asset_is_rejected_with_the_list():
    with pytest.raises(ConfigError, match="unknown asset 'cryptos'.*did you mean 'crypto'"):
        load_config(None, {"dry_powder.crowding_out_weights": {"cryptos": 1.0}})


def test_invalid_yaml_reports_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("dry_powder:\n  initial_bn: [1, 2\n")
    with pytest.raises(ConfigError, match="invalid YAML .* line"):
        load_config(p)


def test_yaml_is_loaded_safely(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(p)


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    p = tmp_path / "list.yaml"
    p.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(p)


@pytest.mark.parametrize("text", ["novalue", "=3", "a..b=1", "x="])
def test_malformed_set_is_rejected(text):
    with pytest.raises(ConfigError, match="malformed --set"):
        parse_override(text)


def test_set_values_are_yaml_scalars():
    assert parse_override("gpu.generation_steps=[10, 20]") == ("gpu.generation_steps", [10, 20])
    assert parse_override("central_bank.backstop=true") == ("central_bank.backstop", True)


def test_override_into_a_value_is_an_error():
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_overrides({"seed": 1}, {"seed.x": 2})


def test_unknown_scenario_lists_the_available_ones():
    with pytest.raises(ConfigError, match="unknown scenario 'ai_bul'.*did you mean 'ai_bull'"):
        scenario_path("ai_bul")
    assert resolve_config_arg("ai_bull").name == "ai_bull.yaml"


def test_config_is_frozen_and_hash_tracks_content():
    cfg = load_config()
    with pytest.raises(Exception):
        cfg.seed = 3  # type: ignore[misc]
    assert cfg.digest() == load_config().digest()
    assert cfg.digest() != load_config(None, {"seed": 1}).digest()
    assert isinstance(Config.model_validate(cfg.to_dict()), Config)


def test_loading_a_dict_shares_nothing_with_it_or_with_the_defaults():
    """A config built from a dict (how experiment workers build every run's config) neither changes
    the dict nor is changed by it later, and leaves the defaults every later load starts from as
    they were: no run's overrides leak into the next run's config."""
    data = {"dry_powder": {"initial_bn": 123.0}, "assets": {"crypto": {"depth_bn": 900.0}}}
    cfg = load_config(data, {"retail.holders": 77, "assets.saas.vol": 0.9})
    assert data == {"dry_powder": {"initial_bn": 123.0}, "assets": {"crypto": {"depth_bn": 900.0}}}
    data["dry_powder"]["initial_bn"] = -5.0
    data["assets"]["crypto"]["depth_bn"] = -5.0
    assert cfg.dry_powder.initial_bn == 123.0 and cfg.assets["crypto"].depth_bn == 900.0
    fresh, defaults = load_config({}), Config()
    assert fresh.digest() == load_config(defaults.to_dict()).digest()
    assert fresh.retail.holders == defaults.retail.holders != 77
    assert fresh.assets["saas"].vol == defaults.assets["saas"].vol != 0.9
    assert fresh.assets["crypto"].depth_bn == defaults.assets["crypto"].depth_bn


def test_one_field_of_one_asset_can_be_overridden():
    base = load_config()
    cfg = load_config(None, {"assets.crypto.depth_bn": 900})
    assert cfg.assets["crypto"].depth_bn == 900
    assert cfg.assets["crypto"].vol == base.assets["crypto"].vol        # the rest keeps its defaults
    assert cfg.assets["saas"] == base.assets["saas"]
