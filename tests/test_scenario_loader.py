"""The scenario loader: every bad input names the file (or --set), the key and the expectation."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from sim.errors import ScenarioError, UserError
from sim.scenario import load_scenario, parse_set, point_label

H4 = Path(__file__).resolve().parent.parent / "scenarios" / "hopfield_1982_recall.toml"

MINIMAL = """
[meta]
title = "t"
reference = "r"
protocol = "recall"
[net]
kind = "hopfield"
n_units = 16
[train]
rule = "hebb"
[data]
task = "random_patterns"
n_memories = 2
[run]
trials = 2
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_minimal_file_gets_defaults(tmp_path):
    sc = load_scenario(write(tmp_path, MINIMAL))
    assert sc.config["net"]["units"] == "spin"
    assert sc.config["run"]["schedule"] == "random"
    assert sc.config["data"]["bias"] == 0.5
    assert sc.points() == [("", sc.config)] or [lbl for lbl, _ in sc.points()] == [""]


@pytest.mark.parametrize("extra, key, words", [
    ("[net]\nkind='hopfield'\nn_units=16\nn_unit=3", "net.n_unit", "unknown key"),
    ("[net]\nkind='hopfield'\nn_units='many'", "net.n_units", "integer"),
    ("[net]\nkind='hopfield'\nn_units=-5", "net.n_units", ">= 1"),
    ("[net]\nkind='hopfield'\nn_units=16\nunits='ternary'", "net.units", "'spin', 'binary'"),
    ("[net]\nkind='hopfield'\nn_units=2.5", "net.n_units", "integer"),
    ("[net]\nkind='boltzmann9'\nn_units=16", "net.kind", "hopfield"),
])
def test_bad_net_values_name_the_key(tmp_path, extra, key, words):
    text = MINIMAL.replace("[net]\nkind = \"hopfield\"\nn_units = 16", extra)
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert err.value.key == key
    assert words in str(err.value)
    assert "s.toml" in str(err.value)


def test_bad_run_and_sections(tmp_path):
    with pytest.raises(ScenarioError, match="run.schedule"):
        load_scenario(write(tmp_path, MINIMAL + "schedule = 'chaotic'\n"))
    with pytest.raises(ScenarioError, match="run.cue_noise"):
        load_scenario(write(tmp_path, MINIMAL + "cue_noise = 1.5\n"))
    with pytest.raises(ScenarioError, match="'banana'.*unknown section"):
        load_scenario(write(tmp_path, MINIMAL + "[banana]\nx = 1\n"))
    with pytest.raises(ScenarioError, match="meta.protocol"):
        load_scenario(write(tmp_path, MINIMAL.replace('protocol = "recall"', 'protocol = "nope"')))
    with pytest.raises(ScenarioError, match="required"):
        load_scenario(write(tmp_path, MINIMAL.replace("n_memories = 2", "")))
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, MINIMAL + "[[[\n"))


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.toml")


def test_overrides_are_validated_and_named(tmp_path):
    p = write(tmp_path, MINIMAL)
    sc = load_scenario(p, overrides=["run.trials=7", "run.schedule=sync", "net.units='binary'"])
    assert sc.config["run"]["trials"] == 7 and sc.config["run"]["schedule"] == "sync"
    assert sc.config["net"]["units"] == "binary"
    with pytest.raises(ScenarioError) as err:
        load_scenario(p, overrides=["run.trials=-1"])
    assert err.value.source == "--set" and err.value.key == "run.trials"
    with pytest.raises(ScenarioError, match="key=value"):
        load_scenario(p, overrides=["run.trials"])
    with pytest.raises(ScenarioError, match="unknown key"):
        load_scenario(p, overrides=["net.nunits=3"])
    with pytest.raises(ScenarioError, match="dotted key"):
        load_scenario(p, overrides=["trials=3"])
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(p, overrides=["run.trials=__import__('os')"])


def test_seed_override(tmp_path):
    assert load_scenario(write(tmp_path, MINIMAL), seed=11).config["run"]["seed"] == 11


def test_sweep_expect_and_plot_validation(tmp_path):
    base = MINIMAL + '[sweep]\n"data.n_memories" = [1, 2]\n'
    sc = load_scenario(write(tmp_path, base + '[expect]\n"exact_recall[n_memories=2]" = { min = 0.5 }\n'))
    assert [lbl for lbl, _ in sc.points()] == ["n_memories=1", "n_memories=2"]
    assert sc.points()[1][1]["data"]["n_memories"] == 2
    with pytest.raises(ScenarioError, match="no sweep point"):
        load_scenario(write(tmp_path, base + '[expect]\n"exact_recall[n_memories=3]" = { min = 0.5 }\n'))
    with pytest.raises(ScenarioError, match="unknown metric"):
        load_scenario(write(tmp_path, base + '[expect]\n"accuracy[n_memories=2]" = { min = 0.5 }\n'))
    with pytest.raises(ScenarioError, match="min or max"):
        load_scenario(write(tmp_path, base + '[expect]\n"exact_recall[n_memories=2]" = { note = "x" }\n'))
    with pytest.raises(ScenarioError, match="sweep.data.n_memories"):
        load_scenario(write(tmp_path, MINIMAL + '[sweep]\n"data.n_memories" = [1, -2]\n'))
    with pytest.raises(ScenarioError, match="non-empty list"):
        load_scenario(write(tmp_path, MINIMAL + '[sweep]\n"data.n_memories" = []\n'))
    with pytest.raises(ScenarioError, match="plot"):
        load_scenario(write(tmp_path, MINIMAL + '[[plot]]\nkind = "pie"\n'))
    with pytest.raises(ScenarioError, match="does not hold"):
        load_scenario(write(tmp_path, MINIMAL + '[[plot]]\nkind = "snapshots"\nshape = [3, 3]\n'))


def test_narrowed_sweep_leaves_expectations_unchecked(tmp_path):
    text = MINIMAL + '[sweep]\n"data.n_memories" = [1, 2]\n[expect]\n"exact_recall[n_memories=2]" = { min = 0.5 }\n'
    sc = load_scenario(write(tmp_path, text), overrides=["sweep.data.n_memories=[1]"])
    assert sc.expect == [] and [e.metric for e in sc.unchecked] == ["exact_recall[n_memories=2]"]


def test_smoke_overrides_apply_only_with_smoke():
    full, smoke = load_scenario(H4), load_scenario(H4, smoke=True)
    assert len(smoke.points()) < len(full.points())
    assert {e.metric for e in smoke.expect} == {e.metric for e in full.expect}


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-10**6, max_value=10**6))
def test_property_trials_accepts_exactly_positive_ints(tmp_path_factory, n):
    p = write(tmp_path_factory.mktemp("h"), MINIMAL)
    if n >= 1:
        assert load_scenario(p, overrides=[f"run.trials={n}"]).config["run"]["trials"] == n
    else:
        with pytest.raises(ScenarioError, match="run.trials"):
            load_scenario(p, overrides=[f"run.trials={n}"])


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.text(max_size=8), st.floats(allow_nan=True), st.booleans(), st.lists(st.integers(), max_size=3)))
def test_property_bad_types_never_crash_the_loader(tmp_path_factory, value):
    p = write(tmp_path_factory.mktemp("h"), MINIMAL)
    try:
        sc = load_scenario(p, overrides=[f"net.n_units={value!r}"])
    except ScenarioError as exc:
        assert exc.key == "net.n_units" or "net.n_units" in str(exc)
    else:  # only a valid positive integer gets through
        assert isinstance(sc.config["net"]["n_units"], int) and sc.config["net"]["n_units"] >= 1


def test_parse_set_and_labels():
    assert parse_set("run.trials=5") == ("run.trials", 5)
    assert parse_set("run.schedule=random-site") == ("run.schedule", "random-site")
    assert parse_set("sweep.data.n_memories=[1, 2]") == ("sweep.data.n_memories", [1, 2])
    assert point_label({"data.load": 0.10, "net.n_units": 200}) == "load=0.1,n_units=200"
    assert point_label({"net.rewire": 0.0, "run.temperature": 1.0}) == "rewire=0,temperature=1"


def test_each_sweep_point_is_validated_on_its_own(tmp_path):
    text = MINIMAL + '[sweep]\n"net.units" = ["spin", "binary"]\n"data.n_memories" = [1, 3]\n'
    sc = load_scenario(write(tmp_path, text))
    pts = sc.points()
    assert [lbl for lbl, _ in pts] == ["units=spin,n_memories=1", "units=spin,n_memories=3",
                                       "units=binary,n_memories=1", "units=binary,n_memories=3"]
    assert pts[2][1]["net"]["units"] == "binary" and pts[3][1]["data"]["n_memories"] == 3
    assert sc.sweep == {"net.units": ["spin", "binary"], "data.n_memories": [1, 3]}
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, MINIMAL + '[sweep]\n"train.rule" = ["hebb", "hebbian"]\n'))
    assert err.value.key == "sweep.train.rule" and "'hebb'" in err.value.message
    with pytest.raises(ScenarioError, match="sweep.meta.title"):
        load_scenario(write(tmp_path, MINIMAL + '[sweep]\n"meta.title" = ["a"]\n'))
